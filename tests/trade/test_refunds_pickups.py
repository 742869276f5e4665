"""Cancelling before fulfilment, returns after it (stock and money both reversed, or nothing),
and pick-ups out of cloud stock to a home address."""

from __future__ import annotations

from decimal import Decimal

import pytest

from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.models import OutboxEvent, SupplyMode
from weishang.ledger.models import JournalEntry
from weishang.trade import services
from weishang.trade.models import (
    LocationKind,
    Order,
    OrderKind,
    OrderStatus,
    OrderTransition,
    StockMove,
    StockReason,
)
from weishang.trade.stock import InsufficientStock, stock_verify

pytestmark = pytest.mark.django_db

S = OrderStatus
ADDRESS = {"name": "王芳", "phone": "13800000000", "address": "上海市徐汇区漕溪北路 1 号"}


def refunded_events(order) -> int:
    return OutboxEvent.objects.filter(topic="order.refunded", key=order.number).count()


def state(order, *agents_skus):
    """What a user would look at: status, transitions, wallet entries, events and stock on hand."""
    order.refresh_from_db()
    return (
        order.status,
        OrderTransition.objects.filter(order=order).count(),
        JournalEntry.objects.count(),
        OutboxEvent.objects.count(),
        StockMove.objects.count(),
        [f() for f in agents_skus],
    )


# --- cancelling -----------------------------------------------------------------------------


def test_cancelling_a_wallet_paid_order_puts_the_money_back(t, skus, supplier, buyer):
    t.topup(buyer, "500")
    order = t.place(buyer, [(skus.a, 2)])
    t.approve(order)
    services.order_pay_from_wallet(order=order, by=buyer.user)
    assert t.balance(buyer) == Decimal("349.00")
    services.order_cancel(order=order, by=buyer.user, note="买错了")
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert t.wallet_moves(buyer)[-1] == ("refund", Decimal("151.00"))
    assert JournalEntry.objects.get(kind="order_refund").reference == f"order:{order.number}"
    assert t.balance(buyer) == Decimal("500.00")
    t.assert_wallet_consistent(buyer)
    assert OrderTransition.objects.filter(order=order).last().note == "买错了"


def test_cancelling_a_transfer_paid_order_refunds_to_the_wallet(t, skus, supplier, buyer):
    order = t.place(buyer, [(skus.a, 2)])
    t.approve(order)
    payment = services.payment_submit_transfer(order=order, by=buyer.user, screenshot=t.image_upload())
    services.payment_confirm(payment=payment, by=supplier.user)
    services.order_cancel(order=order, by=supplier.user, note="缺货")
    assert t.balance(buyer) == Decimal("151.00")
    assert t.wallet_moves(buyer) == [("refund", Decimal("151.00"))]
    assert t.balance(supplier) == Decimal("-151.00")  # the supplier has the transfer: they owe the refund
    t.assert_wallet_consistent(buyer)


@pytest.mark.parametrize("stage", ["submitted", "awaiting_payment"])
def test_cancelling_an_unpaid_order_moves_no_money(t, skus, buyer, stage):
    order = t.place(buyer, [(skus.a, 2)])
    if stage == "awaiting_payment":
        t.approve(order)
    services.order_cancel(order=order, by=buyer.user)
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert t.wallet_moves() == [] and not JournalEntry.objects.exists()
    # Nothing the reward engine acts on (the order's own events, submitted and cancelled, are there).
    assert not OutboxEvent.objects.filter(topic__in=("order.paid", "order.completed", "order.refunded")).exists()


def test_a_filled_order_cannot_be_cancelled(t, skus, supplier, buyer):
    t.receive(supplier, skus.a, 5)
    order = t.paid(buyer, [(skus.a, 2)])
    t.fill(order)
    with pytest.raises(Conflict):
        services.order_cancel(order=order, by=buyer.user)
    assert t.balance(buyer) == 0 and t.on_hand(buyer, skus.a) == 2


# --- returns --------------------------------------------------------------------------------


@pytest.fixture
def completed(t, skus, supplier, buyer):
    """A cloud order of 3 × A (226.50) paid from the wallet and filled."""
    t.topup(buyer, "1000")
    t.receive(supplier, skus.a, 10)
    order = t.place(buyer, [(skus.a, 3)])
    t.approve(order)
    services.order_pay_from_wallet(order=order, by=buyer.user)
    t.fill(order)
    order.refresh_from_db()
    assert order.status == S.COMPLETED and t.balance(buyer) == Decimal("773.50")
    return order


def test_a_return_reverses_the_stock_and_refunds_the_wallet(t, skus, supplier, buyer, completed):
    order = completed
    with pytest.raises(BusinessError) as exc:
        services.refund_request(order=order, by=buyer.user, note="")
    assert exc.value.field == "note"
    with pytest.raises(Forbidden):
        services.refund_request(order=order, by=supplier.user, note="not mine to ask")
    services.refund_request(order=order, by=buyer.user, note="过敏")
    order.refresh_from_db()
    assert order.status == S.REFUND_REQUESTED
    with pytest.raises(Forbidden):
        services.refund_approve(order=order, by=buyer.user)

    services.refund_approve(order=order, by=supplier.user, note="同意")
    order.refresh_from_db()
    assert order.status == S.REFUNDED
    assert t.on_hand(supplier, skus.a) == 10 and t.on_hand(buyer, skus.a) == 0
    back = StockMove.objects.get(reason=StockReason.RETURN)
    assert (back.from_location, back.to_location, back.quantity) == (t.location(buyer), t.location(supplier), 3)
    assert back.order_line.order == order
    assert t.balance(buyer) == Decimal("1000.00")
    assert t.wallet_moves(buyer)[-1] == ("refund", Decimal("226.50"))
    assert refunded_events(order) == 1
    assert OrderTransition.objects.filter(order=order).last().by == supplier.user
    assert stock_verify() == []
    t.assert_wallet_consistent(buyer)

    # A second approval, or a second request, is refused and doubles nothing.
    with pytest.raises(Conflict):
        services.refund_approve(order=order, by=supplier.user)
    with pytest.raises(Conflict):
        services.refund_request(order=order, by=buyer.user, note="again")
    assert t.balance(buyer) == Decimal("1000.00") and refunded_events(order) == 1
    assert StockMove.objects.filter(reason=StockReason.RETURN).count() == 1


def test_a_return_of_a_transfer_paid_order(t, skus, supplier, buyer):
    t.receive(supplier, skus.a, 10)
    order = t.place(buyer, [(skus.a, 2)])
    t.approve(order)
    payment = services.payment_submit_transfer(order=order, by=buyer.user, screenshot=t.image_upload())
    services.payment_confirm(payment=payment, by=supplier.user)
    t.fill(order)
    services.refund_request(order=order, by=buyer.user, note="破损")
    services.refund_approve(order=order, by=supplier.user)
    assert t.balance(buyer) == Decimal("151.00")
    assert t.on_hand(supplier, skus.a) == 10
    t.assert_wallet_consistent(buyer)


def test_a_return_fails_whole_if_the_units_were_picked_up(t, skus, supplier, buyer, completed):
    order = completed
    services.refund_request(order=order, by=buyer.user, note="不要了")
    # Meanwhile the buyer ships two of the three units home.
    services.pickup_request(agent=buyer, lines=[(skus.a, 2)], by=buyer.user, **ADDRESS)
    before = state(
        order, lambda: t.on_hand(supplier, skus.a), lambda: t.on_hand(buyer, skus.a), lambda: t.balance(buyer)
    )
    with pytest.raises(InsufficientStock) as exc:
        services.refund_approve(order=order, by=supplier.user)
    assert (exc.value.wanted, exc.value.on_hand) == (3, 1)
    after = state(
        order, lambda: t.on_hand(supplier, skus.a), lambda: t.on_hand(buyer, skus.a), lambda: t.balance(buyer)
    )
    assert after == before
    assert before[0] == S.REFUND_REQUESTED and before[-1] == [7, 1, Decimal("773.50")]
    assert refunded_events(order) == 0
    assert stock_verify() == []
    # The seller can still decline it.
    services.refund_decline(order=order, by=supplier.user, note="已提货")
    order.refresh_from_db()
    assert order.status == S.COMPLETED


def test_a_declined_return_goes_back_to_completed(t, skus, supplier, buyer, completed):
    order = completed
    services.refund_request(order=order, by=buyer.user, note="不想要了")
    with pytest.raises(BusinessError) as exc:
        services.refund_decline(order=order, by=supplier.user, note="")
    assert exc.value.field == "note"
    with pytest.raises(Forbidden):
        services.refund_decline(order=order, by=buyer.user, note="self-service")
    services.refund_decline(order=order, by=supplier.user, note="超过七天")
    order.refresh_from_db()
    assert order.status == S.COMPLETED
    assert t.balance(buyer) == Decimal("773.50") and t.on_hand(buyer, skus.a) == 3
    assert refunded_events(order) == 0
    assert list(OrderTransition.objects.filter(order=order).values_list("from_status", "to_status"))[-2:] == [
        (S.COMPLETED, S.REFUND_REQUESTED),
        (S.REFUND_REQUESTED, S.COMPLETED),
    ]
    # The order was completed once: no second completion event.
    assert OutboxEvent.objects.filter(topic="order.completed", key=order.number).count() == 1


def test_a_return_in_upline_mode_moves_own_stock_back(t, brand, skus, supplier, buyer):
    t.set_mode(brand, SupplyMode.NEAREST_HIGHER_UPLINE)
    t.receive(supplier, skus.a, 10, kind=LocationKind.AGENT)
    order = t.paid(buyer, [(skus.a, 4)])
    t.fill(order)
    services.order_confirm_receipt(order=order, by=buyer.user)
    services.refund_request(order=order, by=buyer.user, note="质量问题")
    services.refund_approve(order=order, by=supplier.user)
    assert t.on_hand(supplier, skus.a, LocationKind.AGENT) == 10
    assert t.on_hand(buyer, skus.a, LocationKind.AGENT) == 0
    assert t.balance(buyer) == Decimal("302.00")
    assert stock_verify() == []


def test_a_fulfilled_but_unreceived_order_can_be_returned(t, brand, skus, supplier, buyer):
    t.set_mode(brand, SupplyMode.NEAREST_HIGHER_UPLINE)
    t.receive(supplier, skus.a, 10, kind=LocationKind.AGENT)
    order = t.paid(buyer, [(skus.a, 1)])
    t.fill(order)
    services.refund_request(order=order, by=buyer.user, note="没收到")
    services.refund_approve(order=order, by=supplier.user)
    order.refresh_from_db()
    assert order.status == S.REFUNDED and t.balance(buyer) == Decimal("75.50")


# --- pick-ups -------------------------------------------------------------------------------


def test_a_pickup_leaves_cloud_stock_at_once(t, skus, buyer, boss):
    t.receive(buyer, skus.a, 10)
    t.receive(buyer, skus.b, 5)
    order = services.pickup_request(agent=buyer, lines=[(skus.a, 4), ("B", 5)], by=buyer.user, **ADDRESS)
    assert (order.kind, order.status, order.total, order.seller) == (OrderKind.PICKUP, S.SUBMITTED, 0, None)
    assert (order.ship_name, order.ship_phone, order.ship_address) == (
        ADDRESS["name"],
        ADDRESS["phone"],
        ADDRESS["address"],
    )
    assert t.on_hand(buyer, skus.a) == 6 and t.on_hand(buyer, skus.b) == 0
    moves = list(
        StockMove.objects.filter(reason=StockReason.PICKUP).values_list(
            "from_location__kind", "to_location__kind", "sku__code", "quantity"
        )
    )
    assert moves == [
        (LocationKind.CLOUD, LocationKind.CUSTOMER, "A", 4),
        (LocationKind.CLOUD, LocationKind.CUSTOMER, "B", 5),
    ]
    assert stock_verify() == []

    with pytest.raises(BusinessError) as exc:
        services.pickup_ship(order=order, by=boss, carrier="顺丰", tracking_number=" ")
    assert exc.value.field == "tracking_number"
    with pytest.raises(Forbidden):
        services.pickup_ship(order=order, by=buyer.user, carrier="顺丰", tracking_number="SF1")
    services.pickup_ship(order=order, by=boss, carrier=" 顺丰 ", tracking_number="SF1234567890")
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (S.FULFILLED, "顺丰", "SF1234567890")
    assert order.shipped_at
    with pytest.raises(Conflict):
        services.pickup_ship(order=order, by=boss, carrier="顺丰", tracking_number="SF2")

    services.pickup_delivered(order=order, by=buyer.user)
    order.refresh_from_db()
    assert order.status == S.COMPLETED and order.delivered_at
    assert list(OrderTransition.objects.filter(order=order).values_list("to_status", "by")) == [
        (S.SUBMITTED, buyer.user_id),
        (S.FULFILLED, boss.pk),
        (S.COMPLETED, buyer.user_id),
    ]
    assert t.on_hand(buyer, skus.a) == 6
    assert stock_verify() == []


def test_staff_can_mark_a_pickup_delivered(t, skus, buyer, boss, make_agent):
    t.receive(buyer, skus.a, 1)
    order = services.pickup_request(agent=buyer, lines=[(skus.a, 1)], by=buyer.user, **ADDRESS)
    services.pickup_ship(order=order, by=boss, carrier="EMS", tracking_number="E1")
    with pytest.raises(Forbidden):
        services.pickup_delivered(order=order, by=make_agent("vip").user)
    services.pickup_delivered(order=order, by=boss)
    order.refresh_from_db()
    assert order.status == S.COMPLETED


def test_a_pickup_larger_than_cloud_stock_creates_nothing(t, skus, buyer):
    t.receive(buyer, skus.a, 3)
    t.receive(buyer, skus.b, 9)
    with pytest.raises(InsufficientStock) as exc:
        services.pickup_request(agent=buyer, lines=[(skus.b, 2), (skus.a, 4)], by=buyer.user, **ADDRESS)
    assert skus.a.name in str(exc.value) and t.location(buyer).name in str(exc.value)
    assert not Order.objects.exists()
    assert t.on_hand(buyer, skus.a) == 3 and t.on_hand(buyer, skus.b) == 9
    assert not StockMove.objects.filter(reason=StockReason.PICKUP).exists()
    assert stock_verify() == []


def test_a_pickup_needs_an_address_and_is_only_for_ones_own_stock(t, skus, buyer, supplier):
    t.receive(buyer, skus.a, 3)
    for field in ("name", "phone", "address"):
        with pytest.raises(BusinessError) as exc:
            services.pickup_request(agent=buyer, lines=[(skus.a, 1)], by=buyer.user, **{**ADDRESS, field: " "})
        assert exc.value.field == field
    with pytest.raises(Forbidden):
        services.pickup_request(agent=buyer, lines=[(skus.a, 1)], by=supplier.user, **ADDRESS)
    with pytest.raises(BusinessError):
        services.pickup_request(agent=buyer, lines=[], by=buyer.user, **ADDRESS)
    assert not Order.objects.exists() and t.on_hand(buyer, skus.a) == 3


def test_a_pickup_cannot_be_paid_or_filled(t, skus, buyer, boss):
    t.receive(buyer, skus.a, 3)
    order = services.pickup_request(agent=buyer, lines=[(skus.a, 1)], by=buyer.user, **ADDRESS)
    with pytest.raises(Conflict):
        services.order_fill(order=order, by=boss)
    with pytest.raises(Conflict):
        services.order_pay_from_wallet(order=order, by=buyer.user)
    assert t.on_hand(buyer, skus.a) == 2


def test_cancelling_a_pickup_gives_the_units_back(t, skus, buyer):
    t.receive(buyer, skus.a, 5)
    order = services.pickup_request(agent=buyer, lines=[(skus.a, 5)], by=buyer.user, **ADDRESS)
    try:
        services.order_cancel(order=order, by=buyer.user, note="地址错了")
    except Conflict:
        pass  # refusing is fine too
    order.refresh_from_db()
    if order.status == S.CANCELLED:
        assert t.on_hand(buyer, skus.a) == 5
    else:
        assert order.status == S.SUBMITTED and t.on_hand(buyer, skus.a) == 0
    assert stock_verify() == []


# --- a consumer's return ----------------------------------------------------------------------


def test_the_seller_records_a_consumers_return_and_the_units_come_back(t, skus, supplier, buyer):
    """A consumer has no login: they ask the agent, who records the return; the brand's staff or the
    agent approves it, the units go back to the agent's stock and the money is paid back by hand."""
    t.receive(buyer, skus.a, 5)
    order = services.retail_order_submit(
        seller=buyer, name="陈女士", phone="13900002222", address="杭州市西湖区 1 号", lines=[(skus.a, 2)]
    )
    services.payment_credit_from_provider(notice=t.notice(order))
    services.order_fill(order=order, by=buyer.user)
    services.order_mark_delivered(order=order, by=buyer.user)
    assert t.on_hand(buyer, skus.a) == 3
    with pytest.raises(Forbidden):  # another agent cannot
        services.refund_request(order=order, by=supplier.user, note="顾客要退")
    services.refund_request(order=order, by=buyer.user, note="顾客过敏，要求退货")
    services.refund_approve(order=order, by=buyer.user)
    order.refresh_from_db()
    assert order.status == S.REFUNDED and t.on_hand(buyer, skus.a) == 5
    assert refunded_events(order) == 1
    assert stock_verify() == []
    # Paid online: the brand held the money for the seller and pays it back out of brand cash.
    assert t.wallet_moves(buyer) == [("payment", order.total), ("refund", -order.total)]
    t.assert_wallet_consistent(buyer)
