"""Sales analysis (销售分析): paid order lines grouped by SKU, buyer level, region or period.

What counts as sold: the lines of entry, upgrade, restock and retail orders (a pick-up moves stock
already sold) that were paid in the period (``paid_at``, China time) and are paid still — paid,
filled, completed or with a refund asked (``trade.workflow.PAID_STATUSES``). A refunded or cancelled
order drops out. Scopes: the brand's own sales (the company is the seller), the channel's (agents
selling to agents), retail (to consumers), or all. For the brand's own sales, the cost of goods
sold is what the inventory's valuation took out of the warehouse for those lines (their stock
moves' layers), and the gross margin is revenue less that cost; units that left the warehouse
before it was valued have no cost, and a row with any of them shows no margin (its uncosted units
are counted) rather than a margin that is not true.

The buyer's level is the agent's level now (retail buyers are "consumers"); the region is the
province of the buyer's region (a retail order's shipping region).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from weishang.inventory.models import ValuationLayer
from weishang.regions.models import Region
from weishang.trade.models import OrderKind, OrderLine
from weishang.trade.workflow import PAID_STATUSES

ZERO = Decimal("0.00")
SALE_KINDS = (OrderKind.ENTRY, OrderKind.UPGRADE, OrderKind.RESTOCK, OrderKind.RETAIL)
SCOPES = ("brand", "channel", "retail", "all")
DIMENSIONS = ("sku", "level", "region", "month")


def scope_label(scope: str) -> str:
    return {
        "brand": _("The brand's own sales"),
        "channel": _("Agents selling to agents"),
        "retail": _("Retail to consumers"),
        "all": _("All sales"),
    }[scope]


def dimension_label(dimension: str) -> str:
    return {"sku": _("SKU"), "level": _("level"), "region": _("province"), "month": _("month")}[dimension]


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def sales_lines(*, scope: str, start: date, end: date) -> QuerySet[OrderLine]:
    """The lines sold in ``[start, end]`` (China-time days, both included) for ``scope``."""
    lines = OrderLine.objects.filter(
        order__kind__in=SALE_KINDS,
        order__status__in=PAID_STATUSES,
        order__paid_at__gte=_aware(start),
        order__paid_at__lt=_aware(end + timedelta(days=1)),
    )
    if scope == "brand":
        lines = lines.filter(order__seller__isnull=True).exclude(order__kind=OrderKind.RETAIL)
    elif scope == "channel":
        lines = lines.filter(order__seller__isnull=False).exclude(order__kind=OrderKind.RETAIL)
    elif scope == "retail":
        lines = lines.filter(order__kind=OrderKind.RETAIL)
    return lines


@dataclass
class Row:
    key: str
    label: str
    orders: set = field(default_factory=set)
    units: int = 0
    revenue: Decimal = ZERO
    cost: Decimal | None = None
    uncosted_units: int = 0  # units sold from stock that had no cost yet (before valuation)

    @property
    def order_count(self) -> int:
        return len(self.orders)

    @property
    def cost_known(self) -> bool:
        return self.cost is not None and self.uncosted_units == 0

    @property
    def margin(self) -> Decimal | None:
        return self.revenue - self.cost if self.cost_known and self.cost is not None else None

    @property
    def margin_rate(self) -> Decimal | None:
        if not self.cost_known or self.cost is None or not self.revenue:
            return None
        return ((self.revenue - self.cost) / self.revenue * 100).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Analysis:
    scope: str
    dimension: str
    start: date
    end: date
    rows: list[Row]
    total: Row
    with_cost: bool


def _costs(line_ids: list[int]) -> dict[int, Decimal]:
    """What the warehouse's valuation took out for each line (positive), by line id; a line whose
    stock left before valuation (no layer, or units opened without a cost) is missing."""
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    layers = ValuationLayer.objects.filter(stock_move__order_line_id__in=line_ids).values_list(
        "stock_move__order_line_id", "value"
    )
    for line_id, value in layers:
        out[line_id] -= value  # an out-layer's value is negative; a return's positive
    return {line_id: cost for line_id, cost in out.items() if cost > 0}


def sales_analysis(*, scope: str = "all", dimension: str = "sku", start: date, end: date) -> Analysis:
    """The sales of ``scope`` in ``[start, end]`` grouped by ``dimension``, largest revenue first
    (months in order)."""
    if scope not in SCOPES:
        scope = "all"
    if dimension not in DIMENSIONS:
        dimension = "sku"
    values = list(
        sales_lines(scope=scope, start=start, end=end).values_list(
            "pk",
            "order_id",
            "quantity",
            "line_total",
            "sku__code",
            "sku__name",
            "order__buyer__level__code",
            "order__buyer__level__name",
            "order__buyer__region_id",
            "order__ship_region_id",
            "order__kind",
            "order__paid_at",
        )
    )
    with_cost = scope == "brand"
    costs = _costs([v[0] for v in values]) if with_cost else {}
    provinces = {r.code: r.name for r in Region.objects.filter(kind="province")}
    rows: dict[str, Row] = {}
    total = Row(key="total", label=_("Total"), cost=ZERO if with_cost else None)
    for pk, order_id, units, amount, code, name, level_code, level_name, region, ship_region, kind, paid_at in values:
        if dimension == "sku":
            key, label = code, f"{code} {name}"
        elif dimension == "level":
            key, label = (level_code, level_name) if kind != OrderKind.RETAIL and level_code else ("", _("consumers"))
        elif dimension == "region":
            where = ship_region if kind == OrderKind.RETAIL and ship_region else region
            province = f"{where[:2]}0000" if where else ""
            key, label = province, provinces.get(province, _("unknown"))
        else:
            month = timezone.localtime(paid_at).strftime("%Y-%m")
            key, label = month, month
        row = rows.get(key)
        if row is None:
            row = rows[key] = Row(key=key, label=label, cost=ZERO if with_cost else None)
        for r in (row, total):
            r.orders.add(order_id)
            r.units += units
            r.revenue += amount
            if with_cost:
                if pk in costs:
                    r.cost = (r.cost or ZERO) + costs[pk]
                else:
                    r.uncosted_units += units
    ordered = list(rows.values())
    if dimension == "month":
        ordered.sort(key=lambda r: r.key)
    else:
        ordered.sort(key=lambda r: (-r.revenue, r.key))
    return Analysis(
        scope=scope, dimension=dimension, start=start, end=end, rows=ordered, total=total, with_cost=with_cost
    )
