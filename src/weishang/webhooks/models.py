"""Outbound webhooks: the endpoints a brand registers, and every delivery made to them.

An endpoint's secret signs each delivery (HMAC-SHA256), so it is stored as it is; it is shown
once, when the endpoint is made or its secret rotated, and never again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from weishang.core import clock


class WebhookEndpoint(models.Model):
    """A URL of the brand's systems (ERP, logistics, a mini-program's server) that receives events."""

    url = models.URLField(_("URL"), max_length=500, help_text=_("https:// address that accepts a POST of JSON."))
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(_("signing secret"), max_length=80, editable=False)
    events = models.JSONField(_("events"), default=list, help_text=_("The event types sent to this URL."))
    active = models.BooleanField(_("active"), default=True)
    since_event = models.BigIntegerField(
        _("first event"),
        default=0,
        editable=False,
        help_text=_("Only events after this outbox event are sent: an endpoint gets no history."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)
    secret_rotated_at = models.DateTimeField(_("secret rotated"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.description or self.url

    def subscribes(self, topic: str) -> bool:
        return topic in (self.events or [])


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed, will retry")
    GAVE_UP = "gave_up", _("Gave up")


class WebhookDelivery(models.Model):
    """One event for one endpoint: tried until the endpoint answers 2xx, or given up."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    event_type = models.CharField(_("event"), max_length=50, db_index=True)
    event = models.BigIntegerField(_("outbox event"), null=True, blank=True, help_text=_("Empty for a test ping."))
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True, default=clock.now)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last response code"), null=True, blank=True)
    last_response = models.CharField(_("last response (start)"), max_length=500, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="webhookdelivery_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} #{self.pk}"


class WebhookCursor(models.Model):
    """How far a scan (of the outbox, of reward lines, of journal entries) has read.

    ``position`` is the id below which every row has been read. A missing id above it (a
    transaction still in flight, or one rolled back) holds the position there, from
    ``stuck_since``, until the gap has been open for ``WEISHANG_WEBHOOK_GAP_SECONDS``; rows above a
    gap are read meanwhile (and read again: what they produce is written once)."""

    name = models.CharField(max_length=40, unique=True)
    position = models.BigIntegerField(default=0)
    stuck_since = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("webhook cursor")
        verbose_name_plural = _("webhook cursors")

    def __str__(self) -> str:
        return f"{self.name} @ {self.position}"
