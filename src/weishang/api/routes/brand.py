"""Brand integrations (ERP, logistics) under /brand/, with an API key (``X-Api-Key``) and its
scopes: agents, orders, payments, shipments with tracking updates, settlement runs and reports.

A key without the scope an endpoint names gets 403 ``missing_scope``; no key (or a revoked one) is
401. A key acts for the brand; what it changes (a shipment) is recorded as done by the staff member
who issued the key, and needs that person's permission (the warehouse's ``trade.change_order``), so a
key can never do more than its issuer.
"""

# No "from __future__ import annotations": django-ninja reads the paginated views' annotations in
# its own module's namespace.
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from weishang.api.errors import ERRORS
from weishang.api.pagination import Cursor
from weishang.api.params import Day, Id, OrderNumber, Period, Text, day_start, key_or_404
from weishang.api.security import brand
from weishang.channel.models import Agent, AgentStatus
from weishang.core.errors import Forbidden
from weishang.rewards.models import SettlementReport, SettlementRun
from weishang.trade import services
from weishang.trade.models import (
    Order,
    OrderKind,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)

router = Router(tags=["brand"])

AgentStatusCode = Literal[tuple(AgentStatus.values)]
OrderStatusCode = Literal[tuple(OrderStatus.values)]
OrderKindCode = Literal[tuple(OrderKind.values)]
PaymentStatusCode = Literal[tuple(PaymentStatus.values)]
PaymentMethodCode = Literal[tuple(PaymentMethod.values)]


def _between(queryset, field: str, after: date | None, before: date | None):
    """``field`` on or after the day ``after`` and before the day ``before``."""
    if after:
        queryset = queryset.filter(**{f"{field}__gte": day_start(after)})
    if before:
        queryset = queryset.filter(**{f"{field}__lt": day_start(before)})
    return queryset


# --- agents ---------------------------------------------------------------------------------


class BrandAgentOut(Schema):
    id: int
    real_name: str
    phone: str
    level: str = Field(..., description="level code")
    level_name: str
    status: AgentStatusCode
    invite_code: str
    supplier_id: int | None = Field(..., description="who fills their orders; none: the company")
    referrer_id: int | None = Field(..., description="who recruited them; teams follow this")
    introducer_id: int | None
    entry_due: Decimal = Field(..., description="the part of the entry order still owed")
    joined_at: datetime

    @staticmethod
    def resolve_phone(agent) -> str:
        return agent.user.phone or ""

    @staticmethod
    def resolve_level(agent) -> str:
        return agent.level.code

    @staticmethod
    def resolve_level_name(agent) -> str:
        return agent.level.name


class BrandAgentFilters(Schema):
    level: Text = Field("", max_length=32, description="a level code")
    status: AgentStatusCode | None = None
    joined_after: Day | None = Field(None, description="joined on or after this day")
    joined_before: Day | None = Field(None, description="joined before this day")


def _agents():
    return Agent.objects.select_related("level", "user")


@router.get(
    "/agents", response={200: list[BrandAgentOut], **ERRORS}, auth=brand("agents:read"), summary="Agents, newest first"
)
@paginate(Cursor)
def agents(request, filters: Query[BrandAgentFilters]):
    found = _agents()
    if filters.level.strip():
        found = found.filter(level__code=filters.level.strip())
    if filters.status:
        found = found.filter(status=filters.status)
    return _between(found, "joined_at", filters.joined_after, filters.joined_before)


@router.get(
    "/agents/{agent_id}", response={200: BrandAgentOut, **ERRORS}, auth=brand("agents:read"), summary="One agent"
)
def agent(request, agent_id: Id):
    return get_object_or_404(_agents(), pk=agent_id)


# --- orders ---------------------------------------------------------------------------------


class BrandOrderLineOut(Schema):
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal

    @staticmethod
    def resolve_sku(line) -> str:
        return line.sku.code

    @staticmethod
    def resolve_name(line) -> str:
        return line.sku.name


class BrandOrderOut(Schema):
    number: str
    kind: OrderKindCode
    status: OrderStatusCode
    buyer_id: int | None = Field(..., description="the agent who buys; none for a consumer's retail order")
    customer_name: str | None = Field(..., description="retail orders: the consumer")
    customer_phone: str | None
    seller_id: int | None = Field(
        ..., description="the agent who fills it; none: the company (or, for a pick-up, the brand's warehouse ships it)"
    )
    supply_mode: str
    target_level: str | None = Field(..., description="upgrade orders: the level the buyer moves to")
    total: Decimal
    lines: list[BrandOrderLineOut]
    ship_name: str
    ship_phone: str
    ship_address: str
    carrier: str
    tracking_number: str
    created_at: datetime
    submitted_at: datetime | None
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None

    @staticmethod
    def resolve_customer_name(order) -> str | None:
        return order.customer.name if order.customer_id else None

    @staticmethod
    def resolve_customer_phone(order) -> str | None:
        return order.customer.phone if order.customer_id else None

    @staticmethod
    def resolve_target_level(order) -> str | None:
        return order.target_level.code if order.target_level_id else None

    @staticmethod
    def resolve_lines(order) -> list:
        return list(order.lines.all())


class BrandOrderFilters(Schema):
    status: OrderStatusCode | None = None
    kind: OrderKindCode | None = None
    company: bool | None = Field(
        None, description="true: only orders the company fills or ships; false: only those agents fill"
    )
    created_after: Day | None = Field(None, description="created on or after this day")
    created_before: Day | None = Field(None, description="created before this day")
    completed_after: Day | None = Field(None, description="completed on or after this day")
    completed_before: Day | None = Field(None, description="completed before this day")


def _orders():
    return Order.objects.select_related("customer", "target_level").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("sku"))
    )


@router.get(
    "/orders", response={200: list[BrandOrderOut], **ERRORS}, auth=brand("orders:read"), summary="Orders, newest first"
)
@paginate(Cursor)
def orders(request, filters: Query[BrandOrderFilters]):
    found = _orders()
    if filters.status:
        found = found.filter(status=filters.status)
    if filters.kind:
        found = found.filter(kind=filters.kind)
    if filters.company is not None:
        found = found.filter(seller__isnull=filters.company)
    found = _between(found, "created_at", filters.created_after, filters.created_before)
    return _between(found, "completed_at", filters.completed_after, filters.completed_before)


@router.get("/orders/{number}", response={200: BrandOrderOut, **ERRORS}, auth=brand("orders:read"), summary="One order")
def order(request, number: OrderNumber):
    return get_object_or_404(_orders(), number=key_or_404(number, max_length=32))


# --- payments -------------------------------------------------------------------------------


class BrandPaymentOut(Schema):
    id: int
    order_number: str | None = Field(..., description="the order paid; none for a wallet top-up")
    topup_for_id: int | None = Field(..., description="wallet top-ups: the agent whose wallet it fills")
    method: PaymentMethodCode
    amount: Decimal
    status: PaymentStatusCode
    receiver_id: int | None = Field(..., description="the agent who received the money; none: brand finance")
    reference: str
    provider_txn_id: str | None
    created_at: datetime
    decided_at: datetime | None

    @staticmethod
    def resolve_order_number(payment) -> str | None:
        return payment.order.number if payment.order_id else None


class BrandPaymentFilters(Schema):
    status: PaymentStatusCode | None = None
    method: PaymentMethodCode | None = None
    created_after: Day | None = Field(None, description="made on or after this day")
    created_before: Day | None = Field(None, description="made before this day")


@router.get(
    "/payments",
    response={200: list[BrandPaymentOut], **ERRORS},
    auth=brand("payments:read"),
    summary="Payments and wallet top-ups, newest first",
)
@paginate(Cursor)
def payments(request, filters: Query[BrandPaymentFilters]):
    found = Payment.objects.select_related("order")
    if filters.status:
        found = found.filter(status=filters.status)
    if filters.method:
        found = found.filter(method=filters.method)
    return _between(found, "created_at", filters.created_after, filters.created_before)


# --- shipments ------------------------------------------------------------------------------


class BrandShipmentIn(Schema):
    order: Text = Field(
        ..., min_length=1, max_length=32, description="the order number: a pick-up, or a paid order the company fills"
    )
    carrier: Text = Field(..., min_length=1, max_length=40)
    tracking_number: Text = Field(..., min_length=1, max_length=60)


class BrandTrackingIn(Schema):
    carrier: Text = Field(..., min_length=1, max_length=40)
    tracking_number: Text = Field(..., min_length=1, max_length=60)


class BrandShipmentOut(Schema):
    order: str
    kind: OrderKindCode
    status: OrderStatusCode
    carrier: str
    tracking_number: str
    shipped_at: datetime | None
    ship_name: str
    ship_address: str


def _shipment_out(order: Order) -> BrandShipmentOut:
    return BrandShipmentOut(
        order=order.number,
        kind=order.kind,
        status=order.status,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        shipped_at=order.shipped_at,
        ship_name=order.ship_name,
        ship_address=order.ship_address,
    )


def _issuer(request):
    """The staff member who issued the key: the key ships in their name, with their permissions."""
    user = request.auth.created_by
    if user is None or not user.is_active:
        raise Forbidden(
            _(
                "This API key was not issued by an active staff member, so it cannot ship orders. "
                "Ask for a key issued from the console."
            ),
            code="key_without_issuer",
        )
    return user


@router.post(
    "/shipments",
    response={201: BrandShipmentOut, **ERRORS},
    auth=brand("shipments:write"),
    summary="Ship a pick-up or a company-filled order",
)
def shipment_create(request, payload: BrandShipmentIn):
    """The warehouse sends a pick-up, or a paid order the company fills (its units leave the
    warehouse), with the carrier and tracking number. Send an ``Idempotency-Key``: a retry ships
    once."""
    by = _issuer(request)
    found = get_object_or_404(Order, number=payload.order)
    return Status(
        201,
        _shipment_out(
            services.shipment_send(order=found, by=by, carrier=payload.carrier, tracking_number=payload.tracking_number)
        ),
    )


@router.post(
    "/shipments/{number}/tracking",
    response={200: BrandShipmentOut, **ERRORS},
    auth=brand("shipments:write"),
    summary="Correct a shipment's carrier or tracking number",
)
def shipment_tracking(request, number: OrderNumber, payload: BrandTrackingIn):
    by = _issuer(request)
    found = get_object_or_404(Order, number=key_or_404(number, max_length=32))
    return _shipment_out(
        services.shipment_tracking_update(
            order=found, by=by, carrier=payload.carrier, tracking_number=payload.tracking_number
        )
    )


# --- settlements ----------------------------------------------------------------------------


class BrandSettlementOut(Schema):
    id: int
    period: str = Field(..., description="2026-11, 2026-Q4 or 2026")
    plan: str = Field(..., description="the plan version settled: plan id and version")
    started_at: datetime
    finished_at: datetime | None = Field(..., description="none while the run is not finished")
    lines: int = Field(..., description="reward lines written")
    total: Decimal = Field(..., description="rewards paid")
    volume: Decimal = Field(..., description="purchases in the period")
    payout_ratio: Decimal | None = Field(..., description="total / volume")

    @staticmethod
    def resolve_plan(run) -> str:
        return f"{run.plan.plan_id} v{run.plan.version}"

    @staticmethod
    def resolve_payout_ratio(run) -> Decimal | None:
        ratio = run.payout_ratio
        return None if ratio is None else Decimal(ratio).quantize(Decimal("0.0001"))


class BrandSettlementReportOut(Schema):
    run_id: int
    agent_id: int
    agent_name: str
    level: str
    personal_purchase: Decimal
    team_purchase: Decimal
    rewards: Decimal

    @staticmethod
    def resolve_agent_name(report) -> str:
        return report.agent.real_name

    @staticmethod
    def resolve_level(report) -> str:
        return report.agent.level.code


@router.get(
    "/settlements",
    response={200: list[BrandSettlementOut], **ERRORS},
    auth=brand("settlements:read"),
    summary="Settlement runs, newest first",
)
@paginate(Cursor)
def settlements(request):
    return SettlementRun.objects.select_related("plan")


@router.get(
    "/settlements/{period}/reports",
    response={200: list[BrandSettlementReportOut], **ERRORS},
    auth=brand("settlements:read"),
    summary="What a period's settlement used and paid, per agent",
)
@paginate(Cursor, ordering=("pk",))
def settlement_reports(request, period: Period):
    """Each agent's personal and team purchases in the period and the rewards settled for them."""
    runs = list(SettlementRun.objects.filter(period=key_or_404(period, max_length=10)).values_list("pk", flat=True))
    if not runs:
        raise Http404
    return SettlementReport.objects.filter(run_id__in=runs).select_related("agent__level")
