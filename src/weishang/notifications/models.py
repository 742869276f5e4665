"""A ``Notification`` is one item for one person: what happened (its ``kind`` and the figures it
names, rendered in the reader's language when shown), where to go (``url``), when, and whether
they have read it. One per person and event (``event_key``): an event read twice notifies once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from weishang.core import clock


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind"), max_length=40)
    params = models.JSONField(_("details"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=200, blank=True)
    event_key = models.CharField(_("event"), max_length=160)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "event_key"], name="notification_once_per_event"),
        ]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"


class Channel(models.TextChoices):
    WECHAT = "wechat", _("WeChat message (微信消息)")
    SMS = "sms", _("Text message (短信)")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting (待发送)")
    SENT = "sent", _("Sent (已发送)")
    FAILED = "failed", _("Failed (发送失败)")


class Delivery(models.Model):
    """One notification sent by one channel: tried, retried with a growing wait, logged."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("notification")
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=clock.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    reference = models.CharField(_("provider's reference"), max_length=64, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [models.UniqueConstraint(fields=["notification", "channel"], name="delivery_once_per_channel")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.get_status_display()}"


class NotificationSettings(models.Model):
    """How a person wants to be told besides the bell: by WeChat message, by text message, and
    hours in which nothing is sent (China time; what waits goes out when they end)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("account")
    )
    wechat = models.BooleanField(_("by WeChat message"), default=True)
    sms = models.BooleanField(_("by text message"), default=False)
    quiet_from = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_to = models.TimeField(_("quiet until"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")
