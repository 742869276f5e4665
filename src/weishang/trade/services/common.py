"""What every order service shares: numbering, a checked status change (``transition``), the
order's row lock, who may act, the outbox events and the notices an order leaves its parties."""

from __future__ import annotations

import secrets

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from weishang.channel.models import Agent, Level
from weishang.core import clock
from weishang.core.errors import BusinessError, Forbidden
from weishang.core.outbox import outbox_emit
from weishang.core.text import record_text
from weishang.trade import workflow
from weishang.trade.models import (
    Order,
    OrderNotice,
    OrderTransition,
    Payment,
)

# --- helpers --------------------------------------------------------------------------------


def new_number(kind: str) -> str:
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


def transition(order: Order, name: str, *, by=None, note: str = "") -> None:
    """Move ``order`` by the workflow's move ``name`` (trade.workflow), save it and record who."""
    old = workflow.current().move(order, name)
    order.save(update_fields=_MUTABLE_FIELDS)
    OrderTransition.objects.create(order=order, from_status=old, to_status=order.status, by=by, note=note[:300])


def locked_order(order: Order | int) -> Order:
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("buyer__level", "seller__level", "buyer__user")
        .get(pk=getattr(order, "pk", order))
    )


def is_staff_with(user, perm: str) -> bool:
    return bool(getattr(user, "is_staff", False) and user.has_perm(perm))


def require_seller_side(order: Order, user, *, staff_perm: str = "trade.change_order") -> None:
    """The seller agent acts on their own orders; brand staff act on the company's (and may step in)."""
    if is_staff_with(user, staff_perm):
        return
    if order.seller is not None and order.seller.user_id == getattr(user, "pk", None):
        return
    raise Forbidden(_("This order is not yours to handle."))


def require_buyer(order: Order, user) -> None:
    if order.buyer is None or order.buyer.user_id != getattr(user, "pk", None):
        raise Forbidden(_("This is not your order."))


def require_note(note: str, message: str) -> None:
    """Rejections and returns must say why: the other party reads it."""
    if not (note or "").strip():
        raise BusinessError(message, field="note")


def emit(order: Order, topic: str, *, again: bool = False, **extra) -> None:
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


def emit_payment(payment: Payment, topic: str) -> None:
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


def emit_tracking(order: Order) -> None:
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


def agent_buyer(order: Order) -> Agent:
    """The agent who bought ``order``, for the orders that have one (all but a consumer's)."""
    if order.buyer is None:
        raise ValueError(f"order {order.number} has no agent buyer")
    return order.buyer


def agent_seller(order: Order) -> Agent:
    """The agent who sells ``order``, where the company does not (a shop order, a reassignment)."""
    if order.seller is None:
        raise ValueError(f"order {order.number} has no agent seller")
    return order.seller


def order_target_level(order: Order) -> Level:
    """The level an upgrade order buys."""
    if order.target_level is None:
        raise ValueError(f"upgrade order {order.number} has no target level")
    return order.target_level


def party_name(agent: Agent | None) -> str:
    return agent.real_name if agent is not None else record_text(gettext_noop("the company"))


def notify(order: Order, agent: Agent | None, kind: str, text: str, *, by=None) -> None:
    if agent is not None:
        OrderNotice.objects.create(order=order, agent=agent, kind=kind, text=text[:300], created_by=by)
