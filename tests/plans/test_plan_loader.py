"""The plan loader: valid files load exactly; every mistake is reported with file, line,
column, key path and a sentence saying what is expected — never a traceback."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from weishang.plans import Plan, PlanError, load_plan, parse_plan, plan_from_data, plan_json_schema

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"

BASE = """\
id: demo
version: 1
name: 演示
kind: tiered
levels:
  - code: general
    name: 总代
    entry: {first_order_amount: 20000}
    discount: 0.40
  - code: city
    name: 市代
    entry: {first_order_amount: 2000}
    discount: 0.60
  - code: vip
    name: 特约
    entry: {first_order_amount: 298}
    discount: 0.80
"""


def issues_of(text: str, filename: str = "bad.yaml"):
    with pytest.raises(PlanError) as caught:
        parse_plan(text, filename)
    return caught.value.issues


def only_issue(text: str):
    issues = issues_of(text)
    assert len(issues) == 1, [str(i) for i in issues]
    return issues[0]


# --- valid files ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["glow-tiered", "glow-social-mall", "glow-retail-first"])
def test_examples_load(name):
    plan = load_plan(EXAMPLES / f"{name}.yaml")
    assert plan.id == name
    assert plan.version == 1
    assert plan.source_file.endswith(f"{name}.yaml")


def test_glow_tiered_holds_the_demo_brand():
    plan = load_plan(EXAMPLES / "glow-tiered.yaml")
    assert plan.level_codes == ("partner", "general", "province", "city", "vip")
    assert [plan.level(c).name for c in plan.level_codes] == ["联创", "总代", "省代", "市代", "特约"]
    assert [plan.level(c).entry.first_order_amount for c in plan.level_codes] == [
        Decimal("100000"),
        Decimal("20000"),
        Decimal("6000"),
        Decimal("2000"),
        Decimal("298"),
    ]
    assert [plan.level(c).discount for c in plan.level_codes] == [
        Decimal("0.30"),
        Decimal("0.40"),
        Decimal("0.50"),
        Decimal("0.60"),
        Decimal("0.80"),
    ]
    assert [plan.level(c).min_restock_qty for c in plan.level_codes] == [100, 20, 10, 5, 1]
    assert plan.rank("partner") == 1 and plan.rank("vip") == 5
    assert plan.is_higher("general", "city") and not plan.is_higher("vip", "city")
    # overrides for GLOW-30ML, discounts for the other SKUs (198 × 0.6 = 118.80; 99 × 0.8 = 79.20)
    assert plan.price("GLOW-30ML", "partner") == Decimal("80")
    assert plan.price("GLOW-30ML", "vip") == Decimal("230")
    assert plan.price("GLOW-50G", "city") == Decimal("118.80")
    assert plan.price("GLOW-MASK5", "vip") == Decimal("79.20")
    assert plan.price("GLOW-30ML", "retail") == Decimal("298.00")
    assert plan.supply == "cloud" and plan.jurisdiction == "cn"
    assert plan.settlement.withdraw_fee_rate == Decimal("0.006")
    assert plan.returns.refund_rate == Decimal("0.90")
    peer = plan.reward("peer-referral")
    assert (peer.type, peer.referee_level, peer.rates) == ("referral", "same", [Decimal("0.05"), Decimal("0.02")])


def test_price_rounds_half_up_to_the_fen():
    plan = parse_plan(BASE, "p.yaml")
    assert plan.price("ANY", "general", Decimal("99.99")) == Decimal("40.00")  # 39.996
    assert plan.price("ANY", "city", Decimal("0.25")) == Decimal("0.15")  # 0.150
    assert plan.price("ANY", "vip", Decimal("10.05")) == Decimal("8.04")  # 8.040
    assert plan.price("ANY", "city", Decimal("12.34") / 2) == Decimal("3.70")  # 6.17 × 0.6 = 3.702
    half = parse_plan(BASE.replace("discount: 0.60", "discount: 0.5"), "p.yaml")
    assert half.price("ANY", "city", Decimal("0.25")) == Decimal("0.13")  # 0.125 → half-up
    with pytest.raises(ValueError, match="no retail price"):
        plan.price("ANY", "vip")
    with pytest.raises(KeyError, match="no level 'boss'"):
        plan.price("ANY", "boss", Decimal(1))


def test_numbers_are_exact_decimals_never_floats():
    text = BASE.replace("discount: 0.40", "discount: 0.1").replace("discount: 0.60", "discount: 0.2") + textwrap.dedent(
        """\
        rewards:
          - {id: r, type: referral, rates: [0.1, 0.2, 0.3e-1, 1_0e-2]}
        settlement: {withdraw_fee_rate: 0.006, withdraw_min: 0.10}
        """
    )
    plan = parse_plan(text, "p.yaml")
    assert plan.levels[0].discount == Decimal("0.1") and isinstance(plan.levels[0].discount, Decimal)
    assert plan.levels[0].discount + plan.levels[1].discount == Decimal("0.3")
    assert plan.rewards[0].rates == [Decimal("0.1"), Decimal("0.2"), Decimal("0.03"), Decimal("0.1")]
    assert str(plan.settlement.withdraw_fee_rate) == "0.006"
    assert str(plan.settlement.withdraw_min) == "0.10"


def test_defaults_fill_the_optional_sections():
    plan = parse_plan(BASE, "p.yaml")
    assert (plan.currency, plan.timezone) == ("CNY", "Asia/Shanghai")
    assert (plan.jurisdiction, plan.direct_selling) == ("cn", False)
    assert plan.supply == "nearest_higher_upline"
    assert plan.customer_binding.mode == "first" and plan.customer_binding.days is None
    assert plan.rewards == [] and plan.upgrades == [] and plan.returns is None
    assert plan.settlement.rounding == "down" and plan.settlement.frozen_days == 7
    assert plan.levels[0].min_restock_qty == 0


def test_reward_defaults():
    plan = parse_plan(
        BASE
        + textwrap.dedent("""\
        rewards:
          - {id: ref, type: referral, rates: [0.05]}
          - {id: team, type: team_volume, ladder: [{from: 0, rate: 0.01}]}
          - {id: award, type: target_award, threshold: 1000, prize: {kind: cash, amount: 100}}
        """),
        "p.yaml",
    )
    ref, team, award = plan.rewards
    assert (ref.referee_level, ref.base, ref.payer, ref.window_days) == ("any", "referee_purchase", "company", None)
    assert (team.period, team.metric, team.differential) == ("month", "team_purchase", True)
    assert (award.period, award.metric, award.prize.value) == ("month", "personal_purchase", Decimal("100"))


def test_line_of_finds_keys_in_the_file():
    plan = load_plan(EXAMPLES / "glow-tiered.yaml")
    text = (EXAMPLES / "glow-tiered.yaml").read_text(encoding="utf-8").splitlines()
    line = plan.line_of("rewards[0].rates")
    assert line is not None and text[line - 1].strip() == "rates: [0.05, 0.02]"
    line = plan.line_of("upgrades[0].any[2]")
    assert text[line - 1].strip() == "- same_level_referrals: 3"
    assert text[plan.line_of("levels[3].discount") - 1].strip() == "discount: 0.60"
    assert plan.line_of("prices.GLOW-30ML.vip") == plan.line_of("prices.GLOW-30ML")
    assert plan.line_of("customer_binding.days") is None  # not written: a default


def test_load_plan_with_text_reports_under_the_given_name():
    with pytest.raises(PlanError) as caught:
        load_plan("brand/plan.yaml", text=BASE.replace("kind: tiered", "kind: mlm"))
    assert str(caught.value).startswith("brand/plan.yaml:4:7: kind:")


def test_a_missing_file_is_an_issue_not_a_traceback(tmp_path):
    with pytest.raises(PlanError) as caught:
        load_plan(tmp_path / "nope.yaml")
    (issue,) = caught.value.issues
    assert "cannot read the plan file" in issue.message and issue.file.endswith("nope.yaml")


# --- mistakes: path, line, column and a sentence ----------------------------------------

CASES = [
    # (name, yaml text, path, line, column, words in the message)
    (
        "discount above 1",
        BASE.replace("discount: 0.80", "discount: 1.4"),
        "levels[2].discount",
        17,
        15,
        "levels[2].discount: 1.4 is above 1; expected 1 or less",
    ),
    (
        "discount zero",
        BASE.replace("discount: 0.80", "discount: 0"),
        "levels[2].discount",
        17,
        15,
        "levels[2].discount: 0 is not above 0; expected a number greater than 0",
    ),
    (
        "lower level pays less",
        BASE.replace("discount: 0.60", "discount: 0.30"),
        "levels[1].discount",
        13,
        15,
        "0.30 is below 0.40, the discount of the higher level general",
    ),
    (
        "unknown key",
        BASE.replace("    discount: 0.60", "    discont: 0.60"),
        "levels[1].discont",
        13,
        5,
        "unknown key 'discont' (did you mean 'discount'?)",
    ),
    (
        "unknown kind",
        BASE.replace("kind: tiered", "kind: tierd"),
        "kind",
        4,
        7,
        "kind: the text 'tierd' is not allowed (did you mean 'tiered'?); expected 'tiered' or 'social_mall'",
    ),
    ("missing name", BASE.replace("name: 演示\n", ""), "name", 1, 1, "name: this required key is missing"),
    (
        "id not a slug",
        BASE.replace("id: demo", "id: Demo Plan"),
        "id",
        1,
        5,
        "id: the text 'Demo Plan' is not a slug; expected lowercase letters",
    ),
    (
        "version zero",
        BASE.replace("version: 1", "version: 0"),
        "version",
        2,
        10,
        "version: 0 is below 1; expected 1 or more",
    ),
    (
        "version not an integer",
        BASE.replace("version: 1", "version: one"),
        "version",
        2,
        10,
        "version: expected a whole number, got the text 'one'",
    ),
    (
        "two entry keys",
        BASE.replace("{first_order_amount: 298}", "{first_order_amount: 298, free: true}"),
        "levels[2].entry",
        16,
        12,
        "expected exactly one of first_order_amount: N, gift_pack: SKU or free: true, got 2",
    ),
    (
        "duplicate level code",
        BASE.replace("code: city", "code: general"),
        "levels[1].code",
        10,
        11,
        "'general' is already the code of levels[0]; level codes must be unique",
    ),
    (
        "unknown time zone",
        BASE + "timezone: Asia/Shanghia\n",
        "timezone",
        18,
        11,
        "'Asia/Shanghia' is not a known time zone; expected an IANA name",
    ),
    (
        "price for an unknown level",
        BASE + "prices:\n  GLOW-30ML: {retail: 298, genral: 110}\n",
        "prices.GLOW-30ML.genral",
        19,
        28,
        "'genral' is not a level code (did you mean 'general'?); expected retail or one of",
    ),
    (
        "price with three decimals",
        BASE + "prices:\n  GLOW-30ML: {retail: 298.005}\n",
        "prices.GLOW-30ML.retail",
        19,
        23,
        "298.005 has more than 2 decimal places",
    ),
    (
        "expiring binding without days",
        BASE + "customer_binding: {mode: expiring}\n",
        "customer_binding.days",
        18,
        19,
        "mode: expiring needs days",
    ),
    (
        "fee rate of 1",
        BASE + "settlement:\n  withdraw_fee_rate: 1\n",
        "settlement.withdraw_fee_rate",
        19,
        22,
        "1 is not below 1; expected a number less than 1",
    ),
    (
        "rounding mode",
        BASE + "settlement: {rounding: up}\n",
        "settlement.rounding",
        18,
        24,
        "'up' is not allowed; expected 'down', 'half_up' or 'half_even'",
    ),
    (
        "unknown reward type",
        BASE + "rewards:\n  - {id: r, type: referal, rates: [0.1]}\n",
        "rewards[0].type",
        19,
        19,
        "'referal' is not a reward type (did you mean 'referral'?)",
    ),
    (
        "reward without type",
        BASE + "rewards:\n  - {id: r, rates: [0.1]}\n",
        "rewards[0]",
        19,
        5,
        "the key 'type' is missing; expected one of: referral, retail_commission",
    ),
    (
        "rate above 1",
        BASE + "rewards:\n  - id: r\n    type: referral\n    rates: [0.05, 2]\n",
        "rewards[0].rates[1]",
        21,
        19,
        "rewards[0].rates[1]: 2 is above 1",
    ),
    (
        "per_head with rates",
        BASE + "rewards:\n  - id: r\n    type: referral\n    base: per_head\n    rates: [0.1]\n",
        "rewards[0].rates",
        22,
        12,
        "rates go with base: referee_purchase; with base: per_head write amounts",
    ),
    (
        "referee_purchase without rates",
        BASE + "rewards:\n  - {id: r, type: referral}\n",
        "rewards[0].rates",
        19,
        5,
        "base: referee_purchase needs rates",
    ),
    (
        "rates_by_level unknown level",
        BASE + "rewards:\n  - id: r\n    type: self_purchase_rebate\n    rates_by_level: {vip: 0.02, vipp: 0.03}\n",
        "rewards[0].rates_by_level.vipp",
        21,
        33,
        "'vipp' is not a level code (did you mean 'vip'?)",
    ),
    (
        "rebate with rate and rates_by_level",
        BASE + "rewards:\n  - id: r\n    type: self_purchase_rebate\n    rate: 0.02\n    rates_by_level: {vip: 0.02}\n",
        "rewards[0]",
        19,
        5,
        "expected exactly one of rate or rates_by_level, got both",
    ),
    (
        "ladder not increasing",
        BASE + "rewards:\n  - id: t\n    type: team_volume\n    ladder:\n"
        "      - {from: 300000, rate: 0.03}\n      - {from: 100000, rate: 0.05}\n",
        "rewards[0].ladder[1].from",
        23,
        16,
        "100000 is not above the previous step's 300000",
    ),
    (
        "ladder rate falls",
        BASE + "rewards:\n  - id: t\n    type: team_volume\n    ladder:\n"
        "      - {from: 100000, rate: 0.05}\n      - {from: 300000, rate: 0.03}\n",
        "rewards[0].ladder[1].rate",
        23,
        30,
        "0.03 is below the previous step's 0.05",
    ),
    (
        "cash prize without amount",
        BASE + "rewards:\n  - id: a\n    type: target_award\n    threshold: 100\n    prize: {kind: cash, name: 红包}\n",
        "rewards[0].prize.amount",
        22,
        12,
        "a cash prize needs amount",
    ),
    (
        "trip prize without cost",
        BASE + "rewards:\n  - id: a\n    type: target_award\n    threshold: 100\n"
        "    prize: {kind: trip, name: 泰国游, amount: 2000}\n",
        "rewards[0].prize.cost",
        22,
        12,
        "a trip prize needs cost: what it costs the brand",
    ),
    (
        "duplicate reward ids",
        BASE + "rewards:\n  - {id: r, type: referral, rates: [0.1]}\n  - {id: r, type: referral, rates: [0.2]}\n",
        "rewards[1].id",
        20,
        10,
        "'r' is already the id of rewards[0]; reward ids must be unique",
    ),
    (
        "reserved reward id",
        BASE + "rewards:\n  - {id: margin, type: referral, rates: [0.1]}\n",
        "rewards[0].id",
        19,
        10,
        "'margin' is reserved",
    ),
    (
        "upgrade to an unknown level",
        BASE + "upgrades:\n  - to: generel\n    any: [{direct_referrals: 3}]\n",
        "upgrades[0].to",
        19,
        9,
        "'generel' is not a level code (did you mean 'general'?)",
    ),
    (
        "upgrade to the lowest level",
        BASE + "upgrades:\n  - to: vip\n    any: [{direct_referrals: 3}]\n",
        "upgrades[0].to",
        19,
        9,
        "'vip' is the lowest level; nobody can upgrade to it",
    ),
    (
        "upgrade with any and all",
        BASE + "upgrades:\n  - to: city\n    any: [{direct_referrals: 3}]\n    all: [{cumulative_spend: 3}]\n",
        "upgrades[0]",
        19,
        5,
        "expected exactly one of any: [conditions] or all: [conditions], got both",
    ),
    (
        "condition with two keys",
        BASE + "upgrades:\n  - to: city\n    any:\n      - {direct_referrals: 3, cumulative_spend: 100}\n",
        "upgrades[0].any[0]",
        21,
        9,
        "expected exactly one condition key",
    ),
    (
        "unknown condition",
        BASE + "upgrades:\n  - to: city\n    any:\n      - {same_level_referral: 3}\n",
        "upgrades[0].any[0].same_level_referral",
        21,
        10,
        "(did you mean 'same_level_referrals'?)",
    ),
    (
        "returns refund above 1",
        BASE + "returns: {window_days: 365, refund_rate: 1.2}\n",
        "returns.refund_rate",
        18,
        42,
        "returns.refund_rate: 1.2 is above 1",
    ),
]


@pytest.mark.parametrize(("name", "text", "path", "line", "column", "words"), CASES, ids=[c[0] for c in CASES])
def test_each_mistake_is_reported_where_it_is(name, text, path, line, column, words):
    issue = only_issue(text)
    assert (issue.path, issue.line, issue.column) == (path, line, column), str(issue)
    assert words in issue.message
    assert issue.message.startswith(f"{path}: ")
    assert issue.file == "bad.yaml"
    assert str(issue) == f"bad.yaml:{line}:{column}: {issue.message}"
    assert issue.message_zh and issue.message_zh.startswith(f"{path}：")


def test_chinese_messages_for_common_mistakes():
    issue = only_issue(BASE.replace("discount: 0.80", "discount: 1.4"))
    assert issue.message_zh == "levels[2].discount：1.4 大于 1；应不大于 1"
    issue = only_issue(BASE.replace("discount: 0.60", "discount: 0.30"))
    assert "低等级的折扣不能低于高等级" in issue.message_zh
    issue = only_issue(BASE.replace("    discount: 0.60", "    discont: 0.60"))
    assert "未知的键“discont”（是不是“discount”？）" in issue.message_zh


def test_every_problem_is_reported_at_once():
    text = (
        BASE.replace("kind: tiered", "kind: tierd")
        .replace("discount: 0.80", "discount: 1.4")
        .replace("    discount: 0.60", "    discont: 0.60")
    )
    issues = issues_of(text)
    # the misspelt key is reported once, as unknown with a suggestion (not also as missing)
    assert [i.path for i in issues] == ["kind", "levels[1].discont", "levels[2].discount"]
    assert [i.line for i in issues] == sorted(i.line for i in issues)


def test_yaml_syntax_error_has_line_and_column():
    text = "id: demo\nversion: 1\nlevels:\n  - code: a\n   name: b\n"
    issue = only_issue(text)
    assert (issue.line, issue.column, issue.path) == (5, 4, "")  # where `name` is mis-indented
    assert issue.message.startswith("YAML syntax error:") and issue.code == "yaml_syntax"
    issue = only_issue("id: [demo\n")
    assert issue.line == 2 and "YAML syntax error" in issue.message


def test_duplicate_yaml_key_is_an_error():
    issue = only_issue(BASE + "kind: social_mall\n")
    assert (issue.path, issue.line, issue.column) == ("kind", 18, 1)
    assert "written twice (lines 4 and 18)" in issue.message


def test_empty_file_and_a_list_are_errors():
    assert "the file is empty" in only_issue("").message
    assert "the file holds a list" in only_issue("- a\n- b\n").message


def test_python_data_refuses_floats():
    data = {
        "id": "d",
        "version": 1,
        "name": "n",
        "kind": "tiered",
        "levels": [{"code": "a", "name": "A", "entry": {"free": True}, "discount": 0.5}],
    }
    with pytest.raises(PlanError) as caught:
        plan_from_data(data)
    (issue,) = caught.value.issues
    assert issue.path == "levels[0].discount" and "an exact number" in issue.message
    data["levels"][0]["discount"] = "0.5"
    assert plan_from_data(data).levels[0].discount == Decimal("0.5")


def test_plans_are_immutable():
    plan = parse_plan(BASE, "p.yaml")
    with pytest.raises(Exception, match="frozen"):
        plan.version = 2


# --- JSON schema -------------------------------------------------------------------------


def test_json_schema_describes_every_top_level_key():
    schema = plan_json_schema()
    json.dumps(schema)  # serialisable
    keys = {
        "id",
        "version",
        "name",
        "kind",
        "currency",
        "timezone",
        "jurisdiction",
        "direct_selling",
        "levels",
        "prices",
        "supply",
        "customer_binding",
        "rewards",
        "upgrades",
        "settlement",
        "returns",
    }
    assert keys == set(schema["properties"])
    assert set(schema["required"]) == {"id", "version", "name", "kind", "levels"}
    assert schema["additionalProperties"] is False
    reward_items = schema["properties"]["rewards"]["items"]
    assert set(reward_items["discriminator"]["mapping"]) == {
        "referral",
        "retail_commission",
        "self_purchase_rebate",
        "team_volume",
        "target_award",
    }
    ladder = schema["$defs"]["LadderStep"]
    assert set(ladder["properties"]) == {"from", "rate"}
    upgrade = schema["$defs"]["Upgrade"]
    assert {"to", "any", "all", "top_up"} == set(upgrade["properties"])
    discount = schema["$defs"]["Level"]["properties"]["discount"]["anyOf"][0]
    assert (discount["exclusiveMinimum"], discount["maximum"]) == (0, 1)

    def keywords(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                yield from keywords(value)
        elif isinstance(node, list):
            for value in node:
                yield from keywords(value)

    assert not {"gt", "ge", "lt", "le"} & set(keywords(schema))  # only JSON Schema keywords
    assert set(schema["$defs"]["Condition"]["properties"]) >= {
        "cumulative_purchase",
        "single_order_amount",
        "same_level_referrals",
        "team_volume",
        "direct_referrals",
        "cumulative_spend",
        "retail_sales",
    }


def test_plan_model_is_the_public_type():
    assert isinstance(parse_plan(BASE, "p.yaml"), Plan)


def test_a_lower_level_priced_below_a_higher_one_is_an_issue_with_line_and_column():
    """M7 15c: a lower level must never buy cheaper than a higher one, whether the prices are
    written or come from retail × discount."""
    text = BASE + textwrap.dedent(
        """\
        prices:
          A: {retail: 298, general: 110, city: 100, vip: 230}
          B: {retail: 100, general: 70}
          C: {city: 60, vip: 50}
          D: {vip: 50}
        """
    )
    lines = text.splitlines()
    issues = issues_of(text)
    where = {i.path: (i.line, i.column) for i in issues}
    assert set(where) == {"prices.A.city", "prices.B.general", "prices.C.vip"}, [str(i) for i in issues]
    a = next(i for i in issues if i.path == "prices.A.city")
    assert lines[a.line - 1][a.column - 1 :].startswith("100")
    assert "110" in a.message and "general" in a.message and "低等级" in a.message_zh
    b = next(i for i in issues if i.path == "prices.B.general")  # city pays 100 × 0.60 = 60 < 70
    assert lines[b.line - 1][b.column - 1 :].startswith("70") and "60" in b.message
    # equal prices, and written prices in order, are fine
    parse_plan(BASE + "prices:\n  A: {retail: 100, general: 60, city: 60, vip: 80}\n", "ok.yaml")
