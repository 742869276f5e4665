"""The demo brand's inventory: its warehouse stock valued at what the factory charges (the demo's
history was written in bulk, before valuation: it is opened at these costs), a posted stock count
(two boxes crushed), and reorder rules — the cream's minimum above what is on hand, so
that 补货规则 proposes an order. Written once."""

from __future__ import annotations

from decimal import Decimal

from weishang.catalog.models import SKU
from weishang.inventory import batches, selectors, services
from weishang.inventory.models import BatchTracking, ReorderRule, SkuValuation, StockCount

# What one unit costs from the factory (出厂价), by SKU code.
COSTS = {"GLOW-30ML": Decimal("42.00"), "GLOW-50G": Decimal("31.50"), "GLOW-MASK5": Decimal("12.80")}


def inventory_demo(*, by=None) -> None:
    skus = {s.code: s for s in SKU.objects.filter(code__in=COSTS)}
    services.valuation_open(costs={skus[c].pk: cost for c, cost in COSTS.items() if c in skus}, by=by)
    # Units that left the warehouse in the demo's live orders before it was opened went at no cost.
    for val in SkuValuation.objects.filter(sku__code__in=COSTS, quantity__gt=0, value=0).select_related("sku"):
        services.valuation_set_cost(sku=val.sku, unit_cost=COSTS[val.sku.code], by=by, note="出厂价")
    if not StockCount.objects.exists():
        # Last month's count: two boxes of the SKU the warehouse holds most of were crushed; posted
        # at the average cost into gains and losses.
        count = services.stock_count_start(by=by, note="月度盘点")
        line = count.lines.order_by("-expected").first()
        if line is not None and line.expected >= 2:
            services.stock_count_record(
                count=count, counted={line.sku_id: line.expected - 2}, reasons={line.sku_id: "压坏 2 盒"}
            )
            services.stock_count_post(count=count, by=by)
    masks = skus.get("GLOW-MASK5")
    if masks is not None and not BatchTracking.objects.filter(sku=masks).exists():
        # Face masks expire: kept by batch from here on (what is on hand goes in unbatched), two
        # years' shelf life, a warning 90 days ahead; purchasing's receipts name their batches.
        batches.tracking_start(sku=masks, shelf_life_days=730, warn_days=90)
    if ReorderRule.objects.exists():
        return
    on_hand = selectors.warehouse_units()
    for code, extra in (("GLOW-30ML", -500), ("GLOW-50G", 200), ("GLOW-MASK5", 100)):
        sku = skus.get(code)
        if sku is None:
            continue
        have = on_hand.get(sku.pk, 0)
        minimum = max(50, have + extra)
        services.reorder_rule_save(sku=sku, minimum=minimum, maximum=minimum * 2, multiple=50)
