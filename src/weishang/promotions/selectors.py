"""Reads: what a shop offers now (coupons to claim, flash sales with their countdown and units
left), a customer's usable coupons, and each promotion's report (orders, units, revenue, the
discount given — its real cost — budget left, new customers)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum

from weishang.channel.models import Agent
from weishang.core import clock
from weishang.core.validators import normalize_phone
from weishang.promotions.models import (
    Coupon,
    CouponOffer,
    CouponStatus,
    FlashSale,
    PromotionStatus,
    Redemption,
    RedemptionStatus,
)
from weishang.trade.models import Order

ZERO = Decimal("0.00")


def offers_claimable(*, seller: Agent, now: datetime | None = None) -> QuerySet[CouponOffer]:
    """Offers a customer can claim in ``seller``'s shop now: the brand's and the seller's own."""
    now = now or clock.now()
    return (
        CouponOffer.objects.filter(status=PromotionStatus.ACTIVE, valid_from__lte=now, valid_to__gt=now)
        .filter(Q(agent__isnull=True) | Q(agent=seller))
        .filter(claimed__lt=F("total_quantity"))
        .order_by("valid_to", "pk")
    )


def flash_sales_live(*, now: datetime | None = None) -> QuerySet[FlashSale]:
    """Flash sales running now or starting within a day (the shop counts down to both)."""
    now = now or clock.now()
    return (
        FlashSale.objects.filter(status=PromotionStatus.ACTIVE, ends_at__gt=now, starts_at__lte=now + timedelta(days=1))
        .select_related("sku")
        .order_by("starts_at", "pk")
    )


def coupons_usable(*, phone: str, seller: Agent | None = None, now: datetime | None = None) -> list[Coupon]:
    """The customer's coupons that can be used now (in ``seller``'s shop)."""
    now = now or clock.now()
    coupons = Coupon.objects.filter(
        customer__phone=normalize_phone(phone or ""),
        status=CouponStatus.CLAIMED,
        offer__status=PromotionStatus.ACTIVE,
        offer__valid_from__lte=now,
        offer__valid_to__gt=now,
    ).select_related("offer")
    if seller is not None:
        coupons = coupons.filter(Q(offer__agent__isnull=True) | Q(offer__agent=seller))
    return list(coupons.order_by("offer__valid_to", "pk"))


def coupons_by_code(*, codes: list[str], now: datetime | None = None) -> list[Coupon]:
    """Coupons claimed in this browser (their codes kept in the session), still usable."""
    now = now or clock.now()
    return list(
        Coupon.objects.filter(
            code__in=codes, status=CouponStatus.CLAIMED, offer__status=PromotionStatus.ACTIVE, offer__valid_to__gt=now
        ).select_related("offer")
    )


def _report(redemptions: QuerySet[Redemption], *, budget: Decimal | None, spent: Decimal) -> dict:
    counting = redemptions.filter(status__in=(RedemptionStatus.OPEN, RedemptionStatus.PAID))
    paid = redemptions.filter(status=RedemptionStatus.PAID)
    earlier = Order.objects.filter(customer=OuterRef("customer"), created_at__lt=OuterRef("order__created_at"))
    return {
        "orders": counting.values("order").distinct().count(),
        "paid_orders": paid.values("order").distinct().count(),
        "units": counting.aggregate(n=Sum("units"))["n"] or 0,
        "revenue": Order.objects.filter(pk__in=paid.values("order")).aggregate(s=Sum("total"))["s"] or ZERO,
        "discount": paid.aggregate(s=Sum("amount"))["s"] or ZERO,
        "discount_pending": counting.filter(status=RedemptionStatus.OPEN).aggregate(s=Sum("amount"))["s"] or ZERO,
        "budget": budget,
        "budget_left": None if budget is None else budget - spent,
        "new_customers": paid.annotate(returning=Exists(earlier))
        .filter(returning=False)
        .values("customer")
        .distinct()
        .count(),
    }


def offer_report(*, offer: CouponOffer) -> dict:
    offer.refresh_from_db(fields=["spent", "claimed"])
    report = _report(offer.redemptions.all(), budget=offer.budget, spent=offer.spent)
    report["claimed"] = offer.claimed
    report["used"] = offer.coupons.filter(status=CouponStatus.USED).count()
    return report


def flash_report(*, sale: FlashSale) -> dict:
    sale.refresh_from_db(fields=["sold"])
    budget = (sale.sku.retail_price - sale.price) * sale.quantity
    spent = (sale.sku.retail_price - sale.price) * sale.sold
    report = _report(sale.redemptions.all(), budget=budget, spent=spent)
    report["left"] = sale.quantity - sale.sold
    return report
