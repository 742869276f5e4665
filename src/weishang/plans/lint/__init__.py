"""The plan linter: a bonus plan read against the rulebook (reference/compliance-rules.md).

Pure Python, like the rest of ``weishang.plans``. Every rule is data (``RULES``: id,
severity, where it applies, the citation) plus one small check; see docs/linter.md.

    from weishang.plans import load_plan
    from weishang.plans.lint import lint_plan

    report = lint_plan(load_plan("examples/plans/glow-tiered.yaml"), "cn")
    report.blocking            # True: at least one CRIT, the plan cannot be activated
    report.as_json()           # the design/plan-format.md lint output
    print(report.as_text())

With ``figures=`` (from the simulator: keys in ``FIGURES``) the rules on simulated figures
are applied too; ``thresholds=`` sets the brand's limits for ECON-LOSS and ECON-INV.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from importlib import import_module
from typing import Any

from ..schema import Plan
from .base import RULES, Context, Hit, Rule, Thresholds, line_for
from .report import SEVERITIES, Finding, LintReport

# Each module registers its rules in RULES when imported: import them in the rulebook's order.
for _module in ("cn", "wechat", "us", "eu", "uk", "simulated"):
    import_module(f"{__name__}.{_module}")
FIGURES = import_module(f"{__name__}.simulated").FIGURES

__all__ = [
    "FIGURES",
    "JURISDICTIONS",
    "RULES",
    "SEVERITIES",
    "Finding",
    "LintReport",
    "Rule",
    "Thresholds",
    "lint_plan",
    "rule_by_id",
    "rules_for",
]

JURISDICTIONS: dict[str, tuple[str, ...]] = {
    "cn": ("cn", "all"),
    "wechat": ("wechat", "cn", "all"),  # a brand selling through WeChat in China answers to both
    "us": ("us", "all"),
    "eu": ("eu", "all"),
    "uk": ("uk", "all"),
    "all": ("cn", "wechat", "us", "eu", "uk", "all"),
    "none": ("cn", "wechat", "us", "eu", "uk", "all"),  # sandbox: every rule, for information
}
"""What each ``--jurisdiction`` applies: rulebooks by the rulebook's "where" column
("all" = the ECON rules, which apply everywhere)."""


def rules_for(jurisdiction: str) -> list[Rule]:
    """The rules applied for ``jurisdiction`` (cn, wechat, us, eu, uk, all, none)."""
    if jurisdiction not in JURISDICTIONS:
        raise ValueError(f"unknown jurisdiction {jurisdiction!r}; expected one of: {', '.join(JURISDICTIONS)}")
    books = JURISDICTIONS[jurisdiction]
    return [r for r in RULES if r.where in books]


def rule_by_id(rule_id: str) -> Rule:
    for r in RULES:
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)


def lint_plan(
    plan: Plan,
    jurisdiction: str | None = None,
    *,
    figures: Mapping[str, Any] | None = None,
    thresholds: Thresholds | None = None,
) -> LintReport:
    """Lint ``plan`` for ``jurisdiction`` (default: the plan's own ``jurisdiction`` key).

    ``figures`` are simulated figures (keys in ``FIGURES``; numbers as Decimal, int, numeric
    str or float): the rules that need them are applied only when they are given, each only
    when a figure it reads is present (the others are listed in ``LintReport.not_checked``).
    An unknown figure key or a value that is not a number raises ``ValueError``.
    """
    jurisdiction = plan.jurisdiction if jurisdiction is None else jurisdiction
    applied = rules_for(jurisdiction)
    ctx = Context(plan=plan, figures=_figures(figures), thresholds=thresholds or Thresholds())
    findings: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()
    checked: list[str] = []
    not_checked: list[str] = []
    for rule in applied:
        if rule.kind == "figures" and not any(k in ctx.figures for k in rule.figures):
            not_checked.append(rule.id)
            continue
        checked.append(rule.id)
        hits = list(rule.check(ctx))
        if rule.kind == "text":
            ctx.text_hits[rule.id] = hits
        for hit in hits:
            key = (rule.id, hit.path, hit.message_en)
            if key in seen:
                continue
            seen.add(key)
            findings.append(_finding(rule, hit, plan))
    findings.sort(key=lambda f: f.sort_key)
    return LintReport(
        plan=plan.id,
        version=plan.version,
        jurisdiction=jurisdiction,
        findings=tuple(findings),
        rules_applied=tuple(checked),
        not_checked=tuple(not_checked),
        file=plan.source_file,
    )


def _finding(rule: Rule, hit: Hit, plan: Plan) -> Finding:
    return Finding(
        rule=rule.id,
        severity=hit.severity or rule.severity,
        path=hit.path,
        line=line_for(plan, hit.path),
        message_zh=hit.message_zh,
        message_en=hit.message_en,
        source=rule.source,
    )


def _figures(figures: Mapping[str, Any] | None) -> dict[str, Decimal]:
    if figures is None:
        return {}
    out: dict[str, Decimal] = {}
    for key, value in figures.items():
        if key not in FIGURES:
            raise ValueError(f"unknown figure {key!r}; expected any of: {', '.join(FIGURES)}")
        if isinstance(value, bool) or value is None:
            raise ValueError(f"figure {key!r}: expected a number, got {value!r}")
        try:
            number = Decimal(str(value)) if isinstance(value, float | int | str) else Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            raise ValueError(f"figure {key!r}: expected a number, got {value!r}") from None
        if not number.is_finite() or number < 0:
            raise ValueError(f"figure {key!r}: expected a finite number ≥ 0, got {value!r}")
        if key.endswith("_share") and number > 1:
            raise ValueError(f"figure {key!r} is a share between 0 and 1, got {value!r}")
        out[key] = number
    return out
