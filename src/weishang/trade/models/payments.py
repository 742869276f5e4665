"""Payments: offline transfer with a screenshot, wallet (a ledger account), WeChat Pay."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from weishang.channel.models import Agent
from weishang.core import clock
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank or WeChat transfer (screenshot)")
    WALLET = "wallet", _("Wallet balance")
    WECHATPAY = "wechatpay", _("WeChat Pay")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class Payment(models.Model):
    """Money offered for an order (or a wallet top-up). Confirmed at most once; a provider's
    transaction id can credit only one payment."""

    order = models.ForeignKey(
        "trade.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="payments", verbose_name=_("order")
    )
    topup_for = models.ForeignKey(
        Agent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="topups",
        verbose_name=_("wallet top-up for"),
    )
    method = models.CharField(_("method"), max_length=10, choices=PaymentMethod.choices)
    amount = models.DecimalField(_("amount"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    status = models.CharField(_("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    receiver = models.ForeignKey(
        Agent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
        help_text=_("Empty = brand finance."),
    )
    screenshot = models.ImageField(_("transfer screenshot"), upload_to="transfers/%Y/%m/", blank=True)
    reference = models.CharField(_("transfer reference"), max_length=64, blank=True)
    provider_txn_id = models.CharField(_("provider transaction id"), max_length=64, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=clock.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(order__isnull=False) ^ Q(topup_for__isnull=False), name="payment_for_an_order_or_a_topup"
            ),
            # An order is paid by at most one confirmed payment.
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="confirmed"), name="payment_one_confirmed_per_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} ¥{self.amount}"
