"""The reward engine: events in, reward lines out. Pure, deterministic and idempotent.

``Engine(plan).process(event, view)`` reads the agent tree and order figures through a
read-only :class:`HierarchyView` and returns the :class:`EarnedLine` s the event earns under
the plan. It writes nothing and keeps no state, so processing the same event against the
same view twice returns the same lines; each line's ``key`` (source event, rule, beneficiary,
generation) is unique within one event, and the caller stores lines under that key so a
replay adds nothing.

Levels are read from the view when the event is processed: the caller processes events in
the order they happened, before applying any level change the event itself causes.

Definitions (generation, team, differential, margin) are those of design/plan-format.md and
docs/plans.md.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from .periods import period_bounds, period_label
from .schema import (
    CENT,
    Condition,
    LadderStep,
    Plan,
    ReferralReward,
    RetailCommissionReward,
    SelfPurchaseRebateReward,
    TargetAwardReward,
    TeamVolumeReward,
    Upgrade,
    round_money,
)

__all__ = [
    "AgentExited",
    "AgentJoined",
    "AgentUpgraded",
    "ConditionCheck",
    "Engine",
    "EngineError",
    "Event",
    "HierarchyView",
    "OrderCompleted",
    "OrderRefunded",
    "PeriodClosed",
    "EarnedLine",
    "StockLot",
    "UpgradeDecision",
    "period_bounds",
    "reverse_lines",
]

ORDER_KINDS = ("entry", "upgrade", "restock", "retail")
PURCHASE_KINDS = ("entry", "upgrade", "restock")
METRICS = ("team_purchase", "team_retail", "personal_purchase", "personal_retail", "new_referrals")
MARGIN_RULE = "margin"
RETURNS_RULE = "returns"
ZERO = Decimal(0)


class EngineError(RuntimeError):
    """The engine was given something it cannot process (never a plan problem: those are PlanError)."""


def _decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal, int or str, not {type(value).__name__}")
    return value if isinstance(value, Decimal) else Decimal(str(value))


# ---------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OrderCompleted:
    """An order completed (paid and, for a purchase, filled).

    ``buyer`` is the agent who bought (None for a consumer); ``seller`` the agent who filled
    it (None: the company); ``bound_agent`` the agent a retail customer is bound to;
    ``seller_cost`` what the goods cost the seller at the seller's level price (None when
    the company sells).
    """

    event_id: str
    order_id: str
    kind: Literal["entry", "upgrade", "restock", "retail"]
    buyer: int | None
    seller: int | None
    bound_agent: int | None = None
    amount: Decimal
    seller_cost: Decimal | None = None
    at: datetime

    def __post_init__(self) -> None:
        if self.kind not in ORDER_KINDS:
            raise ValueError(f"order kind {self.kind!r} is not one of {', '.join(ORDER_KINDS)}")
        object.__setattr__(self, "amount", _decimal(self.amount, "amount"))
        if self.amount < 0:
            raise ValueError(f"order amount {self.amount} is negative")
        if self.seller_cost is not None:
            object.__setattr__(self, "seller_cost", _decimal(self.seller_cost, "seller_cost"))


@dataclass(frozen=True, kw_only=True)
class OrderRefunded:
    event_id: str
    order_id: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class AgentJoined:
    event_id: str
    agent: int
    level: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class AgentUpgraded:
    event_id: str
    agent: int
    from_level: str
    to_level: str
    at: datetime


class StockLot(NamedTuple):
    bought_at: datetime
    value: Decimal


@dataclass(frozen=True, kw_only=True)
class AgentExited:
    """An agent left; ``stock_lots`` is their unsold stock as (bought_at, value at purchase price)."""

    event_id: str
    agent: int
    at: datetime
    stock_lots: tuple[StockLot, ...] = ()

    def __post_init__(self) -> None:
        lots = tuple(StockLot(bought_at, _decimal(value, "stock lot value")) for bought_at, value in self.stock_lots)
        object.__setattr__(self, "stock_lots", lots)


@dataclass(frozen=True, kw_only=True)
class PeriodClosed:
    """A settlement period ended: ``start`` and ``end`` are inclusive dates (plan time zone)."""

    event_id: str
    period: Literal["month", "quarter", "year"]
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.period not in ("month", "quarter", "year"):
            raise ValueError(f"period {self.period!r} is not one of month, quarter, year")
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")


Event = OrderCompleted | OrderRefunded | AgentJoined | AgentUpgraded | AgentExited | PeriodClosed


# ---------------------------------------------------------------------------------------
# What the engine reads
# ---------------------------------------------------------------------------------------


@runtime_checkable
class HierarchyView(Protocol):
    """Read-only questions about the agent tree and order figures, as of now.

    Figures exclude refunded orders. Dates are inclusive, in the plan's time zone.
    ``is_active`` and ``display_name`` are read when the event is processed, like levels.
    """

    def level_of(self, agent: int) -> str: ...
    def referrer_chain(self, agent: int, generations: int) -> list[int]: ...  # generation 1 first
    def joined_at(self, agent: int) -> datetime: ...
    def direct_referrals(self, agent: int) -> list[int]: ...
    def supplier_of(self, agent: int) -> int | None: ...
    def metric_totals(self, metric: str, start: date, end: date) -> dict[int, Decimal]: ...
    def cumulative_purchase(self, agent: int) -> Decimal: ...
    def max_single_order(self, agent: int) -> Decimal: ...
    def direct_referrals_at_level(self, agent: int, level: str) -> int: ...
    def direct_referral_count(self, agent: int) -> int: ...
    def cumulative_spend(self, agent: int) -> Decimal: ...
    def cumulative_retail(self, agent: int) -> Decimal: ...
    def team_purchase(self, agent: int, start: date, end: date) -> Decimal: ...
    def is_active(self, agent: int) -> bool: ...  # False once exited or suspended: such an agent earns nothing
    def display_name(self, agent: int) -> str: ...  # the name explanations use; f"#{agent}" when there is none


# ---------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------

Payer = int | Literal["company", "customer"]


@dataclass(frozen=True, kw_only=True)
class EarnedLine:
    """One amount owed to one beneficiary because of one event under one rule.

    ``kind``: reward (the brand or an upline pays), margin (the buyer pays the seller; not a
    brand payout), prize (a target award; ``amount`` is cash or the prize's cost) or buyback.
    ``payer``: 'company', 'customer' (a consumer, for margin on retail orders) or an agent id.
    ``explanation`` holds the figures (Decimals as exact strings) used to compute ``amount``.
    """

    beneficiary: int
    amount: Decimal
    rule_id: str
    plan_id: str
    plan_version: int
    source_event: str
    generation: int
    kind: Literal["reward", "margin", "prize", "buyback"]
    payer: Payer
    explanation: dict[str, str | int] = field(hash=False)
    explanation_zh: str = field(default="", hash=False)
    explanation_en: str = field(default="", hash=False)

    @property
    def key(self) -> tuple[str, str, int, int]:
        """(source_event, rule_id, beneficiary, generation): unique for one event."""
        return (self.source_event, self.rule_id, self.beneficiary, self.generation)

    def as_dict(self) -> dict[str, Any]:
        return {
            "beneficiary": self.beneficiary,
            "amount": str(self.amount),
            "rule_id": self.rule_id,
            "plan_id": self.plan_id,
            "plan_version": self.plan_version,
            "source_event": self.source_event,
            "generation": self.generation,
            "kind": self.kind,
            "payer": self.payer,
            "explanation": dict(self.explanation),
            "explanation_zh": self.explanation_zh,
            "explanation_en": self.explanation_en,
        }


@dataclass(frozen=True)
class ConditionCheck:
    """One upgrade condition tested for one agent."""

    path: str  # e.g. upgrades[0].any[2]
    key: str  # e.g. same_level_referrals
    required: str
    actual: str
    met: bool
    note: str = ""


@dataclass(frozen=True)
class UpgradeDecision:
    """The agent qualifies for ``to_level`` under ``upgrades[rule_index]``."""

    agent: int
    from_level: str
    to_level: str
    rule_index: int
    mode: Literal["any", "all"]
    satisfied: tuple[ConditionCheck, ...]
    checks: tuple[ConditionCheck, ...]
    top_up: Decimal
    explanation_en: str
    explanation_zh: str

    @property
    def path(self) -> str:
        return f"upgrades[{self.rule_index}]"


# ---------------------------------------------------------------------------------------
# Formatting helpers
# ---------------------------------------------------------------------------------------


def _s(value: Decimal) -> str:
    """Exact, without exponent: Decimal('1E+3') → '1000'."""
    return format(value, "f")


def _yuan(value: Decimal) -> str:
    """'3000.00' when the figure has at most two decimals, else all of them: '5.005'."""
    cents = value.quantize(CENT)
    return format(cents if value == cents else value, "f")


def _pct(rate: Decimal) -> str:
    return f"{format((rate * 100).normalize(), 'f')}%"


MAX_SENTENCE = 300  # explanation_zh / explanation_en are stored in 300-character columns
NAME_CHARS = 20  # a name longer than this is clipped in sentences (the explanation dict keeps it whole)
LABEL_CHARS = 24  # rule names
ID_CHARS = 32  # order ids
_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£"}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _symbol(currency: str) -> str:
    """What money in ``currency`` starts with: '¥' for CNY, the code and a space for others ('JPY ')."""
    return _SYMBOLS.get(currency, f"{currency} ")


def _money(value: Decimal, currency: str = "CNY") -> str:
    """'¥3,000.00'; more decimals only when the figure has them ('¥5.005'); '−¥10.00' below 0."""
    return _money_text(value, _symbol(currency))


def _money_text(value: Decimal, symbol: str) -> str:
    """_money with the currency's symbol already looked up (the engine's hot path)."""
    sign = "−" if value < 0 else ""
    value = abs(value)  # rounds to the context's precision, like the other Decimal operations here
    cents = value.quantize(CENT)
    return sign + symbol + format(cents if value == cents else value.normalize(), ",f")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _name_list(names: list[str], sep: str, shown: int) -> str:
    """The first ``shown`` names joined by ``sep``, then '…' when some were left out."""
    text = sep.join(names[:shown])
    if shown < len(names):
        text = f"{text}{sep}…" if shown else "…"
    return text


def _fit(before: str, names: list[str], sep: str, after: str) -> str:
    """``before + _name_list(names, sep, shown) + after`` with as many names as keep it within MAX_SENTENCE.

    All the names when they fit; else the first ``shown`` that fit, then ``sep`` and '…' ('…' alone for
    none); clipped when not even that fits. The same text as building the sentence for shown = all, …, 1, 0
    and keeping the first that fits, found by adding up lengths instead of building every sentence.
    """
    room = MAX_SENTENCE - len(before) - len(after)  # characters left for the list of names
    count = len(names)
    width = len(sep)
    if sum(map(len, names)) + max(count - 1, 0) * width <= room:
        return before + sep.join(names) + after
    if count == 0:
        return _clip(before + after, MAX_SENTENCE)
    # With shown < count names the list is their lengths + shown separators + 1 ('…'): it grows with
    # shown, so the largest shown that fits is found walking up from 0.
    used, shown = 1, 0
    while shown < count - 1 and used + len(names[shown]) + width <= room:
        used += len(names[shown]) + width
        shown += 1
    if used > room:  # not even '…' fits
        return _clip(before + "…" + after, MAX_SENTENCE)
    return before + _name_list(names, sep, shown) + after


_DEFAULT_NAMES = {
    "referral": ("referral reward", "推荐奖"),
    "retail_commission": ("retail commission", "分享佣金"),
    "self_purchase_rebate": ("self-purchase rebate", "自购返利"),
    "team_volume": ("team volume reward", "团队奖"),
    "target_award": ("target award", "目标奖"),
}

_METRIC_EN = {
    "team_purchase": "team volume",
    "team_retail": "team retail",
    "personal_purchase": "personal purchase",
    "personal_retail": "personal retail",
    "new_referrals": "new referrals",
}
_METRIC_ZH = {
    "team_purchase": "团队进货额",
    "team_retail": "团队零售额",
    "personal_purchase": "个人进货额",
    "personal_retail": "个人零售额",
    "new_referrals": "新增直推人数",
}
_PRIZE_ZH = {"cash": "现金", "trip": "旅游", "goods": "实物"}
_ROUNDING_EN = {"down": "rounded down", "half_up": "rounded half-up", "half_even": "rounded half-even"}
_ROUNDING_ZH = {"down": "向下", "half_up": "四舍五入", "half_even": "四舍六入五成双"}


class _Rung(NamedTuple):
    """One ladder step with the text every team-volume line at that step shares."""

    number: int  # 1-based, as sentences and the explanation count steps
    rate: Decimal
    pct: str  # '5%'
    from_text: str  # the explanation's step_from
    rate_text: str  # the explanation's rate
    head_en: str  # ' = 5% × team volume ', then the volume
    step_en: str  # ' (step 2)'
    head_zh: str  # ' = 团队进货额 ', then the volume
    step_zh: str  # ' × 5%（第 2 档）'

    @classmethod
    def of(cls, index: int, step: LadderStep, metric: str) -> _Rung:
        pct = _pct(step.rate)
        return cls(
            number=index + 1,
            rate=step.rate,
            pct=pct,
            from_text=_s(step.from_),
            rate_text=_s(step.rate),
            head_en=f" = {pct} × {_METRIC_EN[metric]} ",
            step_en=f" (step {index + 1})",
            head_zh=f" = {_METRIC_ZH[metric]} ",
            step_zh=f" × {pct}（第 {index + 1} 档）",
        )


def _step_finder(rule: TeamVolumeReward) -> Callable[[Decimal], int]:
    """volume → the index of ``rule.step_for(volume)``, -1 below the first step.

    A binary search over the steps' ``from`` (rising in any plan the schema accepted); a ladder
    built without validation falls back to step_for.
    """
    starts = [step.from_ for step in rule.ladder]
    if all(low <= high for low, high in pairwise(starts)):
        return lambda volume: bisect_right(starts, volume) - 1

    def by_step_for(volume: Decimal) -> int:
        found = rule.step_for(volume)
        return -1 if found is None else found[0]

    return by_step_for


# ---------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------


class Engine:
    """Computes reward lines for one plan version."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.rounding = plan.settlement.rounding
        self._symbol = _symbol(plan.currency)

    # -- public -------------------------------------------------------------------------

    def process(self, event: Event, view: HierarchyView) -> list[EarnedLine]:
        """The reward lines ``event`` earns. Pure: reads ``view``, changes nothing."""
        if isinstance(event, OrderCompleted):
            lines = self._order_completed(event, view)
        elif isinstance(event, AgentJoined):
            lines = self._agent_joined(event, view)
        elif isinstance(event, PeriodClosed):
            lines = self._period_closed(event, view)
        elif isinstance(event, AgentExited):
            lines = self._agent_exited(event, view)
        elif isinstance(event, OrderRefunded | AgentUpgraded):
            lines = []  # refunds: the caller reverses stored lines (reverse_lines); upgrades pay through orders
        else:
            raise EngineError(f"unknown event type {type(event).__name__}")
        _check_unique(lines)
        return lines

    def stream(self, event: Event, view: HierarchyView) -> Iterator[EarnedLine]:
        """The lines of ``process``, in the same order, each as soon as it is computed: a period
        close over a whole channel makes tens of thousands, which the caller can store while the
        rest are computed (settlement does). Keys are checked as the lines come, so the
        ``EngineError`` for a repeated key is raised when it is met, after the lines before it."""
        if not isinstance(event, PeriodClosed):
            yield from self.process(event, view)
            return
        seen: set[tuple[str, str, int, int]] = set()
        for line in self._period_lines(event, view):
            if line.key in seen:
                raise EngineError(f"two reward lines with the key {line.key}; the plan or the view is inconsistent")
            seen.add(line.key)
            yield line

    def upgrade_for(
        self,
        agent: int,
        view: HierarchyView,
        *,
        order_amount: Decimal | None = None,
        at: datetime | date | None = None,
    ) -> UpgradeDecision | None:
        """The highest level above the agent's current one whose upgrade rule they satisfy.

        ``order_amount`` is an order not yet in the view (e.g. one being placed): it counts
        toward cumulative_purchase, cumulative_spend, team_volume and single_order_amount.
        ``at`` picks the current period for team_volume conditions (default: now in the
        plan's time zone). Among rules for the same level the first in the file wins.
        """
        plan = self.plan
        current = view.level_of(agent)
        current_rank = plan.rank(current)
        extra = _decimal(order_amount, "order_amount") if order_amount is not None else ZERO
        best: UpgradeDecision | None = None
        for index, rule in enumerate(plan.upgrades):
            target_rank = plan.rank(rule.to)
            if target_rank >= current_rank:
                continue
            if best is not None and target_rank >= plan.rank(best.to_level):
                continue
            checks = tuple(
                self.check_condition(agent, view, cond, rule, current, f"upgrades[{index}].{rule.mode}[{j}]", extra, at)
                for j, cond in enumerate(rule.conditions)
            )
            met = any(c.met for c in checks) if rule.mode == "any" else all(c.met for c in checks)
            if not met:
                continue
            top_up = ZERO
            if rule.top_up:
                top_up = max(ZERO, plan.level(rule.to).entry.amount - plan.level(current).entry.amount)
            satisfied = tuple(c for c in checks if c.met)
            reasons_en = "; ".join(f"{c.key} {c.actual} ≥ {c.required}" for c in satisfied)
            reasons_zh = "；".join(f"{c.key} {c.actual} ≥ {c.required}" for c in satisfied)
            to_name, from_name = plan.level(rule.to).name, plan.level(current).name
            who = _clip(view.display_name(agent), NAME_CHARS)
            best = UpgradeDecision(
                agent=agent,
                from_level=current,
                to_level=rule.to,
                rule_index=index,
                mode=rule.mode,
                satisfied=satisfied,
                checks=checks,
                top_up=top_up,
                explanation_en=(
                    f"{who} qualifies for {rule.to} (from {current}) under upgrades[{index}] "
                    f"({rule.mode}): {reasons_en}" + (f"; top-up due {_yuan(top_up)}" if rule.top_up else "")
                ),
                explanation_zh=(
                    f"{who} 由{from_name}升为{to_name}（upgrades[{index}]，"
                    f"{'任一' if rule.mode == 'any' else '全部'}条件）：{reasons_zh}"
                    + (f"；需补差 {_yuan(top_up)} 元" if rule.top_up else "")
                ),
            )
        return best

    # -- events -------------------------------------------------------------------------

    def _order_completed(self, ev: OrderCompleted, view: HierarchyView) -> list[EarnedLine]:
        lines: list[EarnedLine | None] = [self._margin(ev, view)]
        for rule in self.plan.rewards:
            if isinstance(rule, ReferralReward) and rule.base == "referee_purchase":
                lines.extend(self._referral_purchase(rule, ev, view))
            elif isinstance(rule, RetailCommissionReward):
                lines.extend(self._retail_commission(rule, ev, view))
            elif isinstance(rule, SelfPurchaseRebateReward):
                lines.append(self._rebate(rule, ev, view))
        return [line for line in lines if line is not None]

    def _agent_joined(self, ev: AgentJoined, view: HierarchyView) -> list[EarnedLine]:
        lines: list[EarnedLine | None] = []
        for rule in self.plan.rewards:
            if isinstance(rule, ReferralReward) and rule.base == "per_head":
                lines.extend(self._referral_per_head(rule, ev, view))
        return [line for line in lines if line is not None]

    def _period_closed(self, ev: PeriodClosed, view: HierarchyView) -> list[EarnedLine]:
        return list(self._period_lines(ev, view))

    def _period_lines(self, ev: PeriodClosed, view: HierarchyView) -> Iterator[EarnedLine]:
        for rule in self.plan.rewards:
            if isinstance(rule, TeamVolumeReward) and rule.period == ev.period:
                lines = self._team_volume(rule, ev, view)
            elif isinstance(rule, TargetAwardReward) and rule.period == ev.period:
                lines = self._target_award(rule, ev, view)
            else:
                continue
            yield from (line for line in lines if line is not None)

    # -- rules --------------------------------------------------------------------------
    #
    # Sentences lead with the arithmetic and name people: "¥150.00 = 5% × ¥3,000.00 order O-1
    # of 王芳 (2nd generation, peer referral)". Each rule builds the part after the amount;
    # _say puts the rounded amount in front and a rounding note behind.

    def _margin(self, ev: OrderCompleted, view: HierarchyView) -> EarnedLine | None:
        if ev.seller is None or ev.seller_cost is None:
            return None
        margin = ev.amount - ev.seller_cost
        payer: Payer = ev.buyer if ev.buyer is not None else "customer"
        seller = self._who(view, ev.seller)
        buyer_en = self._who(view, ev.buyer) if ev.buyer is not None else "a customer"
        buyer_zh = self._who(view, ev.buyer) if ev.buyer is not None else "顾客"
        oid = _clip(ev.order_id, ID_CHARS)
        explanation: dict[str, str | int] = {
            "rule": MARGIN_RULE,
            "order": ev.order_id,
            "order_kind": ev.kind,
            "order_amount": _s(ev.amount),
            "seller_cost": _s(ev.seller_cost),
            "payer": str(payer),
        }
        if ev.buyer is not None:
            explanation["buyer_name"] = view.display_name(ev.buyer)
        en, zh = self._say(
            margin,
            f" = {buyer_en} paid {self._m(ev.amount)} − {seller}'s cost {self._m(ev.seller_cost)} "
            f"(margin on order {oid}, paid by the buyer, not by the brand)",
            f" = {buyer_zh} 支付 {self._m(ev.amount)} − {seller} 的成本 {self._m(ev.seller_cost)}"
            f"（订单 {oid} 的差价利润，由买方支付，非品牌奖励）",
        )
        return self._line(
            view,
            beneficiary=ev.seller,
            full=margin,
            rule_id=MARGIN_RULE,
            source_event=ev.event_id,
            generation=0,
            kind="margin",
            payer=payer,
            explanation=explanation,
            en=en,
            zh=zh,
        )

    def _referral_purchase(
        self, rule: ReferralReward, ev: OrderCompleted, view: HierarchyView
    ) -> list[EarnedLine | None]:
        if ev.kind not in PURCHASE_KINDS or ev.buyer is None:
            return []
        rates = rule.rates or []
        if rule.window_days is not None:
            joined = view.joined_at(ev.buyer)
            if ev.at - joined > timedelta(days=rule.window_days):
                return []
        buyer_level = view.level_of(ev.buyer)
        if rule.payer == "upline" and ev.seller is not None:
            payer: Payer = ev.seller
            payer_en = f"; paid by {self._who(view, ev.seller)}"
            payer_zh = f"；由 {self._who(view, ev.seller)} 支付"
        elif rule.payer == "upline":
            payer = "company"
            payer_en, payer_zh = "; paid by the company (it filled the order)", "；由公司支付（公司发货）"
        else:
            payer = "company"
            payer_en = payer_zh = ""
        label_en, label_zh = self._labels(rule)
        buyer = self._who(view, ev.buyer)
        oid = _clip(ev.order_id, ID_CHARS)
        lines = []
        chain = view.referrer_chain(ev.buyer, len(rates))
        for generation, (beneficiary, rate) in enumerate(zip(chain, rates, strict=False), start=1):
            ben_level = view.level_of(beneficiary)
            if not self._level_ok(rule.referee_level, buyer_level, ben_level):
                continue  # no compression: generation k+1 keeps its own rate
            if not view.is_active(beneficiary):
                continue  # an inactive agent earns nothing; likewise no compression
            if payer == beneficiary:
                continue  # the seller would pay itself
            full = ev.amount * rate
            en, zh = self._say(
                full,
                f" = {_pct(rate)} × {self._m(ev.amount)} order {oid} of {buyer} "
                f"({_ordinal(generation)} generation, {label_en}){payer_en}",
                f" = {buyer} 的 {self._m(ev.amount)} 订单 {oid} × {_pct(rate)}"
                f"（第 {generation} 代，{label_zh}）{payer_zh}",
            )
            lines.append(
                self._line(
                    view,
                    beneficiary=beneficiary,
                    full=full,
                    rule_id=rule.id,
                    source_event=ev.event_id,
                    generation=generation,
                    kind="reward",
                    payer=payer,
                    explanation={
                        "rule": rule.id,
                        "rule_type": rule.type,
                        "base": "referee_purchase",
                        "order": ev.order_id,
                        "order_kind": ev.kind,
                        "order_amount": _s(ev.amount),
                        "rate": _s(rate),
                        "generation": generation,
                        "buyer": ev.buyer,
                        "buyer_name": view.display_name(ev.buyer),
                        "buyer_level": buyer_level,
                        "beneficiary_level": ben_level,
                        "referee_level": rule.referee_level,
                        "window_days": rule.window_days if rule.window_days is not None else "none",
                        "payer": str(payer),
                    },
                    en=en,
                    zh=zh,
                )
            )
        return lines

    def _referral_per_head(self, rule: ReferralReward, ev: AgentJoined, view: HierarchyView) -> list[EarnedLine | None]:
        amounts = rule.amounts or []
        supplier = view.supplier_of(ev.agent) if rule.payer == "upline" else None
        payer: Payer = supplier if supplier is not None else "company"
        payer_en = f"; paid by {self._who(view, supplier)}" if supplier is not None else ""
        payer_zh = f"；由 {self._who(view, supplier)} 支付" if supplier is not None else ""
        label_en, label_zh = self._labels(rule)
        recruit = self._who(view, ev.agent)
        lines = []
        chain = view.referrer_chain(ev.agent, len(amounts))
        for generation, (beneficiary, amount) in enumerate(zip(chain, amounts, strict=False), start=1):
            ben_level = view.level_of(beneficiary)
            if not self._level_ok(rule.referee_level, ev.level, ben_level):
                continue
            if not view.is_active(beneficiary):
                continue
            if payer == beneficiary:
                continue
            en, zh = self._say(
                amount,
                f" for new agent {recruit} joining as {ev.level} ({_ordinal(generation)} generation, {label_en})"
                f"{payer_en}",
                f"：新代理 {recruit} 以{self._lname(ev.level)}加入（第 {generation} 代，{label_zh}）{payer_zh}",
            )
            lines.append(
                self._line(
                    view,
                    beneficiary=beneficiary,
                    full=amount,
                    rule_id=rule.id,
                    source_event=ev.event_id,
                    generation=generation,
                    kind="reward",
                    payer=payer,
                    explanation={
                        "rule": rule.id,
                        "rule_type": rule.type,
                        "base": "per_head",
                        "recruit": ev.agent,
                        "recruit_name": view.display_name(ev.agent),
                        "recruit_level": ev.level,
                        "beneficiary_level": ben_level,
                        "referee_level": rule.referee_level,
                        "generation": generation,
                        "per_head_amount": _s(amount),
                        "payer": str(payer),
                    },
                    en=en,
                    zh=zh,
                )
            )
        return lines

    def _retail_commission(
        self, rule: RetailCommissionReward, ev: OrderCompleted, view: HierarchyView
    ) -> list[EarnedLine | None]:
        if ev.kind != "retail" or ev.bound_agent is None:
            return []
        n = rule.generations
        beneficiaries = [(0, ev.bound_agent)]
        if n > 1:
            beneficiaries += list(enumerate(view.referrer_chain(ev.bound_agent, n - 1), start=1))
        label_en, label_zh = self._labels(rule)
        bound = self._who(view, ev.bound_agent)
        oid = _clip(ev.order_id, ID_CHARS)
        lines = []
        for generation, beneficiary in beneficiaries:
            if generation == 0 and ev.buyer is not None and ev.buyer == beneficiary:
                continue  # the agent's own purchase: self_purchase_rebate covers it
            if not view.is_active(beneficiary):
                continue  # no line; the next generation keeps its own rate
            level = view.level_of(beneficiary)
            rates = rule.rates if rule.rates is not None else (rule.rates_by_level or {}).get(level)
            if rates is None or generation >= len(rates):
                continue
            rate = rates[generation]
            full = ev.amount * rate
            role_en = "own customer" if generation == 0 else f"{_ordinal(generation)} generation"
            role_zh = "本人顾客" if generation == 0 else f"第 {generation} 代"
            en, zh = self._say(
                full,
                f" = {_pct(rate)} × {self._m(ev.amount)} retail order {oid} of a customer of {bound} "
                f"({role_en}, {label_en})",
                f" = {bound} 的顾客的 {self._m(ev.amount)} 零售单 {oid} × {_pct(rate)}（{role_zh}，{label_zh}）",
            )
            lines.append(
                self._line(
                    view,
                    beneficiary=beneficiary,
                    full=full,
                    rule_id=rule.id,
                    source_event=ev.event_id,
                    generation=generation,
                    kind="reward",
                    payer="company",
                    explanation={
                        "rule": rule.id,
                        "rule_type": rule.type,
                        "order": ev.order_id,
                        "order_amount": _s(ev.amount),
                        "bound_agent": ev.bound_agent,
                        "bound_agent_name": view.display_name(ev.bound_agent),
                        "generation": generation,
                        "beneficiary_level": level,
                        "rate": _s(rate),
                        "rates_from": "rates" if rule.rates is not None else f"rates_by_level.{level}",
                        "payer": "company",
                    },
                    en=en,
                    zh=zh,
                )
            )
        return lines

    def _rebate(self, rule: SelfPurchaseRebateReward, ev: OrderCompleted, view: HierarchyView) -> EarnedLine | None:
        if ev.buyer is None:
            return None
        if not (ev.kind in PURCHASE_KINDS or (ev.kind == "retail" and self.plan.kind == "social_mall")):
            return None
        if not view.is_active(ev.buyer):
            return None  # a buyer is normally active when buying; checked all the same
        level = view.level_of(ev.buyer)
        rate = rule.rate if rule.rate is not None else (rule.rates_by_level or {}).get(level)
        if rate is None:
            return None
        label_en, label_zh = self._labels(rule)
        buyer = self._who(view, ev.buyer)
        oid = _clip(ev.order_id, ID_CHARS)
        full = ev.amount * rate
        en, zh = self._say(
            full,
            f" = {_pct(rate)} × {self._m(ev.amount)} own order {oid} of {buyer} ({level}, {label_en})",
            f" = {buyer} 自购 {self._m(ev.amount)} 订单 {oid} × {_pct(rate)}（{self._lname(level)}，{label_zh}）",
        )
        return self._line(
            view,
            beneficiary=ev.buyer,
            full=full,
            rule_id=rule.id,
            source_event=ev.event_id,
            generation=0,
            kind="reward",
            payer="company",
            explanation={
                "rule": rule.id,
                "rule_type": rule.type,
                "order": ev.order_id,
                "order_kind": ev.kind,
                "order_amount": _s(ev.amount),
                "buyer_level": level,
                "rate": _s(rate),
                "payer": "company",
            },
            en=en,
            zh=zh,
        )

    def _team_volume(
        self, rule: TeamVolumeReward, ev: PeriodClosed, view: HierarchyView
    ) -> Iterator[EarnedLine | None]:
        # Run once a period over every agent with a figure (100,000 and more), so the loop does only
        # what differs between agents: each agent's step is found once (an agent is looked up again as
        # its referrer's child), the text of each step is made once, each figure is formatted once for
        # both languages, and no sentence is written for a line that rounds to 0 (_line drops it).
        totals = view.metric_totals(rule.metric, ev.start, ev.end)
        label_en, label_zh = self._labels(rule)
        period = self._period_label(ev)
        tail_en, tail_zh = f" ({label_en}, {period})", f"（{label_zh}，{period}）"
        rungs = [_Rung.of(index, step, rule.metric) for index, step in enumerate(rule.ladder)]
        step_index = _step_finder(rule)
        # agent → the index of their step, -1 below the first (ints only: a dict the garbage collector skips)
        step_of = {agent: step_index(volume) for agent, volume in totals.items()}
        no_figure = step_index(ZERO)  # the step of a child without a figure

        symbol, differential = self._symbol, rule.differential
        is_active, display_name = view.is_active, view.display_name
        common = _period_keys(rule, ev)  # the explanation's keys that are the same on every line
        for agent in sorted(totals):
            index = step_of[agent]
            if index < 0:
                continue
            if not is_active(agent):
                continue  # no line; the upline still subtracts this sub-team below (the brand keeps it)
            rung = rungs[index]
            volume = totals[agent]
            gross = rung.rate * volume
            subtracted = ZERO
            detail: list[str] = []
            names_en: list[str] = []
            names_zh: list[str] = []
            if differential:
                for child in sorted(view.direct_referrals(agent)):
                    child_index = step_of.get(child, no_figure)
                    if child_index < 0:
                        continue
                    child_rung = rungs[child_index]
                    child_volume = totals.get(child, ZERO)
                    part = child_rung.rate * child_volume
                    subtracted += part
                    active = is_active(child)
                    detail.append(
                        f"agent {child}: {child_rung.pct} × {_yuan(child_volume)} = {_s(part)}"
                        + ("" if active else " (inactive: kept by the brand)")
                    )
                    name = _clip(display_name(child), NAME_CHARS)
                    names_en.append(name if active else f"{name} (inactive)")
                    names_zh.append(name if active else f"{name}（已停用）")
            full = max(ZERO, gross - subtracted)
            amount = round_money(full, self.rounding)
            if amount == 0:
                continue  # _line would drop it: no sentences to write
            amount_text, note_en, note_zh = self._amount_texts(amount, full)
            explanation: dict[str, str | int] = {
                **common,
                "volume": _s(volume),
                "ladder_step": rung.number,
                "step_from": rung.from_text,
                "rate": rung.rate_text,
                "gross": _s(gross),
                "differential": "yes" if differential else "no",
                "differential_subtracted": _s(subtracted),
                "subtracted_detail": "; ".join(detail) if detail else "none",
                "payer": "company",
            }
            volume_text = _money_text(volume, symbol)
            head_en = f"{amount_text}{rung.head_en}{volume_text}{rung.step_en}"
            head_zh = f"{amount_text}{rung.head_zh}{volume_text}{rung.step_zh}"
            if names_en:
                sub = _money_text(subtracted, symbol)
                en = _fit(f"{head_en} − {sub} earned in sub-teams of ", names_en, ", ", tail_en + note_en)
                zh = _fit(f"{head_zh} − ", names_zh, "、", f" 的下级团队已得 {sub}{tail_zh}{note_zh}")
            else:  # what _fit does without names
                en = _clip(head_en + tail_en + note_en, MAX_SENTENCE)
                zh = _clip(head_zh + tail_zh + note_zh, MAX_SENTENCE)
            yield (
                self._line(
                    view,
                    beneficiary=agent,
                    full=full,
                    amount=amount,
                    rule_id=rule.id,
                    source_event=ev.event_id,
                    generation=0,
                    kind="reward",
                    payer="company",
                    explanation=explanation,
                    en=en,
                    zh=zh,
                )
            )

    def _target_award(
        self, rule: TargetAwardReward, ev: PeriodClosed, view: HierarchyView
    ) -> Iterator[EarnedLine | None]:
        totals = view.metric_totals(rule.metric, ev.start, ev.end)
        label_en, label_zh = self._labels(rule)
        period = self._period_label(ev)
        prize = rule.prize
        prize_name = prize.name or prize.kind
        shown_name = _clip(prize.name, LABEL_CHARS) if prize.name else ""
        if prize.kind == "cash":
            prize_en, prize_zh = " cash prize", " 现金奖"
        else:
            prize_en = f" = cost of {prize.kind} {shown_name}".rstrip()
            prize_zh = f" = {_PRIZE_ZH[prize.kind]}" + (f"“{shown_name}”" if shown_name else "") + "的品牌成本"
        common = _period_keys(rule, ev)
        for agent in sorted(totals):
            figure = totals[agent]
            if figure < rule.threshold:
                continue
            if not view.is_active(agent):
                continue  # an inactive agent wins no prize
            who = self._who(view, agent)
            if rule.metric == "new_referrals":
                fig, thr = _s(figure), _s(rule.threshold)
            else:
                fig, thr = self._m(figure), self._m(rule.threshold)
            en, zh = self._say(
                prize.value,
                f"{prize_en}: {who}'s {_METRIC_EN[rule.metric]} {fig} ≥ {thr} ({label_en}, {period})",
                f"{prize_zh}：{who} 的{_METRIC_ZH[rule.metric]} {fig} ≥ {thr}（{label_zh}，{period}）",
            )
            yield (
                self._line(
                    view,
                    beneficiary=agent,
                    full=prize.value,
                    rule_id=rule.id,
                    source_event=ev.event_id,
                    generation=0,
                    kind="prize",
                    payer="company",
                    explanation={
                        **common,
                        "figure": _s(figure),
                        "threshold": _s(rule.threshold),
                        "prize_kind": prize.kind,
                        "prize_name": prize_name,
                        "prize_value": _s(prize.value),
                        "payer": "company",
                    },
                    en=en,
                    zh=zh,
                )
            )

    def _agent_exited(self, ev: AgentExited, view: HierarchyView) -> list[EarnedLine]:
        returns = self.plan.returns
        if returns is None or not ev.stock_lots:
            return []
        # no is_active check: the agent has just exited, and the buyback is owed to them all the same
        cutoff = ev.at - timedelta(days=returns.window_days)
        counted = [lot for lot in ev.stock_lots if cutoff <= lot.bought_at <= ev.at]
        excluded = len(ev.stock_lots) - len(counted)
        value = sum((lot.value for lot in counted), ZERO)
        full = value * returns.refund_rate
        who = self._who(view, ev.agent)
        lots_en = f"{len(counted)} lot{'s' if len(counted) != 1 else ''}" + (
            f"; {excluded} older lot{'s' if excluded != 1 else ''} not bought back" if excluded else ""
        )
        lots_zh = f"{len(counted)} 批" + (f"，另有 {excluded} 批超期不回购" if excluded else "")
        en, zh = self._say(
            full,
            f" = {_pct(returns.refund_rate)} × {self._m(value)} stock {who} bought in the {returns.window_days} days "
            f"before exit ({lots_en}; buyback)",
            f" = {who} 退出前 {returns.window_days} 天内进货的库存 {self._m(value)} × {_pct(returns.refund_rate)}"
            f"（{lots_zh}；退出回购）",
        )
        line = self._line(
            view,
            beneficiary=ev.agent,
            full=full,
            rule_id=RETURNS_RULE,
            source_event=ev.event_id,
            generation=0,
            kind="buyback",
            payer="company",
            explanation={
                "rule": RETURNS_RULE,
                "window_days": returns.window_days,
                "refund_rate": _s(returns.refund_rate),
                "lots_counted": len(counted),
                "lots_excluded": excluded,
                "value_counted": _s(value),
                "payer": "company",
            },
            en=en,
            zh=zh,
        )
        return [line] if line is not None else []

    # -- helpers ------------------------------------------------------------------------

    def check_condition(
        self,
        agent: int,
        view: HierarchyView,
        cond: Condition,
        rule: Upgrade,
        current: str,
        path: str,
        extra: Decimal,
        at: datetime | date | None,
    ) -> ConditionCheck:
        """The test of one upgrade condition for ``agent`` (about to move from ``current`` by
        ``rule``): the figure required, the agent's figure (``extra`` added, e.g. the order being
        placed) and whether it is met. ``at`` picks the period of a team_volume condition. The
        upgrade decision and the agent's progress page (``plans.progress``) both read it."""
        key, required = cond.key, cond.value
        note = ""
        if key == "cumulative_purchase":
            actual = view.cumulative_purchase(agent) + extra
        elif key == "single_order_amount":
            actual = max(view.max_single_order(agent), extra)
        elif key == "cumulative_spend":
            actual = view.cumulative_spend(agent) + extra
        elif key == "retail_sales":
            actual = view.cumulative_retail(agent)
        elif key == "direct_referrals":
            actual = Decimal(view.direct_referral_count(agent))
        elif key == "same_level_referrals":
            actual = Decimal(view.direct_referrals_at_level(agent, current))
            if self.plan.rank(rule.to) != self.plan.rank(current) - 1:
                note = "same_level_referrals lifts one level only; the agent is not directly below this level"
                return ConditionCheck(path, key, str(required), _s(actual), False, note)
        elif key == "team_volume":
            day = self.today(at)
            start, end = period_bounds(required.period, day)
            actual = view.team_purchase(agent, start, end) + extra
            note = f"{required.period} {start}–{end}"
            return ConditionCheck(path, key, _s(required.amount), _s(actual), actual >= required.amount, note)
        else:  # pragma: no cover - the schema knows every key
            raise EngineError(f"unknown condition {key}")
        return ConditionCheck(path, key, _s(Decimal(required)), _s(actual), actual >= required, note)

    def today(self, at: datetime | date | None) -> date:
        """The plan's date at ``at`` (a date as it is; a datetime in the plan's time zone; None: now)."""
        zone = ZoneInfo(self.plan.timezone)
        if at is None:
            return datetime.now(zone).date()
        if isinstance(at, datetime):
            return at.astimezone(zone).date() if at.tzinfo is not None else at.date()
        return at

    def _level_ok(self, test: str, referee_level: str, beneficiary_level: str) -> bool:
        if test == "any":
            return True
        referee, beneficiary = self.plan.rank(referee_level), self.plan.rank(beneficiary_level)
        if test == "same":
            return referee == beneficiary
        if test == "lower":
            return referee > beneficiary  # rank 1 is the highest
        return referee < beneficiary  # higher (越级推荐)

    def _labels(self, rule: Any) -> tuple[str, str]:
        """How sentences call a rule: its id in words in English ('peer referral'), its name in Chinese."""
        label_en = rule.id.replace("-", " ").replace("_", " ")
        return _clip(label_en, LABEL_CHARS), _clip(rule.name or _DEFAULT_NAMES[rule.type][1], LABEL_CHARS)

    def _who(self, view: HierarchyView, agent: int) -> str:
        return _clip(view.display_name(agent), NAME_CHARS)

    def _m(self, value: Decimal) -> str:
        return _money_text(value, self._symbol)

    def _amount_texts(self, amount: Decimal, full: Decimal) -> tuple[str, str, str]:
        """``amount`` (``full`` rounded) as money, and the English and Chinese notes when rounding changed it."""
        if amount > 0:
            # rounded to the cent already, so _m's abs() and quantize() would change nothing
            text = self._symbol + format(amount, ",f")
        else:
            text = self._m(amount)
        if amount == full:
            return text, "", ""
        exact = self._m(full)
        note_en = f"; exact {exact}, {_ROUNDING_EN[self.rounding]}"
        note_zh = f"；精确值 {exact}，{_ROUNDING_ZH[self.rounding]}取整到分"
        return text, note_en, note_zh

    def _say(self, full: Decimal, tail_en: str, tail_zh: str) -> tuple[str, str]:
        """The rounded amount, the rule's sentence, and a note when rounding changed the figure."""
        amount_text, note_en, note_zh = self._amount_texts(round_money(full, self.rounding), full)
        return f"{amount_text}{tail_en}{note_en}", f"{amount_text}{tail_zh}{note_zh}"

    def _period_label(self, ev: PeriodClosed) -> str:
        if period_bounds(ev.period, ev.start) == (ev.start, ev.end):
            return period_label(ev.period, ev.start)
        return f"{ev.start}–{ev.end}"

    def _lname(self, code: str) -> str:
        try:
            return self.plan.level(code).name
        except KeyError:
            return code

    def _line(
        self,
        view: HierarchyView,
        *,
        beneficiary: int,
        full: Decimal,
        rule_id: str,
        source_event: str,
        generation: int,
        kind: Literal["reward", "margin", "prize", "buyback"],
        payer: Payer,
        explanation: dict[str, str | int],
        en: str,
        zh: str,
        amount: Decimal | None = None,
    ) -> EarnedLine | None:
        """The line, or None when ``full`` rounds to 0; ``amount``: ``full`` rounded, when the caller has it.

        ``explanation`` (a dict the caller made for this line) gets the keys every line has, at its end.
        """
        if amount is None:
            amount = round_money(full, self.rounding)
        if amount == 0:
            return None
        explanation["beneficiary_name"] = view.display_name(beneficiary)
        explanation["full_amount"] = _s(full)
        explanation["rounding"] = self.rounding
        explanation["amount"] = _s(amount)
        return EarnedLine(
            beneficiary=beneficiary,
            amount=amount,
            rule_id=rule_id,
            plan_id=self.plan.id,
            plan_version=self.plan.version,
            source_event=source_event,
            generation=generation,
            kind=kind,
            payer=payer,
            explanation=explanation,
            explanation_en=_clip(en, MAX_SENTENCE),
            explanation_zh=_clip(zh, MAX_SENTENCE),
        )


def _period_keys(rule: TeamVolumeReward | TargetAwardReward, ev: PeriodClosed) -> dict[str, str | int]:
    """The first keys of a period rule's explanation, in their order: the rule, the period, the metric."""
    return {
        "rule": rule.id,
        "rule_type": rule.type,
        "period": ev.period,
        "period_start": ev.start.isoformat(),
        "period_end": ev.end.isoformat(),
        "metric": rule.metric,
    }


def _check_unique(lines: Iterable[EarnedLine]) -> None:
    seen: set[tuple[str, str, int, int]] = set()
    for line in lines:
        if line.key in seen:
            raise EngineError(f"two reward lines with the key {line.key}; the plan or the view is inconsistent")
        seen.add(line.key)


def reverse_lines(lines: Iterable[EarnedLine], event_id: str) -> list[EarnedLine]:
    """Negated copies of ``lines`` (an order's stored lines) with the refund ``event_id`` as source.

    Lines with the same (rule, beneficiary, generation) are summed into one reversal, so keys
    stay unique and calling this again for the same refund gives the same keys (a replay
    adds nothing). Lines that already belong to ``event_id`` are ignored.
    """
    groups: dict[tuple[str, int, int], list[EarnedLine]] = {}
    for line in lines:
        if line.source_event == event_id:
            continue
        groups.setdefault((line.rule_id, line.beneficiary, line.generation), []).append(line)
    out = []
    for (rule_id, beneficiary, generation), group in groups.items():
        total = sum((line.amount for line in group), ZERO)
        if total == 0:
            continue
        first = group[0]
        sources = ",".join(sorted({line.source_event for line in group}))
        count_en = f" ({len(group)} lines)" if len(group) > 1 else ""
        count_zh = f"（{len(group)} 笔）" if len(group) > 1 else ""
        out.append(
            EarnedLine(
                beneficiary=beneficiary,
                amount=-total,
                rule_id=rule_id,
                plan_id=first.plan_id,
                plan_version=first.plan_version,
                source_event=event_id,
                generation=generation,
                kind=first.kind,
                payer=first.payer,
                explanation={
                    **first.explanation,
                    "reverses": sources,
                    "reversed_amount": _s(total),
                    "amount": _s(-total),
                },
                explanation_en=_clip(f"Reversed by refund{count_en}: {first.explanation_en}", MAX_SENTENCE),
                explanation_zh=_clip(f"退款冲回{count_zh}：{first.explanation_zh}", MAX_SENTENCE),
            )
        )
    return out
