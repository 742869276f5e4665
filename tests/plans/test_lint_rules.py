"""Every text rule of the linter: a small plan that triggers it and a near miss that does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from lint_testkit import REMINDERS, hits, lint, plan, rules

from weishang.plans import load_plan
from weishang.plans.lint import RULES, rule_by_id

LINT_PLANS = Path(__file__).resolve().parent / "lint_plans"

PAID_VIP = """\
levels:
  - {code: partner, name: 合伙人, entry: {free: true}, discount: 0.80}
  - {code: vip, name: 特约, entry: {first_order_amount: 298}, discount: 0.80}
"""
GIFT_VIP = """\
levels:
  - {code: partner, name: 合伙人, entry: {free: true}, discount: 0.80}
  - {code: vip, name: 会员, entry: {gift_pack: GIFT}, discount: 0.80}
prices:
  GIFT: {retail: 398}
"""


def test_the_lawful_base_plan_has_only_reminders():
    report = lint(plan(), "all")
    assert rules(report) == REMINDERS
    assert {f.severity for f in report.findings} == {"INFO"}
    assert not report.blocking


# --- CN-FEE -----------------------------------------------------------------------------


def test_cn_fee_entry_order_gift_pack_paid_upgrade_and_top_up():
    report = lint(plan(levels=PAID_VIP), "cn")
    assert hits(report, "CN-FEE") == [("levels[1].entry.first_order_amount", "CRIT")]
    report = lint(plan(levels=GIFT_VIP), "cn")
    assert hits(report, "CN-FEE") == [("levels[1].entry.gift_pack", "CRIT")]
    f = report.by_rule("CN-FEE")[0]
    assert "GIFT (¥398)" in f.message_en and "free: true" in f.message_en and "大礼包" in f.message_zh
    upgrades = """\
    upgrades:
      - to: partner
        any: [{cumulative_purchase: 5000}, {single_order_amount: 3000}, {cumulative_spend: 800}]
    """
    report = lint(plan(upgrades=upgrades), "cn")
    assert hits(report, "CN-FEE") == [
        ("upgrades[0].any[0]", "CRIT"),
        ("upgrades[0].any[1]", "CRIT"),
        ("upgrades[0].any[2]", "CRIT"),
    ]
    assert "retail_sales: 5000" in report.by_rule("CN-FEE")[0].message_en
    paid_partner = """\
    levels:
      - {code: partner, name: 合伙人, entry: {first_order_amount: 5000}, discount: 0.80}
      - {code: vip, name: 特约, entry: {free: true}, discount: 0.80}
    """
    top_up = "upgrades:\n  - {to: partner, any: [{retail_sales: 10000}], top_up: true}\n"
    report = lint(plan(levels=paid_partner, upgrades=top_up), "cn")
    assert ("upgrades[0].top_up", "CRIT") in hits(report, "CN-FEE")


def test_cn_fee_near_misses():
    zero = """\
    levels:
      - {code: partner, name: 合伙人, entry: {free: true}, discount: 0.80}
      - {code: vip, name: 特约, entry: {first_order_amount: 0}, discount: 0.80}
    """
    assert hits(lint(plan(levels=zero), "cn"), "CN-FEE") == []
    # top_up to a free level costs nothing; upgrading by retail sales buys nothing
    top_up = "upgrades:\n  - {to: partner, any: [{retail_sales: 10000}], top_up: true}\n"
    assert hits(lint(plan(upgrades=top_up), "cn"), "CN-FEE") == []


# --- CN-HEAD ----------------------------------------------------------------------------


def test_cn_head_per_head_push_three_direct_referrals_and_recruit_awards():
    rewards = """\
    rewards:
      - {id: gift, type: referral, base: per_head, amounts: [100, 20]}
      - {id: recruit-star, type: target_award, metric: new_referrals, threshold: 5, prize: {kind: cash, amount: 500}}
    """
    upgrades = """\
    upgrades:
      - to: partner
        any: [{same_level_referrals: 3}, {direct_referrals: 10}]
    """
    report = lint(plan(rewards=rewards, upgrades=upgrades), "cn")
    assert hits(report, "CN-HEAD") == [
        ("rewards[0].base", "CRIT"),
        ("rewards[1].metric", "CRIT"),
        ("upgrades[0].any[0]", "CRIT"),
        ("upgrades[0].any[1]", "CRIT"),
    ]
    push3 = report.by_rule("CN-HEAD")[2]
    assert "推三升一" in push3.message_en and "retail sales to customers instead of by headcount" in push3.message_en


def test_cn_head_near_miss_pays_on_purchases_not_heads():
    rewards = """\
    rewards:
      - {id: ref, type: referral, rates: [0.05]}
      - {id: star, type: target_award, metric: personal_retail, threshold: 5000, prize: {kind: cash, amount: 500}}
    """
    report = lint(plan(rewards=rewards), "cn")
    assert hits(report, "CN-HEAD") == []
    assert hits(report, "CN-TEAM") == [("rewards[0].rates", "HIGH")]


# --- CN-TEAM ----------------------------------------------------------------------------


def test_cn_team_high_on_others_purchases_crit_when_the_base_is_headcount():
    rewards = """\
    rewards:
      - {id: peer, type: referral, referee_level: same, rates: [0.05, 0.02]}
      - {id: gift, type: referral, base: per_head, amounts: [100]}
      - {id: share, type: retail_commission, rates: [0.10, 0.03]}
      - id: ladder
        type: team_volume
        ladder: [{from: 1000, rate: 0.03}]
      - {id: team-trip, type: target_award, metric: team_purchase, threshold: 9000, prize: {kind: trip, cost: 900}}
      - {id: recruits, type: target_award, metric: new_referrals, threshold: 3, prize: {kind: cash, amount: 300}}
    """
    upgrades = """\
    upgrades:
      - to: partner
        any: [{team_volume: {period: month, amount: 50000}}]
    """
    report = lint(plan(rewards=rewards, upgrades=upgrades), "cn")
    assert hits(report, "CN-TEAM") == [
        ("rewards[1].base", "CRIT"),
        ("rewards[5].metric", "CRIT"),
        ("rewards[0].rates", "HIGH"),
        ("rewards[2].rates[1]", "HIGH"),
        ("rewards[3].type", "HIGH"),  # metric left to its default: the finding points at the rule's type
        ("rewards[4].metric", "HIGH"),
        ("upgrades[0].any[0]", "HIGH"),
    ]
    peer = report.by_rule("CN-TEAM")[2]
    assert "平级奖" in peer.message_en and "rates: [x]" in peer.message_en


def test_cn_team_near_miss_own_customers_only():
    rewards = """\
    rewards:
      - {id: share, type: retail_commission, rates_by_level: {partner: [0.12, 0], vip: [0.10]}}
      - {id: rebate, type: self_purchase_rebate, rate: 0.05}
      - {id: star, type: target_award, metric: personal_retail, threshold: 5000, prize: {kind: cash, amount: 500}}
    """
    assert hits(lint(plan(rewards=rewards), "cn"), "CN-TEAM") == []


def test_cn_team_on_a_second_level_share_by_level_points_at_the_rate():
    rewards = """\
    rewards:
      - {id: share, type: retail_commission, rates_by_level: {partner: [0.12, 0.03], vip: [0.10]}}
    """
    report = lint(plan(rewards=rewards), "cn")
    assert hits(report, "CN-TEAM") == [("rewards[0].rates_by_level.partner[1]", "HIGH")]
    assert "rates: [0.12]" in report.by_rule("CN-TEAM")[0].message_en


# --- CN-LOCK ----------------------------------------------------------------------------


def test_cn_lock_upline_supply_with_price_tiers():
    tiers = """\
    levels:
      - {code: partner, name: 合伙人, entry: {free: true}, discount: 0.60}
      - {code: vip, name: 特约, entry: {free: true}, discount: 0.80}
    """
    for top in ("supply: cloud\n", "supply: nearest_higher_upline\n"):
        report = lint(plan(levels=tiers, top=top), "cn")
        assert hits(report, "CN-LOCK") == [("supply", "HIGH")]
        assert report.by_rule("CN-LOCK")[0].line == 5
    # supply left to its default (nearest_higher_upline): the path names the key, no line
    report = lint(plan(levels=tiers, top=""), "cn")
    assert hits(report, "CN-LOCK") == [("supply", "HIGH")] and report.by_rule("CN-LOCK")[0].line is None
    assert "supply: company" in report.by_rule("CN-LOCK")[0].message_en


def test_cn_lock_near_misses_company_supply_or_one_price():
    tiers = """\
    levels:
      - {code: partner, name: 合伙人, entry: {free: true}, discount: 0.60}
      - {code: vip, name: 特约, entry: {free: true}, discount: 0.80}
    """
    assert hits(lint(plan(levels=tiers, top="supply: company\n"), "cn"), "CN-LOCK") == []
    assert hits(lint(plan(top="supply: cloud\n"), "cn"), "CN-LOCK") == []  # every level pays 0.80


def test_cn_lock_sees_price_overrides():
    levels = """\
    levels:
      - {code: partner, name: 合伙人, entry: {free: true}, discount: 0.80}
      - {code: vip, name: 特约, entry: {free: true}, discount: 0.80}
    prices:
      SKU: {retail: 100, partner: 60}
    """
    assert hits(lint(plan(levels=levels, top="supply: cloud\n"), "cn"), "CN-LOCK") == [("supply", "HIGH")]


# --- CN-DS30 ----------------------------------------------------------------------------


def test_cn_ds30_checks_every_direct_selling_limit():
    p = load_plan(LINT_PLANS / "direct-selling.yaml")
    report = lint(p, "cn")
    found = {(f.path, f.line) for f in report.by_rule("CN-DS30")}
    assert found == {
        ("levels[1].entry.first_order_amount", 18),  # a purchase to become a seller
        ("rewards[0].rates[0]", 24),  # 高级直销员: 30% margin + 15% commission > 30%
        ("rewards[0]", 22),  # 5% to the referrer: pay on others' sales
        ("rewards[1].period", 27),  # paid once a year
        ("returns.window_days", 41),  # exit right shorter than 60 days
        ("settlement.frozen_days", 38),  # frozen 45 days: paid less often than monthly
    }
    cap = next(f for f in report.by_rule("CN-DS30") if f.path == "rewards[0].rates[0]")
    assert "45%" in cap.message_en and "高级直销员" in cap.message_en
    assert all(f.severity == "HIGH" for f in report.by_rule("CN-DS30"))


def test_cn_ds30_near_misses():
    # the same plan without the licence claim: CN-DS30 is silent
    text = (
        (LINT_PLANS / "direct-selling.yaml")
        .read_text(encoding="utf-8")
        .replace("direct_selling: true", "direct_selling: false")
    )
    from weishang.plans import parse_plan

    assert hits(lint(parse_plan(text, "ds.yaml"), "cn"), "CN-DS30") == []
    # a licensed plan inside the limits: 10% margin + 10% commission, monthly, free, 365-day exit
    levels = """\
    levels:
      - {code: partner, name: 合伙人, entry: {free: true}, discount: 0.90}
      - {code: vip, name: 特约, entry: {free: true}, discount: 0.90}
    """
    p = plan(levels=levels, top="supply: company\ndirect_selling: true\n")
    assert hits(lint(p, "cn"), "CN-DS30") == []


# --- CN-RET -----------------------------------------------------------------------------


def test_cn_ret_no_returns_or_a_hollow_one():
    report = lint(plan(returns=""), "cn")
    assert hits(report, "CN-RET") == [("returns", "MED")] and report.by_rule("CN-RET")[0].line is None
    assert "reported, not verified" in report.by_rule("CN-RET")[0].message_en
    assert hits(lint(plan(returns="returns: {window_days: 7, refund_rate: 0.9}\n"), "cn"), "CN-RET") == [
        ("returns.window_days", "MED")
    ]
    assert hits(lint(plan(returns="returns: {window_days: 365, refund_rate: 0}\n"), "cn"), "CN-RET") == [
        ("returns.refund_rate", "MED")
    ]


def test_cn_ret_near_miss():
    assert hits(lint(plan(returns="returns: {window_days: 30, refund_rate: 0.5}\n"), "cn"), "CN-RET") == []


# --- CN-CLAIM, CN-EC, US-EARN: reminders ---------------------------------------------------


def test_reminders_are_info_on_the_whole_plan_in_their_jurisdiction_only():
    cn = lint(plan(), "cn")
    assert hits(cn, "CN-CLAIM") == [("", "INFO")] and hits(cn, "CN-EC") == [("", "INFO")]
    assert hits(cn, "US-EARN") == []
    us = lint(plan(), "us")
    assert hits(us, "US-EARN") == [("", "INFO")] and hits(us, "CN-EC") == []
    assert all(f.line is None for f in cn.findings)
    assert rule_by_id("CN-CLAIM").severity == "MED" and rule_by_id("CN-CLAIM").kind == "reminder"


# --- WX-L2 ------------------------------------------------------------------------------


def test_wx_l2_three_levels_counting_the_seller():
    rewards = """\
    rewards:
      - {id: ref, type: referral, rates: [0.05, 0.02]}
      - {id: share, type: retail_commission, rates: [0.10, 0.03, 0.01]}
      - {id: ladder, type: team_volume, metric: team_retail, ladder: [{from: 1000, rate: 0.02}]}
    """
    report = lint(plan(rewards=rewards), "wechat")
    assert hits(report, "WX-L2") == [
        ("rewards[0].rates[1]", "HIGH"),
        ("rewards[1].rates[2]", "HIGH"),
        ("rewards[2].metric", "HIGH"),
    ]
    assert "A→B→C" in report.by_rule("WX-L2")[0].message_en


def test_wx_l2_near_miss_two_levels_are_allowed():
    rewards = """\
    rewards:
      - {id: ref, type: referral, rates: [0.05, 0]}
      - {id: share, type: retail_commission, rates: [0.10, 0.03]}
    """
    report = lint(plan(rewards=rewards), "wechat")
    assert hits(report, "WX-L2") == []
    assert hits(report, "CN-TEAM") != []  # wechat applies the CN rules too


# --- WX-REB -----------------------------------------------------------------------------


def test_wx_reb_high_cash_back_and_multi_level_rebates():
    rewards = """\
    rewards:
      - {id: rebate, type: self_purchase_rebate, rates_by_level: {partner: 0.15, vip: 0.05}}
    """
    assert hits(lint(plan(rewards=rewards), "wechat"), "WX-REB") == [("rewards[0].rates_by_level.partner", "HIGH")]
    rewards = """\
    rewards:
      - {id: rebate, type: self_purchase_rebate, rate: 0.05}
      - {id: ref, type: referral, rates: [0.03]}
    """
    assert hits(lint(plan(rewards=rewards), "wechat"), "WX-REB") == [("rewards[1].rates", "HIGH")]


def test_wx_reb_near_miss_a_modest_rebate_alone():
    rewards = """\
    rewards:
      - {id: rebate, type: self_purchase_rebate, rate: 0.10}
      - {id: gift, type: referral, base: per_head, amounts: [10]}
    """
    assert hits(lint(plan(rewards=rewards), "wechat"), "WX-REB") == []


# --- WX-SHARE ---------------------------------------------------------------------------


def test_wx_share_is_not_decidable_from_the_plan():
    r = rule_by_id("WX-SHARE")
    assert r.kind == "not_decidable" and "no sharing event" in r.note
    social = load_plan(Path(__file__).resolve().parents[2] / "examples" / "plans" / "glow-social-mall.yaml")
    assert hits(lint(social, "wechat"), "WX-SHARE") == []


# --- WX-VIP -----------------------------------------------------------------------------


def test_wx_vip_paid_membership_unlocks_rebates():
    rewards = """\
    rewards:
      - {id: rebate, type: self_purchase_rebate, rates_by_level: {partner: 0.05, vip: 0.03}}
      - {id: share, type: retail_commission, rates: [0.10]}
    """
    report = lint(plan(levels=GIFT_VIP, rewards=rewards), "wechat")
    assert hits(report, "WX-VIP") == [("rewards[0].rates_by_level.vip", "MED"), ("rewards[1].rates", "MED")]
    spend = "upgrades:\n  - {to: partner, any: [{cumulative_spend: 3000}]}\n"
    report = lint(plan(rewards=rewards, upgrades=spend), "wechat")
    assert hits(report, "WX-VIP") == [("rewards[0].rates_by_level.partner", "MED"), ("rewards[1].rates", "MED")]


def test_wx_vip_near_miss_free_membership():
    rewards = """\
    rewards:
      - {id: rebate, type: self_purchase_rebate, rate: 0.05}
    """
    assert hits(lint(plan(rewards=rewards), "wechat"), "WX-VIP") == []


# --- US-KOS -----------------------------------------------------------------------------


def test_us_kos_paying_to_join_plus_recruitment_rewards():
    rewards = """\
    rewards:
      - {id: ref, type: referral, rates: [0.05]}
      - {id: share, type: retail_commission, rates: [0.10]}
    """
    report = lint(plan(levels=PAID_VIP, rewards=rewards), "us")
    assert hits(report, "US-KOS") == [("rewards[0].rates", "CRIT")]
    assert "¥298" in report.by_rule("US-KOS")[0].message_en and report.blocking


def test_us_kos_near_misses():
    only_retail = lint(plan(levels=PAID_VIP), "us")  # pays to join, but earns only on retail
    assert hits(only_retail, "US-KOS") == []
    free_ref = lint(plan(rewards="rewards:\n  - {id: ref, type: referral, rates: [0.05]}\n"), "us")
    assert hits(free_ref, "US-KOS") == []


# --- US-BUY -----------------------------------------------------------------------------


def test_us_buy_rank_or_reward_from_own_purchases():
    rewards = """\
    rewards:
      - {id: buy-trip, type: target_award, threshold: 5000, prize: {kind: trip, cost: 800}}
    """
    upgrades = "upgrades:\n  - {to: partner, any: [{cumulative_purchase: 5000}]}\n"
    report = lint(plan(levels=PAID_VIP, rewards=rewards, upgrades=upgrades), "us")
    assert hits(report, "US-BUY") == [
        ("levels[1].entry.first_order_amount", "HIGH"),
        ("rewards[0].type", "HIGH"),
        ("upgrades[0].any[0]", "HIGH"),
    ]


def test_us_buy_near_miss_retail_based():
    rewards = """\
    rewards:
      - {id: sell-trip, type: target_award, metric: personal_retail, threshold: 5000, prize: {kind: trip, cost: 800}}
    """
    assert hits(lint(plan(rewards=rewards), "us"), "US-BUY") == []


# --- US-INV -----------------------------------------------------------------------------

LOADED = """\
levels:
  - {code: partner, name: 合伙人, entry: {free: true}, discount: 0.80, min_restock_qty: 10}
  - {code: vip, name: 特约, entry: {first_order_amount: 3000}, discount: 0.80, min_restock_qty: 1}
"""


def test_us_inv_minimums_without_a_full_buyback():
    report = lint(plan(levels=LOADED, returns=""), "us")
    assert hits(report, "US-INV") == [
        ("levels[0].min_restock_qty", "HIGH"),
        ("levels[1].entry.first_order_amount", "HIGH"),
        ("returns", "HIGH"),
    ]
    weak = lint(plan(levels=LOADED, returns="returns: {window_days: 90, refund_rate: 0.5}\n"), "us")
    assert hits(weak, "US-INV") == [
        ("levels[0].min_restock_qty", "HIGH"),
        ("levels[1].entry.first_order_amount", "HIGH"),
    ]


def test_us_inv_near_miss_full_buyback():
    assert hits(lint(plan(levels=LOADED), "us"), "US-INV") == []  # 90% for 365 days: left to ECON-INV


# --- EU-14 ------------------------------------------------------------------------------


def test_eu_14_consideration_for_recruitment_pay():
    rewards = """\
    rewards:
      - {id: gift, type: referral, base: per_head, amounts: [50]}
      - {id: ref, type: referral, rates: [0.05]}
    """
    # per head: paid for recruiting; a share of recruits' orders: the gift pack they pay to join is in the base
    report = lint(plan(levels=GIFT_VIP, rewards=rewards), "eu")
    assert hits(report, "EU-14") == [("rewards[0].base", "CRIT"), ("rewards[1].rates", "CRIT")]
    assert "indirect link suffices" in report.by_rule("EU-14")[1].message_en


def test_eu_14_near_misses():
    ladder = """\
    rewards:
      - {id: ladder, type: team_volume, ladder: [{from: 1000, rate: 0.03}]}
    """
    assert hits(lint(plan(levels=PAID_VIP, rewards=ladder), "eu"), "EU-14") == []  # "primarily": EU-14-SIM
    per_head = "rewards:\n  - {id: gift, type: referral, base: per_head, amounts: [50]}\n"
    assert hits(lint(plan(rewards=per_head), "eu"), "EU-14") == []  # nothing paid to join


# --- UK-TS ------------------------------------------------------------------------------


def test_uk_ts_pay_for_others_participation_and_no_cooling_off_refund():
    rewards = """\
    rewards:
      - {id: ref, type: referral, rates: [0.05]}
      - {id: share, type: retail_commission, rates: [0.10, 0.02]}
    """
    report = lint(plan(rewards=rewards, returns=""), "uk")
    assert hits(report, "UK-TS") == [("returns", "HIGH"), ("rewards[0].rates", "HIGH"), ("rewards[1].rates[1]", "HIGH")]
    short = lint(plan(returns="returns: {window_days: 10, refund_rate: 0.9}\n"), "uk")
    assert hits(short, "UK-TS") == [("returns.window_days", "HIGH")]


def test_uk_ts_near_miss():
    assert hits(lint(plan(returns="returns: {window_days: 14, refund_rate: 0.9}\n"), "uk"), "UK-TS") == []


# --- the table ----------------------------------------------------------------------------


def test_every_rulebook_rule_is_in_the_table():
    assert [r.id for r in RULES] == [
        "CN-FEE",
        "CN-HEAD",
        "CN-TEAM",
        "CN-LOCK",
        "CN-DS30",
        "CN-RET",
        "CN-CLAIM",
        "CN-EC",
        "WX-L2",
        "WX-REB",
        "WX-SHARE",
        "WX-VIP",
        "US-KOS",
        "US-BUY",
        "US-INV",
        "US-EARN",
        "EU-14",
        "UK-TS",
        "CN-CRIM",
        "US-NONP",
        "EU-14-SIM",
        "ECON-LOSS",
        "ECON-INV",
    ]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_each_rule_is_complete(rule):
    assert rule.severity in ("CRIT", "HIGH", "MED", "INFO")
    assert rule.source and rule.title_en and rule.title_zh
    assert (rule.kind == "figures") == bool(rule.figures)
    if rule.kind in ("reminder", "not_decidable"):
        assert rule.note
