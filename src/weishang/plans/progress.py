"""Upgrade progress: for each upgrade rule above an agent's level, every condition's target and
the agent's current figure — what the phone page "how far am I from the next level" shows.

Pure, like the engine: it reads a :class:`~weishang.plans.engine.HierarchyView` and writes
nothing. Each condition is tested by the engine's own check (the one ``Engine.upgrade_for``
decides upgrades with), so the figures shown are exactly the figures that decide; this module
only turns each check into a target, a current value and whether it is met.

    progress = upgrade_progress(plan, agent_id, view)
    for rule in progress.rules:          # nearest level first
        for c in rule.conditions:
            c.key, c.target, c.current, c.met, c.text   # 'cumulative_purchase', 5000, 3200, False, '¥3,200 / ¥5,000'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Literal

from .engine import Engine, HierarchyView
from .periods import period_bounds
from .schema import Plan

__all__ = ["ConditionProgress", "Progress", "RuleProgress", "format_amount", "upgrade_progress"]

# Conditions counted in yuan; the others count people.
MONEY_KEYS = frozenset(
    {"cumulative_purchase", "single_order_amount", "team_volume", "cumulative_spend", "retail_sales"}
)
ZERO = Decimal(0)
HUNDRED = Decimal(100)


def format_amount(value: Decimal, *, money: bool, symbol: str = "¥") -> str:
    """'¥3,200' (whole yuan), '¥3,200.50' (with fen), '3' (people)."""
    if not money:
        return format(value.to_integral_value(rounding=ROUND_DOWN), ",f")
    cents = value.quantize(Decimal("0.01"))
    text = format(cents.to_integral_value() if cents == cents.to_integral_value() else cents, ",f")
    return f"{symbol}{text}"


@dataclass(frozen=True)
class ConditionProgress:
    """One condition of one upgrade rule, for one agent."""

    path: str  # upgrades[0].any[2], as in the plan file and the engine's explanations
    key: str  # cumulative_purchase, single_order_amount, same_level_referrals, team_volume, …
    target: Decimal
    current: Decimal
    met: bool
    money: bool  # yuan (True) or people (False)
    applicable: bool = True  # False: 推三升一 lifts one level only, and this rule is further up
    period: str | None = None  # team_volume: month | quarter | year
    period_start: date | None = None
    period_end: date | None = None
    symbol: str = "¥"

    @property
    def shown(self) -> Decimal:
        """The current figure capped at the target: the value of a progress bar."""
        return min(max(self.current, ZERO), self.target)

    @property
    def percent(self) -> int:
        """Whole percent reached, 0–100 (rounded down: 99.9 % is not yet 100 %)."""
        if self.target <= 0:
            return 100
        return int((self.shown * HUNDRED / self.target).to_integral_value(rounding=ROUND_DOWN))

    @property
    def remaining(self) -> Decimal:
        return max(self.target - self.current, ZERO)

    @property
    def current_text(self) -> str:
        return format_amount(self.current, money=self.money, symbol=self.symbol)

    @property
    def target_text(self) -> str:
        return format_amount(self.target, money=self.money, symbol=self.symbol)

    @property
    def remaining_text(self) -> str:
        return format_amount(self.remaining, money=self.money, symbol=self.symbol)

    @property
    def text(self) -> str:
        """'¥3,200 / ¥5,000' or '2 / 3'."""
        return f"{self.current_text} / {self.target_text}"


@dataclass(frozen=True)
class RuleProgress:
    """One upgrade rule (``upgrades[rule_index]``) towards ``to_level``."""

    rule_index: int
    from_level: str
    to_level: str
    mode: Literal["any", "all"]
    conditions: tuple[ConditionProgress, ...]
    top_up: Decimal | None  # the 补差 an upgrade order must at least come to; None: the rule needs none
    symbol: str = "¥"

    @property
    def top_up_text(self) -> str:
        return format_amount(self.top_up, money=True, symbol=self.symbol) if self.top_up is not None else ""

    @property
    def met(self) -> bool:
        checks = [c.met for c in self.conditions]
        return any(checks) if self.mode == "any" else all(checks)

    @property
    def by_upgrade_order(self) -> bool:
        """The way up is an upgrade order (the rule asks for a top-up); otherwise it is automatic."""
        return self.top_up is not None


@dataclass(frozen=True)
class Progress:
    level: str  # the agent's level code
    top: bool  # already at the plan's highest level
    rules: tuple[RuleProgress, ...]  # rules to higher levels, nearest level first, file order within one level

    @property
    def next_level(self) -> str | None:
        """The nearest level some rule leads to."""
        return self.rules[0].to_level if self.rules else None

    @property
    def next_rules(self) -> tuple[RuleProgress, ...]:
        return tuple(rule for rule in self.rules if rule.to_level == self.next_level)

    @property
    def later_rules(self) -> tuple[RuleProgress, ...]:
        return tuple(rule for rule in self.rules if rule.to_level != self.next_level)


def upgrade_progress(plan: Plan, agent: int, view: HierarchyView, *, at: datetime | date | None = None) -> Progress:
    """Every upgrade rule of ``plan`` above the agent's level, each condition with its target and
    the agent's current figure. ``at`` picks the current period of team_volume conditions
    (default: today in the plan's time zone), as in ``Engine.upgrade_for``."""
    engine = Engine(plan)
    current = view.level_of(agent)
    current_rank = plan.rank(current)
    symbol = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£"}.get(plan.currency, f"{plan.currency} ")
    rules: list[RuleProgress] = []
    for index, rule in enumerate(plan.upgrades):
        if plan.rank(rule.to) >= current_rank:
            continue
        conditions = []
        for j, cond in enumerate(rule.conditions):
            path = f"upgrades[{index}].{rule.mode}[{j}]"
            # The engine's own test of the condition: the same figures decide the upgrade.
            check = engine.check_condition(agent, view, cond, rule, current, path, ZERO, at)
            period = start = end = None
            if cond.key == "team_volume":
                period = cond.value.period
                start, end = period_bounds(period, engine.today(at))
            applicable = not (cond.key == "same_level_referrals" and plan.rank(rule.to) != current_rank - 1)
            conditions.append(
                ConditionProgress(
                    path=path,
                    key=cond.key,
                    target=Decimal(check.required),
                    current=Decimal(check.actual),
                    met=check.met,
                    money=cond.key in MONEY_KEYS,
                    applicable=applicable,
                    period=period,
                    period_start=start,
                    period_end=end,
                    symbol=symbol,
                )
            )
        top_up = None
        if rule.top_up:
            top_up = max(ZERO, plan.level(rule.to).entry.amount - plan.level(current).entry.amount)
        rules.append(
            RuleProgress(
                rule_index=index,
                from_level=current,
                to_level=rule.to,
                mode=rule.mode,
                conditions=tuple(conditions),
                top_up=top_up,
                symbol=symbol,
            )
        )
    # Nearest level first (the highest rank number above the agent's); the file's order within a level.
    rules.sort(key=lambda r: (-plan.rank(r.to_level), r.rule_index))
    return Progress(level=current, top=current_rank == 1, rules=tuple(rules))
