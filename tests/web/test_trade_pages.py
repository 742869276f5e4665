"""The agent's trade pages, walked through as a newcomer would in a browser: a 特约 orders stock,
the supplying 市代 approves it, checks the transfer screenshot and fills it from cloud stock, the
特约 picks some up; and every bad input shows a clear message, answers 4xx and changes nothing."""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from tests.stock_helpers import receive
from weishang.catalog.models import SKU, Product
from weishang.channel.models import AgentStatus
from weishang.core.models import Brand, SupplyMode
from weishang.ledger.models import Account, JournalEntry
from weishang.trade import services
from weishang.trade.models import (
    Order,
    OrderKind,
    OrderStatus,
    OrderTransition,
    Payment,
    PaymentStatus,
    StockLevel,
    StockMove,
)
from weishang.trade.selectors import wallet_balance
from weishang.trade.stock import location_for_agent, on_hand

PASSWORD = "pass-word-1"


# --- helpers --------------------------------------------------------------------------------


def png(name: str = "transfer.png") -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (12, 20), (7, 193, 96)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def text_file(name: str = "transfer.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"this is not a picture", content_type="image/png")


def seed_cloud(agent, sku, units: int) -> None:
    """``units`` of ``sku`` arrive from the supplier into the agent's cloud stock."""
    receive(sku, units, into=location_for_agent(agent, "cloud"))


def cloud(agent, sku) -> int:
    return on_hand(location=location_for_agent(agent, "cloud"), sku=sku)


def login(agent, *, language: str | None = None) -> Client:
    client = Client()
    assert client.login(username=agent.phone, password=PASSWORD)
    if language:
        client.cookies["django_language"] = language
    return client


def token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def html(response) -> str:
    return response.content.decode()


def snapshot() -> dict:
    """Everything a refused request must leave as it was."""
    return {
        "orders": sorted(Order.objects.values_list("pk", "status", "total", "tracking_number")),
        "transitions": OrderTransition.objects.count(),
        "payments": sorted(Payment.objects.values_list("pk", "status")),
        "stock": sorted(StockLevel.objects.values_list("location_id", "sku_id", "quantity")),
        "moves": StockMove.objects.count(),
        "accounts": sorted(Account.objects.values_list("owner_id", "purpose", "balance")),
        "entries": JournalEntry.objects.count(),
    }


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(make_agent):
    """A cloud-stock brand, one SKU at ¥100 retail, a 市代 with 50 units supplying a 特约."""
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    product = Product.objects.create(name="焕颜精华")
    sku = SKU.objects.create(product=product, code="GLOW-30", name="焕颜精华 30ml", retail_price=Decimal("100"))
    city = make_agent("city", real_name="市代王芳")
    vip = make_agent("vip", referrer=city, real_name="特约李娜")
    assert vip.supplier == city
    seed_cloud(city, sku, 50)
    return {"sku": sku, "city": city, "vip": vip}


def place_order(client, sku, units, **extra) -> object:
    page = client.get("/m/order/")
    return client.post("/m/order/", {"token": token(page), f"q{sku.pk}": units, **extra})


def paid_order(world, units=3) -> Order:
    """A 特约's order, approved and paid (through the services)."""
    vip, city = world["vip"], world["city"]
    order = services.order_submit(buyer=vip, lines=[(world["sku"].code, units)], by=vip.user)
    services.order_approve(order=order, by=city.user)
    payment = services.payment_submit_transfer(order=order, by=vip.user, screenshot=png())
    services.payment_confirm(payment=payment, by=city.user)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order


# --- the walk-through -----------------------------------------------------------------------


def test_walk_through_order_approve_pay_confirm_fill_pick_up(world):
    sku, city, vip = world["sku"], world["city"], world["vip"]
    as_vip, as_city = login(vip), login(city)

    # 特约: the order page shows the level price (¥100 × 0.8), my cloud stock and who fills it.
    page = as_vip.get("/m/order/")
    assert page.status_code == 200
    text = html(page)
    assert "¥80.00" in text and "市代王芳" in text and "发货上级" in text
    assert 'data-testid="held-GLOW-30">0<' in text

    form_token = token(page)
    response = as_vip.post("/m/order/", {"token": form_token, f"q{sku.pk}": "3"})
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/m/orders/{order.number}/"
    assert (order.buyer, order.seller, order.kind, order.total) == (vip, city, OrderKind.RESTOCK, Decimal("240.00"))
    # A double tap sends the same form again: the same order comes back.
    again = as_vip.post("/m/order/", {"token": form_token, f"q{sku.pk}": "3"})
    assert again["Location"] == f"/m/orders/{order.number}/" and Order.objects.count() == 1

    listing = html(as_vip.get("/m/orders/"))
    assert order.number in listing and "已提交" in listing

    # 市代: the order waits on the fill page; approve it.
    assert order.number in html(as_city.get("/m/fill/"))
    response = as_city.post(f"/m/fill/{order.number}/approve/")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT

    # 特约: pay by transfer with a screenshot.
    detail = html(as_vip.get(f"/m/orders/{order.number}/"))
    assert "上传" in detail or "截图" in detail
    response = as_vip.post(f"/m/orders/{order.number}/pay-transfer/", {"screenshot": png(), "reference": "WX-8899"})
    assert response.status_code == 302
    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.PENDING and payment.reference == "WX-8899"

    # 市代: sees the screenshot and confirms it.
    detail = html(as_city.get(f"/m/fill/{order.number}/"))
    assert f'src="/m/payments/{payment.pk}/screenshot/"' in detail and payment.screenshot.url not in detail
    response = as_city.post(f"/m/fill/{order.number}/payments/{payment.pk}/confirm/", {"note": "收到"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID

    # 市代: fills it from cloud stock; the 特约's cloud stock grows, the order completes.
    response = as_city.post(f"/m/fill/{order.number}/fill/")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert (cloud(city, sku), cloud(vip, sku)) == (47, 3)

    detail = html(as_vip.get(f"/m/orders/{order.number}/"))
    assert "已完成" in detail and "WX-8899" in detail
    assert [t.to_status for t in order.transitions.all()] == [
        "submitted",
        "approved",
        "awaiting_payment",
        "paid",
        "fulfilled",
        "completed",
    ]
    assert 'data-testid="on-hand-GLOW-30">3<' in html(as_vip.get("/m/stock/"))

    # 特约: a pick-up of 2 to a home address leaves 1 in cloud stock.
    response = as_vip.post(
        "/m/stock/",
        {
            "sku": sku.code,
            "quantity": "2",
            "name": "李娜",
            "phone": "13800138000",
            "region": "310104",
            "address": "漕溪北路 1 号",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/m/stock/"
    pickup = Order.objects.get(kind=OrderKind.PICKUP)
    assert (pickup.buyer, pickup.status, pickup.ship_phone) == (vip, OrderStatus.SUBMITTED, "13800138000")
    assert cloud(vip, sku) == 1
    stock_page = html(as_vip.get("/m/stock/"))
    assert pickup.number in stock_page and 'data-testid="on-hand-GLOW-30">1<' in stock_page

    # A consumer opens the 特约's shop link from their home page, buys the last unit at retail
    # price and uploads the transfer screenshot.
    home = html(as_vip.get("/m/"))
    shop_url = f"/s/{vip.invite_code}/"
    assert f'{shop_url}"' in home
    consumer = Client()
    page = consumer.get(shop_url)
    assert page.status_code == 200 and "¥100.00" in html(page)
    response = consumer.post(
        shop_url,
        {
            "token": token(page),
            f"q{sku.pk}": "1",
            "name": "张三",
            "phone": "139 0000 1111",
            "region": "110105",
            "address": "建国路 8 号",
        },
    )
    retail = Order.objects.get(kind=OrderKind.RETAIL)
    order_url = f"/s/{vip.invite_code}/o/{retail.number}/?phone=13900001111"
    assert response.status_code == 302 and response["Location"] == order_url
    assert (retail.seller, retail.status, retail.total) == (vip, OrderStatus.AWAITING_PAYMENT, Decimal("100.00"))
    assert "待付款" in html(consumer.get(order_url))
    assert consumer.post(order_url, {"screenshot": png(), "reference": "ALI-1"}).status_code == 302
    shot = Payment.objects.get(order=retail)
    assert (shot.status, shot.receiver) == (PaymentStatus.PENDING, vip)

    # The 特约 confirms the money, fills the order from cloud stock and records the delivery.
    assert retail.number in html(as_vip.get("/m/fill/"))
    assert as_vip.post(f"/m/fill/{retail.number}/payments/{shot.pk}/confirm/").status_code == 302
    assert (
        as_vip.post(f"/m/fill/{retail.number}/fill/", {"carrier": "顺丰", "tracking_number": "SF123"}).status_code
        == 302
    )
    assert cloud(vip, sku) == 0
    assert as_vip.post(f"/m/fill/{retail.number}/delivered/").status_code == 302
    retail.refresh_from_db()
    assert retail.status == OrderStatus.COMPLETED and retail.tracking_number == "SF123"
    consumer_view = html(consumer.get(order_url))
    assert "已完成" in consumer_view and "SF123" in consumer_view


def test_applicant_places_the_entry_order(world, make_agent):
    sku, city = world["sku"], world["city"]
    applicant = make_agent("vip", referrer=city, entry_paid=False, password=PASSWORD)
    assert applicant.status == AgentStatus.APPLICANT and applicant.entry_due == Decimal("298")
    client = login(applicant, language="en")

    page = client.get("/m/order/")
    assert "Entry order" in html(page) and "¥298" in html(page)
    response = client.post("/m/order/", {"token": token(page), f"q{sku.pk}": "3"})  # 3 × ¥80 = ¥240
    assert response.status_code == 400
    assert "at least ¥298" in html(response)
    assert not Order.objects.exists()

    response = client.post("/m/order/", {"token": token(page), f"q{sku.pk}": "4"})
    order = Order.objects.get()
    assert response.status_code == 302 and order.kind == OrderKind.ENTRY and order.total == Decimal("320.00")


def test_fill_short_of_stock_says_why_and_links_to_restock(world):
    sku, city, vip = world["sku"], world["city"], world["vip"]
    order = paid_order(world, units=60)  # the 市代 holds 50
    as_city = login(city, language="en")

    page = html(as_city.get(f"/m/fill/{order.number}/"))
    assert "Not enough stock to fill this order" in page and "60 wanted, 50 on hand" in page

    before = snapshot()
    response = as_city.post(f"/m/fill/{order.number}/fill/")
    assert response.status_code == 409
    text = html(response)
    assert "Not enough" in text and "Restock first" in text and 'href="/m/order/"' in text
    assert snapshot() == before
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and cloud(vip, sku) == 0


def test_pay_from_wallet_and_cancel_a_paid_order_refunds_the_wallet(world, django_user_model):
    vip, city = world["vip"], world["city"]
    as_vip = login(vip, language="en")
    order = services.order_submit(buyer=vip, lines=[(world["sku"].code, 2)], by=vip.user)
    services.order_approve(order=order, by=city.user)

    before = snapshot()
    response = as_vip.post(f"/m/orders/{order.number}/pay-wallet/")
    assert response.status_code == 409 and "Your wallet has" in html(response)
    assert snapshot() == before

    topup = services.wallet_topup_submit(agent=vip, by=vip.user, amount="500", screenshot=png())
    finance = django_user_model.objects.create_superuser(username="finance", password="finance-pass-1")
    services.payment_confirm(payment=topup, by=finance)
    assert "¥500.00" in html(as_vip.get(f"/m/orders/{order.number}/"))
    assert as_vip.post(f"/m/orders/{order.number}/pay-wallet/").status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert "¥340.00" in html(as_vip.get("/m/wallet/"))

    # A cancel without its confirmation page's "confirm" is refused; the page states the refund.
    assert as_vip.post(f"/m/orders/{order.number}/cancel/", {"note": "买多了"}).status_code == 400
    confirm = html(as_vip.get(f"/m/orders/{order.number}/cancel/confirm/"))
    assert "¥160.00 goes back to your wallet" in confirm and "市代王芳" in confirm
    assert as_vip.post(f"/m/orders/{order.number}/cancel/", {"note": "买多了", "confirm": "1"}).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert wallet_balance(agent=vip) == Decimal("500.00")


def test_refund_request_and_approval(world):
    sku, city, vip = world["sku"], world["city"], world["vip"]
    order = paid_order(world, units=2)
    services.order_fill(order=order, by=city.user)
    as_vip, as_city = login(vip, language="en"), login(city, language="en")

    response = as_vip.post(f"/m/orders/{order.number}/refund/", {"note": ""})
    assert response.status_code == 400 and "Say why" in html(response)
    assert as_vip.post(f"/m/orders/{order.number}/refund/", {"note": "包装破损"}).status_code == 302
    assert order.number in html(as_city.get("/m/fill/"))
    assert as_city.post(f"/m/fill/{order.number}/refund-approve/", {"note": ""}).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert (cloud(city, sku), cloud(vip, sku)) == (50, 0)
    assert wallet_balance(agent=vip) == order.total


def test_wallet_top_up(world):
    vip = world["vip"]
    client = login(vip, language="en")
    before = snapshot()
    response = client.post("/m/wallet/", {"amount": "0", "screenshot": png()})
    assert response.status_code == 400 and snapshot() == before
    response = client.post("/m/wallet/", {"amount": "200", "screenshot": text_file()})
    assert response.status_code == 400 and "The screenshot must be an image" in html(response) and snapshot() == before
    response = client.post("/m/wallet/", {"amount": "200", "screenshot": png(), "reference": "T1"})
    assert response.status_code == 302
    topup = Payment.objects.get(topup_for=vip)
    assert (topup.amount, topup.status) == (Decimal("200.00"), PaymentStatus.PENDING)
    assert "Waiting for confirmation" in html(client.get("/m/wallet/"))


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("units", ["0", "-2", "abc", ""])
def test_restock_without_a_positive_quantity_is_refused(world, units):
    client = login(world["vip"], language="en")
    before = snapshot()
    response = place_order(client, world["sku"], units)
    assert response.status_code == 400
    assert 'role="alert"' in html(response)
    assert snapshot() == before


def test_restock_form_without_its_token_is_refused(world):
    client = login(world["vip"], language="en")
    response = client.post("/m/order/", {f"q{world['sku'].pk}": "3"})
    assert response.status_code == 400 and "expired" in html(response)
    assert not Order.objects.exists()


def test_restock_below_the_level_minimum_shows_the_services_message(world, make_agent):
    province = make_agent("province", password=PASSWORD)  # min 10 units per restock
    client = login(province, language="en")
    response = place_order(client, world["sku"], "2")
    assert response.status_code == 400 and "needs at least 10 units" in html(response)
    assert not Order.objects.exists()


def test_text_file_as_transfer_screenshot_is_refused(world):
    vip, city = world["vip"], world["city"]
    order = services.order_submit(buyer=vip, lines=[(world["sku"].code, 2)], by=vip.user)
    services.order_approve(order=order, by=city.user)
    client = login(vip, language="en")
    before = snapshot()
    response = client.post(f"/m/orders/{order.number}/pay-transfer/", {"screenshot": text_file()})
    assert response.status_code == 400
    assert "The screenshot must be an image (JPEG, PNG, WebP or GIF)." in html(response)
    assert snapshot() == before and not Payment.objects.exists()


def test_second_screenshot_while_one_waits_is_refused(world):
    vip, city = world["vip"], world["city"]
    order = services.order_submit(buyer=vip, lines=[(world["sku"].code, 2)], by=vip.user)
    services.order_approve(order=order, by=city.user)
    services.payment_submit_transfer(order=order, by=vip.user, screenshot=png())
    client = login(vip, language="en")
    before = snapshot()
    response = client.post(f"/m/orders/{order.number}/pay-transfer/", {"screenshot": png()})
    assert response.status_code == 409 and "already waiting for confirmation" in html(response)
    assert snapshot() == before


def test_pickup_larger_than_stock_is_refused(world):
    sku, vip = world["sku"], world["vip"]
    seed_cloud(vip, sku, 5)
    client = login(vip, language="en")
    before = snapshot()
    response = client.post(
        "/m/stock/",
        {
            "sku": sku.code,
            "quantity": "6",
            "name": "李娜",
            "phone": "13800138000",
            "region": "310104",
            "address": "漕溪北路 1 号",
        },
    )
    assert response.status_code == 409
    assert "Not enough" in html(response) and "6 wanted, 5 on hand" in html(response)
    assert snapshot() == before and not Order.objects.exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"quantity": "0"}, "greater than or equal to 1"),
        ({"phone": "12345"}, "11-digit"),
        ({"address": ""}, "required"),
        ({"region": ""}, "Choose the province, city and district"),
        ({"region": "310000"}, "Choose the district too"),
        ({"region": "<script>"}, "Choose a region from the list"),
        ({"sku": "NOPE"}, "Select a valid choice"),
    ],
)
def test_pickup_bad_fields_are_refused(world, data, message):
    sku, vip = world["sku"], world["vip"]
    seed_cloud(vip, sku, 5)
    client = login(vip, language="en")
    before = snapshot()
    form = {
        "sku": sku.code,
        "quantity": "1",
        "name": "李娜",
        "phone": "13800138000",
        "region": "310104",
        "address": "漕溪北路 1 号",
        **data,
    }
    response = client.post("/m/stock/", form)
    assert response.status_code == 400 and message in html(response)
    assert snapshot() == before


def test_reject_needs_a_note(world):
    vip, city = world["vip"], world["city"]
    order = services.order_submit(buyer=vip, lines=[(world["sku"].code, 2)], by=vip.user)
    client = login(city, language="en")
    before = snapshot()
    response = client.post(f"/m/fill/{order.number}/reject/", {"note": "  "})
    assert response.status_code == 400 and "Say why the order is rejected" in html(response)
    assert snapshot() == before
    assert client.post(f"/m/fill/{order.number}/reject/", {"note": "缺货"}).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED


def test_acting_twice_is_a_conflict(world):
    vip, city = world["vip"], world["city"]
    order = services.order_submit(buyer=vip, lines=[(world["sku"].code, 2)], by=vip.user)
    client = login(city, language="en")
    assert client.post(f"/m/fill/{order.number}/approve/").status_code == 302
    before = snapshot()
    response = client.post(f"/m/fill/{order.number}/approve/")
    assert response.status_code == 409 and "cannot be done now" in html(response)
    assert snapshot() == before


def test_someone_elses_order_is_not_found(world, make_agent):
    sku, city, vip = world["sku"], world["city"], world["vip"]
    order = services.order_submit(buyer=vip, lines=[(sku.code, 2)], by=vip.user)
    other_vip = make_agent("vip", referrer=city, password=PASSWORD)
    other_city = make_agent("city", password=PASSWORD)
    before = snapshot()

    as_other_vip = login(other_vip)
    assert as_other_vip.get(f"/m/orders/{order.number}/").status_code == 404
    for action in ("cancel", "pay-wallet", "refund", "receive", "nonsense"):
        assert as_other_vip.post(f"/m/orders/{order.number}/{action}/", {"note": "x"}).status_code == 404
    # The buyer is not the seller: the fill pages do not show their own order either.
    as_vip = login(vip)
    assert as_vip.get(f"/m/fill/{order.number}/").status_code == 404
    assert as_vip.post(f"/m/fill/{order.number}/approve/").status_code == 404

    as_other_city = login(other_city)
    assert order.number not in html(as_other_city.get("/m/fill/?all=1"))
    assert as_other_city.get(f"/m/fill/{order.number}/").status_code == 404
    for action in ("approve", "reject", "fill", "delivered", "refund-approve", "nonsense"):
        assert as_other_city.post(f"/m/fill/{order.number}/{action}/", {"note": "x"}).status_code == 404
    assert snapshot() == before

    # A payment of another order cannot be confirmed through this one.
    services.order_approve(order=order, by=city.user)
    payment = services.payment_submit_transfer(order=order, by=vip.user, screenshot=png())
    mine = services.order_submit(buyer=other_vip, lines=[(sku.code, 1)], by=other_vip.user)
    before = snapshot()
    assert login(city).post(f"/m/fill/{mine.number}/payments/{payment.pk}/confirm/").status_code == 404
    assert as_other_city.post(f"/m/fill/{order.number}/payments/{payment.pk}/confirm/").status_code == 404
    assert snapshot() == before


def test_trade_pages_need_an_agent(client, world, django_user_model):
    for path in ("/m/order/", "/m/orders/", "/m/fill/", "/m/stock/", "/m/wallet/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/m/login/")
    client.force_login(django_user_model.objects.create_user(username="someone", password="some-pass-1"))
    for path in ("/m/order/", "/m/orders/", "/m/fill/", "/m/stock/", "/m/wallet/"):
        assert client.get(path).status_code == 404
    assert client.get(f"/m/orders/{'R' * 10}/").status_code == 404


def test_actions_need_post(world):
    order = services.order_submit(buyer=world["vip"], lines=[(world["sku"].code, 2)], by=world["vip"].user)
    assert login(world["city"]).get(f"/m/fill/{order.number}/approve/").status_code == 405


# --- language -------------------------------------------------------------------------------


def test_trade_pages_are_chinese_by_default_and_english_on_request(world):
    vip = world["vip"]
    services.order_fill(order=paid_order(world), by=world["city"].user)
    zh = login(vip)
    for path, words in (
        ("/m/order/", ["进货", "提交订单"]),
        ("/m/orders/", ["我的订单"]),
        ("/m/fill/", ["待我处理"]),
        ("/m/stock/", ["我的云仓", "申请提货"]),
        ("/m/wallet/", ["我的钱包", "充值"]),
        ("/m/", ["我的店铺"]),
    ):
        text = html(zh.get(path))
        for word in words:
            assert word in text, (path, word)
        for english in (
            "New restock order",
            "My orders",
            "Waiting for me",
            "My cloud stock",
            "My wallet",
            "My shop",
            "Request pick-up",
            "Submit order",
        ):
            assert english not in text, (path, english)
    en = login(vip, language="en")
    assert "My cloud stock" in html(en.get("/m/stock/"))


# --- upgrade orders -------------------------------------------------------------------------


def test_upgrade_page_shows_the_top_up_and_submits_an_upgrade_order(world):
    vip, sku = world["vip"], world["sku"]
    client = login(vip)
    page = client.get("/m/upgrade/?to=city")
    assert page.status_code == 200
    assert "¥1702" in html(page)  # 市代 entry 2000 − 特约 entry 298
    assert "¥60.00" in html(page)  # the 市代 price of a ¥100 product (× 0.60)
    before = snapshot()
    short = client.post("/m/upgrade/", {"token": token(page), "to": "city", f"q{sku.pk}": 28})
    assert short.status_code == 400 and "1702" in html(short) and 'role="alert"' in html(short)
    assert snapshot() == before
    # The company fills a 市代 order here and its warehouse is empty: said before the order exists.
    lacking = client.post("/m/upgrade/", {"token": token(page), "to": "city", f"q{sku.pk}": 29})
    assert lacking.status_code == 200 and "整条供货链目前都没有货" in html(lacking)
    assert snapshot() == before
    done = client.post("/m/upgrade/", {"token": token(page), "to": "city", f"q{sku.pk}": 29, "short_ok": "1"})
    order = Order.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/m/orders/{order.number}/"
    assert order.kind == OrderKind.UPGRADE and order.target_level.code == "city" and order.total == Decimal("1740.00")
    assert order.seller is None  # the 市代 supplier cannot fill a 市代 order: the company does
    detail = client.get(f"/m/orders/{order.number}/")
    assert "市代" in html(detail)


def test_upgrade_page_in_english_and_refuses_a_level_not_above(world):
    city = world["city"]
    client = login(city, language="en")
    page = client.get("/m/upgrade/")
    assert "Upgrade order" in html(page) and "特约" not in html(page)  # only levels above 市代 are offered
    refused = client.post("/m/upgrade/", {"token": token(page), "to": "vip", f"q{world['sku'].pk}": 5})
    assert refused.status_code == 400 and not Order.objects.exists()
