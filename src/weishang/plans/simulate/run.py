"""``run_simulation``: a plan played in a scenario's market, month by month, with its report."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..campaign import CampaignOverlay, apply_overlay
from ..loader import load_plan
from ..schema import Plan
from .compiled import Compiled, compile_plan
from .metrics import build_report
from .model import Market
from .progress import Progress
from .scenario import Scenario, check_against_plan, load_scenario

if TYPE_CHECKING:  # the linter is imported when a run is linted, not with the simulator
    from ..lint.report import LintReport

__all__ = ["SimulationResult", "run_simulation"]

FIGURE_RULES = ("CN-CRIM", "US-NONP", "EU-14-SIM", "ECON-LOSS", "ECON-INV")


@dataclass
class SimulationResult:
    """A finished run: ``report`` (the report.json dict), the model's state, the files written."""

    report: dict[str, Any]
    plan: Plan
    scenario: Scenario
    market: Market
    compiled: Compiled
    elapsed: float
    out_dir: Path | None = None
    files: list[Path] = field(default_factory=list)

    def figures(self) -> dict[str, Decimal]:
        """The linter's figures (``weishang.plans.lint.FIGURES``): ``lint_plan(plan, j, figures=result.figures())``."""
        out: dict[str, Decimal] = {}
        for key, value in self.report["figures"].items():
            number = Decimal(str(value))
            if key.endswith("_share"):  # 0.836533 → 0.8365: the linter prints 83.65%
                number = number.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
            out[key] = number
        return out

    def lint(self, jurisdiction: str | None = None) -> LintReport:
        """The plan linted with this run's figures (every rule, text and figures)."""
        from ..lint import lint_plan

        return lint_plan(self.plan, jurisdiction, figures=self.figures())

    def summary_text(self, lang: str = "zh") -> str:
        """A short summary for the terminal: ``zh``, ``en`` or ``both`` (Chinese first)."""
        from .text import summary

        if lang == "both":
            return summary(self.report, "zh") + "\n\n" + summary(self.report, "en")
        return summary(self.report, lang)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write report.json, the PNG charts and report.html into ``out_dir``."""
        from .charts import write_charts
        from .html import write_html

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = []
        path = out / "report.json"
        path.write_text(json.dumps(self.public_report(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        files.append(path)
        charts = write_charts(self.report, out)
        files += list(charts.values())
        files.append(write_html(self.public_report(), charts, out / "report.html"))
        self.out_dir, self.files = out, files
        return files

    def public_report(self) -> dict[str, Any]:
        return {k: v for k, v in self.report.items() if not k.startswith("_")}


def run_simulation(
    plan: Plan | str | Path,
    scenario: Scenario | str | Path,
    *,
    months: int | None = None,
    seed: int | None = None,
    out_dir: str | Path | None = None,
    progress: bool | None = False,
    record: bool = False,
    lint: bool = True,
    campaigns: Sequence[CampaignOverlay] = (),
) -> SimulationResult:
    """Simulate ``plan`` in ``scenario``'s market and build the report.

    ``months`` and ``seed`` override the scenario's; the same seed gives the same numbers.
    ``out_dir``: also write report.json, the charts and report.html there. ``progress``: draw a
    progress bar on stderr (``None``: only when stderr is a terminal). ``record``: keep every
    event for the exact path (``exact.replay``; small populations only). ``lint``: add the
    findings of the rules on simulated figures for the plan's jurisdiction to the report.
    ``campaigns``: dated overlays (``plans.campaign``); each month of the run that a campaign's
    dates touch (the scenario's ``start`` is month 1) runs on the plan with it laid over: its
    reduced entry amounts and restock minimums, its extra reward rules.

    Raises ``PlanError`` / ``ScenarioError`` for unusable files (file:line:col path message).
    """
    if not isinstance(plan, Plan):
        plan = load_plan(plan)
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    check_against_plan(scenario, plan)
    months = scenario.months if months is None else int(months)
    seed = scenario.seed if seed is None else int(seed)
    if months < 1:
        raise ValueError("months must be at least 1")
    gift_packs = {level.entry.gift_pack for level in plan.levels if level.entry.gift_pack}
    sku = scenario.product.sku or next(s for s in plan.prices if s not in gift_packs)
    compiled = compile_plan(plan, sku=sku, retail=scenario.product.retail, unit_cost=scenario.product.unit_cost)
    overlays = {
        month: compile_plan(effective, sku=sku, retail=scenario.product.retail, unit_cost=scenario.product.unit_cost)
        for month, effective in campaign_months(plan, campaigns, start=scenario.start, months=months).items()
    }
    if overlays and record:
        raise ValueError("the exact path (record) replays one plan: simulate campaigns without it")
    started = time.perf_counter()
    market = Market(compiled, scenario, months=months, seed=seed, record=record, overlays=overlays)
    bar = Progress(months, progress)
    try:
        for month in range(1, months + 1):
            market.step(month)
            bar.update(month, f"{market.n:,} agents")
    finally:
        bar.close()
    report = build_report(
        market, plan_file=plan.source_file, scenario_file=scenario.source_file, months=months, seed=seed
    )
    result = SimulationResult(report, plan, scenario, market, compiled, 0.0)
    if lint:
        report["lint"] = _figure_findings(result)
    result.elapsed = time.perf_counter() - started
    if out_dir is not None:
        result.write(out_dir)
    return result


def campaign_months(plan: Plan, campaigns: Sequence[CampaignOverlay], *, start: str, months: int) -> dict[int, Plan]:
    """Month of the run (1 = ``start``, "YYYY-MM") → the plan with every campaign whose dates
    touch that calendar month laid over it, in the order given. ``ValueError`` if one does not fit."""
    year, first = (int(x) for x in start.split("-"))
    out: dict[int, Plan] = {}
    for month in range(1, months + 1):
        index = year * 12 + first - 1 + month - 1
        y, m = divmod(index, 12)
        begins = date(y, m + 1, 1)
        ends = date(y + (m + 1) // 12, (m + 1) % 12 + 1, 1) - timedelta(days=1)
        running = [c for c in campaigns if c.starts <= ends and c.ends >= begins]
        if running:
            effective = plan
            for campaign in running:
                effective = apply_overlay(effective, campaign)
            out[month] = effective
    return out


def _figure_findings(result: SimulationResult) -> dict[str, Any]:
    jurisdiction = result.plan.jurisdiction
    report = result.lint(jurisdiction)
    findings = [f for f in report.as_json()["findings"] if f["rule"] in FIGURE_RULES]
    return {
        "jurisdiction": jurisdiction,
        "findings": findings,
        "command": "weishang plan lint PLAN.yaml --simulate SCENARIO.yaml",
    }
