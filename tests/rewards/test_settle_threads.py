"""Settlement outside a transaction, as ``weishang settle`` runs it: on PostgreSQL the lines and
the reports are written by writer threads with connections of their own while the engine
computes; on SQLite all on the caller's thread. Either way the result is exactly that of a run
inside a transaction (all on one thread), and a run killed on a writer thread finishes on rerun.
These tests commit (``transaction=True``): the writer threads cannot see an open test transaction."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from test_settle_crash import Killed, _period, kill_on_call, snapshot

from weishang.ledger.selectors import ledger_verify
from weishang.rewards import services

pytestmark = pytest.mark.django_db(transaction=True)


def _record_threads(monkeypatch) -> list[str]:
    """The names of the threads that write each batch (lines and reports)."""
    seen: list[str] = []
    for name in ("_store_settled", "_store_reports"):
        real = getattr(services, name)

        def spy(*args, real=real, **kwargs):
            seen.append(threading.current_thread().name)
            return real(*args, **kwargs)

        monkeypatch.setattr(services, name, spy)
    return seen


@pytest.mark.parametrize("kind", ["month", "quarter"])
def test_settlement_outside_a_transaction_writes_what_one_inside_writes(ladder_channel, monkeypatch, kind):
    monkeypatch.setattr(services, "BATCH", 1)
    monkeypatch.setattr(services, "REPORT_BATCH", 2)
    label, today = _period(kind, ladder_channel)
    with transaction.atomic():  # all on this thread; rolled back
        services.settle_period(period=label, today=today)
        expected = snapshot()
        transaction.set_rollback(True)

    threads = _record_threads(monkeypatch)
    run = services.settle_period(period=label, today=today)

    assert run.finished_at is not None
    assert snapshot() == expected
    assert ledger_verify() == []
    assert len(threads) == 4 + 3  # four batches of one line, three of two reports
    main = threading.main_thread().name
    if connection.vendor == "postgresql":
        assert main not in threads and {"db:settle-lines", "db:settle-reports"} <= set(threads)
    else:
        assert set(threads) == {main}


def test_a_settlement_killed_on_the_writer_thread_finishes_on_rerun(ladder_channel, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 1)
    monkeypatch.setattr(services, "REPORT_BATCH", 1)
    label, today = _period("month", ladder_channel)
    with transaction.atomic():
        services.settle_period(period=label, today=today)
        expected = snapshot()
        transaction.set_rollback(True)

    with monkeypatch.context() as m:
        kill_on_call(m, services, "_store_new", 3)  # the third batch of lines dies; two are committed
        with pytest.raises(Killed):
            services.settle_period(period=label, today=today)
    killed = snapshot()
    assert sum(killed["lines"].values()) < sum(expected["lines"].values())
    assert not any(finished for *_f, finished in killed["runs"].values())
    assert ledger_verify() == []

    services.settle_period(period=label, today=today)
    assert snapshot() == expected
    assert ledger_verify() == []
