"""Campaigns in the console (M10): the brand writes a campaign as its file (YAML, the overlay on
the plan in force), reads what the compliance linter finds in it with each finding's source,
schedules it (refused while a CRIT finding stands for the brand's jurisdiction), cancels it,
records its real costs (a correction is a negative line) and reads its report: seats, orders,
cash, recruits, upgrades, gifts, prizes, cost and budget left. The owner and operations run
campaigns; finance reads them and records costs. Who may do what: core.roles."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.widgets import UnfoldAdminDecimalFieldWidget

from weishang.campaigns import selectors, services
from weishang.campaigns.models import Campaign, CampaignCost, CampaignSeat, CampaignStatus
from weishang.console import kit
from weishang.core import clock
from weishang.core.errors import BusinessError

EXAMPLE = """id: {code}
name: 新活动
starts: {starts}
ends: {ends}
seats: 30
per_agent_limit: 1
budget: 20000
offers:
  gift: {{sku: GLOW-MASK5, qty: 1, min_amount: 2980, kinds: [restock], cost: 30, quantity: 100}}
"""


def example() -> str:
    """A new campaign's file to start from: a month from today, a gift with a qualifying restock."""
    today = clock.today()
    return EXAMPLE.format(code=f"campaign-{today:%Y%m%d}", starts=today, ends=today + timedelta(days=30))


class CampaignForm(forms.ModelForm):
    overlay = forms.CharField(
        label=_("campaign file (YAML)"),
        widget=forms.Textarea(
            attrs={"rows": 18, "class": "font-mono w-full border rounded p-2", "spellcheck": "false"}
        ),
        help_text=_(
            "Dates, seats, a budget and the offers: reduced entry amounts and restock minimums by "
            "level code, a gift with qualifying orders, extra reward rules in the plan's shapes."
        ),
    )

    class Meta:
        model = Campaign
        fields = ("overlay",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("overlay", example())

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            services.check_overlay(cleaned["overlay"], campaign=self.instance if self.instance.pk else None)
        except BusinessError as exc:
            self.add_error("overlay" if exc.field == "overlay" else None, str(exc.message))
        return cleaned


class CostForm(forms.Form):
    label = kit.text_field(_("what"), required=True, max_length=100)
    amount = forms.DecimalField(
        label=_("amount (yuan; negative to correct)"),
        max_digits=12,
        decimal_places=2,
        widget=UnfoldAdminDecimalFieldWidget,
    )
    note = kit.text_field(_("note (the reason, for a correction)"), required=False, max_length=200)


class SeatInline(kit.ReadOnlyInline):
    model = CampaignSeat
    fields = ("agent", "order", "gift_qty", "status", "taken_at")
    verbose_name_plural = _("orders that took part")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agent__level", "order")


class CostInline(kit.ReadOnlyInline):
    model = CampaignCost
    fields = ("label", "amount", "note", "recorded_by", "recorded_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by")


CONSOLE_PERMS = {
    "run": ("campaigns.view_campaign", "campaigns.change_campaign"),
    "cost": ("campaigns.view_campaign", "campaigns.add_campaigncost"),
}

STEPS = {
    "schedule": kit.Step(
        label=_("Schedule"),
        perm="run",
        form=kit.ConfirmForm,
        run=lambda obj, user, data: services.campaign_schedule(campaign=obj, by=user),
        done=_("Scheduled: the campaign runs on its dates."),
        statuses=(CampaignStatus.DRAFT,),
        icon="event_available",
    ),
    "cancel": kit.Step(
        label=_("Cancel the campaign"),
        perm="run",
        form=kit.RequiredNoteForm,
        run=lambda obj, user, data: services.campaign_cancel(campaign=obj, by=user, reason=data["note"]),
        done=_("Cancelled: it takes no more orders."),
        statuses=(CampaignStatus.DRAFT, CampaignStatus.SCHEDULED),
        icon="cancel",
    ),
    "add_cost": kit.Step(
        label=_("Add a cost"),
        perm="cost",
        form=CostForm,
        run=lambda obj, user, data: services.campaign_cost_add(
            campaign=obj, label=data["label"], amount=data["amount"], note=data["note"], by=user
        ),
        done=_("Cost recorded."),
        statuses=(CampaignStatus.DRAFT, CampaignStatus.SCHEDULED),
        url_path="cost",
        icon="payments",
    ),
}


@admin.register(Campaign)
class CampaignAdmin(kit.StepPages, ModelAdmin):
    form = CampaignForm
    list_display = ("name", "code", "starts", "ends", "phase_label", "seats_label", "budget")
    list_filter = ("status",)
    search_fields = ("name", "code")
    inlines = (SeatInline, CostInline)
    steps = STEPS
    console_perms = CONSOLE_PERMS
    step_template = "admin/campaigns/campaign_action.html"

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # A file is edited while the campaign is a draft; after that its steps change it.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.status == CampaignStatus.DRAFT)

    def has_run_permission(self, request, obj=None):
        return kit.console_can(request.user, CONSOLE_PERMS["run"])

    def has_cost_permission(self, request, obj=None):
        return kit.console_can(request.user, CONSOLE_PERMS["cost"])

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["overlay"]
        file = "overlay" if obj.status == CampaignStatus.DRAFT and self.has_change_permission(request, obj) else "file"
        return ["phase_label", "seats_label", "findings", "report_card", file]

    def get_readonly_fields(self, request, obj=None):
        return ["phase_label", "seats_label", "findings", "report_card", "file"]

    @admin.display(description=_("campaign file (YAML)"))
    def file(self, obj):
        return format_html('<pre class="font-mono text-sm whitespace-pre-wrap">{}</pre>', obj.overlay)

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    @admin.display(description=_("phase"))
    def phase_label(self, obj):
        return obj.get_phase_display()

    @admin.display(description=_("seats taken"))
    def seats_label(self, obj):
        return f"{obj.seats_taken} / {obj.seats}" if obj.seats is not None else str(obj.seats_taken)

    @admin.display(description=_("compliance linter"))
    def findings(self, obj):
        return render_to_string("admin/campaigns/_findings.html", _findings_context(obj))

    @admin.display(description=_("report"))
    def report_card(self, obj):
        return render_to_string("admin/campaigns/report.html", {"rep": selectors.campaign_report(obj)})

    def save_model(self, request, obj, form, change):
        """Saved by the campaigns service (its checks ran on the form)."""
        saved = services.campaign_save(
            overlay=form.cleaned_data["overlay"], by=request.user, campaign=obj if change else None
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def step_title(self, obj, step):
        return f"{step.label}: {obj.name}"

    def step_context(self, request, obj, name):
        return {"campaign": obj, **(_findings_context(obj) if name == "schedule" else {})}


def _findings_context(obj: Campaign) -> dict:
    """A draft is linted now; a scheduled campaign shows what was found when it was scheduled."""
    if obj.status == CampaignStatus.DRAFT:
        try:
            report = selectors.campaign_lint(obj)
        except ValueError as exc:  # the plan in force changed under the draft
            return {"problem": str(exc)}
        if report is None:
            return {"problem": gettext("No plan is in force: a campaign is laid over the plan in force.")}
        return {"findings": report.findings, "jurisdiction": report.jurisdiction, "blocking": report.blocking}
    return {"findings": obj.lint, "jurisdiction": obj.jurisdiction, "blocking": False, "kept": True}
