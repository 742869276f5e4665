"""The reward engine's read-only view of the channel, answered from the database.

``weishang.plans.engine`` asks ``HierarchyView`` questions (levels, referrer chains, period
figures); this class answers them with the channel's closure tables and the trade orders. It
caches per instance what does not change while one event is processed (levels, chains); create
a new view per event or per settlement run.

Figures follow plan-format.md: purchases are entry, upgrade and restock orders at the price the
buyer paid, counted when completed and not refunded; retail is shop orders sold by the agent;
periods are inclusive dates in the brand's time zone; a team is the agent plus everyone below in
the referrer tree.
"""

from __future__ import annotations

import decimal
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from weishang.channel.models import Agent, AgentStatus, Level, ReferrerLink
from weishang.core.db_threads import in_background, threads_allowed
from weishang.core.money import CENT
from weishang.trade import volume
from weishang.trade.models import Order, OrderKind
from weishang.trade.models.orders import VOLUME_KINDS
from weishang.trade.workflow import COUNTED_STATUSES

ZERO = Decimal("0.00")
# Completed orders that still count (a return asked for but not yet granted still counts).
COUNTED = COUNTED_STATUSES


def day_range(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in the current time zone, for inclusive plan dates."""
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


_FLOAT_SUMS = decimal.Context(prec=15)  # as Django's SQLite converter for a Sum of decimals


def _money(value) -> Decimal:
    """A SUM of money as SQLite returns it (int, or float: it adds decimals as floats)."""
    if isinstance(value, float):
        return _FLOAT_SUMS.create_decimal_from_float(value).quantize(CENT)
    return Decimal(value).quantize(CENT)


def _raw_rows(rows: QuerySet, chunk: int = 20000):
    """The tuples of a ``values_list`` query straight from the cursor: the ORM's SQL, without its
    per-row conversion (ints and strings come back as they are; callers convert the rest)."""
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(chunk):
            yield from batch


def _purchases() -> Q:
    return Q(kind__in=VOLUME_KINDS, status__in=COUNTED)


def _retail() -> Q:
    return Q(kind=OrderKind.RETAIL, status__in=COUNTED)


class DatabaseHierarchy:
    """``weishang.plans.engine.HierarchyView`` over the ORM."""

    def __init__(self) -> None:
        self._levels: dict[int, str] = {}
        self._active: dict[int, bool] = {}
        self._names: dict[int, str] = {}
        self._parents: dict[int, int | None] | None = None
        self._upward: list[tuple[int, int]] = []
        self._children: dict[int | None, list[int]] = {}
        self._totals: dict[tuple, dict[int, Decimal]] = {}

    # --- the tree -------------------------------------------------------------------------
    def level_of(self, agent: int) -> str:
        if agent not in self._levels:
            self._levels[agent] = Agent.objects.filter(pk=agent).values_list("level__code", flat=True).get()
        return self._levels[agent]

    def referrer_chain(self, agent: int, generations: int) -> list[int]:
        rows = (
            ReferrerLink.objects.filter(descendant_id=agent, depth__gt=0, depth__lte=generations)
            .order_by("depth")
            .values_list("ancestor_id", "ancestor__level__code")
        )
        chain = []
        for ancestor, level in rows:
            self._levels.setdefault(ancestor, level)
            chain.append(ancestor)
        return chain

    def is_active(self, agent: int) -> bool:
        if agent not in self._active:
            self._active[agent] = Agent.objects.filter(pk=agent, status=AgentStatus.ACTIVE).exists()
        return self._active[agent]

    def display_name(self, agent: int) -> str:
        if agent not in self._names:
            name = Agent.objects.filter(pk=agent).values_list("real_name", flat=True).first()
            self._names[agent] = name or f"#{agent}"
        return self._names[agent]

    def joined_at(self, agent: int) -> datetime:
        return Agent.objects.filter(pk=agent).values_list("joined_at", flat=True).get()

    def direct_referrals(self, agent: int) -> list[int]:
        if self._parents is not None:
            return list(self._children.get(agent, ()))
        return list(Agent.objects.filter(referrer_id=agent).order_by("pk").values_list("pk", flat=True))

    def supplier_of(self, agent: int) -> int | None:
        return Agent.objects.filter(pk=agent).values_list("supplier_id", flat=True).get()

    def direct_referrals_at_level(self, agent: int, level: str) -> int:
        return Agent.objects.filter(referrer_id=agent, level__code=level, status=AgentStatus.ACTIVE).count()

    def direct_referral_count(self, agent: int) -> int:
        return Agent.objects.filter(referrer_id=agent, status=AgentStatus.ACTIVE).count()

    # --- one agent's figures --------------------------------------------------------------
    def _sum(self, q: Q) -> Decimal:
        return Order.objects.filter(q).aggregate(s=Sum("total"))["s"] or ZERO

    def cumulative_purchase(self, agent: int) -> Decimal:
        return self._sum(_purchases() & Q(buyer_id=agent))

    def cumulative_spend(self, agent: int) -> Decimal:
        """Everything the member has bought (a social-mall member buys only for themself)."""
        return self.cumulative_purchase(agent)

    def cumulative_retail(self, agent: int) -> Decimal:
        return self._sum(_retail() & Q(seller_id=agent))

    def max_single_order(self, agent: int) -> Decimal:
        return Order.objects.filter(_purchases() & Q(buyer_id=agent)).aggregate(m=Max("total"))["m"] or ZERO

    def team_purchase(self, agent: int, start: date, end: date) -> Decimal:
        since, until = day_range(start, end)
        months = volume.whole_months(since, until)
        if months is not None:  # a plan's month, quarter or year: the rollup, caught up first
            volume.volume_process()
            return volume.team_volume_of(agent=agent, months=months)
        team = ReferrerLink.objects.filter(ancestor_id=agent).values("descendant_id")
        return self._sum(_purchases() & Q(buyer_id__in=team, completed_at__gte=since, completed_at__lt=until))

    # --- everyone's figures for a period (settlement) ---------------------------------------
    def _parent_map(self) -> dict[int, int | None]:
        """Load every agent once (settlement reads them all): parents, children, levels, status, names."""
        if self._parents is None:
            parents: dict[int, int | None] = {}
            children: dict[int | None, list[int]] = defaultdict(list)
            codes = dict(Level.objects.values_list("pk", "code"))
            active = AgentStatus.ACTIVE
            rows = Agent.objects.values_list("pk", "referrer_id", "level_id", "status", "real_name").order_by("pk")
            for pk, parent, level, status, name in _raw_rows(rows):
                parents[pk] = parent
                children[parent].append(pk)
                self._levels[pk] = codes[level]
                self._active[pk] = status == active
                self._names[pk] = name
            order: list[int] = list(children[None])
            for agent in order:  # breadth first from the roots; the list grows as it is walked
                order.extend(children.get(agent, ()))
            # (agent, referrer) pairs, children before parents: the order team totals add up in
            self._upward = [(agent, parents[agent]) for agent in reversed(order) if parents[agent] is not None]
            self._parents, self._children = parents, children
        return self._parents

    def _rollup(self, own: dict[int, Decimal]) -> dict[int, Decimal]:
        """Team totals from personal totals in one pass up the referrer tree (children before parents)."""
        self._parent_map()
        team: dict[int, Decimal] = dict.fromkeys(self._parents, ZERO)
        team.update(own)
        for agent, parent in self._upward:
            team[parent] += team[agent]
        return {agent: amount for agent, amount in team.items() if amount}

    def _grouped(self, q: Q, field: str) -> dict[int, Decimal]:
        """Σ total of the orders matching ``q`` per ``field`` (one GROUP BY), read without the ORM's
        per-row machinery (100,000 rows at settlement); SQLite's float sums become money as the
        ORM would make them."""
        rows = Order.objects.filter(q).values_list(field).annotate(s=Sum("total")).order_by().values_list(field, "s")
        sql, params = rows.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        if connection.vendor == "sqlite":
            return {agent: _money(amount) for agent, amount in found if agent is not None and amount}
        return {agent: amount for agent, amount in found if agent is not None and amount}

    def _grouped_by_period(self, q: Q, field: str, since: datetime, until: datetime) -> dict[int, Decimal]:
        """``_grouped`` over [since, until), while another thread loads the agents (``_parent_map``,
        which the engine needs next) on its own connection — when one may be used
        (``threads_allowed``: not inside a transaction); else the agents first, then the sums.

        The sums run on this thread's connection, whose page cache holds the orders when a
        settlement follows other reads of them; the database works outside the GIL meanwhile,
        so loading the agents costs the settlement almost nothing."""
        loading = None if self._parents is not None else in_background(self._parent_map, parallel=threads_allowed())
        totals = self._grouped(q & Q(completed_at__gte=since, completed_at__lt=until), field)
        if loading is not None:
            loading.result()
        return totals

    def metric_totals(self, metric: str, start: date, end: date) -> dict[int, Decimal]:
        """Every agent's figure for the period (memoised: the ladder, awards and reports share it)."""
        key = (metric, start, end)
        if key not in self._totals:
            self._totals[key] = self._metric_totals(metric, start, end)
        return self._totals[key]

    def _metric_totals(self, metric: str, start: date, end: date) -> dict[int, Decimal]:
        # The engine asks about every agent in the totals next: the agents are loaded while the
        # orders are summed (or first, for the other figures).
        since, until = day_range(start, end)
        if metric == "personal_purchase":
            return self._grouped_by_period(_purchases(), "buyer_id", since, until)
        if metric == "personal_retail":
            return self._grouped_by_period(_retail(), "seller_id", since, until)
        if metric == "team_purchase":  # the personal figures, rolled up the tree: one GROUP BY for both
            return self._rollup(self.metric_totals("personal_purchase", start, end))
        if metric == "team_retail":
            return self._rollup(self.metric_totals("personal_retail", start, end))
        self._parent_map()
        if metric == "new_referrals":
            rows = (
                Agent.objects.filter(joined_at__gte=since, joined_at__lt=until, referrer__isnull=False)
                .exclude(status=AgentStatus.APPLICANT)
                .values_list("referrer_id")
                .annotate(n=Count("pk"))
                .order_by()
            )
            return {agent: Decimal(n) for agent, n in rows}
        raise ValueError(f"unknown metric {metric!r}")
