"""Orders. M1 holds what team volume needs (who bought, how much, when it completed);
M2 adds order lines, the transition function, payments, stock and the outbox."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from weishang.channel.models import Agent
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES


class OrderKind(models.TextChoices):
    ENTRY = "entry", _("Entry order (授权单)")
    UPGRADE = "upgrade", _("Upgrade order (升级单)")
    RESTOCK = "restock", _("Restock order (进货单)")
    RETAIL = "retail", _("Retail order")
    PICKUP = "pickup", _("Pick-up (提货)")


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    PAID = "paid", _("Paid")
    FULFILLED = "fulfilled", _("Fulfilled")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    REFUND_REQUESTED = "refund_requested", _("Refund requested")
    REFUNDED = "refunded", _("Refunded")


# Orders whose amount counts towards team purchase volume (plan-format.md, "Team").
VOLUME_KINDS = (OrderKind.ENTRY, OrderKind.UPGRADE, OrderKind.RESTOCK)


class Order(models.Model):
    number = models.CharField(_("order number"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=OrderKind.choices)
    # No index of its own: order_buyer_completed (buyer, completed_at) serves every buyer lookup.
    buyer = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="orders", verbose_name=_("buyer"),
                              db_index=False)
    seller = models.ForeignKey(
        Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="orders_to_fill",
        verbose_name=_("filled by"), help_text=_("Empty = the company."),
    )
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    total = models.DecimalField(_("total"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [models.CheckConstraint(condition=Q(total__gte=Decimal("0")), name="order_total_not_negative")]
        indexes = [
            models.Index(fields=["buyer", "completed_at"], name="order_buyer_completed"),
            models.Index(fields=["status", "completed_at"], name="order_status_completed"),
        ]

    def __str__(self) -> str:
        return self.number
