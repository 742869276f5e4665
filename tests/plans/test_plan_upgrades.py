"""Upgrades: the highest level an agent qualifies for, any/all, top-up and 推三升一."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from plans_testkit import at, order, plan_with, tree

from weishang.plans import Engine, load_plan

D = Decimal
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"

UPGRADES = """
upgrades:
  - to: city
    any:
      - cumulative_purchase: 2000
      - same_level_referrals: 3
    top_up: true
  - to: province
    all:
      - cumulative_purchase: 6000
      - direct_referrals: 2
  - to: general
    any:
      - single_order_amount: 20000
      - same_level_referrals: 3
      - team_volume: {period: month, amount: 200000}
    top_up: true
"""


def test_no_upgrade_when_nothing_is_met():
    view = tree({1: ("vip", None)})
    view.add_order(order("entry", "298", buyer=1))
    assert Engine(plan_with(UPGRADES)).upgrade_for(1, view, at=at("2025-03-20")) is None


def test_any_one_condition_suffices_and_top_up_is_the_entry_difference():
    view = tree({1: ("vip", None)})
    view.add_order(order("entry", "298", buyer=1))
    view.add_order(order("restock", "1800", buyer=1))
    decision = Engine(plan_with(UPGRADES)).upgrade_for(1, view, at=at("2025-03-20"))
    assert (decision.from_level, decision.to_level, decision.rule_index, decision.mode) == ("vip", "city", 0, "any")
    assert [c.key for c in decision.satisfied] == ["cumulative_purchase"]
    assert decision.satisfied[0].actual == "2098" and decision.satisfied[0].path == "upgrades[0].any[0]"
    assert decision.top_up == D("1702")  # city entry 2,000 − vip entry 298
    assert "需补差 1702.00 元" in decision.explanation_zh


def test_all_needs_every_condition():
    view = tree({1: ("city", None), 2: ("vip", 1)})
    view.add_order(order("restock", "6000", buyer=1))
    engine = Engine(plan_with(UPGRADES))
    assert engine.upgrade_for(1, view, at=at("2025-03-20")) is None  # one direct referral, two needed
    view.add_agent(3, "vip", referrer=1, joined_at=at("2025-03-01"))
    decision = engine.upgrade_for(1, view, at=at("2025-03-20"))
    assert (decision.to_level, decision.mode, decision.top_up) == ("province", "all", D(0))  # top_up: false
    assert [c.key for c in decision.satisfied] == ["cumulative_purchase", "direct_referrals"]


def test_the_highest_qualifying_level_wins():
    view = tree({1: ("vip", None)})
    view.add_order(order("upgrade", "20000", buyer=1))
    decision = Engine(plan_with(UPGRADES)).upgrade_for(1, view, at=at("2025-03-20"))
    assert decision.to_level == "general"  # also meets city (cumulative) — general ranks higher
    assert decision.top_up == D("19702")


def test_order_amount_counts_an_order_being_placed():
    view = tree({1: ("vip", None)})
    view.add_order(order("entry", "298", buyer=1))
    engine = Engine(plan_with(UPGRADES))
    assert engine.upgrade_for(1, view, order_amount=D("1000"), at=at("2025-03-20")) is None
    assert engine.upgrade_for(1, view, order_amount=D("1702"), at=at("2025-03-20")).to_level == "city"
    assert engine.upgrade_for(1, view, order_amount=D("20000"), at=at("2025-03-20")).to_level == "general"


def test_push_three_lift_one():
    """推三升一: three direct referrals at the agent's own level lift them one level, not more."""
    engine = Engine(plan_with(UPGRADES))
    view = tree({1: ("vip", None), 2: ("vip", 1), 3: ("vip", 1)})
    assert engine.upgrade_for(1, view, at=at("2025-03-20")) is None
    view.add_agent(4, "city", referrer=1, joined_at=at("2025-03-01"))  # not the same level
    assert engine.upgrade_for(1, view, at=at("2025-03-20")) is None
    view.add_agent(5, "vip", referrer=1, joined_at=at("2025-03-01"))
    decision = engine.upgrade_for(1, view, at=at("2025-03-20"))
    # the general rule also lists same_level_referrals: 3, but it lifts one level only
    assert decision.to_level == "city" and decision.satisfied[0].key == "same_level_referrals"
    assert decision.satisfied[0].actual == "3"
    # a province with three province referrals goes to general
    view = tree({1: ("province", None), 2: ("province", 1), 3: ("province", 1), 4: ("province", 1)})
    decision = engine.upgrade_for(1, view, at=at("2025-03-20"))
    assert (decision.to_level, decision.satisfied[0].key) == ("general", "same_level_referrals")


def test_team_volume_condition_uses_the_current_period():
    view = tree({1: ("province", None), 2: ("city", 1)})
    view.add_order(order("restock", "150000", buyer=2, when="2025-03-05"))
    view.add_order(order("restock", "15000", buyer=1, when="2025-02-25"))  # February: another period
    engine = Engine(plan_with(UPGRADES))
    assert engine.upgrade_for(1, view, at=at("2025-03-20")) is None  # March: 150,000
    view.add_order(order("restock", "50000", buyer=2, when="2025-03-18"))
    decision = engine.upgrade_for(1, view, at=at("2025-03-20"))
    assert decision.to_level == "general" and decision.satisfied[0].key == "team_volume"
    assert decision.satisfied[0].actual == "200000" and "2025-03-01" in decision.satisfied[0].note
    assert engine.upgrade_for(1, view, at=at("2025-04-02")) is None


def test_top_level_agents_never_upgrade():
    view = tree({1: ("partner", None)})
    view.add_order(order("restock", "999999", buyer=1))
    assert Engine(plan_with(UPGRADES)).upgrade_for(1, view, at=at("2025-03-20")) is None


def test_social_mall_upgrades_by_referrals_or_spending():
    plan = load_plan(EXAMPLES / "glow-social-mall.yaml")
    view = tree({1: ("member", None)})
    engine = Engine(plan)
    view.add_order(order("entry", "398", buyer=1))
    view.add_order(order("retail", "2602", buyer=1, bound=1))  # spending includes the member's own retail orders
    decision = engine.upgrade_for(1, view, at=at("2025-03-20"))
    assert (decision.to_level, decision.satisfied[0].key, decision.top_up) == ("shopkeeper", "cumulative_spend", 0)


def test_retail_first_upgrades_by_retail_sales():
    plan = load_plan(EXAMPLES / "glow-retail-first.yaml")
    view = tree({1: ("vip", None)})
    engine = Engine(plan)
    view.add_order(order("restock", "50000", buyer=1))  # buying stock does not upgrade
    assert engine.upgrade_for(1, view, at=at("2025-03-20")) is None
    view.add_order(order("retail", "10000", bound=1))
    assert engine.upgrade_for(1, view, at=at("2025-03-20")).to_level == "city"
    view.add_order(order("retail", "40000", seller=1))  # unbound customer served by the agent
    assert engine.upgrade_for(1, view, at=at("2025-03-20")).to_level == "province"  # ¥50,000 ≥ 30,000
    view.add_order(order("retail", "250000", seller=1))
    assert engine.upgrade_for(1, view, at=at("2025-03-20")).to_level == "partner"  # ¥300,000
