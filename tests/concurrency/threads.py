"""Run jobs in real threads that start at the same moment (shared by the concurrency tests)."""

from __future__ import annotations

import threading

from django.db import connection


def run_together(*jobs):
    """Start every job at the same moment; return each one's result or exception."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def wrap(i, job):
        try:
            barrier.wait()
            results[i] = job()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a job hung"
    return results
