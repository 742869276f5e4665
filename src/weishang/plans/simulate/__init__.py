"""The plan simulator: a bonus plan played, month by month, in the market a scenario file describes.

Pure Python like the rest of ``weishang.plans`` (numpy for the vectorised months, matplotlib
only when charts are drawn). docs/simulator.md explains the model and every metric.

    from weishang.plans import load_plan
    from weishang.plans.simulate import run_simulation
    from weishang.plans.lint import lint_plan

    result = run_simulation(load_plan("examples/plans/glow-tiered.yaml"),
                            "examples/scenarios/glow-tiered.yaml", out_dir="var/sim")
    print(result.summary_text("zh"))
    report = lint_plan(result.plan, "cn", figures=result.figures())
"""

from .exact import ExactResult, compare, replay
from .run import SimulationResult, run_simulation
from .scenario import (
    Scenario,
    ScenarioError,
    check_against_plan,
    load_scenario,
    parse_scenario,
    scenario_from_data,
    scenario_json_schema,
)

__all__ = [
    "ExactResult",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "check_against_plan",
    "compare",
    "load_scenario",
    "parse_scenario",
    "replay",
    "run_simulation",
    "scenario_from_data",
    "scenario_json_schema",
]
