"""The reward engine: events in, reward lines out. Pure, deterministic and idempotent.

``Engine(plan).process(event, view)`` reads the agent tree and order figures through a
read-only :class:`HierarchyView` and returns the :class:`RewardLine` s the event earns under
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

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from .periods import period_bounds
from .schema import (
    Condition,
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
    "RewardLine",
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


# ---------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------

Payer = int | Literal["company", "customer"]


@dataclass(frozen=True, kw_only=True)
class RewardLine:
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
    text = format(value, "f")
    return text


def _yuan(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), "f") if value == value.quantize(Decimal("0.01")) else _s(value)


def _pct(rate: Decimal) -> str:
    text = format((rate * 100).normalize(), "f")
    return f"{text}%"


_DEFAULT_NAMES = {
    "referral": ("referral reward", "推荐奖"),
    "retail_commission": ("retail commission", "分享佣金"),
    "self_purchase_rebate": ("self-purchase rebate", "自购返利"),
    "team_volume": ("team volume reward", "团队奖"),
    "target_award": ("target award", "目标奖"),
}

_LEVEL_TEST = {
    "same": ("the same level as", "同级"),
    "lower": ("a lower level than", "低于受益人等级"),
    "higher": ("a higher level than", "高于受益人等级"),
    "any": ("any level compared with", "不限等级"),
}

_ORDER_KIND_ZH = {"entry": "首批进货单", "upgrade": "升级单", "restock": "进货单", "retail": "零售单"}
_PERIOD_ZH = {"month": "月", "quarter": "季度", "year": "年"}
_PRIZE_ZH = {"cash": "现金", "trip": "旅游", "goods": "实物"}
_METRIC_ZH = {
    "team_purchase": "团队进货额",
    "team_retail": "团队零售额",
    "personal_purchase": "个人进货额",
    "personal_retail": "个人零售额",
    "new_referrals": "新增直推人数",
}
_ROUNDING_ZH = {"down": "向下", "half_up": "四舍五入", "half_even": "四舍六入五成双"}


# ---------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------


class Engine:
    """Computes reward lines for one plan version."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.rounding = plan.settlement.rounding

    # -- public -------------------------------------------------------------------------

    def process(self, event: Event, view: HierarchyView) -> list[RewardLine]:
        """The reward lines ``event`` earns. Pure: reads ``view``, changes nothing."""
        if isinstance(event, OrderCompleted):
            lines = self._order_completed(event, view)
        elif isinstance(event, AgentJoined):
            lines = self._agent_joined(event, view)
        elif isinstance(event, PeriodClosed):
            lines = self._period_closed(event, view)
        elif isinstance(event, AgentExited):
            lines = self._agent_exited(event)
        elif isinstance(event, OrderRefunded | AgentUpgraded):
            lines = []  # refunds: the caller reverses stored lines (reverse_lines); upgrades pay through orders
        else:
            raise EngineError(f"unknown event type {type(event).__name__}")
        _check_unique(lines)
        return lines

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
                self._check(agent, view, cond, rule, current, f"upgrades[{index}].{rule.mode}[{j}]", extra, at)
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
                    f"Agent {agent} qualifies for {rule.to} (from {current}) under upgrades[{index}] "
                    f"({rule.mode}): {reasons_en}" + (f"; top-up due {_yuan(top_up)}" if rule.top_up else "")
                ),
                explanation_zh=(
                    f"代理 {agent} 由{from_name}升为{to_name}（upgrades[{index}]，"
                    f"{'任一' if rule.mode == 'any' else '全部'}条件）：{reasons_zh}"
                    + (f"；需补差 {_yuan(top_up)} 元" if rule.top_up else "")
                ),
            )
        return best

    # -- events -------------------------------------------------------------------------

    def _order_completed(self, ev: OrderCompleted, view: HierarchyView) -> list[RewardLine]:
        lines: list[RewardLine | None] = [self._margin(ev)]
        for rule in self.plan.rewards:
            if isinstance(rule, ReferralReward) and rule.base == "referee_purchase":
                lines.extend(self._referral_purchase(rule, ev, view))
            elif isinstance(rule, RetailCommissionReward):
                lines.extend(self._retail_commission(rule, ev, view))
            elif isinstance(rule, SelfPurchaseRebateReward):
                lines.append(self._rebate(rule, ev, view))
        return [line for line in lines if line is not None]

    def _agent_joined(self, ev: AgentJoined, view: HierarchyView) -> list[RewardLine]:
        lines: list[RewardLine | None] = []
        for rule in self.plan.rewards:
            if isinstance(rule, ReferralReward) and rule.base == "per_head":
                lines.extend(self._referral_per_head(rule, ev, view))
        return [line for line in lines if line is not None]

    def _period_closed(self, ev: PeriodClosed, view: HierarchyView) -> list[RewardLine]:
        lines: list[RewardLine | None] = []
        for rule in self.plan.rewards:
            if isinstance(rule, TeamVolumeReward) and rule.period == ev.period:
                lines.extend(self._team_volume(rule, ev, view))
            elif isinstance(rule, TargetAwardReward) and rule.period == ev.period:
                lines.extend(self._target_award(rule, ev, view))
        return [line for line in lines if line is not None]

    # -- rules --------------------------------------------------------------------------

    def _margin(self, ev: OrderCompleted) -> RewardLine | None:
        if ev.seller is None or ev.seller_cost is None:
            return None
        margin = ev.amount - ev.seller_cost
        payer: Payer = ev.buyer if ev.buyer is not None else "customer"
        who_en = f"agent {ev.buyer}" if ev.buyer is not None else "the customer"
        who_zh = f"代理 {ev.buyer} " if ev.buyer is not None else "顾客"
        return self._line(
            beneficiary=ev.seller,
            full=margin,
            rule_id=MARGIN_RULE,
            source_event=ev.event_id,
            generation=0,
            kind="margin",
            payer=payer,
            explanation={
                "rule": MARGIN_RULE,
                "order": ev.order_id,
                "order_kind": ev.kind,
                "order_amount": _s(ev.amount),
                "seller_cost": _s(ev.seller_cost),
                "payer": str(payer),
            },
            en=(
                f"Margin on {ev.kind} order {ev.order_id}: {who_en} paid {_yuan(ev.amount)}, the goods cost the seller "
                f"{_yuan(ev.seller_cost)} at their level price; the difference is the seller's margin, "
                "paid by the buyer, not by the brand"
            ),
            zh=(
                f"{_ORDER_KIND_ZH[ev.kind]} {ev.order_id} 的级差利润：{who_zh}支付 {_yuan(ev.amount)} 元，"
                f"卖方按自身拿货价成本 {_yuan(ev.seller_cost)} 元；差额为卖方利润，由买方支付，不是品牌发放的奖励"
            ),
        )

    def _referral_purchase(self, rule: ReferralReward, ev: OrderCompleted, view: HierarchyView):
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
            payer_en, payer_zh = f"the order's seller, agent {ev.seller}", f"订单卖方代理 {ev.seller}"
        elif rule.payer == "upline":
            payer = "company"
            payer_en, payer_zh = "the company (it filled the order, so it is the upline)", "公司（订单由公司发货）"
        else:
            payer = "company"
            payer_en, payer_zh = "the company", "公司"
        name_en, name_zh = self._names(rule)
        lines = []
        chain = view.referrer_chain(ev.buyer, len(rates))
        for generation, (beneficiary, rate) in enumerate(zip(chain, rates, strict=False), start=1):
            ben_level = view.level_of(beneficiary)
            if not self._level_ok(rule.referee_level, buyer_level, ben_level):
                continue  # no compression: generation k+1 keeps its own rate
            if payer == beneficiary:
                continue  # the seller would pay itself
            full = ev.amount * rate
            test_en, test_zh = _LEVEL_TEST[rule.referee_level]
            lines.append(
                self._line(
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
                        "buyer_level": buyer_level,
                        "beneficiary_level": ben_level,
                        "referee_level": rule.referee_level,
                        "window_days": rule.window_days if rule.window_days is not None else "none",
                        "payer": str(payer),
                    },
                    en=(
                        f"{name_en}, generation {generation}: {_pct(rate)} of {ev.kind} order {ev.order_id} "
                        f"({_yuan(ev.amount)}) by agent {ev.buyer} ({buyer_level}); the buyer is at "
                        f"{test_en} the beneficiary ({ben_level}); "
                        f"paid by {payer_en}"
                    ),
                    zh=(
                        f"{name_zh}第 {generation} 代：代理 {ev.buyer}（{self._lname(buyer_level)}）的"
                        f"{_ORDER_KIND_ZH[ev.kind]} {ev.order_id} 金额 {_yuan(ev.amount)} 元 × {_pct(rate)}；"
                        f"受益人等级 {self._lname(ben_level)}（条件：{test_zh}）；由{payer_zh}支付"
                    ),
                )
            )
        return lines

    def _referral_per_head(self, rule: ReferralReward, ev: AgentJoined, view: HierarchyView):
        amounts = rule.amounts or []
        supplier = view.supplier_of(ev.agent) if rule.payer == "upline" else None
        payer: Payer = supplier if supplier is not None else "company"
        payer_en = f"agent {supplier}, the new agent's supplier" if supplier is not None else "the company"
        payer_zh = f"新代理的上级代理 {supplier}" if supplier is not None else "公司"
        name_en, name_zh = self._names(rule)
        lines = []
        chain = view.referrer_chain(ev.agent, len(amounts))
        for generation, (beneficiary, amount) in enumerate(zip(chain, amounts, strict=False), start=1):
            ben_level = view.level_of(beneficiary)
            if not self._level_ok(rule.referee_level, ev.level, ben_level):
                continue
            if payer == beneficiary:
                continue
            test_en, test_zh = _LEVEL_TEST[rule.referee_level]
            lines.append(
                self._line(
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
                        "recruit_level": ev.level,
                        "beneficiary_level": ben_level,
                        "referee_level": rule.referee_level,
                        "generation": generation,
                        "per_head_amount": _s(amount),
                        "payer": str(payer),
                    },
                    en=(
                        f"{name_en}, generation {generation}: {_yuan(amount)} for recruit agent {ev.agent} joining at "
                        f"{ev.level}; the recruit is at {test_en} the beneficiary ({ben_level}); paid by {payer_en}"
                    ),
                    zh=(
                        f"{name_zh}第 {generation} 代：新代理 {ev.agent} 以{self._lname(ev.level)}加入，"
                        f"每人 {_yuan(amount)} 元；受益人等级 {self._lname(ben_level)}（条件：{test_zh}）；"
                        f"由{payer_zh}支付"
                    ),
                )
            )
        return lines

    def _retail_commission(self, rule: RetailCommissionReward, ev: OrderCompleted, view: HierarchyView):
        if ev.kind != "retail" or ev.bound_agent is None:
            return []
        n = rule.generations
        beneficiaries = [(0, ev.bound_agent)]
        if n > 1:
            beneficiaries += list(enumerate(view.referrer_chain(ev.bound_agent, n - 1), start=1))
        name_en, name_zh = self._names(rule)
        lines = []
        for generation, beneficiary in beneficiaries:
            if generation == 0 and ev.buyer is not None and ev.buyer == beneficiary:
                continue  # the agent's own purchase: self_purchase_rebate covers it
            level = view.level_of(beneficiary)
            rates = rule.rates if rule.rates is not None else (rule.rates_by_level or {}).get(level)
            if rates is None or generation >= len(rates):
                continue
            rate = rates[generation]
            role_en = "the bound agent" if generation == 0 else f"generation {generation} above the bound agent"
            role_zh = "绑定代理" if generation == 0 else f"绑定代理的第 {generation} 代推荐人"
            lines.append(
                self._line(
                    beneficiary=beneficiary,
                    full=ev.amount * rate,
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
                        "generation": generation,
                        "beneficiary_level": level,
                        "rate": _s(rate),
                        "rates_from": "rates" if rule.rates is not None else f"rates_by_level.{level}",
                        "payer": "company",
                    },
                    en=(
                        f"{name_en}: {_pct(rate)} of retail order {ev.order_id} ({_yuan(ev.amount)}) of a customer "
                        f"bound to agent {ev.bound_agent}; the beneficiary is {role_en} (level {level}); "
                        "paid by the company"
                    ),
                    zh=(
                        f"{name_zh}：绑定于代理 {ev.bound_agent} 的顾客零售单 {ev.order_id} "
                        f"金额 {_yuan(ev.amount)} 元 × "
                        f"{_pct(rate)}；受益人为{role_zh}（{self._lname(level)}）；由公司支付"
                    ),
                )
            )
        return lines

    def _rebate(self, rule: SelfPurchaseRebateReward, ev: OrderCompleted, view: HierarchyView) -> RewardLine | None:
        if ev.buyer is None:
            return None
        if not (ev.kind in PURCHASE_KINDS or (ev.kind == "retail" and self.plan.kind == "social_mall")):
            return None
        level = view.level_of(ev.buyer)
        rate = rule.rate if rule.rate is not None else (rule.rates_by_level or {}).get(level)
        if rate is None:
            return None
        name_en, name_zh = self._names(rule)
        return self._line(
            beneficiary=ev.buyer,
            full=ev.amount * rate,
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
            en=(
                f"{name_en}: {_pct(rate)} of agent {ev.buyer}'s own {ev.kind} order {ev.order_id} "
                f"({_yuan(ev.amount)}) at level {level}; paid by the company"
            ),
            zh=(
                f"{name_zh}：代理 {ev.buyer}（{self._lname(level)}）自己的{_ORDER_KIND_ZH[ev.kind]} {ev.order_id} "
                f"金额 {_yuan(ev.amount)} 元 × {_pct(rate)}；由公司支付"
            ),
        )

    def _team_volume(self, rule: TeamVolumeReward, ev: PeriodClosed, view: HierarchyView):
        totals = view.metric_totals(rule.metric, ev.start, ev.end)
        name_en, name_zh = self._names(rule)
        lines = []
        for agent in sorted(totals):
            volume = totals[agent]
            found = rule.step_for(volume)
            if found is None:
                continue
            index, step = found
            gross = step.rate * volume
            subtracted = ZERO
            detail_en, detail_zh = [], []
            if rule.differential:
                for child in sorted(view.direct_referrals(agent)):
                    child_volume = totals.get(child, ZERO)
                    child_found = rule.step_for(child_volume)
                    if child_found is None:
                        continue
                    part = child_found[1].rate * child_volume
                    subtracted += part
                    detail_en.append(f"agent {child}: {_pct(child_found[1].rate)} × {_yuan(child_volume)} = {_s(part)}")
                    detail_zh.append(f"代理 {child}：{_yuan(child_volume)} × {_pct(child_found[1].rate)} = {_s(part)}")
            full = max(ZERO, gross - subtracted)
            explanation: dict[str, str | int] = {
                "rule": rule.id,
                "rule_type": rule.type,
                "period": ev.period,
                "period_start": ev.start.isoformat(),
                "period_end": ev.end.isoformat(),
                "metric": rule.metric,
                "volume": _s(volume),
                "ladder_step": index + 1,
                "step_from": _s(step.from_),
                "rate": _s(step.rate),
                "gross": _s(gross),
                "differential": "yes" if rule.differential else "no",
                "differential_subtracted": _s(subtracted),
                "subtracted_detail": "; ".join(detail_en) if detail_en else "none",
                "payer": "company",
            }
            diff_en = (
                f" minus {_s(subtracted)} already earned inside the sub-teams ({'; '.join(detail_en)})"
                if detail_en
                else (" (no sub-team reached a step)" if rule.differential else "")
            )
            diff_zh = f"，减去下级团队已得 {_s(subtracted)}（{'；'.join(detail_zh)}）" if detail_zh else ""
            lines.append(
                self._line(
                    beneficiary=agent,
                    full=full,
                    rule_id=rule.id,
                    source_event=ev.event_id,
                    generation=0,
                    kind="reward",
                    payer="company",
                    explanation=explanation,
                    en=(
                        f"{name_en} for the {ev.period} {ev.start} to {ev.end}: "
                        f"{rule.metric} {_yuan(volume)} reaches step "
                        f"{index + 1} (from {_yuan(step.from_)}) at {_pct(step.rate)}, {_s(gross)}{diff_en}; "
                        "paid by the company"
                    ),
                    zh=(
                        f"{name_zh}（{_PERIOD_ZH[ev.period]}度，{ev.start} 至 {ev.end}）："
                        f"{_METRIC_ZH[rule.metric]} {_yuan(volume)} 元，"
                        f"达到第 {index + 1} 档（{_yuan(step.from_)} 起）{_pct(step.rate)}，"
                        f"得 {_s(gross)}{diff_zh}；由公司支付"
                    ),
                )
            )
        return lines

    def _target_award(self, rule: TargetAwardReward, ev: PeriodClosed, view: HierarchyView):
        totals = view.metric_totals(rule.metric, ev.start, ev.end)
        name_en, name_zh = self._names(rule)
        prize = rule.prize
        prize_name = prize.name or prize.kind
        lines = []
        for agent in sorted(totals):
            figure = totals[agent]
            if figure < rule.threshold:
                continue
            lines.append(
                self._line(
                    beneficiary=agent,
                    full=prize.value,
                    rule_id=rule.id,
                    source_event=ev.event_id,
                    generation=0,
                    kind="prize",
                    payer="company",
                    explanation={
                        "rule": rule.id,
                        "rule_type": rule.type,
                        "period": ev.period,
                        "period_start": ev.start.isoformat(),
                        "period_end": ev.end.isoformat(),
                        "metric": rule.metric,
                        "figure": _s(figure),
                        "threshold": _s(rule.threshold),
                        "prize_kind": prize.kind,
                        "prize_name": prize_name,
                        "prize_value": _s(prize.value),
                        "payer": "company",
                    },
                    en=(
                        f"{name_en} for the {ev.period} {ev.start} to {ev.end}: {rule.metric} {_s(figure)} reached the "
                        f"threshold {_s(rule.threshold)}; prize: {prize.kind} '{prize_name}' "
                        + ("paid in cash" if prize.kind == "cash" else f"costing the brand {_yuan(prize.value)}")
                    ),
                    zh=(
                        f"{name_zh}（{_PERIOD_ZH[ev.period]}度，{ev.start} 至 {ev.end}）："
                        f"{_METRIC_ZH[rule.metric]} {_s(figure)} "
                        f"达到门槛 {_s(rule.threshold)}；"
                        f"奖品：{_PRIZE_ZH[prize.kind]}“{prize_name}”，"
                        + ("现金发放" if prize.kind == "cash" else f"品牌成本 {_yuan(prize.value)} 元")
                    ),
                )
            )
        return lines

    def _agent_exited(self, ev: AgentExited) -> list[RewardLine]:
        returns = self.plan.returns
        if returns is None or not ev.stock_lots:
            return []
        cutoff = ev.at - timedelta(days=returns.window_days)
        counted = [lot for lot in ev.stock_lots if cutoff <= lot.bought_at <= ev.at]
        excluded = len(ev.stock_lots) - len(counted)
        value = sum((lot.value for lot in counted), ZERO)
        line = self._line(
            beneficiary=ev.agent,
            full=value * returns.refund_rate,
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
            en=(
                f"Buyback on exit: {len(counted)} stock lot(s) bought within {returns.window_days} days before "
                f"leaving, worth {_yuan(value)}, refunded at {_pct(returns.refund_rate)}"
                + (f"; {excluded} older lot(s) not bought back" if excluded else "")
                + "; paid by the company"
            ),
            zh=(
                f"退出回购：退出前 {returns.window_days} 天内购入的 {len(counted)} 批库存，价值 {_yuan(value)} 元，"
                f"按 {_pct(returns.refund_rate)} 退款" + (f"；另有 {excluded} 批超出期限不予回购" if excluded else "")
                + "；由公司支付"
            ),
        )
        return [line] if line is not None else []

    # -- helpers ------------------------------------------------------------------------

    def _check(
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
            day = self._today(at)
            start, end = period_bounds(required.period, day)
            actual = view.team_purchase(agent, start, end) + extra
            note = f"{required.period} {start}–{end}"
            return ConditionCheck(path, key, _s(required.amount), _s(actual), actual >= required.amount, note)
        else:  # pragma: no cover - the schema knows every key
            raise EngineError(f"unknown condition {key}")
        return ConditionCheck(path, key, _s(Decimal(required)), _s(actual), actual >= required, note)

    def _today(self, at: datetime | date | None) -> date:
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

    def _names(self, rule: Any) -> tuple[str, str]:
        default_en, default_zh = _DEFAULT_NAMES[rule.type]
        return f"{default_en.capitalize()} '{rule.id}'", rule.name or default_zh

    def _lname(self, code: str) -> str:
        try:
            return self.plan.level(code).name
        except KeyError:
            return code

    def _line(
        self,
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
    ) -> RewardLine | None:
        amount = round_money(full, self.rounding)
        if amount == 0:
            return None
        explanation = {**explanation, "full_amount": _s(full), "rounding": self.rounding, "amount": _s(amount)}
        return RewardLine(
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
            explanation_en=f"{en}. Amount {_yuan(amount)} ({_s(full)} rounded {self.rounding.replace('_', '-')}).",
            explanation_zh=f"{zh}。金额 {_yuan(amount)} 元（{_s(full)} {_ROUNDING_ZH[self.rounding]}取整到分）。",
        )


def _check_unique(lines: Iterable[RewardLine]) -> None:
    seen: set[tuple[str, str, int, int]] = set()
    for line in lines:
        if line.key in seen:
            raise EngineError(f"two reward lines with the key {line.key}; the plan or the view is inconsistent")
        seen.add(line.key)


def reverse_lines(lines: Iterable[RewardLine], event_id: str) -> list[RewardLine]:
    """Negated copies of ``lines`` (an order's stored lines) with the refund ``event_id`` as source.

    Lines with the same (rule, beneficiary, generation) are summed into one reversal, so keys
    stay unique and calling this again for the same refund gives the same keys (a replay
    adds nothing). Lines that already belong to ``event_id`` are ignored.
    """
    groups: dict[tuple[str, int, int], list[RewardLine]] = {}
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
        out.append(
            RewardLine(
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
                explanation_en=(
                    f"Reversal for refund {event_id} of {_yuan(total)} from {sources}: {first.explanation_en}"
                ),
                explanation_zh=f"退款 {event_id} 冲回 {sources} 的 {_yuan(total)} 元：{first.explanation_zh}",
            )
        )
    return out
