"""Nothing an agent can reach shows or changes another team's data. Two separate teams; the
outsider tries every page and action of the phone app with the other team's ids and order
numbers, and every list page is checked for the other team's names: "not found", nothing
changes, nothing leaks. A downline cannot act as its own order's seller either."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import NoReverseMatch, reverse

from weishang.catalog.models import SKU, Product
from weishang.channel import services as channel_services
from weishang.channel.models import Application
from weishang.core.models import Brand, SupplyMode
from weishang.trade import services
from weishang.trade.models import Order, OrderTransition, Payment, StockLevel

_spec = importlib.util.spec_from_file_location("trade_pages", Path(__file__).with_name("test_trade_pages.py"))
_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_pages)
login, png, seed_cloud, html = _pages.login, _pages.png, _pages.seed_cloud, _pages.html
media = _pages.media


@pytest.fixture
def teams(make_agent):
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    product = Product.objects.create(name="焕颜精华")
    sku = SKU.objects.create(product=product, code="GLOW-30", name="焕颜精华 30ml", retail_price=Decimal("100"))
    city_a = make_agent("city", real_name="甲队市代王芳")
    vip_a = make_agent("vip", referrer=city_a, real_name="甲队特约李娜")
    city_b = make_agent("city", real_name="乙队市代赵敏")
    vip_b = make_agent("vip", referrer=city_b, real_name="乙队特约孙丽")
    for agent in (city_a, city_b):
        seed_cloud(agent, sku, 20)
    # Team A's business: an order with a transfer waiting, an application, a shop sale.
    order = services.order_submit(buyer=vip_a, lines=[(sku.code, 2)], by=vip_a.user)
    services.order_approve(order=order, by=city_a.user)
    payment = services.payment_submit_transfer(order=order, by=vip_a.user, screenshot=png())
    application = channel_services.application_submit(
        invite_code=city_a.invite_code,
        phone="13612345678",
        real_name="甲队申请人周婷",
        level_code="vip",
        password="pass-word-1",
    )
    sale = services.retail_order_submit(
        seller=city_a, name="甲队顾客吴女士", phone="13987654321", address="上海市徐汇区", lines=[(sku.code, 1)]
    )
    return {
        "a": (city_a, vip_a),
        "b": (city_b, vip_b),
        "order": order,
        "payment": payment,
        "application": application,
        "sale": sale,
        "sku": sku,
    }


def snapshot() -> dict:
    return {
        "orders": sorted(Order.objects.values_list("pk", "status", "total")),
        "transitions": OrderTransition.objects.count(),
        "payments": sorted(Payment.objects.values_list("pk", "status")),
        "stock": sorted(StockLevel.objects.values_list("location_id", "sku_id", "quantity")),
        "applications": sorted(Application.objects.values_list("pk", "status")),
    }


TEAM_A_TEXT = ("甲队市代王芳", "甲队特约李娜", "甲队申请人周婷", "甲队顾客吴女士", "13987654321", "13612345678")


def list_pages() -> list[str]:
    names = [
        "home",
        "my_orders",
        "fill",
        "stock",
        "wallet",
        "team",
        "applications",
        "rewards",
        "withdraw",
        "order_new",
        "upgrade_new",
        "customers",
        "upgrade_progress",
        "invite",
    ]
    out = []
    for name in names:
        try:
            out.append(reverse(f"web:{name}"))
        except NoReverseMatch:  # a page this checkout does not have
            continue
    return out + [reverse("web:fill") + "?all=1"]


def test_the_team_itself_sees_its_business(teams):
    """The control for the test below: the same pages do show team A's data to team A."""
    city_a, vip_a = teams["a"]
    insider = login(city_a)
    assert teams["order"].number in html(insider.get("/m/fill/?all=1"))
    assert "甲队申请人周婷" in html(insider.get("/m/applications/"))
    assert "甲队特约李娜" in html(insider.get("/m/team/"))
    assert teams["order"].number in html(login(vip_a).get("/m/orders/"))


@pytest.mark.parametrize("who", ["city", "vip"])
def test_list_pages_show_nothing_of_another_team(teams, who):
    outsider = teams["b"][0 if who == "city" else 1]
    client = login(outsider)
    for url in list_pages():
        response = client.get(url)
        assert response.status_code == 200, url
        text = html(response)
        leaked = [t for t in TEAM_A_TEXT + (teams["order"].number, teams["sale"].number) if t in text]
        assert leaked == [], (url, leaked)


def test_every_id_of_another_team_is_not_found_and_changes_nothing(teams):
    city_a, vip_a = teams["a"]
    city_b, vip_b = teams["b"]
    order, payment, sale = teams["order"], teams["payment"], teams["sale"]
    before = snapshot()
    for outsider in (city_b, vip_b):
        client = login(outsider)
        gets = [
            f"/m/orders/{order.number}/",
            f"/m/fill/{order.number}/",
            f"/m/fill/{sale.number}/",
            f"/m/team/{vip_a.pk}/",
            f"/m/team/{city_a.pk}/",
        ]
        for url in gets:
            assert client.get(url).status_code == 404, url
        posts = [
            f"/m/orders/{order.number}/cancel/",
            f"/m/orders/{order.number}/receive/",
            f"/m/orders/{order.number}/pay-online/",
            f"/m/orders/{order.number}/refund/",
            f"/m/fill/{order.number}/approve/",
            f"/m/fill/{order.number}/reject/",
            f"/m/fill/{order.number}/fill/",
            f"/m/fill/{sale.number}/delivered/",
            f"/m/fill/{order.number}/payments/{payment.pk}/confirm/",
            f"/m/fill/{order.number}/payments/{payment.pk}/reject/",
        ]
        for url in posts:
            response = client.post(url, {"reason": "试试", "note": "试试", "token": "x"})
            assert response.status_code == 404, url
        # Deciding someone else's application: refused, whatever the page answers.
        response = client.post(f"/m/applications/{teams['application'].pk}/decide/", {"decision": "approve"})
        assert response.status_code in (302, 403, 404)
        if response.status_code == 302:
            assert "甲队申请人周婷" not in html(client.get(response["Location"]))
    assert snapshot() == before


def test_a_buyer_cannot_act_as_the_seller_of_their_own_order(teams):
    city_a, vip_a = teams["a"]
    order, payment = teams["order"], teams["payment"]
    before = snapshot()
    client = login(vip_a)
    assert client.get(f"/m/fill/{order.number}/").status_code == 404
    for action in ("approve", "fill"):
        assert client.post(f"/m/fill/{order.number}/{action}/", {"token": "x"}).status_code == 404
    assert client.post(f"/m/fill/{order.number}/payments/{payment.pk}/confirm/", {}).status_code == 404
    # The upline cannot cancel or pay their downline's order either.
    upline = login(city_a)
    assert upline.get(f"/m/orders/{order.number}/").status_code == 404
    assert upline.post(f"/m/orders/{order.number}/cancel/", {}).status_code == 404
    assert snapshot() == before


def test_a_consumer_needs_the_phone_that_placed_the_order(teams, client):
    city_a, _ = teams["a"]
    sale = teams["sale"]
    url = f"/s/{city_a.invite_code}/o/{sale.number}/"
    assert client.get(url, {"phone": "13987654321"}).status_code == 200
    for phone in ("", "13900000000"):
        response = client.get(url, {"phone": phone})
        assert response.status_code in (200, 404) and "上海市徐汇区" not in html(response)
    city_b, _ = teams["b"]
    assert client.get(f"/s/{city_b.invite_code}/o/{sale.number}/", {"phone": "13987654321"}).status_code == 404
