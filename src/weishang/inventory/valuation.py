"""Moving average valuation of the brand's warehouse stock (see ``inventory.models``).

``value_moves`` is installed into ``trade.stock`` and runs in every stock move's transaction: it
locks the moved SKUs' ``SkuValuation`` rows (in SKU order, so two movers cannot deadlock), values
each move that enters or leaves a warehouse, writes its layer and posts one journal entry for the
call: inventory against the account the reason (or the caller's ``counter``) names.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F
from django.utils.translation import gettext as _

from weishang.core import clock
from weishang.inventory.models import ZERO, LayerKind, SkuValuation, ValuationLayer
from weishang.ledger import services as ledger
from weishang.ledger.models import JournalEntry, Purpose
from weishang.trade.models import LocationKind, StockMove, StockReason

CENT = Decimal("0.01")

# The account on the other side of inventory, by the move's reason, when the caller names none.
COUNTER_BY_REASON: dict[str, str] = {
    StockReason.RECEIPT: Purpose.BRAND_GOODS_RECEIVED,
    StockReason.ORDER_FILL: Purpose.BRAND_COST_OF_GOODS_SOLD,
    StockReason.PICKUP: Purpose.BRAND_COST_OF_GOODS_SOLD,
    StockReason.RETAIL: Purpose.BRAND_COST_OF_GOODS_SOLD,
    StockReason.RETURN: Purpose.BRAND_COST_OF_GOODS_SOLD,
    StockReason.CANCEL: Purpose.BRAND_COST_OF_GOODS_SOLD,
    StockReason.ADJUSTMENT: Purpose.BRAND_INVENTORY_ADJUSTMENT,
    StockReason.SCRAP: Purpose.BRAND_INVENTORY_ADJUSTMENT,
    StockReason.B2B: Purpose.BRAND_COST_OF_GOODS_SOLD,
}


def fen(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def average(quantity: int, value: Decimal) -> Decimal | None:
    """The average cost of one unit to four places (what a layer records), None without units."""
    if quantity <= 0:
        return None
    return (value / quantity).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def out_value(quantity: int, value: Decimal, units: int) -> Decimal:
    """What ``units`` leaving a stock of ``quantity`` worth ``value`` take: their share to the fen,
    and the last units everything that is left."""
    if units >= quantity:
        return value
    return fen(value * units / quantity)


def locked_valuations(sku_ids) -> dict[int, SkuValuation]:
    """The SKUs' valuation rows, created when missing, locked for this transaction (in SKU order)."""
    ids = sorted(set(sku_ids))
    SkuValuation.objects.bulk_create([SkuValuation(sku_id=pk) for pk in ids], ignore_conflicts=True)
    return {v.sku_id: v for v in SkuValuation.objects.select_for_update().filter(sku_id__in=ids).order_by("sku_id")}


def post(*, lines: dict[str, Decimal], memo: str, reference: str, kind: str, by) -> JournalEntry | None:
    """One journal entry of the brand's accounts ``{purpose: signed amount}`` (zero lines left
    out); None when nothing is left to post."""
    clean = [(ledger.account_for(owner=None, purpose=p), v) for p, v in sorted(lines.items()) if v != 0]
    if not clean:
        return None
    return ledger.journal_post(lines=clean, memo=memo, reference=reference, kind=kind, by=by)


def value_moves(*, moves: list[StockMove], asked, reason: str, by=None, counter: str = "") -> None:
    """Value the moves that enter or leave the brand's warehouses (the listener of ``trade.stock``)."""
    kinds = {}
    for move, want in zip(moves, asked, strict=True):
        into = want.to_location.kind == LocationKind.WAREHOUSE
        out_of = want.from_location.kind == LocationKind.WAREHOUSE
        if into != out_of:  # a move between two warehouses changes no value
            kinds[move.pk] = (move, want, +1 if into else -1)
    if not kinds:
        return
    valuations = locked_valuations(want.sku.pk for _m, want, _s in kinds.values())
    counter = counter or COUNTER_BY_REASON.get(reason, Purpose.BRAND_INVENTORY_ADJUSTMENT)
    layers, inventory_change = [], ZERO
    for move, want, sign in kinds.values():
        val = valuations[want.sku.pk]
        if sign < 0 and val.quantity < want.quantity:
            # Units that left no layer when they came in (written before valuation, or in bulk by the
            # demo's history): opened at no cost, set later with ``inventory revalue``.
            missing = want.quantity - val.quantity
            layers.append(
                ValuationLayer(
                    sku_id=val.sku_id,
                    kind=LayerKind.OPENING,
                    quantity=missing,
                    value=ZERO,
                    average_after=average(val.quantity + missing, val.value),
                    reference=_("units found without a cost"),
                    created_by=by,
                )
            )
            val.quantity += missing
        if sign > 0:
            if want.unit_cost is not None and reason == StockReason.RECEIPT:
                value, kind = fen(Decimal(want.unit_cost) * want.quantity), LayerKind.RECEIPT
            else:
                cost = val.value / val.quantity if val.quantity else ZERO
                value, kind = fen(cost * want.quantity), LayerKind.IN_AT_AVERAGE
        else:
            value, kind = -out_value(val.quantity, val.value, want.quantity), LayerKind.OUT
        val.quantity += sign * want.quantity
        val.value += value
        inventory_change += value
        layers.append(
            ValuationLayer(
                sku_id=val.sku_id,
                kind=kind,
                quantity=sign * want.quantity,
                value=value,
                average_after=average(val.quantity, val.value),
                stock_move=move,
                reference=f"stock:{move.pk}",
                created_by=by,
            )
        )
    first = min(kinds)
    entry = post(
        lines={Purpose.BRAND_INVENTORY: inventory_change, counter: -inventory_change},
        memo=_("Stock valued at moving average cost (%(reason)s)") % {"reason": StockReason(reason).label},
        reference=f"stock:{first}",
        kind="inventory.value",
        by=by,
    )
    for layer in layers:
        if layer.stock_move is not None:
            layer.entry = entry
    ValuationLayer.objects.bulk_create(layers)
    now = clock.now()
    for val in valuations.values():
        SkuValuation.objects.filter(pk=val.pk).update(quantity=val.quantity, value=val.value, updated_at=now)


def value_only(*, sku_id: int, value: Decimal, kind: str, counter: str, reference: str, memo: str, by=None):
    """Add ``value`` (positive or negative) to a SKU's valued stock without moving units: a landed
    cost or a cost set for opening stock. Refused without units to carry it."""
    from weishang.core.errors import Conflict

    value = fen(Decimal(value))
    val = locked_valuations([sku_id])[sku_id]
    if val.quantity <= 0:
        raise Conflict(_("There are no units of this SKU in the warehouses to carry the cost."), field="sku")
    if val.value + value < 0:
        raise Conflict(_("The stock's value cannot go below zero."), field="value")
    entry = post(
        lines={Purpose.BRAND_INVENTORY: value, counter: -value},
        memo=memo,
        reference=reference,
        kind=f"inventory.{kind}",
        by=by,
    )
    layer = ValuationLayer.objects.create(
        sku_id=sku_id,
        kind=kind,
        quantity=0,
        value=value,
        average_after=average(val.quantity, val.value + value),
        entry=entry,
        reference=reference[:100],
        created_by=by,
    )
    SkuValuation.objects.filter(pk=val.pk).update(value=F("value") + value, updated_at=clock.now())
    return layer
