"""The demo brand's consumer promotions (``demo_load`` calls ``promotions_demo`` once): a brand
coupon (满200减30, the brand pays the seller the discount), the 特约 login's own 9折 coupon, a flash
sale of the face mask running now, and coupons used in the 特约 login's shop — two orders paid
online (the brand's share posted to the seller's wallet), one left unpaid, one flash-sale order."""

from __future__ import annotations

from datetime import timedelta

from weishang.catalog.models import SKU
from weishang.channel.models import Agent
from weishang.core import clock
from weishang.promotions import services
from weishang.promotions.models import CouponOffer, DiscountKind, FundedBy
from weishang.trade import services as trade
from weishang.trade.providers.fake import FakeProvider

CUSTOMERS = (
    ("13912340101", "刘女士", "330106", "文一西路 100 号"),
    ("13912340102", "赵女士", "330105", "湖墅南路 66 号"),
    ("13912340103", "孙先生", "310104", "漕溪北路 88 号"),
    ("13912340104", "钱女士", "440305", "科技园南路 9 号"),
)


def _pay(order) -> None:
    body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=int(order.total * 100))
    trade.payment_credit_from_provider(notice=FakeProvider().parse_notification(headers, body))


def promotions_demo(*, seller: Agent | None, by) -> None:
    """Nothing when the demo already has promotions or has no shop to use them in."""
    if CouponOffer.objects.exists():
        return
    now = clock.now()
    serum = SKU.objects.filter(code="GLOW-30ML").first()
    mask = SKU.objects.filter(code="GLOW-MASK5").first()
    if serum is None or mask is None:
        return
    brand_coupon = services.coupon_offer_create(
        by=by,
        name="新客满200减30",
        kind=DiscountKind.AMOUNT,
        amount_off="30",
        min_spend="200",
        valid_from=now - timedelta(days=7),
        valid_to=now + timedelta(days=30),
        total_quantity=500,
        per_customer=1,
        budget="6000",
    )
    sale = services.flash_sale_create(
        by=by,
        name="面膜限时秒杀",
        sku=mask,
        price="59",
        starts_at=now - timedelta(hours=2),
        ends_at=now + timedelta(days=2),
        quantity=50,
        per_customer=2,
    )
    if seller is None:
        return
    own = services.coupon_offer_create(
        by=by,
        name="店主专享9折",
        kind=DiscountKind.PERCENT,
        percent_off=10,
        max_discount="50",
        valid_from=now - timedelta(days=3),
        valid_to=now + timedelta(days=14),
        total_quantity=50,
        funded_by=FundedBy.SELLER,
        agent=seller,
    )
    orders = []
    for i, (phone, name, region, street) in enumerate(CUSTOMERS[:3]):
        offer = own if i == 2 else brand_coupon
        coupon = services.coupon_claim(offer=offer, phone=phone, name=name, seller=seller)
        order = services.shop_order_place(
            seller=seller,
            name=name,
            phone=phone,
            region=region,
            address=street,
            lines=[(serum.code, 1)],
            coupon_code=coupon.code,
        )
        orders.append(order)
    for order in orders[:2]:
        _pay(order)  # the third is left waiting for its transfer
    phone, name, region, street = CUSTOMERS[3]
    flash_order = services.shop_order_place(
        seller=seller, name=name, phone=phone, region=region, address=street, lines=[(sale.sku.code, 2)]
    )
    _pay(flash_order)
    services.redemptions_sync()
