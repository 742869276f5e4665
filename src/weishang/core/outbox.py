"""Write an outbox event inside the caller's transaction; tell the consumers after it commits.

Consumers (the reward engine) subscribe with ``outbox_subscribe``. With the setting
``WEISHANG_OUTBOX_INLINE`` (default on) they run right after the transaction that wrote events
commits, in the same process — so the page that completed an order shows its rewards. Each
consumer handles every event once and keeps what it has not handled for its management command
(``weishang rewards process``), so a failure after commit loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from weishang.core.models import OutboxCursor, OutboxEvent

log = logging.getLogger(__name__)
_subscribers: list[Callable[[], object]] = []


def outbox_subscribe(consumer: Callable[[], object]) -> None:
    if consumer not in _subscribers:
        _subscribers.append(consumer)


def _dispatch() -> None:
    for consumer in _subscribers:
        try:
            consumer()
        except Exception:  # the events stay in the outbox for the consumer's command
            log.exception("outbox consumer %s failed; its command will retry", getattr(consumer, "__name__", consumer))


def outbox_consumers_run(*, rounds: int = 1000) -> int:
    """Run every consumer over its new events until a round finds nothing (the worker, between
    tasks); returns how many events were handled. A consumer that fails is logged and skipped, its
    events staying for the next round."""
    handled = 0
    for _round in range(rounds):
        found = 0
        for consumer in _subscribers:
            try:
                found += int(consumer() or 0)
            except Exception:
                log.exception(
                    "outbox consumer %s failed; the worker will retry", getattr(consumer, "__name__", consumer)
                )
        handled += found
        if not found:
            break
    return handled


def outbox_emit(*, topic: str, key: str, payload: dict) -> None:
    """Record ``topic`` for ``key`` once; emitting the same (topic, key) again keeps the first.

    One INSERT … ON CONFLICT DO NOTHING: no read, no savepoint, inside the caller's transaction."""
    outbox_emit_many([(topic, key, payload)])


def outbox_emit_many(events: list[tuple[str, str, dict]]) -> None:
    """``outbox_emit`` for many (topic, key, payload) at once: one INSERT."""
    if not events:
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_emit() must run inside the transaction of the change it reports")
    OutboxEvent.objects.bulk_create(
        [OutboxEvent(topic=topic, key=key, payload=payload) for topic, key, payload in events], ignore_conflicts=True
    )
    if _subscribers and getattr(settings, "WEISHANG_OUTBOX_INLINE", True):
        pending = connection.run_on_commit
        if not any(func is _dispatch for _sids, func, _robust in pending):
            transaction.on_commit(_dispatch)


def outbox_follow(
    name: str, topics: tuple[str, ...], handle: Callable[[list[OutboxEvent]], object], *, batch: int = 500
) -> int:
    """Hand the events of ``topics`` that consumer ``name`` has not read yet to ``handle``, in id
    order and in one transaction with moving its cursor; returns how many were read. For a
    consumer whose work is idempotent and healed elsewhere (an event committed after a later one
    was read is skipped: the certificates reconcile on every lookup, a code's return is re-read
    from its order), which the reward engine's and the webhooks' exactly-once bookkeeping is not."""
    # Nothing new for this consumer (the common case right after a commit that wrote other topics):
    # answered by one read, without a write transaction — on SQLite every transaction takes the
    # write lock. A cursor read a moment stale only sends us on to the locked read below.
    read = OutboxCursor.objects.filter(name=name).values_list("position", flat=True).first()
    if read is not None and not OutboxEvent.objects.filter(pk__gt=read, topic__in=topics).exists():
        return 0
    with transaction.atomic():
        OutboxCursor.objects.get_or_create(name=name)
        cursor = OutboxCursor.objects.select_for_update().get(name=name)
        events = list(OutboxEvent.objects.filter(pk__gt=cursor.position, topic__in=topics).order_by("pk")[:batch])
        if not events:
            return 0
        handle(events)
        cursor.position = events[-1].pk
        cursor.save(update_fields=["position"])
        return len(events)
