"""The worker's tasks: thin wrappers around the services that do the work, each safe to run again.

A task may run twice — its worker died after the work committed and before the result was
recorded, or a retry follows a failure half-way — so each wraps a service that is idempotent by
its own bookkeeping, never by the task's: the outbox consumers move a cursor or mark an event in
the transaction of their work; a released reward line changes status under a row lock; a
settlement run is unique per period and plan and writes whole batches, skipping what is written;
an expired order is a state change that happens once; a webhook delivery and a notification are
rows with a status; a saved month of channel health is unique per month. Each returns a small
JSON summary, kept with the task's result and shown on the console's 后台任务 page.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.tasks import task

from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.core.outbox import outbox_consumers_run


@task
def outbox_follow() -> dict:
    """Every outbox consumer over its new events, until none is left (the worker also does this
    between tasks; the task is for "run now" and for a worker that only runs tasks)."""
    return {"events": outbox_consumers_run()}


@task
def orders_expire() -> dict:
    from weishang.trade.services import retail_orders_expire

    return {"expired": retail_orders_expire()}


@task
def promotions_sync() -> dict:
    from weishang.promotions.services import redemptions_sync

    return {"settled": redemptions_sync()}


@task
def rewards_release() -> dict:
    from weishang.rewards.services import rewards_release as release

    return {"released": release()}


@task
def low_stock_alerts() -> dict:
    from weishang.inventory.services import low_stock_alerts as alerts

    return {"low_stock": alerts()}


@task
def webhooks_deliver() -> dict:
    from weishang.webhooks.services import webhooks_deliver as deliver

    outcomes: dict[str, int] = {}
    while True:  # every delivery that is due, 100 at a time
        batch = deliver(limit=100)
        for status, n in batch.items():
            outcomes[status] = outcomes.get(status, 0) + n
        if sum(batch.values()) < 100:
            return outcomes


@task
def notifications_send() -> dict:
    from weishang.notifications.services import deliveries_send, notifications_follow_events

    read = notifications_follow_events()
    return {"events": read, "sent": deliveries_send()}


def _month_before(day: date) -> str:
    return f"{(day.replace(day=1) - timedelta(days=1)):%Y-%m}"


@task
def channel_health_save(period: str = "") -> dict:
    """Save a month of channel health (this month so far by default); a breach is told once."""
    from weishang.monitor.services import health_snapshot_save

    period = period or f"{clock.today():%Y-%m}"
    try:
        _snapshot, raised, _report = health_snapshot_save(period=period)
    except BusinessError as exc:  # no plan in force yet: nothing to measure
        return {"period": period, "skipped": str(exc.message)}
    return {"period": period, "alerts": [f"{a.rule} {a.status}" for a in raised]}


@task
def channel_health_close_month() -> dict:
    """The month just ended, final (run on the 1st)."""
    return channel_health_save.call(period=_month_before(clock.today()))


@task
def settle_periods(month: str = "") -> dict:
    """Settle the month just ended (or ``month``), and the quarter and the year it closes when the
    plan in force has rules of that period."""
    from weishang.rewards.plan_versions import plan_in_force, plan_of
    from weishang.rewards.services import settle_period

    month = month or _month_before(clock.today())
    year, number = int(month[:4]), int(month[5:7])
    periods = [month]
    version = plan_in_force()
    kinds = {getattr(rule, "period", None) for rule in plan_of(version).rewards} if version else set()
    if number % 3 == 0 and "quarter" in kinds:
        periods.append(f"{year}-Q{number // 3}")
    if number == 12 and "year" in kinds:
        periods.append(str(year))
    done: dict[str, object] = {}
    for period in periods:
        try:
            run = settle_period(period=period)
        except BusinessError as exc:  # not over yet, or no plan in force: said, not retried
            done[period] = str(exc.message)
        else:
            done[period] = {"lines": run.lines, "total": str(run.total)}
    return done


@task
def jobs_prune(days: int = 30) -> dict:
    """Forget finished tasks and scheduled slots older than ``days`` (the table would grow by
    ~2,000 rows a day)."""
    from weishang.jobs.services import jobs_prune as prune

    return prune(days=days)
