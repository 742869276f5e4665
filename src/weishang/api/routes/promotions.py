"""Public promotions of an agent's shop (M10): the coupons a consumer can claim there and the flash
sales running or about to start (``promotions.selectors``), and claiming a coupon with a phone
number (``promotions.services.coupon_claim``). A coupon is used by sending its code with the
shop order (``POST /public/shops/{invite_code}/orders``, ``coupon``). No login; rate-limited per IP;
an unknown or closed shop is "not found"."""

# No "from __future__ import annotations": django-ninja reads the views' annotations.
from datetime import datetime
from decimal import Decimal

from django.http import Http404
from ninja import Field, Router, Schema, Status

from weishang.api.errors import ERRORS
from weishang.api.params import InviteCode, Text, key_or_404
from weishang.api.throttles import IpThrottle
from weishang.channel import selectors as channel_selectors
from weishang.channel.models import Agent, AgentStatus
from weishang.core import clock
from weishang.promotions import selectors, services

router = Router(tags=["public"])
PUBLIC = {"auth": None, "throttle": [IpThrottle("public")]}


class CouponOfferOut(Schema):
    id: int = Field(..., description="claim it with POST /public/shops/{invite_code}/coupons")
    name: str
    kind: str = Field(..., description="amount or percent")
    amount_off: Decimal | None
    percent_off: int | None
    max_discount: Decimal | None = Field(..., description="percent coupons: the cap")
    min_spend: Decimal
    skus: list[str] = Field(..., description="SKU codes it applies to; empty: all")
    valid_from: datetime
    valid_to: datetime
    left: int = Field(..., description="coupons left to claim")


class FlashSaleOut(Schema):
    sku: str
    name: str
    price: Decimal
    retail_price: Decimal
    starts_at: datetime
    ends_at: datetime
    running: bool
    left: int = Field(..., description="units left at the flash price")
    per_customer: int


class ShopPromotionsOut(Schema):
    coupons: list[CouponOfferOut]
    flash_sales: list[FlashSaleOut]


class CouponClaimIn(Schema):
    offer: int = Field(..., ge=1, description="the offer's id")
    phone: Text = Field(..., min_length=1, max_length=20, description="the consumer's mobile number")


class CouponOut(Schema):
    code: str = Field(..., description="send it as ``coupon`` with a shop order placed with the same phone")
    name: str
    valid_to: datetime


def _open_shop(invite_code: str) -> Agent:
    seller = channel_selectors.agent_by_invite_code(key_or_404(invite_code, max_length=12))
    if seller is None or seller.status != AgentStatus.ACTIVE:
        raise Http404
    return seller


@router.get(
    "/shops/{invite_code}/promotions",
    response={200: ShopPromotionsOut, **ERRORS},
    summary="A shop's coupons and flash sales",
    **PUBLIC,
)
def shop_promotions(request, invite_code: InviteCode):
    seller = _open_shop(invite_code)
    now = clock.now()
    return ShopPromotionsOut(
        coupons=[
            CouponOfferOut(
                id=offer.pk,
                name=offer.name,
                kind=offer.kind,
                amount_off=offer.amount_off,
                percent_off=offer.percent_off,
                max_discount=offer.max_discount,
                min_spend=offer.min_spend,
                skus=[sku.code for sku in offer.skus.all()],
                valid_from=offer.valid_from,
                valid_to=offer.valid_to,
                left=offer.total_quantity - offer.claimed,
            )
            for offer in selectors.offers_claimable(seller=seller, now=now).prefetch_related("skus")
        ],
        flash_sales=[
            FlashSaleOut(
                sku=sale.sku.code,
                name=sale.name,
                price=sale.price,
                retail_price=sale.sku.retail_price,
                starts_at=sale.starts_at,
                ends_at=sale.ends_at,
                running=sale.starts_at <= now,
                left=sale.left,
                per_customer=sale.per_customer,
            )
            for sale in selectors.flash_sales_live(now=now)
        ],
    )


@router.post(
    "/shops/{invite_code}/coupons",
    response={201: CouponOut, **ERRORS},
    summary="Claim a coupon in a shop",
    **PUBLIC,
)
def coupon_claim(request, invite_code: InviteCode, payload: CouponClaimIn):
    """One coupon of the offer for this phone number (at most the offer's per-customer number)."""
    seller = _open_shop(invite_code)
    coupon = services.coupon_claim(offer=payload.offer, phone=payload.phone, seller=seller)
    return Status(201, CouponOut(code=coupon.code, name=coupon.offer.name, valid_to=coupon.offer.valid_to))
