"""Reads of the notification centre: a person's notifications (newest first), with their text in
the active language, and how many are unread (the badge)."""

from __future__ import annotations

from django.db.models import QuerySet

from weishang.notifications.kinds import text
from weishang.notifications.models import Notification


def unread_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_of(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    rows = Notification.objects.filter(recipient=user)
    return rows.filter(read_at__isnull=True) if unread_only else rows


def notification_text(notification: Notification) -> str:
    return text(notification.kind, notification.params)
