"""The team-volume rollup (``TeamVolume``): who keeps it, and how it is read and verified.

- ``volume_process`` follows the outbox (``order.completed`` adds the order's total, and
  ``order.refunded`` of an order that had completed takes it back, in the month of its
  completion, China time) and adds each batch to the buyer and every ancestor through the
  referrer closure table in one bulk UPSERT. Its cursor makes it idempotent: each event is
  read once. It runs right after the commit that wrote the events (inline, installed in
  ``trade.apps``) and from ``weishang volume process``.
- ``volume_shift`` is installed into ``channel.tree.move`` for the referrer tree: in the move's
  transaction, every month of the moved agent's team volume is taken from the old ancestors
  and added to the new ones (all months: the rollup is the team as it stands now, as the
  direct query over the closure table always was).
- ``team_volume_of`` reads whole months; ``whole_months`` says whether a window is whole months.
- ``volume_expected`` / ``volume_verify`` / ``volume_rebuild`` recompute it from the orders and
  the referrer parent keys (``weishang volume verify [--fix]``, ``weishang volume rebuild``).

An event committed after a later one was read is skipped by a cursor (``core.outbox.outbox_follow``):
``weishang volume verify --fix`` heals it; docs/decisions.md says why that is the trade-off.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from weishang.channel import tree
from weishang.channel.models import Agent, ReferrerLink
from weishang.channel.tree import Relation
from weishang.core import bulk
from weishang.core.models import OutboxCursor, OutboxEvent
from weishang.core.money import to_money
from weishang.core.outbox import outbox_follow
from weishang.trade.models import VOLUME_KINDS, Order, TeamVolume
from weishang.trade.workflow import COUNTED_STATUSES

CONSUMER = "team_volume"
TOPICS = ("order.completed", "order.refunded")
BATCH = 2000
ZERO = Decimal("0.00")
MAX_MONTHS = 240  # a window longer than this is summed from the orders


# --- months ----------------------------------------------------------------------------------


def month_of(at: datetime) -> str:
    """``YYYY-MM`` of ``at`` in China time (the project's time zone, as the plan periods)."""
    return timezone.localtime(at, timezone.get_default_timezone()).strftime("%Y-%m")


def month_start(month: str) -> datetime:
    year, mon = map(int, month.split("-"))
    return datetime(year, mon, 1, tzinfo=timezone.get_default_timezone())


def _next(month: str) -> str:
    year, mon = map(int, month.split("-"))
    return f"{year + (mon == 12):04d}-{mon % 12 + 1:02d}"


def whole_months(start: datetime, end: datetime) -> list[str] | None:
    """The months [start, end) covers exactly (both at a month's first midnight, China time), or None."""
    if start >= end:
        return None
    tz = timezone.get_default_timezone()
    first, last = timezone.localtime(start, tz), timezone.localtime(end, tz)
    for moment in (first, last):
        if (moment.day, moment.hour, moment.minute, moment.second, moment.microsecond) != (1, 0, 0, 0, 0):
            return None
    months, month, stop = [], first.strftime("%Y-%m"), last.strftime("%Y-%m")
    while month != stop:
        months.append(month)
        if len(months) > MAX_MONTHS:
            return None
        month = _next(month)
    return months


def month_range(months: Iterable[str]) -> tuple[datetime, datetime]:
    ordered = sorted(months)
    return month_start(ordered[0]), month_start(_next(ordered[-1]))


# --- reading ---------------------------------------------------------------------------------


def team_volume_of(*, agent: Agent | int, months: list[str]) -> Decimal:
    """The team's purchase volume over whole ``months`` (the agent included), from the rollup."""
    total = TeamVolume.objects.filter(agent_id=getattr(agent, "pk", agent), month__in=months).aggregate(t=Sum("team"))[
        "t"
    ]
    return to_money(total if total is not None else 0)


# --- the follower ----------------------------------------------------------------------------


def _apply(deltas: dict[tuple[int, str], Decimal]) -> None:
    """Add each (buyer, month) delta to the buyer's own and team figures and to every ancestor's
    team figure: one INSERT … SELECT over the closure table, ON CONFLICT adding to the row."""
    deltas = {key: d for key, d in deltas.items() if d}
    if not deltas:
        return
    qn = connection.ops.quote_name
    table, links = qn(TeamVolume._meta.db_table), qn(ReferrerLink._meta.db_table)
    upsert = (
        f"ON CONFLICT (agent_id, month) DO UPDATE SET own = {table}.own + excluded.own, "
        f"team = {table}.team + excluded.team"
    )
    select = (
        f"INSERT INTO {table} (agent_id, month, own, team) "
        "SELECT l.ancestor_id, v.month, SUM(CASE WHEN l.depth = 0 THEN v.d ELSE 0 END), SUM(v.d) FROM {values} "
        f"JOIN {links} l ON l.descendant_id = v.agent WHERE true GROUP BY l.ancestor_id, v.month {upsert}"
    )
    keys = sorted(deltas)  # a fixed order: concurrent writers lock rows in the same order
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                select.format(values="unnest(%s::bigint[], %s::text[], %s::numeric[]) AS v(agent, month, d)"),
                [[a for a, _m in keys], [m for _a, m in keys], [deltas[k] for k in keys]],
            )
        else:
            values = (
                "(SELECT json_extract(value, '$[0]') AS agent, json_extract(value, '$[1]') AS month, "
                "CAST(json_extract(value, '$[2]') AS REAL) AS d FROM json_each(%s)) AS v"
            )
            cursor.execute(select.format(values=values), [json.dumps([[a, m, str(deltas[a, m])] for a, m in keys])])


def _handle(events: list[OutboxEvent]) -> None:
    numbers = {e.payload.get("order") for e in events}
    orders = {
        number: (buyer, kind, total, completed)
        for number, buyer, kind, total, completed in Order.objects.filter(number__in=numbers).values_list(
            "number", "buyer_id", "kind", "total", "completed_at"
        )
    }
    deltas: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for event in events:
        found = orders.get(event.payload.get("order"))
        if found is None:
            continue
        buyer, kind, total, completed = found
        # A refund of an order that never completed (a stuck order's) took nothing away from the volume.
        if buyer is None or kind not in VOLUME_KINDS or completed is None:
            continue
        deltas[buyer, month_of(completed)] += total if event.topic == "order.completed" else -total
    _apply(deltas)


def _pending() -> bool:
    position = OutboxCursor.objects.filter(name=CONSUMER).values_list("position", flat=True).first() or 0
    return OutboxEvent.objects.filter(pk__gt=position, topic__in=TOPICS).exists()


def volume_process(*, limit: int | None = None) -> int:
    """Add the order events not yet read to the rollup, oldest first; returns how many were read.

    Each batch holds the tree locks (supplier, then referrer: the order every tree writer takes
    them in, before the follower's cursor), so that no referrer move runs between reading the
    closure table and adding to the rows it names."""
    read = 0
    while (limit is None or read < limit) and _pending():
        with transaction.atomic():
            tree.lock(Relation.SUPPLIER)
            tree.lock(Relation.REFERRER)
            n = outbox_follow(CONSUMER, TOPICS, _handle, batch=BATCH if limit is None else min(BATCH, limit - read))
        if not n:
            break
        read += n
    return read


def volume_process_inline() -> int:
    """Run by the outbox right after a transaction that wrote events commits."""
    return volume_process(limit=10 * BATCH)


def volume_shift(agent_id: int, sign: int) -> None:
    """``channel.tree.move``'s listener: add ``sign`` × the agent's team volume, month by month,
    to every ancestor the agent has at this moment (−1 before the move, +1 after)."""
    qn = connection.ops.quote_name
    table, links = qn(TeamVolume._meta.db_table), qn(ReferrerLink._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (agent_id, month, own, team) "
            f"SELECT l.ancestor_id, m.month, 0, m.team * %s FROM {table} m "
            f"JOIN {links} l ON l.descendant_id = m.agent_id AND l.depth > 0 "
            f"WHERE m.agent_id = %s AND m.team <> 0 "
            f"ON CONFLICT (agent_id, month) DO UPDATE SET team = {table}.team + excluded.team",
            [sign, agent_id],
        )


# --- recompute, verify, rebuild ----------------------------------------------------------------


def volume_expected() -> dict[tuple[int, str], tuple[Decimal, Decimal]]:
    """{(agent, month): (own, team)} recomputed from the orders and the referrer parent keys
    (one GROUP BY over the counted orders, one pass up the tree per month); zero rows left out."""
    tz = timezone.get_default_timezone()
    own: dict[str, dict[int, Decimal]] = defaultdict(dict)
    rows = (
        Order.objects.filter(
            kind__in=VOLUME_KINDS, status__in=COUNTED_STATUSES, buyer__isnull=False, completed_at__isnull=False
        )
        .annotate(m=TruncMonth("completed_at", tzinfo=tz))
        .values_list("buyer_id", "m")
        .annotate(s=Sum("total"))
        .order_by()
    )
    for buyer, month, amount in rows:
        if amount:
            own[timezone.localtime(month, tz).strftime("%Y-%m") if timezone.is_aware(month) else f"{month:%Y-%m}"][
                buyer
            ] = to_money(amount)
    if not own:
        return {}
    parents = dict(Agent.objects.values_list("pk", "referrer_id").order_by())
    children: dict[int | None, list[int]] = defaultdict(list)
    for agent, parent in parents.items():
        children[parent].append(agent)
    order = list(children[None])
    for agent in order:  # breadth first from the roots
        order.extend(children.get(agent, ()))
    upward = [(agent, parents[agent]) for agent in reversed(order) if parents[agent] is not None]
    expected: dict[tuple[int, str], tuple[Decimal, Decimal]] = {}
    for month, mine in own.items():
        team = dict(mine)
        for agent, parent in upward:
            amount = team.get(agent)
            if amount:
                team[parent] = team.get(parent, ZERO) + amount  # type: ignore[index]  # parent is not None here
        for agent, amount in team.items():
            expected[agent, month] = (mine.get(agent, ZERO), amount)
    return expected


def volume_differences() -> list[str]:
    """Each (agent, month) whose stored own or team figure differs from the recomputed one."""
    expected = volume_expected()
    stored = {
        (agent, month): (to_money(o), to_money(t))
        for agent, month, o, t in TeamVolume.objects.values_list("agent_id", "month", "own", "team").order_by()
        if o or t
    }
    problems = []
    for key in sorted(expected.keys() | stored.keys()):
        want, have = expected.get(key, (ZERO, ZERO)), stored.get(key, (ZERO, ZERO))
        if want != have:
            problems.append(
                f"agent {key[0]} {key[1]}: stored own {have[0]} team {have[1]}, "
                f"from the orders own {want[0]} team {want[1]}"
            )
    return problems


@transaction.atomic
def volume_rebuild() -> int:
    """Replace the rollup with the recomputed figures and move the follower's cursor to the last
    order event (the figures include every order up to now); returns the rows written."""
    tree.lock(Relation.SUPPLIER)  # no move meanwhile
    tree.lock(Relation.REFERRER)
    if connection.vendor == "postgresql":  # no order event may commit between the recount and the cursor
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(Order._meta.db_table)} IN SHARE MODE")
    last = OutboxEvent.objects.filter(topic__in=TOPICS).order_by("-pk").values_list("pk", flat=True).first() or 0
    expected = volume_expected()
    TeamVolume.objects.all().delete()
    bulk.insert_rows(
        TeamVolume,
        ["agent", "month", "own", "team"],
        ((agent, month, own, team) for (agent, month), (own, team) in sorted(expected.items())),
    )
    OutboxCursor.objects.update_or_create(name=CONSUMER, defaults={"position": last})
    return len(expected)
