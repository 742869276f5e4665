"""The agent's orders: as the buyer (``/orders``) and as the seller of their downline's and their
shop's orders (``/fills``).

Thin, like the phone pages (web/trade_views.py): parse, call the one trade service the page calls,
answer the order as the caller sees it. An order that is not the caller's is 404, whatever the
action, and nothing changes. ``next_actions`` is what the caller can do now
(``trade.selectors.buyer_actions`` / ``seller_actions``, shared with the phone pages).
"""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Annotated, Literal, NamedTuple

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from weishang.api.errors import ERRORS
from weishang.api.pagination import Cursor
from weishang.api.params import Day, Id, day_start
from weishang.api.security import AGENT
from weishang.campaigns import services as campaign_services
from weishang.channel.models import Agent, AgentStatus, Level
from weishang.channel.selectors import require_agent
from weishang.core.errors import BusinessError
from weishang.core.files import image_response
from weishang.core.http import client_ip
from weishang.core.selectors import unique_row
from weishang.trade import selectors, services, workflow
from weishang.trade.models import (
    Order,
    OrderKind,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    ReceivingAccount,
)
from weishang.trade.workflow import FILLABLE_STATUSES, Actor, Step

router = Router(tags=["orders"])

MAX_UNITS = 99999

# Text a client sends: no NUL character (PostgreSQL cannot store one) and valid Unicode (no lone
# surrogate from a JSON "\\ud800" escape), so that such input is a 422 on its field, not a 500.
TEXT_PATTERN = r"^[^\x00]*$"
Text = Annotated[str, Field(pattern=TEXT_PATTERN)]
# An order number (E/U/R/S/P, the date, ten hex digits): anything else is a 422 on ``number``.
Number = Annotated[str, Path(pattern=r"^[A-Za-z0-9]{1,32}$", description="the order number")]

# What ``next_actions`` may hold: the names of trade.workflow's steps for the buyer and the seller
# (trade.selectors.buyer_actions / seller_actions). Documented as an enum; not checked against one,
# so that a step added to the workflow reaches clients without a second list to keep.
# (The workflow in force when the API's routes are loaded, after every app is ready: the steps
# other apps installed, such as scanning security codes, are among them.)
_ACTION_NAMES = sorted({step.name for step in workflow.current().steps if {Actor.BUYER, Actor.SELLER} & set(step.by)})
NextAction = Annotated[str, Field(json_schema_extra={"enum": _ACTION_NAMES})]


@contextmanager
def fields_renamed(renames: dict[str, str] | None = None) -> Iterator[None]:
    """A service names inputs its own way (``note``, ``lines[0].sku``); the API answers with the
    names of the request's own fields (``reason``, ``lines.0.sku``) as its 422s do."""
    try:
        yield
    except BusinessError as exc:
        if exc.field:
            exc.field = re.sub(r"\[(\d+)\]", r".\1", (renames or {}).get(exc.field, exc.field))
        raise


# --- pagination and filters ------------------------------------------------------------------


class Rows(NamedTuple):
    """What a paginated endpoint returns: the rows' queryset and how one row is answered."""

    queryset: QuerySet
    out: Callable


class Pages(Cursor):
    """The API's cursor pages (newest first, ``page_size`` 20, at most 100), each row answered by
    ``Rows.out`` once the page is cut."""

    def paginate_queryset(self, rows: Rows, pagination, request, **params):
        page = super().paginate_queryset(rows.queryset, pagination, request, **params)
        page[self.items_attribute] = [rows.out(row) for row in page[self.items_attribute]]
        return page


class TradeOrderFilters(Schema):
    status: OrderStatus | None = Field(None, description="only orders in this status")
    created_after: Day | None = Field(None, description="created on or after this day (China time)")
    created_before: Day | None = Field(None, description="created before this day (China time), not on it")

    def apply(self, orders: QuerySet[Order]) -> QuerySet[Order]:
        if self.status:
            orders = orders.filter(status=self.status)
        if self.created_after:
            orders = orders.filter(created_at__gte=day_start(self.created_after))
        if self.created_before:
            orders = orders.filter(created_at__lt=day_start(self.created_before))
        return orders


# --- what an order looks like ----------------------------------------------------------------


class TradeLevelOut(Schema):
    code: str
    name: str


class TradePartyOut(Schema):
    id: int = Field(..., description="the agent's id")
    name: str
    level: TradeLevelOut


class TradeLineOut(Schema):
    sku: str = Field(..., description="SKU code")
    name: str
    quantity: int
    unit_price: Decimal = Field(..., description="the buyer's level price when the order was submitted")
    amount: Decimal
    gift: bool = Field(False, description="a campaign's gift shipped with the order at no charge")


class TradePaymentOut(Schema):
    id: int
    method: PaymentMethod
    method_display: str
    status: PaymentStatus
    status_display: str
    amount: Decimal
    reference: str = Field(..., description="the transfer reference the payer gave")
    screenshot_url: str | None = Field(
        ...,
        description=(
            "the transfer screenshot: GET it with the same credentials (the payer, the receiver and brand "
            "finance only; anyone else gets 404)"
        ),
    )
    note: str = Field(..., description="the receiver's note when they confirmed or rejected it")
    created_at: datetime
    decided_at: datetime | None


class TradeShipToOut(Schema):
    name: str
    phone: str
    region: str | None = Field(..., description="the address's district, city or province (GB/T 2260 code)")
    region_name: str = Field(..., description="e.g. 浙江省 杭州市 西湖区")
    address: str = Field(..., description="the street, building and room within the region")


class TradeTrackingOut(Schema):
    carrier: str
    tracking_number: str
    shipped_at: datetime | None
    delivered_at: datetime | None


class TradeShortfallOut(Schema):
    sku: str
    name: str
    wanted: int
    on_hand: int


class TradeReceivingAccountOut(Schema):
    kind: Literal["wechat", "alipay", "bank"]
    kind_display: str
    holder: str = Field(..., description="the account holder's name")
    account_number: str = Field(..., description="bank account number, or WeChat / Alipay ID (may be empty)")
    bank: str = Field(..., description="bank and branch (bank accounts)")
    note: str
    qr_url: str | None = Field(
        ...,
        description=(
            "the QR code to scan: GET it with the same credentials (only while you have an order to pay its owner)"
        ),
    )


class TradeOrderOut(Schema):
    number: str = Field(..., description="the order number: the order's public id")
    kind: OrderKind
    kind_display: str
    status: OrderStatus
    status_display: str
    buyer: TradePartyOut | None = Field(..., description="null for a consumer's shop order (see ship_to)")
    seller: TradePartyOut | None = Field(..., description="who fills it; null: the company")
    upgrade_to: TradeLevelOut | None = Field(..., description="upgrade orders: the level reached on completion")
    lines: list[TradeLineOut]
    units: int
    discount: Decimal = Field(..., description="shop orders: what a coupon took off the lines (0: none)")
    total: Decimal = Field(..., description="what the buyer pays: the lines less the discount")
    payments: list[TradePaymentOut] = Field(..., description="oldest first")
    ship_to: TradeShipToOut | None = Field(..., description="shop orders and pick-ups: where the goods go")
    tracking: TradeTrackingOut | None = Field(..., description="once shipped")
    note: str
    created_at: datetime
    submitted_at: datetime | None
    paid_at: datetime | None
    completed_at: datetime | None
    next_actions: list[NextAction] = Field(
        ...,
        description=(
            "what the caller can do now. As the buyer (/orders, /pickups): cancel, pay_transfer, pay_wallet, "
            "pay_online, receive, refund. As the seller (/fills): approve, reject, payment (confirm or reject "
            "the pending transfer), fill, delivered, refund_approve, refund_decline."
        ),
    )
    pay_to: list[TradeReceivingAccountOut] | None = Field(
        None,
        description=(
            "GET /orders/{number} while it waits for my payment: where to transfer the total (the seller's "
            "receiving accounts, or the brand's when the company sells); quote the order number in the "
            "transfer note. null elsewhere"
        ),
    )
    shortfalls: list[TradeShortfallOut] | None = Field(
        None,
        description=(
            "GET /fills/{number} and the seller's actions: the lines the seller lacks stock for (empty: it can "
            "be filled); null elsewhere"
        ),
    )


def level_out(level: Level | None) -> TradeLevelOut | None:
    return TradeLevelOut(code=level.code, name=level.name) if level is not None else None


def party_out(agent: Agent | None) -> TradePartyOut | None:
    return TradePartyOut(id=agent.pk, name=agent.real_name, level=level_out(agent.level)) if agent else None


def _payment(request, payment: Payment) -> TradePaymentOut:
    return TradePaymentOut(
        id=payment.pk,
        method=payment.method,
        method_display=payment.get_method_display(),
        status=payment.status,
        status_display=payment.get_status_display(),
        amount=payment.amount,
        reference=payment.reference,
        screenshot_url=request.build_absolute_uri(reverse("api-v1:payment_screenshot", args=[payment.pk]))
        if payment.screenshot
        else None,
        note=payment.decision_note,
        created_at=payment.created_at,
        decided_at=payment.decided_at,
    )


def _receiving_out(request, account) -> TradeReceivingAccountOut:
    return TradeReceivingAccountOut(
        kind=account.kind,
        kind_display=account.get_kind_display(),
        holder=account.holder,
        account_number=account.account_number,
        bank=account.bank,
        note=account.note,
        qr_url=request.build_absolute_uri(reverse("api-v1:receiving_qr", args=[account.pk]))
        if account.qr_image
        else None,
    )


def order_out(
    request, order: Order, *, seller_side: bool = False, shortfalls: bool = False, pay_to: bool = False
) -> TradeOrderOut:
    """``order`` as its buyer (or, ``seller_side``, its seller) sees it. ``order`` comes from a
    trade selector (it carries ``has_pending_payment``)."""
    lines = list(order.lines.all())
    shipped = order.carrier or order.tracking_number or order.shipped_at or order.delivered_at
    actions = selectors.seller_actions(order) if seller_side else selectors.buyer_actions(order)
    short = None
    if shortfalls:
        short = (
            [
                TradeShortfallOut(sku=sku.code, name=sku.name, wanted=wanted, on_hand=held)
                for sku, wanted, held in selectors.fill_shortfalls(order=order)
            ]
            if order.status in FILLABLE_STATUSES
            else []
        )
    return TradeOrderOut(
        number=order.number,
        kind=order.kind,
        kind_display=order.get_kind_display(),
        status=order.status,
        status_display=order.get_status_display(),
        buyer=party_out(order.buyer),
        seller=party_out(order.seller),
        upgrade_to=level_out(order.target_level),
        lines=[
            TradeLineOut(
                sku=line.sku.code,
                name=line.sku.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.line_total,
                gift=line.gift,
            )
            for line in lines
        ],
        units=sum(line.quantity for line in lines),
        discount=order.discount,
        total=order.total,
        payments=[_payment(request, p) for p in sorted(order.payments.all(), key=lambda p: p.pk)],
        ship_to=TradeShipToOut(
            name=order.ship_name,
            phone=order.ship_phone,
            region=order.ship_region_id,
            region_name=order.ship_region.full_name if order.ship_region_id else "",
            address=order.ship_address,
        )
        if order.ship_name or order.ship_address
        else None,
        tracking=TradeTrackingOut(
            carrier=order.carrier,
            tracking_number=order.tracking_number,
            shipped_at=order.shipped_at,
            delivered_at=order.delivered_at,
        )
        if shipped
        else None,
        note=order.note,
        created_at=order.created_at,
        submitted_at=order.submitted_at,
        paid_at=order.paid_at,
        completed_at=order.completed_at,
        next_actions=sorted(actions),
        shortfalls=short,
        pay_to=[
            _receiving_out(request, account)
            for account in selectors.receiving_accounts(agent=selectors.order_payee(order))
        ]
        if pay_to and not seller_side and "pay_transfer" in actions
        else None,
    )


def with_details(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Everything ``order_out`` reads, in a fixed number of queries whatever the page size."""
    return orders.select_related("buyer__level", "seller__level", "target_level").prefetch_related(
        "lines__sku", "payments"
    )


def _buyer_order(me: Agent, number: str, *, details: bool = True) -> Order:
    """My order ``number`` (404 if it is not mine): with everything ``order_out`` shows, or
    (``details=False``) only its row, for a step whose service locks and reads it again."""
    if details:
        order = selectors.order_detail_of_buyer(agent=me, number=number)
    else:
        order = unique_row(Order.objects.filter(buyer_id=me.pk, number=number))
    if order is None:
        raise Http404
    return order


def _seller_order(me: Agent, number: str, *, details: bool = True) -> Order:
    """An order I sell (404 otherwise), as ``_buyer_order``."""
    if details:
        order = selectors.order_detail_of_seller(agent=me, number=number)
    else:
        order = unique_row(Order.objects.filter(seller_id=me.pk, number=number))
    if order is None:
        raise Http404
    return order


# --- as the buyer ----------------------------------------------------------------------------


class TradeOrderLineIn(Schema):
    sku: Text = Field(..., min_length=1, max_length=40, description="SKU code (see GET /catalog)")
    quantity: int = Field(..., ge=1, le=MAX_UNITS)


class TradeOrderIn(Schema):
    kind: Literal["restock", "entry", "upgrade"] | None = Field(
        None,
        description=(
            "default: upgrade if target_level is given, else entry for an applicant who owes an entry order, "
            "else restock"
        ),
    )
    lines: list[TradeOrderLineIn] = Field(..., min_length=1, max_length=100)
    target_level: Text | None = Field(
        None, min_length=1, max_length=32, description="upgrade orders: the code of the level to reach"
    )
    note: Text = Field("", max_length=300)
    campaign: Text | None = Field(
        None, min_length=1, max_length=40, description="the code of a running campaign to take part in (GET /campaigns)"
    )


class TradeNoteIn(Schema):
    note: Text = Field("", max_length=300, description="optional")


class TradeReasonIn(Schema):
    reason: Text = Field("", max_length=300, description="required: the other party reads it")


class TradePayIn(Schema):
    method: Literal["wallet", "online"] = Field(
        ...,
        description=(
            "wallet: from the wallet (货款) balance, paid at once; online: WeChat Pay, paid when WeChat notifies us. "
            "A bank or WeChat transfer is sent with its screenshot to POST /orders/{number}/transfer."
        ),
    )
    channel: Literal["h5", "native"] = Field(
        "h5", description=("online only: h5 (a cashier page to open in a mobile browser) or native (a QR code to scan)")
    )


class TradeOnlinePaymentOut(Schema):
    provider: str
    channel: str
    h5_url: str | None = Field(..., description="h5: open this page; it returns to the app when paid")
    code_url: str | None = Field(..., description="native: show this as a QR code")


class TradePayOut(Schema):
    order: TradeOrderOut
    online: TradeOnlinePaymentOut | None = Field(..., description="method online: what the client opens to pay")


def _order_kind(me: Agent, payload: TradeOrderIn) -> str:
    if payload.kind is None:
        if payload.target_level:
            return OrderKind.UPGRADE
        return OrderKind.ENTRY if me.status == AgentStatus.APPLICANT and me.entry_due > 0 else OrderKind.RESTOCK
    if payload.target_level and payload.kind != OrderKind.UPGRADE:
        raise BusinessError(_("Only an upgrade order has a target level."), field="target_level")
    return payload.kind


@router.post(
    "/orders",
    response={201: TradeOrderOut, **ERRORS},
    auth=AGENT,
    summary="Place a restock, entry or upgrade order at my level price",
)
def order_create(request, payload: TradeOrderIn):
    """Prices are the level's, never the client's. The seller is decided now (my supplier, or the
    company); it approves, then I pay."""
    me = require_agent(request.user)
    kind = _order_kind(me, payload)
    target = None
    if kind == OrderKind.UPGRADE and payload.target_level:
        target = Level.objects.filter(code=payload.target_level).first()
        if target is None:
            raise BusinessError(_("Unknown level %(code)s.") % {"code": payload.target_level}, field="target_level")
    submit = (
        partial(campaign_services.campaign_order_submit, campaign=payload.campaign)
        if payload.campaign
        else services.order_submit
    )
    with fields_renamed():
        order = submit(
            buyer=me,
            lines=[(line.sku, line.quantity) for line in payload.lines],
            kind=kind,
            target_level=target,
            note=payload.note,
            by=request.user,
        )
    # The order just made answers from what made it (trade.selectors.with_known_details), or is read again.
    if not selectors.has_known_details(order):
        order = _buyer_order(me, order.number)
    return Status(201, order_out(request, order))


@router.get(
    "/payments/{payment_id}/screenshot",
    auth=AGENT,
    url_name="payment_screenshot",
    response={200: None, **ERRORS},
    summary="The image of a transfer screenshot (payer and receiver only)",
)
def payment_screenshot(request, payment_id: Id):
    payment = (
        Payment.objects.select_related("receiver", "topup_for", "order__buyer", "order__seller")
        .filter(pk=payment_id)
        .first()
    )
    if payment is None or not selectors.may_see_payment_screenshot(user=request.user, payment=payment):
        raise Http404
    return image_response(payment.screenshot)


@router.get(
    "/receiving-accounts/{account_id}/qr",
    auth=AGENT,
    url_name="receiving_qr",
    response={200: None, **ERRORS},
    summary="The QR code of a receiving account (to pay an order of mine waiting for payment)",
)
def receiving_qr(request, account_id: Id):
    account = ReceivingAccount.objects.select_related("agent").filter(pk=account_id).first()
    if account is None or not selectors.may_see_receiving_account(user=request.user, account=account):
        raise Http404
    return image_response(account.qr_image)


@router.get(
    "/orders",
    response={200: list[TradeOrderOut], **ERRORS},
    auth=AGENT,
    summary="My orders (entry, upgrade, restock), newest first",
)
@paginate(Pages)
def order_list(request, filters: Query[TradeOrderFilters], kind: Literal["entry", "upgrade", "restock"] | None = None):
    me = require_agent(request.user)
    orders = filters.apply(with_details(selectors.orders_as_buyer(agent=me)))
    if kind:
        orders = orders.filter(kind=kind)
    return Rows(orders, lambda order: order_out(request, order))


@router.get(
    "/orders/{number}", response={200: TradeOrderOut, **ERRORS}, auth=AGENT, summary="One of my orders (pick-ups too)"
)
def order_detail(request, number: Number):
    me = require_agent(request.user)
    return order_out(request, _buyer_order(me, number), pay_to=True)


def _step(name: str, actor: Actor) -> Step:
    """The workflow's step ``name`` for ``actor`` (404 if the workflow has none)."""
    step = workflow.current().step(name)
    if step is None or step.run is None or actor not in step.by:
        raise Http404
    return step


def _buyer_act(request, number: str, step: str, data: dict | None = None, renames=None) -> TradeOrderOut:
    """Take the workflow's step ``step`` on my order (its service: trade.workflow)."""
    me = require_agent(request.user)
    order = _buyer_order(me, number, details=False)
    with fields_renamed(renames):
        _step(step, Actor.BUYER).run(order, request.user, data or {})
    return order_out(request, _buyer_order(me, number))


@router.post(
    "/orders/{number}/cancel",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    summary="Cancel my order before it is filled (a paid order's money goes back to my wallet)",
)
def order_cancel(request, number: Number, payload: TradeNoteIn):
    return _buyer_act(request, number, "cancel", {"note": payload.note})


@router.post(
    "/orders/{number}/pay",
    response={200: TradePayOut, **ERRORS},
    auth=AGENT,
    summary="Pay my approved order from my wallet, or open an online payment",
)
def order_pay(request, number: Number, payload: TradePayIn):
    me = require_agent(request.user)
    order = _buyer_order(me, number, details=False)
    online = None
    if payload.method == "wallet":
        services.order_pay_from_wallet(order=order, by=request.user)
    else:
        intent = services.payment_online_start(order=order, channel=payload.channel, client_ip=client_ip(request))
        online = TradeOnlinePaymentOut(
            provider=intent.provider,
            channel=payload.channel,
            h5_url=request.build_absolute_uri(intent.h5_url) if intent.h5_url else None,
            code_url=intent.code_url,
        )
    return TradePayOut(order=order_out(request, _buyer_order(me, number)), online=online)


@router.post(
    "/orders/{number}/transfer",
    response={201: TradeOrderOut, **ERRORS},
    auth=AGENT,
    summary="Send the screenshot of my bank or WeChat transfer (multipart/form-data)",
)
def order_transfer(
    request,
    number: Number,
    screenshot: File[UploadedFile],
    reference: str = Form("", max_length=64, pattern=TEXT_PATTERN, description="the transfer's reference, if any"),
):
    """The order is paid once its seller confirms the transfer. JPEG, PNG, WebP or GIF, at most 5 MB."""
    me = require_agent(request.user)
    order = _buyer_order(me, number, details=False)
    services.payment_submit_transfer(order=order, by=request.user, screenshot=screenshot, reference=reference)
    return Status(201, order_out(request, _buyer_order(me, number)))


@router.post(
    "/orders/{number}/receive",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    summary="Confirm I received the goods (a shipped order or pick-up): it completes",
)
def order_receive(request, number: Number):
    return _buyer_act(request, number, "receive")


@router.post(
    "/orders/{number}/refund",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    summary="Ask to return a filled or completed order (the seller decides)",
)
def order_refund(request, number: Number, payload: TradeReasonIn):
    return _buyer_act(request, number, "refund", {"note": payload.reason}, {"note": "reason"})


# Any other step of the order workflow that asks for no more than a note (a step a brand adds to
# trade/workflow.py) is taken here, by its name: the same service the phone page's plain form calls.
PLAIN_INPUTS = ("confirm", "note", "reason")
StepName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_]{1,40}$", description="the step's name, as in next_actions")]


class TradeStepIn(Schema):
    note: Text = Field("", max_length=300, description="a note or, for a refusal, the reason")


def _plain_step(name: str, actor: Actor) -> str:
    step = _step(name, actor)
    if step.input not in PLAIN_INPUTS:
        raise Http404  # it has a route of its own, with the fields it needs
    return step.name


@router.post(
    "/orders/{number}/steps/{step}",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    summary="Take another step of the order workflow on my order, by its name (one listed in next_actions)",
)
def order_step(request, number: Number, step: StepName, payload: TradeStepIn):
    return _buyer_act(request, number, _plain_step(step, Actor.BUYER), {"note": payload.note})


# --- as the seller ---------------------------------------------------------------------------


class TradeFillIn(Schema):
    carrier: Text = Field("", max_length=40, description="when the goods travel: the carrier")
    tracking_number: Text = Field("", max_length=60)


@router.get(
    "/fills",
    response={200: list[TradeOrderOut], **ERRORS},
    auth=AGENT,
    tags=["fills"],
    summary="Orders I sell (my downline's and my shop's) that wait for me; all=true for every one",
)
@paginate(Pages)
def fill_list(request, filters: Query[TradeOrderFilters], all: bool = False):  # noqa: A002 - the query's name
    me = require_agent(request.user)
    orders = selectors.orders_to_fill(agent=me, todo_only=not all)
    return Rows(filters.apply(with_details(orders)), lambda order: order_out(request, order, seller_side=True))


def _fill_out(request, me: Agent, number: str) -> TradeOrderOut:
    return order_out(request, _seller_order(me, number), seller_side=True, shortfalls=True)


@router.get(
    "/fills/{number}",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    tags=["fills"],
    summary="One order I sell, with what I lack to fill it",
)
def fill_detail(request, number: Number):
    return _fill_out(request, require_agent(request.user), number)


def _seller_act(request, number: str, step: str, data: dict | None = None, renames=None) -> TradeOrderOut:
    """Take the workflow's step ``step`` on an order I sell (its service: trade.workflow)."""
    me = require_agent(request.user)
    order = _seller_order(me, number, details=False)
    with fields_renamed(renames):
        _step(step, Actor.SELLER).run(order, request.user, data or {})
    return _fill_out(request, me, number)


@router.post(
    "/fills/{number}/approve",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    tags=["fills"],
    summary="Approve an order: the buyer can pay",
)
def fill_approve(request, number: Number):
    return _seller_act(request, number, "approve")


@router.post(
    "/fills/{number}/reject",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    tags=["fills"],
    summary="Reject an order, saying why",
)
def fill_reject(request, number: Number, payload: TradeReasonIn):
    return _seller_act(request, number, "reject", {"note": payload.reason}, {"note": "reason"})


@router.post(
    "/fills/{number}/fill",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    tags=["fills"],
    summary="Fill a paid order from my stock (cloud stock: it completes at once)",
)
def fill_fill(request, number: Number, payload: TradeFillIn):
    return _seller_act(
        request, number, "fill", {"carrier": payload.carrier, "tracking_number": payload.tracking_number}
    )


@router.post(
    "/fills/{number}/delivered",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    tags=["fills"],
    summary="Record that a shop order reached the consumer: it completes",
)
def fill_delivered(request, number: Number):
    return _seller_act(request, number, "delivered")


@router.post(
    "/fills/{number}/refund-approve",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    tags=["fills"],
    summary="Accept a return: the units come back, the money goes to the buyer's wallet",
)
def fill_refund_approve(request, number: Number, payload: TradeNoteIn):
    return _seller_act(request, number, "refund_approve", {"note": payload.note})


@router.post(
    "/fills/{number}/refund-decline",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    tags=["fills"],
    summary="Decline a return, saying why",
)
def fill_refund_decline(request, number: Number, payload: TradeReasonIn):
    return _seller_act(request, number, "refund_decline", {"note": payload.reason}, {"note": "reason"})


@router.post(
    "/fills/{number}/steps/{step}",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    tags=["fills"],
    summary="Take another step of the order workflow on an order I sell, by its name (one listed in next_actions)",
)
def fill_step(request, number: Number, step: StepName, payload: TradeStepIn):
    return _seller_act(request, number, _plain_step(step, Actor.SELLER), {"note": payload.note})


class TradeCodesIn(Schema):
    codes: list[Annotated[Text, Field(min_length=1, max_length=200)]] = Field(
        ...,
        min_length=1,
        max_length=2000,
        description="box or item codes as scanned or typed (a lookup link from a QR code is read too)",
    )


@router.post(
    "/fills/{number}/codes",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    tags=["fills"],
    summary="Scan the security codes of what I send out with an order I sell (before I fill it)",
)
def fill_codes(request, number: Number, payload: TradeCodesIn):
    """The codes go with the goods to the buyer (a shop sale: to the consumer's address). A code
    that is not the brand's stops the scan and is named (400); more codes than the order holds
    is 400; a code scanned before is harmless. Only while the order waits to be filled with goods
    that travel (``scan_codes`` in ``next_actions``)."""
    return _seller_act(request, number, "scan_codes", {"codes": "\n".join(payload.codes)})


def _payment_act(request, number: str, payment_id: Id, act, renames=None) -> TradeOrderOut:
    me = require_agent(request.user)
    order = _seller_order(me, number, details=False)
    payment = order.payments.filter(pk=payment_id).first()
    if payment is None:
        raise Http404
    with fields_renamed(renames):
        act(payment)
    return _fill_out(request, me, number)


@router.post(
    "/fills/{number}/payments/{payment_id}/confirm",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    tags=["fills"],
    summary="Confirm the buyer's transfer arrived: the order is paid",
)
def fill_payment_confirm(request, number: Number, payment_id: Id, payload: TradeNoteIn):
    return _payment_act(
        request,
        number,
        payment_id,
        lambda payment: services.payment_confirm(payment=payment, by=request.user, note=payload.note),
    )


@router.post(
    "/fills/{number}/payments/{payment_id}/reject",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    tags=["fills"],
    summary="Reject the buyer's transfer, saying why (they can send another)",
)
def fill_payment_reject(request, number: Number, payment_id: Id, payload: TradeReasonIn):
    return _payment_act(
        request,
        number,
        payment_id,
        lambda payment: services.payment_reject(payment=payment, by=request.user, note=payload.reason),
        {"note": "reason"},
    )
