"""Journey, in Chinese on a phone (M10, promotions): a consumer opens the demo 特约's shop, sees
the face mask's flash sale with its price, the units left and a countdown, claims the brand's
新客满200减30 coupon with her phone number, finds it filled in on the order form, orders a serum
and pays ¥30 less; her order page shows the coupon's discount."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from browser_steps import expect

from weishang.promotions.models import Coupon, CouponStatus
from weishang.trade.models import Order

pytestmark = pytest.mark.browser
PHONE = "13912349999"


def test_a_consumer_claims_a_coupon_in_the_shop_and_pays_less(demo, phone, shot):
    shop = phone("zh-CN")
    shop.goto(f"/s/{demo.vip.invite_code}/")
    flash = shop.get_by_test_id("flash-GLOW-MASK5")
    expect(flash).to_contain_text("¥59.00")
    expect(shop.locator(".countdown").first).to_have_text(re.compile(r"\d+:\d\d:\d\d"))  # counting down
    expect(shop.get_by_text("剩 48 件")).to_be_visible()

    offer = shop.locator("#coupons li", has_text="新客满200减30")
    offer.get_by_label("手机号").fill(PHONE)
    offer.get_by_role("button", name="领取").click()
    expect(shop.get_by_role("status")).to_contain_text("领取成功")
    code = Coupon.objects.get(customer__phone=PHONE).code
    form = shop.locator("#order")
    expect(form.get_by_label("优惠券码（可不填）")).to_have_value(code)
    shot(shop, "coupon-claimed")

    form.locator("li.product", has_text="焕颜修护精华 30ml").get_by_label("件数").fill("1")
    form.get_by_label("收货人").fill("周女士")
    form.get_by_label("手机号").fill(PHONE)
    form.get_by_label("省份").select_option(label="上海市")
    form.get_by_label("城市").select_option(label="徐汇区")
    form.get_by_label("详细地址（街道、门牌号）").fill("漕溪北路 1 号")
    form.get_by_role("button", name="下单").click()
    expect(shop.get_by_test_id("discount")).to_have_text("−¥30.00")
    expect(shop.get_by_test_id("total")).to_have_text("¥268.00")
    shot(shop, "paid-less")
    order = Order.objects.get(customer__phone=PHONE)
    assert (order.total, order.discount) == (Decimal("268.00"), Decimal("30.00"))
    assert Coupon.objects.get(code=code).status == CouponStatus.USED
