"""Coupons and flash sales on shop orders: claim, use once, give back on cancellation or expiry,
the discount's arithmetic, the brand's share through the ledger, and hostile input."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model

from tests.stock_helpers import receive
from weishang.catalog.models import SKU, Product
from weishang.core.errors import BusinessError, Conflict, NotFound
from weishang.core.models import Brand, SupplyMode
from weishang.ledger.models import Account, Purpose
from weishang.ledger.selectors import ledger_verify
from weishang.promotions import selectors
from weishang.promotions import services as promos
from weishang.promotions.models import CouponStatus, DiscountKind, FundedBy, RedemptionStatus
from weishang.trade import services, stock
from weishang.trade.models import LocationKind, Order, OrderStatus

CN = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=CN)
PHONE = "13900001111"


@pytest.fixture
def world(db, levels, make_agent, clock):
    clock.freeze(NOW)
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    product = Product.objects.create(name="焕颜修护系列")
    sku = SKU.objects.create(product=product, code="A", name="修护精华", retail_price=Decimal("100.00"))
    other = SKU.objects.create(product=product, code="B", name="洁面乳", retail_price=Decimal("39.90"))
    seller = make_agent("general")
    boss = get_user_model().objects.create_user(username="boss", is_staff=True, is_superuser=True)
    for s in (sku, other):
        receive(s, 100, into=stock.location_for_agent(seller, LocationKind.CLOUD))
    return SimpleNamespace(sku=sku, other=other, seller=seller, boss=boss, make_agent=make_agent)


def offer(world, **kw):
    spec = {
        "by": world.boss,
        "name": "满100减20",
        "kind": DiscountKind.AMOUNT,
        "amount_off": "20",
        "min_spend": "100",
        "valid_from": NOW - timedelta(days=1),
        "valid_to": NOW + timedelta(days=7),
        "total_quantity": 100,
        "per_customer": 1,
        "budget": "1000",
    } | kw
    return promos.coupon_offer_create(**spec)


def place(world, *, code="", phone=PHONE, lines=None, seller=None, key=None):
    return promos.shop_order_place(
        seller=seller or world.seller,
        name="陈女士",
        phone=phone,
        address="上海市徐汇区",
        lines=lines or [(world.sku, 2)],
        coupon_code=code,
        idempotency_key=key,
    )


def pay(order, txn="TXN-1"):
    services.payment_credit_from_provider(
        notice=SimpleNamespace(
            transaction_id=txn,
            out_trade_no=order.number,
            amount_fen=int(order.total * 100),
            currency="CNY",
            state="SUCCESS",
        )
    )
    promos.redemptions_sync()  # the outbox consumer runs on commit; here, by hand
    return Order.objects.get(pk=order.pk)


def wallet(agent) -> Decimal:
    account = Account.objects.filter(owner=agent, purpose=Purpose.AGENT_WALLET).first()
    return account.balance if account else Decimal("0")


# --- claim, use, give back ------------------------------------------------------------------


def test_a_claimed_coupon_takes_its_amount_off_once(world):
    coupon = promos.coupon_claim(offer=offer(world), phone=PHONE, seller=world.seller)
    assert len(coupon.code) == 10 and coupon.status == CouponStatus.CLAIMED
    order = place(world, code=coupon.code.lower())  # typed in lower case: still the same code
    assert (order.subtotal, order.discount, order.total) == (Decimal("200.00"), Decimal("20.00"), Decimal("180.00"))
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.USED and coupon.order_id == order.pk
    with pytest.raises(Conflict) as used:
        place(world, code=coupon.code)
    assert used.value.field == "coupon"
    assert selectors.coupons_usable(phone=PHONE, seller=world.seller) == []


def test_a_retried_submission_uses_the_coupon_once(world):
    coupon = promos.coupon_claim(offer=offer(world), phone=PHONE)
    first = place(world, code=coupon.code, key="tap-1")
    again = place(world, code=coupon.code, key="tap-1")
    assert again.pk == first.pk
    assert selectors.offer_report(offer=coupon.offer)["orders"] == 1


def test_cancelled_or_expired_unpaid_order_gives_the_coupon_back(world):
    the_offer = offer(world)
    coupon = promos.coupon_claim(offer=the_offer, phone=PHONE)
    order = place(world, code=coupon.code)
    services.order_cancel(order=order, by=world.seller.user)
    assert promos.redemptions_sync() == 1
    coupon.refresh_from_db()
    the_offer.refresh_from_db()
    assert coupon.status == CouponStatus.CLAIMED and coupon.order_id is None and the_offer.spent == 0
    # used again, then left unpaid past the brand's hours: the expiry job gives it back too
    order = place(world, code=coupon.code)
    assert services.retail_orders_expire(now=NOW + timedelta(days=3)) == 1
    promos.redemptions_sync()
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.CLAIMED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


def test_no_coupon_back_after_completion_and_refund(world):
    coupon = promos.coupon_claim(offer=offer(world), phone=PHONE)
    order = pay(place(world, code=coupon.code))
    services.order_fill(order=order, by=world.seller.user)
    order = Order.objects.get(pk=order.pk)
    if order.status == OrderStatus.FULFILLED:
        services.order_mark_delivered(order=order, by=world.seller.user)
    services.refund_request(order=order, by=world.seller.user, note="过敏")
    services.refund_approve(order=order, by=world.seller.user)
    promos.redemptions_sync()
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.USED
    assert ledger_verify() == []


# --- the brand's share through the ledger ---------------------------------------------------


def test_brand_funded_discount_is_paid_to_the_seller_and_taken_back_on_refund(world):
    coupon = promos.coupon_claim(offer=offer(world), phone=PHONE)
    before = wallet(world.seller)
    order = pay(place(world, code=coupon.code))
    # the consumer paid 180 online; the seller gets 180 from the payment and 20 from the brand
    assert wallet(world.seller) - before == Decimal("200.00")
    expense = Account.objects.get(owner=None, purpose=Purpose.BRAND_PROMOTION_EXPENSE)
    assert expense.balance == Decimal("20.00")
    assert ledger_verify() == []
    promos.redemptions_sync()  # again: nothing posts twice
    assert Account.objects.get(pk=expense.pk).balance == Decimal("20.00")
    services.order_cancel(order=order, by=world.seller.user)  # paid, then cancelled before filling
    promos.redemptions_sync()
    assert Account.objects.get(pk=expense.pk).balance == Decimal("0.00")
    assert wallet(world.seller) == before
    assert ledger_verify() == []
    report = selectors.offer_report(offer=coupon.offer)
    assert report["discount"] == 0 and report["budget_left"] == Decimal("1000.00")


def test_seller_funded_coupon_only_lowers_the_price(world):
    mine = offer(world, funded_by=FundedBy.SELLER, agent=world.seller)
    coupon = promos.coupon_claim(offer=mine, phone=PHONE, seller=world.seller)
    before = wallet(world.seller)
    pay(place(world, code=coupon.code))
    assert wallet(world.seller) - before == Decimal("180.00")
    assert not Account.objects.filter(purpose=Purpose.BRAND_PROMOTION_EXPENSE, balance__gt=0).exists()
    other_shop = world.make_agent("general")
    coupon2 = promos.coupon_claim(offer=mine, phone="13900002222", seller=world.seller)
    with pytest.raises(BusinessError) as elsewhere:
        place(world, code=coupon2.code, phone="13900002222", seller=other_shop)
    assert elsewhere.value.field == "coupon"


# --- arithmetic -----------------------------------------------------------------------------


def test_percent_discount_rounds_once_and_respects_cap_and_skus(world):
    pct = offer(world, kind=DiscountKind.PERCENT, percent_off=15, amount_off=None, max_discount="50", min_spend="0")
    lines = [(world.other, 3, world.other.retail_price)]  # 119.70 × 15% = 17.955 → 17.96 (once)
    assert promos.coupon_discount(offer=pct, lines=lines) == Decimal("17.96")
    assert promos.coupon_discount(offer=pct, lines=[(world.sku, 5, Decimal("100"))]) == Decimal("50")  # capped
    only_b = offer(world, kind=DiscountKind.PERCENT, percent_off=10, amount_off=None, min_spend="0", skus=[world.other])
    mixed = [(world.sku, 1, Decimal("100.00")), (world.other, 1, Decimal("39.90"))]
    assert promos.coupon_discount(offer=only_b, lines=mixed) == Decimal("3.99")
    with pytest.raises(BusinessError):
        promos.coupon_discount(offer=only_b, lines=[(world.sku, 1, Decimal("100"))])


def test_a_coupon_never_takes_the_order_below_one_fen(world):
    big = offer(world, amount_off="500", min_spend="0")
    coupon = promos.coupon_claim(offer=big, phone=PHONE)
    order = place(world, code=coupon.code, lines=[(world.other, 1)])
    assert order.total == Decimal("0.01") and order.discount == Decimal("39.89")
    assert isinstance(order.discount, Decimal)


def test_minimum_spend_and_budget(world):
    small = offer(world, budget="30")
    a = promos.coupon_claim(offer=small, phone=PHONE)
    with pytest.raises(BusinessError) as low:
        place(world, code=a.code, lines=[(world.other, 1)])
    assert low.value.field == "coupon" and "100" in str(low.value)
    place(world, code=a.code)  # 20 of 30
    b = promos.coupon_claim(offer=small, phone="13900003333")
    with pytest.raises(Conflict) as spent:
        place(world, code=b.code, phone="13900003333")
    assert "budget" in str(spent.value).lower() or "预算" in str(spent.value)
    b.refresh_from_db()
    assert b.status == CouponStatus.CLAIMED  # the refused order changed nothing


# --- flash sales ----------------------------------------------------------------------------


def flash(world, **kw):
    spec = {
        "by": world.boss,
        "name": "双11秒杀",
        "sku": world.sku,
        "price": "59",
        "starts_at": NOW - timedelta(hours=1),
        "ends_at": NOW + timedelta(hours=1),
        "quantity": 5,
        "per_customer": 2,
    } | kw
    return promos.flash_sale_create(**spec)


def test_flash_sale_price_limit_and_units_back_on_cancel(world, clock):
    sale = flash(world)
    order = place(world, lines=[(world.sku, 2), (world.other, 1)])
    line = order.lines.get(sku=world.sku)
    assert line.unit_price == Decimal("59.00") and order.total == Decimal("157.90") and order.discount == 0
    with pytest.raises(Conflict) as limit:
        place(world, lines=[(world.sku, 1)])
    assert limit.value.field == "lines"
    sale.refresh_from_db()
    assert sale.sold == 2
    services.order_cancel(order=order, by=world.seller.user)
    promos.redemptions_sync()
    sale.refresh_from_db()
    assert sale.sold == 0
    clock.freeze(NOW + timedelta(hours=2))  # over: the retail price again
    assert place(world, lines=[(world.sku, 1)]).total == Decimal("100.00")


def test_flash_sale_and_coupon_together_and_report(world):
    sale = flash(world, funded_by=FundedBy.BRAND)
    coupon = promos.coupon_claim(offer=offer(world, min_spend="0", amount_off="10"), phone=PHONE)
    before = wallet(world.seller)
    order = pay(place(world, code=coupon.code, lines=[(world.sku, 2)]))
    assert order.total == Decimal("108.00")  # 2 × 59 − 10
    # the brand pays the seller both: 2 × (100 − 59) and the 10 off
    assert wallet(world.seller) - before == Decimal("108.00") + Decimal("82.00") + Decimal("10.00")
    assert ledger_verify() == []
    report = selectors.flash_report(sale=sale)
    assert report["orders"] == 1 and report["units"] == 2 and report["discount"] == Decimal("82.00")
    assert report["new_customers"] == 1 and report["revenue"] == Decimal("108.00")


# --- hostile input --------------------------------------------------------------------------


def test_hostile_codes_and_values(world, clock):
    the_offer = offer(world)
    mine = promos.coupon_claim(offer=the_offer, phone=PHONE)
    with pytest.raises(NotFound) as foreign:
        place(world, code="ZZZZZZZZZZ")
    assert foreign.value.field == "coupon"
    with pytest.raises(NotFound):  # someone else's coupon: no such coupon for this phone
        place(world, code=mine.code, phone="13900004444")
    with pytest.raises(BusinessError) as pct:
        offer(world, kind=DiscountKind.PERCENT, percent_off=150, amount_off=None)
    assert pct.value.field == "percent_off"
    with pytest.raises(BusinessError) as negative:
        offer(world, amount_off="-5")
    assert negative.value.field == "amount_off"
    with pytest.raises(BusinessError) as qty:
        offer(world, total_quantity=-3)
    assert qty.value.field == "total_quantity"
    with pytest.raises(BusinessError) as units:
        place(world, code=mine.code, lines=[(world.sku, -2)])
    assert units.value.field.startswith("lines")
    with pytest.raises(BusinessError):
        flash(world, price="120")  # above retail
    with pytest.raises(BusinessError):
        flash(world, quantity=0)
    with pytest.raises(Conflict):  # a second copy beyond the per-customer limit
        promos.coupon_claim(offer=the_offer, phone=PHONE)
    clock.freeze(NOW + timedelta(days=8))
    with pytest.raises(Conflict) as expired:
        place(world, code=mine.code)
    assert expired.value.field == "coupon"
    with pytest.raises(Conflict):
        promos.coupon_claim(offer=the_offer, phone="13900005555")
    mine.refresh_from_db()
    assert mine.status == CouponStatus.CLAIMED


def test_a_paused_offer_cannot_be_used_and_quantity_is_capped(world):
    one = offer(world, total_quantity=1)
    coupon = promos.coupon_claim(offer=one, phone=PHONE)
    with pytest.raises(Conflict):
        promos.coupon_claim(offer=one, phone="13900006666")
    promos.promotion_set_status(promotion=one, status="paused", by=world.boss)
    with pytest.raises(Conflict):
        place(world, code=coupon.code)
    promos.promotion_set_status(promotion=one, status="active", by=world.boss)
    assert place(world, code=coupon.code).discount == Decimal("20.00")
    assert one.redemptions.get().status == RedemptionStatus.OPEN


def test_the_command_settles_and_reports(world):
    import json
    from io import StringIO

    from django.core.management import call_command

    coupon = promos.coupon_claim(offer=offer(world), phone=PHONE)
    order = place(world, code=coupon.code)
    services.order_cancel(order=order, by=world.seller.user)
    out = StringIO()
    call_command("promotions", "sync", stdout=out)
    assert out.getvalue().startswith("1 ")
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.CLAIMED
    out = StringIO()
    call_command("promotions", "report", stdout=out)
    (row,) = json.loads(out.getvalue())
    assert row["kind"] == "coupon" and row["orders"] == 0 and row["budget_left"] == "1000.00"
