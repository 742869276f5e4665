"""Launch phases and work plans in the console.

A phase is saved through ``growth.services.phase_save`` (its targets with it) and has a progress
page: each target's figure so far and a week-by-week chart of the cumulative figure against the
target pro-rated by days. Work plans are set through ``work_plan_set`` and listed with their
progress. Who: owner and operations plan phases and set work plans; finance reads them."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from weishang.console.kit import chart_data, chart_options
from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.growth import selectors, services
from weishang.growth.models import LaunchPhase, PhaseTarget, WorkPlan


class TargetInline(TabularInline):
    model = PhaseTarget
    fields = ("metric", "level", "target")
    extra = 3


@admin.register(LaunchPhase)
class LaunchPhaseAdmin(ModelAdmin):
    list_display = ("name", "kind", "starts_on", "ends_on", "progress_link")
    fields = ("name", "kind", "starts_on", "ends_on", "note")
    inlines = (TargetInline,)

    @admin.display(description=_("progress"))
    def progress_link(self, obj: LaunchPhase) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:growth_launchphase_progress", args=[obj.pk]), gettext("Progress")
        )

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The targets come with the inline (save_related); the phase is saved once there.
        self._phase = obj

    def save_related(self, request, form, formsets, change):
        targets = []
        for formset in formsets:
            for row in formset.cleaned_data:
                if row and not row.get("DELETE") and row.get("metric"):
                    targets.append((row["metric"], row.get("level"), row.get("target")))
        data = form.cleaned_data
        try:
            services.phase_save(
                phase=form.instance,
                name=data["name"],
                kind=data["kind"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                note=data.get("note") or "",
                targets=targets,
                by=request.user,
            )
        except BusinessError as exc:
            raise ValidationError(str(exc.message)) from exc
        for formset in formsets:  # the service wrote the targets; the change message reads these
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(request.get_full_path())

    def get_urls(self):
        return [
            path(
                "<id:pk>/progress/", self.admin_site.admin_view(self.progress_view), name="growth_launchphase_progress"
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        phase = get_object_or_404(LaunchPhase, pk=pk)
        progress = selectors.phase_progress(phase)
        charts = []
        for target in progress.targets:
            data = chart_data(
                [w.label for w in target.weeks],
                [
                    {
                        "label": gettext("Actual"),
                        "data": [str(w.actual) for w in target.weeks],
                        "backgroundColor": "var(--color-primary-600)",
                    },
                    {
                        "label": gettext("Target to date"),
                        "data": [str(w.planned) for w in target.weeks],
                        "backgroundColor": "var(--color-primary-200)",
                    },
                ],
            )
            charts.append((target, data))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Phase progress: %(name)s") % {"name": phase.name},
            "progress": progress,
            "charts": charts,
            "chart_options": chart_options(legend=True),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/growth/phase_progress.html", context)


class WorkPlanForm(forms.ModelForm):
    class Meta:
        model = WorkPlan
        fields = ("agent", "month", "talks", "meets", "invites", "orders")


@admin.register(WorkPlan)
class WorkPlanAdmin(ModelAdmin):
    form = WorkPlanForm
    list_display = ("agent", "month", "talks", "meets", "invites", "orders", "done", "set_by")
    list_filter = ("month",)
    search_fields = ("agent__real_name", "agent__user__phone")
    autocomplete_fields = ("agent",)
    list_select_related = ("agent", "agent__level", "set_by")

    @admin.display(description=_("done"))
    def done(self, obj: WorkPlan) -> str:
        return f"{selectors.plan_progress(obj).share}%"

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changeform_initial_data(self, request):
        return {"month": f"{clock.today():%Y-%m}"}

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            plan = services.work_plan_set(
                agent=data["agent"],
                month=data["month"],
                by=request.user,
                talks=data["talks"],
                meets=data["meets"],
                invites=data["invites"],
                orders=data["orders"],
            )
        except BusinessError as exc:
            raise ValidationError(str(exc.message)) from exc
        obj.pk = plan.pk

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(request.get_full_path())
