"""The console's 后台任务 page: the workers, each periodic job with its last run, the latest tasks;
"run now" for a job. Who: seeing the page needs jobs.view_scheduledrun (owner, operations, finance);
running a job now needs jobs.run_job (the owner)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django_tasks_db.models import DBTaskResult

from weishang.console.kit import ReadOnlyAdmin
from weishang.core.errors import BusinessError
from weishang.jobs import selectors, services
from weishang.jobs.models import ScheduledRun

# django-tasks-db registers its task table on the console in English, for superusers only; the
# tasks are shown on the 后台任务 page below, in the console's words and to its roles.
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)

VIEW = "jobs.view_scheduledrun"
RUN = "jobs.run_job"


@admin.register(ScheduledRun)
class ScheduledRunAdmin(ReadOnlyAdmin):
    list_display = ("job", "slot", "enqueued_at", "task_id")
    list_filter = ("job",)
    fields = ("job", "slot", "enqueued_at", "task_id")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("overview/", view(self.overview_view), name="jobs_overview"),
            path("run/<slug:name>/", view(self.run_view), name="jobs_run"),
            *super().get_urls(),
        ]

    def overview_view(self, request):
        if not request.user.has_perm(VIEW):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Background jobs (后台任务)"),
            "opts": self.model._meta,
            "counts": selectors.counts(),
            "workers": selectors.worker_rows(),
            "jobs": selectors.schedule_rows(),
            "tasks": selectors.task_rows(),
            "can_run": request.user.has_perm(RUN),
        }
        return TemplateResponse(request, "admin/jobs/overview.html", context)

    def run_view(self, request, name: str):
        if not request.user.has_perm(RUN):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            run = services.job_run_now(name=name, by=request.user)
        except BusinessError:
            messages.error(request, gettext("There is no such job."))
        else:
            messages.success(
                request, gettext("Queued: a worker runs it within seconds (task %(id)s).") % {"id": run.task_id[:8]}
            )
        return HttpResponseRedirect(reverse("admin:jobs_overview"))
