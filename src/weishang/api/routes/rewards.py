"""My rewards: the figures (frozen, available, in transit, withdrawn, margin), the lines with their
explanation in my language, withdrawals under the plan's minimum and fee, and how far I am from the
next level.

The same reads and writes as the phone pages /m/rewards/, /m/rewards/withdraw/ and /m/progress/:
``rewards.selectors`` (``reward_summary``, ``withdraw_terms``, ``upgrade_progress_of``) and
``rewards.services.reward_withdraw``. A withdrawal that is not mine is "not found".
"""

# No "from __future__ import annotations": django-ninja reads the paginated views' annotations in
# its own module's namespace.
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from weishang.api.errors import ERRORS
from weishang.api.pagination import Cursor
from weishang.api.params import Day, Id, Money, Text, day_start
from weishang.api.security import AGENT
from weishang.channel.selectors import require_agent
from weishang.ledger.models import WithdrawalMethod, WithdrawalStatus
from weishang.ledger.selectors import withdrawals_for_agent
from weishang.plans.progress import ConditionProgress, RuleProgress
from weishang.rewards import selectors
from weishang.rewards.models import RewardKind, RewardStatus
from weishang.rewards.services import reward_withdraw

router = Router(tags=["rewards"])

RewardKindCode = Literal[tuple(RewardKind.values)]
RewardStatusCode = Literal[tuple(RewardStatus.values)]
WithdrawalMethodCode = Literal[tuple(WithdrawalMethod.values)]
WithdrawalStatusCode = Literal[tuple(WithdrawalStatus.values)]


# --- the figures ----------------------------------------------------------------------------


class RewardSummaryOut(Schema):
    frozen: Decimal = Field(..., description="earned, released to available after the plan's waiting days")
    available: Decimal = Field(
        ..., description="may be withdrawn; below zero after a refund (a debt netted against later rewards)"
    )
    in_transit: Decimal = Field(..., description="withdrawals requested or approved, not paid yet")
    withdrawn: Decimal = Field(..., description="what the paid withdrawals brought in: net of the fee (what arrived)")
    withdrawal_fees: Decimal = Field(..., description="the fees kept from the paid withdrawals")
    margin: Decimal = Field(
        ...,
        description="my own price differential on orders I filled: recorded, not paid "
        "by the brand; orders cancelled or returned are left out",
    )
    withdraw_minimum: Decimal = Field(..., description="the smallest withdrawal under the plan in force")
    withdraw_fee_rate: Decimal = Field(..., description="the fee kept from a withdrawal, e.g. 0.006 for 0.6 %")


@router.get("/rewards", response={200: RewardSummaryOut, **ERRORS}, auth=AGENT, summary="My reward figures")
def rewards(request):
    me = require_agent(request.user)
    summary = selectors.reward_summary(agent=me)
    terms = selectors.withdraw_terms()
    return RewardSummaryOut(
        frozen=summary.frozen,
        available=summary.available,
        in_transit=summary.in_transit,
        withdrawn=summary.withdrawn,
        withdrawal_fees=summary.withdrawal_fees,
        margin=summary.margin,
        withdraw_minimum=terms.minimum,
        withdraw_fee_rate=terms.fee_rate,
    )


# --- the lines ------------------------------------------------------------------------------


class RewardLineFilters(Schema):
    kind: RewardKindCode | None = Field(None, description="reward, margin, prize or buyback")
    status: RewardStatusCode | None = None
    created_after: Day | None = Field(None, description="created on or after this day")
    created_before: Day | None = Field(None, description="created before this day")


class RewardLineOut(Schema):
    id: int
    amount: Decimal
    kind: RewardKindCode
    rule_id: str
    rule_name: str
    status: RewardStatusCode
    explanation: str = Field(..., description="why this amount, in the caller's language (Accept-Language)")
    order_number: str | None
    period: str = Field(
        ...,
        description="the settled period (2026-11, 2026-Q4) for ladder and target rewards; empty for an order's rewards",
    )
    generation: int
    created_at: datetime
    release_at: datetime | None = Field(..., description="when a frozen line becomes available")

    @staticmethod
    def resolve_rule_name(line) -> str:
        return selectors.rule_name(line)

    @staticmethod
    def resolve_explanation(line) -> str:
        return line.explanation_text()

    @staticmethod
    def resolve_order_number(line) -> str | None:
        return line.order.number if line.order_id else None


@router.get("/rewards/lines", response={200: list[RewardLineOut], **ERRORS}, auth=AGENT, summary="My reward lines")
@paginate(Cursor)
def reward_lines(request, filters: Query[RewardLineFilters]):
    """Each amount I earned (or, ``kind=margin``, my own margin), newest first, with its rule and
    the explanation of how it was computed."""
    me = require_agent(request.user)
    return selectors.reward_lines_for(
        agent=me,
        kind=filters.kind,
        status=filters.status,
        since=day_start(filters.created_after) if filters.created_after else None,
        until=day_start(filters.created_before) if filters.created_before else None,
    )


# --- withdrawals ----------------------------------------------------------------------------


class WithdrawalIn(Schema):
    amount: Money = Field(..., description="yuan, fee included, as a string: at most 11 digits and 2 decimals")
    method: WithdrawalMethodCode
    account_name: Text = Field(..., max_length=50, description="the account holder's name")
    account_no: Text = Field(..., max_length=40, description="WeChat ID, Alipay account or bank card number")
    bank_name: Text = Field("", max_length=50, description="for a bank card")


class WithdrawalOut(Schema):
    id: int
    number: str
    amount: Decimal
    fee_rate: Decimal
    fee: Decimal
    net: Decimal = Field(..., description="what I receive: amount − fee")
    method: WithdrawalMethodCode
    account_name: str
    account_no_masked: str
    bank_name: str
    status: WithdrawalStatusCode
    note: str
    created_at: datetime


class WithdrawalFilters(Schema):
    status: WithdrawalStatusCode | None = None
    created_after: Day | None = Field(None, description="requested on or after this day")
    created_before: Day | None = Field(None, description="requested before this day")


@router.get("/withdrawals", response={200: list[WithdrawalOut], **ERRORS}, auth=AGENT, summary="My withdrawals")
@paginate(Cursor)
def withdrawals(request, filters: Query[WithdrawalFilters]):
    found = withdrawals_for_agent(require_agent(request.user))
    if filters.status:
        found = found.filter(status=filters.status)
    if filters.created_after:
        found = found.filter(created_at__gte=day_start(filters.created_after))
    if filters.created_before:
        found = found.filter(created_at__lt=day_start(filters.created_before))
    return found


@router.post("/withdrawals", response={201: WithdrawalOut, **ERRORS}, auth=AGENT, summary="Withdraw rewards")
def withdrawal_create(request, payload: WithdrawalIn):
    """Ask for available rewards to be paid out, under the plan's minimum and fee (``GET /rewards``
    shows both). The amount is held at once; brand finance pays it. Send an ``Idempotency-Key``: a
    retry withdraws once."""
    me = require_agent(request.user)
    withdrawal = reward_withdraw(
        agent=me,
        amount=payload.amount,
        method=payload.method,
        account_name=payload.account_name,
        account_no=payload.account_no,
        bank_name=payload.bank_name,
        by=request.user,
    )
    withdrawal.refresh_from_db()  # the figures as stored, as GET /withdrawals/{id} shows them
    return Status(201, withdrawal)


@router.get(
    "/withdrawals/{withdrawal_id}", response={200: WithdrawalOut, **ERRORS}, auth=AGENT, summary="One of my withdrawals"
)
def withdrawal(request, withdrawal_id: Id):
    return get_object_or_404(withdrawals_for_agent(require_agent(request.user)), pk=withdrawal_id)


# --- upgrade progress -----------------------------------------------------------------------


def condition_label(c: ConditionProgress) -> str:
    """What a condition counts, as the progress page names it."""
    if c.key == "team_volume":
        return {"quarter": _("Team purchases this quarter"), "year": _("Team purchases this year")}.get(
            c.period or "", _("Team purchases this month")
        )
    labels = {
        "cumulative_purchase": _("My purchases in all"),
        "single_order_amount": _("My largest single order"),
        "same_level_referrals": _("Direct referrals at my level (推三升一)"),
        "direct_referrals": _("Active direct referrals"),
        "cumulative_spend": _("My spending in all"),
        "retail_sales": _("My retail sales in all"),
    }
    return labels.get(c.key, c.key)


class ConditionOut(Schema):
    key: str = Field(
        ...,
        description="cumulative_purchase, single_order_amount, same_level_referrals, "
        "team_volume, direct_referrals, cumulative_spend or retail_sales",
    )
    label: str = Field(..., description="what it counts, in the caller's language")
    money: bool = Field(..., description="counted in yuan (true) or in people (false)")
    target: Decimal
    current: Decimal
    remaining: Decimal
    percent: int = Field(..., ge=0, le=100)
    met: bool
    applicable: bool = Field(
        ..., description="false: same-level referrals lift one level only, and this rule is further up"
    )
    period: str | None = Field(..., description="team_volume: month, quarter or year")
    period_start: date | None
    period_end: date | None
    text: str = Field(..., description="'¥3,200 / ¥5,000' or '2 / 3'")


class RuleOut(Schema):
    to_level: str
    to_level_name: str
    mode: Literal["any", "all"] = Field(..., description="any one condition is enough, or all are needed")
    met: bool = Field(..., description="I qualify for this level")
    by_upgrade_order: bool = Field(
        ..., description="the way up is an upgrade order (of at least top_up); otherwise the level changes by itself"
    )
    top_up: Decimal | None
    conditions: list[ConditionOut]


class ProgressOut(Schema):
    plan: str | None = Field(..., description="the plan in force (none: no plan, no upgrades)")
    level: str
    level_name: str
    top: bool = Field(..., description="already at the highest level")
    next_level: str | None
    next_level_name: str | None
    rules: list[RuleOut] = Field(..., description="every upgrade rule above my level, nearest level first")


def _rule_out(rule: RuleProgress, name: str) -> RuleOut:
    return RuleOut(
        to_level=rule.to_level,
        to_level_name=name,
        mode=rule.mode,
        met=rule.met,
        by_upgrade_order=rule.by_upgrade_order,
        top_up=rule.top_up,
        conditions=[
            ConditionOut(
                key=c.key,
                label=condition_label(c),
                money=c.money,
                target=c.target,
                current=c.current,
                remaining=c.remaining,
                percent=c.percent,
                met=c.met,
                applicable=c.applicable,
                period=c.period,
                period_start=c.period_start,
                period_end=c.period_end,
                text=c.text,
            )
            for c in rule.conditions
        ],
    )


@router.get("/progress", response={200: ProgressOut, **ERRORS}, auth=AGENT, summary="My upgrade progress")
def progress(request):
    """How far I am from each level above mine under the plan in force: every condition's target
    and my current figure, the same figures that decide the upgrade."""
    me = require_agent(request.user)
    page = selectors.upgrade_progress_of(agent=me)
    found = page.progress
    next_level = found.next_level if found else None
    return ProgressOut(
        plan=f"{page.version.name} v{page.version.version}" if page.version else None,
        level=me.level.code,
        level_name=page.name(me.level.code) if page.level_names else me.level.name,
        top=found.top if found else False,
        next_level=next_level,
        next_level_name=page.name(next_level) if next_level else None,
        rules=[_rule_out(rule, page.name(rule.to_level)) for rule in found.rules] if found else [],
    )
