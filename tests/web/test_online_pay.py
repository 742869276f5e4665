"""WeChat Pay from the phone pages and the shop: the pay button opens the cashier (the development
cashier stands in for WeChat's), and the order is paid by the signed notify callback — once."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from weishang.catalog.models import SKU, Product
from weishang.core.models import Brand, SupplyMode
from weishang.trade import services
from weishang.trade.models import Order, OrderStatus, Payment, PaymentMethod
from weishang.trade.providers.base import ProviderError
from weishang.trade.providers.fake import FakeProvider

PASSWORD = "pass-word-1"
PHONE = "13912345678"
WECHAT_UA = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50 NetType/WIFI Language/zh_CN"


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def world(make_agent):
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    sku = SKU.objects.create(
        product=Product.objects.create(name="焕颜精华"),
        code="GLOW-30",
        name="焕颜精华 30ml",
        retail_price=Decimal("100"),
    )
    city = make_agent("city", real_name="市代王芳")
    vip = make_agent("vip", referrer=city, real_name="特约李娜")
    order = services.order_submit(buyer=vip, lines=[("GLOW-30", 3)], by=vip.user)
    services.order_approve(order=order, by=city.user)
    client = Client()
    assert client.login(username=vip.phone, password=PASSWORD)
    return {"sku": sku, "city": city, "vip": vip, "order": order, "client": client}


def test_agent_pays_with_wechat_pay_through_the_cashier(world):
    client, order = world["client"], world["order"]
    page = client.get(f"/m/orders/{order.number}/")
    assert "微信支付" in html(page)
    opened = client.post(f"/m/orders/{order.number}/pay-online/")
    assert opened.status_code == 302
    target = urlsplit(opened["Location"])
    assert target.path == f"/pay/fake/{order.number}/"
    assert parse_qs(target.query)["redirect_url"] == [f"http://testserver/m/orders/{order.number}/"]
    cashier = client.get(opened["Location"])
    assert cashier.status_code == 200 and "¥240.00" in html(cashier)  # 3 × 80.00
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT  # opening the cashier pays nothing
    paid = client.post(opened["Location"])
    assert paid.status_code == 302 and paid["Location"] == f"http://testserver/m/orders/{order.number}/"
    order.refresh_from_db()
    payment = Payment.objects.get()
    assert order.status == OrderStatus.PAID
    assert (payment.method, payment.amount, payment.provider_txn_id) == (
        PaymentMethod.WECHATPAY,
        Decimal("240.00"),
        f"FAKE-{order.number}",
    )
    again = client.post(opened["Location"], follow=True)  # the callback repeated: credited once
    assert Payment.objects.count() == 1 and again.status_code == 200


def test_inside_wechat_the_page_shows_a_qr_code_to_long_press(world):
    client, order = world["client"], world["order"]
    response = client.post(f"/m/orders/{order.number}/pay-online/", HTTP_USER_AGENT=WECHAT_UA)
    assert response.status_code == 200
    assert "<svg" in html(response) and "¥240.00" in html(response)
    assert Order.objects.get().status == OrderStatus.AWAITING_PAYMENT


def test_consumer_pays_a_shop_order_with_wechat_pay(make_agent):
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    SKU.objects.create(
        product=Product.objects.create(name="焕颜精华"),
        code="GLOW-30",
        name="焕颜精华 30ml",
        retail_price=Decimal("199"),
    )
    agent = make_agent("vip", real_name="特约李娜")
    order = services.retail_order_submit(
        seller=agent, name="张三", phone=PHONE, address="北京市朝阳区", lines=[("GLOW-30", 2)]
    )
    client = Client()
    page_url = f"/s/{agent.invite_code}/o/{order.number}/?phone={PHONE}"
    page = client.get(page_url)
    form_action = re.search(r'action="([^"]*pay-online[^"]*)"', html(page)).group(1).replace("&amp;", "&")
    opened = client.post(form_action)
    assert urlsplit(opened["Location"]).path == f"/pay/fake/{order.number}/"
    paid = client.post(opened["Location"])
    assert paid["Location"] == f"http://testserver{page_url}"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payments.get().receiver == agent
    assert client.post(f"/s/{agent.invite_code}/o/{order.number}/pay-online/?phone=13900000000").status_code == 404


def test_without_a_provider_there_is_no_button_and_nothing_changes(world, settings):
    settings.WEISHANG_PAYMENT_PROVIDERS = {}
    client, order = world["client"], world["order"]
    assert "微信支付" not in html(client.get(f"/m/orders/{order.number}/"))
    response = client.post(f"/m/orders/{order.number}/pay-online/", follow=True)
    assert "转账" in html(response)  # told to pay by transfer
    assert client.get(f"/pay/fake/{order.number}/").status_code == 404
    assert Order.objects.get().status == OrderStatus.AWAITING_PAYMENT and not Payment.objects.exists()


def test_a_provider_error_is_a_message_not_a_500(world, monkeypatch):
    def refuse(self, request, *, channel="jsapi"):
        raise ProviderError("SYSTEM_ERROR")

    monkeypatch.setattr(FakeProvider, "create_payment", refuse)
    client, order = world["client"], world["order"]
    response = client.post(f"/m/orders/{order.number}/pay-online/", follow=True)
    assert response.status_code == 200 and "微信支付暂时不可用" in html(response)


def test_an_order_not_awaiting_payment_cannot_be_paid_online(world):
    client, order = world["client"], world["order"]
    services.order_cancel(order=order, by=world["vip"].user)
    response = client.post(f"/m/orders/{order.number}/pay-online/", follow=True)
    assert "不在等待付款" in html(response) or "not waiting" in html(response)
    assert not Payment.objects.exists()


def test_the_cashier_never_redirects_off_site(world):
    client, order = world["client"], world["order"]  # the buyer
    response = client.post(f"/pay/fake/{order.number}/?redirect_url=https://evil.example/")
    assert response["Location"] == "/"


# --- the development cashier asks who pays (M7, item 8d) -----------------------------------


def unpaid(order) -> bool:
    order.refresh_from_db()
    return order.status == OrderStatus.AWAITING_PAYMENT and not Payment.objects.filter(order=order).exists()


def test_the_cashier_pays_nothing_for_a_stranger(world, make_agent):
    order, city = world["order"], world["city"]
    url = f"/pay/fake/{order.number}/"
    anonymous = Client()
    assert anonymous.get(url).status_code == 404
    assert anonymous.post(url).status_code == 404
    assert unpaid(order)
    stranger = make_agent("vip", real_name="特约路人")
    for agent in (stranger, city):  # another agent, and even the order's seller, is not its buyer
        other = Client()
        assert other.login(username=agent.phone, password=PASSWORD)
        assert other.get(url).status_code == 404 and other.post(url).status_code == 404
    forged = ("0" * 64, "x", "", FakeProvider.cashier_token("R20990101FFFFFFFFFF"))
    for token in forged:  # a made-up secret, or another order's
        assert anonymous.post(f"{url}?t={token}").status_code == 404, token
    assert unpaid(order)
    assert anonymous.post("/pay/fake/NOSUCHORDER/").status_code == 404


def test_the_cashier_link_the_pay_button_gives_is_the_secret(world):
    """Opened from the app (an API client, no browser session): the link itself says who may pay."""
    client, order = world["client"], world["order"]
    opened = client.post(f"/m/orders/{order.number}/pay-online/")
    assert parse_qs(urlsplit(opened["Location"]).query)["t"] == [FakeProvider.cashier_token(order.number)]
    paid = Client().post(opened["Location"])  # the same link, in a browser without the session
    assert paid.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and Payment.objects.get().order == order


def test_a_shop_orders_cashier_needs_its_secret_link(make_agent):
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    SKU.objects.create(
        product=Product.objects.create(name="焕颜精华"),
        code="GLOW-30",
        name="焕颜精华 30ml",
        retail_price=Decimal("199"),
    )
    agent = make_agent("vip", real_name="特约李娜")
    order = services.retail_order_submit(
        seller=agent, name="张三", phone=PHONE, address="北京市朝阳区", lines=[("GLOW-30", 1)]
    )
    seller = Client()
    assert seller.login(username=agent.phone, password=PASSWORD)
    for client in (Client(), seller):  # anonymous, or the shop's own agent, without the link
        assert client.post(f"/pay/fake/{order.number}/").status_code == 404
    assert unpaid(order)
    consumer = Client()
    opened = consumer.post(f"/s/{agent.invite_code}/o/{order.number}/pay-online/?phone={PHONE}")
    assert consumer.post(opened["Location"]).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_a_forged_notification_pays_nothing(world, client):
    order = world["order"]
    body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=24000)
    response = client.post("/pay/notify/fake/", body, content_type="application/json", HTTP_X_FAKE_SIGNATURE="0" * 64)
    assert response.status_code == 401 and not Payment.objects.exists()
