"""The public shop (/s/<invite code>/): a consumer orders at retail price without logging in,
finds the order again with their phone number and uploads the transfer screenshot; a closed
shop says so; bad input is refused with a message and changes nothing."""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from weishang.catalog.models import SKU, Product
from weishang.channel import services as channel_services
from weishang.core.models import Brand, SupplyMode
from weishang.trade.models import Customer, Order, OrderKind, OrderStatus, Payment, PaymentStatus, StockLevel
from weishang.trade.stock import Move, location_for_agent, location_singleton, stock_move

PHONE = "13900001111"


def png() -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (10, 10), (255, 255, 255)).save(buffer, "PNG")
    return SimpleUploadedFile("pay.png", buffer.getvalue(), content_type="image/png")


def html(response) -> str:
    return response.content.decode()


def token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', html(response)).group(1)


def snapshot() -> dict:
    return {
        "orders": sorted(Order.objects.values_list("pk", "status")),
        "customers": Customer.objects.count(),
        "payments": sorted(Payment.objects.values_list("pk", "status")),
        "stock": sorted(StockLevel.objects.values_list("location_id", "sku_id", "quantity")),
    }


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def shop(make_agent):
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    product = Product.objects.create(name="焕颜精华", description="28 天焕亮")
    sku = SKU.objects.create(product=product, code="GLOW-30", name="焕颜精华 30ml", retail_price=Decimal("199"))
    SKU.objects.create(product=product, code="OLD", name="旧款", retail_price=Decimal("99"), active=False)
    agent = make_agent("vip", real_name="特约李娜")
    stock_move(
        moves=[Move(location_singleton("supplier"), location_for_agent(agent, "cloud"), sku, 10)], reason="receipt"
    )
    return {"agent": agent, "sku": sku, "url": f"/s/{agent.invite_code}/"}


def order_form(page, sku, **kw) -> dict:
    data = {
        "token": token(page),
        f"q{sku.pk}": "2",
        "name": "张三",
        "phone": PHONE,
        "region": "110105",
        "address": "建国路 8 号",
    }
    data.update(kw)
    return data


def place(client, shop, **kw):
    page = client.get(shop["url"])
    return client.post(shop["url"], order_form(page, shop["sku"], **kw))


def test_shop_lists_what_is_on_sale_at_retail_price_without_login(client, shop):
    response = client.get(shop["url"])
    assert response.status_code == 200
    text = html(response)
    assert "特约李娜" in text and "焕颜精华 30ml" in text and "¥199.00" in text
    assert "旧款" not in text
    assert 'class="tabs"' not in text  # no agent navigation for consumers
    assert client.get(shop["url"].lower()).status_code == 200


def test_order_and_pay_by_screenshot(client, shop):
    agent = shop["agent"]
    response = place(client, shop)
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/s/{agent.invite_code}/o/{order.number}/?phone={PHONE}"
    assert (order.kind, order.seller, order.total, order.status) == (
        OrderKind.RETAIL,
        agent,
        Decimal("398.00"),
        OrderStatus.AWAITING_PAYMENT,
    )
    assert (order.ship_name, order.ship_phone, order.customer.phone) == ("张三", PHONE, PHONE)

    page = client.get(response["Location"])
    assert page.status_code == 200 and "¥398.00" in html(page) and 'enctype="multipart/form-data"' in html(page)
    response = client.post(response["Location"], {"screenshot": png(), "reference": "WX-1"})
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.order, payment.receiver, payment.status, payment.amount) == (
        order,
        agent,
        PaymentStatus.PENDING,
        Decimal("398.00"),
    )
    text = html(client.get(response["Location"]))
    assert "已收到截图" in text and 'enctype="multipart/form-data"' not in text


def test_a_double_tap_places_one_order(client, shop):
    page = client.get(shop["url"])
    data = order_form(page, shop["sku"])
    first, second = client.post(shop["url"], data), client.post(shop["url"], data)
    assert first["Location"] == second["Location"] and Order.objects.count() == 1


def test_inactive_agents_shop_is_closed(client, shop):
    channel_services.agent_change_status(agent=shop["agent"], action="suspend", reason="test")
    response = client.get(shop["url"])
    assert response.status_code == 410 and "店铺已关闭" in html(response)
    before = snapshot()
    sku = shop["sku"]
    response = client.post(
        shop["url"],
        {
            "token": "x" * 32,
            f"q{sku.pk}": "1",
            "name": "张三",
            "phone": PHONE,
            "region": "110105",
            "address": "建国路 8 号",
        },
    )
    assert response.status_code == 410 and snapshot() == before


def test_unknown_shop_is_not_found(client, shop):
    response = client.get("/s/NOSUCHCODE/")
    assert response.status_code == 404 and "NOSUCHCODE" in html(response)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"q{pk}": "0"}, "Enter a quantity of at least 1"),
        ({"q{pk}": "-1"}, "greater than or equal to 0"),
        ({"phone": "12345"}, "11-digit"),
        ({"address": ""}, "required"),
        ({"region": ""}, "Choose the province, city and district"),
        ({"region": "330100"}, "Choose the district too"),  # 杭州市 has districts
        ({"region": "999999"}, "Choose a region from the list"),
        ({"region": "33'01"}, "Choose a region from the list"),
        ({"name": ""}, "required"),
        ({"token": ""}, "expired"),
    ],
)
def test_bad_order_input_is_refused(client, shop, change, message):
    client.cookies["django_language"] = "en"
    change = {k.format(pk=shop["sku"].pk): v for k, v in change.items()}
    before = snapshot()
    response = place(client, shop, **change)
    assert response.status_code == 400 and message in html(response)
    assert snapshot() == before


def test_order_page_needs_the_phone_number_and_the_right_shop(client, shop, make_agent):
    place(client, shop)
    order = Order.objects.get()
    base = f"/s/{shop['agent'].invite_code}/o/{order.number}/"
    assert client.get(base).status_code == 404
    assert client.get(base + "?phone=13900009999").status_code == 404
    other = make_agent("vip")
    assert client.get(f"/s/{other.invite_code}/o/{order.number}/?phone={PHONE}").status_code == 404
    before = snapshot()
    assert client.post(base + "?phone=13900009999", {"screenshot": png()}).status_code == 404
    assert snapshot() == before


def test_bad_screenshots_are_refused(client, shop):
    client.cookies["django_language"] = "en"
    place(client, shop)
    order = Order.objects.get()
    url = f"/s/{shop['agent'].invite_code}/o/{order.number}/?phone={PHONE}"
    before = snapshot()
    text_file = SimpleUploadedFile("pay.png", b"not an image at all", content_type="image/png")
    response = client.post(url, {"screenshot": text_file})
    assert response.status_code == 400 and "The screenshot must be an image (JPEG, PNG, WebP or GIF)." in html(response)
    response = client.post(url, {"reference": "no file"})
    assert response.status_code == 400 and "required" in html(response)
    assert snapshot() == before

    assert client.post(url, {"screenshot": png()}).status_code == 302
    before = snapshot()
    response = client.post(url, {"screenshot": png()})
    assert response.status_code == 409 and "already waiting for confirmation" in html(response)
    assert snapshot() == before
