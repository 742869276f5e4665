"""For the demos (the demo brand, the apps' own demo data): an order taken through every step a
real one takes — approved by whoever sells, paid online (the fake provider), filled."""

from __future__ import annotations

from django.db import transaction

from weishang.core.errors import BusinessError
from weishang.trade import services as trade
from weishang.trade.models import Order, OrderStatus
from weishang.trade.providers.fake import FakeProvider


def order_pay_and_fill(order: Order, *, staff) -> Order:
    """Approve (the seller, or ``staff`` when the company sells), pay and fill ``order``. A seller
    short of stock leaves it paid: it waits for them, as orders do."""
    seller_user = order.seller.user if order.seller_id else staff
    if order.status == OrderStatus.SUBMITTED:
        trade.order_approve(order=order, by=seller_user)
    body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=int(order.total * 100))
    trade.payment_credit_from_provider(notice=FakeProvider().parse_notification(headers, body))
    order.refresh_from_db()
    try:
        with transaction.atomic():
            trade.order_fill(order=order, by=seller_user)
    except BusinessError:
        pass
    order.refresh_from_db()
    return order
