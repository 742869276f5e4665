"""Writes of the notification centre: the outbox consumer that turns events into notifications
(``kinds.RULES``), and marking them read. A notification is written after the change's own
transaction (the outbox), so it never holds up or undoes an order."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from weishang.channel.models import Agent
from weishang.core import clock
from weishang.core.errors import BusinessError, NotFound
from weishang.core.outbox import outbox_follow
from weishang.notifications import channels
from weishang.notifications.kinds import RULES, primed
from weishang.notifications.models import Channel, Delivery, DeliveryStatus, Notification, NotificationSettings
from weishang.notifications.selectors import notification_text

# The deliveries tried right after the change's commit: only those of the notifications just made,
# and a few of them, so that a backlog or a slow provider never lands on whoever placed the order.
INLINE_TRIES = 10


def _handle(events, made: list[int]) -> None:
    with primed([event.payload or {} for event in events]):
        items = [(event, item) for event in events for item in RULES[event.topic](event.payload or {})]
    keys = {f"{event.topic}:{event.key}" for event, _item in items}
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
    fresh = list(Notification.objects.filter(event_key__in=keys, deliveries__isnull=True))
    deliveries_plan(notifications=fresh)
    made.extend(n.pk for n in fresh)


def notifications_follow_events() -> int:
    """The outbox consumer: the events that reach someone's 待我处理 since the last run, then one
    try of the deliveries they made (after the change's commit: never holding up an order; the
    retries are ``weishang notifications send``'s)."""
    made: list[int] = []
    read = outbox_follow("notifications", tuple(RULES), lambda events: _handle(events, made))
    if made:
        deliveries_send(limit=INLINE_TRIES, notification_ids=made)
    return read


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


# --- delivery by WeChat and text message ----------------------------------------------------

RETRY_MINUTES = (1, 5, 30, 120, 720)  # then it has failed


def settings_for(user_id: int) -> NotificationSettings:
    return NotificationSettings.objects.filter(user_id=user_id).first() or NotificationSettings(user_id=user_id)


def deliveries_plan(*, notifications: list[Notification]) -> int:
    """A delivery per channel each recipient wants: WeChat when their WeChat is bound (and they
    did not turn it off), a text message when they turned it on. Returns how many were planned."""
    users = {n.recipient_id for n in notifications}
    chosen = {row.user_id: row for row in NotificationSettings.objects.filter(user_id__in=users)}
    bound = channels.wechat_bound(users)
    rows = []
    for notification in notifications:
        wanted = chosen.get(notification.recipient_id) or NotificationSettings(user_id=notification.recipient_id)
        if wanted.wechat and notification.recipient_id in bound:
            rows.append(Delivery(notification=notification, channel=Channel.WECHAT))
        if wanted.sms:
            rows.append(Delivery(notification=notification, channel=Channel.SMS))
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _quiet_until(wanted: NotificationSettings, now) -> datetime | None:
    """When the person's quiet hours end, if ``now`` is inside them (China time); else None."""
    start, end = wanted.quiet_from, wanted.quiet_to
    if start is None or end is None or start == end:
        return None
    local = timezone.localtime(now)
    t = local.time()
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return ends if ends > local else ends + timedelta(days=1)


def deliveries_send(*, limit: int = 200, now: datetime | None = None, notification_ids: list[int] | None = None) -> int:
    """Send the deliveries due (each in its own transaction, so one provider's failure holds up no
    other); outside the person's quiet hours; a failure waits longer each time, then is given up
    (``RETRY_MINUTES``). Returns how many were sent. ``weishang notifications send`` runs it;
    ``notification_ids`` keeps to those notifications' deliveries (the try right after a commit)."""
    now = now or clock.now()
    sent = 0
    due_rows = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    if notification_ids is not None:
        due_rows = due_rows.filter(notification_id__in=notification_ids)
    due = list(due_rows.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    for pk in due:
        with transaction.atomic():
            delivery = (
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=DeliveryStatus.PENDING)
                .select_related("notification__recipient")
                .first()
            )
            if delivery is None:
                continue
            notification = delivery.notification
            later = _quiet_until(settings_for(notification.recipient_id), now)
            if later is not None:
                delivery.next_attempt_at = later
                delivery.save(update_fields=["next_attempt_at"])
                continue
            with translation.override(settings.LANGUAGE_CODE):
                text = notification_text(notification)
            delivery.attempts += 1
            try:
                delivery.reference = channels.SENDERS[delivery.channel](notification, text, _absolute(notification.url))
            except channels.ChannelError as exc:
                delivery.last_error = str(exc)[:200]
                if delivery.attempts > len(RETRY_MINUTES):
                    delivery.status = DeliveryStatus.FAILED
                else:
                    delivery.next_attempt_at = now + timedelta(minutes=RETRY_MINUTES[delivery.attempts - 1])
            else:
                delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.SENT, now, ""
                sent += 1
            delivery.save()
    return sent


def _absolute(path: str) -> str:
    base = getattr(settings, "WEISHANG_SITE_URL", "").rstrip("/")
    return f"{base}{path}" if base and path.startswith("/") else path


@transaction.atomic
def notification_settings_save(
    *, user, wechat: bool, sms: bool, quiet_from=None, quiet_to=None
) -> NotificationSettings:
    """Save how ``user`` wants to be told. Quiet hours need both ends, and two different ones."""
    if (quiet_from is None) != (quiet_to is None):
        raise BusinessError(_("Give both the start and the end of the quiet hours, or neither."), field="quiet_to")
    if quiet_from is not None and quiet_from == quiet_to:
        raise BusinessError(_("The quiet hours must start and end at different times."), field="quiet_to")
    row, _created = NotificationSettings.objects.update_or_create(
        user=user, defaults={"wechat": wechat, "sms": sms, "quiet_from": quiet_from, "quiet_to": quiet_to}
    )
    return row
