"""Order and payment services: one transaction each; check, change, record who and when.

The life of a restock order (进货单), all in this module:

1. ``order_submit`` — the buyer's level price is snapshotted per line, purchase rules are
   enforced, the order is routed to its seller by the brand's supply mode;
2. ``order_approve`` / ``order_reject`` — by the seller (or brand staff when the company sells);
3. ``payment_submit_transfer`` + ``payment_confirm`` (offline transfer with a screenshot),
   ``order_pay_from_wallet``, or ``payment_credit_from_provider`` (WeChat Pay notify) — paid once;
4. ``order_fill`` — stock moves from the seller to the buyer (cloud stock: completed at once);
5. ``order_confirm_receipt`` — physical deliveries complete when the buyer has the goods;
6. ``order_cancel`` before fulfilment (the other side gets an ``OrderNotice``), ``refund_request`` /
   ``refund_approve`` after;
7. a paid order not filled within the brand's ``stuck_after_hours`` is stuck: brand staff take a
   way out (``order_company_fill``, ``order_reassign_to_company``, ``order_stuck_refund``).

Every status change goes through ``_transition`` (the model's django-fsm transition plus an
OrderTransition row); paid, completed and refunded are written to the outbox in the same
transaction.
"""

from __future__ import annotations

import logging
import secrets
import warnings
from collections import OrderedDict
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from weishang.catalog.models import SKU
from weishang.catalog.selectors import level_price
from weishang.channel import selectors as channel_selectors
from weishang.channel import services as channel_services
from weishang.channel.models import Agent, AgentStatus, AgentTrail, Level, TrailKind
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict, Forbidden, NotFound
from weishang.core.models import CustomerBinding, SupplyMode
from weishang.core.money import to_money
from weishang.core.outbox import outbox_emit
from weishang.core.selectors import brand_get
from weishang.core.text import record_text
from weishang.core.validators import normalize_phone, validate_phone
from weishang.ledger import services as ledger
from weishang.ledger.models import Purpose
from weishang.ledger.services import InsufficientBalance
from weishang.trade import selectors, stock, workflow
from weishang.trade.models import (
    Customer,
    LocationKind,
    NoticeKind,
    Order,
    OrderKind,
    OrderLine,
    OrderNotice,
    OrderStatus,
    OrderTransition,
    Payment,
    PaymentMethod,
    PaymentStatus,
    StockMove,
    StockReason,
)
from weishang.trade.models.orders import LIVE_STATUSES, OPEN_STATUSES, VOLUME_KINDS
from weishang.trade.providers.base import (
    PaymentIntent,
    PaymentRequest,
    ProviderError,
    get_provider,
    online_provider_name,
)

log = logging.getLogger(__name__)

SCREENSHOT_MAX_BYTES = 5 * 1024 * 1024
# Pixels, read from the file's header before anything is decoded: a 100-byte PNG can declare
# 100,000 × 100,000 pixels (a decompression bomb). 40 million is a 48-megapixel phone photo's
# neighbourhood and far above any screenshot, logo or QR code.
SCREENSHOT_MAX_PIXELS = 40_000_000
SCREENSHOT_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
SCREENSHOT_FORMATS = set(SCREENSHOT_EXTENSIONS)


class SupplierShort(Conflict):
    """The seller cannot fill the order from stock now; ``availability`` says what is short and who
    along the route has it (``selectors.route_availability``)."""

    def __init__(self, availability: list[dict]):
        super().__init__(_("Your supplier cannot fill all of this now."), field="lines", code="supplier_short")
        self.availability = availability


# --- helpers --------------------------------------------------------------------------------


def _new_number(kind: str) -> str:
    prefix = {"entry": "E", "upgrade": "U", "restock": "R", "retail": "S", "pickup": "P"}[kind]
    return f"{prefix}{clock.localtime():%Y%m%d}{secrets.token_hex(5).upper()}"


# What a step of an order's life may change (the transition's timestamp and shipping details):
# saving only these keeps each step's UPDATE short.
_MUTABLE_FIELDS = (
    "status",
    "submitted_at",
    "paid_at",
    "completed_at",
    "shipped_at",
    "delivered_at",
    "carrier",
    "tracking_number",
)


def _transition(order: Order, name: str, *, by=None, note: str = "") -> None:
    """Move ``order`` by the workflow's move ``name`` (trade.workflow), save it and record who."""
    old = workflow.current().move(order, name)
    order.save(update_fields=_MUTABLE_FIELDS)
    OrderTransition.objects.create(order=order, from_status=old, to_status=order.status, by=by, note=note[:300])


def _locked_order(order: Order | int) -> Order:
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("buyer__level", "seller__level", "buyer__user")
        .get(pk=getattr(order, "pk", order))
    )


def _is_staff_with(user, perm: str) -> bool:
    return bool(getattr(user, "is_staff", False) and user.has_perm(perm))


def _require_seller_side(order: Order, user, *, staff_perm: str = "trade.change_order") -> None:
    """The seller agent acts on their own orders; brand staff act on the company's (and may step in)."""
    if _is_staff_with(user, staff_perm):
        return
    if order.seller is not None and order.seller.user_id == getattr(user, "pk", None):
        return
    raise Forbidden(_("This order is not yours to handle."))


def _require_buyer(order: Order, user) -> None:
    if order.buyer is None or order.buyer.user_id != getattr(user, "pk", None):
        raise Forbidden(_("This is not your order."))


def _require_note(note: str, message: str) -> None:
    """Rejections and returns must say why: the other party reads it."""
    if not (note or "").strip():
        raise BusinessError(message, field="note")


def _emit(order: Order, topic: str, *, again: bool = False, **extra) -> None:
    """An order event (webhooks list them in webhooks/events.py). ``again``: a step that can
    happen more than once for an order (a return asked for twice) gets a key of its own each time."""
    key = (
        f"{order.number}:{order.transitions.order_by('-pk').values_list('pk', flat=True)[0]}" if again else order.number
    )
    outbox_emit(
        topic=topic,
        key=key,
        payload={
            "order": order.number,
            "kind": order.kind,
            "buyer": order.buyer_id,
            "seller": order.seller_id,
            "customer": order.customer_id,
            "bound_agent": order.bound_agent_id,
            "total": str(order.total),
            "status": order.status,
            "at": clock.now().isoformat(),
            **extra,
        },
    )


def _emit_payment(payment: Payment, topic: str) -> None:
    outbox_emit(
        topic=topic,
        key=str(payment.pk),
        payload={
            "payment": payment.pk,
            "order": payment.order.number if payment.order is not None else None,
            "topup_for": payment.topup_for_id,
            "method": payment.method,
            "amount": str(payment.amount),
            "status": payment.status,
            "receiver": payment.receiver_id,
            "at": clock.now().isoformat(),
        },
    )


def _emit_tracking(order: Order) -> None:
    outbox_emit(
        topic="shipment.tracking_updated",
        key=f"{order.number}:{order.carrier}:{order.tracking_number}",
        payload={
            "order": order.number,
            "kind": order.kind,
            "buyer": order.buyer_id,
            "seller": order.seller_id,
            "carrier": order.carrier,
            "tracking_number": order.tracking_number,
            "status": order.status,
            "shipped_at": order.shipped_at.isoformat() if order.shipped_at else None,
            "at": clock.now().isoformat(),
        },
    )


# --- submitting -----------------------------------------------------------------------------


def _clean_lines(lines) -> OrderedDict[int, tuple[SKU, int]]:
    if not lines:
        raise BusinessError(_("Add at least one product."), field="lines")
    merged: OrderedDict[int, tuple[SKU, int]] = OrderedDict()
    for i, (sku_ref, quantity) in enumerate(lines):
        try:
            quantity = int(quantity)
        except (TypeError, ValueError):
            raise BusinessError(_("Enter a whole number of units."), field=f"lines[{i}].quantity") from None
        if quantity <= 0:
            raise BusinessError(_("The quantity must be at least 1."), field=f"lines[{i}].quantity")
        sku = sku_ref if isinstance(sku_ref, SKU) else SKU.objects.filter(code=str(sku_ref)).first()
        if sku is None:
            raise BusinessError(_("Unknown product %(code)s.") % {"code": sku_ref}, field=f"lines[{i}].sku")
        if not sku.active:
            raise BusinessError(_("%(name)s is not on sale.") % {"name": sku.name}, field=f"lines[{i}].sku")
        previous = merged.get(sku.pk, (sku, 0))[1]
        merged[sku.pk] = (sku, previous + quantity)
    return merged


def _check_limits(buyer: Agent, kind: str, merged: OrderedDict[int, tuple[SKU, int]]) -> None:
    units = sum(q for _sku, q in merged.values())
    if kind == OrderKind.RESTOCK and units < buyer.level.min_restock_qty:
        raise BusinessError(
            _("A %(level)s restock order needs at least %(n)d units; this one has %(units)d.")
            % {"level": buyer.level.name, "n": buyer.level.min_restock_qty, "units": units},
            field="lines",
        )
    now = clock.localtime()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    windows = (
        ("max_per_day", day, _("today")),
        ("max_per_week", day - timedelta(days=day.weekday()), _("this week")),
        ("max_per_month", day.replace(day=1), _("this month")),
    )
    for sku, quantity in merged.values():
        if quantity < sku.min_order_qty:
            raise BusinessError(
                _("%(name)s: at least %(n)d units per order.") % {"name": sku.name, "n": sku.min_order_qty},
                field="lines",
            )
        if sku.max_per_order is not None and quantity > sku.max_per_order:
            raise BusinessError(
                _("%(name)s: at most %(n)d units per order.") % {"name": sku.name, "n": sku.max_per_order},
                field="lines",
            )
        for field, since, label in windows:
            limit = getattr(sku, field)
            if limit is None:
                continue
            bought = (
                OrderLine.objects.filter(
                    order__buyer=buyer,
                    order__kind__in=VOLUME_KINDS,
                    order__status__in=LIVE_STATUSES,
                    order__submitted_at__gte=since,
                    sku=sku,
                ).aggregate(n=Sum("quantity"))["n"]
                or 0
            )
            if bought + quantity > limit:
                raise BusinessError(
                    _("%(name)s: at most %(n)d units %(period)s; you have ordered %(bought)d.")
                    % {"name": sku.name, "n": limit, "period": label, "bought": bought},
                    field="lines",
                )


def order_route(*, buyer: Agent, level: Level | None = None) -> tuple[Agent | None, str]:
    """Who fills ``buyer``'s order, and how, under the brand's supply mode.

    ``level`` is the level the order is priced at when it is not the buyer's own (an upgrade
    order is filled by an upline of a higher level than the target level)."""
    mode = brand_get().supply_mode
    if mode == SupplyMode.COMPANY:
        return None, mode
    if level is not None and level.pk != buyer.level_id:
        return channel_selectors.resolve_supplier(referrer=buyer.supplier, level=level), mode
    return buyer.supplier if buyer.supplier is not None and buyer.supplier.status == AgentStatus.ACTIVE else None, mode


def upgrade_top_up(*, agent: Agent, level: Level) -> Decimal:
    """What an upgrade order to ``level`` must at least come to: the difference between the two
    levels' entry amounts (补差价), never below zero."""
    return max(level.entry_amount - agent.level.entry_amount, Decimal("0"))


def _check_upgrade(buyer: Agent, level: Level | None) -> None:
    if level is None:
        raise BusinessError(_("Choose the level to upgrade to."), field="target_level")
    if buyer.status != AgentStatus.ACTIVE:
        raise Forbidden(_("Only active agents can upgrade."))
    if not level.is_higher_than(buyer.level):
        raise BusinessError(
            _("%(level)s is not above your level %(mine)s.") % {"level": level.name, "mine": buyer.level.name},
            field="target_level",
        )
    if level.pk not in {allowed.pk for allowed in selectors.upgrade_levels(agent=buyer)}:
        raise BusinessError(
            _("You do not qualify for %(level)s yet; see your upgrade progress.") % {"level": level.name},
            field="target_level",
        )
    if Order.objects.filter(buyer=buyer, kind=OrderKind.UPGRADE, status__in=OPEN_STATUSES).exists():
        raise Conflict(_("You already have an upgrade order in progress."), field="target_level")


@transaction.atomic
def order_submit(
    *,
    buyer: Agent,
    lines,
    kind: str = OrderKind.RESTOCK,
    by=None,
    idempotency_key: str | None = None,
    note: str = "",
    target_level: Level | None = None,
    accept_shortfall: bool = True,
) -> Order:
    """Submit an agent's entry, upgrade or restock order. Prices come from the level, never the client.

    With ``accept_shortfall=False`` an order its seller cannot fill from stock now is refused with
    ``SupplierShort`` (carrying the availability along the route) once every other check passed:
    the phone page shows it and lets the buyer submit anyway.

    An upgrade order (升级单) is priced at ``target_level``'s prices, must come to at least the
    top-up (``upgrade_top_up``) and moves the buyer to that level when it completes."""
    if kind not in (OrderKind.RESTOCK, OrderKind.ENTRY, OrderKind.UPGRADE):
        raise BusinessError(_("This kind of order is placed elsewhere."), field="kind")
    # Lock only the agent row (PostgreSQL refuses FOR UPDATE across the nullable supplier join):
    # one buyer's submissions are serialised, so purchase limits hold under concurrent taps.
    buyer = Agent.objects.select_for_update(of=("self",)).select_related("level", "supplier").get(pk=buyer.pk)
    if idempotency_key:
        first = Order.objects.filter(buyer=buyer, idempotency_key=idempotency_key).first()
        if first is not None:
            return first  # a retry of the same submission gets the first order back
    if kind == OrderKind.RESTOCK and buyer.status != AgentStatus.ACTIVE:
        raise Forbidden(
            _("Only active agents can restock; pay your entry order first.")
            if buyer.status == AgentStatus.APPLICANT
            else _("Your account is not active.")
        )
    if kind == OrderKind.ENTRY and (buyer.status != AgentStatus.APPLICANT or buyer.entry_due <= 0):
        raise Conflict(_("You owe no entry order."), field="kind")
    if kind == OrderKind.UPGRADE:
        _check_upgrade(buyer, target_level)
    else:
        target_level = None
    price_level = target_level or buyer.level
    merged = _clean_lines(lines)
    _check_limits(buyer, kind, merged)
    seller, mode = order_route(buyer=buyer, level=price_level)
    priced = [(sku, qty, level_price(sku=sku, level=price_level)) for sku, qty in merged.values()]
    total = sum((price * qty for _sku, qty, price in priced), Decimal("0"))
    if total <= 0:
        raise BusinessError(_("An order must come to more than ¥0."), field="lines")
    if kind == OrderKind.ENTRY and total < buyer.entry_due:
        raise BusinessError(
            _("The entry order must come to at least ¥%(amount)s; this one is ¥%(total)s.")
            % {"amount": buyer.entry_due, "total": total},
            field="lines",
        )
    if kind == OrderKind.UPGRADE and total < (top_up := upgrade_top_up(agent=buyer, level=price_level)):
        raise BusinessError(
            _("An upgrade to %(level)s must come to at least ¥%(amount)s; this one is ¥%(total)s.")
            % {"level": price_level.name, "amount": top_up, "total": total},
            field="lines",
        )
    if not accept_shortfall:
        availability = selectors.route_availability(
            seller=seller, mode=mode, lines=[(sku, qty) for sku, qty, _price in priced]
        )
        if not all(row["seller_ok"] for row in availability):
            raise SupplierShort(availability)
    order = Order.objects.create(
        number=_new_number(kind),
        kind=kind,
        buyer=buyer,
        seller=seller,
        supply_mode=mode,
        total=total,
        idempotency_key=idempotency_key or None,
        note=note[:300],
        target_level=target_level,
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(order=order, sku=sku, quantity=qty, unit_price=price, line_total=price * qty)
            for sku, qty, price in priced
        ]
    )
    _transition(order, "submit", by=by)
    _emit(order, "order.submitted")
    return order


# --- deciding -------------------------------------------------------------------------------


@transaction.atomic
def order_step(*, order: Order, step: str, by, note: str = "") -> Order:
    """Take a plain step of trade.workflow: one that only moves the status (no money or stock
    moves with it), such as a step a brand adds to its workflow. ``by`` must be one the step is
    for: the order's buyer (``buyer``), its seller or brand staff (``seller``), brand staff
    (``brand``); the step must apply to the order now. Writes the move and who made it."""
    the_step = workflow.current().step(step)
    if the_step is None or not the_step.move:
        raise NotFound(_("There is no such step."), field="step")
    order = _locked_order(order)
    user_id = getattr(by, "pk", None)
    actors = set(the_step.by)
    is_buyer = order.buyer is not None and order.buyer.user_id == user_id
    is_seller = order.seller is not None and order.seller.user_id == user_id
    is_staff = _is_staff_with(by, "trade.change_order")
    if not (
        (workflow.Actor.BUYER in actors and is_buyer)
        or (workflow.Actor.SELLER in actors and (is_seller or is_staff))
        or (workflow.Actor.BRAND in actors and is_staff)
    ):
        raise Forbidden(_("This order is not yours to handle."))
    if not the_step.applies(order):
        raise Conflict(
            _("Order %(number)s is %(status)s; that cannot be done now.")
            % {"number": order.number, "status": order.get_status_display()},
            field="status",
            code="wrong_status",
        )
    _transition(order, the_step.move, by=by, note=note)
    return order


@transaction.atomic
def order_approve(*, order: Order, by) -> Order:
    order = _locked_order(order)
    _require_seller_side(order, by)
    _transition(order, "approve", by=by)
    _transition(order, "request_payment", by=by)
    _emit(order, "order.approved")
    return order


@transaction.atomic
def order_reject(*, order: Order, by, note: str) -> Order:
    order = _locked_order(order)
    _require_seller_side(order, by)
    _require_note(note, _("Say why the order is rejected."))
    _transition(order, "reject", by=by, note=note)
    _emit(order, "order.rejected")
    return order


@transaction.atomic
def order_cancel(*, order: Order, by, note: str = "") -> Order:
    """Before fulfilment. A paid order's money goes back to the buyer's wallet."""
    order = _locked_order(order)
    if order.buyer is None or order.buyer.user_id != getattr(by, "pk", None):
        _require_seller_side(order, by)
    _cancel(order, by=by, note=note)
    return order


def _cancel(order: Order, *, by, note: str) -> None:
    """Cancel a locked order whose canceller has been checked (``by`` None: the system)."""
    was_paid = order.status == OrderStatus.PAID
    refund = cancel_refund(order) if was_paid else None
    shop_refund = shop_order_refund(order) if was_paid else None
    _transition(order, "cancel", by=by, note=note)
    if order.kind == OrderKind.PICKUP:  # the units left cloud stock at the request: put them back
        taken = StockMove.objects.filter(order_line__order=order, reason=StockReason.PICKUP).select_related(
            "from_location", "to_location", "sku"
        )
        stock.stock_move(
            moves=[stock.Move(m.to_location, m.from_location, m.sku, m.quantity, m.order_line_id) for m in taken],
            reason=StockReason.CANCEL,
            by=by,
            note=order.number,
        )
    # A transfer still waiting for confirmation is for an order that no longer exists.
    waiting = list(order.payments.filter(status=PaymentStatus.PENDING))
    order.payments.filter(status=PaymentStatus.PENDING).update(
        status=PaymentStatus.REJECTED,
        decided_by=by,
        decided_at=clock.now(),
        decision_note=record_text(gettext_noop("order cancelled")),
    )
    for payment in waiting:
        payment.status = PaymentStatus.REJECTED
        _emit_payment(payment, "payment.rejected")
    if was_paid:
        _refund_money(order)
        _unbind_undone(order)
    _notify_cancel(order, by=by, refund=refund, note=note, shop_refund=shop_refund)
    _emit(order, "order.cancelled")


def _party_name(agent: Agent | None) -> str:
    return agent.real_name if agent is not None else record_text(gettext_noop("the company"))


def cancel_refund(order: Order) -> dict | None:
    """What cancelling ``order`` now pays back, for the confirmation page and the notices:
    ``{"amount", "payer", "payee"}`` (the payer is the seller agent whose wallet is debited, or
    None for the company), or None when nothing has been paid."""
    if order.status != OrderStatus.PAID or order.buyer_id is None:
        return None
    paid = order.payments.filter(status=PaymentStatus.CONFIRMED).first()
    if paid is None:
        return None
    return {"amount": paid.amount, "payer": order.seller, "payee": order.buyer, "method": paid.method}


def shop_order_refund(order: Order) -> dict | None:
    """What cancelling a paid shop order now does with the consumer's money (a consumer has no
    wallet): ``{"amount", "seller", "method"}``, or None when it is not a paid shop order."""
    if order.kind != OrderKind.RETAIL or order.status != OrderStatus.PAID:
        return None
    paid = order.payments.filter(status=PaymentStatus.CONFIRMED).first()
    if paid is None:
        return None
    return {"amount": paid.amount, "seller": order.seller, "method": paid.method}


def shop_refund_text(refund: dict) -> str:
    """``shop_order_refund`` in words, in the active language."""
    values = {"amount": refund["amount"], "seller": _party_name(refund["seller"])}
    if refund["method"] == PaymentMethod.WECHATPAY:
        return (
            gettext(
                "The ¥%(amount)s the consumer paid through WeChat Pay goes back to them there, from "
                "the brand, taken from %(seller)s's wallet."
            )
            % values
        )
    return (
        gettext("The ¥%(amount)s the consumer transferred to %(seller)s is for %(seller)s to pay back to them.")
        % values
    )


def _notice(order: Order, agent: Agent | None, kind: str, text: str, *, by=None) -> None:
    if agent is not None:
        OrderNotice.objects.create(order=order, agent=agent, kind=kind, text=text[:300], created_by=by)


def _notify_cancel(order: Order, *, by, refund: dict | None, note: str, shop_refund: dict | None = None) -> None:
    """The party who did not cancel finds it in their 待我处理: who cancelled, and who paid back what."""
    with translation.override(settings.LANGUAGE_CODE):
        by_buyer = order.buyer is not None and order.buyer.user_id == getattr(by, "pk", None)
        if by_buyer:
            text = gettext("%(buyer)s cancelled order %(number)s.")
        elif by is None:  # the periodic job (an unpaid shop order that expired)
            text = gettext("Order %(number)s was cancelled by the system.")
        else:
            text = gettext("Order %(number)s was cancelled by the seller or the brand.")
        text %= {"buyer": _party_name(order.buyer), "number": order.number}
        if refund is not None:
            text += " " + gettext("¥%(amount)s went back from %(payer)s's wallet to %(payee)s's wallet.") % {
                "amount": refund["amount"],
                "payer": _party_name(refund["payer"]),
                "payee": _party_name(refund["payee"]),
            }
        if shop_refund is not None:
            text += " " + shop_refund_text(shop_refund)
        if note.strip():
            text += " " + gettext("Why: %(note)s") % {"note": note.strip()}
    if by_buyer:
        _notice(order, order.seller, NoticeKind.CANCELLED, text, by=by)
    else:
        _notice(order, order.buyer, NoticeKind.CANCELLED, text, by=by)
        if order.seller is not None and order.seller.user_id != getattr(by, "pk", None):
            _notice(order, order.seller, NoticeKind.CANCELLED, text, by=by)


@transaction.atomic
def order_notices_seen(*, agent: Agent, order: Order) -> int:
    """The agent opened the order: its notices leave their 待我处理."""
    return OrderNotice.objects.filter(agent=agent, order=order, seen_at__isnull=True).update(seen_at=clock.now())


# --- paying ---------------------------------------------------------------------------------


def _check_screenshot(screenshot: UploadedFile) -> None:
    if screenshot is None:
        raise BusinessError(_("Attach the transfer screenshot."), field="screenshot")
    if (screenshot.size or 0) > SCREENSHOT_MAX_BYTES:
        raise BusinessError(_("The screenshot is larger than 5 MB."), field="screenshot")
    too_big = BusinessError(
        _("The picture is too large: at most %(megapixels)d million pixels.")
        % {"megapixels": SCREENSHOT_MAX_PIXELS // 1_000_000},
        field="screenshot",
    )
    try:
        screenshot.seek(0)
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it; here that is an error too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(screenshot) as image:  # reads the header only
                if image.width * image.height > SCREENSHOT_MAX_PIXELS:
                    raise too_big
                image.verify()
                fmt = image.format
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise BusinessError(
            _("The screenshot must be an image (JPEG, PNG, WebP or GIF)."), field="screenshot"
        ) from None
    if fmt not in SCREENSHOT_FORMATS:
        raise BusinessError(_("The screenshot must be an image (JPEG, PNG, WebP or GIF)."), field="screenshot")
    screenshot.seek(0)
    # Stored under a name of our making with the type the file really is, never the sender's name.
    screenshot.name = f"{secrets.token_hex(16)}.{SCREENSHOT_EXTENSIONS[fmt]}"


@transaction.atomic
def payment_submit_transfer(*, order: Order, by, screenshot: UploadedFile, reference: str = "") -> Payment:
    """The buyer says they transferred the order's total, with a screenshot as proof."""
    order = _locked_order(order)
    _require_buyer(order, by)
    return _transfer_create(order, screenshot=screenshot, reference=reference, by=by)


def _transfer_create(order: Order, *, screenshot: UploadedFile, reference: str, by=None) -> Payment:
    """A pending transfer of the order's total to its seller (brand finance if the company sells)."""
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise Conflict(_("Order %(number)s is not waiting for payment.") % {"number": order.number}, field="order")
    if order.payments.filter(status=PaymentStatus.PENDING).exists():
        raise Conflict(_("A payment for this order is already waiting for confirmation."), field="order")
    _check_screenshot(screenshot)
    payment = Payment.objects.create(
        order=order,
        method=PaymentMethod.TRANSFER,
        amount=order.total,
        receiver=order.seller,
        screenshot=screenshot,
        reference=(reference or "")[:64],
        created_by=by,
    )
    _emit_payment(payment, "payment.submitted")
    return payment


def _require_receiver(payment: Payment, user) -> None:
    if payment.receiver is None:
        if not _is_staff_with(user, "trade.change_payment"):
            raise Forbidden(_("Only brand finance confirms this payment."))
    elif payment.receiver.user_id != getattr(user, "pk", None) and not _is_staff_with(user, "trade.change_payment"):
        raise Forbidden(_("This payment is not yours to confirm."))


def _locked_pending_payment(payment: Payment | int, user) -> Payment:
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("receiver", "order", "topup_for")
        .get(pk=getattr(payment, "pk", payment))
    )
    _require_receiver(payment, user)
    if payment.status != PaymentStatus.PENDING:
        raise Conflict(
            _("This payment has already been %(status)s.") % {"status": payment.get_status_display()},
            field="payment",
            code="already_decided",
        )
    return payment


# --- money in the ledger ---------------------------------------------------------------------
# An agent's wallet (货款) is their ledger account; money the brand receives is brand cash, and
# an order the company sells is brand sales. A transfer to an upline agent never reaches the
# brand, so it is not posted; a refund is always owed by whoever received the money.


def _agent_buyer(order: Order) -> Agent:
    """The agent who bought ``order``, for the orders that have one (all but a consumer's)."""
    if order.buyer is None:
        raise ValueError(f"order {order.number} has no agent buyer")
    return order.buyer


def _agent_seller(order: Order) -> Agent:
    """The agent who sells ``order``, where the company does not (a shop order, a reassignment)."""
    if order.seller is None:
        raise ValueError(f"order {order.number} has no agent seller")
    return order.seller


def _target_level(order: Order) -> Level:
    """The level an upgrade order buys."""
    if order.target_level is None:
        raise ValueError(f"upgrade order {order.number} has no target level")
    return order.target_level


def _wallet(agent: Agent):
    return ledger.account_for(owner=agent, purpose=Purpose.AGENT_WALLET)


def _brand(purpose: str):
    return ledger.account_for(owner=None, purpose=purpose)


def _receiver(order: Order):
    """The account the order's money belongs to: the seller agent's wallet, or brand sales."""
    return _wallet(order.seller) if order.seller is not None else _brand(Purpose.BRAND_SALES)


_MEMOS = {
    "order_payment": gettext_noop("Order payment"),
    "wallet_topup": gettext_noop("Wallet top-up"),
    "order_refund": gettext_noop("Order refund"),
    "order_reassign": gettext_noop("Order taken over by the company"),
}


def _post(lines, *, kind: str, key: str, reference: str, by=None, allow_negative=None):
    return ledger.journal_post(
        lines=lines,
        kind=kind,
        idempotency_key=key,
        reference=reference,
        by=by,
        memo=record_text(_MEMOS[kind]),
        allow_negative=allow_negative,
    )


def _post_payment(order: Order, payment: Payment, *, by=None) -> None:
    """Record where a confirmed order payment went."""
    amount, ref = payment.amount, f"order:{order.number}"
    if payment.method == PaymentMethod.WALLET:
        try:
            _post(
                [ledger.debit(_wallet(_agent_buyer(order)), amount), ledger.credit(_receiver(order), amount)],
                kind="order_payment",
                key=f"payment:{payment.pk}",
                reference=ref,
                by=by,
            )
        except InsufficientBalance as exc:
            raise Conflict(
                _("Your wallet has ¥%(balance)s; ¥%(amount)s is needed.") % {"balance": exc.balance, "amount": amount},
                field="wallet",
                code="insufficient_funds",
            ) from None
    elif payment.method == PaymentMethod.WECHATPAY or order.seller_id is None:
        # Online payments land in the brand's merchant account; a transfer to the company is brand cash.
        _post(
            [ledger.debit(_brand(Purpose.BRAND_CASH), amount), ledger.credit(_receiver(order), amount)],
            kind="order_payment",
            key=f"payment:{payment.pk}",
            reference=ref,
            by=by,
        )


def _mark_paid(order: Order, *, by) -> None:
    """Every way an order becomes paid ends here, under the order's lock: a shop order binds its
    customer now (never when it is placed), in the payment's transaction — unless it was paid on
    its seller's word alone (``_binds_when_filled``): then it binds when the seller fills it."""
    if not _binds_when_filled(order):
        _bind_paid_customer(order)
    _transition(order, "mark_paid", by=by)
    _emit(order, "order.paid")


@transaction.atomic
def payment_confirm(*, payment: Payment, by, note: str = "") -> Payment:
    """The receiving party has the money: the order is paid (or the wallet topped up), once."""
    payment = _locked_pending_payment(payment, by)
    payment.status = PaymentStatus.CONFIRMED
    payment.decided_by, payment.decided_at, payment.decision_note = by, clock.now(), note[:300]
    payment.save()
    if payment.topup_for is not None:
        _post(
            [
                ledger.debit(_brand(Purpose.BRAND_CASH), payment.amount),
                ledger.credit(_wallet(payment.topup_for), payment.amount),
            ],
            kind="wallet_topup",
            key=f"payment:{payment.pk}",
            reference=f"payment:{payment.pk}",
            by=by,
        )
    else:
        assert payment.order_id is not None  # a payment tops a wallet up or pays an order
        order = _locked_order(payment.order_id)
        _post_payment(order, payment, by=by)
        _mark_paid(order, by=by)
    _emit_payment(payment, "payment.confirmed")
    return payment


@transaction.atomic
def payment_reject(*, payment: Payment, by, note: str) -> Payment:
    payment = _locked_pending_payment(payment, by)
    _require_note(note, _("Say why the payment is rejected."))
    payment.status = PaymentStatus.REJECTED
    payment.decided_by, payment.decided_at, payment.decision_note = by, clock.now(), note[:300]
    payment.save()
    _emit_payment(payment, "payment.rejected")
    return payment


@transaction.atomic
def order_pay_from_wallet(*, order: Order, by) -> Payment:
    order = _locked_order(order)
    _require_buyer(order, by)
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise Conflict(_("Order %(number)s is not waiting for payment.") % {"number": order.number}, field="order")
    if order.payments.filter(status=PaymentStatus.PENDING).exists():
        # A transfer is waiting for the seller: paying twice would leave it to be confirmed on a paid order.
        raise Conflict(_("A payment for this order is already waiting for confirmation."), field="order")
    payment = Payment.objects.create(
        order=order,
        method=PaymentMethod.WALLET,
        amount=order.total,
        status=PaymentStatus.CONFIRMED,
        receiver=order.seller,
        created_by=by,
        decided_by=by,
        decided_at=clock.now(),
    )
    _post_payment(order, payment, by=by)
    _mark_paid(order, by=by)
    _emit_payment(payment, "payment.confirmed")
    return payment


@transaction.atomic
def wallet_topup_submit(*, agent: Agent, by, amount, screenshot: UploadedFile, reference: str = "") -> Payment:
    try:
        amount = to_money(amount)
    except (ArithmeticError, TypeError, ValueError):
        raise BusinessError(_("Enter an amount in yuan."), field="amount") from None
    if amount <= 0 or amount >= Decimal("1e10"):
        raise BusinessError(_("Enter an amount above zero."), field="amount")
    if agent.user_id != getattr(by, "pk", None):
        raise Forbidden(_("You can only top up your own wallet."))
    _check_screenshot(screenshot)
    payment = Payment.objects.create(
        topup_for=agent,
        method=PaymentMethod.TRANSFER,
        amount=amount,
        receiver=None,
        screenshot=screenshot,
        reference=(reference or "")[:64],
        created_by=by,
    )
    _emit_payment(payment, "payment.submitted")
    return payment


def payment_credit_from_provider(*, notice) -> Payment:
    """Credit a provider's notification (e.g. WeChat Pay) to its order — at most once.

    The same transaction id, however often it is sent, returns the first payment. An amount
    that differs from the order's total, a currency other than the order's (the brand's), or an
    unknown order, is refused and logged: nothing is credited.
    """
    existing = Payment.objects.filter(provider_txn_id=notice.transaction_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            order = Order.objects.select_for_update(of=("self",)).filter(number=notice.out_trade_no).first()
            if order is None:
                log.warning("payment notice for unknown order %s (txn %s)", notice.out_trade_no, notice.transaction_id)
                raise NotFound(_("Unknown order."), field="out_trade_no")
            if notice.state != "SUCCESS":
                raise Conflict(_("The payment did not succeed."), field="state")
            # Under the order's lock: a concurrent delivery of this same notice may have credited it.
            again = Payment.objects.filter(provider_txn_id=notice.transaction_id).first()
            if again is not None:
                return again
            if order.status != OrderStatus.AWAITING_PAYMENT:
                log.error(
                    "payment notice %s for order %s, which is %s: refused (refund it at the provider)",
                    notice.transaction_id,
                    order.number,
                    order.status,
                )
                raise Conflict(_("This order is not waiting for payment."), field="out_trade_no", code="already_paid")
            currency = brand_get().currency.upper()
            if str(notice.currency or "").strip().upper() != currency:
                log.error(
                    "payment notice currency %r != the brand's %s for order %s (txn %s): refused",
                    notice.currency,
                    currency,
                    order.number,
                    notice.transaction_id,
                )
                raise Conflict(
                    _("The payment is not in %(currency)s, the order's currency.") % {"currency": currency},
                    field="currency",
                    code="currency_mismatch",
                )
            if int(notice.amount_fen) != int(order.total * 100):
                log.error(
                    "payment notice amount %s fen != order %s total %s (txn %s): refused",
                    notice.amount_fen,
                    order.number,
                    order.total,
                    notice.transaction_id,
                )
                raise Conflict(_("The amount paid does not match the order."), field="amount", code="amount_mismatch")
            payment = Payment.objects.create(
                order=order,
                method=PaymentMethod.WECHATPAY,
                amount=order.total,
                status=PaymentStatus.CONFIRMED,
                receiver=order.seller,
                provider_txn_id=notice.transaction_id,
                decided_at=clock.now(),
            )
            _post_payment(order, payment)
            _mark_paid(order, by=None)
            _emit_payment(payment, "payment.confirmed")
            return payment
    except IntegrityError:
        # A concurrent delivery of the same notice won the race: return its payment.
        existing = Payment.objects.filter(provider_txn_id=notice.transaction_id).first()
        if existing is None:  # another transaction paid the order first
            log.error(
                "payment notice %s for order %s lost a race with another payment: refused",
                notice.transaction_id,
                notice.out_trade_no,
            )
            raise Conflict(
                _("This order is not waiting for payment."), field="out_trade_no", code="already_paid"
            ) from None
        return existing


def payment_online_start(
    *, order: Order, channel: str, client_ip: str | None = None, payer_openid: str | None = None
) -> PaymentIntent:
    """Open an online payment (WeChat Pay) for an order awaiting payment; the order is paid when the
    provider's notify callback arrives (``payment_credit_from_provider``). Nothing is stored here:
    the order number is the provider's ``out_trade_no``, so opening it twice is harmless."""
    name = online_provider_name()
    if name is None:
        raise Conflict(_("Online payment is not available; pay by transfer."), field="method")
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise Conflict(
            _("Order %(number)s is %(status)s; it is not waiting for payment.")
            % {"number": order.number, "status": order.get_status_display()},
            field="status",
        )
    if order.payments.filter(status=PaymentStatus.PENDING).exists():
        raise Conflict(_("A transfer for this order is waiting for confirmation."), field="status")
    pay_by = selectors.retail_pay_by(order=order)  # a shop order expires: no payment is taken after that
    if pay_by is not None and pay_by <= clock.now():
        raise Conflict(
            _("Order %(number)s was not paid in time and is being cancelled.") % {"number": order.number},
            field="status",
            code="expired",
        )
    description = f"{brand_get().name} {order.number}"[:127]
    request = PaymentRequest(
        out_trade_no=order.number,
        amount_fen=int(order.total * 100),
        description=description,
        payer_openid=payer_openid,
        client_ip=client_ip,
        time_expire=timezone.localtime(pay_by).isoformat(timespec="seconds") if pay_by else None,
    )
    try:
        return get_provider(name).create_payment(request, channel=channel)
    except (ProviderError, ValueError) as exc:
        log.error("%s create_payment for %s failed: %s", name, order.number, exc)
        raise Conflict(
            _("WeChat Pay is not available right now; try again or pay by transfer."),
            field="method",
            code="provider_error",
        ) from None


# --- filling and completing -----------------------------------------------------------------


def _fill_locations(order: Order):
    """(from, to) locations for filling ``order`` under its supply mode."""
    seller, kind = order.seller, selectors.fill_location_kind(order.supply_mode)
    if order.kind == OrderKind.RETAIL:  # to the consumer: out of the agent's cloud or own stock
        return stock.location_for_agent(_agent_seller(order), kind), stock.location_singleton(LocationKind.CUSTOMER)
    src = stock.location_for_agent(seller, kind) if seller else stock.location_singleton(LocationKind.WAREHOUSE)
    return src, stock.location_for_agent(_agent_buyer(order), kind)


def _complete(order: Order, *, by) -> None:
    _transition(order, "complete", by=by)
    _emit(order, "order.completed")
    if order.kind == OrderKind.ENTRY and _agent_buyer(order).status == AgentStatus.APPLICANT:
        channel_services.agent_change_status(
            agent=_agent_buyer(order), action="activate", by=by, reason=f"entry order {order.number} completed"
        )
    if order.kind == OrderKind.UPGRADE and _target_level(order).is_higher_than(_agent_buyer(order).level):
        channel_services.agent_change_level(
            agent=_agent_buyer(order), level=_target_level(order), by=by, reason=_upgrade_reason(order)
        )


@transaction.atomic
def order_fill(*, order: Order, by, carrier: str = "", tracking_number: str = "") -> Order:
    """The seller fills a paid order from their stock. Cloud stock completes at once."""
    order = _locked_order(order)
    _require_seller_side(order, by)
    if order.status != OrderStatus.PAID:
        raise Conflict(
            _("Order %(number)s is %(status)s; only a paid order can be filled.")
            % {"number": order.number, "status": order.get_status_display()},
            field="status",
        )
    src, dst = _fill_locations(order)
    stock.stock_move(
        moves=[stock.Move(src, dst, line.sku, line.quantity, line.pk) for line in order.lines.select_related("sku")],
        reason=StockReason.ORDER_FILL,
        by=by,
        note=order.number,
    )
    if _binds_when_filled(order):  # paid on the seller's word: the goods going out is what binds
        _bind_paid_customer(order)
    if carrier or tracking_number:
        order.carrier, order.tracking_number, order.shipped_at = carrier[:40], tracking_number[:60], clock.now()
    _transition(order, "fulfil", by=by)
    _emit(order, "order.fulfilled")
    if order.tracking_number:
        _emit_tracking(order)
    if dst.kind == LocationKind.CLOUD:  # nothing travels: the units are the buyer's now
        _complete(order, by=by)
    return order


@transaction.atomic
def order_mark_delivered(*, order: Order, by) -> Order:
    """The seller (or the brand's warehouse) records that a shipped retail order arrived.
    (An agent's own order completes when the agent confirms receipt, not on the seller's word.)"""
    order = _locked_order(order)
    _require_seller_side(order, by)
    if order.kind != OrderKind.RETAIL:
        raise Conflict(_("Only a retail order is marked delivered by its seller."), field="kind")
    order.delivered_at = clock.now()
    _complete(order, by=by)
    return order


@transaction.atomic
def order_confirm_receipt(*, order: Order, by) -> Order:
    order = _locked_order(order)
    _require_buyer(order, by)
    order.delivered_at = clock.now()
    _complete(order, by=by)
    return order


# --- refunds --------------------------------------------------------------------------------


def _refund_money(order: Order) -> None:
    """Money back to the buyer's wallet (the 货款 balance they can reorder from), owed by whoever
    received it: the seller agent's wallet (which may go below zero: a debt netted against the
    next money in) or brand sales. A consumer has no wallet: an online payment goes back out of
    the brand's cash (refunded at the provider), charged to the seller; a transfer the seller
    received is theirs to pay back."""
    paid = order.payments.filter(status=PaymentStatus.CONFIRMED).first()
    if paid is None:
        return
    ref, key = f"order:{order.number}", f"refund:{order.number}"
    if order.buyer is not None:
        _post(
            [ledger.debit(_receiver(order), paid.amount), ledger.credit(_wallet(order.buyer), paid.amount)],
            kind="order_refund",
            key=key,
            reference=ref,
            allow_negative={Purpose.AGENT_WALLET},
        )
    elif paid.method == PaymentMethod.WECHATPAY:
        _post(
            [ledger.debit(_receiver(order), paid.amount), ledger.credit(_brand(Purpose.BRAND_CASH), paid.amount)],
            kind="order_refund",
            key=key,
            reference=ref,
            allow_negative={Purpose.AGENT_WALLET},
        )


@transaction.atomic
def refund_request(*, order: Order, by, note: str) -> Order:
    """The buyer asks to return a fulfilled or completed order. A consumer has no login: the
    seller (or brand staff) records a retail customer's return for them."""
    order = _locked_order(order)
    if order.kind == OrderKind.RETAIL:
        _require_seller_side(order, by)
    else:
        _require_buyer(order, by)
    _require_note(note, _("Say why you want to return the order."))
    _transition(order, "request_refund", by=by, note=note)
    _emit(order, "order.refund_requested", again=True)
    return order


@transaction.atomic
def refund_decline(*, order: Order, by, note: str) -> Order:
    order = _locked_order(order)
    _require_seller_side(order, by)
    _require_note(note, _("Say why the return is declined."))
    _transition(order, "decline_refund", by=by, note=note)
    _emit(order, "order.refund_declined", again=True)
    return order


@transaction.atomic
def refund_approve(*, order: Order, by, note: str = "") -> Order:
    """Goods come back (the fill's moves, reversed) and the money goes back to the buyer's wallet.
    Fails, changing nothing, if the buyer no longer holds the units."""
    order = _locked_order(order)
    _require_seller_side(order, by)
    fills = list(
        StockMove.objects.filter(order_line__order=order, reason=StockReason.ORDER_FILL).select_related(
            "from_location", "to_location", "sku"
        )
    )
    _transition(order, "refund", by=by, note=note)
    stock.stock_move(
        moves=[stock.Move(m.to_location, m.from_location, m.sku, m.quantity, m.order_line_id) for m in fills],
        reason=StockReason.RETURN,
        by=by,
        note=order.number,
    )
    _refund_money(order)
    _unbind_undone(order)
    _undo_upgrade(order, by=by)
    if order.kind == OrderKind.ENTRY and _agent_buyer(order).status == AgentStatus.ACTIVE:
        # Joined on an order that was returned: the account is suspended until the brand decides.
        channel_services.agent_change_status(
            agent=_agent_buyer(order), action="suspend", by=by, reason=f"entry order {order.number} refunded"
        )
    _emit(order, "order.refunded")
    return order


def _upgrade_reason(order: Order) -> str:
    return f"upgrade order {order.number} completed"


def _undo_upgrade(order: Order, *, by) -> None:
    """A refunded upgrade order takes back the level it gave, if the agent still holds it."""
    if order.kind != OrderKind.UPGRADE or _agent_buyer(order).level_id != order.target_level_id:
        return
    raised = (
        AgentTrail.objects.filter(
            agent=order.buyer, kind=TrailKind.LEVEL, new_ref=order.target_level_id, reason=_upgrade_reason(order)
        )
        .order_by("-pk")
        .first()
    )
    if raised is None or raised.old_ref is None:
        return
    channel_services.agent_change_level(
        agent=_agent_buyer(order),
        level=Level.objects.get(pk=raised.old_ref),
        by=by,
        reason=f"upgrade order {order.number} refunded",
    )


# --- retail ---------------------------------------------------------------------------------


def _bind_customer(customer: Customer, seller_id: int, *, now: datetime) -> None:
    """Bind the consumer to the selling agent as the brand's customer_binding says (in memory:
    the caller saves). ``now`` is when the order was paid."""
    brand = brand_get()
    bound = customer.bound_agent_id
    if brand.customer_binding == CustomerBinding.OVERRIDE:
        rebind = bound != seller_id
    elif brand.customer_binding == CustomerBinding.EXPIRING and bound is not None:
        days = brand.customer_binding_days or 0
        expired = customer.bound_at is None or customer.bound_at + timedelta(days=days) <= now
        rebind = expired  # the same agent selling again renews the binding
    else:
        rebind = bound is None
    if rebind or (brand.customer_binding == CustomerBinding.EXPIRING and bound == seller_id):
        customer.bound_agent_id, customer.bound_at = seller_id, now


def _seller_word() -> Exists:
    """For an order queryset: its payment is a transfer confirmed by the agent who received it
    (the order's seller when it was paid) — paid on the seller's word alone."""
    return Exists(
        Payment.objects.filter(
            order=OuterRef("pk"),
            status=PaymentStatus.CONFIRMED,
            method=PaymentMethod.TRANSFER,
            receiver__isnull=False,
            decided_by=F("receiver__user"),
        )
    )


def _binds_when_filled(order: Order) -> bool:
    """A shop order paid by a transfer its own seller confirmed binds its customer when the seller
    fills it (the goods leave their stock for the customer), not at the confirmation: anyone can
    upload a picture for a phone they know and 'confirm' it. A provider's signed notice, or brand
    finance's confirmation, is a payment someone else vouches for: those bind at payment."""
    if order.kind != OrderKind.RETAIL or order.customer_id is None:
        return False
    return Order.objects.filter(pk=order.pk).filter(_seller_word()).exists()


def _bind_paid_customer(order: Order) -> None:
    """A shop order is being paid (or, paid on its seller's word, filled): bind its customer by the
    brand's rule (first, expiring, override) under the customer's row lock, and keep on the order
    the binding as it now stands — the agent whose customer this sale is, and who earns its retail
    commission."""
    if order.kind != OrderKind.RETAIL or order.customer_id is None or order.seller_id is None:
        return
    customer = Customer.objects.select_for_update().get(pk=order.customer_id)
    _bind_customer(customer, order.seller_id, now=clock.now())
    customer.save(update_fields=["bound_agent", "bound_at"])
    order.bound_agent_id = customer.bound_agent_id
    order.save(update_fields=["bound_agent"])


# Shop orders that were paid and still stand: they make (and keep) a customer's binding.
_BINDING_STATUSES = (OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.COMPLETED, OrderStatus.REFUND_REQUESTED)


def _unbind_undone(order: Order) -> None:
    """A paid shop order was cancelled or returned: it binds nobody any more. The customer's
    binding is worked out again, by the brand's rule, from their paid orders that still stand, in
    the order they bound her (when paid; when filled for one paid on its seller's word, which binds
    nobody while unfilled); orders not yet completed (whose commission is not worked out yet) take
    the binding they would have had."""
    if order.kind != OrderKind.RETAIL or order.customer_id is None or order.paid_at is None:
        return
    customer = Customer.objects.select_for_update().get(pk=order.customer_id)
    customer.bound_agent_id, customer.bound_at = None, None
    filled_at = (
        OrderTransition.objects.filter(order=OuterRef("pk"), to_status=OrderStatus.FULFILLED)
        .order_by("pk")
        .values("at")[:1]
    )
    rows = (
        Order.objects.filter(
            customer_id=customer.pk,
            kind=OrderKind.RETAIL,
            status__in=_BINDING_STATUSES,
            paid_at__isnull=False,
            seller__isnull=False,
        )
        .annotate(seller_word=_seller_word(), filled_at=Subquery(filled_at))
        .values_list("pk", "seller_id", "paid_at", "status", "bound_agent_id", "seller_word", "filled_at")
    )
    standing = sorted(
        ((filled_at if seller_word else paid_at), pk, seller_id, status, snapshot)
        for pk, seller_id, paid_at, status, snapshot, seller_word, filled_at in rows
        if not seller_word or filled_at is not None
    )
    stale: dict[int, int | None] = {}
    for since, pk, seller_id, status, snapshot in standing:
        _bind_customer(customer, seller_id, now=since)  # type: ignore[arg-type]  # both times filtered non-NULL
        if status in (OrderStatus.PAID, OrderStatus.FULFILLED) and snapshot != customer.bound_agent_id:
            stale[pk] = customer.bound_agent_id
    customer.save(update_fields=["bound_agent", "bound_at"])
    # Holding the customer's lock, never wait for another order's: a payment or cancellation of
    # that order holds it and waits for the customer (a deadlock). An order locked right now is
    # being cancelled or filled; its binding is left as it was paid.
    free = Order.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk__in=stale)
    for pk in free.values_list("pk", flat=True):
        Order.objects.filter(pk=pk).update(bound_agent_id=stale[pk])


@transaction.atomic
def retail_order_submit(
    *, seller: Agent, name: str, phone: str, address: str, lines, idempotency_key: str | None = None
) -> Order:
    """A consumer orders from an agent's shop link at retail price."""
    seller = Agent.objects.select_related("level").get(pk=seller.pk)
    if seller.status != AgentStatus.ACTIVE:
        raise BusinessError(_("This shop is closed."), field="shop")
    phone = normalize_phone(phone)
    try:
        validate_phone(phone)
    except ValidationError as exc:
        raise BusinessError(exc.messages[0], field="phone") from None
    for field, value in (("name", name), ("address", address)):
        if not (value or "").strip():
            raise BusinessError(_("Enter your name and address."), field=field)
    merged = _clean_lines(lines)
    try:
        with transaction.atomic():
            Customer.objects.get_or_create(phone=phone, defaults={"name": name.strip()[:50]})
    except IntegrityError:
        pass  # created by a concurrent order from the same phone
    # One consumer's submissions are serialised on their row, so a double tap makes one order.
    customer = Customer.objects.select_for_update().get(phone=phone)
    key = f"{phone}:{idempotency_key}" if idempotency_key else None
    if key:
        first = Order.objects.filter(customer=customer, idempotency_key=key).first()
        if first is not None:
            return first
    # No binding here: an unpaid order binds nobody (``_bind_paid_customer``, when it is paid).
    priced = [(sku, qty, sku.retail_price) for sku, qty in merged.values()]
    total = sum((price * qty for _sku, qty, price in priced), Decimal("0"))
    if total <= 0:
        raise BusinessError(_("An order must come to more than ¥0."), field="lines")
    order = Order.objects.create(
        number=_new_number(OrderKind.RETAIL),
        kind=OrderKind.RETAIL,
        customer=customer,
        seller=seller,
        supply_mode=brand_get().supply_mode,
        total=total,
        idempotency_key=key,
        ship_name=name.strip()[:50],
        ship_phone=phone,
        ship_address=address.strip()[:200],
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(order=order, sku=sku, quantity=qty, unit_price=price, line_total=price * qty)
            for sku, qty, price in priced
        ]
    )
    _transition(order, "submit")
    _emit(order, "order.submitted")
    _transition(order, "approve", note=record_text(gettext_noop("Retail order: no approval needed.")))
    _transition(order, "request_payment")
    _emit(order, "order.approved")
    return order


@transaction.atomic
def retail_payment_submit(*, order: Order, phone: str, screenshot: UploadedFile, reference: str = "") -> Payment:
    """The consumer (identified by the phone on the order) sends the transfer screenshot."""
    order = _locked_order(order)
    if order.kind != OrderKind.RETAIL or order.customer is None or order.customer.phone != normalize_phone(phone):
        raise NotFound(_("No such order for this phone number."), field="phone")
    return _transfer_create(order, screenshot=screenshot, reference=reference)


# The job waits this long past an unpaid shop order's deadline before cancelling it: the provider
# takes no money after the deadline (time_expire), and a payment made just before it has time to
# be notified and credited instead of being refused on a cancelled order.
EXPIRY_GRACE = timedelta(minutes=15)


def _expiry_cutoff(now: datetime) -> tuple[datetime, int]:
    hours = brand_get().retail_unpaid_hours
    return now - timedelta(hours=hours) - EXPIRY_GRACE, hours


def _expired_unpaid(queryset: QuerySet[Order], cutoff: datetime) -> QuerySet[Order]:
    """Shop orders waiting for payment, unpaid since before ``cutoff``: placed before it, with no
    transfer waiting for confirmation, and no transfer rejected after it (a rejection gives the
    consumer the brand's time again to pay)."""
    return (
        queryset.filter(kind=OrderKind.RETAIL, status=OrderStatus.AWAITING_PAYMENT, submitted_at__lte=cutoff)
        .exclude(payments__status=PaymentStatus.PENDING)
        .exclude(payments__decided_at__gt=cutoff)
    )


@transaction.atomic
def retail_order_expire_one(*, order: Order | int, now: datetime) -> bool:
    """Cancel one unpaid shop order whose time ran out, as the system. Under the order's lock the
    conditions are checked again, so a payment that arrived meanwhile wins: a paid order, or one
    with a transfer waiting, is never cancelled here."""
    cutoff, hours = _expiry_cutoff(now)
    order = _locked_order(order)
    if not _expired_unpaid(Order.objects.filter(pk=order.pk), cutoff).exists():
        return False
    _cancel(
        order, by=None, note=record_text(gettext_noop("Not paid within %(hours)d hours: expired")) % {"hours": hours}
    )
    return True


def retail_orders_expire(*, now: datetime | None = None) -> int:
    """The periodic job (``weishang orders expire``): cancel every shop order left unpaid longer
    than the brand's ``retail_unpaid_hours``; each in its own transaction. Returns how many."""
    now = now or clock.now()
    cutoff, _hours = _expiry_cutoff(now)
    candidates = list(_expired_unpaid(Order.objects.all(), cutoff).order_by("pk").values_list("pk", flat=True))
    return sum(retail_order_expire_one(order=pk, now=now) for pk in candidates)


# --- pick-ups -------------------------------------------------------------------------------


@transaction.atomic
def pickup_request(
    *, agent: Agent, lines, by, name: str, phone: str, address: str, idempotency_key: str | None = None
) -> Order:
    """Ship units out of the agent's cloud stock to an address. The units leave cloud stock now,
    so they cannot be sold or picked up twice; the warehouse then ships them."""
    if agent.user_id != getattr(by, "pk", None):
        raise Forbidden(_("You can only pick up your own stock."))
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    if idempotency_key:
        first = Order.objects.filter(buyer=agent, idempotency_key=idempotency_key).first()
        if first is not None:
            return first
    for field, value in (("name", name), ("phone", phone), ("address", address)):
        if not (value or "").strip():
            raise BusinessError(_("Enter the recipient's name, phone and address."), field=field)
    merged = _clean_lines(lines)
    order = Order.objects.create(
        number=_new_number(OrderKind.PICKUP),
        kind=OrderKind.PICKUP,
        buyer=agent,
        seller=None,
        supply_mode=SupplyMode.CLOUD,
        total=Decimal("0"),
        idempotency_key=idempotency_key or None,
        ship_name=name.strip()[:50],
        ship_phone=phone.strip()[:20],
        ship_address=address.strip()[:200],
    )
    created = OrderLine.objects.bulk_create(
        [
            OrderLine(order=order, sku=sku, quantity=qty, unit_price=Decimal("0"), line_total=Decimal("0"))
            for sku, qty in merged.values()
        ]
    )
    cloud = stock.location_for_agent(agent, LocationKind.CLOUD)
    customer = stock.location_singleton(LocationKind.CUSTOMER)
    stock.stock_move(
        moves=[stock.Move(cloud, customer, line.sku, line.quantity, line.pk) for line in created],
        reason=StockReason.PICKUP,
        by=by,
        note=order.number,
    )
    _transition(order, "submit", by=by)
    _emit(order, "order.submitted")
    return order


@transaction.atomic
def pickup_ship(*, order: Order, by, carrier: str, tracking_number: str) -> Order:
    order = _locked_order(order)
    if not _is_staff_with(by, "trade.change_order"):
        raise Forbidden(_("Only the brand's warehouse ships pick-ups."))
    if not carrier.strip() or not tracking_number.strip():
        raise BusinessError(_("Enter the carrier and the tracking number."), field="tracking_number")
    order.carrier, order.tracking_number = carrier.strip()[:40], tracking_number.strip()[:60]
    _transition(order, "ship_pickup", by=by)
    _emit(order, "order.fulfilled")
    _emit_tracking(order)
    return order


@transaction.atomic
def pickup_delivered(*, order: Order, by) -> Order:
    order = _locked_order(order)
    if order.kind != OrderKind.PICKUP:
        raise Conflict(_("This is not a pick-up."), field="kind")
    if not (_is_staff_with(by, "trade.change_order") or (order.buyer and order.buyer.user_id == by.pk)):
        raise Forbidden(_("This is not your order."))
    order.delivered_at = clock.now()
    _transition(order, "complete", by=by)
    _emit(order, "order.completed")
    return order


# --- the brand's shipments (the console's warehouse, or a logistics system through the API) ---


def _require_warehouse(user) -> None:
    if not _is_staff_with(user, "trade.change_order"):
        raise Forbidden(_("Only the brand's warehouse ships orders."))


def _require_brand_shipment(order: Order) -> None:
    """Goods the brand sends: a pick-up, or an order the company fills that is not a cloud move."""
    if order.kind == OrderKind.PICKUP:
        return
    if order.seller_id is not None:
        raise Conflict(
            _("Order %(number)s is sent by its seller, not by the brand.") % {"number": order.number},
            field="order",
            code="not_brand_shipment",
        )
    if order.supply_mode == SupplyMode.CLOUD:
        raise Conflict(
            _("Order %(number)s is filled into cloud stock: nothing is shipped.") % {"number": order.number},
            field="order",
            code="nothing_to_ship",
        )


def _carrier_and_tracking(carrier: str, tracking_number: str) -> tuple[str, str]:
    carrier, tracking_number = (carrier or "").strip()[:40], (tracking_number or "").strip()[:60]
    if not carrier or not tracking_number:
        raise BusinessError(_("Enter the carrier and the tracking number."), field="tracking_number")
    return carrier, tracking_number


@transaction.atomic
def shipment_send(*, order: Order, by, carrier: str, tracking_number: str) -> Order:
    """The brand's warehouse ships a pick-up, or a paid order the company fills (``order_fill``
    out of the warehouse), with its carrier and tracking number."""
    _require_warehouse(by)
    carrier, tracking_number = _carrier_and_tracking(carrier, tracking_number)
    if order.kind == OrderKind.PICKUP:
        return pickup_ship(order=order, by=by, carrier=carrier, tracking_number=tracking_number)
    _require_brand_shipment(order)
    return order_fill(order=order, by=by, carrier=carrier, tracking_number=tracking_number)


@transaction.atomic
def shipment_tracking_update(*, order: Order, by, carrier: str, tracking_number: str) -> Order:
    """The brand's warehouse corrects the carrier or tracking number of a shipment it sent."""
    _require_warehouse(by)
    order = _locked_order(order)
    _require_brand_shipment(order)
    if order.status not in (OrderStatus.FULFILLED, OrderStatus.COMPLETED):
        raise Conflict(
            _("Order %(number)s has not been shipped yet.") % {"number": order.number},
            field="status",
            code="wrong_status",
        )
    carrier, tracking_number = _carrier_and_tracking(carrier, tracking_number)
    if (order.carrier, order.tracking_number) != (carrier, tracking_number):
        order.carrier, order.tracking_number = carrier, tracking_number
        order.save(update_fields=["carrier", "tracking_number"])
        _emit_tracking(order)
    return order


def validate_screenshot(screenshot: UploadedFile) -> None:
    """For forms: the same check the services make, as a ValidationError."""
    try:
        _check_screenshot(screenshot)
    except BusinessError as exc:
        raise ValidationError(str(exc.message)) from exc


# --- stuck orders: the brand's ways out -----------------------------------------------------
# A paid order nobody fills within the brand's ``stuck_after_hours`` is stuck (the console's
# stuck queue). Brand staff who decide orders (owner, operations: change orders and see
# payments) take one of three ways out, each recorded as an OrderTransition with who and why:
# the company fills it now, the order is reassigned to the company (the warehouse fills it), or
# it is cancelled and refunded. A shop order (a consumer's, from an agent's shop) is only
# refunded. See docs/decisions.md ("Stuck orders", M7).

STUCK_PERMS = ("trade.change_order", "trade.view_payment")


# Whether an order is stuck is read by ``selectors.order_is_stuck`` (the console's queue and
# steps read it too); ``services.order_is_stuck`` is the same function.
order_is_stuck = selectors.order_is_stuck


def _require_stuck_handler(user) -> None:
    if not (getattr(user, "is_active", False) and getattr(user, "is_staff", False) and user.has_perms(STUCK_PERMS)):
        raise Forbidden(_("Only brand staff who decide orders can do this."))


def _require_stuck(order: Order) -> None:
    if not order_is_stuck(order):
        raise Conflict(
            _("Order %(number)s is not stuck: it is %(status)s, or paid less than %(hours)d hours ago.")
            % {"number": order.number, "status": order.get_status_display(), "hours": brand_get().stuck_after_hours},
            field="status",
            code="not_stuck",
        )


def _require_agent_order(order: Order) -> None:
    """The company takes over an agent's restock order, not a consumer's order from an agent's shop:
    that sale is the agent's (their shop, their retail margin and binding); stuck, it is refunded."""
    if order.kind == OrderKind.RETAIL:
        raise Conflict(
            _("A shop order stays with its seller: the company does not take it over. Cancel and refund it."),
            field="order",
            code="shop_order",
        )


def _reassign_to_company(order: Order, *, by, note: str) -> None:
    """The seller agent hands the order to the company. The money the agent received (their
    wallet was credited, or they hold the buyer's transfer) is owed to the brand: one balanced
    entry from the agent's wallet (which may go below zero, a debt) to brand sales. A later
    refund is then paid by brand sales, which now holds the money."""
    seller = _agent_seller(order)
    paid = order.payments.filter(status=PaymentStatus.CONFIRMED).first()
    if paid is not None:
        _post(
            [ledger.debit(_wallet(seller), paid.amount), ledger.credit(_brand(Purpose.BRAND_SALES), paid.amount)],
            kind="order_reassign",
            key=f"reassign:{order.number}",
            reference=f"order:{order.number}",
            by=by,
            allow_negative={Purpose.AGENT_WALLET},
        )
    order.seller = None
    order.save(update_fields=["seller"])
    OrderTransition.objects.create(
        order=order,
        from_status=order.status,
        to_status=order.status,
        by=by,
        note=(
            record_text(gettext_noop("Reassigned to the company from %(seller)s")) % {"seller": seller.real_name}
            + f": {note}"
        )[:300],
    )
    with translation.override(settings.LANGUAGE_CODE):
        text = gettext("The company took over order %(number)s from %(seller)s and fills it.") % {
            "number": order.number,
            "seller": seller.real_name,
        }
        if paid is not None:
            text += " " + gettext("¥%(amount)s the order was paid moved from %(seller)s's wallet to the company.") % {
                "amount": paid.amount,
                "seller": seller.real_name,
            }
    _notice(order, seller, NoticeKind.REASSIGNED, text, by=by)
    _notice(order, order.buyer, NoticeKind.REASSIGNED, text, by=by)
    _emit(order, "order.reassigned", previous_seller=seller.pk)


@transaction.atomic
def order_reassign_to_company(*, order: Order, by, note: str) -> Order:
    """Way out 2: a stuck order of an agent becomes the company's; the warehouse fills it."""
    _require_stuck_handler(by)
    order = _locked_order(order)
    _require_stuck(order)
    _require_agent_order(order)
    _require_note(note, _("Say why the order is reassigned."))
    if order.seller_id is None:
        raise Conflict(
            _("Order %(number)s is already the company's.") % {"number": order.number},
            field="order",
            code="already_company",
        )
    _reassign_to_company(order, by=by, note=note)
    return order


@transaction.atomic
def order_company_fill(*, order: Order, by, note: str, carrier: str = "", tracking_number: str = "") -> Order:
    """Way out 1: the company fills a stuck order now from its warehouse (taking it over from the
    seller agent first, money and all). Refused, changing nothing, if the warehouse is short."""
    _require_stuck_handler(by)
    order = _locked_order(order)
    _require_stuck(order)
    _require_agent_order(order)
    _require_note(note, _("Say why the company fills the order."))
    if order.seller_id is not None:
        _reassign_to_company(order, by=by, note=note)
    return order_fill(order=order, by=by, carrier=carrier.strip(), tracking_number=tracking_number.strip())


@transaction.atomic
def order_stuck_refund(*, order: Order, by, note: str) -> Order:
    """Way out 3: cancel a stuck order; the money goes back to the buyer's wallet, paid by whoever
    received it (as ``order_cancel``), and both sides are told."""
    _require_stuck_handler(by)
    order = _locked_order(order)
    _require_stuck(order)
    _require_note(note, _("Say why the order is refunded."))
    return order_cancel(order=order, by=by, note=note)


# --- receiving accounts (收款方式): where buyers pay ------------------------------------------

RECEIVING_FIELDS = ("kind", "holder", "account_number", "bank", "note")


def _check_qr(image: UploadedFile | None) -> None:
    """A QR code gets the checks a transfer screenshot gets (an image of a known type, 5 MB at
    most, stored under a name of our making)."""
    if image is None:
        return
    try:
        _check_screenshot(image)
    except BusinessError:
        raise BusinessError(
            _("The QR code must be an image (JPEG, PNG, WebP or GIF) of at most 5 MB."), field="qr_image"
        ) from None


def _require_account_owner(account_agent: Agent | None, user) -> None:
    if account_agent is None:
        if not _is_staff_with(user, "trade.change_receivingaccount"):
            raise Forbidden(_("Only brand finance manages the brand's receiving accounts."))
    elif account_agent.user_id != getattr(user, "pk", None):
        raise Forbidden(_("You can only manage your own receiving accounts."))


def _clean_account(data: dict, image) -> dict:
    from weishang.trade.models import ReceivingKind

    clean = {field: str(data.get(field) or "").strip() for field in RECEIVING_FIELDS}
    if clean["kind"] not in ReceivingKind.values:
        raise BusinessError(_("Choose WeChat, Alipay or bank account."), field="kind")
    if not clean["holder"]:
        raise BusinessError(_("Enter the account holder's name."), field="holder")
    if clean["kind"] == ReceivingKind.BANK and not (clean["account_number"] and clean["bank"]):
        raise BusinessError(_("Enter the bank and the account number."), field="account_number")
    if clean["kind"] != ReceivingKind.BANK and image is None and not data.get("_has_image"):
        raise BusinessError(_("Upload the QR code buyers scan to pay you."), field="qr_image")
    limits = {"holder": 50, "account_number": 64, "bank": 100, "note": 100}
    for field, limit in limits.items():
        if len(clean[field]) > limit:
            raise BusinessError(_("At most %(n)d characters.") % {"n": limit}, field=field)
    return clean


@transaction.atomic
def receiving_account_save(*, by, agent: Agent | None, data: dict, qr_image: UploadedFile | None = None, account=None):
    """Add (``account`` None) or change one of ``agent``'s receiving accounts (the brand's when
    ``agent`` is None). A new QR image replaces the old one."""
    from weishang.trade.models import ReceivingAccount

    if account is not None:
        account = ReceivingAccount.objects.select_for_update().get(pk=account.pk)
        agent = account.agent
    _require_account_owner(agent, by)
    clean = _clean_account({**data, "_has_image": bool(account and account.qr_image)}, qr_image)
    _check_qr(qr_image)
    if account is None:
        account = ReceivingAccount(agent=agent)
    for field, value in clean.items():
        setattr(account, field, value)
    if qr_image is not None:
        account.qr_image = qr_image
    account.save()
    return account


@transaction.atomic
def receiving_account_delete(*, by, account) -> None:
    _require_account_owner(account.agent, by)
    image = account.qr_image
    account.delete()
    if image:  # the QR code goes with it, once the removal is committed
        storage, name = image.storage, image.name
        transaction.on_commit(lambda: storage.delete(name))
