"""Reads of the brand's inventory: units in the warehouses, their value, reorder proposals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from weishang.core import clock
from weishang.inventory.models import Batch, BatchMove, ReorderRule, SkuValuation, ValuationLayer
from weishang.trade.models import LocationKind, StockLevel

# Units already on order, by (sku id, warehouse location id): purchasing installs its open purchase
# orders here when it is ready (inventory sits below purchasing and does not import it).
IncomingUnits = Callable[[], dict[tuple[int, int], int]]
_incoming: list[IncomingUnits] = []


def set_incoming_units(provider: IncomingUnits) -> None:
    if provider not in _incoming:
        _incoming.append(provider)


def incoming_units() -> dict[tuple[int, int], int]:
    total: dict[tuple[int, int], int] = {}
    for provider in _incoming:
        for key, units in provider().items():
            total[key] = total.get(key, 0) + units
    return total


def warehouse_units(sku_ids=None) -> dict[int, int]:
    """Units on hand in all the brand's warehouses, by SKU id."""
    levels = StockLevel.objects.filter(location__kind=LocationKind.WAREHOUSE)
    if sku_ids is not None:
        levels = levels.filter(sku_id__in=list(sku_ids))
    return {
        sku: units
        for sku, units in levels.values("sku_id").annotate(n=Sum("quantity")).values_list("sku_id", "n")
        if units
    }


def valuations():
    """Every valued SKU with its units, value and average cost, by SKU code."""
    return SkuValuation.objects.select_related("sku", "sku__product").order_by("sku__code")


def valuation_total() -> Decimal:
    return SkuValuation.objects.aggregate(v=Sum("value"))["v"] or Decimal("0.00")


def layers_of(sku_id: int, *, limit: int = 50):
    return ValuationLayer.objects.filter(sku_id=sku_id).select_related("stock_move", "entry").order_by("-pk")[:limit]


@dataclass(frozen=True)
class Proposal:
    """What a reorder rule asks for: ``quantity`` units to order (0 when covered)."""

    rule: ReorderRule
    on_hand: int
    incoming: int
    quantity: int


def proposal_for(rule: ReorderRule, on_hand: int, incoming: int) -> int:
    """Units to order: none while on hand plus on order is at least the minimum; otherwise up to
    the maximum, rounded up to the rule's multiple."""
    have = on_hand + incoming
    if have >= rule.minimum:
        return 0
    wanted = rule.maximum - have
    multiple = max(1, rule.multiple)
    return -(-wanted // multiple) * multiple


def reorder_proposals(*, include_covered: bool = False) -> list[Proposal]:
    """The active reorder rules' proposals, the SKUs that need ordering first."""
    rules = list(ReorderRule.objects.filter(active=True).select_related("sku", "location"))
    levels = {
        (sku, loc): units
        for sku, loc, units in StockLevel.objects.filter(
            location_id__in={r.location_id for r in rules}, sku_id__in={r.sku_id for r in rules}
        ).values_list("sku_id", "location_id", "quantity")
    }
    incoming = incoming_units()
    proposals = []
    for rule in rules:
        key = (rule.sku_id, rule.location_id)
        on_hand, coming = levels.get(key, 0), incoming.get(key, 0)
        quantity = proposal_for(rule, on_hand, coming)
        if quantity or include_covered:
            proposals.append(Proposal(rule=rule, on_hand=on_hand, incoming=coming, quantity=quantity))
    proposals.sort(key=lambda p: (p.quantity == 0, p.rule.sku.code))
    return proposals


def batches_in_stock(*, today: date | None = None) -> list[dict]:
    """Every batch with units in the brand's warehouses, first expiry first: its SKU, number,
    expiry, units, days left and whether it has expired or is within its SKU's warning."""
    from weishang.inventory.models import BatchLevel, BatchTracking

    today = today or clock.today()
    warn = dict(BatchTracking.objects.values_list("sku_id", "warn_days"))
    rows: dict[int, dict] = {}
    for level in BatchLevel.objects.filter(quantity__gt=0).select_related("batch__sku"):
        batch = level.batch
        row = rows.setdefault(
            batch.pk,
            {"batch": batch, "sku": batch.sku, "expires_on": batch.expires_on, "units": 0},
        )
        row["units"] += level.quantity
    for row in rows.values():
        expires = row["expires_on"]
        row["days_left"] = (expires - today).days if expires else None
        row["expired"] = expires is not None and expires < today
        row["expiring"] = not row["expired"] and expires is not None and row["days_left"] <= warn.get(row["sku"].pk, 60)
    return sorted(rows.values(), key=lambda r: (r["expires_on"] is None, r["expires_on"] or date.max, r["batch"].pk))


def batches_moved(*, stock_moves) -> list[tuple[Batch, int]]:
    """The batches ``stock_moves`` (stock moves or a queryset of them) took out of the brand's
    warehouses (negative units) or put into them (positive), summed per batch, the batch of the
    latest such move first. Empty for SKUs not kept by batch when they moved."""
    totals: dict[int, int] = {}
    latest: dict[int, int] = {}
    for pk, batch_id, quantity in BatchMove.objects.filter(stock_move__in=stock_moves).values_list(
        "pk", "batch_id", "quantity"
    ):
        totals[batch_id] = totals.get(batch_id, 0) + quantity
        latest[batch_id] = max(latest.get(batch_id, 0), pk)
    found = Batch.objects.in_bulk(list(totals))
    return [(found[pk], totals[pk]) for pk in sorted(totals, key=lambda pk: -latest[pk])]


def batches_to_return(*, shipped, returned, quantity: int) -> list[tuple[Batch, int]]:
    """Where ``quantity`` units coming back into a warehouse belong: the batches ``shipped`` (the
    stock moves that took them out) took, the latest first, each no more than it gave less what
    ``returned`` (earlier stock moves back) put into it. The units not in the list (shipped before
    the SKU was kept by batch) have no batch to go back to."""
    back = {batch.pk: units for batch, units in batches_moved(stock_moves=returned)}
    found: list[tuple[Batch, int]] = []
    left = quantity
    for batch, units in batches_moved(stock_moves=shipped):
        n = min(left, -units - back.get(batch.pk, 0))
        if n > 0:
            found.append((batch, n))
            left -= n
    return found
