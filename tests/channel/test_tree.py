"""The two agent trees (supplier and referrer): team and chain answers, moves, cycles, depth,
rebuild/verify and the ``weishang tree`` command.

Every answer is checked against the parent keys (the truth) recomputed naively here, as well as
against hand-written expectations for a small known tree.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import translation
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from weishang.channel import selectors, services, tree
from weishang.channel.models import Agent, AgentTrail, Level, ReferrerLink, SupplierLink, TrailKind
from weishang.channel.tree import CycleError, Relation
from weishang.core.errors import BusinessError
from weishang.trade import volume
from weishang.trade.models import Order, OrderKind, OrderStatus
from weishang.trade.selectors import team_purchase_volume

BOTH = list(Relation)
SHANGHAI = ZoneInfo("Asia/Shanghai")
_phones = itertools.count(1)
_order_numbers = itertools.count(1)


def phone() -> str:
    return f"139{next(_phones):08d}"


# --- helpers --------------------------------------------------------------------------------


def naive(relation: Relation) -> dict[int, tuple[set[int], list[int]]]:
    """For every agent: (team ids including the agent, chain above nearest first), walked from
    the parent keys alone."""
    parents = dict(Agent.objects.values_list("pk", relation.parent_field))
    chains: dict[int, list[int]] = {}
    for pk in parents:
        chain, node = [], parents[pk]
        while node is not None:
            assert node not in chain and node != pk, "cycle in the parent keys"
            chain.append(node)
            node = parents[node]
        chains[pk] = chain
    teams: dict[int, set[int]] = {pk: {pk} for pk in parents}
    for pk, chain in chains.items():
        for anc in chain:
            teams[anc].add(pk)
    return {pk: (teams[pk], chains[pk]) for pk in parents}


def assert_answers_right(relation: Relation) -> None:
    """Every selector answer for every agent equals the naive recomputation; verify() is clean."""
    for pk, (team, chain) in naive(relation).items():
        assert selectors.team_size(agent=pk, relation=relation) == len(team), (relation, pk)
        assert set(selectors.team_members(agent=pk, relation=relation).values_list("pk", flat=True)) == team - {pk}
        assert (
            set(selectors.team_members(agent=pk, relation=relation, include_self=True).values_list("pk", flat=True))
            == team
        )
        assert [a.pk for a in selectors.chain_above(agent=pk, relation=relation)] == chain, (relation, pk)
        assert selectors.tree_depth(agent=pk, relation=relation) == len(chain)
        for other in team:
            assert tree.is_in_team(relation, member_id=other, leader_id=pk)
    assert tree.verify(relation) == []


def links(relation: Relation) -> list[tuple[int, int, int]]:
    return sorted(relation.link_model.objects.values_list("ancestor_id", "descendant_id", "depth"))


def snapshot() -> tuple:
    """Everything a refused change must leave alone."""
    return (
        sorted(Agent.objects.values_list("pk", "supplier_id", "referrer_id", "introducer_id", "level_id", "status")),
        links(Relation.SUPPLIER),
        links(Relation.REFERRER),
        sorted(AgentTrail.objects.values_list("pk", "agent_id", "kind", "old_ref", "new_ref")),
    )


def ids(agents) -> list[int]:
    return [a.pk for a in agents]


@pytest.fixture
def agent(levels):
    """agent("vip", referrer=a, supplier=b): an active agent made by channel.services.agent_create
    (no password, so no slow hashing)."""

    def make(level: str = "vip", *, referrer=None, supplier="auto", name: str | None = None, **kw) -> Agent:
        lvl = level if isinstance(level, Level) else levels[level]
        return services.agent_create(
            phone=phone(),
            real_name=name or f"代理{next(_phones)}",
            level=lvl,
            referrer=referrer,
            supplier=supplier,
            entry_paid=True,
            **kw,
        )

    return make


@pytest.fixture
def forest(agent) -> dict[str, Agent]:
    """A known forest. Referrer tree (supplier resolved automatically unless noted):

        R 联创
        ├── A 总代
        │   ├── A1 省代
        │   │   └── A11 市代
        │   │       └── A111 特约
        │   └── A2 特约        supplier = B1 (explicit), not A
        └── B 总代
            └── B1 市代
        X 省代                  (separate root; supplier = company)

    So the supplier tree is the same except that A2 hangs under B1.
    """
    f: dict[str, Agent] = {}
    f["R"] = agent("partner", name="R")
    f["A"] = agent("general", referrer=f["R"], name="A")
    f["A1"] = agent("province", referrer=f["A"], name="A1")
    f["A11"] = agent("city", referrer=f["A1"], name="A11")
    f["A111"] = agent("vip", referrer=f["A11"], name="A111")
    f["B"] = agent("general", referrer=f["R"], name="B")
    f["B1"] = agent("city", referrer=f["B"], name="B1")
    f["A2"] = agent("vip", referrer=f["A"], supplier=f["B1"], name="A2")
    f["X"] = agent("province", name="X")
    return f


def team_names(f, leader: str, relation: Relation, **kw) -> set[str]:
    by_pk = {a.pk: name for name, a in f.items()}
    return {
        by_pk[pk]
        for pk in selectors.team_members(agent=f[leader], relation=relation, **kw).values_list("pk", flat=True)
    }


def chain_names(f, who: str, relation: Relation, **kw) -> list[str]:
    by_pk = {a.pk: name for name, a in f.items()}
    return [by_pk[a.pk] for a in selectors.chain_above(agent=f[who], relation=relation, **kw)]


# --- reading the trees ----------------------------------------------------------------------


def test_supplier_was_resolved_as_the_forest_says(forest):
    f = forest
    expected = {"R": None, "A": "R", "A1": "A", "A11": "A1", "A111": "A11", "B": "R", "B1": "B", "A2": "B1", "X": None}
    for name, sup in expected.items():
        f[name].refresh_from_db()
        assert f[name].supplier_id == (f[sup].pk if sup else None), name


@pytest.mark.parametrize(
    ("relation", "expected"),
    [
        (Relation.REFERRER, {"R": 8, "A": 5, "A1": 3, "A11": 2, "A111": 1, "A2": 1, "B": 2, "B1": 1, "X": 1}),
        (Relation.SUPPLIER, {"R": 8, "A": 4, "A1": 3, "A11": 2, "A111": 1, "A2": 1, "B": 3, "B1": 2, "X": 1}),
    ],
)
def test_team_size_counts_the_agent_and_everyone_below(forest, relation, expected):
    assert {name: selectors.team_size(agent=a, relation=relation) for name, a in forest.items()} == expected
    # An id works as well as an agent, and the referrer tree is the default (plan-format "Team").
    if relation is Relation.REFERRER:
        assert selectors.team_size(agent=forest["A"].pk) == 5


def test_team_members(forest):
    f = forest
    assert team_names(f, "A", Relation.REFERRER) == {"A1", "A11", "A111", "A2"}
    assert team_names(f, "A", Relation.REFERRER, include_self=True) == {"A", "A1", "A11", "A111", "A2"}
    assert team_names(f, "A", Relation.REFERRER, max_depth=1) == {"A1", "A2"}
    assert team_names(f, "A", Relation.REFERRER, max_depth=2) == {"A1", "A2", "A11"}
    assert team_names(f, "A", Relation.SUPPLIER) == {"A1", "A11", "A111"}
    assert team_names(f, "B", Relation.SUPPLIER) == {"B1", "A2"}
    assert team_names(f, "B", Relation.REFERRER) == {"B1"}
    assert team_names(f, "A111", Relation.REFERRER) == set()
    assert team_names(f, "X", Relation.SUPPLIER, include_self=True) == {"X"}


def test_chain_above_is_nearest_first(forest):
    f = forest
    assert chain_names(f, "A111", Relation.REFERRER) == ["A11", "A1", "A", "R"]
    assert chain_names(f, "A111", Relation.REFERRER, max_depth=2) == ["A11", "A1"]
    assert chain_names(f, "A2", Relation.REFERRER) == ["A", "R"]
    assert chain_names(f, "A2", Relation.SUPPLIER) == ["B1", "B", "R"]
    assert chain_names(f, "R", Relation.REFERRER) == []
    assert chain_names(f, "X", Relation.SUPPLIER) == []


def test_tree_depth(forest):
    depth = {name: selectors.tree_depth(agent=a, relation=Relation.SUPPLIER) for name, a in forest.items()}
    assert depth == {"R": 0, "A": 1, "A1": 2, "A11": 3, "A111": 4, "B": 1, "B1": 2, "A2": 3, "X": 0}
    assert selectors.tree_depth(agent=forest["A2"], relation=Relation.REFERRER) == 2


@pytest.mark.parametrize("relation", BOTH)
def test_every_answer_matches_the_parent_keys(forest, relation):
    assert_answers_right(relation)


def test_direct_team_lists_direct_members_with_their_team_sizes(forest):
    f = forest
    rows = list(selectors.direct_team(agent=f["A"], relation=Relation.REFERRER))
    # Ordered by level (highest first): A1 省代 before A2 特约; A11 (a grandchild) is not listed.
    assert [(r.real_name, r.team_size) for r in rows] == [("A1", 3), ("A2", 1)]
    rows = list(selectors.direct_team(agent=f["B"], relation=Relation.SUPPLIER))
    assert [(r.real_name, r.team_size) for r in rows] == [("B1", 2)]
    rows = list(selectors.direct_team(agent=f["R"], relation=Relation.SUPPLIER))
    assert [(r.real_name, r.team_size) for r in rows] == [("A", 4), ("B", 3)]
    assert list(selectors.direct_team(agent=f["A111"])) == []


# --- team purchase volume -------------------------------------------------------------------


def order(
    buyer: Agent,
    total: str,
    *,
    completed_at: datetime | None,
    kind: str = OrderKind.RESTOCK,
    status: str = OrderStatus.COMPLETED,
) -> Order:
    return Order.objects.create(
        number=f"T{next(_order_numbers):010d}",
        kind=kind,
        buyer=buyer,
        status=status,
        total=Decimal(total),
        completed_at=completed_at,
        target_level=buyer.level if kind == OrderKind.UPGRADE else None,
    )


@pytest.fixture
def period():
    start = datetime(2026, 3, 1, tzinfo=SHANGHAI)
    end = datetime(2026, 4, 1, tzinfo=SHANGHAI)
    return start, end


def test_team_purchase_volume_counts_the_teams_completed_orders_in_the_period(forest, period):
    f = forest
    start, end = period
    inside = start + timedelta(days=3)
    order(f["A"], "100.00", completed_at=inside)  # the agent themself
    order(f["A1"], "20.50", completed_at=start)  # first instant counts
    order(f["A111"], "3.25", completed_at=end - timedelta(seconds=1))  # deep member
    order(f["A2"], "7.00", completed_at=inside, kind=OrderKind.ENTRY)
    order(f["A2"], "8.00", completed_at=inside, kind=OrderKind.UPGRADE)
    # A return asked for but not granted still counts (as for the reward engine).
    order(f["A11"], "1000", completed_at=inside, status=OrderStatus.REFUND_REQUESTED)
    # Not counted:
    order(f["A1"], "1000", completed_at=end)  # end is excluded
    order(f["A1"], "1000", completed_at=start - timedelta(seconds=1))  # before the period
    order(f["A11"], "1000", completed_at=inside, status=OrderStatus.REFUNDED)
    order(f["A11"], "1000", completed_at=None, status=OrderStatus.PAID)
    order(f["A11"], "1000", completed_at=inside, kind=OrderKind.RETAIL)
    order(f["A11"], "1000", completed_at=inside, kind=OrderKind.PICKUP)
    order(f["R"], "1000", completed_at=inside)  # the upline's own order
    order(f["B1"], "1000", completed_at=inside)  # another team
    order(f["X"], "1000", completed_at=inside)  # another tree

    # The orders went in without their events: the monthly rollup is rebuilt from them, as after a
    # bulk load. A whole month reads the rollup, any other window the orders: both agree.
    volume.volume_rebuild()
    counted = Decimal("1138.75")
    for window in ((start, end), (start, end - timedelta(microseconds=1))):
        assert team_purchase_volume(agent=f["A"], start=window[0], end=window[1]) == counted
        assert team_purchase_volume(agent=f["A1"], start=window[0], end=window[1]) == Decimal("1023.75")
        assert team_purchase_volume(agent=f["A111"], start=window[0], end=window[1]) == Decimal("3.25")
        assert team_purchase_volume(agent=f["R"], start=window[0], end=window[1]) == counted + Decimal("2000")
    # The supplier tree has another team: A2 is supplied by B1, so its 15.00 goes to B's side.
    assert team_purchase_volume(agent=f["A"], start=start, end=end, relation=Relation.SUPPLIER) == Decimal("1123.75")
    assert team_purchase_volume(agent=f["B"], start=start, end=end, relation=Relation.SUPPLIER) == Decimal("1015.00")
    # A team without orders in the period has volume 0, not None.
    assert team_purchase_volume(agent=f["X"], start=end, end=end + timedelta(days=30)) == Decimal("0")


def test_team_purchase_volume_follows_a_move(forest, period):
    f = forest
    start, end = period
    order(f["A1"], "10", completed_at=start)
    order(f["A111"], "1", completed_at=start)
    order(f["A2"], "100", completed_at=start)
    volume.volume_rebuild()  # the orders went in without their events
    assert team_purchase_volume(agent=f["A"], start=start, end=end) == Decimal("111")
    services.agent_move(agent=f["A1"], relation=Relation.REFERRER, new_parent=f["B"])
    assert team_purchase_volume(agent=f["A"], start=start, end=end) == Decimal("100")
    assert team_purchase_volume(agent=f["B"], start=start, end=end) == Decimal("11")
    assert team_purchase_volume(agent=f["R"], start=start, end=end) == Decimal("111")
    assert volume.volume_differences() == []  # the move shifted the monthly rollup too


def test_team_sum_over_any_queryset(forest):
    f = forest
    for who, total in [("A", "1"), ("A11", "2"), ("A2", "4"), ("B", "8")]:
        order(f[who], total, completed_at=None, status=OrderStatus.SUBMITTED)
    qs = Order.objects.filter(status=OrderStatus.SUBMITTED)
    assert selectors.team_sum(agent=f["A"], queryset=qs, agent_field="buyer_id", amount_field="total") == Decimal(7)
    assert selectors.team_sum(
        agent=f["A"], queryset=qs, agent_field="buyer_id", amount_field="total", relation=Relation.SUPPLIER
    ) == Decimal(3)
    assert selectors.team_sum(
        agent=f["R"], queryset=qs.none(), agent_field="buyer_id", amount_field="total"
    ) == Decimal(0)


# --- moves ----------------------------------------------------------------------------------


def test_moving_an_agent_takes_the_whole_referrer_team_along(forest):
    f = forest
    supplier_before = links(Relation.SUPPLIER)
    services.agent_move(agent=f["A1"], relation=Relation.REFERRER, new_parent=f["B"], reason="team asked")
    assert team_names(f, "A", Relation.REFERRER) == {"A2"}
    assert team_names(f, "B", Relation.REFERRER) == {"B1", "A1", "A11", "A111"}
    assert chain_names(f, "A111", Relation.REFERRER) == ["A11", "A1", "B", "R"]
    assert selectors.tree_depth(agent=f["A111"], relation=Relation.REFERRER) == 4
    assert selectors.team_size(agent=f["R"]) == 8
    assert_answers_right(Relation.REFERRER)
    # The supplier tree did not move.
    assert links(Relation.SUPPLIER) == supplier_before
    f["A1"].refresh_from_db()
    assert (f["A1"].referrer_id, f["A1"].supplier_id) == (f["B"].pk, f["A"].pk)


def test_moving_an_agent_takes_the_whole_supply_team_along(forest):
    f = forest
    referrer_before = links(Relation.REFERRER)
    services.agent_move(agent=f["A1"], relation=Relation.SUPPLIER, new_parent=f["B"])
    assert team_names(f, "B", Relation.SUPPLIER) == {"B1", "A2", "A1", "A11", "A111"}
    assert team_names(f, "A", Relation.SUPPLIER) == set()
    assert chain_names(f, "A111", Relation.SUPPLIER) == ["A11", "A1", "B", "R"]
    assert_answers_right(Relation.SUPPLIER)
    assert links(Relation.REFERRER) == referrer_before


@pytest.mark.parametrize("relation", BOTH)
def test_moving_to_the_top_and_back(forest, relation):
    f = forest
    services.agent_move(agent=f["A"], relation=relation, new_parent=None)
    assert selectors.chain_above(agent=f["A111"], relation=relation)[-1] == f["A"]
    assert selectors.tree_depth(agent=f["A"], relation=relation) == 0
    assert selectors.team_size(agent=f["R"], relation=relation) == 8 - selectors.team_size(
        agent=f["A"], relation=relation
    )
    assert_answers_right(relation)
    services.agent_move(agent=f["A"], relation=relation, new_parent=f["R"])
    assert selectors.team_size(agent=f["R"], relation=relation) == 8
    assert_answers_right(relation)
    # X (a separate root) goes under R with its (empty) team, then R is in X's chain.
    services.agent_move(agent=f["X"], relation=relation, new_parent=f["R"])
    assert ids(selectors.chain_above(agent=f["X"], relation=relation)) == [f["R"].pk]
    assert_answers_right(relation)


def test_many_moves_in_a_row_keep_every_answer_right(forest):
    f = forest
    for who, relation, parent in [
        ("A11", Relation.REFERRER, "B1"),
        ("B", Relation.REFERRER, "A111"),  # refused: A111 is now in B's team (B → B1 → A11 → A111)
        ("A", Relation.REFERRER, None),
        ("R", Relation.REFERRER, "X"),
        ("A11", Relation.SUPPLIER, "B"),
        ("B1", Relation.SUPPLIER, "X"),
        ("A2", Relation.SUPPLIER, "A11"),
    ]:
        if who == "B" and parent == "A111":
            # A111 is now in B's referrer team (B → B1 → A11 → A111): a cycle, refused.
            with pytest.raises(BusinessError) as exc:
                services.agent_move(agent=f[who], relation=relation, new_parent=f[parent])
            assert exc.value.code == "cycle"
            continue
        services.agent_move(agent=f[who], relation=relation, new_parent=f[parent] if parent else None)
        assert_answers_right(relation)
    assert_answers_right(Relation.REFERRER)
    assert_answers_right(Relation.SUPPLIER)


@pytest.fixture
def deep_levels(levels) -> list[Level]:
    """Twelve levels, rank 1 (highest) … 12, so a supply chain can be 12 agents deep."""
    extra = [Level.objects.create(code=f"deep{r}", name=f"L{r}", rank=r, discount=Decimal("0.9")) for r in range(6, 13)]
    return [*levels.values(), *extra]


def deep_chain(agent, deep_levels, relation: Relation, n: int = 12) -> list[Agent]:
    """A chain of n agents, top first, in ``relation`` (the other tree is flat)."""
    chain: list[Agent] = []
    for i in range(n):
        above = chain[-1] if chain else None
        if relation is Relation.SUPPLIER:
            chain.append(agent(deep_levels[i], supplier=above, name=f"S{i}"))
        else:
            chain.append(agent("vip", referrer=above, supplier=None, name=f"R{i}"))
    return chain


def assert_cycle_refused(who: Agent, relation: Relation, new_parent: Agent) -> None:
    before = snapshot()
    with translation.override("en"), pytest.raises(BusinessError) as exc:
        services.agent_move(agent=who, relation=relation, new_parent=new_parent, reason="try")
    assert exc.value.code == "cycle"
    assert exc.value.field == relation.value
    message = str(exc.value.message)
    assert "cycle" in message and who.real_name in message and new_parent.real_name in message
    assert snapshot() == before


@pytest.mark.parametrize("relation", BOTH)
@pytest.mark.parametrize("target", [0, 1, 2, 5, 8, 11], ids=lambda d: f"depth{d}")
def test_a_move_under_oneself_or_ones_own_team_is_refused(agent, deep_levels, relation, target):
    chain = deep_chain(agent, deep_levels, relation)
    top = chain[0]
    assert selectors.team_size(agent=top, relation=relation) == 12
    assert_cycle_refused(top, relation, chain[target])
    # from the middle of the chain as well
    if target >= 3:
        assert_cycle_refused(chain[3], relation, chain[target])
    assert_answers_right(relation)


def test_two_moves_cannot_build_a_loop_between_them(forest):
    """B under A1 is fine; then A (or A1), now above B, under B1 (in B's team) is a cycle."""
    f = forest
    relation = Relation.REFERRER
    services.agent_move(agent=f["B"], relation=relation, new_parent=f["A1"])
    assert_cycle_refused(f["A"], relation, f["B1"])
    assert_cycle_refused(f["A1"], relation, f["B1"])
    assert_answers_right(relation)


@pytest.mark.parametrize("relation", BOTH)
def test_a_move_to_the_same_parent_changes_nothing(forest, relation):
    f = forest
    before = snapshot()
    services.agent_move(agent=f["A1"], relation=relation, new_parent=f["A"])
    services.agent_move(agent=f["R"], relation=relation, new_parent=None)
    assert snapshot() == before


@pytest.mark.parametrize("relation", BOTH)
def test_every_move_writes_one_trail_row(forest, relation):
    f = forest
    staff = get_user_model().objects.create_user(username="ops", password=None, is_staff=True)
    before = AgentTrail.objects.count()
    services.agent_move(agent=f["A1"], relation=relation, new_parent=f["B"], by=staff, reason="regional reshuffle")
    assert AgentTrail.objects.count() == before + 1
    row = AgentTrail.objects.filter(agent=f["A1"]).first()  # newest first
    assert row.kind == TrailKind(relation.value)
    assert (row.old_ref, row.new_ref) == (f["A"].pk, f["B"].pk)
    assert row.old_value == str(f["A"]) and row.new_value == str(f["B"])
    assert row.changed_by == staff
    assert row.reason == "regional reshuffle"

    # To the top: the new side is empty.
    services.agent_move(agent=f["A1"], relation=relation, new_parent=None, by=staff, reason="to company")
    assert AgentTrail.objects.count() == before + 2
    row = AgentTrail.objects.filter(agent=f["A1"]).first()
    assert (row.old_ref, row.new_ref, row.new_value) == (f["B"].pk, None, "")
    assert row.reason == "to company"

    # The team that moved along gets no rows of its own: only the moved agent changed parent.
    assert not AgentTrail.objects.filter(agent__in=[f["A11"], f["A111"]], kind=relation.value).exists()


def test_a_move_under_an_exited_agent_is_refused(forest):
    f = forest
    services.agent_change_status(agent=f["X"], action="exit")
    before = snapshot()
    with pytest.raises(BusinessError) as exc:
        services.agent_move(agent=f["A1"], relation=Relation.REFERRER, new_parent=f["X"])
    assert exc.value.field == "referrer"
    assert snapshot() == before


# --- property: random trees, random moves ---------------------------------------------------


@st.composite
def scenarios(draw):
    n = draw(st.integers(min_value=2, max_value=25))
    ranks = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))  # index into 6 levels, 0 highest
    ref_parent = [None] + [draw(st.one_of(st.none(), st.integers(0, i - 1))) for i in range(1, n)]
    sup_parent = []
    for i in range(n):
        higher = [j for j in range(i) if ranks[j] < ranks[i]]
        sup_parent.append(draw(st.one_of(st.none(), st.sampled_from(higher))) if higher else None)
    target = st.one_of(
        st.none(),  # to the top
        st.tuples(st.just("any"), st.integers(0, n - 1)),  # anyone (maybe oneself)
        st.tuples(st.just("team"), st.integers(0, 10_000)),  # someone in one's own team: a cycle
        st.tuples(st.just("parent"), st.just(0)),  # the current parent: a no-op
        st.tuples(st.just("higher"), st.integers(0, 10_000)),  # anyone of a higher level
    )
    moves = draw(st.lists(st.tuples(st.sampled_from(BOTH), st.integers(0, n - 1), target), min_size=1, max_size=30))
    return ranks, ref_parent, sup_parent, moves


def _subtree(parents: dict[int, int | None], leader: int) -> set[int]:
    team = {leader}
    changed = True
    while changed:
        changed = False
        for node, parent in parents.items():
            if parent in team and node not in team:
                team.add(node)
                changed = True
    return team


@pytest.fixture
def six_levels(levels) -> list[Level]:
    return [*levels.values(), Level.objects.create(code="l6", name="L6", rank=6, discount=Decimal("0.9"))]


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_random_trees_and_moves_match_a_naive_recomputation(six_levels, scenario):
    ranks, ref_parent, sup_parent, moves = scenario
    with transaction.atomic():  # a savepoint per example, rolled back at the end
        agents: list[Agent] = []
        for i, rank in enumerate(ranks):
            agents.append(
                services.agent_create(
                    phone=phone(),
                    real_name=f"H{i}",
                    level=six_levels[rank],
                    entry_paid=True,
                    referrer=agents[ref_parent[i]] if ref_parent[i] is not None else None,
                    supplier=agents[sup_parent[i]] if sup_parent[i] is not None else None,
                )
            )
        pk = [a.pk for a in agents]
        index = {p: i for i, p in enumerate(pk)}
        model = {
            Relation.REFERRER: {pk[i]: (pk[p] if p is not None else None) for i, p in enumerate(ref_parent)},
            Relation.SUPPLIER: {pk[i]: (pk[p] if p is not None else None) for i, p in enumerate(sup_parent)},
        }
        trail_before = AgentTrail.objects.count()
        done = 0
        for relation, who, spec in moves:
            parents = model[relation]
            me = pk[who]
            if spec is None:
                target = None
            elif spec[0] == "any":
                target = pk[spec[1]]
            elif spec[0] == "team":
                team = sorted(_subtree(parents, me))
                target = team[spec[1] % len(team)]
            elif spec[0] == "higher":
                higher = [pk[j] for j in range(len(pk)) if ranks[j] < ranks[who]] or [None]
                target = higher[spec[1] % len(higher)]
            else:
                target = parents[me]
            new_parent = agents[index[target]] if target is not None else None

            if target == parents[me]:
                expect = "noop"
            elif target is not None and target in _subtree(parents, me):
                expect = "cycle"
            elif relation is Relation.SUPPLIER and target is not None and not ranks[index[target]] < ranks[who]:
                expect = "level"
            else:
                expect = "move"
            event(f"{relation}: {expect}")

            if expect in {"cycle", "level"}:
                before = snapshot()
                with pytest.raises(BusinessError) as exc:
                    services.agent_move(agent=agents[who], relation=relation, new_parent=new_parent)
                assert exc.value.code == ("cycle" if expect == "cycle" else "invalid"), (expect, exc.value)
                assert snapshot() == before
                continue
            services.agent_move(agent=agents[who], relation=relation, new_parent=new_parent)
            if expect == "move":
                parents[me] = target
                done += 1

        # The parent keys are what the model says, and every answer follows from them.
        for relation in BOTH:
            assert dict(Agent.objects.filter(pk__in=pk).values_list("pk", relation.parent_field)) == model[relation]
            assert_answers_right(relation)
        assert AgentTrail.objects.count() == trail_before + done
        transaction.set_rollback(True)


# --- depth: no cap below 1,000 --------------------------------------------------------------


def test_a_referrer_chain_of_1001_agents(levels):
    n = 1001
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"deep{i}", phone=f"138{i:08d}", password="!") for i in range(n)])
    agents = Agent.objects.bulk_create(
        [
            Agent(user=u, real_name=f"D{i}", level=levels["vip"], status="active", invite_code=f"DEEP{i:06d}")
            for i, u in enumerate(users)
        ]
    )
    agents = list(Agent.objects.filter(invite_code__startswith="DEEP").order_by("pk"))
    for above, below in itertools.pairwise(agents):
        below.referrer = above
    Agent.objects.bulk_update(agents, ["referrer"], batch_size=500)
    tree.rebuild(Relation.REFERRER)
    tree.rebuild(Relation.SUPPLIER)
    assert tree.verify(Relation.REFERRER) == []

    top, bottom = agents[0], agents[-1]
    assert selectors.team_size(agent=top) == n
    chain = selectors.chain_above(agent=bottom)
    assert len(chain) == n - 1
    assert ids(chain) == [a.pk for a in reversed(agents[:-1])]
    assert selectors.tree_depth(agent=bottom) == n - 1

    # A new agent joins at the bottom through the service: depth 1,001.
    newcomer = services.agent_create(
        phone=phone(), real_name="new", level=levels["vip"], referrer=bottom, entry_paid=True
    )
    assert selectors.tree_depth(agent=newcomer) == n
    assert selectors.team_size(agent=top) == n + 1

    # A cycle from the very top to the very bottom is found at any depth.
    with pytest.raises(BusinessError) as exc:
        services.agent_move(agent=top, relation=Relation.REFERRER, new_parent=newcomer)
    assert exc.value.code == "cycle"

    # Move the bottom half (with the newcomer) under another root.
    other = services.agent_create(phone=phone(), real_name="other", level=levels["vip"], entry_paid=True)
    half = agents[n // 2]
    services.agent_move(agent=half, relation=Relation.REFERRER, new_parent=other)
    moved = n - n // 2 + 1  # half … bottom, plus the newcomer
    assert selectors.team_size(agent=other) == moved + 1
    assert selectors.team_size(agent=top) == n // 2
    assert ids(selectors.chain_above(agent=newcomer))[:2] == [bottom.pk, agents[-2].pk]
    assert ids(selectors.chain_above(agent=newcomer))[-2:] == [half.pk, other.pk]
    assert selectors.tree_depth(agent=newcomer) == moved
    assert tree.verify(Relation.REFERRER) == []
    assert tree.verify(Relation.SUPPLIER) == []


# --- rebuild, verify and `weishang tree` ------------------------------------------------------


def run_tree_command(action: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("tree", action, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_verify_is_clean_on_a_tree_built_by_the_services(forest):
    assert tree.verify(Relation.SUPPLIER) == []
    assert tree.verify(Relation.REFERRER) == []
    out, err = run_tree_command("verify")
    assert "every link matches" in out
    assert err == ""


@pytest.mark.parametrize("relation", BOTH)
def test_a_missing_link_is_found_and_rebuild_fixes_it(forest, relation):
    f = forest
    good = links(relation)
    relation.link_model.objects.filter(ancestor=f["A1"], descendant=f["A111"]).delete()
    problems = tree.verify(relation)
    assert problems == [f"{relation}: missing link {f['A1'].pk} → {f['A111'].pk} at depth 2"]
    with pytest.raises(CommandError):
        run_tree_command("verify")
    # The wrong answer a user would see before the rebuild:
    assert selectors.team_size(agent=f["A1"], relation=relation) == 2
    out, _ = run_tree_command("rebuild")
    assert f"{relation}: {len(good)} links" in out
    assert links(relation) == good
    assert selectors.team_size(agent=f["A1"], relation=relation) == 3
    run_tree_command("verify")  # no CommandError


@pytest.mark.parametrize(
    "corrupt",
    ["depth", "stray", "self", "many"],
)
def test_other_corruptions_are_found_and_fixed(forest, corrupt):
    f = forest
    good = {r: links(r) for r in BOTH}
    if corrupt == "depth":
        SupplierLink.objects.filter(ancestor=f["R"], descendant=f["A111"]).update(depth=7)
    elif corrupt == "stray":
        ReferrerLink.objects.create(ancestor=f["X"], descendant=f["B1"], depth=1)
    elif corrupt == "self":
        ReferrerLink.objects.filter(ancestor=f["A2"], descendant=f["A2"]).delete()
    else:
        ReferrerLink.objects.filter(depth__gt=0).delete()
    problems = tree.verify(Relation.SUPPLIER) + tree.verify(Relation.REFERRER)
    assert problems
    if corrupt == "depth":
        assert problems == [
            f"supplier: missing link {f['R'].pk} → {f['A111'].pk} at depth 4",
            f"supplier: stray link {f['R'].pk} → {f['A111'].pk} at depth 7",
        ]
    elif corrupt == "stray":
        assert problems == [f"referrer: stray link {f['X'].pk} → {f['B1'].pk} at depth 1"]
    elif corrupt == "self":
        assert problems == [f"referrer: missing link {f['A2'].pk} → {f['A2'].pk} at depth 0"]
    else:
        # R→A,A1,A11,A111,A2,B,B1 (7) + A→A1,A11,A111,A2 (4) + A1→A11,A111 (2) + A11→A111 + B→B1
        assert len(problems) == 15
        assert all(p.startswith("referrer: missing link") for p in problems)
    with pytest.raises(CommandError):
        run_tree_command("verify")
    for relation in BOTH:
        tree.rebuild(relation)
        assert links(relation) == good[relation]
    run_tree_command("verify")


def test_a_parent_key_changed_behind_the_index_is_found_and_rebuild_follows_the_key(forest):
    f = forest
    Agent.objects.filter(pk=f["A1"].pk).update(referrer=f["X"])  # bypasses the services
    assert tree.verify(Relation.REFERRER) != []
    with pytest.raises(CommandError):
        run_tree_command("verify")
    run_tree_command("rebuild")
    assert team_names(f, "X", Relation.REFERRER) == {"A1", "A11", "A111"}
    assert_answers_right(Relation.REFERRER)


def test_many_differences_are_summarised(agent):
    top = agent("vip", name="top", supplier=None)
    below = top
    for i in range(10):
        below = agent("vip", referrer=below, supplier=None, name=f"c{i}")
    ReferrerLink.objects.filter(depth__gt=0).delete()  # 55 links gone
    problems = tree.verify(Relation.REFERRER)
    assert len(problems) == 21
    assert problems[-1] == "referrer: 55 missing and 0 stray links in all"
    tree.rebuild(Relation.REFERRER)
    assert tree.verify(Relation.REFERRER) == []


def test_rebuild_refuses_a_cycle_in_the_parent_keys_and_keeps_the_index(forest):
    f = forest
    good = links(Relation.REFERRER)
    # A ⇄ A1 (only possible by bypassing the services)
    Agent.objects.filter(pk=f["A"].pk).update(referrer=f["A1"])
    with pytest.raises(CycleError):
        tree.rebuild(Relation.REFERRER)
    assert links(Relation.REFERRER) == good


def test_verify_reports_a_cycle_in_the_parent_keys(forest):
    f = forest
    Agent.objects.filter(pk=f["A"].pk).update(referrer=f["A1"])  # A ⇄ A1, bypassing the services
    problems = tree.verify(Relation.REFERRER)
    assert problems and any("cycle" in p for p in problems)
    with pytest.raises(CommandError):
        run_tree_command("verify")
