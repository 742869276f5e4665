"""Meetings: schedule them, invite people, RSVP, check in at the door, record real costs.

- ``meeting_create`` / ``meeting_update`` (brand staff, through the console): the schedule, the
  venue or online link, the host and closing speaker, the budget and the attribution window.
- ``meeting_invite``: an agent invites a person by name and phone — a member of their own team
  (an agent), or anyone else, who becomes (or stays) a lead at stage *invited*
  (``leads.services.lead_capture``). One invitation per meeting and person.
- ``invitation_rsvp``: the guest answers through their invitation's link (no login).
- ``meeting_checkin``: the guest scans the door QR and gives name and phone (no login). An agent's
  phone marks the member present; anyone else is captured as a lead at stage *attended*. Once per
  meeting and phone (a second scan answers "already checked in"), only in the check-in window
  ([start − 3 h, end + 3 h]) of a meeting that is not cancelled. The first check-in marks the
  meeting held.
- ``meeting_cost_add``: a real cost line; a correction is a negative line with its reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from weishang.channel.models import Agent, AgentStatus
from weishang.channel.selectors import team_member_ids
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.money import to_money
from weishang.core.validators import clean_phone
from weishang.leads.models import Lead, LeadChannel, LeadStage
from weishang.leads.services import lead_capture
from weishang.meetings.models import CostKind, Invitation, Meeting, MeetingCost, MeetingKind, MeetingStatus, Rsvp
from weishang.regions.models import Region
from weishang.regions.selectors import region_from_input

CHECKIN_EARLY = dt.timedelta(hours=3)
CHECKIN_LATE = dt.timedelta(hours=3)
MAX_WINDOW_DAYS = 365
MAX_MONEY = Decimal("100000000")
NAME_MAX = 50


def checkin_opens(meeting: Meeting) -> dt.datetime:
    return meeting.starts_at - CHECKIN_EARLY


def checkin_closes(meeting: Meeting) -> dt.datetime:
    return meeting.ends_at + CHECKIN_LATE


def _money(value: object, *, field: str, allow_negative: bool = False) -> Decimal:
    try:
        amount = to_money(value if isinstance(value, Decimal) else Decimal(str(value).strip()))
    except (InvalidOperation, ValueError, TypeError):
        raise BusinessError(_("Enter an amount in yuan, such as 1200 or 1200.50."), field=field) from None
    if not amount.is_finite() or abs(amount) >= MAX_MONEY:
        raise BusinessError(_("Enter an amount in yuan, such as 1200 or 1200.50."), field=field)
    if amount < 0 and not allow_negative:
        raise BusinessError(_("The amount cannot be negative."), field=field)
    return amount


def _clean_name(name: str, field: str = "name") -> str:
    name = (name or "").strip()
    if not name:
        raise BusinessError(_("Enter the name."), field=field)
    if len(name) > NAME_MAX:
        raise BusinessError(_("A name has at most 50 characters."), field=field)
    return name


@dataclass
class MeetingInput:
    kind: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    venue: str = ""
    region: Region | str | None = None
    online_link: str = ""
    host_name: str = ""
    host_agent: Agent | None = None
    closing_name: str = ""
    closing_agent: Agent | None = None
    budget: Decimal | str = Decimal("0")
    window_days: int = 30


def meeting_check(data: MeetingInput) -> dict:
    """The meeting's fields checked and cleaned (a BusinessError on the first bad one); the
    console's form calls it so that its errors show on the form."""
    if data.kind not in MeetingKind.values:
        raise BusinessError(_("Choose the kind of meeting."), field="kind")
    title = (data.title or "").strip()
    if not title or len(title) > 80:
        raise BusinessError(_("Enter a title of at most 80 characters."), field="title")
    if data.starts_at is None or data.ends_at is None or data.ends_at <= data.starts_at:
        raise BusinessError(_("The meeting must end after it starts."), field="ends_at")
    if data.ends_at - data.starts_at > dt.timedelta(days=14):
        raise BusinessError(_("A meeting lasts at most 14 days."), field="ends_at")
    venue, link = (data.venue or "").strip(), (data.online_link or "").strip()
    if data.kind == MeetingKind.ONLINE_CLASS:
        if not link:
            raise BusinessError(_("An online class needs its link."), field="online_link")
    elif not venue:
        raise BusinessError(_("Enter the venue."), field="venue")
    if link and not link.startswith(("https://", "http://")):
        raise BusinessError(_("The link starts with https://."), field="online_link")
    window = data.window_days
    if not isinstance(window, int) or not 1 <= window <= MAX_WINDOW_DAYS:
        raise BusinessError(_("The attribution window is 1 to 365 days."), field="window_days")
    host = (data.host_name or "").strip() or (data.host_agent.real_name if data.host_agent else "")
    closing = (data.closing_name or "").strip() or (data.closing_agent.real_name if data.closing_agent else "")
    if len(host) > NAME_MAX or len(closing) > NAME_MAX:
        raise BusinessError(_("A name has at most 50 characters."), field="host_name")
    return {
        "kind": data.kind,
        "title": title,
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "venue": venue[:200],
        "region": region_from_input(data.region),
        "online_link": link[:300],
        "host_name": host,
        "host_agent": data.host_agent,
        "closing_name": closing,
        "closing_agent": data.closing_agent,
        "budget": _money(data.budget, field="budget"),
        "window_days": window,
    }


@transaction.atomic
def meeting_create(*, data: MeetingInput, by) -> Meeting:
    """A new meeting, scheduled. Brand staff only (the console checks ``meetings.add_meeting``)."""
    return Meeting.objects.create(**meeting_check(data), created_by=by)


@transaction.atomic
def meeting_update(*, meeting: Meeting, data: MeetingInput, status: str | None = None, by) -> Meeting:
    """Change a meeting's details (and its status: held or cancelled)."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    for field, value in meeting_check(data).items():
        setattr(meeting, field, value)
    if status is not None:
        if status not in MeetingStatus.values:
            raise BusinessError(_("Choose a status."), field="status")
        meeting.status = status
    meeting.save()
    return meeting


def _agent_by_phone(phone: str) -> Agent | None:
    User = get_user_model()
    user = User.objects.filter(phone=phone).first()
    return Agent.objects.select_related("level").filter(user=user).first() if user else None


def _open_for_invitations(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        raise BusinessError(_("This meeting was cancelled."), field="meeting")
    if meeting.ends_at <= clock.now():
        raise BusinessError(_("This meeting is over."), field="meeting")


@transaction.atomic
def meeting_invite(*, meeting: Meeting, by_agent: Agent, name: str, phone: str, region=None) -> Invitation:
    """``by_agent`` invites a person by phone: a member of their team, or anyone else as a lead.

    An agent outside the inviter's team is refused (they are someone else's to invite). A person
    already invited to this meeting is refused, naming who invited them."""
    if by_agent.status != AgentStatus.ACTIVE:
        raise Forbidden(_("Only active agents invite guests."))
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    _open_for_invitations(meeting)
    name = _clean_name(name)
    phone = clean_phone(phone)
    member = _agent_by_phone(phone)
    if member is not None:
        if member.pk == by_agent.pk:
            raise BusinessError(_("You are not a guest of your own invitation."), field="phone")
        in_team = Agent.objects.filter(pk=member.pk, pk__in=team_member_ids(agent=by_agent, include_self=False))
        if not in_team.exists():
            raise Forbidden(_("This person is an agent outside your team."), field="phone")
        found = Invitation.objects.filter(meeting=meeting, agent=member).select_related("invited_by").first()
        if found is None:
            return Invitation.objects.create(meeting=meeting, agent=member, name=member.real_name, invited_by=by_agent)
    else:
        lead = lead_capture(
            name=name,
            phone=phone,
            region=region,
            channel=LeadChannel.MEETING,
            owner_agent=by_agent,
            stage=LeadStage.INVITED,
            note=_("Invited to %(meeting)s") % {"meeting": meeting.title},
        )
        found = Invitation.objects.filter(meeting=meeting, lead=lead).select_related("invited_by").first()
        if found is None:
            return Invitation.objects.create(meeting=meeting, lead=lead, name=lead.name, invited_by=by_agent)
    who = found.invited_by.real_name if found.invited_by is not None else _("the brand")
    raise Conflict(_("Already invited to this meeting (by %(who)s).") % {"who": who}, field="phone")


@transaction.atomic
def invitation_rsvp(*, invitation: Invitation, answer: str) -> Invitation:
    """The guest's answer through their invitation's link: coming, maybe or not coming."""
    if answer not in (Rsvp.YES, Rsvp.MAYBE, Rsvp.NO):
        raise BusinessError(_("Choose coming, maybe or not coming."), field="rsvp")
    invitation = Invitation.objects.select_for_update().select_related("meeting").get(pk=invitation.pk)
    _open_for_invitations(invitation.meeting)
    invitation.rsvp = answer
    invitation.rsvp_at = clock.now()
    invitation.save(update_fields=["rsvp", "rsvp_at"])
    return invitation


@dataclass
class CheckinResult:
    invitation: Invitation
    already: bool  # True: this phone had checked in before; nothing changed


@transaction.atomic
def meeting_checkin(*, meeting: Meeting, name: str, phone: str, region=None) -> CheckinResult:
    """A guest checks in at the door (the check-in QR's page, no login). See the module docstring."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    now = clock.now()
    if meeting.status == MeetingStatus.CANCELLED:
        raise BusinessError(_("This meeting was cancelled."), field="meeting")
    if now < checkin_opens(meeting):
        raise BusinessError(_("Check-in has not opened yet: it opens 3 hours before the start."), field="meeting")
    if now > checkin_closes(meeting):
        raise BusinessError(_("Check-in for this meeting has closed."), field="meeting")
    name = _clean_name(name)
    phone = clean_phone(phone)
    region = region_from_input(region)
    member = _agent_by_phone(phone)
    if member is not None:
        invitation = Invitation.objects.select_for_update().filter(meeting=meeting, agent=member).first()
        if invitation is None:
            invitation = _create(meeting=meeting, agent=member, name=member.real_name)
    else:
        lead = lead_capture(
            name=name,
            phone=phone,
            region=region,
            channel=LeadChannel.MEETING,
            stage=LeadStage.ATTENDED,
            note=_("Checked in at %(meeting)s") % {"meeting": meeting.title},
            at=now,
        )
        invitation = Invitation.objects.select_for_update().filter(meeting=meeting, lead=lead).first()
        if invitation is None:
            invitation = _create(meeting=meeting, lead=lead, name=lead.name)
    if invitation.checked_in_at is not None:
        return CheckinResult(invitation=invitation, already=True)
    invitation.checked_in_at = now
    invitation.save(update_fields=["checked_in_at"])
    if meeting.status == MeetingStatus.SCHEDULED:
        meeting.status = MeetingStatus.HELD
        meeting.save(update_fields=["status"])
    return CheckinResult(invitation=invitation, already=False)


def _create(*, meeting: Meeting, name: str, lead: Lead | None = None, agent: Agent | None = None) -> Invitation:
    try:
        with transaction.atomic():
            return Invitation.objects.create(meeting=meeting, lead=lead, agent=agent, name=name)
    except IntegrityError:  # a racing scan of the same phone made it first
        return Invitation.objects.select_for_update().get(meeting=meeting, lead=lead, agent=agent)


@transaction.atomic
def meeting_cost_add(*, meeting: Meeting, kind: str, amount: Decimal | str, note: str = "", by) -> MeetingCost:
    """A real cost line. A negative line corrects an earlier one and needs its reason."""
    if kind not in CostKind.values:
        raise BusinessError(_("Choose the kind of cost."), field="kind")
    value = _money(amount, field="amount", allow_negative=True)
    if value == 0:
        raise BusinessError(_("Enter an amount other than zero."), field="amount")
    note = (note or "").strip()[:200]
    if value < 0 and not note:
        raise BusinessError(_("A correction (a negative amount) needs its reason."), field="note")
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    total = sum((c.amount for c in meeting.costs.all()), Decimal("0")) + value
    if total < 0:
        raise BusinessError(_("The meeting's costs cannot add up to less than zero."), field="amount")
    return MeetingCost.objects.create(meeting=meeting, kind=kind, amount=value, note=note, recorded_by=by)
