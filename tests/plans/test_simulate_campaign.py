"""A campaign is a dated overlay on the plan, so the simulator models it: the months its dates
touch run on the plan with it laid over (its extra reward rules pay then, and only then); the
others run on the plan alone, and conservation holds every month."""

from __future__ import annotations

from decimal import Decimal

import pytest
from simulate_testkit import example_plan, example_scenario_path

from weishang.plans.campaign import parse_campaign
from weishang.plans.simulate import load_scenario, run_simulation
from weishang.plans.simulate.run import campaign_months

REBATE = """\
id: spring-rebate
name: 春季返利
starts: {starts}
ends: {ends}
offers:
  rewards:
    - {{id: spring-rebate, name: 春季返利, type: self_purchase_rebate, rate: 0.05}}
"""


def scenario():
    base = load_scenario(example_scenario_path("glow-tiered"))
    return base.model_copy(update={"market_size": 6000, "months": 6})


def test_the_months_a_campaign_touches():
    sc = scenario()
    year, month = (int(x) for x in sc.start.split("-"))
    second = f"{year + (month // 12)}-{month % 12 + 1:02d}"
    overlay = parse_campaign(REBATE.format(starts=f"{second}-20", ends=f"{second}-28"))
    months = campaign_months(example_plan("glow-tiered"), [overlay], start=sc.start, months=6)
    assert list(months) == [2]
    assert "spring-rebate" in {rule.id for rule in months[2].rewards}


def test_a_campaigns_rule_pays_in_its_month_only_and_the_money_balances():
    sc = scenario()
    year, month = (int(x) for x in sc.start.split("-"))
    second = f"{year + (month // 12)}-{month % 12 + 1:02d}"
    overlay = parse_campaign(REBATE.format(starts=f"{second}-01", ends=f"{second}-28"))
    plan = example_plan("glow-tiered")
    without = run_simulation(plan, sc, lint=False)
    with_it = run_simulation(plan, sc, lint=False, campaigns=[overlay])
    by_rule = with_it.report["funding"]["by_rule"]
    assert Decimal(by_rule["spring-rebate"]) > 0 and "spring-rebate" not in without.report["funding"]["by_rule"]
    assert with_it.report["conservation"]["all_balanced"]
    # the month before the campaign is the same in both runs (same seed, same plan until then)
    assert with_it.market.monthly[0] == without.market.monthly[0]
    assert with_it.market.monthly[1] != without.market.monthly[1]


def test_an_exact_replay_refuses_campaigns():
    sc = scenario()
    overlay = parse_campaign(REBATE.format(starts=f"{sc.start}-01", ends=f"{sc.start}-10"))
    with pytest.raises(ValueError, match="record"):
        run_simulation(example_plan("glow-tiered"), sc, lint=False, record=True, campaigns=[overlay], months=2)
