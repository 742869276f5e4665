"""The scenario file: every key read, every problem reported as file:line:col path message."""

from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest
from simulate_testkit import EXAMPLE_NAMES, example_plan, example_scenario_path

from weishang.plans import PlanError
from weishang.plans.simulate import (
    ScenarioError,
    check_against_plan,
    load_scenario,
    parse_scenario,
    scenario_from_data,
    scenario_json_schema,
)

MINIMAL = """\
market_size: 1000
founders: {vip: 3}
recruitment: {contacts_per_agent_month: 5, join_probability: 0.05}
retail: {customers_per_agent_month: {mean: 2}}
"""


def issues(text: str) -> list:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(textwrap.dedent(text), "s.yaml")
    return err.value.issues


def test_the_design_example_reads_with_every_key():
    text = """\
    months: 36
    seed: 7
    market_size: 200000
    founders: {partner: 5, general: 20}
    recruitment:
      contacts_per_agent_month: 8
      join_probability: 0.04
      entry_level_mix: {vip: 0.6, city: 0.3, general: 0.1}
    retail:
      customers_per_agent_month: {mean: 3, sd: 2}
      units_per_customer: 1
      own_use_units_month: 1
    restock_policy: {target_months_of_stock: 2, buy_to_upgrade: true}
    attrition:
      base_monthly: 0.03
      loss_sensitivity: 0.5
    campaigns:
      - {month: 2, kind: meeting, extra_join_probability: 0.05, cost: 30000}
    """
    sc = parse_scenario(textwrap.dedent(text), "design.yaml")
    assert sc.months == 36 and sc.seed == 7 and sc.market_size == 200000
    assert sc.founders == {"partner": 5, "general": 20}
    assert sc.recruitment.join_probability == Decimal("0.04")  # exact, never a float
    assert sc.recruitment.entry_level_mix == {"vip": Decimal("0.6"), "city": Decimal("0.3"), "general": Decimal("0.1")}
    assert sc.retail.customers_per_agent_month.sd == 2
    assert sc.restock_policy.buy_to_upgrade is True
    assert sc.attrition.loss_sensitivity == Decimal("0.5")
    assert sc.campaigns[0].cost == Decimal("30000") and sc.campaigns[0].kind == "meeting"
    assert sc.start == "2026-01" and sc.product.unit_cost == 0  # defaults of the added keys
    assert sc.source_file == "design.yaml"


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_the_example_scenarios_fit_their_plans(name):
    sc = load_scenario(example_scenario_path(name))
    check_against_plan(sc, example_plan(name))
    assert sc.name and sc.months == 36


def test_defaults():
    sc = parse_scenario(MINIMAL)
    assert sc.months == 36 and sc.seed == 0 and sc.campaigns == []
    assert sc.restock_policy.target_months_of_stock == 2 and sc.restock_policy.buy_to_upgrade is False
    assert sc.attrition.base_monthly == 0 and sc.retail.units_per_customer == 1


def test_errors_say_file_line_column_path_and_what_is_expected():
    found = issues(MINIMAL.replace("join_probability: 0.05", "join_probability: 1.5"))
    assert len(found) == 1
    issue = found[0]
    assert (issue.file, issue.line, issue.path) == ("s.yaml", 3, "recruitment.join_probability")
    assert issue.column == 62
    assert "1.5 is above 1; expected 1 or less" in issue.message
    assert str(issue).startswith("s.yaml:3:62: recruitment.join_probability: 1.5 is above 1")
    assert isinstance(ScenarioError([]), PlanError)  # the CLI's PlanError handling covers scenarios too


def test_unknown_key_with_did_you_mean_and_no_second_missing_report():
    found = issues(MINIMAL.replace("join_probability", "join_probabilty"))
    assert [i.path for i in found] == ["recruitment.join_probabilty"]
    assert "did you mean 'join_probability'?" in found[0].message
    assert "the keys here are: contacts_per_agent_month, join_probability, entry_level_mix" in found[0].message
    top = issues(MINIMAL + "market: 5\n")
    assert top[0].path == "market" and top[0].line == 5 and "market_size" in top[0].message


def test_missing_required_keys():
    found = issues("months: 12\nfounders: {vip: 1}\n")
    assert {i.path for i in found} == {"market_size", "recruitment", "retail"}
    assert all("this required key is missing" in i.message for i in found)
    nested = issues(MINIMAL.replace("{mean: 2}", "{sd: 2}"))
    assert nested[0].path == "retail.customers_per_agent_month.mean"


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (("market_size: 1000", "market_size: 0"), "market_size", "0 is below 1"),
        (("founders: {vip: 3}", "founders: {}"), "founders", "at least 1 item"),
        (("founders: {vip: 3}", "founders: {vip: 2.5}"), "founders.vip", "whole number"),
        (("{mean: 2}", "{mean: -1}"), "retail.customers_per_agent_month.mean", "-1 is below 0"),
        (("join_probability: 0.05", "join_probability: lots"), "recruitment.join_probability", "a number"),
    ],
)
def test_values_out_of_range(change, path, words):
    found = issues(MINIMAL.replace(*change))
    assert found[0].path == path and words in found[0].message


def test_checks_across_keys():
    mix = issues(
        MINIMAL.replace("join_probability: 0.05}", "join_probability: 0.05,\n  entry_level_mix: {vip: 0.5, city: 0.4}}")
    )
    assert mix[0].path == "recruitment.entry_level_mix" and "add up to 0.9; expected exactly 1" in mix[0].message
    late = issues(MINIMAL + "months: 12\ncampaigns:\n  - {month: 13, kind: meeting}\n")
    assert late[0].path == "campaigns[0].month" and "after the run's last month (12)" in late[0].message
    assert late[0].line == 7
    start = issues(MINIMAL + "start: 2026-13\n")
    assert start[0].path == "start" and "expected YYYY-MM" in start[0].message
    kind = issues(MINIMAL + "campaigns:\n  - {month: 1, kind: party}\n")
    assert kind[0].path == "campaigns[0].kind" and "meeting" in kind[0].message


def test_yaml_problems_empty_files_and_unreadable_files(tmp_path):
    assert "YAML syntax error" in issues("market_size: [1000\n")[0].message
    assert "the file is empty" in issues("")[0].message
    assert "does not hold a mapping" in issues("- 1\n- 2\n")[0].message
    twice = issues(MINIMAL + "market_size: 5\n")
    assert twice[0].path == "market_size" and "written twice" in twice[0].message
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "nope.yaml")
    assert "cannot read the scenario file" in err.value.issues[0].message


def test_floats_are_refused_when_data_is_passed_in():
    with pytest.raises(ScenarioError) as err:
        scenario_from_data(
            {
                "market_size": 10,
                "founders": {"vip": 1},
                "recruitment": {"contacts_per_agent_month": 5, "join_probability": 0.05},
                "retail": {"customers_per_agent_month": {"mean": 1}},
            }
        )
    assert "float" in err.value.issues[0].message


def test_levels_and_products_are_checked_against_the_plan():
    plan = example_plan("glow-tiered")
    sc = parse_scenario(
        MINIMAL.replace("{vip: 3}", "{vipp: 3}").replace(
            "join_probability: 0.05}", "join_probability: 0.05, entry_level_mix: {vip: 0.5, boss: 0.5}}"
        ),
        "m.yaml",
    )
    with pytest.raises(ScenarioError) as err:
        check_against_plan(sc, plan)
    found = {i.path: i for i in err.value.issues}
    assert set(found) == {"founders.vipp", "recruitment.entry_level_mix.boss"}
    assert "did you mean 'vip'?" in found["founders.vipp"].message
    assert found["founders.vipp"].line == 2 and found["founders.vipp"].file == "m.yaml"
    no_price = parse_scenario(MINIMAL + "product: {sku: NEW-SKU}\n")
    with pytest.raises(ScenarioError, match="no retail price for NEW-SKU"):
        check_against_plan(no_price, plan)
    priced = parse_scenario(MINIMAL + "product: {sku: NEW-SKU, retail: 50}\n")
    check_against_plan(priced, plan)


def test_json_schema_names_every_key():
    schema = scenario_json_schema()
    assert schema["title"] == "Weishang plan simulator scenario"
    assert {
        "market_size",
        "founders",
        "recruitment",
        "retail",
        "restock_policy",
        "attrition",
        "campaigns",
        "months",
        "seed",
    } <= set(schema["properties"])
