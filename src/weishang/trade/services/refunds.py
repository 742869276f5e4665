"""Returns and refunds: the buyer asks, the seller side approves (the goods come back, the
money goes back to the buyer's wallet) or declines; a refunded upgrade takes its level back."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from weishang.channel import services as channel_services
from weishang.channel.models import AgentStatus, AgentTrail, Level, TrailKind
from weishang.ledger import services as ledger
from weishang.ledger.models import Purpose
from weishang.trade import stock
from weishang.trade.models import (
    Order,
    OrderKind,
    PaymentMethod,
    PaymentStatus,
    StockMove,
    StockReason,
)
from weishang.trade.services.binding import unbind_undone
from weishang.trade.services.common import (
    agent_buyer,
    emit,
    locked_order,
    require_buyer,
    require_note,
    require_seller_side,
    transition,
)
from weishang.trade.services.money import brand_account, post, receiver_account, wallet


def refund_money(order: Order) -> None:
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
        post(
            [ledger.debit(receiver_account(order), paid.amount), ledger.credit(wallet(order.buyer), paid.amount)],
            kind="order_refund",
            key=key,
            reference=ref,
            allow_negative={Purpose.AGENT_WALLET},
        )
    elif paid.method == PaymentMethod.WECHATPAY:
        post(
            [
                ledger.debit(receiver_account(order), paid.amount),
                ledger.credit(brand_account(Purpose.BRAND_CASH), paid.amount),
            ],
            kind="order_refund",
            key=key,
            reference=ref,
            allow_negative={Purpose.AGENT_WALLET},
        )


@transaction.atomic
def refund_request(*, order: Order, by, note: str) -> Order:
    """The buyer asks to return a fulfilled or completed order. A consumer has no login: the
    seller (or brand staff) records a retail customer's return for them."""
    order = locked_order(order)
    if order.kind == OrderKind.RETAIL:
        require_seller_side(order, by)
    else:
        require_buyer(order, by)
    require_note(note, _("Say why you want to return the order."))
    transition(order, "request_refund", by=by, note=note)
    emit(order, "order.refund_requested", again=True)
    return order


@transaction.atomic
def refund_decline(*, order: Order, by, note: str) -> Order:
    order = locked_order(order)
    require_seller_side(order, by)
    require_note(note, _("Say why the return is declined."))
    transition(order, "decline_refund", by=by, note=note)
    emit(order, "order.refund_declined", again=True)
    return order


@transaction.atomic
def refund_approve(*, order: Order, by, note: str = "") -> Order:
    """Goods come back (the fill's moves, reversed) and the money goes back to the buyer's wallet.
    Fails, changing nothing, if the buyer no longer holds the units."""
    order = locked_order(order)
    require_seller_side(order, by)
    fills = list(
        StockMove.objects.filter(order_line__order=order, reason=StockReason.ORDER_FILL).select_related(
            "from_location", "to_location", "sku"
        )
    )
    transition(order, "refund", by=by, note=note)
    stock.stock_move(
        moves=[stock.Move(m.to_location, m.from_location, m.sku, m.quantity, m.order_line_id) for m in fills],
        reason=StockReason.RETURN,
        by=by,
        note=order.number,
    )
    refund_money(order)
    unbind_undone(order)
    _undo_upgrade(order, by=by)
    if order.kind == OrderKind.ENTRY and agent_buyer(order).status == AgentStatus.ACTIVE:
        # Joined on an order that was returned: the account is suspended until the brand decides.
        channel_services.agent_change_status(
            agent=agent_buyer(order), action="suspend", by=by, reason=f"entry order {order.number} refunded"
        )
    emit(order, "order.refunded")
    return order


def upgrade_reason(order: Order) -> str:
    return f"upgrade order {order.number} completed"


def _undo_upgrade(order: Order, *, by) -> None:
    """A refunded upgrade order takes back the level it gave, if the agent still holds it."""
    if order.kind != OrderKind.UPGRADE or agent_buyer(order).level_id != order.target_level_id:
        return
    raised = (
        AgentTrail.objects.filter(
            agent=order.buyer, kind=TrailKind.LEVEL, new_ref=order.target_level_id, reason=upgrade_reason(order)
        )
        .order_by("-pk")
        .first()
    )
    if raised is None or raised.old_ref is None:
        return
    channel_services.agent_change_level(
        agent=agent_buyer(order),
        level=Level.objects.get(pk=raised.old_ref),
        by=by,
        reason=f"upgrade order {order.number} refunded",
    )
