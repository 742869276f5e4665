"""The lint report: the plan-format.md JSON shape, order, line numbers, text, jurisdictions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lint_testkit import lint, plan

from weishang.plans import load_plan, plan_from_data
from weishang.plans.lint import JURISDICTIONS, RULES, SEVERITIES, Finding, LintReport, lint_plan, rules_for
from weishang.plans.lint.base import line_for
from weishang.plans.lint.report import path_sort_key

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"


def tiered():
    return load_plan(EXAMPLES / "glow-tiered.yaml")


def test_json_has_exactly_the_plan_format_shape():
    report = lint_plan(tiered(), "cn")
    data = json.loads(report.to_json())
    assert list(data) == ["plan", "version", "jurisdiction", "findings", "blocking"]
    assert (data["plan"], data["version"], data["jurisdiction"], data["blocking"]) == ("glow-tiered", 1, "cn", True)
    for f in data["findings"]:
        assert list(f) == ["rule", "severity", "path", "line", "message_zh", "message_en", "source"]
        assert f["severity"] in SEVERITIES and f["message_zh"] and f["message_en"] and f["source"]
    assert report.as_json() == data
    assert "推三升一" in report.to_json()  # Chinese stays readable (ensure_ascii=False)


def test_line_numbers_point_at_the_key():
    report = lint_plan(tiered(), "cn")
    at = {(f.rule, f.path): f.line for f in report.findings}
    assert at[("CN-FEE", "levels[0].entry.first_order_amount")] == 15
    assert at[("CN-FEE", "levels[4].entry.first_order_amount")] == 35
    assert at[("CN-HEAD", "upgrades[0].any[2]")] == 79  # - same_level_referrals: 3
    assert at[("CN-HEAD", "upgrades[3].any[1]")] == 97
    assert at[("CN-FEE", "upgrades[2].top_up")] == 93
    assert at[("CN-TEAM", "rewards[0].rates")] == 53
    assert at[("CN-TEAM", "rewards[1].metric")] == 60
    assert at[("CN-TEAM", "upgrades[2].any[3]")] == 92  # - team_volume: {period: month, amount: 200000}
    assert at[("CN-LOCK", "supply")] == 44
    text = (EXAMPLES / "glow-tiered.yaml").read_text(encoding="utf-8").splitlines()
    assert "same_level_referrals: 3" in text[79 - 1] and text[44 - 1].startswith("supply: cloud")
    social = lint_plan(load_plan(EXAMPLES / "glow-social-mall.yaml"), "cn")
    assert {(f.path, f.line) for f in social.by_rule("CN-TEAM") if f.severity == "HIGH"} == {
        ("rewards[2].rates_by_level.director[1]", 51),
        ("rewards[2].rates_by_level.shopkeeper[1]", 52),
    }


def test_a_default_key_gets_its_parents_line_and_a_plan_without_a_file_none():
    rewards = """\
    rewards:
      - id: ladder
        type: team_volume
        ladder: [{from: 1000, rate: 0.03}]
    """
    report = lint(plan(rewards=rewards), "cn")
    (f,) = report.by_rule("CN-TEAM")
    assert (f.path, f.line) == ("rewards[0].type", 11)  # metric is left to its default: the rule's type
    p = plan(rewards=rewards)
    assert line_for(p, "rewards[0].metric") == 10  # not written: the line of rewards[0]
    assert line_for(p, "supply") == 5 and line_for(p, "customer_binding.mode") is None and line_for(p, "") is None
    data = {
        "id": "x",
        "version": 1,
        "name": "x",
        "kind": "tiered",
        "levels": [{"code": "vip", "name": "v", "entry": {"first_order_amount": 100}, "discount": "0.8"}],
    }
    report = lint_plan(plan_from_data(data), "cn")
    assert report.by_rule("CN-FEE")[0].line is None and report.file == "<data>"


def test_findings_sorted_by_severity_then_path():
    report = lint_plan(load_plan(EXAMPLES / "glow-social-mall.yaml"), "all")
    keys = [(SEVERITIES.index(f.severity), path_sort_key(f.path)) for f in report.findings]
    assert keys == sorted(keys)
    assert [f.severity for f in report.findings][0] == "CRIT" and report.findings[-1].severity == "INFO"


def test_paths_sort_naturally():
    paths = ["rewards[10].rates", "rewards[2].rates", "", "levels[1].entry", "rewards[2].base", "supply"]
    assert sorted(paths, key=path_sort_key) == [
        "",
        "levels[1].entry",
        "rewards[2].base",
        "rewards[2].rates",
        "rewards[10].rates",
        "supply",
    ]


def test_blocking_means_any_crit_and_sets_the_exit_code():
    crit = lint_plan(tiered(), "cn")
    assert crit.blocking and crit.exit_code == 1
    high_only = lint_plan(tiered(), "uk")
    assert high_only.counts()["HIGH"] > 0 and not high_only.blocking and high_only.exit_code == 0
    f = Finding("X", "INFO", "", None, "z", "e", "s")
    assert not LintReport("p", 1, "cn", (f,)).blocking


def test_text_report_for_people():
    report = lint_plan(tiered(), "cn")
    text = report.as_text()
    assert text.splitlines()[0].startswith(f"{EXAMPLES / 'glow-tiered.yaml'}: glow-tiered v1 — jurisdiction cn: ")
    assert "20 CRIT, 5 HIGH, 0 MED, 2 INFO" in text and "BLOCKING" in text
    assert "CRIT CN-HEAD   upgrades[0].any[2] (line 79)" in text
    assert "source: 禁止传销条例 Art. 7(1)" in text
    en = report.as_text("en")
    assert "推三升一): promotion by headcount" in en and "按人头晋级" not in en
    assert "Joining as" not in report.as_text("zh")
    with pytest.raises(ValueError):
        report.as_text("fr")
    clean = lint_plan(plan(), "eu").as_text()
    assert "no findings" in clean and "not blocking" in clean


def test_jurisdictions_map_to_rulebooks():
    ids = {j: {r.id for r in rules_for(j)} for j in JURISDICTIONS}
    assert {"CN-FEE", "CN-EC", "CN-CRIM", "ECON-LOSS"} <= ids["cn"] and not any(
        i.startswith(("WX", "US", "EU", "UK")) for i in ids["cn"]
    )
    assert ids["wechat"] == ids["cn"] | {"WX-L2", "WX-REB", "WX-SHARE", "WX-VIP"}  # WeChat in China: both
    assert ids["us"] == {"US-KOS", "US-BUY", "US-INV", "US-EARN", "US-NONP", "ECON-LOSS", "ECON-INV"}
    assert ids["eu"] == {"EU-14", "EU-14-SIM", "ECON-LOSS", "ECON-INV"}
    assert ids["uk"] == {"UK-TS", "ECON-LOSS", "ECON-INV"}
    assert ids["all"] == ids["none"] == {r.id for r in RULES}
    with pytest.raises(ValueError, match="unknown jurisdiction 'fr'"):
        rules_for("fr")


def test_the_plans_own_jurisdiction_is_the_default_and_none_lints_everything():
    p = plan(top="supply: company\njurisdiction: us\n")
    assert lint_plan(p).jurisdiction == "us"
    assert {f.rule for f in lint_plan(p).findings} == {"US-EARN"}
    sandbox = lint_plan(tiered(), "none")
    assert sandbox.jurisdiction == "none" and sandbox.counts() == lint_plan(tiered(), "all").counts()


def test_linting_is_deterministic_and_leaves_the_plan_alone():
    p = tiered()
    before = p.model_dump()
    assert lint_plan(p, "all").as_json() == lint_plan(p, "all").as_json()
    assert p.model_dump() == before
