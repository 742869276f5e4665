from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from weishang.catalog.models import SKU, LevelPrice
from weishang.channel.models import Level
from weishang.core.errors import BusinessError
from weishang.core.money import CENT

MAX_PRICE = Decimal("1e12")  # fits DecimalField(max_digits=14, decimal_places=2)


class PriceGridError(BusinessError):
    """Carries one message per bad cell: ``errors[(sku_id, level_id)] = message``."""

    def __init__(self, errors: dict[tuple[int, int], str]):
        text = ngettext("%(n)d price is not valid; nothing was saved.",
                        "%(n)d prices are not valid; nothing was saved.", len(errors))
        super().__init__(text % {"n": len(errors)}, field="prices")
        self.errors = errors


def parse_price(raw: str) -> Decimal | None:
    """'' means "no override"; anything else must be an amount of at most two decimals, ≥ 0."""
    text = (raw or "").strip().replace(",", "").replace("¥", "").replace("￥", "")
    if text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("“%(value)s” is not an amount.") % {"value": raw}) from None
    if not value.is_finite():
        raise ValueError(_("“%(value)s” is not an amount.") % {"value": raw})
    if value < 0:
        raise ValueError(_("A price cannot be below zero."))
    if value >= MAX_PRICE:  # before quantize(), which cannot represent huge values
        raise ValueError(_("That amount is too large."))
    if value != value.quantize(CENT):
        raise ValueError(_("Use at most two decimals (fen)."))
    return value.quantize(CENT)


@transaction.atomic
def level_prices_set(*, cells: dict[tuple[int, int], str], by=None) -> int:
    """Save the price grid: every cell is checked first; one bad cell saves nothing.

    ``cells`` maps (sku_id, level_id) to the text typed in the grid. Returns how many prices changed.
    Each change is a normal save, so django-simple-history keeps who changed which price when.
    """
    errors: dict[tuple[int, int], str] = {}
    parsed: dict[tuple[int, int], Decimal | None] = {}
    sku_ids = set(SKU.objects.values_list("pk", flat=True))
    level_ids = set(Level.objects.values_list("pk", flat=True))
    for key, raw in cells.items():
        if key[0] not in sku_ids or key[1] not in level_ids:
            errors[key] = _("Unknown SKU or level.")
            continue
        try:
            parsed[key] = parse_price(raw)
        except ValueError as exc:
            errors[key] = str(exc)
    if errors:
        raise PriceGridError(errors)
    existing = {(p.sku_id, p.level_id): p for p in LevelPrice.objects.select_for_update().filter(
        sku_id__in={k[0] for k in parsed}, level_id__in={k[1] for k in parsed})}
    changed = 0
    for (sku_id, level_id), value in sorted(parsed.items()):
        row = existing.get((sku_id, level_id))
        if value is None:
            if row is not None:
                row._history_user = by
                row.delete()
                changed += 1
        elif row is None:
            row = LevelPrice(sku_id=sku_id, level_id=level_id, price=value)
            row._history_user = by
            row.save()
            changed += 1
        elif row.price != value:
            row.price = value
            row._history_user = by
            row.save(update_fields=["price"])
            changed += 1
    return changed
