"""The worker's bookkeeping: enqueue the periodic jobs' due slots, claim a task, record its end,
retry a failure after a pause, give a dead worker's task to another, keep the tables short.

The tasks themselves live in django-tasks-db's table (``DBTaskResult``: status READY → RUNNING →
SUCCESSFUL | FAILED, ``worker_ids`` the workers that claimed it, one per attempt). What that
library's own ``db_worker`` lacks, and this adds: a claimed task whose worker stopped beating is
put back (a ``kill -9``, a lost machine), and a failed task is tried again after a back-off, up to
``WEISHANG_JOBS_MAX_ATTEMPTS`` attempts in all.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.jobs.models import ScheduledRun, WorkerBeat
from weishang.jobs.schedule import BY_NAME, JOBS

log = logging.getLogger(__name__)

# Two clocks: the schedule's slots follow the brand's clock (``core.clock``, which tests and a
# replayed day may set); the worker's own timekeeping — beats, leases, back-off — follows the wall
# clock, as django-tasks-db's ``ready()`` and ``claim()`` do.
LOST = "weishang.jobs.WorkerLost"  # the exception path a task abandoned too often is failed with


def max_attempts() -> int:
    return int(getattr(settings, "WEISHANG_JOBS_MAX_ATTEMPTS", 5))


def backoff(attempt: int) -> timedelta:
    """How long a failed task waits before its next attempt: 30 s, 1, 2, 4 … minutes, at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempt - 1, 0), 3600))


# --- the schedule ---------------------------------------------------------------------------


def schedule_enqueue_due(*, now: datetime | None = None, skip: frozenset[str] = frozenset()) -> list[ScheduledRun]:
    """Enqueue each job (but those named in ``skip``) whose current slot has no run yet; returns
    the runs written."""
    local = timezone.localtime(now or clock.now())
    due = {job.name: slot for job in JOBS if job.name not in skip and (slot := job.when.slot(local)) is not None}
    if not due:
        return []
    have = set(ScheduledRun.objects.filter(slot__in=set(due.values())).values_list("job", "slot"))
    written = []
    for name, slot in due.items():
        if (name, slot) in have:
            continue
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=name, slot=slot)
                result = BY_NAME[name].task.enqueue()
                run.task_id = str(result.id)
                run.save(update_fields=["task_id"])
        except IntegrityError:  # another worker wrote this slot first
            continue
        written.append(run)
        log.info("enqueued %s for %s (task %s)", name, slot, run.task_id)
    return written


def job_run_now(*, name: str, by=None) -> ScheduledRun:
    """Enqueue a job now, from the console (its own slot: ``now:<time>``, so the schedule's is kept)."""
    job = BY_NAME.get(name)
    if job is None:
        raise BusinessError(f"no job {name!r}", field="job")
    with transaction.atomic():
        stamp = timezone.localtime(timezone.now())
        run = ScheduledRun.objects.create(job=name, slot=f"now:{stamp:%Y-%m-%dT%H:%M:%S.%f}")
        run.task_id = str(job.task.enqueue().id)
        run.save(update_fields=["task_id"])
    log.info("%s ran %s now (task %s)", getattr(by, "username", "?"), name, run.task_id)
    return run


# --- workers and their tasks -----------------------------------------------------------------


def worker_beat(*, worker_id: str, task_id: str = "", stopped: bool = False) -> None:
    """Say this worker is alive (and what it runs); the first beat registers it."""
    now = timezone.now()
    fields = {"beat_at": now, "task_id": task_id, "stopped_at": now if stopped else None}
    if not WorkerBeat.objects.filter(worker_id=worker_id).update(**fields):
        WorkerBeat.objects.create(
            worker_id=worker_id, host=socket.gethostname()[:100], pid=os.getpid(), started_at=now, **fields
        )


def task_claim(*, worker_id: str, queues: list[str] | None = None) -> DBTaskResult | None:
    """The next ready task, marked as this worker's (SKIP LOCKED on PostgreSQL: several workers
    never claim the same one; on SQLite the write lock does it)."""
    ready = DBTaskResult.objects.ready().filter(backend_name="default")
    if queues:
        ready = ready.filter(queue_name__in=queues)
    with transaction.atomic():
        found = ready.select_for_update(skip_locked=True).first()
        if found is None:
            return None
        found.claim(worker_id)
        WorkerBeat.objects.filter(worker_id=worker_id).update(task_id=str(found.id), beat_at=timezone.now())
    return found


def task_failed(*, result: DBTaskResult, error: BaseException) -> bool:
    """Record a failure: the task waits and is tried again (True), or, past the last attempt or
    for a business refusal that another try would not change, it is failed (False)."""
    attempts = len(result.worker_ids)
    if isinstance(error, BusinessError) or attempts >= max_attempts():
        result.set_failed(error)
        log.error("task %s %s failed after %s attempt(s)", result.id, result.task_path, attempts)
        return False
    result.status = TaskResultStatus.READY
    result.run_after = timezone.now() + backoff(attempts)
    result.exception_class_path = f"{type(error).__module__}.{type(error).__qualname__}"
    result.traceback = "".join(traceback.format_exception(error))
    result.save(update_fields=["status", "run_after", "exception_class_path", "traceback"])
    log.warning("task %s %s failed (attempt %s), again at %s", result.id, result.task_path, attempts, result.run_after)
    return True


def tasks_recover(*, lease: timedelta, now: datetime | None = None) -> int:
    """Put back the running tasks of workers silent for longer than ``lease`` (a task is claimed
    by one worker at a time; the silent one is dead or cut off — a live one beats every few
    seconds, even in the middle of a long task). Past the last attempt the task fails instead."""
    now = now or timezone.now()
    stale_before = now - lease
    alive = set(
        WorkerBeat.objects.filter(beat_at__gte=stale_before, stopped_at=None).values_list("worker_id", flat=True)
    )
    recovered = 0
    with transaction.atomic():
        running = DBTaskResult.objects.running().filter(started_at__lt=stale_before)
        for result in running.select_for_update(skip_locked=True):
            owner = result.worker_ids[-1] if result.worker_ids else ""
            if owner in alive:
                continue
            if len(result.worker_ids) >= max_attempts():
                result.status = TaskResultStatus.FAILED
                result.finished_at = now
                result.exception_class_path = LOST
                result.traceback = (
                    f"worker {owner} stopped answering while running this task, {len(result.worker_ids)} time(s)"
                )
                result.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
            else:
                result.status = TaskResultStatus.READY
                result.run_after = get_date_max()
                result.exception_class_path = LOST
                result.traceback = f"worker {owner} stopped answering while running this task; given to another"
                result.save(update_fields=["status", "run_after", "exception_class_path", "traceback"])
            log.warning("task %s %s of silent worker %s put back", result.id, result.task_path, owner)
            recovered += 1
    return recovered


def jobs_prune(*, days: int = 30) -> dict:
    before = timezone.now() - timedelta(days=days)
    tasks, _ = DBTaskResult.objects.finished().filter(finished_at__lt=before).delete()
    runs, _ = ScheduledRun.objects.filter(enqueued_at__lt=before).delete()
    workers, _ = WorkerBeat.objects.filter(beat_at__lt=before).delete()
    return {"tasks": tasks, "slots": runs, "workers": workers}
