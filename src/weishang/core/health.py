"""Health and readiness for a load balancer or an orchestrator (M13), with no login and no cookies:

- ``/healthz``: the process answers (200), nothing else is asked — a restart is the cure if not.
- ``/readyz``: it can serve: the database answers, no migration is waiting, the cache answers.
  200 with what was checked, or 503 naming what failed — take it out of rotation until it passes.
"""

from __future__ import annotations

from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _database() -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    executor = MigrationExecutor(connection)
    waiting = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return f"{len(waiting)} migrations not applied" if waiting else "ok"


def _cache() -> str:
    shared = caches["shared"]  # the one every process must reach (settings: WEISHANG_CACHE_URL)
    shared.set("weishang:readyz", "1", 10)
    return "ok" if shared.get("weishang:readyz") == "1" else "the cache did not keep a value"


@never_cache
@require_GET
def readyz(request):
    checks: dict[str, str] = {}
    for name, check in (("database", _database), ("cache", _cache)):
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
            checks[name] = f"{type(exc).__name__}: {exc}"[:200]
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
