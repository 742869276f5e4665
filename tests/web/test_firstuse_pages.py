"""M7 items 9–11 and 8f on the phone pages: availability along the route before submitting, the
cancel confirmation and the other side's notice, the receiving accounts on the pay page with
their QR codes, and transfer screenshots served only to who may see them."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from weishang.catalog.models import SKU, Product
from weishang.core.errors import Forbidden
from weishang.core.models import Brand, SupplyMode
from weishang.trade import services
from weishang.trade.models import Order, OrderStatus, Payment, ReceivingAccount
from weishang.trade.stock import Move, location_for_agent, location_singleton, stock_move

PASSWORD = "pass-word-1"
pytestmark = pytest.mark.django_db


def png(colour=(7, 193, 96)) -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (12, 20), colour).save(buffer, "PNG")
    return SimpleUploadedFile("qr.png", buffer.getvalue(), content_type="image/png")


def login(agent_or_user, *, language: str = "en") -> Client:
    client = Client()
    username = getattr(agent_or_user, "phone", None) or agent_or_user.username
    assert client.login(username=username, password=PASSWORD)
    client.cookies["django_language"] = language
    return client


def html(response) -> str:
    return response.content.decode()


def token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', html(response)).group(1)


@pytest.fixture
def make_staff(db):
    """make_staff("change_order", ...) -> brand staff with those trade permissions (password PASSWORD)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    count = iter(range(1, 100))

    def make(*codenames: str):
        user = get_user_model().objects.create_user(username=f"staff{next(count)}", password=PASSWORD, is_staff=True)
        user.user_permissions.add(*Permission.objects.filter(content_type__app_label="trade", codename__in=codenames))
        return get_user_model().objects.get(pk=user.pk)

    return make


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(make_agent):
    """Cloud stock: 联创 → 市代 → 特约; the 市代 holds 2 units, the 联创 40, the warehouse 100."""
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    sku = SKU.objects.create(
        product=Product.objects.create(name="焕颜精华"),
        code="GLOW-30",
        name="焕颜精华 30ml",
        retail_price=Decimal("100"),
    )
    partner = make_agent("partner", real_name="联创赵敏")
    city = make_agent("city", referrer=partner, real_name="市代王芳")
    vip = make_agent("vip", referrer=city, real_name="特约李娜")
    supplier = location_singleton("supplier")
    stock_move(
        moves=[
            Move(supplier, location_for_agent(city, "cloud"), sku, 2),
            Move(supplier, location_for_agent(partner, "cloud"), sku, 40),
            Move(supplier, location_singleton("warehouse"), sku, 100),
        ],
        reason="receipt",
    )
    return {"sku": sku, "city": city, "vip": vip, "partner": partner}


# --- 9: availability before submitting ------------------------------------------------------


def test_the_order_page_says_what_the_supplier_lacks_before_the_order_exists(world):
    sku, vip = world["sku"], world["vip"]
    client = login(vip)
    page = client.get("/m/order/")
    assert 'data-testid="supplier-stock-GLOW-30"' in html(page) and "Supplier has it in stock" in html(page)
    response = client.post("/m/order/", {"token": token(page), f"q{sku.pk}": "10"})
    text = html(response)
    assert response.status_code == 200 and Order.objects.count() == 0
    assert "short by 8 units." in text and "A 联创 above your supplier has it." in text
    # Never another agent's name or quantity.
    assert "联创赵敏" not in text and ">40<" not in text and "40 units" not in text
    response = client.post("/m/order/", {"token": token(page), f"q{sku.pk}": "10", "short_ok": "1"})
    assert response.status_code == 302 and Order.objects.get().seller == world["city"]


def test_the_upgrade_page_says_what_the_supplier_lacks_too(world):
    """An upgrade is an order like a restock: the 特约 moving up to 市代 buys from the 联创 (40
    units), so 50 units are 10 short and the company's warehouse is named, before the order exists."""
    sku, vip = world["sku"], world["vip"]
    client = login(vip)
    page = client.get("/m/upgrade/?to=city")
    assert page.status_code == 200 and 'data-testid="supplier-stock-GLOW-30"' in html(page)
    assert "Supplier has it in stock" in html(page)
    response = client.post("/m/upgrade/", {"token": token(page), "to": "city", f"q{sku.pk}": "50"})
    text = html(response)
    assert response.status_code == 200 and Order.objects.count() == 0
    assert "short by 10 units." in text and "The company warehouse has it." in text
    response = client.post("/m/upgrade/", {"token": token(page), "to": "city", f"q{sku.pk}": "50", "short_ok": "1"})
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.kind, order.seller) == ("upgrade", world["partner"])


def test_an_order_the_supplier_can_fill_is_submitted_at_once(world):
    sku, client = world["sku"], login(world["vip"])
    response = client.post("/m/order/", {"token": token(client.get("/m/order/")), f"q{sku.pk}": "2"})
    assert response.status_code == 302 and Order.objects.count() == 1


def test_when_nobody_upstream_has_it_the_company_is_named(world):
    sku, client = world["sku"], login(world["vip"])
    text = html(client.post("/m/order/", {"token": token(client.get("/m/order/")), f"q{sku.pk}": "60"}))
    assert "short by 58 units." in text and "The company warehouse has it." in text
    text = html(client.post("/m/order/", {"token": token(client.get("/m/order/")), f"q{sku.pk}": "600"}))
    assert "Nobody along the supply chain has it now." in text


# --- 10: cancel confirmation and notices ----------------------------------------------------


def transfer_paid(world, units=2) -> Order:
    vip, city = world["vip"], world["city"]
    order = services.order_submit(buyer=vip, lines=[(world["sku"].code, units)], by=vip.user)
    services.order_approve(order=order, by=city.user)
    payment = services.payment_submit_transfer(order=order, by=vip.user, screenshot=png())
    services.payment_confirm(payment=payment, by=city.user)
    order.refresh_from_db()
    return order


def test_cancel_is_confirmed_first_and_the_seller_sees_it_until_they_open_it(world):
    vip, city = world["vip"], world["city"]
    order = transfer_paid(world)
    as_vip, as_city = login(vip), login(city)
    detail = html(as_vip.get(f"/m/orders/{order.number}/"))
    assert f'href="/m/orders/{order.number}/cancel/confirm/"' in detail
    assert f'action="/m/orders/{order.number}/cancel/"' not in detail  # no one-tap cancel any more
    # A bare POST (the old one tap) cancels nothing.
    assert as_vip.post(f"/m/orders/{order.number}/cancel/", {"note": ""}).status_code == 400
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    confirm = html(as_vip.get(f"/m/orders/{order.number}/cancel/confirm/"))
    assert "¥160.00 goes back to your wallet (货款), taken from 市代王芳's wallet." in confirm
    assert "You paid 市代王芳 by transfer" in confirm
    assert as_vip.post(f"/m/orders/{order.number}/cancel/", {"note": "买错了", "confirm": "1"}).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    # The seller's 待我处理 (in Chinese, their language) lists it until they open it.
    home = html(login(city, language="zh-hans").get("/m/"))
    assert 'data-testid="notice"' in home and order.number in home and "¥160.00" in home
    assert 'data-testid="notice"' not in html(as_vip.get("/m/"))  # the buyer did it
    notice = re.search(r'href="(/m/notices/\d+/)"', home).group(1)
    response = as_city.get(notice)
    assert response.status_code == 302 and response["Location"] == f"/m/fill/{order.number}/"
    assert 'data-testid="notice"' not in html(as_city.get("/m/"))
    # Someone else's notice is not found.
    assert login(vip).get(notice).status_code == 404


def test_the_api_cancel_stays_one_call_and_still_tells_the_seller(world):
    from weishang.trade.selectors import unseen_notices

    order = transfer_paid(world)
    services.order_cancel(order=order, by=world["vip"].user, note="")
    assert unseen_notices(agent=world["city"]).count() == 1


# --- 11: receiving accounts -----------------------------------------------------------------


def test_an_agent_adds_edits_and_removes_receiving_accounts(world, django_capture_on_commit_callbacks):
    city = world["city"]
    client = login(city)
    assert 'href="/m/payment-methods/"' in html(client.get("/m/wallet/"))
    response = client.post("/m/payment-methods/", {"kind": "wechat", "holder": "王芳"})
    assert response.status_code == 400 and "Upload the QR code" in html(response)
    response = client.post("/m/payment-methods/", {"kind": "bank", "holder": "王芳", "bank": "招商银行"})
    assert response.status_code == 400 and "Enter the bank and the account number." in html(response)
    not_image = SimpleUploadedFile("qr.png", b"<script>alert(1)</script>", content_type="image/png")
    response = client.post("/m/payment-methods/", {"kind": "wechat", "holder": "王芳", "qr_image": not_image})
    assert response.status_code == 400 and ReceivingAccount.objects.count() == 0
    added = client.post("/m/payment-methods/", {"kind": "wechat", "holder": "王芳", "qr_image": png()})
    assert added.status_code == 302
    assert (
        client.post(
            "/m/payment-methods/",
            {"kind": "bank", "holder": "王芳", "bank": "招商银行 深圳分行", "account_number": "6225 8800 1234 5678"},
        ).status_code
        == 302
    )
    wechat, bank = ReceivingAccount.objects.order_by("pk")
    assert wechat.agent == city and wechat.qr_image.name.startswith("receiving/") and "qr" not in wechat.qr_image.name
    assert (
        client.post(
            f"/m/payment-methods/{bank.pk}/",
            {"kind": "bank", "holder": "王芳", "bank": "招商银行", "account_number": "6225 0000"},
        ).status_code
        == 302
    )
    bank.refresh_from_db()
    assert bank.account_number == "6225 0000"
    # Another agent can neither edit nor remove them.
    other = login(world["vip"])
    assert (
        other.post(
            f"/m/payment-methods/{bank.pk}/", {"kind": "bank", "holder": "x", "bank": "x", "account_number": "1"}
        ).status_code
        == 404
    )
    assert other.post(f"/m/payment-methods/{bank.pk}/delete/").status_code == 404
    assert client.post(f"/m/payment-methods/{bank.pk}/delete/").status_code == 302
    assert list(ReceivingAccount.objects.all()) == [wechat]
    stored = wechat.qr_image.path
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/m/payment-methods/{wechat.pk}/delete/").status_code == 302
    assert not ReceivingAccount.objects.exists() and not os.path.exists(stored)


def test_the_pay_page_shows_the_sellers_accounts_amount_and_number(world, make_agent, django_user_model):
    vip, city = world["vip"], world["city"]
    account = services.receiving_account_save(
        by=city.user, agent=city, data={"kind": "wechat", "holder": "王芳"}, qr_image=png()
    )
    services.receiving_account_save(
        by=city.user,
        agent=city,
        data={"kind": "bank", "holder": "王芳", "bank": "招商银行", "account_number": "6225 1234"},
    )
    order = services.order_submit(buyer=vip, lines=[(world["sku"].code, 2)], by=vip.user)
    as_vip = login(vip)
    qr = f"/m/receiving/{account.pk}/qr/"
    # Before the order waits for payment, the buyer has no business with the QR code.
    assert as_vip.get(qr).status_code == 404
    services.order_approve(order=order, by=city.user)
    page = html(as_vip.get(f"/m/orders/{order.number}/"))
    assert 'data-testid="pay-amount">¥160.00<' in page and f'data-testid="pay-note">{order.number}<' in page
    assert "6225 1234" in page and "招商银行" in page and f'src="{qr}"' in page
    response = as_vip.get(qr)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert login(city).get(qr).status_code == 200  # the owner
    assert login(make_agent("vip", password=PASSWORD)).get(qr).status_code == 404  # an outsider
    assert Client().get(qr).status_code == 404  # logged out
    assert as_vip.get("/m/receiving/99999999999999999999999/qr/").status_code == 404
    assert account.qr_image.url not in page


def test_a_company_order_shows_the_brands_accounts(world, make_staff, make_agent):
    Brand.objects.update(supply_mode=SupplyMode.COMPANY)
    partner = world["partner"]
    finance = make_staff("add_receivingaccount", "change_receivingaccount", "view_receivingaccount")
    account = services.receiving_account_save(
        by=finance, agent=None, data={"kind": "alipay", "holder": "品牌公司"}, qr_image=png()
    )
    with pytest.raises(Forbidden):
        services.receiving_account_save(
            by=partner.user, agent=None, data={"kind": "alipay", "holder": "x"}, qr_image=png()
        )
    order = services.order_submit(buyer=partner, lines=[(world["sku"].code, 100)], by=partner.user)
    services.order_approve(order=order, by=make_staff("change_order"))
    page = html(login(partner).get(f"/m/orders/{order.number}/"))
    assert "品牌公司" in page and f"/m/receiving/{account.pk}/qr/" in page
    assert login(partner).get(f"/m/receiving/{account.pk}/qr/").status_code == 200
    # The brand's accounts are also where every agent tops up their wallet.
    assert f"/m/receiving/{account.pk}/qr/" in html(login(world["vip"]).get("/m/wallet/"))
    assert login(world["vip"]).get(f"/m/receiving/{account.pk}/qr/").status_code == 200
    assert Client().get(f"/m/receiving/{account.pk}/qr/").status_code == 404


# --- 8f: transfer screenshots ---------------------------------------------------------------


@pytest.fixture
def finance(make_staff):
    return make_staff("view_payment", "change_payment")


def test_a_transfer_screenshot_is_for_the_buyer_the_seller_and_finance_only(world, make_agent, make_staff, finance):
    vip, city = world["vip"], world["city"]
    order = services.order_submit(buyer=vip, lines=[(world["sku"].code, 2)], by=vip.user)
    services.order_approve(order=order, by=city.user)
    payment = services.payment_submit_transfer(order=order, by=vip.user, screenshot=png((1, 2, 3)))
    url = f"/m/payments/{payment.pk}/screenshot/"
    stored = payment.screenshot.read()
    for who in (vip, city, finance):
        response = login(who).get(url)
        assert response.status_code == 200 and b"".join(response.streaming_content) == stored
    warehouse = make_staff("change_order")
    for outsider in (
        make_agent("vip", referrer=city, password=PASSWORD),
        make_agent("city", password=PASSWORD),
        warehouse,
    ):
        assert login(outsider).get(url).status_code == 404
    assert Client().get(url).status_code == 404
    assert Client().get(f"/m/payments/{payment.pk + 99}/screenshot/").status_code == 404
    assert login(vip).get("/m/payments/99999999999999999999999/screenshot/").status_code == 404
    assert login(city).get("/m/notices/99999999999999999999999/").status_code == 404
    # The pages link the view, never the storage URL.
    assert url in html(login(vip).get(f"/m/orders/{order.number}/"))
    assert url in html(login(city).get(f"/m/fill/{order.number}/"))
    assert payment.screenshot.url not in html(login(city).get(f"/m/fill/{order.number}/"))
    assert Payment.objects.count() == 1
