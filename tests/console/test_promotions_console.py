"""Promotions in the console (增长): the owner and operations create coupon offers and flash
sales, pause and resume them, give a coupon to a customer and read the report; other roles are
refused every page; bad input is shown on the form and changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from weishang.catalog.models import SKU, Product
from weishang.core.models import Brand
from weishang.promotions.models import Coupon, CouponOffer, FlashSale, PromotionStatus

BASE = "/console/promotions/"


@pytest.fixture
def sku(db):
    Brand.objects.create(name="测试品牌")
    return SKU.objects.create(
        product=Product.objects.create(name="精华"), code="S-1", name="精华 30ml", retail_price=Decimal("100")
    )


def offer_form(**kw) -> dict:
    return {
        "name": "满100减20",
        "kind": "amount",
        "amount_off": "20",
        "min_spend": "100",
        "valid_from_0": "2026-11-01",
        "valid_from_1": "00:00",
        "valid_to_0": "2026-12-31",
        "valid_to_1": "23:59",
        "total_quantity": "100",
        "per_customer": "1",
        "budget": "2000",
    } | kw


@pytest.mark.parametrize("role", ["owner", "operations"])
def test_create_pause_give_and_report(client, staff, sku, role):
    client.force_login(staff(role))
    assert client.get(BASE + "couponoffer/new/").status_code == 200
    bad = client.post(BASE + "couponoffer/new/", offer_form(kind="percent", percent_off="150", amount_off=""))
    assert bad.status_code == 400 and "1 到 100" in bad.content.decode()
    assert not CouponOffer.objects.exists()
    answer = client.post(BASE + "couponoffer/new/", offer_form())
    offer = CouponOffer.objects.get()
    assert answer.status_code == 302 and offer.amount_off == Decimal("20.00") and offer.budget == Decimal("2000.00")
    page = client.get(f"{BASE}couponoffer/{offer.pk}/change/").content.decode()
    assert "满100减20" in page and "0 / 100" in page
    assert client.post(f"{BASE}couponoffer/{offer.pk}/toggle/").status_code == 302
    assert CouponOffer.objects.get().status == PromotionStatus.PAUSED
    client.post(f"{BASE}couponoffer/{offer.pk}/toggle/")
    assert CouponOffer.objects.get().status == PromotionStatus.ACTIVE
    gave = client.post(f"{BASE}couponoffer/{offer.pk}/give/", {"phone": "13900001111"})
    assert gave.status_code == 302 and Coupon.objects.get().customer.phone == "13900001111"
    flash = client.post(
        BASE + "flashsale/new/",
        {
            "name": "秒杀",
            "sku": sku.pk,
            "price": "59",
            "starts_at_0": "2026-11-01",
            "starts_at_1": "10:00",
            "ends_at_0": "2026-11-01",
            "ends_at_1": "12:00",
            "quantity": "5",
            "per_customer": "1",
            "funded_by": "brand",
        },
    )
    assert flash.status_code == 302 and FlashSale.objects.get().price == Decimal("59.00")
    report = client.get(BASE + "couponoffer/report/").content.decode()
    assert "促销报表" in report and "满100减20" in report and "秒杀" in report and "¥2000.00" in report


@pytest.mark.parametrize("role", ["finance", "warehouse", "lecturer", None])
def test_other_roles_are_refused(client, staff, sku, role):
    offer = CouponOffer.objects.create(
        name="券",
        amount_off=Decimal("5"),
        valid_from="2026-11-01T00:00:00+08:00",
        valid_to="2026-12-01T00:00:00+08:00",
        total_quantity=5,
    )
    client.force_login(staff(role))
    for url in (
        BASE + "couponoffer/",
        BASE + "couponoffer/new/",
        BASE + "couponoffer/report/",
        f"{BASE}couponoffer/{offer.pk}/toggle/",
        f"{BASE}couponoffer/{offer.pk}/give/",
        BASE + "flashsale/new/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{BASE}couponoffer/{offer.pk}/toggle/").status_code == 403
    assert client.post(BASE + "couponoffer/new/", offer_form()).status_code == 403
    assert CouponOffer.objects.get().status == PromotionStatus.ACTIVE and CouponOffer.objects.count() == 1
