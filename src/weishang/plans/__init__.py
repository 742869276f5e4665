"""Bonus plans: the plan file's schema and loader, and the reward engine.

Pure Python — nothing here imports Django (a test enforces it). ``rewards/`` connects the
engine to orders and the ledger; the linter and the simulator read the same ``Plan``.

    from weishang.plans import load_plan, Engine
    plan = load_plan("examples/plans/glow-tiered.yaml")
    lines = Engine(plan).process(event, view)
"""

from .engine import (
    AgentExited,
    AgentJoined,
    AgentUpgraded,
    ConditionCheck,
    EarnedLine,
    Engine,
    EngineError,
    HierarchyView,
    OrderCompleted,
    OrderRefunded,
    PeriodClosed,
    StockLot,
    UpgradeDecision,
    reverse_lines,
)
from .loader import PlanError, PlanIssue, load_plan, parse_plan, plan_from_data, plan_json_schema
from .memory import InMemoryHierarchy
from .periods import period_bounds, period_label
from .schema import Period, Plan, round_money

__all__ = [
    "AgentExited",
    "AgentJoined",
    "AgentUpgraded",
    "ConditionCheck",
    "Engine",
    "EngineError",
    "HierarchyView",
    "InMemoryHierarchy",
    "OrderCompleted",
    "OrderRefunded",
    "PeriodClosed",
    "Period",
    "Plan",
    "PlanError",
    "PlanIssue",
    "EarnedLine",
    "StockLot",
    "UpgradeDecision",
    "load_plan",
    "parse_plan",
    "period_bounds",
    "period_label",
    "plan_from_data",
    "plan_json_schema",
    "reverse_lines",
    "round_money",
]
