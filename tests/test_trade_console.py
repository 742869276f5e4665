"""The trade console: every step of an order is visible, and staff act where the brand is the party."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.stock_helpers import receive
from weishang.catalog.models import SKU, Product
from weishang.core.models import OutboxEvent
from weishang.core.roles import role_group_name, roles_sync
from weishang.ledger.models import Account, Purpose
from weishang.trade import services, stock
from weishang.trade.models import (
    LocationKind,
    Order,
    OrderKind,
    OrderStatus,
    OrderTransition,
    Payment,
    PaymentStatus,
    StockLevel,
    StockMove,
    StockReason,
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def staff(db, django_user_model):
    """staff("warehouse") -> a logged-out staff user in that role group."""
    roles_sync()
    from django.contrib.auth.models import Group

    def make(role: str):
        user = django_user_model.objects.create_user(username=f"{role}-staff", password="staff-pass-123", is_staff=True)
        user.groups.add(Group.objects.get(name=role_group_name(role)))
        return user

    return make


@pytest.fixture
def sku(db):
    product = Product.objects.create(name="精华")
    return SKU.objects.create(product=product, code="S-1", name="精华 30ml", retail_price=Decimal("100"))


def screenshot() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "PNG")
    return SimpleUploadedFile("transfer.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def pickup(make_agent, sku):
    """A submitted pick-up of 3 units out of an agent's cloud stock."""
    agent = make_agent("vip")
    receive(sku, 10, into=stock.location_for_agent(agent, LocationKind.CLOUD))
    order = services.pickup_request(
        agent=agent, lines=[(sku, 3)], by=agent.user, name="王静", phone="13500000001", address="上海市 1 号"
    )
    assert order.status == OrderStatus.SUBMITTED
    return order


@pytest.fixture
def company_order(make_agent, sku):
    """A restock order the company fills (the buyer has no supplier upline), approved, awaiting payment,
    with a transfer to brand finance waiting for confirmation."""
    buyer = make_agent("vip")
    order = services.order_submit(buyer=buyer, lines=[(sku, 4)], by=buyer.user)
    assert order.seller is None
    order = services.order_approve(order=order, by=_superuser())
    payment = services.payment_submit_transfer(order=order, by=buyer.user, screenshot=screenshot(), reference="T1")
    assert payment.receiver is None
    return order, payment


def _superuser():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser(username="root-helper", password="root-pass-123")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def order_url(name: str, order: Order) -> str:
    return reverse(f"admin:trade_order_{name}", args=[order.pk])


# --- pages ----------------------------------------------------------------------------------

TRADE_LISTS = [
    "trade_order",
    "trade_payment",
    "trade_stocklevel",
    "trade_stockmove",
    "trade_location",
    "ledger_account",
    "ledger_journalentry",
    "trade_customer",
    "core_outboxevent",
]


def test_owner_sees_every_trade_page(client, staff, pickup, company_order, sku):
    order, payment = company_order
    client.force_login(staff("owner"))
    for name in TRADE_LISTS:
        response = client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 200, name
    pages = [
        reverse("admin:trade_order_changelist") + "?kind__exact=pickup",
        reverse("admin:trade_order_changelist") + "?brand_to_act=yes&supply_mode=cloud&filled_by=company",
        reverse("admin:trade_order_changelist") + "?q=" + pickup.number,
        reverse("admin:trade_order_change", args=[order.pk]),
        reverse("admin:trade_order_change", args=[pickup.pk]),
        reverse("admin:trade_payment_change", args=[payment.pk]),
        reverse("admin:trade_payment_confirm_payment", args=[payment.pk]),
        reverse("admin:trade_payment_reject_payment", args=[payment.pk]),
        order_url("ship_pickup", pickup),
        order_url("reject", order),
        reverse("admin:trade_stocklevel_receive_stock"),
        reverse("admin:trade_stocklevel_verify_stock"),
        reverse("admin:trade_stockmove_changelist") + f"?location={stock.location_singleton('warehouse').pk}",
        reverse("admin:trade_payment_screenshot", args=[payment.pk]),
        reverse("admin:core_outboxevent_changelist"),
        reverse("admin:core_brand_changelist"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    html = client.get("/console/").content.decode()
    assert reverse("admin:trade_stocklevel_changelist") in html  # the Trade section of the sidebar
    image = client.get(reverse("admin:trade_payment_screenshot", args=[payment.pk]))
    assert image["Content-Type"] == "image/png" and "sandbox" in image["Content-Security-Policy"]


def test_order_detail_shows_each_step(client, staff, company_order):
    order, payment = company_order
    client.force_login(staff("owner"))
    response = client.get(reverse("admin:trade_order_change", args=[order.pk]))
    html = response.content.decode()
    assert order.number in html
    assert OrderTransition.objects.filter(order=order).count() == 3  # submitted, approved, awaiting payment
    assert "root-helper" in html  # the transitions say who approved
    assert reverse("admin:trade_payment_screenshot", args=[payment.pk]) in html  # payment with its screenshot
    # the warehouse is empty: the page says why the order could not be filled
    availability = response.context["availability"]
    assert availability is not None and availability.short
    assert availability.rows[0]["needed"] == 4 and availability.rows[0]["on_hand"] == 0
    assert 'data-testid="availability"' in html
    # no Save: nothing on the order is editable
    assert client.post(reverse("admin:trade_order_change", args=[order.pk]), {"status": "paid"}).status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_lecturer_gets_403_on_trade_pages(client, staff, pickup, company_order):
    order, payment = company_order
    client.force_login(staff("lecturer"))
    urls = [reverse(f"admin:{name}_changelist") for name in TRADE_LISTS] + [
        reverse("admin:trade_order_change", args=[pickup.pk]),
        order_url("ship_pickup", pickup),
        reverse("admin:trade_payment_change", args=[payment.pk]),
        reverse("admin:trade_payment_confirm_payment", args=[payment.pk]),
        reverse("admin:trade_payment_screenshot", args=[payment.pk]),
        reverse("admin:trade_stocklevel_receive_stock"),
        reverse("admin:trade_stocklevel_verify_stock"),
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
    response = client.post(order_url("ship_pickup", pickup), {"carrier": "SF", "tracking_number": "SF1"})
    assert response.status_code == 403
    pickup.refresh_from_db()
    assert pickup.status == OrderStatus.SUBMITTED
    html = client.get("/console/").content.decode()
    assert reverse("admin:trade_order_changelist") not in html


# --- pick-ups -------------------------------------------------------------------------------


def test_warehouse_ships_a_pickup_and_marks_it_delivered(client, staff, pickup):
    warehouse = staff("warehouse")
    client.force_login(warehouse)
    detail = client.get(reverse("admin:trade_order_change", args=[pickup.pk]))
    assert order_url("ship_pickup", pickup) in detail.content.decode()  # the button is there
    response = client.post(
        order_url("ship_pickup", pickup), {"carrier": "顺丰", "tracking_number": "SF123"}, follow=True
    )
    assert response.status_code == 200
    pickup.refresh_from_db()
    assert pickup.status == OrderStatus.FULFILLED
    assert (pickup.carrier, pickup.tracking_number) == ("顺丰", "SF123")
    assert pickup.shipped_at is not None
    assert OrderTransition.objects.filter(order=pickup, to_status=OrderStatus.FULFILLED, by=warehouse).exists()
    assert any(pickup.number in m for m in messages_of(response))

    response = client.post(order_url("pickup_delivered", pickup), follow=True)
    pickup.refresh_from_db()
    assert pickup.status == OrderStatus.COMPLETED and pickup.delivered_at is not None


def test_shipping_a_pickup_without_tracking_number_changes_nothing(client, staff, pickup):
    client.force_login(staff("warehouse"))
    response = client.post(order_url("ship_pickup", pickup), {"carrier": "顺丰", "tracking_number": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["tracking_number"]
    assert 'role="alert"' in response.content.decode()
    pickup.refresh_from_db()
    assert pickup.status == OrderStatus.SUBMITTED
    assert pickup.carrier == "" and pickup.tracking_number == ""
    assert not OrderTransition.objects.filter(order=pickup, to_status=OrderStatus.FULFILLED).exists()


def test_shipping_twice_shows_the_service_error(client, staff, pickup):
    client.force_login(staff("warehouse"))
    client.post(order_url("ship_pickup", pickup), {"carrier": "顺丰", "tracking_number": "SF1"})
    response = client.post(order_url("ship_pickup", pickup), {"carrier": "中通", "tracking_number": "ZT2"})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    pickup.refresh_from_db()
    assert pickup.tracking_number == "SF1"


def test_finance_cannot_ship_and_warehouse_cannot_decide(client, staff, pickup, company_order):
    order, payment = company_order
    client.force_login(staff("finance"))
    assert client.post(order_url("ship_pickup", pickup), {"carrier": "SF", "tracking_number": "1"}).status_code == 403
    client.force_login(staff("warehouse"))
    assert client.get(reverse("admin:trade_payment_confirm_payment", args=[payment.pk])).status_code == 403
    assert client.post(order_url("reject", order), {"note": "no"}).status_code == 403
    pickup.refresh_from_db()
    order.refresh_from_db()
    assert pickup.status == OrderStatus.SUBMITTED and order.status == OrderStatus.AWAITING_PAYMENT


# --- payments -------------------------------------------------------------------------------


def test_finance_confirms_a_transfer_to_the_brand(client, staff, company_order):
    order, payment = company_order
    finance = staff("finance")
    client.force_login(finance)
    detail = client.get(reverse("admin:trade_payment_change", args=[payment.pk])).content.decode()
    assert reverse("admin:trade_payment_confirm_payment", args=[payment.pk]) in detail
    response = client.post(
        reverse("admin:trade_payment_confirm_payment", args=[payment.pk]), {"note": "到账"}, follow=True
    )
    assert response.status_code == 200
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == PaymentStatus.CONFIRMED and payment.decided_by == finance
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    assert OutboxEvent.objects.filter(topic="order.paid", key=order.number).count() == 1


def test_confirming_an_already_confirmed_payment_shows_an_error(client, staff, company_order):
    order, payment = company_order
    finance = staff("finance")
    client.force_login(finance)
    url = reverse("admin:trade_payment_confirm_payment", args=[payment.pk])
    client.post(url, {"note": "到账"})
    payment.refresh_from_db()
    decided_at = payment.decided_at
    response = client.post(url, {"note": "again"})
    assert response.status_code == 400
    assert response.context["form"].errors
    assert 'role="alert"' in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CONFIRMED and payment.decided_at == decided_at
    assert payment.decision_note == "到账"
    assert OutboxEvent.objects.filter(topic="order.paid").count() == 1
    # and rejecting it now is refused too
    response = client.post(reverse("admin:trade_payment_reject_payment", args=[payment.pk]), {"note": "假的"})
    assert response.status_code == 400
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CONFIRMED


def test_finance_rejects_a_transfer_with_a_note(client, staff, company_order):
    order, payment = company_order
    client.force_login(staff("finance"))
    url = reverse("admin:trade_payment_reject_payment", args=[payment.pk])
    assert client.post(url, {"note": ""}).status_code == 400  # a reason is required
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert client.post(url, {"note": "金额不符"}).status_code == 302
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == PaymentStatus.REJECTED and payment.decision_note == "金额不符"
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_payment_to_an_agent_is_not_decided_in_the_console(client, staff, make_agent, sku):
    top = make_agent("partner")
    buyer = make_agent("vip", referrer=top)
    order = services.order_submit(buyer=buyer, lines=[(sku, 2)], by=buyer.user)
    assert order.seller == top
    # the console does not approve orders an agent sells (the service would let staff step in)
    client.force_login(staff("owner"))
    assert (
        order_url("approve", order)
        not in client.get(reverse("admin:trade_order_change", args=[order.pk])).content.decode()
    )
    assert client.post(order_url("approve", order)).status_code == 400
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED
    services.order_approve(order=order, by=top.user)
    payment = services.payment_submit_transfer(order=order, by=buyer.user, screenshot=screenshot())
    client.force_login(staff("finance"))
    detail = client.get(reverse("admin:trade_payment_change", args=[payment.pk])).content.decode()
    assert reverse("admin:trade_payment_confirm_payment", args=[payment.pk]) not in detail
    response = client.post(reverse("admin:trade_payment_confirm_payment", args=[payment.pk]), {"note": ""})
    assert response.status_code == 400
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


# --- company orders: approve, fill (and why it cannot be filled) ----------------------------


def test_owner_approves_and_fills_a_company_order(client, staff, make_agent, sku):
    buyer = make_agent("vip")
    order = services.order_submit(buyer=buyer, lines=[(sku, 4)], by=buyer.user)
    owner = staff("owner")
    client.force_login(owner)
    assert (
        order_url("approve", order) in client.get(reverse("admin:trade_order_change", args=[order.pk])).content.decode()
    )
    assert client.post(order_url("approve", order)).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    Payment.objects.create(order=order, method="transfer", amount=order.total, receiver=None)
    payment = Payment.objects.get(order=order)
    services.payment_confirm(payment=payment, by=owner)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID

    # the warehouse is empty: fill fails with the reason and changes nothing
    response = client.post(order_url("fill", order), {})
    assert response.status_code == 400
    assert "S-1" in response.content.decode() or "精华" in response.content.decode()
    assert response.context["availability"].short
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and not StockMove.objects.filter(reason=StockReason.ORDER_FILL).exists()

    receive(sku, 10)
    response = client.post(order_url("fill", order), {}, follow=True)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED  # cloud stock: the units are the buyer's at once
    warehouse = stock.location_singleton(LocationKind.WAREHOUSE)
    assert stock.on_hand(location=warehouse, sku=sku) == 6
    html = client.get(reverse("admin:trade_order_change", args=[order.pk])).content.decode()
    assert 'data-testid="stock-moves"' in html and warehouse.name in html
    assert stock.stock_verify() == []


def test_approve_does_not_apply_to_a_pickup(client, staff, pickup):
    client.force_login(staff("owner"))
    response = client.post(order_url("approve", pickup))
    assert response.status_code == 400
    pickup.refresh_from_db()
    assert pickup.status == OrderStatus.SUBMITTED


def test_reject_needs_a_reason(client, staff, make_agent, sku):
    buyer = make_agent("vip")
    order = services.order_submit(buyer=buyer, lines=[(sku, 1)], by=buyer.user)
    client.force_login(staff("operations"))
    assert client.post(order_url("reject", order), {"note": " "}).status_code == 400
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED
    assert client.post(order_url("reject", order), {"note": "缺货"}).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED


# --- stock ----------------------------------------------------------------------------------


def test_warehouse_receives_stock_and_verify_is_clean(client, staff, sku):
    warehouse_user = staff("warehouse")
    client.force_login(warehouse_user)
    url = reverse("admin:trade_stocklevel_receive_stock")
    assert client.get(url).status_code == 200
    response = client.post(url, {"sku": sku.pk, "quantity": "25", "note": "批次 A1"}, follow=True)
    assert response.status_code == 200
    warehouse = stock.location_singleton(LocationKind.WAREHOUSE)
    assert stock.on_hand(location=warehouse, sku=sku) == 25
    move = StockMove.objects.get(reason=StockReason.RECEIPT)
    assert (move.to_location, move.quantity, move.created_by, move.note) == (warehouse, 25, warehouse_user, "批次 A1")
    assert move.from_location.kind == LocationKind.SUPPLIER
    assert any("25" in m for m in messages_of(response))

    listing = client.get(reverse("admin:trade_stocklevel_changelist") + "?location__kind__exact=warehouse")
    assert listing.status_code == 200 and sku.code in listing.content.decode()

    response = client.get(reverse("admin:trade_stocklevel_verify_stock"))
    assert response.status_code == 200
    assert response.context["problems"] == []
    assert 'data-testid="stock-clean"' in response.content.decode()


def test_receiving_a_bad_quantity_changes_nothing(client, staff, sku):
    client.force_login(staff("warehouse"))
    url = reverse("admin:trade_stocklevel_receive_stock")
    for quantity in ("0", "-3", "abc", ""):
        response = client.post(url, {"sku": sku.pk, "quantity": quantity})
        assert response.status_code == 400
        assert response.context["form"].errors["quantity"]
    assert not StockMove.objects.exists() and not StockLevel.objects.filter(quantity__gt=0).exists()


def test_stock_verify_shows_a_difference(client, staff, sku):
    receive(sku, 5)
    StockLevel.objects.filter(sku=sku).update(quantity=7)  # a cache gone wrong
    client.force_login(staff("owner"))
    response = client.get(reverse("admin:trade_stocklevel_verify_stock"))
    assert response.status_code == 200
    assert response.context["problems"]
    assert 'role="alert"' in response.content.decode()


def test_operations_and_finance_cannot_receive_stock(client, staff, sku):
    for role in ("operations", "finance"):
        client.force_login(staff(role))
        response = client.post(reverse("admin:trade_stocklevel_receive_stock"), {"sku": sku.pk, "quantity": "5"})
        assert response.status_code == 403, role
    assert not StockMove.objects.exists()


def test_pickups_list_filters_by_kind(client, staff, pickup, company_order):
    client.force_login(staff("warehouse"))
    response = client.get(reverse("admin:trade_order_changelist") + "?kind__exact=pickup")
    numbers = [o.number for o in response.context["cl"].result_list]
    assert numbers == [pickup.number]
    assert all(o.kind == OrderKind.PICKUP for o in response.context["cl"].result_list)


# --- delivery and returns -------------------------------------------------------------------


def test_warehouse_marks_a_shipped_retail_order_delivered(client, staff, make_agent, sku):
    seller = make_agent("vip")
    receive(sku, 5, into=stock.location_for_agent(seller, LocationKind.CLOUD))
    order = services.retail_order_submit(
        seller=seller, name="李雷", phone="13900000001", address="北京 2 号", lines=[(sku, 2)]
    )
    payment = services.retail_payment_submit(order=order, phone="13900000001", screenshot=screenshot())
    services.payment_confirm(payment=payment, by=seller.user)
    services.order_fill(order=order, by=seller.user, carrier="顺丰", tracking_number="SF9")
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    client.force_login(staff("warehouse"))
    detail = client.get(reverse("admin:trade_order_change", args=[order.pk])).content.decode()
    assert "李雷" in detail and order_url("delivered", order) in detail
    assert client.post(order_url("delivered", order)).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.delivered_at is not None
    assert OutboxEvent.objects.filter(topic="order.completed", key=order.number).exists()
    # the retail order appears under the customer, bound to the seller
    response = client.get(reverse("admin:trade_customer_changelist"))
    assert response.status_code == 403  # the warehouse does not see customers
    client.force_login(staff("owner"))
    html = client.get(reverse("admin:trade_customer_changelist")).content.decode()
    assert "李雷" in html and seller.real_name in html


def test_owner_decides_a_return_of_a_company_order(client, staff, make_agent, sku):
    owner = staff("owner")
    buyer = make_agent("vip")
    receive(sku, 10)
    orders = []
    for _ in range(2):
        order = services.order_submit(buyer=buyer, lines=[(sku, 2)], by=buyer.user)
        services.order_approve(order=order, by=owner)
        payment = services.payment_submit_transfer(order=order, by=buyer.user, screenshot=screenshot())
        services.payment_confirm(payment=payment, by=owner)
        services.order_fill(order=order, by=owner)
        services.refund_request(order=order, by=buyer.user, note="不想要了")
        orders.append(order)
    approve_this, decline_this = orders
    client.force_login(owner)
    assert client.post(order_url("refund_decline", decline_this), {"note": ""}).status_code == 400
    assert client.post(order_url("refund_decline", decline_this), {"note": "已拆封"}).status_code == 302
    assert client.post(order_url("refund_approve", approve_this), {"note": ""}).status_code == 302
    approve_this.refresh_from_db()
    decline_this.refresh_from_db()
    assert approve_this.status == OrderStatus.REFUNDED and decline_this.status == OrderStatus.COMPLETED
    wallet = Account.objects.get(owner=buyer, purpose=Purpose.AGENT_WALLET)
    assert wallet.balance == approve_this.total  # refunded to the wallet, out of brand sales
    assert Account.objects.get(owner=None, purpose=Purpose.BRAND_SALES).balance == decline_this.total
    assert stock.on_hand(location=stock.location_singleton(LocationKind.WAREHOUSE), sku=sku) == 8
    assert client.get(reverse("admin:ledger_account_change", args=[wallet.pk])).status_code == 200
    response = client.get(reverse("admin:core_outboxevent_changelist") + "?topic=order.refunded")
    assert approve_this.number in response.content.decode()
    event = OutboxEvent.objects.get(topic="order.refunded")
    assert approve_this.number in client.get(reverse("admin:core_outboxevent_change", args=[event.pk])).content.decode()
