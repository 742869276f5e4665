"""Promotions under concurrent checkouts: one coupon tapped by 20 checkouts at once is used once;
a flash sale of 5 units with 20 buyers at once sells exactly 5; a coupon offer with 5 coupons
claimed by 20 people gives out 5. Real threads, real transactions (SQLite serialises the writers;
on PostgreSQL the guarded UPDATEs do)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from threads import run_together  # tests/concurrency/threads.py

from tests.stock_helpers import receive
from weishang.catalog.models import SKU, Product
from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.core.models import Brand, SupplyMode
from weishang.promotions import services as promos
from weishang.promotions.models import Coupon, CouponOffer, CouponStatus, DiscountKind, FlashSale, Redemption
from weishang.trade import stock
from weishang.trade.models import LocationKind, Order

pytestmark = pytest.mark.django_db(transaction=True)
N = 20


@pytest.fixture
def shop(db, levels, make_agent):
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    sku = SKU.objects.create(
        product=Product.objects.create(name="焕颜"), code="A", name="修护精华", retail_price=Decimal("100.00")
    )
    seller = make_agent("general")
    receive(sku, 100, into=stock.location_for_agent(seller, LocationKind.CLOUD))
    boss = get_user_model().objects.create_user(username="boss", is_staff=True)
    return sku, seller, boss


def checkout(seller, sku, phone, code="", key=None):
    return lambda: promos.shop_order_place(
        seller=seller,
        name="顾客",
        phone=phone,
        address="上海",
        lines=[(sku, 1)],
        coupon_code=code,
        idempotency_key=key,
    )


def test_twenty_checkouts_with_one_coupon_use_it_once(shop):
    sku, seller, boss = shop
    now = clock.now()
    offer = promos.coupon_offer_create(
        by=boss,
        name="立减10元",
        kind=DiscountKind.AMOUNT,
        amount_off="10",
        valid_from=now - timedelta(days=1),
        valid_to=now + timedelta(days=1),
        total_quantity=10,
        budget="100",
    )
    coupon = promos.coupon_claim(offer=offer, phone="13900000001")
    results = run_together(*[checkout(seller, sku, "13900000001", coupon.code, key=f"tap-{i}") for i in range(N)])
    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(placed) == 1, results
    assert all(isinstance(r, BusinessError) and r.field == "coupon" for r in refused), refused
    assert placed[0].total == Decimal("90.00")
    assert Coupon.objects.get(pk=coupon.pk).status == CouponStatus.USED
    assert Redemption.objects.filter(coupon=coupon).count() == 1
    assert CouponOffer.objects.get(pk=offer.pk).spent == Decimal("10.00")


def test_flash_sale_of_five_with_twenty_buyers_sells_exactly_five(shop):
    sku, seller, boss = shop
    now = clock.now()
    sale = promos.flash_sale_create(
        by=boss,
        name="秒杀",
        sku=sku,
        price="59",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
        quantity=5,
        per_customer=1,
    )
    results = run_together(*[checkout(seller, sku, f"1390000{i:04d}") for i in range(N)])
    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, BusinessError) for r in refused), refused
    at_flash = [o for o in placed if o.total == Decimal("59.00")]
    # once the 5 are gone a buyer is refused (not silently charged the retail price)
    assert len(at_flash) == 5 and len(placed) == 5, results
    assert FlashSale.objects.get(pk=sale.pk).sold == 5
    assert sum(Redemption.objects.filter(flash_sale=sale).values_list("units", flat=True)) == 5


def test_five_coupons_claimed_by_twenty_people(shop):
    sku, seller, boss = shop
    now = clock.now()
    offer = promos.coupon_offer_create(
        by=boss,
        name="新客券",
        kind=DiscountKind.PERCENT,
        percent_off=10,
        valid_from=now - timedelta(days=1),
        valid_to=now + timedelta(days=1),
        total_quantity=5,
    )
    results = run_together(
        *[(lambda i=i: promos.coupon_claim(offer=offer.pk, phone=f"1380000{i:04d}")) for i in range(N)]
    )
    assert len([r for r in results if isinstance(r, Coupon)]) == 5, results
    assert all(isinstance(r, BusinessError) for r in results if isinstance(r, Exception))
    assert Coupon.objects.filter(offer=offer).count() == 5 == CouponOffer.objects.get(pk=offer.pk).claimed
