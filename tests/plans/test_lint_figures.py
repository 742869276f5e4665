"""Rules on simulated figures: applied only when figures are given, each with a trigger and a
near miss; the figures are validated."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lint_testkit import hits, lint, plan

from weishang.plans.lint import FIGURES, Thresholds, lint_plan, rule_by_id

PYRAMID_LEVELS = """\
levels:
  - {code: partner, name: 合伙人, entry: {free: true}, discount: 0.80}
  - {code: vip, name: 特约, entry: {first_order_amount: 298}, discount: 0.80}
"""
PUSH_THREE = "upgrades:\n  - {to: partner, any: [{same_level_referrals: 3}]}\n"


def pyramid():
    return plan(levels=PYRAMID_LEVELS, upgrades=PUSH_THREE)


def test_figure_rules_are_skipped_without_figures():
    report = lint(pyramid(), "all")
    assert report.not_checked == ("CN-CRIM", "US-NONP", "EU-14-SIM", "ECON-LOSS", "ECON-INV")
    assert not {"CN-CRIM", "US-NONP", "EU-14-SIM", "ECON-LOSS", "ECON-INV"} & {f.rule for f in report.findings}
    assert "not checked (no simulated figures): CN-CRIM" in report.as_text()


def test_each_figure_rule_needs_its_own_figures():
    report = lint(pyramid(), "all", figures={"loss_share": "0.7"})
    assert hits(report, "ECON-LOSS") == [("", "HIGH")]
    assert "CN-CRIM" in report.not_checked and "ECON-INV" in report.not_checked
    assert "ECON-LOSS" in report.rules_applied


# --- CN-CRIM ----------------------------------------------------------------------------


def test_cn_crim_fee_plus_headcount_plus_a_30_member_3_level_subtree():
    report = lint(pyramid(), "cn", figures={"max_subtree_members_3levels": 30, "collected_total": 100000})
    assert hits(report, "CN-CRIM") == [("", "CRIT")]
    f = report.by_rule("CN-CRIM")[0]
    assert "30 members" in f.message_en and "levels[1].entry.first_order_amount" in f.message_en
    assert "serious" not in f.message_en
    serious = lint(pyramid(), "cn", figures={"max_subtree_members_3levels": 40, "collected_total": 2500000})
    crim = serious.by_rule("CN-CRIM")[0]
    assert "serious" in crim.message_en and "情节严重" in crim.message_zh
    many = lint(pyramid(), "cn", figures={"max_subtree_members_3levels": 120})
    assert "serious" in many.by_rule("CN-CRIM")[0].message_en


def test_cn_crim_near_misses():
    assert hits(lint(pyramid(), "cn", figures={"max_subtree_members_3levels": 29}), "CN-CRIM") == []
    fee_only = plan(levels=PYRAMID_LEVELS)  # a fee, but nobody is paid or promoted by headcount
    assert hits(lint(fee_only, "cn", figures={"max_subtree_members_3levels": 5000}), "CN-CRIM") == []
    head_only = plan(upgrades=PUSH_THREE)  # headcount, but free to join
    assert hits(lint(head_only, "cn", figures={"max_subtree_members_3levels": 5000}), "CN-CRIM") == []
    assert hits(lint(pyramid(), "us", figures={"max_subtree_members_3levels": 5000}), "CN-CRIM") == []


# --- US-NONP ----------------------------------------------------------------------------


def test_us_nonp_half_from_non_participants_and_the_80_percent_figure():
    report = lint(plan(), "us", figures={"non_participant_revenue_share": "0.45", "end_user_share": "0.7"})
    assert hits(report, "US-NONP") == [("", "HIGH"), ("", "HIGH")]
    assert any("reported by counsel" in f.message_en for f in report.by_rule("US-NONP"))


def test_us_nonp_near_miss():
    report = lint(plan(), "us", figures={"non_participant_revenue_share": "0.5", "end_user_share": "0.8"})
    assert hits(report, "US-NONP") == []


# --- EU-14-SIM --------------------------------------------------------------------------


def test_eu_14_sim_recruitment_funds_more_than_retail():
    assert hits(lint(plan(), "eu", figures={"recruitment_funded_share": "0.6"}), "EU-14-SIM") == [("", "CRIT")]
    both = {"recruitment_funded_share": "0.35", "retail_funded_share": "0.30"}  # the rest: own purchases
    assert hits(lint(plan(), "eu", figures=both), "EU-14-SIM") == [("", "CRIT")]


def test_eu_14_sim_near_miss():
    assert hits(lint(plan(), "eu", figures={"recruitment_funded_share": "0.5"}), "EU-14-SIM") == []
    assert rule_by_id("EU-14-SIM").source.startswith("Directive 2005/29/EC Annex I point 14")


# --- ECON-LOSS and ECON-INV -------------------------------------------------------------


def test_econ_loss_default_threshold_and_a_brand_threshold():
    assert hits(lint(plan(), "uk", figures={"loss_share": "0.51"}), "ECON-LOSS") == [("", "HIGH")]
    assert hits(lint(plan(), "uk", figures={"loss_share": "0.50"}), "ECON-LOSS") == []
    stricter = Thresholds(loss_share=Decimal("0.2"))
    report = lint(plan(), "cn", figures={"loss_share": "0.25"}, thresholds=stricter)
    assert hits(report, "ECON-LOSS") == [("", "HIGH")] and "threshold 20%" in report.by_rule("ECON-LOSS")[0].message_en


def test_econ_inv_default_three_months_and_a_brand_threshold():
    assert hits(lint(plan(), "eu", figures={"months_of_stock": "3.5"}), "ECON-INV") == [("", "HIGH")]
    assert "3.5 months" in lint(plan(), "eu", figures={"months_of_stock": "3.5"}).by_rule("ECON-INV")[0].message_en
    assert hits(lint(plan(), "eu", figures={"months_of_stock": 3}), "ECON-INV") == []
    looser = Thresholds(months_of_stock=6)
    assert hits(lint(plan(), "eu", figures={"months_of_stock": 5}, thresholds=looser), "ECON-INV") == []


def test_econ_rules_apply_in_every_jurisdiction():
    for j in ("cn", "wechat", "us", "eu", "uk", "all", "none"):
        report = lint(plan(), j, figures={"loss_share": 0.9, "months_of_stock": 12})
        assert {"ECON-LOSS", "ECON-INV"} <= {f.rule for f in report.findings}, j


# --- the figures themselves -------------------------------------------------------------


def test_figures_accept_decimal_int_str_and_float():
    for value in (Decimal("0.6"), "0.6", 0.6):
        assert hits(lint(plan(), "all", figures={"loss_share": value}), "ECON-LOSS") == [("", "HIGH")]


@pytest.mark.parametrize(
    ("figures", "words"),
    [
        ({"loss_rate": 0.6}, "unknown figure 'loss_rate'"),
        ({"loss_share": True}, "expected a number"),
        ({"loss_share": "lots"}, "expected a number"),
        ({"loss_share": 1.5}, "share between 0 and 1"),
        ({"months_of_stock": -1}, "≥ 0"),
        ({"months_of_stock": float("nan")}, "finite"),
    ],
)
def test_bad_figures_are_refused(figures, words):
    with pytest.raises(ValueError, match=words):
        lint_plan(plan(), "all", figures=figures)


def test_thresholds_are_checked():
    with pytest.raises(ValueError):
        Thresholds(loss_share=Decimal("1.5"))
    with pytest.raises(TypeError):
        Thresholds(months_of_stock=2.5)


def test_every_figure_key_is_read_by_a_rule():
    from weishang.plans.lint import RULES

    read = {k for r in RULES for k in r.figures} | {"collected_total", "retail_funded_share"}
    assert read == set(FIGURES)
