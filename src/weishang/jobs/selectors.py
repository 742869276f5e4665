"""What the console's 后台任务 page shows: the workers and whether they are alive, each periodic job
with its last run, and the latest tasks with their outcome."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult, get_date_max

from weishang.jobs.models import ScheduledRun, WorkerBeat
from weishang.jobs.schedule import JOBS

SILENT_AFTER = timedelta(minutes=2)  # a worker not heard from for this long is shown as silent

STATUS_LABELS = {
    "waiting": _("waiting to retry"),
    TaskResultStatus.READY: _("queued"),
    TaskResultStatus.RUNNING: _("running"),
    TaskResultStatus.SUCCESSFUL: _("done"),
    TaskResultStatus.FAILED: _("failed"),
}
WORKER_LABELS = {"working": _("working"), "idle": _("idle"), "silent": _("silent"), "stopped": _("stopped")}


def _titles() -> dict[str, object]:
    titles: dict[str, object] = {job.task.module_path: job.title for job in JOBS}
    titles["weishang.rewards.tasks.settle_run"] = _("Settle a period (from the console)")
    return titles


def _state(result: DBTaskResult, now) -> str:
    if result.status == TaskResultStatus.READY and result.run_after != get_date_max() and result.run_after > now:
        return "waiting"
    return result.status


# The words for what a task returns (jobs/tasks.py), so its summary reads in the reader's language.
SUMMARY_LABELS = {
    "events": _("events read"),
    "expired": _("orders expired"),
    "settled": _("promotion uses settled"),
    "released": _("reward lines released"),
    "sent": _("messages sent"),
    "period": _("month"),
    "alerts": _("breaches told"),
    "skipped": _("skipped"),
    "lines": _("reward lines"),
    "total": _("rewards total"),
    "tasks": _("tasks forgotten"),
    "slots": _("slots forgotten"),
    "workers": _("workers forgotten"),
    "calls": _("calls"),
    "low_stock": _("low-stock SKUs told"),
}


def _words(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{SUMMARY_LABELS.get(k, k)}: {_words(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_words(v) for v in value) or "—"
    return str(value)


def _summary(result: DBTaskResult) -> str:
    if result.status == TaskResultStatus.FAILED or (result.status == TaskResultStatus.READY and result.traceback):
        lines = [line for line in result.traceback.strip().splitlines() if line.strip()]
        return lines[-1][:300] if lines else result.exception_class_path
    if result.return_value in (None, {}, []):
        return ""
    return _words(result.return_value)[:300]


def task_rows(*, limit: int = 50) -> list[dict]:
    now = timezone.now()
    titles = _titles()
    rows = []
    for result in DBTaskResult.objects.order_by("-enqueued_at")[:limit]:
        state = _state(result, now)
        rows.append(
            {
                "id": str(result.id),
                "title": titles.get(result.task_path, result.task_path.rsplit(".", 1)[-1]),
                "state": state,
                "label": STATUS_LABELS.get(state, state),
                "attempts": len(result.worker_ids),
                "enqueued_at": result.enqueued_at,
                "started_at": result.started_at,
                "finished_at": result.finished_at,
                "run_after": None if result.run_after == get_date_max() else result.run_after,
                "summary": _summary(result),
            }
        )
    return rows


def schedule_rows() -> list[dict]:
    now = timezone.now()
    rows = []
    for job in JOBS:
        last = ScheduledRun.objects.filter(job=job.name).order_by("-enqueued_at", "-pk").first()
        result = DBTaskResult.objects.filter(pk=last.task_id).first() if last and last.task_id else None
        state = _state(result, now) if result else ""
        rows.append(
            {
                "name": job.name,
                "title": job.title,
                "when": job.when.describe(),
                "last_slot": last.slot if last else "",
                "last_at": last.enqueued_at if last else None,
                "state": state,
                "label": STATUS_LABELS.get(state, "") if state else "",
                "summary": _summary(result) if result else "",
            }
        )
    return rows


def worker_rows() -> list[dict]:
    now = timezone.now()
    titles = _titles()
    running = {
        str(r.pk): r.task_path for r in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only("task_path")
    }
    rows = []
    for beat in WorkerBeat.objects.order_by("-beat_at")[:20]:
        if beat.stopped_at is not None:
            state = "stopped"
        elif now - beat.beat_at > SILENT_AFTER:
            state = "silent"
        else:
            state = "working" if beat.task_id else "idle"
        path = running.get(beat.task_id, "")
        rows.append(
            {
                "worker_id": beat.worker_id,
                "where": f"{beat.host}:{beat.pid}",
                "started_at": beat.started_at,
                "beat_at": beat.beat_at,
                "state": state,
                "label": WORKER_LABELS[state],
                "task": titles.get(path, path.rsplit(".", 1)[-1]) if state == "working" and path else "",
            }
        )
    return rows


def counts() -> dict[str, int]:
    now = timezone.now()
    ready = DBTaskResult.objects.ready().count()
    return {
        "ready": ready,
        "running": DBTaskResult.objects.running().count(),
        "failed_today": DBTaskResult.objects.failed().filter(finished_at__gte=now - timedelta(days=1)).count(),
        "alive": WorkerBeat.objects.filter(stopped_at=None, beat_at__gte=now - SILENT_AFTER).count(),
    }
