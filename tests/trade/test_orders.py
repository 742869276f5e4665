"""Restock and entry orders: routing, price snapshot, purchase rules, idempotency, the entry
order that activates an applicant, the status history, and who may do what."""

from __future__ import annotations

import inspect
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from weishang.catalog.models import LevelPrice
from weishang.channel.models import Agent, AgentStatus, AgentTrail
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.models import OutboxEvent, SupplyMode
from weishang.trade import services
from weishang.trade.models import LocationKind, Order, OrderKind, OrderStatus, OrderTransition

pytestmark = pytest.mark.django_db

S = OrderStatus


def history(order) -> list[tuple[str, str, int | None]]:
    return list(OrderTransition.objects.filter(order=order).values_list("from_status", "to_status", "by"))


# --- routing --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [SupplyMode.CLOUD, SupplyMode.NEAREST_HIGHER_UPLINE])
def test_cloud_and_upline_orders_go_to_the_buyers_supplier(t, brand, skus, supplier, buyer, mode):
    t.set_mode(brand, mode)
    order = t.place(buyer, [(skus.a, 2)])
    assert order.seller == supplier
    assert order.supply_mode == mode
    assert order.status == S.SUBMITTED and order.kind == OrderKind.RESTOCK


def test_company_orders_have_no_seller_agent(t, brand, skus, supplier, buyer):
    t.set_mode(brand, SupplyMode.COMPANY)
    order = t.place(buyer, [(skus.a, 2)])
    assert order.seller is None
    assert order.supply_mode == SupplyMode.COMPANY


def test_an_agent_without_an_active_supplier_buys_from_the_company(t, brand, skus, make_agent):
    top = make_agent("partner")
    assert top.supplier_id is None
    assert t.place(top, [(skus.a, 100)]).seller is None


def test_the_default_brand_routes_by_cloud_stock(t, skus, make_agent):
    """No Brand row yet: brand_get() gives the default (cloud)."""
    upline = make_agent("general")
    buyer = make_agent("vip", referrer=upline)
    order = t.place(buyer, [(skus.a, 1)])
    assert (order.seller, order.supply_mode) == (upline, SupplyMode.CLOUD)


ON_PG = connection.vendor == "postgresql"


def test_order_submit_works_on_this_database(skus, supplier, buyer):
    order = services.order_submit(buyer=buyer, lines=[(skus.a, 1)], by=buyer.user)
    assert order.seller == supplier and order.status == S.SUBMITTED


# --- prices ---------------------------------------------------------------------------------


def test_prices_are_the_buyers_level_prices_at_submission(t, skus, buyer, levels):
    order = t.place(buyer, [(skus.a, 3), (skus.b, 7)])
    lines = {line.sku.code: line for line in order.lines.all()}
    assert lines["A"].unit_price == Decimal("75.50")  # the 特约 override
    assert lines["B"].unit_price == Decimal("26.66")  # 33.33 × 0.80 = 26.664, half up
    assert lines["A"].line_total == Decimal("226.50")
    assert lines["B"].line_total == Decimal("186.62")
    assert order.total == Decimal("413.12")
    order.refresh_from_db()
    assert order.total == Decimal("413.12") and isinstance(order.total, Decimal)

    # The price list changes afterwards: the submitted order keeps its prices and total.
    LevelPrice.objects.filter(sku=skus.a, level=levels["vip"]).update(price=Decimal("60.00"))
    LevelPrice.objects.create(sku=skus.b, level=levels["vip"], price=Decimal("20.00"))
    order.refresh_from_db()
    assert order.total == Decimal("413.12")
    assert sorted(order.lines.values_list("unit_price", flat=True)) == [Decimal("26.66"), Decimal("75.50")]
    # A new order gets the new prices.
    again = t.place(buyer, [(skus.a, 3), (skus.b, 7)])
    assert again.total == Decimal("320.00")


def test_lines_for_the_same_sku_are_merged(t, skus, buyer):
    order = t.place(buyer, [(skus.a, 1), ("A", 2)])
    assert list(order.lines.values_list("sku__code", "quantity")) == [("A", 3)]
    assert order.total == Decimal("226.50")


def test_a_client_cannot_set_a_price(skus, buyer):
    params = inspect.signature(services.order_submit).parameters
    assert not {"price", "prices", "unit_price", "total"} & set(params)
    with pytest.raises(TypeError):
        services.order_submit(buyer=buyer, lines=[(skus.a, 1)], by=buyer.user, unit_price=Decimal("0.01"))
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "lines,field",
    [
        ([], "lines"),
        ([("A", 0)], "lines[0].quantity"),
        ([("A", -2)], "lines[0].quantity"),
        ([("A", "two")], "lines[0].quantity"),
        ([("NOPE", 1)], "lines[0].sku"),
    ],
)
def test_bad_lines_are_refused(t, skus, buyer, lines, field):
    with pytest.raises(BusinessError) as exc:
        t.place(buyer, lines)
    assert exc.value.field == field
    assert not Order.objects.exists()


def test_an_inactive_sku_cannot_be_ordered(t, skus, buyer):
    skus.b.active = False
    skus.b.save()
    with pytest.raises(BusinessError) as exc:
        t.place(buyer, [(skus.a, 1), (skus.b, 1)])
    assert exc.value.field == "lines[1].sku"
    assert not Order.objects.exists()


# --- purchase rules -------------------------------------------------------------------------


def test_per_sku_minimum_quantity(t, skus, buyer):
    skus.a.min_order_qty = 3
    skus.a.save()
    with pytest.raises(BusinessError) as exc:
        t.place(buyer, [(skus.a, 2)])
    assert exc.value.field == "lines" and skus.a.name in str(exc.value)
    assert not Order.objects.exists()
    assert t.place(buyer, [(skus.a, 3)]).total == Decimal("226.50")


def test_level_minimum_units_per_restock(t, skus, make_agent, supplier):
    city = make_agent("city", referrer=supplier)  # 市代: at least 5 units per restock order
    with pytest.raises(BusinessError) as exc:
        t.place(city, [(skus.a, 2), (skus.b, 2)])
    assert exc.value.field == "lines"
    assert not Order.objects.exists()
    assert t.place(city, [(skus.a, 3), (skus.b, 2)]).status == S.SUBMITTED


def test_at_most_per_order(t, skus, buyer):
    skus.a.max_per_order = 10
    skus.a.save()
    with pytest.raises(BusinessError):
        t.place(buyer, [(skus.a, 11)])
    with pytest.raises(BusinessError):
        t.place(buyer, [(skus.a, 6), (skus.a, 5)])  # merged lines count together
    assert not Order.objects.exists()
    t.place(buyer, [(skus.a, 10)])


def _day_start():
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def _backdate(order, when):
    Order.objects.filter(pk=order.pk).update(submitted_at=when, created_at=when)


def test_per_day_limit_counts_live_orders_only(t, skus, buyer, make_agent, supplier):
    skus.a.max_per_day = 10
    skus.a.save()
    first = t.place(buyer, [(skus.a, 6)])
    with pytest.raises(BusinessError) as exc:
        t.place(buyer, [(skus.a, 5)])
    assert exc.value.field == "lines" and "6" in str(exc.value)
    second = t.place(buyer, [(skus.a, 4)])  # exactly up to the limit
    with pytest.raises(BusinessError):
        t.place(buyer, [(skus.a, 1)])
    # A cancelled order frees its units; a rejected one too.
    services.order_cancel(order=first, by=buyer.user)
    third = t.place(buyer, [(skus.a, 6)])
    services.order_reject(order=third, by=supplier.user, note="out of season")
    t.place(buyer, [(skus.a, 6)])
    # The limit is per agent: someone else is not affected.
    other = make_agent("vip", referrer=supplier)
    t.place(other, [(skus.a, 10)])
    assert second.status == S.SUBMITTED


def test_per_day_limit_does_not_count_yesterday(t, skus, buyer):
    skus.a.max_per_day = 10
    skus.a.save()
    _backdate(t.place(buyer, [(skus.a, 10)]), _day_start() - timedelta(minutes=1))
    t.place(buyer, [(skus.a, 10)])
    with pytest.raises(BusinessError):
        t.place(buyer, [(skus.a, 1)])


def test_per_week_limit(t, skus, buyer):
    skus.a.max_per_week = 10
    skus.a.save()
    day = _day_start()
    week_start = day - timedelta(days=day.weekday())
    _backdate(t.place(buyer, [(skus.a, 10)]), week_start - timedelta(minutes=1))  # last week
    this_week = t.place(buyer, [(skus.a, 7)])
    _backdate(this_week, week_start + timedelta(minutes=1))
    with pytest.raises(BusinessError):
        t.place(buyer, [(skus.a, 4)])
    t.place(buyer, [(skus.a, 3)])


def test_per_month_limit(t, skus, buyer):
    skus.a.max_per_month = 10
    skus.a.save()
    month_start = _day_start().replace(day=1)
    _backdate(t.place(buyer, [(skus.a, 10)]), month_start - timedelta(minutes=1))  # last month
    this_month = t.place(buyer, [(skus.a, 8)])
    _backdate(this_month, month_start + timedelta(minutes=1))
    with pytest.raises(BusinessError):
        t.place(buyer, [(skus.a, 3)])
    services.order_cancel(order=this_month, by=buyer.user)
    t.place(buyer, [(skus.a, 10)])


def test_a_pickup_does_not_count_against_purchase_limits(t, skus, buyer):
    skus.a.max_per_day = 10
    skus.a.save()
    t.receive(buyer, skus.a, 10)
    services.pickup_request(
        agent=buyer, lines=[(skus.a, 10)], by=buyer.user, name="王芳", phone="13800000000", address="上海市徐汇区1号"
    )
    t.place(buyer, [(skus.a, 10)])  # nothing was bought today


# --- idempotency ----------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_order(t, skus, buyer, make_agent, supplier):
    first = t.place(buyer, [(skus.a, 2)], idempotency_key="k-1")
    again = t.place(buyer, [(skus.a, 2)], idempotency_key="k-1")
    assert again.pk == first.pk
    assert Order.objects.count() == 1 and OrderTransition.objects.count() == 1
    # Even a retry with other lines (the client resent a stale form) does not make a second order.
    assert t.place(buyer, [(skus.b, 9)], idempotency_key="k-1").pk == first.pk
    # Another key is another order; the same key of another buyer is theirs.
    assert t.place(buyer, [(skus.a, 2)], idempotency_key="k-2").pk != first.pk
    other = make_agent("vip", referrer=supplier)
    assert t.place(other, [(skus.a, 2)], idempotency_key="k-1").buyer == other
    assert Order.objects.count() == 3


def test_a_retry_after_the_order_moved_on_still_returns_it(t, skus, buyer):
    first = t.place(buyer, [(skus.a, 2)], idempotency_key="k-1")
    t.approve(first)
    again = t.place(buyer, [(skus.a, 2)], idempotency_key="k-1")
    assert again.pk == first.pk and again.status == S.AWAITING_PAYMENT


# --- entry orders ---------------------------------------------------------------------------


def test_entry_order_activates_the_applicant(t, skus, supplier, make_agent):
    applicant = make_agent("vip", referrer=supplier, entry_paid=False)
    assert applicant.status == AgentStatus.APPLICANT and applicant.entry_due == Decimal("298.00")
    t.receive(supplier, skus.a, 50)

    with pytest.raises(BusinessError) as exc:  # 3 × 75.50 = 226.50 < 298
        t.place(applicant, [(skus.a, 3)], kind=OrderKind.ENTRY)
    assert exc.value.field == "lines"
    with pytest.raises(Forbidden):
        t.place(applicant, [(skus.a, 10)])  # no restock before the entry order
    assert not Order.objects.exists()

    order = t.place(applicant, [(skus.a, 4)], kind=OrderKind.ENTRY)  # 302.00
    assert (order.kind, order.total, order.seller) == (OrderKind.ENTRY, Decimal("302.00"), supplier)
    t.approve(order)
    t.pay(order)
    applicant.refresh_from_db()
    assert applicant.status == AgentStatus.APPLICANT  # paid is not enough: completed is

    t.fill(order)  # cloud stock: completed at once
    order.refresh_from_db()
    applicant.refresh_from_db()
    assert order.status == S.COMPLETED
    assert applicant.status == AgentStatus.ACTIVE and applicant.entry_due == Decimal("0")
    trail = AgentTrail.objects.get(agent=applicant, kind="status")
    assert (trail.old_value, trail.new_value, trail.changed_by_id) == ("applicant", "active", supplier.user_id)
    assert order.number in trail.reason
    assert OutboxEvent.objects.filter(topic="order.completed", key=order.number).count() == 1
    assert t.on_hand(applicant, skus.a) == 4

    # Now an active agent: restock works, and no second entry order is owed.
    t.place(Agent.objects.get(pk=applicant.pk), [(skus.a, 1)])
    with pytest.raises(Conflict):
        t.place(Agent.objects.get(pk=applicant.pk), [(skus.a, 4)], kind=OrderKind.ENTRY)


def test_entry_order_in_upline_mode_activates_on_receipt(t, brand, skus, supplier, make_agent):
    t.set_mode(brand, SupplyMode.NEAREST_HIGHER_UPLINE)
    applicant = make_agent("vip", referrer=supplier, entry_paid=False)
    t.receive(supplier, skus.a, 10, kind=LocationKind.AGENT)
    order = t.place(applicant, [(skus.a, 4)], kind=OrderKind.ENTRY)
    t.approve(order)
    t.pay(order)
    t.fill(order, carrier="顺丰", tracking_number="SF123")
    applicant.refresh_from_db()
    assert applicant.status == AgentStatus.APPLICANT
    services.order_confirm_receipt(order=order, by=applicant.user)
    applicant.refresh_from_db()
    assert applicant.status == AgentStatus.ACTIVE and applicant.entry_due == 0


def test_an_active_agent_owes_no_entry_order(t, skus, buyer):
    with pytest.raises(Conflict):
        t.place(buyer, [(skus.a, 4)], kind=OrderKind.ENTRY)
    with pytest.raises(BusinessError):
        t.place(buyer, [(skus.a, 4)], kind=OrderKind.PICKUP)  # placed through pickup_request
    assert not Order.objects.exists()


def test_a_suspended_agent_cannot_restock(t, skus, buyer):
    from weishang.channel import services as channel_services

    channel_services.agent_change_status(agent=buyer, action="suspend", reason="test")
    with pytest.raises(Forbidden):
        t.place(Agent.objects.get(pk=buyer.pk), [(skus.a, 1)])


# --- status history -------------------------------------------------------------------------


def test_every_transition_is_recorded_with_who(t, skus, supplier, buyer):
    t.receive(supplier, skus.a, 10)
    order = t.place(buyer, [(skus.a, 2)])
    services.order_approve(order=order, by=supplier.user)
    payment = services.payment_submit_transfer(order=order, by=buyer.user, screenshot=t.image_upload())
    services.payment_confirm(payment=payment, by=supplier.user)
    services.order_fill(order=order, by=supplier.user)
    b, s = buyer.user_id, supplier.user_id
    assert history(order) == [
        (S.DRAFT, S.SUBMITTED, b),
        (S.SUBMITTED, S.APPROVED, s),
        (S.APPROVED, S.AWAITING_PAYMENT, s),
        (S.AWAITING_PAYMENT, S.PAID, s),
        (S.PAID, S.FULFILLED, s),
        (S.FULFILLED, S.COMPLETED, s),
    ]
    order.refresh_from_db()
    assert order.submitted_at and order.paid_at and order.completed_at
    assert order.submitted_at <= order.paid_at <= order.completed_at


def test_reject_needs_a_reason(t, skus, supplier, buyer):
    order = t.place(buyer, [(skus.a, 2)])
    with pytest.raises(BusinessError) as exc:
        services.order_reject(order=order, by=supplier.user, note="  ")
    assert exc.value.field == "note"
    services.order_reject(order=order, by=supplier.user, note="缺货")
    order.refresh_from_db()
    assert order.status == S.REJECTED
    assert history(order)[-1] == (S.SUBMITTED, S.REJECTED, supplier.user_id)
    assert OrderTransition.objects.get(order=order, to_status=S.REJECTED).note == "缺货"


def _snapshot(order):
    order.refresh_from_db()
    return order.status, OrderTransition.objects.filter(order=order).count(), OutboxEvent.objects.count()


@pytest.mark.parametrize(
    "stage,action",
    [
        ("submitted", "fill"),
        ("submitted", "confirm_receipt"),
        ("submitted", "pay_from_wallet"),
        ("submitted", "refund_request"),
        ("awaiting_payment", "approve"),
        ("awaiting_payment", "reject"),
        ("awaiting_payment", "fill"),
        ("paid", "approve"),
        ("paid", "confirm_receipt"),
        ("paid", "refund_request"),
        ("paid", "pay_from_wallet"),
        ("completed", "cancel"),
        ("completed", "fill"),
        ("completed", "refund_approve"),
        ("completed", "refund_decline"),
        ("cancelled", "approve"),
        ("cancelled", "cancel"),
        ("rejected", "approve"),
    ],
)
def test_wrong_status_actions_are_refused_and_change_nothing(t, skus, supplier, buyer, stage, action):
    t.receive(supplier, skus.a, 10)
    t.topup(buyer, "1000")
    order = t.place(buyer, [(skus.a, 2)])
    if stage == "cancelled":
        services.order_cancel(order=order, by=buyer.user)
    if stage == "rejected":
        services.order_reject(order=order, by=supplier.user, note="no")
    if stage in ("awaiting_payment", "paid", "completed"):
        t.approve(order)
    if stage in ("paid", "completed"):
        t.pay(order)
    if stage == "completed":
        t.fill(order)
    before, wallet_before = _snapshot(order), t.balance(buyer)
    actions = {
        "approve": lambda: services.order_approve(order=order, by=supplier.user),
        "reject": lambda: services.order_reject(order=order, by=supplier.user, note="no"),
        "fill": lambda: services.order_fill(order=order, by=supplier.user),
        "confirm_receipt": lambda: services.order_confirm_receipt(order=order, by=buyer.user),
        "pay_from_wallet": lambda: services.order_pay_from_wallet(order=order, by=buyer.user),
        "refund_request": lambda: services.refund_request(order=order, by=buyer.user, note="why"),
        "refund_approve": lambda: services.refund_approve(order=order, by=supplier.user),
        "refund_decline": lambda: services.refund_decline(order=order, by=supplier.user, note="no"),
        "cancel": lambda: services.order_cancel(order=order, by=buyer.user),
    }
    with pytest.raises(Conflict):
        actions[action]()
    assert _snapshot(order) == before
    assert t.balance(buyer) == wallet_before
    assert t.on_hand(supplier, skus.a) == (8 if stage == "completed" else 10)


# --- who may act ----------------------------------------------------------------------------


def test_only_the_seller_approves_fills_or_rejects(t, skus, supplier, buyer, make_agent, make_staff):
    t.receive(supplier, skus.a, 10)
    stranger = make_agent("general")
    clerk = make_staff()  # staff without the permission
    outsider = make_staff("change_order", is_staff=False)  # the permission but no staff flag
    order = t.place(buyer, [(skus.a, 2)])
    for user in (stranger.user, buyer.user, clerk, outsider):
        with pytest.raises(Forbidden):
            services.order_approve(order=order, by=user)
        with pytest.raises(Forbidden):
            services.order_reject(order=order, by=user, note="no")
    assert _snapshot(order)[:2] == (S.SUBMITTED, 1)

    t.approve(order)
    t.pay(order)
    for user in (stranger.user, buyer.user, clerk):
        with pytest.raises(Forbidden):
            services.order_fill(order=order, by=user)
    assert _snapshot(order)[:2] == (S.PAID, 4)
    assert t.on_hand(supplier, skus.a) == 10 and t.on_hand(buyer, skus.a) == 0


def test_brand_staff_handle_company_orders(t, brand, skus, supplier, buyer, make_staff):
    t.set_mode(brand, SupplyMode.COMPANY)
    clerk = make_staff("change_order")
    t.receive(None, skus.a, 10)
    order = t.place(buyer, [(skus.a, 3)])
    with pytest.raises(Forbidden):  # the buyer's upline has nothing to do with a company order
        services.order_approve(order=order, by=supplier.user)
    services.order_approve(order=order, by=clerk)
    t.pay(order)
    with pytest.raises(Forbidden):
        services.order_fill(order=order, by=supplier.user)
    services.order_fill(order=order, by=clerk, carrier="顺丰", tracking_number="SF0001")
    order.refresh_from_db()
    assert order.status == S.FULFILLED and order.tracking_number == "SF0001" and order.shipped_at
    assert t.on_hand(None, skus.a) == 7 and t.on_hand(buyer, skus.a, LocationKind.AGENT) == 3
    with pytest.raises(Forbidden):
        services.order_confirm_receipt(order=order, by=clerk)  # only the buyer confirms receipt
    services.order_confirm_receipt(order=order, by=buyer.user)
    order.refresh_from_db()
    assert order.status == S.COMPLETED and order.delivered_at
    assert history(order)[1:3] == [(S.SUBMITTED, S.APPROVED, clerk.pk), (S.APPROVED, S.AWAITING_PAYMENT, clerk.pk)]


def test_only_the_buyer_or_seller_cancels(t, skus, supplier, buyer, make_agent):
    order = t.place(buyer, [(skus.a, 2)])
    with pytest.raises(Forbidden):
        services.order_cancel(order=order, by=make_agent("vip", referrer=supplier).user)
    services.order_cancel(order=order, by=supplier.user, note="duplicate")
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert history(order)[-1] == (S.SUBMITTED, S.CANCELLED, supplier.user_id)


def test_pickup_delivered_is_only_for_pickups(t, brand, skus, supplier, buyer, boss):
    """Completing a restock order through the pick-up path would skip _complete(): no
    order.completed event and no activation of an applicant. It is refused."""
    t.set_mode(brand, SupplyMode.NEAREST_HIGHER_UPLINE)
    t.receive(supplier, skus.a, 10, kind=LocationKind.AGENT)
    order = t.paid(buyer, [(skus.a, 2)])
    t.fill(order)
    before = _snapshot(order)
    for user in (buyer.user, boss):
        with pytest.raises(Conflict):
            services.pickup_delivered(order=order, by=user)
    assert _snapshot(order) == before and before[0] == S.FULFILLED
    services.order_confirm_receipt(order=order, by=buyer.user)
    assert OutboxEvent.objects.filter(topic="order.completed", key=order.number).count() == 1
