"""Write an outbox event inside the caller's transaction."""

from __future__ import annotations

from django.db import transaction

from weishang.core.models import OutboxEvent


def outbox_emit(*, topic: str, key: str, payload: dict) -> None:
    """Record ``topic`` for ``key`` once; emitting the same (topic, key) again keeps the first.

    One INSERT … ON CONFLICT DO NOTHING: no read, no savepoint, inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_emit() must run inside the transaction of the change it reports")
    OutboxEvent.objects.bulk_create([OutboxEvent(topic=topic, key=key, payload=payload)], ignore_conflicts=True)
