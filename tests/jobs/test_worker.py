"""The worker (weishang.jobs): the schedule enqueues each slot once, a failure is tried again after
a pause and at most so many times, a dead worker's task goes to another, and between tasks the
worker follows the outbox — what cron did before, now in one process a brand runs beside the web."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import worker_test_tasks
from django.db import connection
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from weishang.jobs import services
from weishang.jobs.models import ScheduledRun, WorkerBeat
from weishang.jobs.schedule import JOBS, Daily, Every, Monthly
from weishang.jobs.worker import Worker

pytestmark = pytest.mark.django_db(transaction=True)


def local(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


def test_each_kind_of_slot_reads_the_brands_clock():
    assert Every(minutes=5).slot(local(2026, 12, 5, 9, 7)) == "2026-12-05T09:05"
    assert Every(minutes=60).slot(local(2026, 12, 5, 0, 59)) == "2026-12-05T00:00"
    assert Daily("02:30").slot(local(2026, 12, 5, 2, 29)) is None
    assert Daily("02:30").slot(local(2026, 12, 5, 2, 30)) == "2026-12-05"
    assert Monthly(day=1, at="04:00").slot(local(2026, 12, 1, 3, 59)) is None
    assert Monthly(day=1, at="04:00").slot(local(2026, 12, 1, 4, 0)) == "2026-12"
    assert Monthly(day=1, at="04:00").slot(local(2026, 12, 20, 0, 0)) == "2026-12"


def test_a_slot_is_enqueued_once_however_often_the_clock_is_read(clock):
    clock.freeze(local(2026, 12, 1, 5, 0))
    first = services.schedule_enqueue_due()
    assert {run.job for run in first} == {job.name for job in JOBS}  # past 05:00 on the 1st: all due
    assert services.schedule_enqueue_due() == []
    assert DBTaskResult.objects.count() == len(JOBS)
    clock.advance(timedelta(minutes=5))  # 05:05: the five-minute and one-minute jobs again
    assert {run.job for run in services.schedule_enqueue_due()} == {
        "orders-expire",
        "webhooks-deliver",
        "notifications-send",
    }
    every_run = ScheduledRun.objects.filter(job="orders-expire").order_by("slot")
    assert [run.slot for run in every_run] == ["2026-12-01T05:00", "2026-12-01T05:05"]
    assert all(DBTaskResult.objects.filter(pk=run.task_id).exists() for run in every_run)


def test_workers_starting_together_enqueue_each_slot_once(clock):
    clock.freeze(local(2026, 12, 1, 5, 0))
    barrier = threading.Barrier(4)
    errors = []

    def look():
        try:
            barrier.wait()
            services.schedule_enqueue_due()
        except Exception as exc:  # pragma: no cover - shown by the assertion
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=look) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ScheduledRun.objects.count() == DBTaskResult.objects.count() == len(JOBS)


def _worker(**kwargs) -> Worker:
    return Worker(schedule=False, follow=False, interval=0.01, **kwargs)


def test_a_failed_task_waits_and_is_tried_again(tmp_path):
    counter = tmp_path / "calls"
    result = worker_test_tasks.fails_until.enqueue(str(counter), 1)
    assert _worker(worker_id="w1").run(once=True) == 1
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.READY  # back in the queue, not failed
    assert row.run_after > timezone.now() + timedelta(seconds=20)  # after a pause (30 s the first time)
    assert row.exception_class_path == "builtins.ConnectionError" and "did not answer" in row.traceback
    assert _worker(worker_id="w2").run(once=True) == 0  # not before its time
    DBTaskResult.objects.filter(pk=row.pk).update(run_after=timezone.now())  # the pause is over
    assert _worker(worker_id="w3").run(once=True) == 1
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL and row.return_value == {"calls": 2}
    assert row.worker_ids == ["w1", "w3"] and row.traceback == ""


def test_a_task_failing_every_time_fails_after_the_last_attempt(tmp_path, settings):
    settings.WEISHANG_JOBS_MAX_ATTEMPTS = 3
    result = worker_test_tasks.fails_until.enqueue(str(tmp_path / "calls"), 99)
    for attempt in range(1, 4):
        DBTaskResult.objects.filter(pk=result.id).update(run_after=timezone.now())
        _worker(worker_id=f"w{attempt}").run(once=True)
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.FAILED and len(row.worker_ids) == 3
    assert (tmp_path / "calls").read_text() == "3"
    assert services.backoff(1) == timedelta(seconds=30) and services.backoff(20) == timedelta(hours=1)


def test_a_business_refusal_is_not_tried_again():
    result = worker_test_tasks.refused.enqueue()
    _worker().run(once=True)
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.FAILED and "该期间尚未结束" in row.traceback


def test_a_dead_workers_task_goes_to_another_and_a_live_ones_stays(tmp_path):
    dead = worker_test_tasks.fails_until.enqueue(str(tmp_path / "a"), 0)
    busy = worker_test_tasks.fails_until.enqueue(str(tmp_path / "b"), 0)
    for worker_id, result in (("dead", dead), ("alive", busy)):
        services.worker_beat(worker_id=worker_id)
        DBTaskResult.objects.get(pk=result.id).claim(worker_id)
    long_ago = timezone.now() - timedelta(minutes=5)
    DBTaskResult.objects.update(started_at=long_ago)  # both have run for five minutes
    WorkerBeat.objects.filter(worker_id="dead").update(beat_at=long_ago)  # one has said nothing since
    assert services.tasks_recover(lease=timedelta(seconds=60)) == 1
    assert DBTaskResult.objects.get(pk=dead.id).status == TaskResultStatus.READY
    assert DBTaskResult.objects.get(pk=busy.id).status == TaskResultStatus.RUNNING
    assert _worker(worker_id="next").run(once=True) == 1  # the dead one's task, run by the next worker
    row = DBTaskResult.objects.get(pk=dead.id)
    assert row.status == TaskResultStatus.SUCCESSFUL and row.worker_ids == ["dead", "next"]


def test_a_task_abandoned_too_often_fails_saying_so(tmp_path, settings):
    settings.WEISHANG_JOBS_MAX_ATTEMPTS = 2
    result = worker_test_tasks.fails_until.enqueue(str(tmp_path / "a"), 0)
    long_ago = timezone.now() - timedelta(minutes=5)
    for worker_id in ("first", "second"):
        services.worker_beat(worker_id=worker_id)
        DBTaskResult.objects.get(pk=result.id).claim(worker_id)
        DBTaskResult.objects.filter(pk=result.id).update(started_at=long_ago)
        WorkerBeat.objects.filter(worker_id=worker_id).update(beat_at=long_ago)
        services.tasks_recover(lease=timedelta(seconds=60))
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.FAILED and row.exception_class_path == services.LOST
    assert "second" in row.traceback


def test_a_stopped_worker_says_so(tmp_path):
    _worker(worker_id="gone").run(once=True)
    beat = WorkerBeat.objects.get(worker_id="gone")
    assert beat.stopped_at is not None and beat.task_id == ""
