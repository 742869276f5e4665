"""Work plans on the phone (工作计划): my targets for the month with what I have done, my team's
plans (least done first), and setting a team member's plan (an upline sets their team's)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from weishang.channel.models import Agent
from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.core.selectors import brand_get
from weishang.core.validators import normalize_phone
from weishang.growth import selectors, services
from weishang.web.agents import current_agent


class SetPlanForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Team member's phone"), max_length=20)
    month = forms.RegexField(label=gettext_lazy("Month"), regex=r"^\d{4}-\d{2}$", max_length=7)
    talks = forms.IntegerField(label=gettext_lazy("People to talk to"), min_value=0, max_value=1_000_000, initial=0)
    meets = forms.IntegerField(label=gettext_lazy("People to meet"), min_value=0, max_value=1_000_000, initial=0)
    invites = forms.IntegerField(label=gettext_lazy("Invitations"), min_value=0, max_value=1_000_000, initial=0)
    orders = forms.IntegerField(label=gettext_lazy("Orders"), min_value=0, max_value=1_000_000, initial=0)


@login_required
def plan(request):
    me = current_agent(request)
    month = f"{clock.today():%Y-%m}"
    form = SetPlanForm(request.POST or None, initial={"month": month})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        member = Agent.objects.filter(user__phone=normalize_phone(data["phone"])).first()
        try:
            if member is None or not services.may_set_plan(user=request.user, agent=member):
                raise BusinessError(_("No one in your team has this phone number."), field="phone")
            services.work_plan_set(
                agent=member,
                month=data["month"],
                by=request.user,
                talks=data["talks"],
                meets=data["meets"],
                invites=data["invites"],
                orders=data["orders"],
            )
        except BusinessError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("Work plan set for %(name)s.") % {"name": member.real_name})
            return redirect("web:plan")
    mine = selectors.plan_of(agent=me, month=month)
    return render(
        request,
        "web/plan.html",
        {
            "brand": brand_get(),
            "month": month,
            "mine": selectors.plan_progress(mine) if mine else None,
            "team": selectors.team_plans(agent=me, month=month),
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )
