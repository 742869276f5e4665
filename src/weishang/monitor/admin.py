"""Channel health in the console: the page 渠道健康 (monitor.view_healthsnapshot: owner, operations,
finance) with the live figures beside the plan's forecast month by month, a chart, each rule's
verdict and citation, and the breaches; the owner saves a month (monitor.add_healthsnapshot) and
acknowledges a breach (monitor.change_healthalert). The months saved and the alerts are lists."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from weishang.console.kit import ReadOnlyAdmin
from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.monitor import selectors, services
from weishang.monitor.labels import FIGURE_LABELS, INPUT_LABELS, STATUS_CLASS, STATUS_LABELS
from weishang.monitor.models import HealthAlert, HealthSnapshot

VIEW, SAVE, ACKNOWLEDGE = "monitor.view_healthsnapshot", "monitor.add_healthsnapshot", "monitor.change_healthalert"


def _verdict_rows(verdicts: list[dict], chinese: bool) -> list[dict]:
    return [
        {
            **v,
            "title": v["title_zh"] if chinese else v["title_en"],
            "message": v["message_zh"] if chinese else v["message_en"],
            "source": gettext(v["source"]),  # the citation in Chinese (locale/…/django.po), the cases' names kept
            "css": STATUS_CLASS[v["status"]],
            "label": STATUS_LABELS[v["status"]],
        }
        for v in verdicts
    ]


def _chart(series: dict, months: list[str], key: str) -> str:
    def number(value):
        return None if value is None else float(value)  # Chart.js plots numbers; the table shows the exact text

    return json.dumps(
        {
            "labels": months,
            "datasets": [
                {
                    "label": str(_("Live")),
                    "data": [number(v) for v in series[key]["live"]],
                    "borderColor": "var(--color-primary-600)",
                    "backgroundColor": "var(--color-primary-600)",
                },
                {
                    "label": str(_("Forecast")),
                    "data": [number(v) for v in series[key]["forecast"]],
                    "borderColor": "var(--color-base-400)",
                    "backgroundColor": "var(--color-base-400)",
                    "borderDash": [6, 4],
                },
            ],
        },
        ensure_ascii=False,
    )


CHART_OPTIONS = json.dumps(
    {
        "animation": False,
        "responsive": True,
        "maintainAspectRatio": False,
        "plugins": {"legend": {"display": True, "position": "bottom", "align": "start"}},
        "scales": {"y": {"beginAtZero": True}},
    }
)


@admin.register(HealthSnapshot)
class HealthSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("period", "plan_label", "jurisdiction", "breaches", "computed_at")
    fields = ("period", "plan_label", "jurisdiction", "figures", "forecast", "verdicts", "computed_at")

    @admin.display(description=_("breaches"))
    def breaches(self, obj) -> str:
        return ", ".join(f"{v['rule']} {v['status']}" for v in obj.verdicts if v.get("breach")) or "—"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("health/", view(self.health_view), name="monitor_health"),
            path("health/save/", view(self.save_view), name="monitor_health_save"),
            path("health/acknowledge/<id:alert_id>/", view(self.acknowledge_view), name="monitor_health_acknowledge"),
            *super().get_urls(),
        ]

    def health_view(self, request):
        """Channel health: the chosen month's live figures, forecast and verdicts; the months since
        the plan went live on a chart; the breaches."""
        if not request.user.has_perm(VIEW):
            raise PermissionDenied
        months = selectors.health_months()
        period = request.GET.get("period") or months[-1]
        error = ""
        if period not in months:
            try:
                clock.month_range(period)
                months = sorted({*months, period})
            except ValueError:
                error = gettext("Give the month as YYYY-MM, e.g. 2026-11.")
                period = months[-1]
        data = selectors.health_series(months, live=period)
        report = data["reports"][months.index(period)]
        chinese = (get_language() or "zh-hans").lower().startswith("zh")
        forecast = report["forecast"]
        rows = [
            {
                "key": key,
                "label": FIGURE_LABELS[key],
                "live": report["figures"].get(key),
                "forecast": (forecast.get("figures") or {}).get(key),
            }
            for key in selectors.FIGURE_KEYS
        ]
        inputs = [
            (INPUT_LABELS.get(k, k), ", ".join(v) if isinstance(v, list) else v) for k, v in report["inputs"].items()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Channel health (渠道健康)"),
            "opts": self.model._meta,
            "error": error,
            "period": period,
            "months": months,
            "report": report,
            "rows": rows,
            "inputs": inputs,
            "verdicts": _verdict_rows(report["verdicts"], chinese),
            "forecast_verdicts": _verdict_rows(forecast.get("verdicts") or [], chinese),
            "charts": [(FIGURE_LABELS[key], _chart(data["series"], months, key)) for key in selectors.CHART_FIGURES],
            "chart_options": CHART_OPTIONS,
            "alerts": selectors.alerts(),
            "can_save": request.user.has_perm(SAVE),
            "can_acknowledge": request.user.has_perm(ACKNOWLEDGE),
        }
        return TemplateResponse(request, "admin/monitor/health.html", context, status=400 if error else 200)

    def save_view(self, request):
        """Save the month and alert the owner of new breaches (monitor.add_healthsnapshot)."""
        if not request.user.has_perm(SAVE):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        period = request.POST.get("period", "")
        try:
            _snapshot, raised, _report = services.health_snapshot_save(period=period)
        except BusinessError as exc:
            messages.error(request, str(exc.message))
            return HttpResponseRedirect(reverse("admin:monitor_health"))
        if raised:
            messages.warning(
                request,
                gettext("Saved %(period)s; the owner was told of: %(rules)s")
                % {"period": period, "rules": ", ".join(f"{a.rule} {a.status}" for a in raised)},
            )
        else:
            messages.success(request, gettext("Saved %(period)s; no new breach.") % {"period": period})
        return HttpResponseRedirect(reverse("admin:monitor_health") + f"?period={period}")

    def acknowledge_view(self, request, alert_id: int):
        """The owner has read a breach: it leaves the dashboard (monitor.change_healthalert)."""
        if not request.user.has_perm(ACKNOWLEDGE):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            alert = services.health_alert_acknowledge(alert_id=alert_id, by=request.user)
        except BusinessError as exc:
            messages.error(request, str(exc.message))
            return HttpResponseRedirect(reverse("admin:monitor_health"))
        messages.success(
            request, gettext("Acknowledged: %(rule)s in %(period)s") % {"rule": alert.rule, "period": alert.period}
        )
        return HttpResponseRedirect(reverse("admin:monitor_health") + f"?period={alert.period}")


@admin.register(HealthAlert)
class HealthAlertAdmin(ReadOnlyAdmin):
    list_display = ("period", "rule", "status", "citation", "emailed", "created_at", "acknowledged_at")

    @admin.display(description=_("citation"))
    def citation(self, obj) -> str:
        return gettext(obj.source)

    list_filter = ("rule", "status")
    readonly_fields = ("citation",)
    fields = (
        "period",
        "rule",
        "status",
        "citation",
        "message",
        "figures",
        "emailed",
        "created_at",
        "acknowledged_at",
        "acknowledged_by",
    )
