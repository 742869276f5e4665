"""Promotions through the public API: a shop's coupons and flash sales, claiming a coupon with a
phone number, and using it on a shop order (the order answers its discount); bad input is a 4xx
with the field named, never a 500."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client

from weishang.catalog.models import SKU, Product
from weishang.core import clock
from weishang.core.models import Brand, SupplyMode
from weishang.promotions import services as promos
from weishang.promotions.models import Coupon, DiscountKind
from weishang.trade.models import Order
from weishang.trade.stock import Move, location_for_agent, location_singleton, stock_move

PHONE = "13812345678"


@pytest.fixture
def shop(make_agent):
    for each in caches.all():
        each.clear()
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    sku = SKU.objects.create(
        product=Product.objects.create(name="焕颜"), code="GLOW-30ML", name="精华", retail_price=Decimal("298")
    )
    agent = make_agent("city")
    stock_move(moves=[Move(location_singleton("supplier"), location_for_agent(agent, "cloud"), sku, 20)], reason="r")
    boss = get_user_model().objects.create_user(username="boss", is_staff=True)
    now = clock.now()
    offer = promos.coupon_offer_create(
        by=boss,
        name="九折券",
        kind=DiscountKind.PERCENT,
        percent_off=10,
        max_discount="50",
        valid_from=now - timedelta(days=1),
        valid_to=now + timedelta(days=1),
        total_quantity=3,
    )
    promos.flash_sale_create(
        by=boss,
        name="秒杀",
        sku=sku,
        price="199",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
        quantity=5,
    )
    return {"agent": agent, "offer": offer, "base": f"/api/v1/public/shops/{agent.invite_code}"}


def post(path, body):
    return Client().post(path, json.dumps(body), content_type="application/json")


def test_claim_and_use_a_coupon_through_the_api(shop):
    listed = Client().get(shop["base"] + "/promotions").json()
    assert [c["name"] for c in listed["coupons"]] == ["九折券"] and listed["coupons"][0]["left"] == 3
    assert listed["flash_sales"][0]["running"] is False and listed["flash_sales"][0]["left"] == 5
    claimed = post(shop["base"] + "/coupons", {"offer": shop["offer"].pk, "phone": PHONE})
    assert claimed.status_code == 201, claimed.content
    code = claimed.json()["code"]
    body = {
        "name": "陈女士",
        "phone": PHONE,
        "address": "上海市徐汇区",
        "lines": [{"sku": "GLOW-30ML", "quantity": 2}],
        "coupon": code,
    }
    placed = post(shop["base"] + "/orders", body)
    assert placed.status_code == 201, placed.content
    assert placed.json()["discount"] == "50.00" and placed.json()["total"] == "546.00"  # 59.60 capped at 50
    again = post(shop["base"] + "/orders", body)
    assert again.status_code == 409 and "coupon" in again.json()["error"]["fields"]
    assert Order.objects.count() == 1


def test_hostile_input_is_a_clear_4xx(shop):
    base = shop["base"]
    assert post(base + "/coupons", {"offer": shop["offer"].pk, "phone": "123"}).status_code == 400
    assert post(base + "/coupons", {"offer": -1, "phone": PHONE}).status_code in (400, 422)
    assert post(base + "/coupons", {"offer": 99999, "phone": PHONE}).status_code == 404
    assert not Coupon.objects.exists()
    order = {"name": "陈女士", "phone": PHONE, "address": "上海", "lines": [{"sku": "GLOW-30ML", "quantity": 1}]}
    foreign = post(base + "/orders", {**order, "coupon": "NOSUCHCODE"})
    assert foreign.status_code == 404 and "coupon" in foreign.json()["error"]["fields"]
    negative = post(base + "/orders", {**order, "lines": [{"sku": "GLOW-30ML", "quantity": -3}]})
    assert negative.status_code in (400, 422)
    assert post(base + "/orders", {**order, "coupon": "X" * 300}).status_code in (400, 422)
    assert not Order.objects.exists()
    assert Client().get("/api/v1/public/shops/NOSUCH99/promotions").status_code == 404
