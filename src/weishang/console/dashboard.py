"""The console's front page: the figures a brand owner opens every morning.

Every figure is one aggregate query (or part of one), so the page costs the same handful of
queries for 30 agents or 100,000; ``tests/console/test_dashboard.py`` counts them. Each figure
links to the console list that shows the rows behind it.

回款 (cash collected) is the money that actually reached the brand: the brand-cash account's
lines of payments (transfers to the company, WeChat Pay), wallet top-ups, less refunds paid back
out of brand cash, by the day they were posted. Paying an order from a wallet is not cash
collected (the money arrived when the wallet was topped up); a transfer to an upline agent
never reaches the brand. See docs/decisions.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache

from django.db.models import Count, Q, Sum
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from weishang.channel.models import Agent, AgentStatus, Application, ApplicationStatus, Level, ReferrerLink
from weishang.console.kit import chart_data, chart_options
from weishang.core import clock
from weishang.core.money import ZERO, to_money
from weishang.growth import selectors as growth
from weishang.ledger.models import Account, JournalLine, Purpose, Withdrawal, WithdrawalStatus
from weishang.monitor import selectors as health
from weishang.trade.models import VOLUME_KINDS, LocationKind, Order, OrderStatus, StockLevel
from weishang.trade.selectors import brand_to_act, order_queues

S = OrderStatus
WEEKS = 12
MONTHS = 12
TOP_TEAMS = 10
# Journal entry kinds that move money into (or, for refunds, back out of) brand cash from buyers.
CASH_KINDS = ("order_payment", "wallet_topup", "order_refund")


# --- small helpers --------------------------------------------------------------------------


def yuan(amount: Decimal) -> str:
    """¥1,234.50 (−¥12.00 for a negative amount): exact, two places."""
    amount = to_money(amount)
    return f"-¥{-amount:,.2f}" if amount < 0 else f"¥{amount:,.2f}"


@lru_cache(maxsize=64)
def _changelist(name: str, prefix: str) -> str:
    return reverse(f"admin:{name}")


def _url(name: str, **params) -> str:
    url = _changelist(name, get_script_prefix())
    return f"{url}?{urlencode(params)}" if params else url


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _first_of_month(day: date, back: int = 0) -> date:
    month = day.year * 12 + day.month - 1 - back
    return date(month // 12, month % 12 + 1, 1)


def _money(value) -> Decimal:
    return to_money(value) if value is not None else ZERO


@dataclass
class Figure:
    label: str
    value: object  # a number or yuan text
    url: str = ""
    raw: object = None  # the number behind ``value`` (Decimal or int), for charts and tests


@dataclass
class Period:
    label: str
    start: datetime
    end: datetime
    figure: Figure | None = None


# --- 回款: cash collected -------------------------------------------------------------------


@dataclass
class Cash:
    weeks: list[Period]
    months: list[Period]

    @property
    def this_week(self) -> Figure:
        return self.weeks[-1].figure

    @property
    def last_week(self) -> Figure:
        return self.weeks[-2].figure

    @property
    def this_month(self) -> Figure:
        return self.months[-1].figure


def cash_collected(today: date | None = None) -> Cash:
    """Money into brand cash by week (the last 12, Monday to Sunday) and month (the last 12)."""
    today = today or clock.today()
    monday = today - timedelta(days=today.weekday())
    weeks = [
        Period(f"{d:%m-%d}", _start(d), _start(d + timedelta(days=7)))
        for d in (monday - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1))
    ]
    months = [
        Period(f"{d:%Y-%m}", _start(d), _start(_first_of_month(d, -1)))
        for d in (_first_of_month(today, n) for n in range(MONTHS - 1, -1, -1))
    ]
    periods = weeks + months
    totals: dict[str, Decimal] = {}
    cash = Account.objects.filter(owner__isnull=True, purpose=Purpose.BRAND_CASH).values_list("pk", flat=True).first()
    if cash is not None:
        # One pass over brand cash's lines: a conditional sum per period (no per-row date function).
        totals = JournalLine.objects.filter(
            account_id=cash,
            entry__kind__in=CASH_KINDS,
            entry__created_at__gte=min(p.start for p in periods),
        ).aggregate(
            **{
                f"p{i}": Sum("amount", filter=Q(entry__created_at__gte=p.start, entry__created_at__lt=p.end))
                for i, p in enumerate(periods)
            }
        )
    for i, period in enumerate(periods):
        total = _money(totals.get(f"p{i}"))
        url = _url(
            "ledger_journalentry_changelist",
            lines__account=cash or 0,
            kind__in=",".join(CASH_KINDS),
            created_at__gte=period.start.isoformat(),
            created_at__lt=period.end.isoformat(),
        )
        period.figure = Figure(period.label, yuan(total), url, total)
    return Cash(weeks=weeks, months=months)


# --- agents: new by level and month, applications waiting -----------------------------------


@dataclass
class NewAgents:
    levels: list[Level]
    months: list[Period]
    cells: dict[tuple[int, int], Figure]  # (level id, month index) -> figure
    totals: list[Figure]  # per month

    def row(self, level: Level) -> list[Figure]:
        return [self.cells[(level.pk, i)] for i in range(len(self.months))]

    @property
    def latest_first(self) -> list[tuple[Figure, list[Figure]]]:
        """(the month's total, [its figure for each level]), the latest month first."""
        return [
            (self.totals[i], [self.cells[(level.pk, i)] for level in self.levels])
            for i in range(len(self.months) - 1, -1, -1)
        ]


def new_agents(levels: list[Level], today: date | None = None) -> NewAgents:
    today = today or clock.today()
    months = [
        Period(f"{d:%Y-%m}", _start(d), _start(_first_of_month(d, -1)))
        for d in (_first_of_month(today, n) for n in range(MONTHS - 1, -1, -1))
    ]
    counts: dict[tuple[int, int], int] = defaultdict(int)
    rows = (
        Agent.objects.filter(joined_at__gte=months[0].start)
        .values("level_id")
        .annotate(
            **{
                f"m{i}": Count("pk", filter=Q(joined_at__gte=p.start, joined_at__lt=p.end))
                for i, p in enumerate(months)
            }
        )
        .order_by()
    )
    for row in rows:
        for i in range(len(months)):
            counts[(row["level_id"], i)] += row[f"m{i}"]
    cells, totals = {}, []
    for i, period in enumerate(months):
        window = {"joined_at__gte": period.start.isoformat(), "joined_at__lt": period.end.isoformat()}
        for level in levels:
            n = counts[(level.pk, i)]
            cells[(level.pk, i)] = Figure(
                level.name, n, _url("channel_agent_changelist", level__id__exact=level.pk, **window), n
            )
        n = sum(counts[(level.pk, i)] for level in levels)
        totals.append(Figure(period.label, n, _url("channel_agent_changelist", **window), n))
    return NewAgents(levels=levels, months=months, cells=cells, totals=totals)


def applications_waiting() -> list[Figure]:
    counts = Application.objects.filter(status=ApplicationStatus.PENDING).aggregate(
        brand=Count("pk", filter=Q(approver__isnull=True)), all=Count("pk")
    )
    return [
        Figure(
            gettext("For the brand to decide"),
            counts["brand"],
            _url("channel_application_changelist", status__exact=ApplicationStatus.PENDING, approver__isnull="True"),
            counts["brand"],
        ),
        Figure(
            gettext("All pending, uplines' included"),
            counts["all"],
            _url("channel_application_changelist", status__exact=ApplicationStatus.PENDING),
            counts["all"],
        ),
    ]


# --- orders waiting -------------------------------------------------------------------------


def orders_waiting() -> tuple[Figure, list[Figure]]:
    """(waiting for the brand, [waiting by what for]) in one query."""
    queues = order_queues()
    counts = Order.objects.aggregate(
        brand=Count("pk", filter=brand_to_act()),
        **{name: Count("pk", filter=q) for name, (_label, q) in queues.items()},
    )
    brand = Figure(
        gettext("Waiting for the brand"),
        counts["brand"],
        _url("trade_order_changelist", brand_to_act="yes"),
        counts["brand"],
    )
    return brand, [
        Figure(str(label), counts[name], _url("trade_order_changelist", waiting=name), counts[name])
        for name, (label, _q) in queues.items()
    ]


# --- channel stock --------------------------------------------------------------------------


@dataclass
class ChannelStock:
    skus: list[tuple[int, str]]  # (sku id, code)
    rows: list[tuple[Level, list[Figure], Figure]]  # level, units per SKU, total
    totals: list[Figure]  # per SKU


def channel_stock(levels: list[Level]) -> ChannelStock:
    """Units in agents' cloud stock, by the holder's level and SKU (one query)."""
    rows = (
        StockLevel.objects.filter(location__kind=LocationKind.CLOUD, quantity__gt=0)
        .values("location__agent__level_id", "sku_id", "sku__code")
        .annotate(units=Sum("quantity"))
        .order_by("sku__code")
    )
    units: dict[tuple[int, int], int] = defaultdict(int)
    skus: dict[int, str] = {}
    for row in rows:
        units[(row["location__agent__level_id"], row["sku_id"])] += row["units"]
        skus[row["sku_id"]] = row["sku__code"]
    sku_list = sorted(skus.items(), key=lambda item: item[1])
    base = {"location__kind__exact": LocationKind.CLOUD}

    def figure(label: str, n: int, **params) -> Figure:
        return Figure(label, n, _url("trade_stocklevel_changelist", **base, **params), n)

    table = []
    for level in levels:
        cells = [
            figure(code, units[(level.pk, sku)], location__agent__level__id__exact=level.pk, sku__id__exact=sku)
            for sku, code in sku_list
        ]
        table.append(
            (level, cells, figure(level.name, sum(c.raw for c in cells), location__agent__level__id__exact=level.pk))
        )
    totals = [
        figure(code, sum(units[(level.pk, sku)] for level in levels), sku__id__exact=sku) for sku, code in sku_list
    ]
    return ChannelStock(skus=sku_list, rows=table, totals=totals)


# --- top teams ------------------------------------------------------------------------------


@dataclass
class Team:
    rank: int
    leader_id: int
    leader: str
    volume: Figure
    orders: int
    leader_url: str


def top_teams(levels: list[Level], today: date | None = None, limit: int = TOP_TEAMS) -> tuple[str, list[Team]]:
    """The referral teams led by agents of the highest level, by team purchase volume this month
    (entry, upgrade and restock orders completed; the leader's own included): one query."""
    if not levels:
        return "", []
    today = today or clock.today()
    start, end = _start(_first_of_month(today)), _start(_first_of_month(today, -1))
    top = levels[0]
    rows = (
        ReferrerLink.objects.filter(
            ancestor__level_id=top.pk,
            descendant__orders__status=S.COMPLETED,
            descendant__orders__kind__in=VOLUME_KINDS,
            descendant__orders__completed_at__gte=start,
            descendant__orders__completed_at__lt=end,
        )
        .exclude(ancestor__status=AgentStatus.EXITED)
        .values("ancestor_id", "ancestor__real_name")
        .annotate(volume=Sum("descendant__orders__total"), orders=Count("descendant__orders"))
        .order_by("-volume", "ancestor_id")[:limit]
    )
    teams = []
    for rank, row in enumerate(rows, start=1):
        volume = _money(row["volume"])
        url = _url(
            "trade_order_changelist",
            team=row["ancestor_id"],
            status__exact=S.COMPLETED,
            kind__in=",".join(VOLUME_KINDS),
            completed_at__gte=start.isoformat(),
            completed_at__lt=end.isoformat(),
        )
        teams.append(
            Team(
                rank,
                row["ancestor_id"],
                row["ancestor__real_name"],
                Figure("", yuan(volume), url, volume),
                row["orders"],
                reverse("admin:channel_agent_change", args=[row["ancestor_id"]]),
            )
        )
    return top.name, teams


# --- rewards payable ------------------------------------------------------------------------


def rewards_payable() -> list[Figure]:
    """What the brand owes agents in rewards: frozen, available (debts not netted), withdrawals
    to approve and to pay (two queries)."""
    F, A = Purpose.AGENT_REWARDS_FROZEN, Purpose.AGENT_REWARDS_AVAILABLE
    balances = Account.objects.filter(owner__isnull=False, purpose__in=[F, A]).aggregate(
        frozen=Sum("balance", filter=Q(purpose=F)), available=Sum("balance", filter=Q(purpose=A, balance__gt=0))
    )
    W = WithdrawalStatus
    withdrawals = Withdrawal.objects.filter(status__in=[W.REQUESTED, W.APPROVED]).aggregate(
        requested=Sum("amount", filter=Q(status=W.REQUESTED)),
        requested_n=Count("pk", filter=Q(status=W.REQUESTED)),
        approved=Sum("amount", filter=Q(status=W.APPROVED)),
        approved_n=Count("pk", filter=Q(status=W.APPROVED)),
    )
    frozen, available = _money(balances["frozen"]), _money(balances["available"])
    requested, approved = _money(withdrawals["requested"]), _money(withdrawals["approved"])
    return [
        Figure(gettext("Frozen (待结算)"), yuan(frozen), _url("ledger_account_changelist", purpose__exact=F), frozen),
        Figure(
            gettext("Available to withdraw (可提现)"),
            yuan(available),
            _url("ledger_account_changelist", purpose__exact=A, balance__gt=0),
            available,
        ),
        Figure(
            gettext("Withdrawals to approve: %(n)d") % {"n": withdrawals["requested_n"]},
            yuan(requested),
            _url("ledger_withdrawal_changelist", status__exact=W.REQUESTED),
            requested,
        ),
        Figure(
            gettext("Approved, to pay out: %(n)d") % {"n": withdrawals["approved_n"]},
            yuan(approved),
            _url("ledger_withdrawal_changelist", status__exact=W.APPROVED),
            approved,
        ),
    ]


# --- charts (unfold's Chart.js components read a JSON data attribute) ------------------------

SHADES = ("900", "700", "500", "400", "300", "200")


def cash_charts(cash: Cash) -> dict[str, str]:
    label = str(_("Cash collected (回款), yuan"))
    weekly = chart_data(
        [p.label for p in cash.weeks],
        [
            {
                "label": label,
                "data": [str(p.figure.raw) for p in cash.weeks],
                "backgroundColor": "var(--color-primary-600)",
                "borderColor": "var(--color-primary-600)",
            }
        ],
    )
    monthly = chart_data(
        [p.label for p in cash.months],
        [
            {
                "label": label,
                "data": [str(p.figure.raw) for p in cash.months],
                "backgroundColor": "var(--color-primary-600)",
                "borderColor": "var(--color-primary-600)",
            }
        ],
    )
    return {"weekly": weekly, "monthly": monthly, "options": chart_options(money=True)}


def new_agent_chart(agents: NewAgents) -> dict[str, str]:
    datasets = [
        {
            "label": level.name,
            "data": [cell.raw for cell in agents.row(level)],
            "backgroundColor": f"var(--color-primary-{SHADES[i % len(SHADES)]})",
        }
        for i, level in enumerate(agents.levels)
    ]
    return {
        "data": chart_data([p.label for p in agents.months], datasets),
        "options": chart_options(stacked=True, legend=True),
    }


# --- channel health (M10): the last saved month and the breaches to review -------------------


def channel_health() -> dict:
    """The channel health panel (``monitor.selectors.health_panel``) with its links."""
    url = reverse("admin:monitor_health")
    panel = health.health_panel()
    for alert in panel["alerts"]:
        alert["url"] = f"{url}?period={alert['period']}"
    panel["url"] = url
    panel["period_url"] = f"{url}?period={panel['period']}" if panel["period"] else url
    return panel


# --- the launch phase under way (M10): each target to date against its pro-rated plan ---------


def launch_phase(today: date) -> dict | None:
    """The launch phase panel (``growth.selectors.phase_panel``): its rows, a chart of the share
    reached against the share of the phase gone, and the link to its week-by-week page."""
    found = growth.phase_panel(today)
    if found is None:
        return None
    phase, gone, days, rows = found
    time_share = int(gone * 100 / days) if days else 0
    return {
        "phase": phase,
        "gone": gone,
        "days": days,
        "rows": rows,
        "url": reverse("admin:growth_launchphase_progress", args=[phase.pk]),
        "chart": {
            "data": chart_data(
                [row.label for row in rows],
                [
                    {
                        "label": gettext("Reached (%)"),
                        "data": [row.share for row in rows],
                        "backgroundColor": "var(--color-primary-600)",
                    },
                    {
                        "label": gettext("Time gone (%)"),
                        "data": [time_share for _row in rows],
                        "backgroundColor": "var(--color-base-300)",
                    },
                ],
            ),
            "options": chart_options(legend=True),
        },
    }


# --- the page -------------------------------------------------------------------------------


def dashboard(user, today: date | None = None) -> dict:
    """Everything the dashboard shows that ``user`` may see (a section needs the view permission
    of the list its figures link to)."""
    can = user.has_perm
    data: dict = {"today": today or clock.today()}
    levels = list(Level.objects.order_by("rank")) if can("channel.view_agent") or can("trade.view_stocklevel") else []
    if can("ledger.view_journalentry"):
        data["cash"] = cash_collected(data["today"])
        data["cash_charts"] = cash_charts(data["cash"])
    if can("channel.view_agent"):
        data["new_agents"] = new_agents(levels, data["today"])
        data["new_agent_chart"] = new_agent_chart(data["new_agents"])
    if can("channel.view_application"):
        data["applications"] = applications_waiting()
    if can("trade.view_order"):
        data["orders_brand"], data["orders"] = orders_waiting()
    if can("trade.view_stocklevel"):
        data["stock"] = channel_stock(levels)
    if can("channel.view_agent") and can("trade.view_order"):
        data["top_level"], data["teams"] = top_teams(levels, data["today"])
    if can("ledger.view_account") and can("ledger.view_withdrawal"):
        data["rewards"] = rewards_payable()
    if can("monitor.view_healthsnapshot"):
        data["health"] = channel_health()
    if can("growth.view_launchphase"):
        data["launch_phase"] = launch_phase(data["today"])
    return data


def dashboard_callback(request, context: dict) -> dict:
    """unfold's DASHBOARD_CALLBACK: adds the figures to the console index."""
    context["dashboard"] = dashboard(request.user)
    context["title"] = gettext("Dashboard")
    return context
