"""Outbound webhooks: endpoints, turning outbox events into deliveries, and delivering them.

- ``webhooks_dispatch`` reads new outbox events (and first turns new reward lines, releases and
  reversals into ``reward.*`` outbox events) and makes one delivery per subscribed active
  endpoint and event — once: (endpoint, event) is unique. It runs right after every transaction
  that writes outbox events (``outbox_subscribe``, as the reward engine does) and at the start
  of every ``webhooks_deliver``.
- ``webhooks_deliver`` POSTs the deliveries that are due (``weishang webhooks deliver``, with
  ``--loop`` for a worker). A 2xx answer is success; anything else (an error, a timeout, a
  redirect, which is never followed) is tried again after 1 min, 5 min, 30 min, 2 h and 12 h,
  then given up. Each attempt goes only to a public address, checked after resolving the host and
then connected to as checked (``webhooks.safety``); a private, loopback or link-local address is a
failed attempt, with nothing sent. Only the response's status line is kept (never its body: the
console shows what a ping or a delivery got as "HTTP 200 OK"). Each attempt is signed afresh::

      Weishang-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

Sending happens outside any transaction, so a slow endpoint holds no lock; a delivery is claimed
first (its next attempt moved past the send), so two workers never send it at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.core.models import OutboxEvent
from weishang.core.outbox import outbox_emit_many
from weishang.webhooks import safety
from weishang.webhooks.events import EVENTS, PING, REWARD_EVENTS
from weishang.webhooks.models import DeliveryStatus, WebhookCursor, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
# After the n-th failed attempt the next one waits BACKOFF[n-1]; after the last, it gives up.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12))
TIMEOUT_SECONDS = 5
# A claimed delivery is not due again for this long: a worker that dies mid-send loses nothing.
LEASE = timedelta(minutes=2)
BATCH = 500
MAX_BATCHES = 20  # per scan and run: the rest waits for the next run
RESPONSE_KEPT = 100  # of the status line ("HTTP 200 OK"); the body is never kept
USER_AGENT = "Weishang-Webhooks/1"

D = DeliveryStatus


# --- signing -----------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` with the endpoint's secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def body_of(payload: dict) -> bytes:
    return json.dumps(
        payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True, cls=DjangoJSONEncoder
    ).encode()


# --- endpoints ---------------------------------------------------------------------------------


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def endpoint_clean(url: str, events: Iterable[str]) -> tuple[str, list[str]]:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise BusinessError(_("Enter a full http:// or https:// address."), field="url") from None
    if len(url) > 500:
        raise BusinessError(_("The address is longer than 500 characters."), field="url")
    try:
        safety.check_url(url)
    except safety.UnsafeAddress as exc:
        raise BusinessError(
            _(
                "Webhooks are sent only to public internet addresses; %(address)s is a private, local or "
                "reserved address."
            )
            % {"address": exc.address or url},
            field="url",
        ) from None
    events = sorted(set(events or []))
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise BusinessError(_("Unknown events: %(events)s.") % {"events": ", ".join(unknown)}, field="events")
    if not events:
        raise BusinessError(_("Choose at least one event."), field="events")
    return url, events


def _head(model: type[models.Model]) -> int:
    return model._default_manager.aggregate(top=Max("pk"))["top"] or 0


@transaction.atomic
def endpoint_create(
    *, url: str, events: Iterable[str], description: str = "", active: bool = True, by=None
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret, shown this once. It gets the events from now on."""
    url, events = endpoint_clean(url, events)
    secret = _new_secret()
    if active:
        _start_idle_cursors(events)
    endpoint = WebhookEndpoint.objects.create(
        url=url,
        events=events,
        description=(description or "").strip()[:200],
        active=active,
        secret=secret,
        created_by=by,
        since_event=_head(OutboxEvent),
    )
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, events: Iterable[str], description: str = "", active: bool = True
) -> WebhookEndpoint:
    """Change an endpoint. Switched back on, it gets the events from now on (none it missed)."""
    url, events = endpoint_clean(url, events)
    before = WebhookEndpoint.objects.filter(pk=endpoint.pk).values("active", "events").first()
    was_active = before["active"] if before else False
    had_rewards = _wants_rewards((before["events"] if before else None) or [])
    if active and (not was_active or (_wants_rewards(events) and not had_rewards)):
        _start_idle_cursors(events, exclude=endpoint.pk)
    if active and not was_active:
        endpoint.since_event = _head(OutboxEvent)
    endpoint.url, endpoint.events, endpoint.active = url, events, active
    endpoint.description = (description or "").strip()[:200]
    endpoint.save()
    return endpoint


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """A new signing secret, shown this once; the old one stops signing at once."""
    secret = _new_secret()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=secret, secret_rotated_at=clock.now())
    endpoint.refresh_from_db(fields=["secret", "secret_rotated_at"])
    return secret


def endpoint_ping(*, endpoint: WebhookEndpoint, session: requests.Session | None = None) -> WebhookDelivery:
    """Send a ``ping`` event now (once, not retried) and return its delivery with the answer."""
    now = clock.now()
    payload = {
        "id": f"ping_{uuid.uuid4().hex}",
        "type": PING,
        "created_at": now.isoformat(),
        "data": {"endpoint": endpoint.pk, "message": "Weishang webhook test"},
    }
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type=PING, event=None, payload=payload, next_attempt_at=None
    )
    _attempt(delivery, now=now, session=session or _session())
    return delivery


def delivery_retry_now(*, deliveries: Iterable[WebhookDelivery], session: requests.Session | None = None) -> Counter:
    """Try these deliveries again now (a given-up one gets one more attempt); returns the outcomes."""
    session = session or _session()
    outcomes: Counter = Counter()
    now = clock.now()
    for delivery in deliveries:
        if delivery.status == D.SUCCEEDED:
            outcomes["skipped"] += 1
            continue
        claimed = WebhookDelivery.objects.filter(
            pk=delivery.pk, status=delivery.status, attempts=delivery.attempts
        ).update(next_attempt_at=now + LEASE)
        if not claimed:
            outcomes["skipped"] += 1
            continue
        delivery.refresh_from_db()
        outcomes[_attempt(delivery, now=now, session=session)] += 1
    return outcomes


# --- dispatch: outbox events -> deliveries -----------------------------------------------------


def _gap_wait() -> timedelta:
    return timedelta(seconds=getattr(settings, "WEISHANG_WEBHOOK_GAP_SECONDS", 300))


CURSORS: dict[str, type[models.Model]] = {}  # name -> the model its ids come from


def _cursor_models() -> dict[str, type[models.Model]]:
    if not CURSORS:
        from weishang.ledger.models import JournalEntry
        from weishang.rewards.models import RewardLine

        CURSORS.update({"outbox": OutboxEvent, "reward_lines": RewardLine, "journal_entries": JournalEntry})
    return CURSORS


def _wants_rewards(events: Iterable[str]) -> bool:
    return any(topic in REWARD_EVENTS for topic in events)


REWARD_CURSORS = ("reward_lines", "journal_entries")


def _start_idle_cursors(events: Iterable[str], exclude: int | None = None) -> None:
    """A scan nobody needed has not moved: before the first active endpoint (and before the first
    that wants reward events) it starts from now, so that nothing old is sent."""
    others = list(WebhookEndpoint.objects.filter(active=True).exclude(pk=exclude or 0))
    idle = [] if others else ["outbox"]
    if _wants_rewards(events) and not any(_wants_rewards(other.events or []) for other in others):
        idle += REWARD_CURSORS
    models_by_name = _cursor_models()
    for name in idle:
        WebhookCursor.objects.update_or_create(
            name=name, defaults={"position": _head(models_by_name[name]), "stuck_since": None}
        )


def _locked_cursor(name: str, model: type[models.Model]) -> WebhookCursor | None:
    """This scan's cursor, locked for the transaction; None if another run holds it (PostgreSQL)."""
    cursor, _created = WebhookCursor.objects.get_or_create(name=name, defaults={"position": _head(model)})
    rows = WebhookCursor.objects.filter(pk=cursor.pk)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return rows.first()


def _advance(cursor: WebhookCursor, seen: list[int], now: datetime) -> None:
    """Move the position over the ids read without a gap; a gap held open past the wait is
    taken for a rolled-back transaction and passed."""
    position, stuck = cursor.position, False
    for pk in sorted(seen):
        if pk <= position:
            continue
        if pk == position + 1:
            position = pk
            continue
        if position == cursor.position and cursor.stuck_since is not None and now - cursor.stuck_since >= _gap_wait():
            position = pk
            continue
        stuck = True
        break
    if position != cursor.position:
        cursor.stuck_since = now if stuck else None
    elif stuck:
        cursor.stuck_since = cursor.stuck_since or now
    else:
        cursor.stuck_since = None
    cursor.position = position
    cursor.save(update_fields=["position", "stuck_since", "updated_at"])


def _scan(name: str, rows: models.QuerySet, handle: Callable[[list], None], *, now: datetime) -> int:
    """Hand every row above the cursor to ``handle`` (in id order, in batches) and advance the
    cursor, all in one transaction; returns how many rows were read."""
    with transaction.atomic():
        cursor = _locked_cursor(name, rows.model)
        if cursor is None:
            return 0
        seen: list[int] = []
        after = cursor.position
        for _batch in range(MAX_BATCHES):
            batch = list(rows.filter(pk__gt=after).order_by("pk")[:BATCH])
            if not batch:
                break
            handle(batch)
            seen += [row.pk for row in batch]
            after = batch[-1].pk
            if len(batch) < BATCH:
                break
        _advance(cursor, seen, now)
        return len(seen)


def envelope(event: OutboxEvent) -> dict:
    """What an endpoint receives for an outbox event."""
    return {
        "id": f"evt_{event.pk}",
        "type": event.topic,
        "created_at": event.created_at.isoformat(),
        "data": event.payload,
    }


def _reward_data(line) -> dict:
    return {
        "reward": line.pk,
        "beneficiary": line.beneficiary_id,
        "amount": str(line.amount),
        "kind": line.kind,
        "rule": line.rule_id,
        "status": line.status,
        "order": line.order.number if line.order_id else None,
        "period": line.period or None,
        "paid_by": line.payer_id,
        "release_at": line.release_at.isoformat() if line.release_at else None,
        "explanation_zh": line.explanation_zh,
        "explanation_en": line.explanation_en,
        "at": clock.now().isoformat(),
    }


def _emit_rewards(topic: str, lines: list) -> None:
    if not lines:
        return
    keys = {str(line.pk): line for line in lines}
    done = set(OutboxEvent.objects.filter(topic=topic, key__in=list(keys)).values_list("key", flat=True))
    outbox_emit_many([(topic, key, _reward_data(line)) for key, line in keys.items() if key not in done])


def rewards_to_outbox(*, now: datetime | None = None) -> int:
    """Write ``reward.created`` for new reward lines, ``reward.released`` and ``reward.reversed``
    for lines released or taken back since the last run (found through the journal entries that
    moved their money). A margin (the seller's own, not paid by the brand) has no events."""
    from weishang.ledger.models import JournalEntry
    from weishang.rewards.models import RewardKind, RewardLine

    now = now or clock.now()
    lines = RewardLine.objects.select_related("order")

    def created(batch: list) -> None:
        _emit_rewards("reward.created", [line for line in batch if line.kind != RewardKind.MARGIN])

    def moved(batch: list) -> None:
        ids = [entry.pk for entry in batch]
        _emit_rewards("reward.released", list(lines.filter(release_entry_id__in=ids).order_by("pk")))
        _emit_rewards("reward.reversed", list(lines.filter(reversal_entry_id__in=ids).order_by("pk")))

    read = _scan("reward_lines", lines, created, now=now)
    read += _scan("journal_entries", JournalEntry.objects.only("pk"), moved, now=now)
    return read


def webhooks_dispatch(*, now: datetime | None = None) -> int:
    """Make the deliveries for new outbox events; returns how many were made."""
    endpoints = list(WebhookEndpoint.objects.filter(active=True))
    if not endpoints:
        return 0
    now = now or clock.now()
    if any(endpoint.subscribes(topic) for endpoint in endpoints for topic in REWARD_EVENTS):
        rewards_to_outbox(now=now)
    made = 0

    def deliveries(batch: list) -> None:
        nonlocal made
        rows = [
            WebhookDelivery(
                endpoint=endpoint, event_type=event.topic, event=event.pk, payload=envelope(event), next_attempt_at=now
            )
            for event in batch
            for endpoint in endpoints
            if event.pk > endpoint.since_event and endpoint.subscribes(event.topic)
        ]
        if not rows:
            return
        done = set(
            WebhookDelivery.objects.filter(event__in={row.event for row in rows}).values_list("endpoint_id", "event")
        )
        rows = [row for row in rows if (row.endpoint_id, row.event) not in done]
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        made += len(rows)

    _scan("outbox", OutboxEvent.objects.all(), deliveries, now=now)
    return made


def webhooks_dispatch_inline() -> int:
    """Run by the outbox right after a transaction that wrote events commits."""
    return webhooks_dispatch()


# --- delivery ----------------------------------------------------------------------------------


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc from the environment: straight to the endpoint
    session.headers["User-Agent"] = USER_AGENT
    return session


def _status_line(response: requests.Response) -> str:
    """ "HTTP 503 Service Unavailable": what the console shows of an answer. The body is not read
    (a receiver's page, or an internal service's data, is none of the console's business)."""
    reason = "".join(ch for ch in str(response.reason or "") if ch.isprintable())
    return f"HTTP {response.status_code} {reason}".strip()[:RESPONSE_KEPT]


def _post(session: requests.Session, url: str, *, body: bytes, headers: dict) -> requests.Response:
    """POST to the checked address of ``url`` (see ``webhooks.safety``); no redirect is followed."""
    target = safety.resolve(url)
    prepared = session.prepare_request(requests.Request("POST", url, data=body, headers=headers))
    adapter = safety.PinnedAdapter(target)
    try:
        return adapter.send(prepared, timeout=TIMEOUT_SECONDS, stream=True, verify=session.verify, proxies={})
    finally:
        adapter.close()


def _attempt(delivery: WebhookDelivery, *, now: datetime, session: requests.Session) -> str:
    """POST the delivery once and record the outcome; returns the new status."""
    endpoint = delivery.endpoint
    body = body_of(delivery.payload)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Weishang-Event": delivery.event_type,
        "Weishang-Delivery": str(delivery.pk),
        "Weishang-Timestamp": str(timestamp),
        "Weishang-Signature": signature_header(endpoint.secret, timestamp, body),
    }
    code, text, error, location = None, "", "", ""
    try:
        with _post(session, endpoint.url, body=body, headers=headers) as response:
            code, text = response.status_code, _status_line(response)
            location = response.headers.get("Location") or "?"
    except safety.UnsafeAddress as exc:
        error = f"refused: {exc.reason} (webhooks go to public addresses only)"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    ok = code is not None and 200 <= code < 300
    if code is not None and 300 <= code < 400:
        error = f"redirect to {location[:200]} not followed"
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.last_status_code = now, code
    delivery.last_response, delivery.last_error = text[:RESPONSE_KEPT], error[:300]
    if ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = D.SUCCEEDED, now, None
    elif delivery.event is None or delivery.attempts > len(BACKOFF):  # a ping is tried once
        delivery.status, delivery.next_attempt_at = D.GAVE_UP, None
    else:
        delivery.status, delivery.next_attempt_at = D.FAILED, now + BACKOFF[delivery.attempts - 1]
    delivery.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "last_status_code",
            "last_response",
            "last_error",
            "status",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    if not ok:
        log.info("webhook delivery %s to %s failed (%s): %s", delivery.pk, endpoint.url, code, error or text[:100])
    return delivery.status


def _claim(delivery: WebhookDelivery, now: datetime) -> bool:
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery.pk,
            status=delivery.status,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
        ).update(next_attempt_at=now + LEASE)
    )


def webhooks_deliver(
    *, now: datetime | None = None, limit: int = 100, session: requests.Session | None = None, dispatch: bool = True
) -> Counter:
    """Dispatch new events, then send up to ``limit`` due deliveries to active endpoints; returns
    how many ended in each status."""
    if dispatch:
        webhooks_dispatch(now=now)
    now = now or clock.now()
    session = session or _session()
    outcomes: Counter = Counter()
    due = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(status__in=(D.PENDING, D.FAILED), next_attempt_at__lte=now, endpoint__active=True)
        .order_by("next_attempt_at", "pk")[:limit]
    )
    for delivery in list(due):
        if _claim(delivery, now):
            outcomes[_attempt(delivery, now=now, session=session)] += 1
    return outcomes
