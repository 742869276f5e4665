"""The vectorised model pays exactly what the production engine pays, to the fen.

Each run is recorded and replayed event by event through ``Engine`` over an
``InMemoryHierarchy`` (``weishang.plans.simulate.exact``); per agent and per rule the totals
must be identical, the engine must make the model's upgrade decisions, and the buyback lots
the replay builds from its own order history must give the model's buybacks.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from simulate_testkit import EXAMPLE_NAMES, SMALL, example_plan, kitchen, kitchen_mall, scenario

from weishang.plans.simulate import compare, replay, run_simulation


def _crosscheck(plan, sc):
    result = run_simulation(plan, sc, record=True, lint=False)
    market = result.market
    exact = replay(plan, market)
    assert compare(market, exact) == []
    assert exact.upgrade_mismatches == []
    return result, market, exact


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_each_example_plan_pays_what_the_engine_pays(name):
    plan = example_plan(name)
    result, market, exact = _crosscheck(plan, scenario(SMALL[name]))
    assert 200 <= market.n <= 700  # a few hundred agents
    # every reward rule of the plan paid something, and so did margins
    paid = {rule for rule, total in market.rule_totals.items() if total > 0}
    assert {rule.id for rule in plan.rewards} <= paid
    assert exact.upgrade_checks > 1000
    assert any(entry[0] == "level" for entry in market.log)
    # the report's totals are the engine's totals
    for rule, amount in result.report["funding"]["by_rule"].items():
        engine_total = sum((v for (_a, r), v in exact.totals.items() if r == rule), Decimal(0))
        assert Decimal(amount) == engine_total


def test_tiered_example_buys_back_stock_on_exit():
    plan = example_plan("glow-tiered")
    _result, market, exact = _crosscheck(plan, scenario(SMALL["glow-tiered"]))
    assert exact.by_kind["buyback"] > 0
    assert market.rule_totals["returns"] == int(exact.by_kind["buyback"] * 100)
    assert exact.by_kind["prize"] > 0


@pytest.mark.parametrize("build", [kitchen, kitchen_mall], ids=["tiered-options", "mall-options"])
def test_every_rule_option_matches_the_engine(build):
    plan, sc = build()
    _result, market, exact = _crosscheck(plan, sc)
    paid = {rule for rule, total in market.rule_totals.items() if total > 0}
    assert {rule.id for rule in plan.rewards} <= paid
    assert "returns" in paid
    if plan.kind == "tiered":
        # rewards paid by uplines are taken from them, as the engine's payer says
        assert sum(exact.paid_by_agents.values()) > 0
        assert int(market.paid_upline[: market.n].sum()) == int(sum(exact.paid_by_agents.values()) * 100)


def test_replay_needs_a_recorded_run():
    plan = example_plan("glow-retail-first")
    result = run_simulation(plan, scenario(SMALL["glow-retail-first"]), months=3, lint=False)
    with pytest.raises(ValueError, match="record=True"):
        replay(plan, result.market)


def test_compare_reports_a_difference_to_the_fen():
    plan = example_plan("glow-retail-first")
    result = run_simulation(plan, scenario(SMALL["glow-retail-first"]), months=6, record=True, lint=False)
    exact = replay(plan, result.market)
    agent = int(result.market.recv_rule["retail-share"][: result.market.n].argmax())
    result.market.recv_rule["retail-share"][agent] += 1
    problems = compare(result.market, exact)
    assert len(problems) == 1 and problems[0].startswith(f"retail-share: agent {agent}:")
