"""An agent's public shop through the API, as a mini-program shows it to a consumer: the products at
retail price with whether the shop has them; an order placed without logging in, once however often
it is retried; the order found again only with the phone that placed it; unknown and closed shops
are not found; errors say which field, in Chinese or English; the endpoints are limited per IP."""

from __future__ import annotations

import importlib.util
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from weishang.channel.services import agent_change_status
from weishang.trade.models import Order, OrderKind, OrderStatus

from .conftest import assert_matches_spec, error_of

_spec = importlib.util.spec_from_file_location(
    "rewards_conftest_public_api", Path(__file__).resolve().parents[1] / "rewards" / "conftest.py"
)
_rewards = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rewards)
catalog, r = _rewards.catalog, _rewards.r


@pytest.fixture
def seller(catalog, make_agent, r):
    """市代王芳, whose cloud stock holds 20 serums (the brand runs on cloud stock)."""
    agent = make_agent("city", real_name="市代王芳")
    r.receive(agent, catalog.skus["GLOW-30ML"], 20)
    return agent


def order_body(**changes) -> dict:
    return {
        "name": "顾客陈女士",
        "phone": "13812345678",
        "address": "上海市徐汇区漕溪北路 88 号",
        "lines": [{"sku": "GLOW-30ML", "quantity": 2}, {"sku": "GLOW-MASK5", "quantity": 1}],
        **changes,
    }


def test_the_shop_lists_products_at_retail_price_with_their_stock(api, seller, catalog):
    catalog.skus["GLOW-GIFT398"].active = False
    catalog.skus["GLOW-GIFT398"].save()
    response = api().get(f"/public/shops/{seller.invite_code}")
    assert response.status_code == 200
    assert_matches_spec(response, "get", "/public/shops/{invite_code}")
    body = response.json()
    assert (body["invite_code"], body["seller_name"], body["level"], body["level_name"], body["brand"]) == (
        seller.invite_code,
        "市代王芳",
        "city",
        "市代",
        "焕颜 GLOW",
    )
    products = {p["sku"]: p for p in body["products"]}
    assert set(products) == {"GLOW-30ML", "GLOW-50G", "GLOW-MASK5"}  # the gift pack is not on sale
    assert products["GLOW-30ML"] == {
        "sku": "GLOW-30ML",
        "name": "焕颜修护精华 30ml",
        "product": "焕颜修护系列",
        "description": "",
        "retail_price": "298.00",
        "in_stock": True,
    }
    assert products["GLOW-50G"]["retail_price"] == "198.00" and products["GLOW-50G"]["in_stock"] is False
    # The invite code is found whatever its case, as on the shop page.
    assert api().get(f"/public/shops/{seller.invite_code.lower()}").json()["seller_name"] == "市代王芳"


def test_unknown_and_closed_shops_are_not_found(api, seller, catalog):
    for code in ("NOSUCH99", "x" * 300):
        response = api(language="en").get(f"/public/shops/{code}")
        assert response.status_code == 404 and error_of(response)["message"] == "Not found."
        assert_matches_spec(response, "get", "/public/shops/{invite_code}")
    agent_change_status(agent=seller, action="suspend", reason="test")
    assert api().get(f"/public/shops/{seller.invite_code}").status_code == 404
    response = api().post(f"/public/shops/{seller.invite_code}/orders", order_body())
    assert response.status_code == 404 and Order.objects.count() == 0


def test_a_consumer_orders_without_logging_in_and_follows_the_order_with_their_phone(api, seller):
    client = api(ip="10.8.8.8")
    response = client.post(f"/public/shops/{seller.invite_code}/orders", order_body())
    assert response.status_code == 201
    assert_matches_spec(response, "post", "/public/shops/{invite_code}/orders")
    body = response.json()
    order = Order.objects.get(number=body["number"])
    assert (order.kind, order.seller, order.customer.phone, order.total) == (
        OrderKind.RETAIL,
        seller,
        "13812345678",
        Decimal("695.00"),
    )  # 2 × 298 + 99
    assert body["status"] == "awaiting_payment" and body["total"] == "695.00"
    assert body["can_pay"] is True and body["payment_pending"] is False
    assert body["seller_name"] == "市代王芳" and body["ship_phone_masked"] == "138****5678"
    assert [(x["sku"], x["quantity"], x["unit_price"], x["line_total"]) for x in body["lines"]] == [
        ("GLOW-30ML", 2, "298.00", "596.00"),
        ("GLOW-MASK5", 1, "99.00", "99.00"),
    ]
    assert "13812345678" not in response.content.decode()

    path = f"/public/shops/{seller.invite_code}/orders/{order.number}"
    found = api(ip="10.9.9.9").get(path, {"phone": "138 1234 5678"})  # any device, spaces allowed
    assert found.status_code == 200 and found.json() == body
    assert_matches_spec(found, "get", "/public/shops/{invite_code}/orders/{number}")
    # Any other phone, no phone, another shop, or an agent's own order number: not found.
    for params in ({"phone": "13812345679"}, {"phone": "x"}):
        response = api().get(path, params)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
        assert_matches_spec(response, "get", "/public/shops/{invite_code}/orders/{number}")
    assert api().get(path).status_code == 422
    assert api().get(f"/public/shops/NOSUCH99/orders/{order.number}", {"phone": "13812345678"}).status_code == 404


def test_a_retried_order_is_placed_once(api, seller):
    client = api(ip="10.8.8.8")
    key = str(uuid.uuid4())
    first = client.post(f"/public/shops/{seller.invite_code}/orders", order_body(), **{"Idempotency-Key": key})
    again = client.post(f"/public/shops/{seller.invite_code}/orders", order_body(), **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Order.objects.filter(kind=OrderKind.RETAIL).count() == 1


@pytest.mark.parametrize(
    "changes, status, field, chinese, english",
    [
        ({"phone": "12345"}, 400, "phone", "手机号", "11-digit"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, 400, "lines[0].sku", "NOPE", "Unknown product NOPE."),
        ({"name": "   "}, 400, "name", "", "Enter your name and address."),
    ],
)
def test_bad_orders_say_which_field_in_the_callers_language(api, seller, changes, status, field, chinese, english):
    zh = api().post(f"/public/shops/{seller.invite_code}/orders", order_body(**changes))
    assert zh.status_code == status
    assert_matches_spec(zh, "post", "/public/shops/{invite_code}/orders")
    error = error_of(zh)
    assert error["fields"] == {field: [error["message"]]} and chinese in error["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    en = api(language="en").post(f"/public/shops/{seller.invite_code}/orders", order_body(**changes))
    assert english in error_of(en)["message"]
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "GLOW-30ML", "quantity": 0}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "GLOW-30ML", "quantity": "two"}]}, "lines.0.quantity"),
        ({"address": "x" * 201}, "address"),
        ({"phone": None}, "phone"),
    ],
)
def test_malformed_orders_are_422_on_the_field(api, seller, changes, field):
    response = api().post(f"/public/shops/{seller.invite_code}/orders", order_body(**changes))
    assert response.status_code == 422 and list(error_of(response)["fields"]) == [field]
    assert_matches_spec(response, "post", "/public/shops/{invite_code}/orders")
    assert Order.objects.count() == 0


def test_a_paid_order_shows_it_and_asks_for_no_more_money(api, seller, r):
    body = api().post(f"/public/shops/{seller.invite_code}/orders", order_body()).json()
    order = Order.objects.get(number=body["number"])
    r.pay(order)
    found = api().get(f"/public/shops/{seller.invite_code}/orders/{order.number}", {"phone": "13812345678"}).json()
    assert found["status"] == OrderStatus.PAID and found["paid_at"] and found["can_pay"] is False


def test_public_endpoints_are_limited_per_ip(api, seller, settings):
    settings.WEISHANG_API_RATES = {"public": "3/m"}
    path = f"/public/shops/{seller.invite_code}"
    statuses = [api(ip="10.1.1.1").get(path).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api(ip="10.1.1.1").post(f"{path}/orders", order_body())
    assert limited.status_code == 429 and error_of(limited)["code"] == "rate_limited"
    assert_matches_spec(limited, "post", "/public/shops/{invite_code}/orders")
    assert Order.objects.count() == 0
    assert api(ip="10.2.2.2").get(path).status_code == 200


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": "陈\x00女士"}, "name"),
        ({"address": "\ud800"}, "address"),
        ({"lines": [{"sku": "GLOW\x00", "quantity": 1}]}, "lines.0.sku"),
    ],
)
def test_text_no_database_can_store_is_a_422_not_a_500(api, seller, changes, field):
    response = api().post(f"/public/shops/{seller.invite_code}/orders", order_body(**changes))
    assert response.status_code == 422 and list(error_of(response)["fields"]) == [field]
    assert Order.objects.count() == 0
    for path in (f"/public/shops/{seller.invite_code}%00", f"/public/shops/{seller.invite_code}/orders/R1%00"):
        assert api().get(path, {"phone": "13812345678"}).status_code == 404
    response = api().get(f"/public/shops/{seller.invite_code}/orders/R1", {"phone": "138\x00"})
    assert response.status_code == 422 and list(error_of(response)["fields"]) == ["phone"]
