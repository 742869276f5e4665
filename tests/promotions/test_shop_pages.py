"""Promotions on the shop page: a consumer claims a coupon with their phone, the order form offers
it, the order costs less and its page shows the discount; a flash sale shows its price, the units
left and a countdown; bad input is refused with a message and changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from weishang.catalog.models import SKU, Product
from weishang.core import clock
from weishang.core.models import Brand, SupplyMode
from weishang.promotions import services as promos
from weishang.promotions.models import Coupon, CouponOffer, DiscountKind
from weishang.trade.models import Order
from weishang.trade.stock import Move, location_for_agent, location_singleton, stock_move

PHONE = "13900001111"


@pytest.fixture
def shop(make_agent):
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    sku = SKU.objects.create(
        product=Product.objects.create(name="焕颜精华"), code="GLOW", name="焕颜精华 30ml", retail_price=Decimal("199")
    )
    agent = make_agent("vip", real_name="特约李娜")
    stock_move(
        moves=[Move(location_singleton("supplier"), location_for_agent(agent, "cloud"), sku, 10)], reason="receipt"
    )
    boss = get_user_model().objects.create_user(username="boss", is_staff=True)
    now = clock.now()
    offer = promos.coupon_offer_create(
        by=boss,
        name="新客立减30",
        kind=DiscountKind.AMOUNT,
        amount_off="30",
        min_spend="100",
        valid_from=now - timedelta(days=1),
        valid_to=now + timedelta(days=3),
        total_quantity=10,
    )
    return {"agent": agent, "sku": sku, "url": f"/s/{agent.invite_code}/", "offer": offer, "boss": boss}


def token(text: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', text).group(1)


def test_claim_in_the_shop_then_pay_less(client, shop):
    page = client.get(shop["url"]).content.decode()
    assert "新客立减30" in page and "优惠券" in page
    claim = f"{shop['url']}coupons/{shop['offer'].pk}/claim/"
    answer = client.post(claim, {"phone": PHONE}, follow=True)
    coupon = Coupon.objects.get(customer__phone=PHONE)
    text = answer.content.decode()
    assert coupon.code in text and "领取成功" in text
    assert f'value="{coupon.code}"' in text  # filled in on the order form
    answer = client.post(
        shop["url"],
        {
            "token": token(text),
            f"q{shop['sku'].pk}": "1",
            "name": "张三",
            "phone": PHONE,
            "region": "110105",
            "address": "建国路 8 号",
            "coupon": coupon.code,
        },
        follow=True,
    )
    order = Order.objects.get()
    assert (order.total, order.discount) == (Decimal("169.00"), Decimal("30.00"))
    text = answer.content.decode()
    assert "−¥30.00" in text and "¥169.00" in text


def test_someone_elses_coupon_is_refused_on_the_form(client, shop):
    theirs = promos.coupon_claim(offer=shop["offer"], phone="13900002222")
    text = client.get(shop["url"]).content.decode()
    answer = client.post(
        shop["url"],
        {
            "token": token(text),
            f"q{shop['sku'].pk}": "1",
            "name": "张三",
            "phone": PHONE,
            "region": "110105",
            "address": "建国路 8 号",
            "coupon": theirs.code,
        },
    )
    assert answer.status_code == 404
    assert "没有这张优惠券" in answer.content.decode() or "No such coupon" in answer.content.decode()
    assert not Order.objects.exists()


def test_bad_claims_change_nothing(client, shop):
    url = shop["url"]
    answer = client.post(f"{url}coupons/{shop['offer'].pk}/claim/", {"phone": "12345"}, follow=True)
    assert answer.status_code == 200 and not Coupon.objects.exists()
    answer = client.post(f"{url}coupons/999999/claim/", {"phone": PHONE}, follow=True)
    assert answer.status_code == 200 and not Coupon.objects.exists()
    assert client.get(f"{url}coupons/{shop['offer'].pk}/claim/").status_code == 405
    assert CouponOffer.objects.get().claimed == 0


def test_flash_sale_shows_price_units_left_and_countdown(client, shop):
    now = clock.now()
    promos.flash_sale_create(
        by=shop["boss"],
        name="秒杀",
        sku=shop["sku"],
        price="99",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=2),
        quantity=5,
    )
    text = client.get(shop["url"]).content.decode()
    assert "¥99.00" in text and "<s" in text and "剩 5 件" in text and 'class="countdown"' in text
