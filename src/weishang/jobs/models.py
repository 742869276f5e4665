"""The worker's own records beside django-tasks-db's task table (``DBTaskResult``).

``ScheduledRun``: one periodic job's one slot (``orders-expire`` at ``2026-12-05T09:05``), unique,
written in the transaction that enqueues the slot's task — so however many workers look at the
clock, a slot is enqueued once. ``WorkerBeat``: a worker process and when it last said it was
alive; a task claimed by a worker whose beat is older than the lease is given to another.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ScheduledRun(models.Model):
    job = models.CharField(_("job"), max_length=40)
    slot = models.CharField(_("slot"), max_length=40, help_text=_("The period this run is for, in China time."))
    task_id = models.CharField(_("task"), max_length=64, blank=True)
    enqueued_at = models.DateTimeField(_("enqueued"), default=timezone.now)

    class Meta:
        ordering = ["-enqueued_at", "-pk"]
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="jobs_one_run_per_slot")]
        permissions = [("run_job", _("Can run a background job now"))]

    def __str__(self) -> str:
        return f"{self.job} {self.slot}"


class WorkerBeat(models.Model):
    worker_id = models.CharField(_("worker"), max_length=64, unique=True)
    host = models.CharField(_("machine"), max_length=100)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    beat_at = models.DateTimeField(_("last seen"), default=timezone.now)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    task_id = models.CharField(_("running task"), max_length=64, blank=True)

    class Meta:
        ordering = ["-beat_at"]
        verbose_name = _("worker")
        verbose_name_plural = _("workers")

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.host}:{self.pid})"
