"""Leads and channels in the console: the leads (added and followed up through leads.services,
their history read-only), the import with its preview, ad placements with their tracked link and
spend, and each channel's month (渠道月报) with a chart.

Who: owner and operations see and change leads and placements; finance sees the channel report
(``leads.view_adspend``) and the spend. Agents never reach the console."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.widgets import UnfoldAdminDateWidget, UnfoldAdminSplitDateTimeWidget

from weishang.console.kit import ReadOnlyAdmin, ReadOnlyInline, chart_data, chart_options, form_error
from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.core.validators import mask_phone
from weishang.leads import selectors, services
from weishang.leads.imports import MAX_BYTES
from weishang.leads.models import AdPlacement, AdSpend, Lead, LeadImport, LeadNote, LeadStage


class NoteInline(ReadOnlyInline):
    model = LeadNote
    fields = ("at", "kind", "stage_from", "stage_to", "text", "by")
    readonly_fields = fields
    extra = 0
    verbose_name_plural = _("history (跟进记录)")


class LeadAddForm(forms.ModelForm):
    region_code = forms.CharField(label=_("region"), required=False, max_length=6, help_text=_("Six-digit region code"))
    note = forms.CharField(label=_("note"), required=False, max_length=500)

    class Meta:
        model = Lead
        fields = ("name", "phone", "wechat_id", "channel", "placement", "owner_agent", "owner_staff", "remind_at")


class FollowUpForm(forms.Form):
    text = forms.CharField(label=_("What was said or done"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    stage = forms.ChoiceField(label=_("stage"), choices=[("", "—"), *LeadStage.choices], required=False)
    remind_at = forms.SplitDateTimeField(
        label=_("next follow-up"), required=False, widget=UnfoldAdminSplitDateTimeWidget
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or Excel (.xlsx) file"),
        help_text=_(
            "First row: 姓名, 手机 or 微信, and optionally 地区, 渠道, 负责人 (the agent's phone), 来源, 备注."
        ),
    )


@admin.register(Lead)
class LeadAdmin(ModelAdmin):
    list_display = ("name", "contact", "channel", "owner", "stage", "remind_at", "created_at")
    list_filter = ("stage", "channel", "placement")
    search_fields = ("name", "phone", "wechat_id")
    list_select_related = ("owner_agent", "owner_staff", "placement")
    autocomplete_fields = ("owner_agent",)
    inlines = (NoteInline,)
    readonly_fields = (
        "name",
        "phone",
        "wechat_id",
        "region",
        "channel",
        "placement",
        "owner_agent",
        "owner_staff",
        "stage",
        "stage_changed_at",
        "remind_at",
        "agent",
        "converted_at",
        "created_at",
    )
    list_before_template = "admin/leads/lead_tools.html"
    change_form_template = "admin/leads/lead_change.html"

    @admin.display(description=_("phone / WeChat"))
    def contact(self, obj: Lead) -> str:
        return mask_phone(obj.phone) if obj.phone else obj.wechat_id

    @admin.display(description=_("owner"))
    def owner(self, obj: Lead) -> str:
        if obj.owner_agent_id:
            return f"{obj.owner_agent.real_name}"
        return str(obj.owner_staff or gettext("the brand"))

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = LeadAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            fields = ["name", "phone", "wechat_id", "region_code", "channel", "placement", "owner_agent", "owner_staff"]
            return [(None, {"fields": [*fields, "remind_at", "note"]})]
        return super().get_fieldsets(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # a lead's history stays; a lead that went nowhere is marked lost

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        try:
            lead = services.lead_create(
                name=data["name"],
                phone=data.get("phone") or "",
                wechat_id=data.get("wechat_id") or "",
                region=data.get("region_code") or None,
                channel=data["channel"],
                placement=data.get("placement"),
                owner_agent=data.get("owner_agent"),
                owner_staff=data.get("owner_staff"),
                remind_at=data.get("remind_at"),
                note=data.get("note") or "",
                by=request.user,
            )
        except BusinessError as exc:
            raise _FormRefused(exc) from exc
        obj.pk = lead.pk

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except _FormRefused as refused:
            messages.error(request, str(refused.error.message))
            return redirect(request.get_full_path())

    def changelist_view(self, request, extra_context=None):
        extra = {
            "import_url": reverse("admin:leads_lead_import"),
            "report_url": reverse("admin:leads_channel_report"),
            "stage_counts": [(LeadStage(s).label, n) for s, n in selectors.stage_counts().items()],
            "due": selectors.reminders_due().count(),
        }
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        lead = self.get_object(request, object_id)
        extra = {}
        if lead is not None and self.has_change_permission(request, lead):
            extra["follow_form"] = FollowUpForm()
            extra["follow_url"] = reverse("admin:leads_lead_follow", args=[lead.pk])
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<id:pk>/follow/", view(self.follow_view), name="leads_lead_follow"),
            path("import/", view(self.import_view), name="leads_lead_import"),
            path("import/<id:pk>/", view(self.import_preview_view), name="leads_lead_import_preview"),
            path("report/", view(self.report_view), name="leads_channel_report"),
            *super().get_urls(),
        ]

    def follow_view(self, request, pk: int):
        lead = get_object_or_404(Lead, pk=pk)
        if not self.has_change_permission(request, lead) or request.method != "POST":
            raise PermissionDenied
        form = FollowUpForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.lead_follow_up(
                    lead=lead, by=request.user, text=data["text"], stage=data["stage"], remind_at=data["remind_at"]
                )
            except BusinessError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(request, gettext("Follow-up recorded."))
        else:
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("admin:leads_lead_change", lead.pk)

    def import_view(self, request):
        """Upload a file: it becomes a preview; nothing is created yet."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        status = 200
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = services.leads_import_preview(
                    file_name=upload.name, content=upload.read(MAX_BYTES + 1), by=request.user
                )
            except BusinessError as exc:
                status = form_error(form, exc)
            else:
                return redirect("admin:leads_lead_import_preview", batch.pk)
        elif request.method == "POST":
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import leads"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/leads/import.html", context, status=status)

    def import_preview_view(self, request, pk: int):
        if not self.has_add_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(LeadImport, pk=pk)
        if request.method == "POST":
            try:
                batch = services.leads_import_apply(batch=batch, by=request.user)
            except BusinessError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(
                    request,
                    gettext("%(created)d lead(s) added, %(updated)d already known.")
                    % {"created": batch.created, "updated": batch.updated},
                )
                return redirect("admin:leads_lead_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import leads: preview"),
            "batch": batch,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/leads/import_preview.html", context)

    def report_view(self, request):
        """Each channel's and placement's month: spend, leads, agents, cost per lead and agent, cash."""
        if not request.user.has_perm("leads.view_adspend"):
            raise PermissionDenied
        months = selectors.lead_months()
        month = request.GET.get("month") or months[0]
        try:
            rows = selectors.channel_month(month)
        except ValueError:
            month = months[0]
            rows = selectors.channel_month(month)
        placements = selectors.placement_month(month)
        chart = chart_data(
            [r.label for r in rows],
            [
                {
                    "label": str(_("Leads")),
                    "data": [r.leads for r in rows],
                    "backgroundColor": "var(--color-primary-300)",
                },
                {
                    "label": str(_("Agents made")),
                    "data": [r.converted for r in rows],
                    "backgroundColor": "var(--color-primary-700)",
                },
            ],
        )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Channels by month (渠道月报)"),
            "month": month,
            "months": months,
            "rows": rows,
            "total": selectors.channel_totals(rows),
            "placements": placements,
            "chart": chart,
            "chart_options": chart_options(legend=True),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/leads/report.html", context)


class _FormRefused(Exception):
    def __init__(self, error: BusinessError):
        super().__init__(str(error.message))
        self.error = error


class SpendInline(ReadOnlyInline):
    model = AdSpend
    fields = ("day", "amount", "clicks", "note", "recorded_by", "recorded_at")
    readonly_fields = fields
    extra = 0


class SpendForm(forms.Form):
    day = forms.DateField(label=_("day"), widget=UnfoldAdminDateWidget)
    amount = forms.DecimalField(label=_("amount"), max_digits=14, decimal_places=2)
    clicks = forms.IntegerField(label=_("clicks"), min_value=0, required=False)
    note = forms.CharField(label=_("note"), max_length=200, required=False)


@admin.register(AdPlacement)
class AdPlacementAdmin(ModelAdmin):
    list_display = ("name", "platform", "channel", "format", "pricing", "price", "starts_on", "ends_on", "code")
    list_filter = ("channel", "format", "pricing")
    search_fields = ("name", "platform", "code")
    readonly_fields = ("tracked_link",)
    inlines = (SpendInline,)
    change_form_template = "admin/leads/placement_change.html"

    @admin.display(description=_("tracked link"))
    def tracked_link(self, obj: AdPlacement) -> str:
        if not obj.pk:
            return "—"
        return format_html("<code>{}?src={}</code>", reverse("web:join_brand"), obj.code)

    def has_delete_permission(self, request, obj=None):
        return False  # the spend and leads it brought keep pointing at it

    def get_readonly_fields(self, request, obj=None):
        return ("code", "tracked_link") if obj is not None else ("tracked_link",)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {}
        placement = self.get_object(request, object_id)
        if placement is not None and request.user.has_perm("leads.add_adspend"):
            extra["spend_form"] = SpendForm(initial={"day": clock.today()})
            extra["spend_url"] = reverse("admin:leads_adplacement_spend", args=[placement.pk])
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def get_urls(self):
        return [
            path("<id:pk>/spend/", self.admin_site.admin_view(self.spend_view), name="leads_adplacement_spend"),
            *super().get_urls(),
        ]

    def spend_view(self, request, pk: int):
        placement = get_object_or_404(AdPlacement, pk=pk)
        if not request.user.has_perm("leads.add_adspend") or request.method != "POST":
            raise PermissionDenied
        form = SpendForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.ad_spend_record(
                    placement=placement,
                    day=data["day"],
                    amount=data["amount"],
                    clicks=data["clicks"] or 0,
                    note=data["note"],
                    by=request.user,
                )
            except BusinessError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(request, gettext("Spend recorded."))
        else:
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("admin:leads_adplacement_change", placement.pk)


@admin.register(AdSpend)
class AdSpendAdmin(ReadOnlyAdmin):
    list_display = ("day", "placement", "amount", "clicks", "note", "recorded_by")
    list_filter = ("placement__channel", "placement")
    date_hierarchy = "day"
