"""The plan file as pydantic models: one description of a brand's agent system.

Pure Python (no Django). The keys and their meaning are the public interface described in
design/plan-format.md and documented key by key in docs/plans.md. Money and rates are
``Decimal``; a float is refused because it has already lost the exact figure (the loader
reads YAML numbers straight into ``Decimal``).

Checks that need more than one key (level order, level codes used elsewhere, unique ids)
run in ``Plan``'s after-validator and report each problem with its own key path, through
:func:`rule_error` (error type ``plan_rule``; the loader turns it into ``PlanIssue``s).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

CENT = Decimal("0.01")
ROUNDING_MODES = {"down": ROUND_DOWN, "half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}
RESERVED_RULE_IDS = frozenset({"margin", "returns"})
PRICE_RETAIL_KEY = "retail"


def round_money(amount: Decimal, mode: str = "half_up") -> Decimal:
    """``amount`` rounded to 0.01 yuan with ``mode`` (down | half_up | half_even).

    ``down`` rounds toward zero (the remainder stays with the brand).
    """
    if isinstance(amount, float):
        raise TypeError("money must not be a float; pass a str or Decimal")
    return Decimal(amount).quantize(CENT, rounding=ROUNDING_MODES[mode])


# ---------------------------------------------------------------------------------------
# Errors raised from validators
# ---------------------------------------------------------------------------------------

SubPath = tuple[str | int, ...]


def rule_error(*issues: tuple[Any, ...]) -> PydanticCustomError:
    """A validation error carrying one or more (sub-path, English, Chinese[, "key"]) issues.

    The sub-path is relative to the model that raises it; the loader prefixes the model's
    own location and the file position (of the value, or of the key when the issue ends
    with "key": the key itself is wrong).
    """
    first = issues[0][1]
    return PydanticCustomError("plan_rule", "{message}", {"message": first, "issues": tuple(issues)})


def did_you_mean(word: object, candidates: list[str] | tuple[str, ...]) -> tuple[str, str]:
    """(" (did you mean 'x'?)", "（是不是“x”？）") or ('', '') when nothing is close."""
    if not isinstance(word, str):
        return "", ""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    if not close:
        return "", ""
    return f" (did you mean '{close[0]}'?)", f"（是不是“{close[0]}”？）"


def fmt_num(value: Decimal | int) -> str:
    """A number as written by a person: 0.30 stays 0.30, 1E+2 becomes 100."""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent  # an int for a finite number, a letter for NaN and infinity
        if value == value.to_integral_value() and isinstance(exponent, int) and exponent > 0:
            return str(value.quantize(Decimal(1)))
        return format(value, "f")
    return str(value)


# ---------------------------------------------------------------------------------------
# Field types
# ---------------------------------------------------------------------------------------


def exact_number(value: Any) -> Any:
    """Accept int, Decimal or a numeric string as Decimal; refuse float and bool."""
    if isinstance(value, bool):
        raise PydanticCustomError(
            "plan_not_number", "expected a number, got {got}", {"got": "true" if value else "false"}
        )
    if isinstance(value, float):
        raise PydanticCustomError(
            "plan_float", "a float cannot hold an exact amount ({got}); pass a str or Decimal", {"got": repr(value)}
        )
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value.strip().replace("_", ""))
        except InvalidOperation:
            return value  # pydantic reports it as "not a number"
    return value


Money = Annotated[Decimal, Field(ge=0, decimal_places=2, allow_inf_nan=False), BeforeValidator(exact_number)]
"""Yuan, at most two decimals, not negative."""

Rate = Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False), BeforeValidator(exact_number)]
"""A share between 0 and 1 (0.05 = 5%)."""

Quantity = Annotated[Decimal, Field(ge=0, allow_inf_nan=False), BeforeValidator(exact_number)]
"""A non-negative figure that may be money or a count (target thresholds)."""

NonNegInt = Annotated[int, Strict(), Field(ge=0)]
PosInt = Annotated[int, Strict(), Field(ge=1)]
StrictBool = Annotated[bool, Strict()]
Text = Annotated[str, Strict(), Field(min_length=1)]

SLUG_RE = r"^[a-z0-9][a-z0-9_-]*$"
Slug = Annotated[str, Strict(), Field(pattern=SLUG_RE, min_length=1, max_length=64)]

Period = Literal["month", "quarter", "year"]
PERIODS: tuple[str, ...] = ("month", "quarter", "year")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, validate_default=False)


# ---------------------------------------------------------------------------------------
# Levels
# ---------------------------------------------------------------------------------------


class Entry(_Model):
    """How one becomes an agent at a level: exactly one of the three keys."""

    first_order_amount: Money | None = Field(
        default=None, description="entry order (首批进货) of at least this many yuan at the level price"
    )
    gift_pack: Text | None = Field(default=None, description="buy this gift-pack SKU (大礼包)")
    free: StrictBool | None = Field(default=None, description="true: no entry order (reached by upgrade or sign-up)")

    @model_validator(mode="after")
    def _exactly_one(self) -> Entry:
        given = [k for k in ("first_order_amount", "gift_pack", "free") if getattr(self, k) is not None]
        if len(given) != 1:
            raise rule_error(
                (
                    (),
                    "expected exactly one of first_order_amount: N, gift_pack: SKU or free: true"
                    + (f", got {len(given)} ({', '.join(given)})" if given else ", got none"),
                    "应恰好写一项：first_order_amount（首批金额）、gift_pack（礼包 SKU）或 free: true",
                )
            )
        if self.free is False:
            raise rule_error(
                (
                    ("free",),
                    "free must be true; for a paid entry write first_order_amount: N or gift_pack: SKU",
                    "free 只能为 true；需要付费加入请写 first_order_amount 或 gift_pack",
                )
            )
        return self

    @property
    def amount(self) -> Decimal:
        """The entry order amount in yuan; 0 for a gift pack or a free entry."""
        return self.first_order_amount if self.first_order_amount is not None else Decimal(0)


class Level(_Model):
    code: Slug = Field(description="slug used everywhere else in the plan, e.g. partner")
    name: Text = Field(description="the level's display name, e.g. 联创")
    entry: Entry = Field(description="{first_order_amount: N} | {gift_pack: SKU} | {free: true}")
    discount: Annotated[Decimal, Field(gt=0, le=1, allow_inf_nan=False), BeforeValidator(exact_number)] = Field(
        description="level price = retail × discount (0 < discount ≤ 1), unless prices: overrides it"
    )
    min_restock_qty: NonNegInt = Field(default=0, description="minimum units per restock order")


# ---------------------------------------------------------------------------------------
# Rewards
# ---------------------------------------------------------------------------------------


class _Reward(_Model):
    id: Slug = Field(description="unique id of the rule; reward lines name it")
    name: Text | None = Field(default=None, description="display name, e.g. 平级推荐奖 (added key)")


class ReferralReward(_Reward):
    """推荐奖: a share of the referee's purchases, or a fixed amount per recruit."""

    type: Literal["referral"]
    referee_level: Literal["same", "lower", "higher", "any"] = Field(
        default="any", description="the referee's level compared with the beneficiary's"
    )
    base: Literal["referee_purchase", "per_head"] = "referee_purchase"
    rates: list[Rate] | None = Field(default=None, description="share by generation, with base referee_purchase")
    amounts: list[Money] | None = Field(default=None, description="yuan by generation, with base per_head")
    payer: Literal["company", "upline"] = "company"
    window_days: PosInt | None = Field(
        default=None, description="pay only on orders within this many days of the referee joining; null = always"
    )

    @model_validator(mode="after")
    def _base_matches_list(self) -> ReferralReward:
        if self.base == "referee_purchase":
            if self.amounts is not None:
                raise rule_error(
                    (
                        ("amounts",),
                        "amounts go with base: per_head; with base: referee_purchase write rates: [share, …]",
                        "amounts 只用于 base: per_head；base: referee_purchase 请写 rates",
                    )
                )
            if not self.rates:
                raise rule_error(
                    (
                        ("rates",),
                        "base: referee_purchase needs rates: a list of shares by generation, e.g. [0.05, 0.02]",
                        "base: referee_purchase 需要 rates（按代的比例，如 [0.05, 0.02]）",
                    )
                )
        else:
            if self.rates is not None:
                raise rule_error(
                    (
                        ("rates",),
                        "rates go with base: referee_purchase; with base: per_head write amounts: [yuan, …]",
                        "rates 只用于 base: referee_purchase；base: per_head 请写 amounts",
                    )
                )
            if not self.amounts:
                raise rule_error(
                    (
                        ("amounts",),
                        "base: per_head needs amounts: a list of yuan by generation, e.g. [100, 20]",
                        "base: per_head 需要 amounts（按代的金额，如 [100, 20]）",
                    )
                )
            if self.window_days is not None:
                raise rule_error(
                    (
                        ("window_days",),
                        "window_days applies to base: referee_purchase only; "
                        "a per-head reward is paid once, on joining",
                        "window_days 只适用于 base: referee_purchase；按人头奖励在加入时一次性发放",
                    )
                )
        return self

    @property
    def generations(self) -> int:
        return len(self.rates or self.amounts or ())


class RetailCommissionReward(_Reward):
    """分享佣金: a share of retail orders of customers bound to an agent."""

    type: Literal["retail_commission"]
    rates: list[Rate] | None = Field(default=None, description="[0] the bound agent, [1] their referrer, …")
    rates_by_level: dict[str, list[Rate]] | None = Field(
        default=None, description="the list by each beneficiary's level"
    )

    @model_validator(mode="after")
    def _one_of(self) -> RetailCommissionReward:
        _exactly_one_rate_form(self.rates, self.rates_by_level, "rates")
        return self

    @property
    def generations(self) -> int:
        """Number of beneficiaries including generation 0."""
        if self.rates is not None:
            return len(self.rates)
        return max((len(v) for v in (self.rates_by_level or {}).values()), default=0)


class SelfPurchaseRebateReward(_Reward):
    """自购返利: a share of the agent's own purchases."""

    type: Literal["self_purchase_rebate"]
    rate: Rate | None = Field(default=None, description="one share for every level")
    rates_by_level: dict[str, Rate] | None = Field(default=None, description="share by the buyer's level")

    @model_validator(mode="after")
    def _one_of(self) -> SelfPurchaseRebateReward:
        _exactly_one_rate_form(self.rate, self.rates_by_level, "rate")
        return self


def _exactly_one_rate_form(plain: Any, by_level: Any, plain_key: str) -> None:
    if (plain is None) == (by_level is None):
        raise rule_error(
            (
                (),
                f"expected exactly one of {plain_key} or rates_by_level"
                + (", got both" if plain is not None else ", got neither"),
                f"{plain_key} 与 rates_by_level 应恰好写一项",
            )
        )


class LadderStep(_Model):
    from_: Money = Field(alias="from", description="volume (yuan) at which this step starts")
    rate: Rate


class TeamVolumeReward(_Reward):
    """团队奖: a ladder on team volume per period, with 级差 differential."""

    type: Literal["team_volume"]
    period: Period = "month"
    metric: Literal["team_purchase", "team_retail"] = "team_purchase"
    ladder: list[LadderStep] = Field(min_length=1, description="steps in increasing `from`")
    differential: StrictBool = Field(
        default=True, description="subtract what each direct referral's team earns at its own step"
    )

    @model_validator(mode="after")
    def _ladder_rises(self) -> TeamVolumeReward:
        issues = []
        for i in range(1, len(self.ladder)):
            prev, step = self.ladder[i - 1], self.ladder[i]
            if step.from_ <= prev.from_:
                issues.append(
                    (
                        ("ladder", i, "from"),
                        f"{fmt_num(step.from_)} is not above the previous step's {fmt_num(prev.from_)}; "
                        "steps must be in strictly increasing `from`",
                        f"{fmt_num(step.from_)} 不大于上一档的 {fmt_num(prev.from_)}；各档 from 必须严格递增",
                    )
                )
            elif step.rate < prev.rate:
                issues.append(
                    (
                        ("ladder", i, "rate"),
                        f"{fmt_num(step.rate)} is below the previous step's {fmt_num(prev.rate)}; "
                        "a higher step must not pay a lower rate",
                        f"{fmt_num(step.rate)} 低于上一档的 {fmt_num(prev.rate)}；更高的档位比例不能更低",
                    )
                )
        if issues:
            raise rule_error(*issues)
        return self

    @property
    def top_rate(self) -> Decimal:
        return max(step.rate for step in self.ladder)

    def step_for(self, volume: Decimal) -> tuple[int, LadderStep] | None:
        """(index, step) of the highest step with from ≤ volume, or None below the first."""
        # from the top down: the first match is the last in the list (the highest, as from rises)
        ladder = self.ladder
        for i in range(len(ladder) - 1, -1, -1):
            if ladder[i].from_ <= volume:
                return i, ladder[i]
        return None


class Prize(_Model):
    kind: Literal["cash", "trip", "goods"]
    name: Text | None = None
    amount: Money | None = Field(default=None, description="yuan paid, for kind cash")
    cost: Money | None = Field(default=None, description="what the prize costs the brand, for trip and goods")

    @model_validator(mode="after")
    def _amount_or_cost(self) -> Prize:
        if self.kind == "cash" and self.amount is None:
            raise rule_error((("amount",), "a cash prize needs amount: yuan", "现金奖需要 amount（金额）"))
        if self.kind != "cash" and self.cost is None:
            raise rule_error(
                (
                    ("cost",),
                    f"a {self.kind} prize needs cost: what it costs the brand in yuan",
                    f"{'旅游' if self.kind == 'trip' else '实物'}奖需要 cost（品牌的实际成本）",
                )
            )
        return self

    @property
    def value(self) -> Decimal:
        return self.amount if self.kind == "cash" else self.cost  # type: ignore[return-value]


class TargetAwardReward(_Reward):
    """月度奖 / 季度奖 / 年度奖 / 旅游奖: a prize for reaching a threshold in a period."""

    type: Literal["target_award"]
    period: Period = "month"
    metric: Literal["personal_purchase", "personal_retail", "team_purchase", "new_referrals"] = "personal_purchase"
    threshold: Quantity = Field(description="yuan (or a head count for new_referrals)")
    prize: Prize


Reward = Annotated[
    ReferralReward | RetailCommissionReward | SelfPurchaseRebateReward | TeamVolumeReward | TargetAwardReward,
    Field(discriminator="type"),
]
REWARD_TYPES: tuple[str, ...] = ("referral", "retail_commission", "self_purchase_rebate", "team_volume", "target_award")


# ---------------------------------------------------------------------------------------
# Upgrades
# ---------------------------------------------------------------------------------------


class TeamVolumeCondition(_Model):
    period: Period
    amount: Money


CONDITION_KEYS: tuple[str, ...] = (
    "cumulative_purchase",
    "single_order_amount",
    "same_level_referrals",
    "team_volume",
    "direct_referrals",
    "cumulative_spend",
    "retail_sales",
)


class Condition(_Model):
    """One upgrade condition: exactly one key."""

    cumulative_purchase: Money | None = Field(default=None, description="all-time entry+upgrade+restock yuan")
    single_order_amount: Money | None = Field(default=None, description="one purchase order of at least this")
    same_level_referrals: PosInt | None = Field(
        default=None, description="direct referrals at the agent's own level (推三升一; lifts one level)"
    )
    team_volume: TeamVolumeCondition | None = Field(default=None, description="team purchases in the current period")
    direct_referrals: PosInt | None = Field(default=None, description="direct referrals at any level")
    cumulative_spend: Money | None = Field(default=None, description="all-time yuan spent, retail included")
    retail_sales: Money | None = Field(
        default=None, description="all-time retail sales credited to the agent, yuan (added key)"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [k for k in CONDITION_KEYS if getattr(self, k) is not None]
        if len(given) != 1:
            raise rule_error(
                (
                    (),
                    "expected exactly one condition key ("
                    + ", ".join(CONDITION_KEYS)
                    + ")"
                    + (f", got {len(given)}: {', '.join(given)}" if given else ", got none"),
                    "每个条件应恰好写一个键：" + "、".join(CONDITION_KEYS),
                )
            )
        return self

    @property
    def key(self) -> str:
        return next(k for k in CONDITION_KEYS if getattr(self, k) is not None)

    @property
    def value(self) -> Any:
        return getattr(self, self.key)


class Upgrade(_Model):
    to: Slug = Field(description="the level code reached")
    any_: list[Condition] | None = Field(default=None, alias="any", min_length=1, description="one condition suffices")
    all_: list[Condition] | None = Field(default=None, alias="all", min_length=1, description="every condition needed")
    top_up: StrictBool = Field(
        default=False, description="the agent pays the difference between the two levels' entry amounts (补差)"
    )

    @model_validator(mode="after")
    def _any_or_all(self) -> Upgrade:
        if (self.any_ is None) == (self.all_ is None):
            raise rule_error(
                (
                    (),
                    "expected exactly one of any: [conditions] or all: [conditions]"
                    + (", got both" if self.any_ is not None else ", got neither"),
                    "any 与 all 应恰好写一项",
                )
            )
        return self

    @property
    def mode(self) -> Literal["any", "all"]:
        return "any" if self.any_ is not None else "all"

    @property
    def conditions(self) -> list[Condition]:
        return self.any_ if self.any_ is not None else self.all_  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------
# Other sections
# ---------------------------------------------------------------------------------------


class CustomerBinding(_Model):
    mode: Literal["first", "expiring", "override"] = "first"
    days: PosInt | None = None

    @model_validator(mode="after")
    def _days(self) -> CustomerBinding:
        if self.mode == "expiring" and self.days is None:
            raise rule_error(
                (
                    ("days",),
                    "mode: expiring needs days: how many days a customer stays bound (more than 0)",
                    "mode: expiring 需要 days（绑定天数，大于 0）",
                )
            )
        if self.mode != "expiring" and self.days is not None:
            raise rule_error(
                (
                    ("days",),
                    f"days applies to mode: expiring only; with mode: {self.mode} write days: null or leave it out",
                    f"days 只用于 mode: expiring；mode: {self.mode} 请删去 days",
                )
            )
        return self


class Settlement(_Model):
    frozen_days: NonNegInt = Field(default=7, description="days after completion before a reward can be withdrawn")
    withdraw_min: Money = Field(default=Decimal(0), description="smallest withdrawal, yuan")
    withdraw_fee_rate: Annotated[Decimal, Field(ge=0, lt=1, allow_inf_nan=False), BeforeValidator(exact_number)] = (
        Field(default=Decimal(0), description="share kept on each withdrawal, 0 ≤ rate < 1")
    )
    rounding: Literal["down", "half_up", "half_even"] = Field(
        default="down", description="how each reward line is rounded to 0.01 yuan"
    )


class Returns(_Model):
    window_days: NonNegInt = Field(description="stock bought within this many days before exit is bought back")
    refund_rate: Rate = Field(description="share of the purchase value refunded")


# ---------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------


class Plan(_Model):
    id: Slug
    version: PosInt
    name: Text
    kind: Literal["tiered", "social_mall"]
    currency: Annotated[str, Strict(), Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    timezone: Annotated[str, Strict()] = "Asia/Shanghai"
    jurisdiction: Literal["cn", "wechat", "us", "eu", "uk", "none"] = "cn"
    direct_selling: StrictBool = False
    levels: list[Level] = Field(min_length=1, description="highest first")
    prices: dict[Annotated[str, Strict(), Field(min_length=1)], dict[str, Money]] = Field(default_factory=dict)
    supply: Literal["nearest_higher_upline", "company", "cloud"] = "nearest_higher_upline"
    customer_binding: CustomerBinding = Field(default_factory=CustomerBinding)
    rewards: list[Reward] = Field(default_factory=list)
    upgrades: list[Upgrade] = Field(default_factory=list)
    settlement: Settlement = Field(default_factory=Settlement)
    returns: Returns | None = None

    _source_lines: dict[str, int] = PrivateAttr(default_factory=dict)
    _source_file: str | None = PrivateAttr(default=None)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise rule_error(
                (
                    (),
                    f"'{value}' is not a known time zone; expected an IANA name such as Asia/Shanghai",
                    f"“{value}”不是已知时区；应为 IANA 时区名，如 Asia/Shanghai",
                )
            ) from exc
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Plan:
        issues = list(_plan_issues(self))
        if issues:
            raise rule_error(*issues)
        return self

    # -- levels -------------------------------------------------------------------------

    @property
    def level_codes(self) -> tuple[str, ...]:
        """Level codes, highest first."""
        return tuple(level.code for level in self.levels)

    def level(self, code: str) -> Level:
        for level in self.levels:
            if level.code == code:
                return level
        raise KeyError(f"plan {self.id} v{self.version} has no level {code!r}; levels: {', '.join(self.level_codes)}")

    def rank(self, code: str) -> int:
        """1 for the highest level, len(levels) for the lowest."""
        return self.level_codes.index(self.level(code).code) + 1

    def is_higher(self, a: str, b: str) -> bool:
        """True if level ``a`` ranks above level ``b``."""
        return self.rank(a) < self.rank(b)

    @property
    def highest_level(self) -> Level:
        return self.levels[0]

    @property
    def lowest_level(self) -> Level:
        return self.levels[-1]

    def level_above(self, code: str) -> Level | None:
        rank = self.rank(code)
        return self.levels[rank - 2] if rank > 1 else None

    # -- prices -------------------------------------------------------------------------

    def price(self, sku_code: str, level_code: str, retail: Decimal | None = None) -> Decimal:
        """The price of ``sku_code`` for ``level_code`` (or ``"retail"``).

        An override under ``prices:`` wins; otherwise retail × the level's discount, rounded
        to 0.01 half-up. Retail is the plan's ``prices[sku].retail`` when given, else
        ``retail``.
        """
        overrides = self.prices.get(sku_code, {})
        if level_code == PRICE_RETAIL_KEY:
            base = overrides.get(PRICE_RETAIL_KEY, retail)
            if base is None:
                raise ValueError(f"no retail price for {sku_code}: pass retail= or add prices.{sku_code}.retail")
            return round_money(Decimal(base), "half_up")
        level = self.level(level_code)
        if level_code in overrides:
            return round_money(overrides[level_code], "half_up")
        base = overrides.get(PRICE_RETAIL_KEY, retail)
        if base is None:
            raise ValueError(f"no retail price for {sku_code}: pass retail= or add prices.{sku_code}.retail")
        if isinstance(base, float):
            raise TypeError("retail must not be a float; pass a str or Decimal")
        return round_money(Decimal(base) * level.discount, "half_up")

    # -- rules --------------------------------------------------------------------------

    def reward(self, rule_id: str) -> Any:
        for rule in self.rewards:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    # -- source positions ---------------------------------------------------------------

    @property
    def source_file(self) -> str | None:
        return self._source_file

    def line_of(self, path: str) -> int | None:
        """The 1-based line of a key path such as ``levels[2].discount`` in the file the plan
        was loaded from; None when the key is not written in the file (a default)."""
        return self._source_lines.get(path)


# A finding across sections: (sub-path, English, Chinese[, "key"]); see rule_error.
Issue = tuple[tuple[str | int, ...], str, str] | tuple[tuple[str | int, ...], str, str, Literal["key"]]


def _plan_issues(plan: Plan) -> Iterator[Issue]:
    """Checks across sections; yields (sub-path, English, Chinese)."""
    codes = [level.code for level in plan.levels]
    code_list = ", ".join(codes)
    seen: dict[str, int] = {}
    for i, level in enumerate(plan.levels):
        if level.code == PRICE_RETAIL_KEY:
            yield (
                ("levels", i, "code"),
                "'retail' is reserved for the retail price under prices:; choose another level code",
                "“retail”是 prices 中零售价的保留字；请换一个等级代码",
            )
        if level.code in seen:
            yield (
                ("levels", i, "code"),
                f"'{level.code}' is already the code of levels[{seen[level.code]}]; level codes must be unique",
                f"“{level.code}”已是 levels[{seen[level.code]}] 的代码；等级代码不能重复",
            )
        else:
            seen[level.code] = i
    for i in range(1, len(plan.levels)):
        higher, lower = plan.levels[i - 1], plan.levels[i]
        if lower.discount < higher.discount:
            yield (
                ("levels", i, "discount"),
                f"{fmt_num(lower.discount)} is below {fmt_num(higher.discount)}, the discount of the higher level "
                f"{higher.code}; levels are listed highest first and a lower level's discount must be at least "
                "the higher level's (a lower level pays more)",
                f"{fmt_num(lower.discount)} 低于上一级 {higher.code} 的折扣 {fmt_num(higher.discount)}；"
                "等级从高到低排列，低等级的折扣不能低于高等级（低等级拿货更贵）",
            )

    price_keys = [PRICE_RETAIL_KEY, *codes]
    for sku, row in plan.prices.items():
        for key in row:
            if key not in price_keys:
                hint, hint_zh = did_you_mean(key, price_keys)
                yield (
                    ("prices", sku, key),
                    f"'{key}' is not a level code{hint}; expected retail or one of: {code_list}",
                    f"“{key}”不是等级代码{hint_zh}；应为 retail 或：{code_list}",
                    "key",
                )

    yield from _price_order_issues(plan)

    rule_ids: dict[str, int] = {}
    for i, rule in enumerate(plan.rewards):
        if rule.id in RESERVED_RULE_IDS:
            yield (
                ("rewards", i, "id"),
                f"'{rule.id}' is reserved for the engine's own lines; choose another id",
                f"“{rule.id}”为引擎保留；请换一个 id",
            )
        if rule.id in rule_ids:
            yield (
                ("rewards", i, "id"),
                f"'{rule.id}' is already the id of rewards[{rule_ids[rule.id]}]; reward ids must be unique",
                f"“{rule.id}”已是 rewards[{rule_ids[rule.id]}] 的 id；奖励 id 不能重复",
            )
        else:
            rule_ids[rule.id] = i
        by_level = getattr(rule, "rates_by_level", None)
        for key in by_level or {}:
            if key not in codes:
                hint, hint_zh = did_you_mean(key, codes)
                yield (
                    ("rewards", i, "rates_by_level", key),
                    f"'{key}' is not a level code{hint}; expected one of: {code_list}",
                    f"“{key}”不是等级代码{hint_zh}；应为：{code_list}",
                    "key",
                )

    for i, upgrade in enumerate(plan.upgrades):
        if upgrade.to not in codes:
            hint, hint_zh = did_you_mean(upgrade.to, codes)
            yield (
                ("upgrades", i, "to"),
                f"'{upgrade.to}' is not a level code{hint}; expected one of: {code_list}",
                f"“{upgrade.to}”不是等级代码{hint_zh}；应为：{code_list}",
            )
        elif upgrade.to == codes[-1]:
            yield (
                ("upgrades", i, "to"),
                f"'{upgrade.to}' is the lowest level; nobody can upgrade to it. Expected a higher level",
                f"“{upgrade.to}”是最低等级，无法升级到它；应为更高的等级",
            )


def _price_order_issues(plan: Plan) -> Iterator[Issue]:
    """A lower level never buys a SKU cheaper than a higher level (M7). Prices are the written ones,
    or retail × discount where the SKU's retail is written; a SKU without retail compares only its
    written prices. Two prices from discounts alone are the discount check's business."""
    codes = {level.code for level in plan.levels}
    for sku, row in plan.prices.items():
        if any(key not in codes and key != PRICE_RETAIL_KEY for key in row):
            continue  # an unknown key is reported above
        retail = row.get(PRICE_RETAIL_KEY)
        dearest: tuple[str, Decimal, bool] | None = None  # the dearest level above: code, price, written
        reported: set[str] = set()
        for level in plan.levels:
            if level.code in row:
                own, written = round_money(Decimal(row[level.code]), "half_up"), True
            elif retail is not None:
                own, written = round_money(Decimal(retail) * level.discount, "half_up"), False
            else:
                continue
            if dearest is not None and own < dearest[1] and (written or dearest[2]):
                higher, high, _high_written = dearest
                at = level.code if written else higher
                if at not in reported:
                    reported.add(at)
                    if written:
                        yield (
                            ("prices", sku, level.code),
                            f"{fmt_num(own)} for {level.code} is below {fmt_num(high)}, the price of the higher "
                            f"level {higher}; a lower level's price must be at least every higher level's",
                            f"{level.code} 的价格 {fmt_num(own)} 低于上级 {higher} 的 {fmt_num(high)}；"
                            "低等级的拿货价不能低于任何更高等级",
                        )
                    else:
                        yield (
                            ("prices", sku, higher),
                            f"{fmt_num(high)} for {higher} is above {fmt_num(own)}, what the lower level "
                            f"{level.code} pays (retail × its discount); a lower level's price must be at least "
                            "every higher level's",
                            f"{higher} 的价格 {fmt_num(high)} 高于下级 {level.code} 的 "
                            f"{fmt_num(own)}（零售价 × 折扣）；低等级的拿货价不能低于任何更高等级",
                        )
            if dearest is None or own > dearest[1]:
                dearest = (level.code, own, written)
