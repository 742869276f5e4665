"""The three example plans under every jurisdiction: the tiered and social-mall plans are
blocked in China, the retail-first variant is lawful (no CRIT anywhere; one HIGH in China, CN-LOCK,
kept by choice for cloud-stock fills by the upline and acknowledged in the demo)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from weishang.plans import load_plan, parse_plan
from weishang.plans.lint import lint_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"


def report(name: str, jurisdiction: str):
    return lint_plan(load_plan(EXAMPLES / f"{name}.yaml"), jurisdiction)


def by_rule(rep) -> dict[tuple[str, str], int]:
    return dict(Counter((f.rule, f.severity) for f in rep.findings))


def test_glow_tiered_in_china():
    rep = report("glow-tiered", "cn")
    assert rep.blocking
    assert by_rule(rep) == {
        ("CN-FEE", "CRIT"): 16,  # 5 entry orders, 7 purchase upgrades, 4 top-ups
        ("CN-HEAD", "CRIT"): 4,  # 推三升一 in every upgrade
        ("CN-TEAM", "HIGH"): 4,  # peer referral, team ladder, 2 team-volume upgrades
        ("CN-LOCK", "HIGH"): 1,  # cloud supply with price tiers
        ("CN-CLAIM", "INFO"): 1,
        ("CN-EC", "INFO"): 1,
    }


def test_glow_social_mall_in_china():
    rep = report("glow-social-mall", "cn")
    assert rep.blocking
    assert by_rule(rep) == {
        ("CN-FEE", "CRIT"): 3,  # the 398-yuan gift pack, 2 upgrades by spending
        ("CN-HEAD", "CRIT"): 3,  # per-head gift reward, 2 upgrades by direct referrals
        ("CN-TEAM", "CRIT"): 1,  # per head: team pay whose base is headcount
        ("CN-TEAM", "HIGH"): 2,  # 2nd-level share for 服务商 and 店主
        ("CN-CLAIM", "INFO"): 1,
        ("CN-EC", "INFO"): 1,
    }
    assert ("rewards[0].base", "CRIT") in [(f.path, f.severity) for f in rep.by_rule("CN-TEAM")]


@pytest.mark.parametrize(
    ("name", "jurisdiction", "counts"),
    [
        ("glow-tiered", "cn", {"CRIT": 20, "HIGH": 5, "MED": 0, "INFO": 2}),
        ("glow-tiered", "wechat", {"CRIT": 20, "HIGH": 7, "MED": 0, "INFO": 2}),
        ("glow-tiered", "us", {"CRIT": 8, "HIGH": 17, "MED": 0, "INFO": 1}),
        ("glow-tiered", "eu", {"CRIT": 5, "HIGH": 0, "MED": 0, "INFO": 0}),
        ("glow-tiered", "uk", {"CRIT": 0, "HIGH": 2, "MED": 0, "INFO": 0}),
        ("glow-social-mall", "cn", {"CRIT": 7, "HIGH": 2, "MED": 0, "INFO": 2}),
        ("glow-social-mall", "wechat", {"CRIT": 7, "HIGH": 4, "MED": 6, "INFO": 2}),
        ("glow-social-mall", "us", {"CRIT": 3, "HIGH": 3, "MED": 0, "INFO": 1}),
        ("glow-social-mall", "eu", {"CRIT": 3, "HIGH": 0, "MED": 0, "INFO": 0}),
        ("glow-social-mall", "uk", {"CRIT": 0, "HIGH": 3, "MED": 0, "INFO": 0}),
        ("glow-retail-first", "cn", {"CRIT": 0, "HIGH": 1, "MED": 0, "INFO": 2}),
        ("glow-retail-first", "wechat", {"CRIT": 0, "HIGH": 1, "MED": 0, "INFO": 2}),
        ("glow-retail-first", "us", {"CRIT": 0, "HIGH": 0, "MED": 0, "INFO": 1}),
        ("glow-retail-first", "eu", {"CRIT": 0, "HIGH": 0, "MED": 0, "INFO": 0}),
        ("glow-retail-first", "uk", {"CRIT": 0, "HIGH": 0, "MED": 0, "INFO": 0}),
    ],
)
def test_counts_by_severity(name, jurisdiction, counts):
    assert report(name, jurisdiction).counts() == counts


def test_glow_tiered_elsewhere_names_the_right_rules():
    assert {f.rule for f in report("glow-tiered", "wechat").findings if f.rule.startswith("WX")} == {"WX-L2"}
    us = report("glow-tiered", "us")
    assert {f.rule for f in us.findings} == {"US-KOS", "US-BUY", "US-EARN"}  # the 90%/365-day buyback: no US-INV
    assert {f.rule for f in report("glow-tiered", "eu").findings} == {"EU-14"}


def test_glow_retail_first_is_lawful_everywhere():
    for j in ("cn", "wechat", "us", "eu", "uk", "all"):
        rep = report("glow-retail-first", j)
        assert not rep.blocking, j
        high = [f.rule for f in rep.findings if f.severity not in {"INFO"}]
        assert high == (["CN-LOCK"] if j in ("cn", "wechat", "all") else []), (j, high)


def test_company_supply_removes_the_last_high_finding():
    text = (EXAMPLES / "glow-retail-first.yaml").read_text(encoding="utf-8").replace("supply: cloud", "supply: company")
    rep = lint_plan(parse_plan(text, "glow-retail-first.yaml"), "cn")
    assert {f.severity for f in rep.findings} <= {"INFO"}


def test_examples_declare_cn_and_default_to_it():
    for name in ("glow-tiered", "glow-social-mall", "glow-retail-first"):
        assert lint_plan(load_plan(EXAMPLES / f"{name}.yaml")).jurisdiction == "cn"
