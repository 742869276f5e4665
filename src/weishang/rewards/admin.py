"""Console pages for plans and rewards: plan versions (upload, tables, compare, activate), reward
lines with their totals, settlement runs with their reports, and the release and settle pages.

Everything here is read-only. Staff act only through pages that call ``rewards.plan_versions`` or
``rewards.services`` with ``request.user``; a BusinessError is shown on the page and nothing
changes. An activated plan version has no edit path at all: an edited file is uploaded under a
new version number.

Who may act (model permissions from the roles in core.roles; see ``CONSOLE_PERMS``):

- upload a plan file: add plan versions (owner);
- activate a version: change plan versions (owner);
- release due rewards: change reward lines (owner, finance);
- settle a period: add settlement runs (owner, finance).
Seeing the pages needs the view permissions (owner, finance).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.db.models import BooleanField, Case, Subquery, Value, When
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.decorators import action, display
from unfold.widgets import (
    UnfoldAdminFileFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from weishang.console.exports import ExportMixin, RewardLineResource
from weishang.console.history import HistoryAdmin
from weishang.console.kit import ReadOnlyAdmin, console_can, form_error, status_columns
from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.core.models import Brand
from weishang.plans import PlanError
from weishang.rewards import labels, selectors
from weishang.rewards.models import PlanVersion, RewardLine, RewardStatus, SettlementRun
from weishang.rewards.plan_versions import (
    PlanInvalid,
    brand_jurisdiction,
    plan_activate,
    plan_in_force,
    plan_lint_report,
    plan_of,
    plan_upload,
)
from weishang.rewards.services import rewards_release, settle_start

CONSOLE_PERMS: dict[str, tuple[str, ...]] = {
    "plan_upload": ("rewards.add_planversion",),
    "plan_activate": ("rewards.change_planversion",),
    "rewards_release": ("rewards.change_rewardline",),
    "period_settle": ("rewards.add_settlementrun",),
}
MAX_PLAN_BYTES = 512 * 1024
STATUS_LABELS = {
    RewardStatus.FROZEN: "warning",
    RewardStatus.AVAILABLE: "success",
    RewardStatus.CANCELLED: "danger",
    RewardStatus.REVERSED: "danger",
    RewardStatus.AWARDED: "info",
    RewardStatus.RECORDED: "info",
}
PLAN_STATE_LABELS = {
    "in_force": "success",
    "scheduled": "warning",
    "retired": "info",
    "draft": "info",
    "blocked": "danger",
    "activatable": "info",
}


def _link(url: str, text) -> str:
    return format_html('<a class="text-primary-600 underline" href="{}">{}</a>', url, text)


def _issue_message(issue) -> str:
    """A plan issue in the reader's language (the loader writes English and Chinese)."""
    chinese = (get_language() or "").lower().startswith("zh")
    return issue.message_zh if chinese and issue.message_zh else issue.message


# --- plan versions ----------------------------------------------------------------------------


class UploadPlanForm(forms.Form):
    file = forms.FileField(label=_("Plan file (YAML)"), required=False, widget=UnfoldAdminFileFieldWidget)
    text = forms.CharField(
        label=_("…or paste the plan"),
        required=False,
        strip=False,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 18, "spellcheck": "false", "class": "font-mono"}),
    )

    def clean(self):
        cleaned = super().clean()
        upload, text = cleaned.get("file"), cleaned.get("text") or ""
        if upload is not None:
            if upload.size > MAX_PLAN_BYTES:
                raise forms.ValidationError(_("The file is larger than 512 KB; a plan file is a few KB."))
            try:
                cleaned["source"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(
                    _("The file is not UTF-8 text; save it as UTF-8 and upload it again."), code="encoding"
                ) from None
            cleaned["filename"] = upload.name
        elif text.strip():
            cleaned["source"], cleaned["filename"] = text, "pasted.yaml"
        else:
            raise forms.ValidationError(_("Choose a plan file or paste the plan."), code="empty")
        return cleaned


def with_severity(text, code: str):
    """A lazy text naming a lint severity by its label (严重 (CRIT)), in the reader's language."""
    return lazy(lambda: str(text) % {"severity": labels.severity_label(code)}, str)()


class ActivateForm(forms.Form):
    active_from = forms.DateTimeField(
        label=_("In force from (empty: now)"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
        widget=UnfoldAdminTextInputWidget(attrs={"type": "datetime-local"}),
    )
    acknowledgement = forms.CharField(
        label=with_severity(_("Acknowledgement of the %(severity)s findings (who decided, and why)"), "HIGH"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "border rounded-default w-full p-2"}),
    )


class CompareForm(forms.Form):
    other = forms.TypedChoiceField(label=_("Compare with"), coerce=int, widget=UnfoldAdminSelectWidget)

    def __init__(self, *args, version: PlanVersion, **kwargs):
        super().__init__(*args, **kwargs)
        others = PlanVersion.objects.exclude(pk=version.pk).order_by("plan_id", "-version")
        self.fields["other"].choices = [(v.pk, f"{v} · {v.name}") for v in others]


def plan_state(version: PlanVersion, in_force_pk: int | None) -> str:
    """draft (its file no longer reads), blocked (the linter or a sandbox jurisdiction refuses it),
    activatable, scheduled, in_force, or retired (a later version took over)."""
    if not version.is_activated:
        return _draft_state(version)
    if version.pk == in_force_pk:
        return "in_force"
    return "scheduled" if version.active_from > clock.now() else "retired"


_BLOCKING: dict[tuple[str, str], bool] = {}  # (plan file, jurisdiction) -> the linter blocks it


def _draft_state(version: PlanVersion) -> str:
    try:
        plan = plan_of(version)
    except PlanError:
        return "draft"
    if hasattr(version, "brand_jurisdiction"):  # annotated on the list: one query for every row
        where = version.brand_jurisdiction or plan.jurisdiction
    else:
        where = brand_jurisdiction(plan)
    if "none" in (plan.jurisdiction, where):
        return "blocked"
    key = (version.source, where)
    if key not in _BLOCKING:
        if len(_BLOCKING) > 256:
            _BLOCKING.clear()
        from weishang.plans.lint import lint_plan

        _BLOCKING[key] = lint_plan(plan, where).blocking
    return "blocked" if _BLOCKING[key] else "activatable"


PLAN_STATE_TEXT = {
    "draft": _("Draft"),
    "blocked": with_severity(
        _(
            "Draft · blocked: the linter finds %(severity)s findings (or it is a sandbox plan), "
            "so it cannot be activated"
        ),
        "CRIT",
    ),
    "activatable": _("Draft · can be activated"),
    "scheduled": _("Scheduled"),
    "in_force": _("In force"),
    "retired": _("Retired: a later version is in force"),
}


class LabelledValueFilter(admin.SimpleListFilter):
    """A filter on a plan word (kind, jurisdiction) that shows each value by its label."""

    def lookups(self, request, model_admin):
        values = (
            PlanVersion.objects.order_by(self.parameter_name).values_list(self.parameter_name, flat=True).distinct()
        )
        return [(value, labels.value_text(self.parameter_name, value)) for value in values]

    def queryset(self, request, queryset):
        return queryset.filter(**{self.parameter_name: self.value()}) if self.value() else queryset


class KindFilter(LabelledValueFilter):
    title = _("kind")
    parameter_name = "kind"


class JurisdictionFilter(LabelledValueFilter):
    title = _("jurisdiction")
    parameter_name = "jurisdiction"


@admin.register(PlanVersion)
class PlanVersionAdmin(HistoryAdmin, ReadOnlyAdmin):
    list_display = (
        "plan_id",
        "version",
        "name",
        "kind_display",
        "jurisdiction_display",
        "active_from",
        "state_label",
        "uploaded_at",
    )
    list_display_links = ("plan_id", "version")
    list_filter = ("plan_id", KindFilter, JurisdictionFilter)
    search_fields = ("plan_id", "name", "filename")
    ordering = ("plan_id", "-version")
    fields = (
        "plan_id",
        "version",
        "name",
        "kind_display",
        "jurisdiction_display",
        "state_display",
        "active_from",
        "activated_by",
        "activated_at",
        "synced_at",
        "filename",
        "sha256",
        "uploaded_by",
        "uploaded_at",
    )
    readonly_fields = fields
    list_select_related = ()
    change_form_after_template = "admin/rewards/plan_after.html"
    actions_list = ["upload_plan"]
    actions_detail = ["compare", "activate"]

    def get_queryset(self, request):
        current = selectors.in_force_pk()
        return (
            super()
            .get_queryset(request)
            .select_related("uploaded_by", "activated_by")
            .annotate(
                in_force=Case(
                    When(pk=current or 0, then=Value(True)), default=Value(False), output_field=BooleanField()
                ),
                brand_jurisdiction=Subquery(Brand.objects.order_by("pk").values("jurisdiction")[:1]),
            )
        )

    def has_plan_view_permission(self, request, obj=None):
        return self.has_view_permission(request)

    def has_plan_upload_permission(self, request, obj=None):
        return console_can(request.user, CONSOLE_PERMS["plan_upload"])

    def has_plan_activate_permission(self, request, obj=None):
        return console_can(request.user, CONSOLE_PERMS["plan_activate"])

    @admin.display(description=_("kind"), ordering="kind")
    def kind_display(self, obj):
        return labels.value_text("kind", obj.kind)

    @admin.display(description=_("jurisdiction"), ordering="jurisdiction")
    def jurisdiction_display(self, obj):
        return labels.value_text("jurisdiction", obj.jurisdiction)

    @display(description=_("state"), label=PLAN_STATE_LABELS)
    def state_label(self, obj):
        state = plan_state(obj, obj.pk if getattr(obj, "in_force", False) else None)
        return state, PLAN_STATE_TEXT[state]

    @admin.display(description=_("state"))
    def state_display(self, obj):
        state = plan_state(obj, obj.pk if getattr(obj, "in_force", False) else None)
        text = str(PLAN_STATE_TEXT[state])
        if not obj.is_activated:
            return text + " · " + gettext("can still be replaced by uploading a file with the same id and version")
        return text + " · " + gettext("immutable: an edited file needs a new version number")

    def get_actions_detail(self, request, object_id):
        allowed = super().get_actions_detail(request, object_id)
        version = self.get_object(request, unquote(str(object_id)))
        if version is None:
            return []
        prefix = f"{self.model._meta.app_label}_{self.model._meta.model_name}_"
        if version.is_activated:
            return [a for a in allowed if a.action_name.removeprefix(prefix) != "activate"]
        return allowed

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if version is not None:
            extra.update(self._plan_context(version))
            extra["can_activate"] = not version.is_activated and console_can(
                request.user, CONSOLE_PERMS["plan_activate"]
            )
        return super().change_view(request, object_id, form_url, extra)

    @staticmethod
    def _plan_context(version: PlanVersion) -> dict:
        try:
            plan = plan_of(version)
        except PlanError as exc:  # stored under an older schema: show why, and the source
            return {"plan_issues": [(i, _issue_message(i)) for i in exc.issues], "version": version}
        return {"tables": selectors.plan_tables(plan), "version": version}

    def _page(self, request, template: str, title: str, status: int = 200, **context) -> TemplateResponse:
        context = {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta, **context}
        return TemplateResponse(request, f"admin/rewards/{template}", context, status=status)

    @action(description=_("Upload plan"), url_path="upload", permissions=["plan_upload"], icon="upload_file")
    def upload_plan(self, request):
        form = UploadPlanForm(request.POST or None, request.FILES or None)
        status, issues = 200, []
        if request.method == "POST":
            status = 400
            if form.is_valid():
                data = form.cleaned_data
                try:
                    version = plan_upload(text=data["source"], filename=data["filename"], by=request.user)
                except PlanInvalid as exc:
                    issues = [(issue, _issue_message(issue)) for issue in exc.issues]
                    form.add_error(
                        None,
                        ngettext(
                            "The plan has %(n)d problem; nothing was stored.",
                            "The plan has %(n)d problems; nothing was stored.",
                            len(issues),
                        )
                        % {"n": len(issues)},
                    )
                except BusinessError as exc:
                    status = form_error(form, exc)
                else:
                    messages.success(
                        request,
                        gettext("%(version)s stored (%(name)s). Check its tables, compare it, then activate it.")
                        % {"version": version, "name": version.name},
                    )
                    return redirect("admin:rewards_planversion_change", version.pk)
        return self._page(request, "plan_upload.html", gettext("Upload plan"), status, form=form, issues=issues)

    @action(description=_("Compare with…"), url_path="compare", permissions=["plan_view"], icon="compare_arrows")
    def compare(self, request, object_id):
        version = self.get_object(request, unquote(object_id))
        if version is None:
            raise Http404
        form = CompareForm(request.GET if "other" in request.GET else None, version=version)
        context: dict = {"version": version, "form": form}
        status = 200
        if form.is_bound:
            if form.is_valid():
                other = PlanVersion.objects.get(pk=form.cleaned_data["other"])
                old, new = sorted([version, other], key=lambda v: (v.uploaded_at, v.pk))
                context.update({"old": old, "new": new, "diff": selectors.source_diff(old, new)})
                try:
                    context["changes"] = selectors.plan_changes(plan_of(old), plan_of(new))
                except PlanError:
                    context["changes"] = None
            else:
                status = 400
        return self._page(
            request, "plan_compare.html", gettext("Compare %(version)s") % {"version": version}, status, **context
        )

    @action(description=_("Activate"), url_path="activate", permissions=["plan_activate"], icon="play_circle")
    def activate(self, request, object_id):
        version = self.get_object(request, unquote(object_id))
        if version is None:
            raise Http404
        form = ActivateForm(request.POST or None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                try:
                    version = plan_activate(
                        version=version,
                        by=request.user,
                        active_from=form.cleaned_data["active_from"],
                        acknowledgement=form.cleaned_data["acknowledgement"],
                    )
                except BusinessError as exc:
                    status = form_error(form, exc)
                except PlanError:  # a file that no longer reads under the current format
                    form.add_error(
                        None,
                        gettext(
                            "This stored file no longer reads under the current plan format; "
                            "upload it again as a new version."
                        ),
                    )
                    status = 409
                else:
                    messages.success(
                        request,
                        gettext("%(version)s is activated from %(when)s.")
                        % {"version": version, "when": f"{timezone.localtime(version.active_from):%Y-%m-%d %H:%M}"},
                    )
                    return redirect("admin:rewards_planversion_change", version.pk)
        version.refresh_from_db()
        try:
            report = plan_lint_report(version)
        except PlanError:  # stored under an older schema: its state says so, and it cannot activate
            report = None
        current = plan_in_force()
        state = plan_state(version, current.pk if current is not None else None)
        return self._page(
            request,
            "plan_activate.html",
            gettext("Activate %(version)s") % {"version": version},
            status,
            version=version,
            form=form,
            ready=state == "activatable",
            current=current,
            report=report,
            state=state,
            state_text=PLAN_STATE_TEXT[state],
        )


# --- reward lines ---------------------------------------------------------------------------


class PeriodFilter(admin.SimpleListFilter):
    title = _("period")
    parameter_name = "in_period"

    def lookups(self, request, model_admin):
        return [(label, label) for label in selectors.recent_periods()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            return selectors.lines_in_period(queryset, self.value())
        except BusinessError as exc:
            raise IncorrectLookupParameters(str(exc.message)) from None


@admin.register(RewardLine)
class RewardLineAdmin(ExportMixin, ReadOnlyAdmin):
    resource_classes = [RewardLineResource]
    export_name = "reward-lines"
    list_per_page = 50  # unfold renders every cell through templates: 50 rows answer in half the time of 100
    list_display = (
        "created_at",
        "beneficiary_display",
        "amount",
        "rule_id",
        "kind",
        "status_label",
        "order_link",
        "period",
    )
    list_filter = ("status", "kind", "rule_id", PeriodFilter)
    search_fields = ("beneficiary__real_name", "beneficiary__user__phone", "order__number")
    list_select_related = ("beneficiary__user", "order")
    ordering = ("-created_at", "-pk")
    list_before_template = "admin/rewards/rewardline_totals.html"
    actions_list = ["release_due"]
    fields = (
        "beneficiary_display",
        "amount",
        "kind",
        "rule_id",
        "plan_link",
        "status_display",
        "generation",
        "payer_display",
        "order_link",
        "period",
        "release_at",
        "created_at",
        "explanation_shown",
        "source_event",
        "entries",
    )
    readonly_fields = fields

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == "beneficiary__id__exact" or super().lookup_allowed(lookup, value, request)

    def has_rewards_release_permission(self, request, obj=None):
        return console_can(request.user, CONSOLE_PERMS["rewards_release"])

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context is not None and context.get("cl") is not None:
            context["totals"] = selectors.reward_totals(context["cl"].queryset)
        return response

    @admin.display(description=_("beneficiary"), ordering="beneficiary__real_name")
    def beneficiary_display(self, obj):
        return f"{obj.beneficiary.real_name} {obj.beneficiary.phone}".strip()

    status_label, status_display = status_columns(STATUS_LABELS)

    @admin.display(description=_("order"))
    def order_link(self, obj):
        if not obj.order_id:
            return "—"
        return _link(reverse("admin:trade_order_change", args=[obj.order_id]), obj.order.number)

    @admin.display(description=_("plan"))
    def plan_link(self, obj):
        return _link(reverse("admin:rewards_planversion_change", args=[obj.plan_id]), str(obj.plan))

    @admin.display(description=_("paid by"))
    def payer_display(self, obj):
        return obj.payer.real_name if obj.payer_id else gettext("the company")

    @admin.display(description=_("explanation"))
    def explanation_shown(self, obj):
        """The explanation in the reader's language (the line keeps it in Chinese and English)."""
        return obj.explanation_text()

    @admin.display(description=_("journal entries"))
    def entries(self, obj):
        links = [
            _link(reverse("admin:ledger_journalentry_change", args=[e.pk]), e.number)
            for e in (obj.entry, obj.release_entry, obj.reversal_entry)
            if e is not None
        ]
        return format_html_join(" · ", "{}", ((link,) for link in links)) if links else "—"

    @action(description=_("Release due rewards"), url_path="release", permissions=["rewards_release"], icon="lock_open")
    def release_due(self, request):
        if request.method == "POST":
            released = rewards_release(by=request.user)
            messages.success(
                request,
                ngettext(
                    "%(n)d reward line released: it is available to withdraw.",
                    "%(n)d reward lines released: they are available to withdraw.",
                    released,
                )
                % {"n": released},
            )
            return redirect("admin:rewards_rewardline_changelist")
        count, amount = selectors.release_due_count()
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Release due rewards"),
            "opts": self.model._meta,
            "due_count": count,
            "due_amount": amount,
        }
        return TemplateResponse(request, "admin/rewards/rewards_release.html", context)


# --- settlement runs ------------------------------------------------------------------------


class SettleForm(forms.Form):
    period = forms.CharField(
        label=_("Period (2026-11, 2026-Q4 or 2026)"),
        max_length=10,
        widget=UnfoldAdminTextInputWidget(attrs={"placeholder": "2026-11"}),
    )

    def clean_period(self):
        # One spelling per period: "2026-q4" and "2026-Q4" must not be two runs.
        return self.cleaned_data["period"].strip().upper()


@admin.register(SettlementRun)
class SettlementRunAdmin(ReadOnlyAdmin):
    list_display = ("period", "plan", "lines", "total", "volume", "ratio_display", "finished_at", "started_at")
    list_select_related = ("plan",)
    ordering = ("-period", "-pk")
    fields = ("period", "plan", "lines", "total", "volume", "ratio_display", "started_at", "finished_at", "started_by")
    readonly_fields = fields
    change_form_after_template = "admin/rewards/settlementrun_after.html"
    actions_list = ["settle"]

    def has_period_settle_permission(self, request, obj=None):
        return console_can(request.user, CONSOLE_PERMS["period_settle"])

    @admin.display(description=_("payout ratio"))
    def ratio_display(self, obj):
        ratio = selectors.payout_ratio_percent(obj)
        return "—" if ratio is None else f"{ratio}%"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if run is not None:
            extra["reports"] = selectors.settlement_top_reports(run)
            extra["progress"] = selectors.settlement_progress(run)
        return super().change_view(request, object_id, form_url, extra)

    @action(description=_("Settle a period"), url_path="settle", permissions=["period_settle"], icon="calculate")
    def settle(self, request):
        form = SettleForm(request.POST or None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                try:
                    run = settle_start(period=form.cleaned_data["period"], by=request.user)
                except BusinessError as exc:
                    status = form_error(form, exc)
                else:
                    if run.finished_at is None:  # the worker settles it; its page shows how far it got
                        messages.info(
                            request,
                            gettext(
                                "Settling %(period)s under %(plan)s in the background: this page follows it "
                                "and shows the figures when it is done."
                            )
                            % {"period": run.period, "plan": run.plan},
                        )
                        return redirect("admin:rewards_settlementrun_change", run.pk)
                    ratio = selectors.payout_ratio_percent(run)
                    messages.success(
                        request,
                        gettext(
                            "%(period)s settled under %(plan)s: %(lines)d line(s), ¥%(total)s on ¥%(volume)s of "
                            "purchases (%(ratio)s)."
                        )
                        % {
                            "period": run.period,
                            "plan": run.plan,
                            "lines": run.lines,
                            "total": run.total,
                            "volume": run.volume,
                            "ratio": "—" if ratio is None else f"{ratio}%",
                        },
                    )
                    return redirect("admin:rewards_settlementrun_change", run.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Settle a period"),
            "opts": self.model._meta,
            "form": form,
            "recent": SettlementRun.objects.select_related("plan").order_by("-started_at")[:10],
        }
        return TemplateResponse(request, "admin/rewards/settle_period.html", context, status=status)
