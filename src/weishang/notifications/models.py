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
