"""``kill -9`` of the worker in the middle of a settlement and of a reward release: after a restart
the ledger equals an uninterrupted run (M13).

Real processes on the test database: a worker (``weishang.jobs.worker.Worker``, as ``weishang
worker`` runs it) takes the task, writes its batches — one reward line per batch here, with a
pause inside each batch's transaction so the kill lands mid-way — and is killed with SIGKILL once
some batches are committed. The task stays claimed by a worker that no longer beats; a new worker
started after it takes the task once the lease is over and finishes it. Compared with the same
task run without a kill (on the same rows, in a transaction rolled back): every balance, journal
entry, reward line, settlement run and report (``test_settle_crash.snapshot``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from django.db import connection, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from test_settle_crash import snapshot

from weishang.jobs import tasks
from weishang.ledger.selectors import ledger_verify
from weishang.rewards import services
from weishang.rewards.models import RewardLine, RewardStatus, SettlementRun

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = 4.0  # seconds

WORKER = textwrap.dedent(
    """
    import sys, time
    from datetime import timedelta
    import django
    django.setup()
    from weishang.jobs.worker import Worker
    from weishang.rewards import services

    worker_id, pause = sys.argv[1], float(sys.argv[2])
    services.BATCH = 1  # one reward line per batch (and journal entry)
    services.REPORT_BATCH = 1
    post = services.ledger.journal_post

    def slow_post(*args, **kwargs):
        entry = post(*args, **kwargs)
        time.sleep(pause)  # inside the batch's transaction: a kill here loses this batch only
        return entry

    services.ledger.journal_post = slow_post
    print("ready", flush=True)
    lease = timedelta(seconds=float(sys.argv[3]))
    worker = Worker(worker_id=worker_id, schedule=False, follow=False, interval=0.2, lease=lease)
    worker.install_signals()  # as `weishang worker` does: SIGTERM finishes the task in hand, then stops
    worker.run()
    """
)


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _start(worker_id: str, pause: float) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DATABASE_URL=_database_url(), DJANGO_SETTINGS_MODULE="weishang.settings", WEISHANG_OUTBOX_INLINE="0")
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, worker_id, str(pause), str(LEASE)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(condition, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.05)


def _status(task_id) -> str:
    return DBTaskResult.objects.get(pk=task_id).status


def _kill_mid_task_then_restart(task_id, *, progress, total: int) -> None:
    first = _start("first", pause=0.4)
    try:
        _wait(lambda: progress() >= 1 or first.poll() is not None, "the first batch")
        assert first.poll() is None, first.communicate()
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    done = progress()
    assert 1 <= done < total, (done, total)  # killed half-way: some batches written, not all
    assert _status(task_id) == TaskResultStatus.RUNNING  # still the dead worker's
    assert ledger_verify() == []  # every committed batch balanced, the one in hand rolled back

    second = _start("second", pause=0.0)
    try:
        _wait(lambda: _status(task_id) in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED), "the rerun")
    finally:
        second.send_signal(signal.SIGTERM)
        out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err[-3000:]
    row = DBTaskResult.objects.get(pk=task_id)
    assert row.status == TaskResultStatus.SUCCESSFUL, row.traceback
    assert row.worker_ids == ["first", "second"]


def test_a_settlement_killed_mid_way_ends_where_an_uninterrupted_one_does(ladder_channel, monkeypatch):
    month = f"{ladder_channel:%Y-%m}"
    with monkeypatch.context() as m, transaction.atomic():  # the uninterrupted run, rolled back
        m.setattr(services, "BATCH", 1)
        m.setattr(services, "REPORT_BATCH", 1)
        services.settle_period(period=month, today=timezone.localdate())
        expected = snapshot()
        transaction.set_rollback(True)
    total = sum(n for key, n in expected["lines"].items() if key[7] == month)
    assert total == 4

    task = tasks.settle_periods.enqueue(month=month)
    _kill_mid_task_then_restart(task.id, progress=lambda: RewardLine.objects.filter(period=month).count(), total=total)
    assert snapshot() == expected
    assert SettlementRun.objects.get(period=month).finished_at is not None
    assert ledger_verify() == []


def test_a_reward_release_killed_mid_way_ends_where_an_uninterrupted_one_does(ladder_channel, monkeypatch):
    frozen = RewardLine.objects.filter(status=RewardStatus.FROZEN).count()
    assert frozen >= 4
    with monkeypatch.context() as m, transaction.atomic():
        m.setattr(services, "BATCH", 1)
        assert services.rewards_release(now=timezone.now()) == frozen
        expected = snapshot()
        transaction.set_rollback(True)

    task = tasks.rewards_release.enqueue()
    _kill_mid_task_then_restart(
        task.id, progress=lambda: RewardLine.objects.filter(status=RewardStatus.AVAILABLE).count(), total=frozen
    )
    assert snapshot() == expected
    assert not RewardLine.objects.filter(status=RewardStatus.FROZEN).exists()
    assert ledger_verify() == []
    assert DBTaskResult.objects.get(pk=task.id).return_value["released"] < frozen  # the rest, by the rerun
