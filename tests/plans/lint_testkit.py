"""Small plans for the linter tests: a lawful base plan with any section replaced."""

from __future__ import annotations

import textwrap

from weishang.plans import Plan, parse_plan
from weishang.plans.lint import LintReport, lint_plan

LEVELS = """\
levels:
  - {code: partner, name: 合伙人, entry: {free: true}, discount: 0.80}
  - {code: vip, name: 特约, entry: {free: true}, discount: 0.80}
"""
REWARDS = """\
rewards:
  - {id: retail, type: retail_commission, rates: [0.10]}
"""
UPGRADES = """\
upgrades:
  - {to: partner, any: [{retail_sales: 10000}]}
"""
RETURNS = """\
returns: {window_days: 365, refund_rate: 0.90}
"""


def plan(
    *,
    levels: str = LEVELS,
    rewards: str = REWARDS,
    upgrades: str = UPGRADES,
    returns: str = RETURNS,
    top: str = "supply: company\n",
    kind: str = "tiered",
) -> Plan:
    """A lawful retail-only plan (free entry, company supply, one-level retail commission,
    upgrade by retail sales, buyback); pass YAML to replace a section ('' drops it)."""
    text = (
        f"id: lint-test\nversion: 1\nname: 测试\nkind: {kind}\n"
        + textwrap.dedent(top)
        + textwrap.dedent(levels)
        + textwrap.dedent(rewards)
        + textwrap.dedent(upgrades)
        + textwrap.dedent(returns)
    )
    return parse_plan(text, "lint-test.yaml")


def lint(p: Plan, jurisdiction: str = "all", **kw) -> LintReport:
    return lint_plan(p, jurisdiction, **kw)


def hits(report: LintReport, rule: str) -> list[tuple[str, str]]:
    """[(path, severity)] of ``rule``'s findings."""
    return [(f.path, f.severity) for f in report.findings if f.rule == rule]


def rules(report: LintReport) -> set[str]:
    return {f.rule for f in report.findings}


REMINDERS = {"CN-CLAIM", "CN-EC", "US-EARN"}
