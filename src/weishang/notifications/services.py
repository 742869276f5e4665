"""Writes of the notification centre: the outbox consumer that turns events into notifications
(``kinds.RULES``), and marking them read. A notification is written after the change's own
transaction (the outbox), so it never holds up or undoes an order."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from weishang.channel.models import Agent
from weishang.core import clock
from weishang.core.errors import NotFound
from weishang.core.outbox import outbox_follow
from weishang.notifications.kinds import RULES
from weishang.notifications.models import Notification


def _handle(events) -> None:
    items = [(event, item) for event in events for item in RULES[event.topic](event.payload or {})]
    users = dict(Agent.objects.filter(pk__in={item.agent for _e, item in items}).values_list("pk", "user_id"))
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=users[item.agent],
                kind=item.kind,
                params=item.params,
                url=item.url,
                event_key=f"{event.topic}:{event.key}",
                created_at=event.created_at,
            )
            for event, item in items
            if item.agent in users
        ],
        ignore_conflicts=True,  # an event read again notifies once
    )


def notifications_follow_events() -> int:
    """The outbox consumer: the events that reach someone's 待我处理 since the last run."""
    return outbox_follow("notifications", tuple(RULES), _handle)


@transaction.atomic
def notification_open(*, user, notification_id: int) -> Notification:
    """The reader opens one of their notifications: it is read from now on. Anyone else's is not found."""
    found = Notification.objects.select_for_update().filter(pk=notification_id, recipient=user).first()
    if found is None:
        raise NotFound(_("There is no such notification."))
    if found.read_at is None:
        found.read_at = clock.now()
        found.save(update_fields=["read_at"])
    return found


@transaction.atomic
def notifications_read_all(*, user) -> int:
    """Every unread notification of ``user`` is read now; returns how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=clock.now())
