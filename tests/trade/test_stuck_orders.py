"""M7 item 9: a paid order nobody can fill. It is stuck after the brand's ``stuck_after_hours``;
brand staff who decide orders take a way out — the company fills it, it is reassigned to the
company, or it is refunded — each audited, with money and stock balanced; M7 item 10: a
cancelled paid order tells the other side who paid back what."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.models import OutboxEvent, SupplyMode
from weishang.ledger.models import JournalEntry
from weishang.ledger.selectors import ledger_verify
from weishang.trade import selectors, services
from weishang.trade.models import (
    NoticeKind,
    Order,
    OrderNotice,
    OrderStatus,
    OrderTransition,
)
from weishang.trade.stock import InsufficientStock, stock_verify

pytestmark = pytest.mark.django_db

S = OrderStatus


def age(order: Order, hours: int) -> Order:
    """The order was paid ``hours`` ago (time passing, as the clock would)."""
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(hours=hours))
    order.refresh_from_db()
    return order


@pytest.fixture
def decider(make_staff):
    """Brand staff who decide orders (owner, operations): change orders and see payments."""
    return make_staff("change_order", "view_payment")


@pytest.fixture
def transfer_paid(t, skus, supplier, buyer):
    """3 × A (226.50) paid by transfer to the supplier, who holds none of it."""
    order = t.place(buyer, [(skus.a, 3)])
    t.approve(order)
    payment = services.payment_submit_transfer(order=order, by=buyer.user, screenshot=t.image_upload())
    services.payment_confirm(payment=payment, by=supplier.user)
    order.refresh_from_db()
    assert order.status == S.PAID and order.seller == supplier
    return order


def test_an_order_is_stuck_only_after_the_brands_hours(t, brand, transfer_paid):
    assert not services.order_is_stuck(transfer_paid)
    assert not services.order_is_stuck(age(transfer_paid, 47))
    assert services.order_is_stuck(age(transfer_paid, 48))
    brand.stuck_after_hours = 72
    brand.save()
    assert not services.order_is_stuck(transfer_paid)


def test_the_fill_fails_and_the_order_waits_stuck(t, skus, supplier, transfer_paid):
    with pytest.raises(InsufficientStock):
        t.fill(transfer_paid)
    transfer_paid.refresh_from_db()
    assert transfer_paid.status == S.PAID


def test_the_company_fills_a_stuck_order_money_rerouted_and_stock_moved(
    t, skus, supplier, buyer, decider, transfer_paid
):
    t.receive(None, skus.a, 10)
    age(transfer_paid, 50)
    services.order_company_fill(order=transfer_paid, by=decider, note="上级无货，公司代发")
    transfer_paid.refresh_from_db()
    assert transfer_paid.status == S.COMPLETED and transfer_paid.seller is None
    # The units came from the warehouse into the buyer's cloud stock.
    assert t.on_hand(None, skus.a) == 7 and t.on_hand(buyer, skus.a) == 3
    # The supplier kept the buyer's transfer: they owe it to the brand now (their wallet below zero).
    assert t.balance(supplier) == Decimal("-226.50")
    entry = JournalEntry.objects.get(kind="order_reassign", reference=f"order:{transfer_paid.number}")
    assert entry.idempotency_key == f"reassign:{transfer_paid.number}"
    # Audited: who, and why.
    reassigned = OrderTransition.objects.filter(order=transfer_paid, from_status=S.PAID, to_status=S.PAID).get()
    assert reassigned.by == decider and "上级无货，公司代发" in reassigned.note
    assert OutboxEvent.objects.filter(topic="order.reassigned", key=transfer_paid.number).exists()
    # Both sides are told.
    assert set(
        OrderNotice.objects.filter(order=transfer_paid, kind=NoticeKind.REASSIGNED).values_list("agent", flat=True)
    ) == {supplier.pk, buyer.pk}
    assert ledger_verify() == [] and stock_verify() == []


def test_a_company_fill_with_an_empty_warehouse_changes_nothing(t, skus, supplier, decider, transfer_paid):
    age(transfer_paid, 50)
    with pytest.raises(InsufficientStock):
        services.order_company_fill(order=transfer_paid, by=decider, note="公司代发")
    transfer_paid.refresh_from_db()
    assert transfer_paid.seller == supplier and transfer_paid.status == S.PAID
    assert t.balance(supplier) == Decimal("0.00")
    assert not JournalEntry.objects.filter(kind="order_reassign").exists()


def test_reassigned_then_refunded_the_brand_pays_back(t, skus, supplier, buyer, decider, make_agent, brand):
    t.topup(buyer, "500")
    order = t.place(buyer, [(skus.a, 2)])
    t.approve(order)
    services.order_pay_from_wallet(order=order, by=buyer.user)
    assert t.balance(supplier) == Decimal("151.00")
    age(order, 100)
    services.order_reassign_to_company(order=order, by=decider, note="上级联系不上")
    order.refresh_from_db()
    assert order.seller is None and order.status == S.PAID
    assert t.balance(supplier) == Decimal("0.00")
    # Still stuck (paid long ago): the brand now refunds it out of brand sales.
    services.order_stuck_refund(order=order, by=decider, note="退款给代理")
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert t.balance(buyer) == Decimal("500.00") and t.balance(supplier) == Decimal("0.00")
    assert ledger_verify() == [] and stock_verify() == []


def test_the_stuck_refund_tells_both_sides_who_paid_back_what(t, supplier, buyer, decider, transfer_paid):
    age(transfer_paid, 50)
    services.order_stuck_refund(order=transfer_paid, by=decider, note="无货")
    assert t.balance(buyer) == Decimal("226.50") and t.balance(supplier) == Decimal("-226.50")
    texts = dict(OrderNotice.objects.filter(order=transfer_paid).values_list("agent", "text"))
    assert set(texts) == {buyer.pk, supplier.pk}
    # In the brand's language: the amount, from whose wallet, to whose.
    assert "¥226.50" in texts[buyer.pk]
    assert texts[buyer.pk].index(supplier.real_name) < texts[buyer.pk].index(buyer.real_name)
    assert "无货" in texts[supplier.pk]
    assert OrderTransition.objects.filter(order=transfer_paid, to_status=S.CANCELLED, by=decider, note="无货").exists()


@pytest.mark.parametrize("way", ["company_fill", "reassign", "refund"])
def test_a_way_out_needs_a_stuck_order_a_reason_and_a_deciding_role(
    t, skus, supplier, make_staff, make_agent, decider, transfer_paid, way
):
    run = {
        "company_fill": lambda **kw: services.order_company_fill(**kw),
        "reassign": lambda **kw: services.order_reassign_to_company(**kw),
        "refund": lambda **kw: services.order_stuck_refund(**kw),
    }[way]
    t.receive(None, skus.a, 10)
    with pytest.raises(Conflict):  # paid just now: not stuck
        run(order=transfer_paid, by=decider, note="x")
    age(transfer_paid, 60)
    warehouse = make_staff("change_order")  # may fill company orders, may not re-route money
    for refused in (warehouse, supplier.user, make_agent("vip").user):
        with pytest.raises(Forbidden):
            run(order=transfer_paid, by=refused, note="x")
    with pytest.raises(BusinessError):
        run(order=transfer_paid, by=decider, note="  ")
    transfer_paid.refresh_from_db()
    assert transfer_paid.status == S.PAID and transfer_paid.seller == supplier
    assert ledger_verify() == []


def test_a_company_order_is_not_reassigned_but_can_be_filled(t, brand, skus, buyer, decider):
    t.set_mode(brand, SupplyMode.COMPANY)
    t.receive(None, skus.a, 5)
    order = age(t.paid(buyer, [(skus.a, 2)]), 49)
    with pytest.raises(Conflict):
        services.order_reassign_to_company(order=order, by=decider, note="x")
    services.order_company_fill(order=order, by=decider, note="补发")
    order.refresh_from_db()
    assert order.status == S.FULFILLED  # shipped from the warehouse: the buyer confirms receipt


def test_a_physical_order_filled_by_the_company_ships_from_the_warehouse(t, brand, skus, supplier, buyer, decider):
    from weishang.trade.models import LocationKind

    t.set_mode(brand, SupplyMode.NEAREST_HIGHER_UPLINE)
    t.receive(None, skus.a, 5)
    order = age(t.paid(buyer, [(skus.a, 2)]), 49)
    services.order_company_fill(order=order, by=decider, note="公司发货", carrier="顺丰", tracking_number="SF1")
    order.refresh_from_db()
    assert order.status == S.FULFILLED and order.tracking_number == "SF1"
    assert t.on_hand(None, skus.a) == 3 and t.on_hand(buyer, skus.a, LocationKind.AGENT) == 2
    assert ledger_verify() == [] and stock_verify() == []


# --- cancel tells the other side ------------------------------------------------------------


def test_the_buyer_cancels_and_the_seller_is_told_until_they_open_it(t, skus, supplier, buyer, transfer_paid):
    services.order_cancel(order=transfer_paid, by=buyer.user, note="不要了")
    notices = list(selectors.unseen_notices(agent=supplier))
    assert len(notices) == 1 and notices[0].order == transfer_paid
    assert "¥226.50" in notices[0].text and "不要了" in notices[0].text
    assert not selectors.unseen_notices(agent=buyer).exists()  # the buyer did it: nothing to tell them
    services.order_notices_seen(agent=supplier, order=transfer_paid)
    assert not selectors.unseen_notices(agent=supplier).exists()


def test_an_unpaid_cancel_says_no_money_moved(t, skus, supplier, buyer):
    order = t.place(buyer, [(skus.a, 1)])
    assert services.cancel_refund(order) is None
    services.order_cancel(order=order, by=buyer.user)
    notice = selectors.unseen_notices(agent=supplier).get()
    assert "¥" not in notice.text


def test_cancel_refund_states_amount_payer_and_payee(t, supplier, buyer, transfer_paid):
    refund = services.cancel_refund(transfer_paid)
    assert refund["amount"] == Decimal("226.50") and refund["payer"] == supplier and refund["payee"] == buyer


def test_a_stuck_shop_order_paid_through_wechat_pay_is_refunded_from_the_seller(t, skus, supplier, decider):
    """A consumer paid a shop order through WeChat Pay (money in the brand's account, credited to the
    seller's wallet); the seller never fills it. It is stuck; the brand refunds it: the seller's
    wallet pays it back to brand cash (refunded at the provider), and the seller is told so. The
    company does not take a shop order over."""
    from weishang.trade.models import Customer

    order = services.retail_order_submit(
        seller=supplier, name="陈女士", phone="13900008888", address="上海", lines=[(skus.a, 1)]
    )
    t.pay(order)
    assert order.status == S.PAID and Customer.objects.get(phone="13900008888").bound_agent == supplier
    assert not services.order_is_stuck(age(order, 47))
    assert services.order_is_stuck(age(order, 48))
    with pytest.raises(Conflict):
        services.order_company_fill(order=order, by=decider, note="公司代发")
    paid_in = t.balance(supplier)
    services.order_stuck_refund(order=order, by=decider, note="一直未发货")
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert t.balance(supplier) == paid_in - order.total
    assert Customer.objects.get(phone="13900008888").bound_agent is None
    text = OrderNotice.objects.get(order=order, agent=supplier).text
    assert f"消费者通过微信支付付的 ¥{order.total} 由品牌原路退还" in text and "一直未发货" in text
    assert ledger_verify() == [] and stock_verify() == []
