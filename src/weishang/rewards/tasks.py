"""The rewards app's background task: settling a period the console opened.

The console opens the run while the user waits (``services.settle_open``: the period is over, a plan
was in force) and enqueues this task; ``weishang worker`` settles it. Running it twice is safe:
``settle_finish`` returns a finished run as it is and finishes a half-written one.
"""

from __future__ import annotations

from django.tasks import task


@task
def settle_run(run_id: int) -> dict:
    from weishang.rewards.services import settle_finish

    run = settle_finish(run_id=run_id)
    return {"period": run.period, "lines": run.lines, "total": str(run.total)}
