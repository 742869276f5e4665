"""The demo's background jobs: the worker has run each periodic job once, so the console's 后台任务
page shows the schedule with its last runs and the worker that ran them (``make run`` then keeps a
worker running beside the server)."""

from __future__ import annotations

from weishang.jobs.models import ScheduledRun
from weishang.jobs.services import schedule_enqueue_due
from weishang.jobs.worker import Worker


def jobs_demo() -> None:
    """Each job but this month's channel health: the demo's health page holds the months gone by
    (monitor.demo) and computes this one live; saving it here would tell its breaches before the
    owner has looked."""
    if ScheduledRun.objects.exists():
        return
    schedule_enqueue_due(skip=frozenset({"channel-health"}))
    Worker(worker_id="demo-worker", schedule=False, interval=0.01).run(once=True)
