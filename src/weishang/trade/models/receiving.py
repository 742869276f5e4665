"""Where buyers pay: the receiving accounts (收款方式) an agent — or the brand — shows on the pay
page, and the notices an order leaves in the other party's 待我处理 list."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from weishang.channel.models import Agent
from weishang.core import clock


class ReceivingKind(models.TextChoices):
    WECHAT = "wechat", _("WeChat")
    ALIPAY = "alipay", _("Alipay")
    BANK = "bank", _("Bank account")


class ReceivingAccount(models.Model):
    """One way to pay an agent (or the brand, when ``agent`` is empty): a WeChat or Alipay QR code,
    or a bank account. Shown on the pay page of orders whose money goes to its owner; the QR image
    is served only to someone with such an order (``web.payment_views``), never by a public URL."""

    agent = models.ForeignKey(
        Agent,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="receiving_accounts",
        verbose_name=_("agent"),
        help_text=_("Empty = the brand (orders the company fills)."),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ReceivingKind.choices)
    holder = models.CharField(_("account holder"), max_length=50)
    account_number = models.CharField(_("account number or ID"), max_length=64, blank=True)
    bank = models.CharField(_("bank and branch"), max_length=100, blank=True)
    qr_image = models.ImageField(_("QR code"), upload_to="receiving/%Y/%m/", blank=True)
    note = models.CharField(_("note"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("receiving account")
        verbose_name_plural = _("receiving accounts")
        constraints = [
            models.CheckConstraint(condition=~Q(kind="bank") | ~Q(account_number=""), name="receiving_bank_has_number"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.holder}"


class NoticeKind(models.TextChoices):
    CANCELLED = "cancelled", _("Order cancelled")
    REASSIGNED = "reassigned", _("Order taken over by the company")


class OrderNotice(models.Model):
    """Something that happened to an order that one party must see (a cancelled order and who pays
    back what): listed in their 待我处理 until they open the order."""

    order = models.ForeignKey("trade.Order", on_delete=models.CASCADE, related_name="notices", verbose_name=_("order"))
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="order_notices", verbose_name=_("for"))
    kind = models.CharField(_("kind"), max_length=12, choices=NoticeKind.choices)
    text = models.CharField(_("text"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=clock.now)
    seen_at = models.DateTimeField(_("seen"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("order notice")
        verbose_name_plural = _("order notices")
        indexes = [models.Index(fields=["agent", "seen_at"], name="notice_agent_unseen")]

    def __str__(self) -> str:
        return f"{self.order} → {self.agent}: {self.kind}"
