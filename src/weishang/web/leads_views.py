"""An agent's leads on the phone (我的意向客户): the list by stage with the follow-ups due first,
adding a lead, and a lead's page with its history and the follow-up form. An agent sees and
changes only the leads they own (another's lead is a 404); the brand's are in the console."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from weishang.core.errors import BusinessError
from weishang.core.selectors import brand_get
from weishang.leads import selectors, services
from weishang.leads.models import LeadChannel, LeadStage
from weishang.web.agents import current_agent
from weishang.web.regions import RegionField

# An agent logs the people they talk to; ad channels are the brand's (through tracked links).
AGENT_CHANNELS = [
    (c.value, c.label)
    for c in (
        LeadChannel.OWN_NETWORK,
        LeadChannel.REFERRAL,
        LeadChannel.SHORT_VIDEO,
        LeadChannel.ARTICLE,
        LeadChannel.FORUM,
        LeadChannel.MEETING,
        LeadChannel.OTHER,
    )
]
WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class LeadForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    wechat_id = forms.CharField(label=_("WeChat id"), max_length=40, required=False)
    region = RegionField(finest=False, required=False, label=_("Region (optional)"))
    channel = forms.ChoiceField(label=_("Where you met"), choices=AGENT_CHANNELS)
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    remind_at = forms.DateTimeField(
        label=_("Remind me to follow up"), required=False, widget=WHEN, input_formats=["%Y-%m-%dT%H:%M"]
    )


class FollowUpForm(forms.Form):
    text = forms.CharField(label=_("What was said or done"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    stage = forms.ChoiceField(
        label=_("Stage"),
        required=False,
        choices=[("", _("Unchanged")), *[(s, label) for s, label in LeadStage.choices if s != LeadStage.CONVERTED]],
    )
    remind_at = forms.DateTimeField(
        label=_("Next follow-up"), required=False, widget=WHEN, input_formats=["%Y-%m-%dT%H:%M"]
    )


def _show_error(form: forms.Form, exc: BusinessError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))


@login_required
def leads(request):
    """The list, and the form to add a lead (folded away until opened, or shown with its errors)."""
    me = current_agent(request)
    form = LeadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lead = services.lead_create(
                name=data["name"],
                phone=data["phone"],
                wechat_id=data["wechat_id"],
                region=data["region"],
                channel=data["channel"],
                owner_agent=me,
                note=data["note"],
                remind_at=data["remind_at"],
                by=request.user,
            )
        except BusinessError as exc:
            _show_error(form, exc)
        else:
            return redirect("web:lead", lead.pk)
    stage = request.GET.get("stage", "")
    stage = stage if stage in LeadStage.values else ""
    search = (request.GET.get("q") or "").replace("\x00", "").strip()[:40]
    counts = selectors.stage_counts(agent=me)
    return render(
        request,
        "web/leads.html",
        {
            "brand": brand_get(),
            "me": me,
            "form": form,
            "leads": selectors.leads_of(agent=me, stage=stage, search=search)[:200],
            "due": set(selectors.reminders_due(agent=me).values_list("pk", flat=True)),
            "counts": [(code, label, counts[code]) for code, label in LeadStage.choices],
            "stage": stage,
            "query": search,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def lead(request, lead_id: int):
    me = current_agent(request)
    found = selectors.lead_of(agent=me, pk=lead_id)
    if found is None:
        raise Http404
    form = FollowUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.lead_follow_up(
                lead=found, by=request.user, text=data["text"], stage=data["stage"], remind_at=data["remind_at"]
            )
        except BusinessError as exc:
            _show_error(form, exc)
        else:
            return redirect("web:lead", found.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "web/lead.html",
        {
            "brand": brand_get(),
            "lead": found,
            "history": selectors.lead_history(found)[:100],
            "form": form,
            "now": timezone.now(),
        },
        status=status,
    )
