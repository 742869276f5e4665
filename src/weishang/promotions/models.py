"""Consumer promotions on shop (retail) orders: coupons (优惠券) and flash sales (秒杀).

A ``CouponOffer`` is what the brand (or an agent, for their own shop) gives out: amount or
percent off (with a cap), a minimum spend, the SKUs it applies to (none = all), dates, how many
may be claimed, by one customer, and a budget. A ``Coupon`` is one customer's claimed copy with a
code, used on at most one order. A ``FlashSale`` sells one SKU at a special price between two
times, a limited number of units. What each order got is one ``Redemption``: the discount, who
funds it, and where it stands (open while the order is unpaid, paid, returned when the order is
cancelled, refunded). The counters (``claimed``, ``spent``, ``sold``) are changed only by
``promotions.services`` with one guarded UPDATE each, and CHECK constraints stand behind them."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from weishang.core import clock
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES


def _money(verbose_name, **kw) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kw)


class FundedBy(models.TextChoices):
    BRAND = "brand", _("The brand (paid to the seller through the ledger)")
    SELLER = "seller", _("The seller (a lower price in their own shop)")


class PromotionStatus(models.TextChoices):
    ACTIVE = "active", _("Running")
    PAUSED = "paused", _("Paused")


class DiscountKind(models.TextChoices):
    AMOUNT = "amount", _("Amount off")
    PERCENT = "percent", _("Percent off")


class CouponOffer(models.Model):
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("discount"), max_length=10, choices=DiscountKind.choices, default=DiscountKind.AMOUNT)
    amount_off = _money(_("amount off"), null=True, blank=True)
    percent_off = models.PositiveSmallIntegerField(_("percent off"), null=True, blank=True)
    max_discount = _money(_("at most"), null=True, blank=True, help_text=_("Percent coupons: the cap; empty = none."))
    min_spend = _money(_("minimum spend"), default=Decimal("0"))
    skus = models.ManyToManyField(
        "catalog.SKU",
        blank=True,
        related_name="+",
        verbose_name=_("SKUs"),
        help_text=_("The products it applies to; none chosen = all."),
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to"))
    total_quantity = models.PositiveIntegerField(_("coupons to give out"))
    per_customer = models.PositiveIntegerField(_("per customer"), default=1)
    funded_by = models.CharField(_("funded by"), max_length=10, choices=FundedBy.choices, default=FundedBy.BRAND)
    agent = models.ForeignKey(
        "channel.Agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issuing agent"),
        help_text=_("An agent's own coupon: valid in their shop only, funded by them. Empty = every shop."),
    )
    budget = _money(_("budget"), null=True, blank=True, help_text=_("Discount that may be given in all; empty = none."))
    claimed = models.PositiveIntegerField(_("claimed"), default=0)
    spent = _money(_("discount given"), default=Decimal("0"))
    status = models.CharField(
        _("status"), max_length=10, choices=PromotionStatus.choices, default=PromotionStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("coupon offer")
        verbose_name_plural = _("coupon offers")
        constraints = [
            models.CheckConstraint(condition=Q(claimed__lte=F("total_quantity")), name="couponoffer_not_overclaimed"),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(spent__lte=F("budget")), name="couponoffer_within_budget"
            ),
            models.CheckConstraint(condition=Q(spent__gte=0), name="couponoffer_spent_not_negative"),
            models.CheckConstraint(
                condition=Q(kind="amount", amount_off__gt=0, percent_off__isnull=True)
                | Q(kind="percent", percent_off__gte=1, percent_off__lte=100, amount_off__isnull=True),
                name="couponoffer_one_discount",
            ),
            models.CheckConstraint(condition=Q(valid_to__gt=F("valid_from")), name="couponoffer_dates_in_order"),
        ]

    def __str__(self) -> str:
        return self.name


class CouponStatus(models.TextChoices):
    CLAIMED = "claimed", _("Not used")
    USED = "used", _("Used")


class Coupon(models.Model):
    offer = models.ForeignKey(CouponOffer, on_delete=models.PROTECT, related_name="coupons", verbose_name=_("offer"))
    customer = models.ForeignKey(
        "trade.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    code = models.CharField(_("coupon code"), max_length=16, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=CouponStatus.choices, default=CouponStatus.CLAIMED)
    order = models.ForeignKey(
        "trade.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("used on")
    )
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("given by"),
        help_text=_("Empty = the customer claimed it in the shop."),
    )
    claimed_at = models.DateTimeField(_("claimed"), default=clock.now)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        ordering = ["-claimed_at", "-pk"]
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        indexes = [models.Index(fields=["customer", "status"], name="coupon_customer_status")]

    def __str__(self) -> str:
        return self.code


class FlashSale(models.Model):
    name = models.CharField(_("name"), max_length=60)
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    price = _money(_("flash price"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    quantity = models.PositiveIntegerField(_("units on offer"))
    per_customer = models.PositiveIntegerField(_("per customer"), default=1)
    funded_by = models.CharField(_("funded by"), max_length=10, choices=FundedBy.choices, default=FundedBy.BRAND)
    sold = models.PositiveIntegerField(_("sold"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=PromotionStatus.choices, default=PromotionStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        verbose_name = _("flash sale")
        verbose_name_plural = _("flash sales")
        constraints = [
            models.CheckConstraint(condition=Q(sold__lte=F("quantity")), name="flashsale_not_oversold"),
            models.CheckConstraint(condition=Q(price__gt=0), name="flashsale_price_positive"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="flashsale_dates_in_order"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def left(self) -> int:
        return self.quantity - self.sold


class RedemptionStatus(models.TextChoices):
    OPEN = "open", _("Order unpaid")
    PAID = "paid", _("Paid")
    RETURNED = "returned", _("Order cancelled: given back")
    REFUNDED = "refunded", _("Order refunded")


class Redemption(models.Model):
    """What one promotion gave one order: the discount (its real cost) and who funds it."""

    order = models.ForeignKey("trade.Order", on_delete=models.PROTECT, related_name="+", verbose_name=_("order"))
    customer = models.ForeignKey(
        "trade.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    coupon = models.ForeignKey(
        Coupon, on_delete=models.PROTECT, null=True, blank=True, related_name="redemptions", verbose_name=_("coupon")
    )
    offer = models.ForeignKey(
        CouponOffer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redemptions",
        verbose_name=_("coupon offer"),
    )
    flash_sale = models.ForeignKey(
        FlashSale,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redemptions",
        verbose_name=_("flash sale"),
    )
    units = models.PositiveIntegerField(_("units"))
    amount = _money(_("discount"))
    funded_by = models.CharField(_("funded by"), max_length=10, choices=FundedBy.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=RedemptionStatus.choices, default=RedemptionStatus.OPEN
    )
    created_at = models.DateTimeField(_("created"), default=clock.now)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="redemption_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(offer__isnull=False, flash_sale__isnull=True)
                | Q(offer__isnull=True, flash_sale__isnull=False),
                name="redemption_one_promotion",
            ),
        ]
        indexes = [models.Index(fields=["status", "order"], name="redemption_status_order")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.amount}"
