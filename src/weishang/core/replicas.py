"""Read replicas for reports and exports (M13).

A brand past one machine runs PostgreSQL with streaming replicas; the long reads of reports and
exports belong there, and everything else on the primary. Django routes by model, not by query,
and a router that sent every read to a replica would break read-your-own-writes (an agent pays,
the next page reads a replica a few hundred milliseconds behind and shows the order unpaid). So
reads go to a replica only inside ``replica_reads()``, which the report commands and the console's
exports wrap around their reading; writes always go to the primary, even for an object that was
read from a replica.

Replicas are declared by ``WEISHANG_REPLICA_URLS`` (settings; comma-separated database URLs,
aliases ``replica1``, ``replica2`` …). Without it, ``replica_reads()`` changes nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import random
from collections.abc import Iterator

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

_reading_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("weishang_replica_reads", default=False)


def replica_aliases() -> list[str]:
    """The database aliases that are replicas, in settings order."""
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


@contextlib.contextmanager
def replica_reads() -> Iterator[None]:
    """Reads in this block (this thread or task) go to a replica, when there is one."""
    token = _reading_replica.set(True)
    try:
        yield
    finally:
        _reading_replica.reset(token)


class ReplicaRouter:
    """Reads inside ``replica_reads()`` to a random replica; all else, and every write, to the primary."""

    def db_for_read(self, model, **hints) -> str | None:
        if _reading_replica.get():
            aliases = replica_aliases()
            if aliases:
                return random.choice(aliases)  # noqa: S311 — spreading load, not security
        return None

    def db_for_write(self, model, **hints) -> str:
        # An instance read from a replica is saved on the primary, never on the replica.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # A replica holds the same rows as the primary.
        dbs = {obj1._state.db or DEFAULT_DB_ALIAS, obj2._state.db or DEFAULT_DB_ALIAS}
        if dbs <= {DEFAULT_DB_ALIAS, *replica_aliases()}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        # Replicas follow the primary by replication; migrate only the primary.
        if db.startswith("replica"):
            return False
        return None
