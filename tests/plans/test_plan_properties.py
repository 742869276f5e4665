"""Properties of the engine over random trees and ladders (hypothesis)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from plans_testkit import order, plan_with, tree

from weishang.plans import Engine, PeriodClosed

D = Decimal
MONTH = PeriodClosed(event_id="close:2025-03", period="month", start=date(2025, 3, 1), end=date(2025, 3, 31))
LEVELS = ["partner", "general", "province", "city", "vip"]

money = st.integers(min_value=0, max_value=50_000_000).map(lambda fen: D(fen) / 100)
rates = st.integers(min_value=0, max_value=2000).map(lambda bp: D(bp) / 10000)  # 0 … 20%


@st.composite
def ladders(draw):
    n = draw(st.integers(min_value=1, max_value=4))
    froms = sorted(draw(st.lists(st.integers(min_value=0, max_value=1_000_000), min_size=n, max_size=n, unique=True)))
    steps = sorted(draw(st.lists(rates, min_size=n, max_size=n)))
    return list(zip(froms, steps, strict=True))


@st.composite
def forests(draw):
    """{agent: (level, referrer)} with referrers among earlier agents, and purchases per agent."""
    n = draw(st.integers(min_value=1, max_value=25))
    spec = {}
    for agent in range(1, n + 1):
        referrer = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=agent - 1))) if agent > 1 else None
        spec[agent] = (draw(st.sampled_from(LEVELS)), referrer)
    purchases = draw(st.lists(st.tuples(st.integers(min_value=1, max_value=n), money), max_size=40))
    return spec, purchases


def ladder_plan(ladder, *, differential=True, rounding="down"):
    steps = "\n".join(f"      - {{from: {f}, rate: {r}}}" for f, r in ladder)
    return plan_with(
        f"rewards:\n  - id: team\n    type: team_volume\n    ladder:\n{steps}\n"
        f"    differential: {'true' if differential else 'false'}\n",
        rounding=rounding,
    )


def build(spec, purchases):
    view = tree(spec)
    for agent, amount in purchases:
        view.add_order(order("restock", amount, buyer=agent, when="2025-03-10"))
    return view


@settings(max_examples=150, deadline=None, database=None)
@given(forests(), ladders(), st.sampled_from(["down", "half_up", "half_even"]))
def test_differential_never_pays_more_than_the_top_rate_of_total_volume(forest, ladder, rounding):
    spec, purchases = forest
    plan = ladder_plan(ladder, rounding=rounding)
    view = build(spec, purchases)
    lines = Engine(plan).process(MONTH, view)
    total_volume = sum((amount for _, amount in purchases), D(0))
    top_rate = max(rate for _, rate in ladder)
    paid = sum((line.amount for line in lines), D(0))
    tolerance = D("0.005") * len(lines) if rounding != "down" else D(0)
    assert all(line.amount > 0 for line in lines)
    assert paid <= top_rate * total_volume + tolerance
    # exactly: each tree pays rate(V_root) × V_root, telescoped through the differential
    team = view.metric_totals("team_purchase", MONTH.start, MONTH.end)
    roots = [a for a, (_, ref) in spec.items() if ref is None]
    rule = plan.rewards[0]
    expected = D(0)
    for root in roots:
        found = rule.step_for(team.get(root, D(0)))
        if found is not None:
            expected += found[1].rate * team.get(root, D(0))
    full = sum((D(line.explanation["full_amount"]) for line in lines), D(0))
    # (lines that round to 0 are not emitted: each of those was under one fen)
    assert D(0) <= expected - full < D("0.01") * len(spec)


@settings(max_examples=100, deadline=None, database=None)
@given(forests(), ladders())
def test_without_differential_each_agent_gets_its_own_rate(forest, ladder):
    spec, purchases = forest
    plan = ladder_plan(ladder, differential=False)
    view = build(spec, purchases)
    lines = Engine(plan).process(MONTH, view)
    team = view.metric_totals("team_purchase", MONTH.start, MONTH.end)
    rule = plan.rewards[0]
    for line in lines:
        step = rule.step_for(team[line.beneficiary])[1]
        assert D(line.explanation["full_amount"]) == step.rate * team[line.beneficiary]


@settings(max_examples=100, deadline=None, database=None)
@given(forests(), ladders(), st.randoms(use_true_random=False))
def test_same_inputs_same_lines_whatever_the_order_of_the_order_book(forest, ladder, rnd):
    spec, purchases = forest
    plan = ladder_plan(ladder)
    first = Engine(plan).process(MONTH, build(spec, purchases))
    shuffled = list(purchases)
    rnd.shuffle(shuffled)
    second = Engine(plan).process(MONTH, build(spec, shuffled))
    assert first == second
    assert len({line.key for line in first}) == len(first)


@settings(max_examples=150, deadline=None, database=None)
@given(
    forests(),
    st.lists(rates, min_size=1, max_size=4),
    st.sampled_from(["same", "lower", "higher", "any"]),
    st.integers(min_value=1, max_value=25),
    money,
)
def test_referral_pays_at_most_the_sum_of_its_rates_and_never_twice(forest, gen_rates, test, buyer, amount):
    spec, _ = forest
    buyer = min(buyer, len(spec))
    rates_yaml = ", ".join(str(r) for r in gen_rates)
    plan = plan_with(f"rewards:\n  - {{id: ref, type: referral, referee_level: {test}, rates: [{rates_yaml}]}}\n")
    event = order("restock", amount, buyer=buyer)
    view = tree(spec)
    lines = Engine(plan).process(event, view)
    assert lines == Engine(plan).process(event, view)
    assert len({line.key for line in lines}) == len(lines)
    assert sum((line.amount for line in lines), D(0)) <= sum(gen_rates, D(0)) * amount
    chain = view.referrer_chain(buyer, len(gen_rates))
    for line in lines:
        assert chain[line.generation - 1] == line.beneficiary
        assert line.amount == (amount * gen_rates[line.generation - 1]).quantize(D("0.01"), rounding="ROUND_DOWN")
