"""The notifications' WeChat and text messages in the console (M11): each one's channel, status,
tries and last error, to see what did not reach whom (read-only: the sender retries by itself).
The owner's: core.roles."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from weishang.console import kit
from weishang.notifications.models import Delivery
from weishang.notifications.selectors import notification_text


@admin.register(Delivery)
class DeliveryAdmin(kit.ReadOnlyAdmin):
    list_display = ("recipient", "channel", "status", "attempts", "next_attempt_at", "sent_at", "last_error")
    list_filter = ("status", "channel")
    search_fields = ("notification__recipient__phone", "notification__recipient__username")
    list_select_related = ("notification__recipient",)
    fields = (
        "recipient",
        "text",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "reference",
        "last_error",
    )
    readonly_fields = fields

    @admin.display(description=_("recipient"))
    def recipient(self, obj):
        return obj.notification.recipient

    @admin.display(description=_("text"))
    def text(self, obj):
        return notification_text(obj.notification)
