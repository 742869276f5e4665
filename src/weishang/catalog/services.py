"""Writes to the catalog's prices: SKUs, levels (their price and entry terms) and the price grid.

These services are the guard for everything that decides what an agent pays or owes to join
(M7): only staff holding ``catalog.change_pricing`` change those fields, and while a plan is in
force the fields it governs are refused to everyone (a change is a new plan version, linted and
activated through the gate; ``rewards.plan_versions.plan_sync`` alone writes them then). The console
only reflects this, showing those fields read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from weishang.catalog.models import SKU, LevelPrice, Product, ProductImage
from weishang.channel.models import Level
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.files import check_picture, thumbnail_of
from weishang.core.money import CENT, to_money

MAX_PRICE = Decimal("1e12")  # fits DecimalField(max_digits=14, decimal_places=2)

PRICING_PERMISSION = "catalog.change_pricing"
# Fields that decide a price or an entry condition: only PRICING_PERMISSION changes them.
SKU_PRICING_FIELDS = ("retail_price",)
LEVEL_PRICING_FIELDS = ("rank", "entry_amount", "discount", "min_restock_qty")
# Fields the plan in force writes (rewards.plan_versions.plan_sync), so nobody else may while it is in force:
# every level's code, name, rank, entry amount, discount and minimum restock (and which levels exist),
# every cell of the price grid, and the code and retail price of the SKUs the plan names.
PLAN_LEVEL_FIELDS = ("code", "name", "rank", "entry_amount", "discount", "min_restock_qty")
PLAN_SKU_FIELDS = ("code", "retail_price")
PLAN_NOTE = gettext_lazy("Set by the plan in force; to change it, upload a new version")


@dataclass(frozen=True)
class PlanGovernance:
    """What the plan in force decides in the catalog. ``skus``: codes of the SKUs whose retail
    price the plan writes (or whose price is a level's entry amount, a gift pack)."""

    version_pk: int
    label: str
    skus: frozenset[str]


_governance_source: Callable[[], PlanGovernance | None] | None = None


def set_plan_governance(source: Callable[[], PlanGovernance | None]) -> None:
    """Installed by the rewards app when it is ready (the catalog does not import rewards)."""
    global _governance_source
    _governance_source = source


def plan_governance() -> PlanGovernance | None:
    """The plan in force's hold on the catalog, or None when no plan is in force."""
    return _governance_source() if _governance_source is not None else None


def can_change_pricing(user) -> bool:
    return user is not None and user.is_active and user.has_perm(PRICING_PERMISSION)


def _label(model, field: str) -> str:
    return str(model._meta.get_field(field).verbose_name)


def _require_pricing(by, model, field: str) -> None:
    """``by`` None is the system (a command or the demo); a person needs the pricing permission."""
    if by is not None and not can_change_pricing(by):
        raise Forbidden(
            _("Only staff who own pricing may change %(field)s.") % {"field": _label(model, field)},
            field=field,
            code="pricing_permission",
        )


def _governed(governance: PlanGovernance, model, field: str) -> Conflict:
    return Conflict(
        _(
            "%(field)s: set by the plan in force (%(plan)s); to change it, upload a new version of "
            "the plan and activate it."
        )
        % {"field": _label(model, field), "plan": governance.label},
        field=field,
        code="plan_governed",
    )


def _changed(model, current, proposed) -> list[str]:
    fields = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    if current is None:
        return fields
    return [name for name in fields if getattr(current, name) != getattr(proposed, name)]


def sku_readonly_fields(*, user, sku: SKU | None) -> list[str]:
    """The SKU fields ``user`` may not change (what the console shows read-only)."""
    fields = [] if can_change_pricing(user) else list(SKU_PRICING_FIELDS)
    governance = plan_governance()
    if governance is not None and sku is not None and sku.code in governance.skus:
        fields += [f for f in PLAN_SKU_FIELDS if f not in fields]
    return fields


def sku_check(*, sku: SKU, by=None) -> None:
    """Refuse the changes in ``sku`` (compared with the stored row) that ``by`` may not make."""
    current = SKU.objects.filter(pk=sku.pk).first() if sku.pk else None
    changed = _changed(SKU, current, sku)
    for field in SKU_PRICING_FIELDS:
        if field in changed:
            _require_pricing(by, SKU, field)
    governance = plan_governance()
    if governance is not None and current is not None and current.code in governance.skus:
        for field in PLAN_SKU_FIELDS:
            if field in changed:
                raise _governed(governance, SKU, field)


@transaction.atomic
def sku_save(*, sku: SKU, by=None) -> SKU:
    """Save a SKU (new or changed) if ``by`` may make every change in it; its history keeps who."""
    if sku.pk:
        SKU.objects.select_for_update().filter(pk=sku.pk).first()
    sku_check(sku=sku, by=by)
    sku._history_user = by  # type: ignore[attr-defined]  # django-simple-history reads it; unknown to the stubs
    sku.save()
    return sku


@transaction.atomic
def sku_delete(*, sku: SKU, by=None) -> None:
    """A SKU goes with its level prices: that is a pricing change, and never of a SKU the plan names."""
    _require_pricing(by, SKU, "retail_price")
    governance = plan_governance()
    if governance is not None and sku.code in governance.skus:
        raise _governed(governance, SKU, "code")
    sku._history_user = by  # type: ignore[attr-defined]  # django-simple-history reads it; unknown to the stubs
    sku.delete()


def level_readonly_fields(*, user, level: Level | None) -> list[str]:
    """The level fields ``user`` may not change (what the console shows read-only)."""
    fields = [] if can_change_pricing(user) else list(LEVEL_PRICING_FIELDS)
    if plan_governance() is not None:
        fields += [f for f in PLAN_LEVEL_FIELDS if f not in fields]
    return fields


def level_check(*, level: Level, by=None) -> None:
    """Refuse the changes in ``level`` that ``by`` may not make, and a discount out of order."""
    current = Level.objects.filter(pk=level.pk).first() if level.pk else None
    changed = _changed(Level, current, level)
    for field in LEVEL_PRICING_FIELDS:
        if field in changed:
            _require_pricing(by, Level, field)
    governance = plan_governance()
    if governance is not None:
        if current is None:
            raise _governed(governance, Level, "code")
        for field in PLAN_LEVEL_FIELDS:
            if field in changed:
                raise _governed(governance, Level, field)
    if {"discount", "rank"} & set(changed) and level.discount is not None and level.rank is not None:
        others = Level.objects.exclude(pk=level.pk) if level.pk else Level.objects.all()
        for other in others:
            if (other.rank < level.rank and other.discount > level.discount) or (
                other.rank > level.rank and other.discount < level.discount
            ):
                higher, lower = (other, level) if other.rank < level.rank else (level, other)
                raise BusinessError(
                    _(
                        "%(lower)s's discount %(low)s is below %(higher)s's %(high)s: a lower level "
                        "would buy cheaper than a higher one. A lower level's discount must be at "
                        "least every higher level's."
                    )
                    % {"lower": lower.name, "low": lower.discount, "higher": higher.name, "high": higher.discount},
                    field="discount",
                    code="price_order",
                )


@transaction.atomic
def level_save(*, level: Level, by=None) -> Level:
    """Save a level if ``by`` may make every change in it; its history keeps who."""
    if level.pk:
        Level.objects.select_for_update().filter(pk=level.pk).first()
    level_check(level=level, by=by)
    level._history_user = by  # type: ignore[attr-defined]  # django-simple-history reads it; unknown to the stubs
    level.save()
    return level


@transaction.atomic
def level_delete(*, level: Level, by=None) -> None:
    """Which levels exist is a pricing decision, and the plan's while one is in force."""
    _require_pricing(by, Level, "entry_amount")
    governance = plan_governance()
    if governance is not None:
        raise _governed(governance, Level, "code")
    level._history_user = by  # type: ignore[attr-defined]  # django-simple-history reads it; unknown to the stubs
    level.delete()


class PriceGridError(BusinessError):
    """Carries one message per bad cell: ``errors[(sku_id, level_id)] = message``."""

    def __init__(self, errors: dict[tuple[int, int], str]):
        text = ngettext(
            "%(n)d price is not valid; nothing was saved.",
            "%(n)d prices are not valid; nothing was saved.",
            len(errors),
        )
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
    Needs the pricing permission; refused while a plan is in force (the plan sets every cell); a
    lower level's price for a SKU must be at least every higher level's.
    """
    if by is not None and not can_change_pricing(by):
        raise Forbidden(
            _("Only staff who own pricing may change level prices."), field="prices", code="pricing_permission"
        )
    governance = plan_governance()
    if governance is not None:
        raise Conflict(
            _(
                "Level prices are set by the plan in force (%(plan)s); to change them, upload a new "
                "version of the plan and activate it."
            )
            % {"plan": governance.label},
            field="prices",
            code="plan_governed",
        )
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
    existing = {
        (p.sku_id, p.level_id): p
        for p in LevelPrice.objects.select_for_update().filter(
            sku_id__in={k[0] for k in parsed}, level_id__in={k[1] for k in parsed}
        )
    }
    errors = _price_order_errors(parsed)
    if errors:
        raise PriceGridError(errors)
    changed = 0
    for (sku_id, level_id), value in sorted(parsed.items()):
        row = existing.get((sku_id, level_id))
        if value is None:
            if row is not None:
                row._history_user = by  # type: ignore[attr-defined]  # django-simple-history reads it; unknown to the stubs
                row.delete()
                changed += 1
        elif row is None:
            row = LevelPrice(sku_id=sku_id, level_id=level_id, price=value)
            row._history_user = by  # type: ignore[attr-defined]  # django-simple-history reads it; unknown to the stubs
            row.save()
            changed += 1
        elif row.price != value:
            row.price = value
            row._history_user = by  # type: ignore[attr-defined]  # django-simple-history reads it; unknown to the stubs
            row.save(update_fields=["price"])
            changed += 1
    return changed


def _price_order_errors(parsed: dict[tuple[int, int], Decimal | None]) -> dict[tuple[int, int], str]:
    """A lower level must never buy a SKU cheaper than a higher level. Checks every SKU with a
    submitted cell, with the submitted cells in place of the stored ones; the message goes on the
    lower level's cell if it was submitted, else on the higher level's."""
    sku_ids = {key[0] for key in parsed}
    levels = list(Level.objects.order_by("rank"))
    stored = {(p.sku_id, p.level_id): p.price for p in LevelPrice.objects.filter(sku_id__in=sku_ids)}
    errors: dict[tuple[int, int], str] = {}
    for sku in SKU.objects.filter(pk__in=sku_ids).order_by("pk"):

        def price(level: Level, sku: SKU = sku) -> Decimal:
            key = (sku.pk, level.pk)
            value = parsed[key] if key in parsed else stored.get(key)
            return value if value is not None else to_money(sku.retail_price * level.discount)

        dearest: tuple[Level, Decimal] | None = None  # the dearest level above the one looked at
        for level in levels:
            own = price(level)
            if dearest is not None and own < dearest[1]:
                higher, higher_price = dearest
                lower_key, higher_key = (sku.pk, level.pk), (sku.pk, higher.pk)
                key = lower_key if lower_key in parsed or higher_key not in parsed else higher_key
                errors.setdefault(
                    key,
                    _(
                        "%(lower)s would pay ¥%(low)s, less than %(higher)s (¥%(high)s): a lower level's price must be "
                        "at least every higher level's."
                    )
                    % {"lower": level.name, "low": own, "higher": higher.name, "high": higher_price},
                )
            if dearest is None or own > dearest[1]:
                dearest = (level, own)
    return errors


# --- product pictures (launch toolkit, M9) ------------------------------------------------------


def _caption(caption: str) -> str:
    caption = (caption or "").strip()
    if "\x00" in caption or len(caption) > 100:
        raise BusinessError(
            _("The caption is too long or contains a character that cannot be stored."), field="caption"
        )
    return caption


@transaction.atomic
def product_image_add(*, product: Product, upload, caption: str = "", position: int = 0) -> ProductImage:
    """Add a picture to ``product``: checked from the file (``core.files.check_picture``: JPEG, PNG,
    WebP or GIF, at most 5 MB and 40 million pixels), stored under a name of our making, and its
    thumbnail made now, once. Pages show the thumbnail; the picture opens full size."""
    check_picture(upload, field="image")
    caption = _caption(caption)
    image = ProductImage(product=product, caption=caption, position=max(0, int(position or 0)))
    image.thumbnail = thumbnail_of(upload)
    image.image = upload
    image.save()
    return image


@transaction.atomic
def product_image_update(*, image: ProductImage, caption: str = "", position: int = 0) -> ProductImage:
    """A picture's caption and place in the order (the picture itself is replaced by adding anew)."""
    caption = _caption(caption)
    image.caption, image.position = caption, max(0, int(position or 0))
    image.save(update_fields=["caption", "position"])
    return image


def product_image_delete(*, image: ProductImage) -> None:
    """Remove a picture and its two files from storage (after the row is gone: a failed delete
    leaves no row pointing at a missing file)."""
    picture, thumbnail = image.image, image.thumbnail
    with transaction.atomic():
        image.delete()
    for field_file in (picture, thumbnail):
        if field_file and field_file.name:
            field_file.storage.delete(field_file.name)
