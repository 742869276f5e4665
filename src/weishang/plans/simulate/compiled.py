"""A plan turned into integer tables for the vectorised model: prices in fen, rates as exact fractions.

Every amount is an integer number of fen (int64) and every rate a fraction ``num / den`` with
``den`` a power of ten, so that ``amount × rate`` is computed exactly and rounded once, per
reward line, as ``settlement.rounding`` says — the same arithmetic as ``Engine`` does with
``Decimal`` (docs/plans.md, "Money and rounding"). No float ever holds money.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import overload

import numpy as np

from ..schema import (
    Plan,
    ReferralReward,
    RetailCommissionReward,
    SelfPurchaseRebateReward,
    TargetAwardReward,
    TeamVolumeReward,
)

__all__ = ["Compiled", "compile_plan", "fen", "frac", "round_div", "round_div_int"]

PURCHASE_CONDITIONS = ("cumulative_purchase", "single_order_amount", "cumulative_spend")


def fen(amount: Decimal) -> int:
    """Yuan (at most two decimals) → integer fen, exactly."""
    value = Decimal(amount) * 100
    if value != value.to_integral_value():
        raise ValueError(f"{amount} has more than two decimals")
    return int(value)


def fen_ceil(amount: Decimal) -> int:
    """The smallest whole number of fen at least ``amount`` yuan (thresholds with more decimals)."""
    value = Decimal(amount) * 100
    integral = int(value.to_integral_value(rounding="ROUND_CEILING"))
    return integral


def frac(rate: Decimal) -> tuple[int, int]:
    """A Decimal as an exact fraction (num, den) with den a power of ten."""
    sign, digits, exponent = Decimal(rate).as_tuple()
    if not isinstance(exponent, int):  # a letter: NaN or infinity
        raise ValueError(f"not a finite number: {rate}")
    num = int("".join(map(str, digits)) or "0")
    if sign:
        num = -num
    if exponent >= 0:
        return num * 10**exponent, 1
    return num, 10 ** (-exponent)


@overload
def common(rates: Sequence[Decimal]) -> tuple[list[int], int]: ...
@overload
def common(rates: Sequence[Decimal | None]) -> tuple[list[int | None], int]: ...
def common(rates: Sequence[Decimal | None]) -> tuple[Sequence[int | None], int]:
    """Rates over one common denominator (the largest power of ten among them)."""
    fracs = [frac(r) if r is not None else None for r in rates]
    den = max((f[1] for f in fracs if f is not None), default=1)
    return [f[0] * (den // f[1]) if f is not None else None for f in fracs], den


def round_div(x: np.ndarray, den: int, mode: str) -> np.ndarray:
    """``x / den`` rounded to a whole fen as Decimal's ROUND_DOWN / ROUND_HALF_UP / ROUND_HALF_EVEN would
    (symmetric about zero: down is toward zero, half-up is away from zero at .5)."""
    x = np.asarray(x, dtype=np.int64)
    if den == 1:
        return x.copy()
    a = np.abs(x)
    q, r = np.divmod(a, den)
    if mode == "half_up":
        q = q + (2 * r >= den)
    elif mode == "half_even":
        q = q + ((2 * r > den) | ((2 * r == den) & (q % 2 == 1)))
    elif mode != "down":
        raise ValueError(f"unknown rounding {mode!r}")
    return np.where(x < 0, -q, q).astype(np.int64)


def round_div_int(x: int, den: int, mode: str) -> int:
    return int(round_div(np.array([x], dtype=np.int64), den, mode)[0])


@dataclass
class ReferralRule:
    id: str
    nums: list[int]  # by generation, over den
    den: int
    test: str  # same | lower | higher | any
    payer_upline: bool
    window_days: int | None
    per_head: bool
    amounts: list[int] = field(default_factory=list)  # fen by generation (per head)


@dataclass
class RetailRule:
    id: str
    nums: np.ndarray  # [generation, level] numerators (0 where no rate)
    valid: np.ndarray  # [generation, level] bool: the level has a rate at that generation
    den: int
    generations: int


@dataclass
class RebateRule:
    id: str
    nums: np.ndarray  # [level]
    valid: np.ndarray  # [level]
    den: int


@dataclass
class TeamRule:
    id: str
    period: str
    metric: str  # team_purchase | team_retail
    from_fen: np.ndarray  # ladder steps, increasing
    nums: np.ndarray
    den: int
    differential: bool


@dataclass
class AwardRule:
    id: str
    period: str
    metric: str
    threshold: int  # fen (or heads for new_referrals), rounded up: figure ≥ threshold ⇔ figure ≥ this
    value: int  # fen: cash paid, or what a trip / goods prize costs the brand
    cash: bool


@dataclass
class Condition:
    key: str
    value: int  # fen, or a head count
    period: str | None = None  # team_volume


@dataclass
class UpgradeRule:
    index: int
    to: int  # level index (0 = highest)
    mode: str  # any | all
    conditions: list[Condition]
    top_up: bool


@dataclass
class Compiled:
    plan: Plan
    codes: list[str]
    names: list[str]
    sku: str
    retail: int  # fen, retail price of the simulated unit
    price: np.ndarray  # [level] fen: the level price of one unit
    entry_order: np.ndarray  # [level] fen: first_order_amount (0 = none)
    gift_pack: list[str | None]
    gift_price: np.ndarray  # [level] fen: the gift pack at the level's own price (0 = none)
    entry_amount: np.ndarray  # [level] fen: entry.amount, what top_up compares
    min_qty: np.ndarray  # [level]
    referral: list[ReferralRule]
    retail_rules: list[RetailRule]
    rebates: list[RebateRule]
    teams: list[TeamRule]
    awards: list[AwardRule]
    upgrades: list[UpgradeRule]
    returns_window: int | None
    returns_num: int
    returns_den: int
    rounding: str
    upline_supply: bool
    social_mall: bool
    unit_cost: int
    rule_ids: list[str]
    periods: tuple[str, ...]  # periods whose figures must be kept (rules and upgrade conditions)

    @property
    def levels(self) -> int:
        return len(self.codes)


def compile_plan(plan: Plan, *, sku: str, retail: Decimal | None, unit_cost: Decimal) -> Compiled:
    codes = list(plan.level_codes)
    index = {code: i for i, code in enumerate(codes)}
    nlev = len(codes)
    retail_yuan = retail if retail is not None else plan.prices[sku]["retail"]
    price = np.array([fen(plan.price(sku, code, retail_yuan)) for code in codes], dtype=np.int64)
    retail_fen = fen(plan.price(sku, "retail", retail_yuan))
    entry_order = np.zeros(nlev, dtype=np.int64)
    gift_price = np.zeros(nlev, dtype=np.int64)
    gift_pack: list[str | None] = []
    for i, level in enumerate(plan.levels):
        if level.entry.first_order_amount is not None:
            entry_order[i] = fen(level.entry.first_order_amount)
        gift_pack.append(level.entry.gift_pack)
        if level.entry.gift_pack:
            gift_price[i] = fen(plan.price(level.entry.gift_pack, level.code))
    entry_amount = np.array([fen(level.entry.amount) for level in plan.levels], dtype=np.int64)
    min_qty = np.array([level.min_restock_qty for level in plan.levels], dtype=np.int64)

    referral, retail_rules, rebates, teams, awards = [], [], [], [], []
    periods: set[str] = set()
    for rule in plan.rewards:
        if isinstance(rule, ReferralReward):
            if rule.base == "per_head":
                referral.append(
                    ReferralRule(
                        rule.id,
                        [],
                        1,
                        rule.referee_level,
                        rule.payer == "upline",
                        None,
                        True,
                        [fen(a) for a in rule.amounts or []],
                    )
                )
            else:
                nums, den = common(list(rule.rates or []))
                referral.append(
                    ReferralRule(
                        rule.id, nums, den, rule.referee_level, rule.payer == "upline", rule.window_days, False
                    )
                )
        elif isinstance(rule, RetailCommissionReward):
            gens = rule.generations
            table: list[list[Decimal | None]] = []
            for g in range(gens):
                row = []
                for code in codes:
                    rates = rule.rates if rule.rates is not None else (rule.rates_by_level or {}).get(code)
                    row.append(rates[g] if rates is not None and g < len(rates) else None)
                table.append(row)
            flat, den = common([r for row in table for r in row])
            table_nums = np.array([0 if v is None else v for v in flat], dtype=np.int64).reshape(gens, nlev)
            valid = np.array([v is not None for v in flat], dtype=bool).reshape(gens, nlev)
            retail_rules.append(RetailRule(rule.id, table_nums, valid, den, gens))
        elif isinstance(rule, SelfPurchaseRebateReward):
            level_rates = [
                rule.rate if rule.rate is not None else (rule.rates_by_level or {}).get(code) for code in codes
            ]
            flat, den = common(level_rates)
            rebates.append(
                RebateRule(
                    rule.id,
                    np.array([0 if v is None else v for v in flat], dtype=np.int64),
                    np.array([v is not None for v in flat], dtype=bool),
                    den,
                )
            )
        elif isinstance(rule, TeamVolumeReward):
            ladder, den = common([step.rate for step in rule.ladder])
            teams.append(
                TeamRule(
                    rule.id,
                    rule.period,
                    rule.metric,
                    np.array([fen(step.from_) for step in rule.ladder], dtype=np.int64),
                    np.array(ladder, dtype=np.int64),
                    den,
                    rule.differential,
                )
            )
            periods.add(rule.period)
        elif isinstance(rule, TargetAwardReward):
            if rule.metric == "new_referrals":
                threshold = int(Decimal(rule.threshold).to_integral_value(rounding="ROUND_CEILING"))
            else:
                threshold = fen_ceil(rule.threshold)
            awards.append(
                AwardRule(
                    rule.id, rule.period, rule.metric, threshold, fen(rule.prize.value), rule.prize.kind == "cash"
                )
            )
            periods.add(rule.period)

    upgrades = []
    for i, up in enumerate(plan.upgrades):
        conditions = []
        for cond in up.conditions:
            if cond.key == "team_volume":
                conditions.append(Condition("team_volume", fen(cond.value.amount), cond.value.period))
                periods.add(cond.value.period)
            elif cond.key in ("same_level_referrals", "direct_referrals"):
                conditions.append(Condition(cond.key, int(cond.value)))
            else:
                conditions.append(Condition(cond.key, fen_ceil(cond.value)))
        upgrades.append(UpgradeRule(i, index[up.to], up.mode, conditions, up.top_up))

    if plan.returns is not None:
        rnum, rden = frac(plan.returns.refund_rate)
        window = plan.returns.window_days
    else:
        rnum, rden, window = 0, 1, None
    return Compiled(
        plan=plan,
        codes=codes,
        names=[level.name for level in plan.levels],
        sku=sku,
        retail=retail_fen,
        price=price,
        entry_order=entry_order,
        gift_pack=gift_pack,
        gift_price=gift_price,
        entry_amount=entry_amount,
        min_qty=min_qty,
        referral=referral,
        retail_rules=retail_rules,
        rebates=rebates,
        teams=teams,
        awards=awards,
        upgrades=upgrades,
        returns_window=window,
        returns_num=rnum,
        returns_den=rden,
        rounding=plan.settlement.rounding,
        upline_supply=plan.supply in ("nearest_higher_upline", "cloud"),
        social_mall=plan.kind == "social_mall",
        unit_cost=fen(unit_cost),
        rule_ids=[rule.id for rule in plan.rewards],
        periods=tuple(p for p in ("month", "quarter", "year") if p in periods),
    )
