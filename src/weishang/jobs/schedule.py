"""Every periodic job, in one place: what runs, and when (China time, the brand's clock).

The worker enqueues a job's task once per slot: ``Every(minutes=5)`` has a slot per five minutes
of the clock (09:00, 09:05 …), ``Daily("02:30")`` one per day once 02:30 has passed,
``Monthly(day=1, at="04:00")`` one per month. A slot is written with a unique constraint in the
transaction that enqueues it, so several workers never enqueue it twice; a worker that was down
enqueues only the latest slot it missed (each job does all that is due, not one slot's share).

The outbox's consumers (rewards, notifications, webhooks, volume, …) are not here: the worker
follows the outbox between tasks, every ``--interval`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.tasks import Task
from django.utils.translation import gettext_lazy as _

from weishang.jobs import tasks


@dataclass(frozen=True)
class Every:
    minutes: int

    def slot(self, local: datetime) -> str | None:
        minute = (local.hour * 60 + local.minute) // self.minutes * self.minutes
        return f"{local:%Y-%m-%d}T{minute // 60:02d}:{minute % 60:02d}"

    def describe(self) -> str:
        return str(_("every %(n)s min") % {"n": self.minutes})


@dataclass(frozen=True)
class Daily:
    at: str  # "HH:MM"

    def slot(self, local: datetime) -> str | None:
        return f"{local:%Y-%m-%d}" if local.time() >= time.fromisoformat(self.at) else None

    def describe(self) -> str:
        return str(_("daily at %(at)s") % {"at": self.at})


@dataclass(frozen=True)
class Monthly:
    day: int
    at: str

    def slot(self, local: datetime) -> str | None:
        due = local.replace(day=self.day, hour=0, minute=0, second=0, microsecond=0)
        due += timedelta(hours=int(self.at[:2]), minutes=int(self.at[3:]))
        return f"{local:%Y-%m}" if local >= due else None

    def describe(self) -> str:
        return str(_("monthly on day %(day)s at %(at)s") % {"day": self.day, "at": self.at})


@dataclass(frozen=True)
class Job:
    name: str
    title: object
    task: Task
    when: Every | Daily | Monthly


JOBS: tuple[Job, ...] = (
    Job("orders-expire", _("Expire unpaid shop orders"), tasks.orders_expire, Every(minutes=5)),
    Job("promotions-sync", _("Settle coupons and flash sales"), tasks.promotions_sync, Every(minutes=10)),
    Job("rewards-release", _("Release frozen rewards that are due"), tasks.rewards_release, Every(minutes=60)),
    Job("low-stock", _("Tell the warehouse of SKUs below their minimum"), tasks.low_stock_alerts, Every(minutes=60)),
    Job("webhooks-deliver", _("Deliver webhooks"), tasks.webhooks_deliver, Every(minutes=1)),
    Job("notifications-send", _("Send notifications"), tasks.notifications_send, Every(minutes=1)),
    Job("channel-health", _("Save this month's channel health"), tasks.channel_health_save, Daily("02:30")),
    Job(
        "channel-health-month",
        _("Save last month's channel health, final"),
        tasks.channel_health_close_month,
        Monthly(day=1, at="03:30"),
    ),
    Job("settle", _("Settle last month (and its quarter and year)"), tasks.settle_periods, Monthly(day=1, at="04:00")),
    Job("jobs-prune", _("Forget finished tasks older than 30 days"), tasks.jobs_prune, Daily("05:00")),
)

BY_NAME = {job.name: job for job in JOBS}
