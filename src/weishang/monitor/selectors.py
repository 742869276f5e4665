"""Channel health (渠道健康): the simulator's figure rules computed on one live month.

``channel_health("2026-11")`` reads the orders, the reward lines (each posted to the ledger), the
stock moves and the referrer tree, and gives every figure with the simulator's definition
(``plans.simulate.metrics``), the inputs a reader needs to check it, the forecast of the plan in
force for the same month of its run, and each rule's verdict for the brand's jurisdiction
(``plans.health.judge``: the linter's own rule functions). What counts as a participant's cost and
income live is in docs/decisions.md, "Channel health: the live figures".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from weishang.channel.models import Agent, ReferrerLink
from weishang.core import clock
from weishang.core.selectors import brand_get
from weishang.plans.health import judge
from weishang.plans.lint import Thresholds
from weishang.plans.schema import (
    Plan,
    ReferralReward,
    RetailCommissionReward,
    TargetAwardReward,
    TeamVolumeReward,
)
from weishang.rewards.models import RewardKind, RewardLine, RewardStatus
from weishang.trade.models import LocationKind, Order, OrderLine, StockMove
from weishang.trade.workflow import PAID_STATUSES, VOLUME_KINDS, OrderKind

SHARE = Decimal("0.0001")
MONTHS = Decimal("0.01")
ZERO = Decimal("0")
# Reward lines that count as a participant's income and as rewards paid: rewards and prizes
# (buybacks are income, not rewards; margins are the seller's price differential, already in
# the seller's sales). Lines taken back (cancelled, reversed) count nowhere.
REWARD_KINDS = (RewardKind.REWARD, RewardKind.PRIZE)
INCOME_KINDS = (RewardKind.REWARD, RewardKind.PRIZE, RewardKind.BUYBACK)
TAKEN_BACK = (RewardStatus.CANCELLED, RewardStatus.REVERSED)
CHANNEL_STOCK = (LocationKind.AGENT, LocationKind.CLOUD)
FIGURE_KEYS = (
    "loss_share",
    "recruitment_funded_share",
    "retail_funded_share",
    "months_of_stock",
    "max_subtree_members_3levels",
    "collected_total",
    "non_participant_revenue_share",
    "end_user_share",
)


def share(num: Decimal | int, den: Decimal | int) -> Decimal | None:
    """num / den to 4 decimals (as the simulator's figures reach the linter), None when den is 0."""
    if not den:
        return None
    return (Decimal(num) / Decimal(den)).quantize(SHARE, rounding=ROUND_HALF_EVEN)


def month_of(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m")


def month_index(label: str) -> int:
    return int(label[:4]) * 12 + int(label[5:7]) - 1


def line_month(period: str, created_at: datetime) -> str:
    """The month a reward line counts in: its settlement period when that is a month, else the
    month it was written (China time)."""
    if len(period) == 7 and period[4] == "-":
        return period
    return month_of(created_at)


# --- what funded a reward -----------------------------------------------------------------


def per_head_rules(plan: Plan | None) -> set[str]:
    """Rewards that pay per recruit: per-head referral bonuses and awards won by recruiting."""
    if plan is None:
        return set()
    out = set()
    for reward in plan.rewards:
        if isinstance(reward, ReferralReward) and reward.base == "per_head":
            out.add(reward.id)
        if isinstance(reward, TargetAwardReward) and reward.metric == "new_referrals":
            out.add(reward.id)
    return out


def retail_rules(plan: Plan | None) -> set[str]:
    """Rewards without an order that are computed on sales to consumers."""
    if plan is None:
        return set()
    out = set()
    for reward in plan.rewards:
        if isinstance(reward, RetailCommissionReward):
            out.add(reward.id)
        if isinstance(reward, TargetAwardReward) and reward.metric == "personal_retail":
            out.add(reward.id)
        if isinstance(reward, TeamVolumeReward) and reward.metric == "team_retail":
            out.add(reward.id)
    return out


def funded_by(*, rule_id: str, order_kind: str | None, to_customer: bool, per_head: set[str], retail: set[str]) -> str:
    """recruitment | participant | retail, as the simulator's ``_orders`` and ``_pay`` classify:
    per-head rewards and rewards on entry or upgrade orders are funded by recruitment; rewards on
    a consumer's order by retail; rewards on participants' own purchases by participants."""
    if rule_id in per_head or order_kind in (OrderKind.ENTRY, OrderKind.UPGRADE):
        return "recruitment"
    if order_kind == OrderKind.RETAIL:
        return "retail" if to_customer else "participant"
    if order_kind is None and rule_id in retail:
        return "retail"
    return "participant"


# --- the live month ---------------------------------------------------------------------


def live_figures(period: str, *, plan: Plan | None) -> dict[str, Any]:
    """The month's figures and their inputs (money as yuan strings, shares as strings)."""
    start, end = clock.month_range(period)
    per_head, retail = per_head_rules(plan), retail_rules(plan)

    # participants: every agent who joined before the month's end (those who left included)
    participants = set(Agent.objects.filter(joined_at__lt=end).values_list("pk", flat=True))
    net: dict[int, Decimal] = dict.fromkeys(participants, ZERO)
    paid = Order.objects.filter(status__in=PAID_STATUSES, paid_at__lt=end)
    collected = ZERO
    agent_retail = wholesale = ZERO
    for kind, buyer, seller, customer, total, paid_at in paid.values_list(
        "kind", "buyer_id", "seller_id", "customer_id", "total", "paid_at"
    ):
        if kind in VOLUME_KINDS and buyer is not None:
            collected += total
            if buyer in net:
                net[buyer] -= total  # what the agent paid for stock, entry and upgrades
        if seller is not None and kind != OrderKind.PICKUP:
            if seller in net:
                net[seller] += total  # what the agent got from selling (consumers and downline)
            if paid_at >= start:
                if kind == OrderKind.RETAIL and customer is not None:
                    agent_retail += total
                elif kind in VOLUME_KINDS:
                    wholesale += total

    funded = dict.fromkeys(("recruitment", "participant", "retail"), ZERO)
    per_head_paid = ZERO
    lines = (
        RewardLine.objects.filter(kind__in=INCOME_KINDS)
        .exclude(status__in=TAKEN_BACK)
        .values_list(
            "beneficiary_id", "kind", "rule_id", "amount", "period", "created_at", "order__kind", "order__customer_id"
        )
    )
    for beneficiary, kind, rule_id, amount, line_period, created_at, order_kind, customer in lines:
        month = line_month(line_period, created_at)
        if month > period:
            continue
        if beneficiary in net:
            net[beneficiary] += amount  # rewards, prizes and buybacks received
        if month != period or kind not in REWARD_KINDS:
            continue
        source = funded_by(
            rule_id=rule_id, order_kind=order_kind, to_customer=customer is not None, per_head=per_head, retail=retail
        )
        funded[source] += amount
        if rule_id in per_head:
            per_head_paid += amount
    rewards_total = sum(funded.values(), ZERO)

    # unsold stock counts at what the plan's buyback would pay for it (nothing without one)
    held_value = stock_buyback_values(end, plan=plan)
    for agent, value in held_value.items():
        if agent in net:
            net[agent] += value
    with_loss = sum(1 for v in net.values() if v < 0)

    # stock: units in agents' own and cloud stock at the month's end; sell-out to consumers in it
    moves = StockMove.objects.filter(created_at__lt=end)
    held = (moves.filter(to_location__kind__in=CHANNEL_STOCK).aggregate(n=Sum("quantity"))["n"] or 0) - (
        moves.filter(from_location__kind__in=CHANNEL_STOCK).aggregate(n=Sum("quantity"))["n"] or 0
    )
    month_moves = moves.filter(created_at__gte=start)
    sold_out = (month_moves.filter(to_location__kind=LocationKind.CUSTOMER).aggregate(n=Sum("quantity"))["n"] or 0) - (
        month_moves.filter(from_location__kind=LocationKind.CUSTOMER).aggregate(n=Sum("quantity"))["n"] or 0
    )
    shipped = (
        month_moves.filter(
            from_location__kind=LocationKind.WAREHOUSE, to_location__kind__in=(*CHANNEL_STOCK, LocationKind.CUSTOMER)
        ).aggregate(n=Sum("quantity"))["n"]
        or 0
    )
    if sold_out > 0:
        months_of_stock: Decimal | None = (Decimal(held) / Decimal(sold_out)).quantize(MONTHS, rounding=ROUND_HALF_EVEN)
    else:  # no sell-out: the simulator's fallback, the stock itself (0 when there is none)
        months_of_stock = Decimal(held) if held > 0 else None

    # structure: the largest referrer sub-tree spanning 3 levels or more
    joined = Q(ancestor__joined_at__lt=end, descendant__joined_at__lt=end)
    largest = (
        ReferrerLink.objects.filter(joined)
        .values("ancestor")
        .annotate(members=Count("descendant"), depth=Max("depth"))
        .filter(depth__gte=2)
        .order_by()
        .aggregate(m=Max("members"))["m"]
        or 0
    )

    revenue = agent_retail + wholesale + rewards_total
    figures: dict[str, Decimal | int | None] = {
        "loss_share": share(with_loss, len(net)),
        "recruitment_funded_share": share(funded["recruitment"], rewards_total) if rewards_total else ZERO,
        "retail_funded_share": share(funded["retail"], rewards_total) if rewards_total else ZERO,
        "months_of_stock": months_of_stock,
        "max_subtree_members_3levels": largest,
        "collected_total": collected,
        "non_participant_revenue_share": share(agent_retail + funded["retail"], revenue),
        "end_user_share": share(sold_out, shipped),
    }
    inputs = {
        "participants": len(net),
        "with_loss": with_loss,
        "rewards_total": str(rewards_total),
        "recruitment_funded": str(funded["recruitment"]),
        "retail_funded": str(funded["retail"]),
        "participant_funded": str(funded["participant"]),
        "stock_buyback_value": str(sum(held_value.values(), ZERO)),
        "per_head_rewards": str(per_head_paid),
        "per_head_rules": sorted(per_head),
        "channel_stock_units": held,
        "sell_out_units": sold_out,
        "units_shipped_by_company": shipped,
        "agent_retail_sales": str(agent_retail),
        "agent_wholesale_sales": str(wholesale),
        "collected_total": str(collected),
    }
    return {"figures": figures, "inputs": inputs}


def stock_buyback_values(end: datetime, *, plan: Plan | None) -> dict[int, Decimal]:
    """Each agent's unsold stock (own and cloud) at ``end`` valued as the simulator values it: the
    units held are the latest bought (FIFO), those bought within the plan's buyback window count at
    the price paid × the refund rate, rounded down to the fen; older units, or all without a
    buyback (``returns``), count nothing."""
    returns = plan.returns if plan is not None else None
    if returns is None:
        return {}
    held: dict[tuple[int, int], int] = {}
    moves = StockMove.objects.filter(created_at__lt=end).order_by()
    for agent, sku, n in (
        moves.filter(to_location__kind__in=CHANNEL_STOCK)
        .values_list("to_location__agent_id", "sku_id")
        .annotate(n=Sum("quantity"))
    ):
        held[(agent, sku)] = held.get((agent, sku), 0) + n
    for agent, sku, n in (
        moves.filter(from_location__kind__in=CHANNEL_STOCK)
        .values_list("from_location__agent_id", "sku_id")
        .annotate(n=Sum("quantity"))
    ):
        held[(agent, sku)] = held.get((agent, sku), 0) - n
    since = end - timedelta(days=returns.window_days)
    bought = (
        OrderLine.objects.filter(
            order__status__in=PAID_STATUSES,
            order__kind__in=VOLUME_KINDS,
            order__paid_at__gte=since,
            order__paid_at__lt=end,
            order__buyer__isnull=False,
        )
        .order_by("-order__paid_at", "-pk")
        .values_list("order__buyer_id", "sku_id", "quantity", "unit_price")
    )
    rate = Decimal(str(returns.refund_rate))
    value: dict[int, Decimal] = {}
    left = {key: n for key, n in held.items() if n > 0}
    for agent, sku, quantity, unit_price in bought:
        n = min(left.get((agent, sku), 0), quantity)
        if n <= 0:
            continue
        left[(agent, sku)] -= n
        value[agent] = value.get(agent, ZERO) + n * unit_price
    return {agent: (v * rate).quantize(Decimal("0.01"), rounding=ROUND_DOWN) for agent, v in value.items()}


def as_text(figures: dict[str, Any]) -> dict[str, str | None]:
    return {k: (None if v is None else str(v)) for k, v in figures.items()}


def plan_month(version, period: str) -> int | None:
    """Month n of the plan's run that ``period`` is (1 = the month it went live), or None before."""
    if version is None or version.active_from is None:
        return None
    n = month_index(period) - month_index(month_of(version.active_from)) + 1
    return n if n >= 1 else None


def channel_health(period: str) -> dict[str, Any]:
    """Every figure of ``period`` (YYYY-MM, China time) live and forecast, with each rule's
    verdict for the brand's jurisdiction. ``ValueError`` for a malformed month."""
    from weishang.monitor.forecast import forecast_for
    from weishang.rewards.plan_versions import plan_in_force, plan_of

    start, end = clock.month_range(period)
    brand = brand_get()
    version = plan_in_force(min(end - timedelta(microseconds=1), clock.now()))
    plan = plan_of(version) if version is not None else None
    live = live_figures(period, plan=plan)
    thresholds = Thresholds()
    verdicts = judge(plan, brand.jurisdiction, live["figures"], thresholds) if plan is not None else []
    n = plan_month(version, period)
    forecast: dict[str, Any] = {"available": False, "month": n}
    if plan is not None and n is not None:
        forecast = forecast_for(version, n)
        if forecast.get("available"):
            forecast["verdicts"] = [
                v.as_dict() for v in judge(plan, brand.jurisdiction, forecast["figures"], thresholds, live=False)
            ]
            forecast["figures"] = as_text(forecast["figures"])
    return {
        "period": period,
        "timezone": str(timezone.get_current_timezone()),
        "range": [start.isoformat(), end.isoformat()],
        "jurisdiction": brand.jurisdiction,
        "plan": str(version) if version is not None else None,
        "plan_month": n,
        "thresholds": {"loss_share": str(thresholds.loss_share), "months_of_stock": str(thresholds.months_of_stock)},
        "figures": as_text(live["figures"]),
        "inputs": live["inputs"],
        "verdicts": [v.as_dict() for v in verdicts],
        "forecast": forecast,
    }


def health_months(limit: int = 12) -> list[str]:
    """The months to show: from the plan's first month (or a year back) to the current month."""
    from weishang.rewards.plan_versions import plan_in_force

    now = month_of(clock.now())
    version = plan_in_force()
    first = month_of(version.active_from) if version is not None and version.active_from else now
    last = month_index(now)
    begin = max(month_index(first), last - limit + 1)
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(begin, last + 1)]


def open_alerts(limit: int = 10) -> list:
    """Breaches the owner has not acknowledged yet, newest month first: the brand's to-do."""
    from weishang.monitor.models import HealthAlert

    return list(HealthAlert.objects.filter(acknowledged_at__isnull=True).order_by("-period", "rule")[:limit])


def alerts(limit: int = 50) -> list:
    from weishang.monitor.models import HealthAlert

    return list(HealthAlert.objects.select_related("acknowledged_by").order_by("-period", "rule")[:limit])


def latest_snapshot():
    """The last month saved (``weishang plan monitor --save``, daily for the month so far)."""
    from weishang.monitor.models import HealthSnapshot

    return HealthSnapshot.objects.order_by("-period").first()


def health_panel() -> dict[str, Any]:
    """The dashboard's panel: the last saved month's main figures live beside the forecast, each
    rule's verdict, and the breaches not yet acknowledged (the brand's to-do). Two queries."""
    from weishang.monitor.labels import FIGURE_LABELS, STATUS_CLASS

    snapshot = latest_snapshot()
    figures, verdicts = [], []
    if snapshot is not None:
        live = snapshot.figures.get("figures", {})
        forecast = snapshot.forecast.get("figures") or {}
        figures = [(FIGURE_LABELS[k], live.get(k), forecast.get(k)) for k in CHART_FIGURES]
        verdicts = [(v["rule"], v["status"], STATUS_CLASS[v["status"]]) for v in snapshot.verdicts]
    return {
        "period": snapshot.period if snapshot else None,
        "figures": figures,
        "verdicts": verdicts,
        "alerts": [{"period": a.period, "rule": a.rule, "status": a.status} for a in open_alerts()],
    }


CHART_FIGURES = ("loss_share", "months_of_stock", "recruitment_funded_share")


def _saved_report(snapshot) -> dict[str, Any]:
    """A saved month as ``channel_health`` gives it (the fields the page and the chart read)."""
    return {
        "period": snapshot.period,
        "plan": snapshot.plan_label or None,
        "jurisdiction": snapshot.jurisdiction,
        "figures": snapshot.figures.get("figures", {}),
        "inputs": snapshot.figures.get("inputs", {}),
        "verdicts": snapshot.verdicts,
        "forecast": snapshot.forecast,
        "saved_at": snapshot.computed_at.isoformat(),
    }


def health_series(months: list[str], *, live: str | None = None) -> dict[str, Any]:
    """Each month's report, and per charted figure the live and forecast values month by month.
    A month gone by that was saved (``weishang plan monitor --save``, run each day) is read from
    its snapshot; the month ``live`` (the one the page shows), the current month and any month not
    saved are computed now — so the page costs one computation, not one per month."""
    from weishang.monitor.models import HealthSnapshot

    current = month_of(clock.now())
    saved = {s.period: s for s in HealthSnapshot.objects.filter(period__in=months)}
    reports = [
        _saved_report(saved[m]) if m in saved and m not in (live, current) else channel_health(m) for m in months
    ]
    series: dict[str, dict[str, list[str | None]]] = {}
    for key in CHART_FIGURES:
        series[key] = {
            "live": [r["figures"].get(key) for r in reports],
            "forecast": [(r["forecast"].get("figures") or {}).get(key) for r in reports],
        }
    return {"months": months, "reports": reports, "series": series}
