"""Write an outbox event inside the caller's transaction."""

from __future__ import annotations

from django.db import transaction

from weishang.core.models import OutboxEvent


def outbox_emit(*, topic: str, key: str, payload: dict) -> OutboxEvent:
    """Record ``topic`` for ``key`` once; emitting the same (topic, key) again returns the first."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_emit() must run inside the transaction of the change it reports")
    event, _created = OutboxEvent.objects.get_or_create(topic=topic, key=key, defaults={"payload": payload})
    return event
