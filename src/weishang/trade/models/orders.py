"""Orders: entry, upgrade, restock, retail and pick-up, with their lines and state history."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from weishang.catalog.models import SKU
from weishang.channel.models import Agent
from weishang.core import clock
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES
from weishang.trade.workflow import (  # noqa: F401  (re-exported: trade.models is where callers look)
    LIVE_STATUSES,
    OPEN_STATUSES,
    STUCK_KINDS,
    VOLUME_KINDS,
    OrderKind,
    OrderStatus,
)

# The kinds, the statuses and the sets of them are part of an order's life: trade/workflow.py.


class Customer(models.Model):
    """A consumer who bought from an agent's shop, identified by phone."""

    phone = models.CharField(_("phone"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    bound_agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="customers", verbose_name=_("bound to")
    )
    bound_at = models.DateTimeField(_("bound since"), null=True, blank=True)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
        help_text=_("Where the customer's latest order went."),
    )
    created_at = models.DateTimeField(_("first order"), default=clock.now)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """One order. Its status changes only by the moves of trade.workflow, which trade.services
    makes, and each change writes an OrderTransition (who, when)."""

    number = models.CharField(_("order number"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=OrderKind.choices)
    # No index of its own: order_buyer_completed (buyer, completed_at) serves every buyer lookup.
    buyer = models.ForeignKey(
        Agent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("buyer"),
        db_index=False,
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="orders", verbose_name=_("customer")
    )
    seller = models.ForeignKey(
        Agent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders_to_fill",
        verbose_name=_("filled by"),
        help_text=_("Empty = the company."),
    )
    supply_mode = models.CharField(_("supply mode"), max_length=24, blank=True)
    # Shop orders: the binding as it stood when the order was paid; retail commission follows it.
    bound_agent = models.ForeignKey(
        Agent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer bound to"),
        help_text=_("Shop orders: the agent the customer was bound to when the order was paid."),
    )
    target_level = models.ForeignKey(
        "channel.Level",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("upgrade to"),
        help_text=_("Upgrade orders only: the level the buyer moves to on completion."),
    )
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    total = models.DecimalField(
        _("total"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, validators=[MinValueValidator(Decimal("0"))]
    )
    # Shop orders: what promotions (a coupon) took off the lines; total = the lines − discount.
    # Who funds it is the promotions app's record; a flash sale's price is on its line instead.
    discount = models.DecimalField(
        _("discount"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=Decimal("0"),
        help_text=_("Taken off the lines by a coupon; the total is what is left."),
    )
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    ship_name = models.CharField(_("recipient"), max_length=50, blank=True)
    ship_phone = models.CharField(_("recipient phone"), max_length=20, blank=True)
    ship_region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
        help_text=_("Province, city and district of the address, chosen from the national list."),
    )
    ship_address = models.CharField(
        _("address"), max_length=200, blank=True, help_text=_("Street, building and room, within the region.")
    )
    carrier = models.CharField(_("carrier"), max_length=40, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=60, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=Decimal("0")), name="order_total_not_negative"),
            models.CheckConstraint(condition=Q(discount__gte=Decimal("0")), name="order_discount_not_negative"),
            models.CheckConstraint(
                condition=Q(kind="upgrade", target_level__isnull=False)
                | (~Q(kind="upgrade") & Q(target_level__isnull=True)),
                name="order_target_level_iff_upgrade",
            ),
            models.UniqueConstraint(
                fields=["buyer", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="order_idempotency_per_buyer",
            ),
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False, customer__isnull=False),
                name="order_idempotency_per_customer",
            ),
        ]
        indexes = [
            models.Index(fields=["buyer", "completed_at"], name="order_buyer_completed"),
            models.Index(fields=["status", "completed_at"], name="order_status_completed"),
            models.Index(fields=["seller", "status"], name="order_seller_status"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def subtotal(self) -> Decimal:
        """The lines before a coupon's discount."""
        return self.total + self.discount


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    quantity = models.PositiveIntegerField(_("units"))
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        help_text=_("The buyer's level price when the order was submitted."),
    )
    line_total = models.DecimalField(_("line total"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    gift = models.BooleanField(
        _("gift"), default=False, help_text=_("A campaign's gift shipped with the order, at no charge.")
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_not_negative"),
            models.UniqueConstraint(fields=["order", "sku", "gift"], name="orderline_one_per_sku"),
            models.CheckConstraint(condition=Q(gift=False) | Q(unit_price=0), name="orderline_gift_is_free"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku.code}"


class OrderTransition(models.Model):
    """Who moved an order from one status to another, and when (immutable)."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(_("from"), max_length=20, choices=OrderStatus.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=OrderStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("when"), default=clock.now)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("order status change")
        verbose_name_plural = _("order status changes")
