"""Meetings on the phone (M10).

- ``/m/meetings/`` (agents): the upcoming meetings; invite someone by name and phone; who was
  invited by me, who answered and who came. An agent sees only their own invitations.
- ``/meet/i/<token>/`` (public, no login): the guest's invitation and their RSVP.
- ``/meet/c/<token>/`` (public, no login): the door's check-in — the QR code at the door opens it;
  the guest gives name and phone (and region). A wrong token is 404.
Both public pages are rate-limited per address (core.ratelimit) and answer bad input on the form.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from weishang.core.errors import BusinessError
from weishang.core.ratelimit import allow
from weishang.core.selectors import brand_get
from weishang.meetings import selectors, services
from weishang.meetings.models import Rsvp
from weishang.web.agents import current_agent
from weishang.web.regions import RegionField


class GuestForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Full name"), max_length=50)
    phone = forms.CharField(
        label=gettext_lazy("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class CheckinForm(GuestForm):
    region = RegionField(finest=False, required=False, label=gettext_lazy("Where you live (optional)"))


def _limited(request, template: str, context: dict):
    response = render(request, template, {**context, "brand": brand_get(), "limited": True}, status=429)
    response["Retry-After"] = "60"
    return response


@login_required
def my_meetings(request):
    me = current_agent(request)
    upcoming = list(selectors.upcoming_meetings()[:20])
    mine = list(selectors.invitations_of(agent=me)[:200])
    for meeting in upcoming:
        meeting.my_invitations = [i for i in mine if i.meeting_id == meeting.pk]
    past = [i for i in mine if i.meeting_id not in {m.pk for m in upcoming}]
    return render(
        request,
        "web/meetings.html",
        {"brand": brand_get(), "me": me, "upcoming": upcoming, "past": past, "form": GuestForm()},
    )


@login_required
@require_POST
def meeting_invite(request, meeting_id: int):
    me = current_agent(request)
    meeting = selectors.upcoming_meetings().filter(pk=meeting_id).first()
    if meeting is None:
        raise Http404
    form = GuestForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.meeting_invite(
                meeting=meeting, by_agent=me, name=form.cleaned_data["name"], phone=form.cleaned_data["phone"]
            )
        except BusinessError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("Invited %(name)s. Send them their invitation link (below) to answer.") % {"name": invitation.name},
            )
    else:
        messages.error(request, _("Enter the guest's name and an 11-digit mobile number."))
    return redirect("web:my_meetings")


def invitation_page(request, token: str):
    """The guest's invitation: the meeting, and coming / maybe / not coming (no login)."""
    if request.method == "POST" and not allow(request, "public"):
        return _limited(request, "web/meeting_invitation.html", {})
    invitation = selectors.invitation_by_token(token)
    if invitation is None:
        raise Http404
    status = 200
    if request.method == "POST":
        try:
            invitation = services.invitation_rsvp(invitation=invitation, answer=request.POST.get("rsvp", "")[:10])
        except BusinessError as exc:
            messages.error(request, str(exc.message))
            status = 400
        else:
            messages.success(request, _("Thank you: your answer is saved."))
            return redirect("web:meeting_invitation", token=token)
    return render(
        request,
        "web/meeting_invitation.html",
        {"brand": brand_get(), "invitation": invitation, "meeting": invitation.meeting, "answers": Rsvp},
        status=status,
    )


def checkin_page(request, token: str):
    """The door's check-in (no login): name, phone and region; once per phone."""
    if request.method == "POST" and not allow(request, "public"):
        return _limited(request, "web/meeting_checkin.html", {})
    meeting = selectors.meeting_by_checkin_token(token)
    if meeting is None:
        raise Http404
    form = CheckinForm(request.POST if request.method == "POST" else None)
    status, result = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = services.meeting_checkin(
                    meeting=meeting, name=data["name"], phone=data["phone"], region=data["region"]
                )
            except BusinessError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                status = 200
    return render(
        request,
        "web/meeting_checkin.html",
        {"brand": brand_get(), "meeting": meeting, "form": form, "result": result},
        status=status,
    )
