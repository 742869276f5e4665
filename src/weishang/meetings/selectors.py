"""Reading meetings: lists, a guest list, and each meeting's outcome (computed, never stored).

**A meeting's outcome** (``meeting_outcome``), the source's figures for one meeting:

- *guests*: the people who checked in at the door;
- the *window*: [meeting start, start + N days) (``Meeting.window_days``);
- *agents made*: checked-in guests who came as leads and became agents in the window (the lead's
  ``converted_at``), counted by the level they joined at;
- *upgrades*: checked-in agent members and the agents made whose level rose in the window (an
  ``AgentTrail`` level row to a higher level), one per person however many steps they rose;
- *cash collected*: what those agents (members and agents made) paid in the window for entry,
  upgrade and restock orders (``trade.selectors.cash_collected``);
- *cost*: the sum of the meeting's cost lines;
- *ROI*: (cash − cost) ÷ cost, None while the cost is zero.

**One person, one meeting**: a person who checked in at two meetings whose windows overlap counts
for the earlier one (earlier start, then the lower id) for the overlap; the later meeting counts
what they did after the earlier one's window ended (docs/decisions.md).

**For the growth app** (work plans and launch phases read these; their names are stable):

- ``meetings_held(*, start, end) -> int``: meetings marked held that started in [start, end);
- ``invitations_sent(*, agent, start, end) -> int``: invitations the agent sent in [start, end);
- ``guests_came(*, agent, start, end) -> int``: the agent's invitees who checked in in [start, end).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from weishang.channel.models import Agent, AgentTrail, Level, TrailKind
from weishang.core import clock
from weishang.core.money import to_money
from weishang.meetings.models import Invitation, Meeting, MeetingCost, MeetingStatus
from weishang.trade.selectors import cash_collected

Person = tuple[str, int]  # ("agent", id) or ("lead", id)


def window_end(meeting: Meeting) -> dt.datetime:
    return meeting.starts_at + dt.timedelta(days=meeting.window_days)


def meeting_by_checkin_token(token: str) -> Meeting | None:
    token = (token or "")[:60]
    return Meeting.objects.select_related("region").filter(checkin_token=token).first() if token else None


def invitation_by_token(token: str) -> Invitation | None:
    token = (token or "")[:60]
    if not token:
        return None
    return Invitation.objects.select_related("meeting", "invited_by").filter(token=token).first()


def upcoming_meetings(*, at: dt.datetime | None = None) -> QuerySet[Meeting]:
    """Meetings not cancelled that have not ended, soonest first (an agent invites to these)."""
    return (
        Meeting.objects.filter(ends_at__gt=at or clock.now())
        .exclude(status=MeetingStatus.CANCELLED)
        .order_by("starts_at", "pk")
    )


def invitations_of(*, agent: Agent | int, meeting: Meeting | None = None) -> QuerySet[Invitation]:
    """The invitations an agent sent (to one meeting or all), with who answered and who came."""
    rows = Invitation.objects.filter(invited_by_id=getattr(agent, "pk", agent)).select_related("meeting", "lead")
    if meeting is not None:
        rows = rows.filter(meeting=meeting)
    return rows.order_by("-meeting__starts_at", "created_at", "pk")


def guest_list(meeting: Meeting) -> QuerySet[Invitation]:
    return meeting.invitations.select_related("lead", "agent__level", "invited_by").order_by(
        "checked_in_at", "created_at", "pk"
    )


def meeting_cost(meeting: Meeting) -> Decimal:
    return to_money(MeetingCost.objects.filter(meeting=meeting).aggregate(s=Sum("amount"))["s"] or Decimal("0"))


def meetings_held(*, start: dt.datetime, end: dt.datetime) -> int:
    return Meeting.objects.filter(status=MeetingStatus.HELD, starts_at__gte=start, starts_at__lt=end).count()


def invitations_sent(*, agent: Agent | int, start: dt.datetime, end: dt.datetime) -> int:
    return Invitation.objects.filter(
        invited_by_id=getattr(agent, "pk", agent), created_at__gte=start, created_at__lt=end
    ).count()


def guests_came(*, agent: Agent | int, start: dt.datetime, end: dt.datetime) -> int:
    return Invitation.objects.filter(
        invited_by_id=getattr(agent, "pk", agent), checked_in_at__gte=start, checked_in_at__lt=end
    ).count()


# --- the outcome ----------------------------------------------------------------------------


@dataclass
class Outcome:
    guests: int = 0
    agents_made: int = 0
    agents_by_level: list[tuple[str, int]] = field(default_factory=list)  # (level name, count), highest first
    upgrades: int = 0
    cash: Decimal = Decimal("0.00")
    cost: Decimal = Decimal("0.00")
    roi: Decimal | None = None  # (cash − cost) ÷ cost, 4 places; None when the cost is zero
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None

    @property
    def roi_percent(self) -> Decimal | None:
        return None if self.roi is None else (self.roi * 100).quantize(Decimal("1"))


def _person(inv: Invitation) -> Person:
    if inv.agent_id is not None:
        return ("agent", inv.agent_id)
    if inv.lead is not None and inv.lead.agent_id is not None:
        return ("agent", inv.lead.agent_id)
    return ("lead", inv.lead_id)


def _attendance(people: set[Person]) -> dict[Person, list[Meeting]]:
    """Each person's checked-in meetings (not cancelled): as a member, or as a lead (also the
    lead's meetings from before they became an agent)."""
    agent_ids = [pk for kind, pk in people if kind == "agent"]
    lead_ids = [pk for kind, pk in people if kind == "lead"]
    rows = (
        Invitation.objects.filter(checked_in_at__isnull=False)
        .exclude(meeting__status=MeetingStatus.CANCELLED)
        .filter(Q(agent_id__in=agent_ids) | Q(lead_id__in=lead_ids) | Q(lead__agent_id__in=agent_ids))
        .select_related("meeting", "lead")
    )
    found: dict[Person, list[Meeting]] = defaultdict(list)
    for inv in rows:
        found[_person(inv)].append(inv.meeting)
    return found


def _starts(meeting: Meeting, people: set[Person]) -> dict[Person, dt.datetime]:
    """When each person's outcome starts counting for ``meeting``: its start, or the end of the
    latest window of an earlier meeting they attended that overlaps it."""
    end = window_end(meeting)
    starts = {}
    for person, meetings in _attendance(people).items():
        start = meeting.starts_at
        for other in meetings:
            earlier = (other.starts_at, other.pk) < (meeting.starts_at, meeting.pk)
            if earlier and window_end(other) > start:
                start = window_end(other)
        starts[person] = min(start, end)
    for person in people:
        starts.setdefault(person, meeting.starts_at)
    return starts


def meeting_outcome(meeting: Meeting) -> Outcome:
    """The meeting's figures (see the module docstring). A handful of queries, whatever the size."""
    end = window_end(meeting)
    checked = list(meeting.invitations.filter(checked_in_at__isnull=False).select_related("lead", "lead__agent"))
    people = {_person(inv) for inv in checked}
    starts = _starts(meeting, people)
    made: dict[int, Agent] = {}
    for inv in checked:
        lead = inv.lead
        if lead is None or lead.agent_id is None or lead.converted_at is None:
            continue
        if starts[("agent", lead.agent_id)] <= lead.converted_at < end:
            made[lead.agent_id] = lead.agent
    members = {pk for kind, pk in people if kind == "agent" and pk not in made}
    # Agents made count from when they joined; members from their (attribution) start.
    counted = members | set(made)
    joined_level = dict(
        AgentTrail.objects.filter(agent_id__in=list(made), kind=TrailKind.JOINED).values_list("agent_id", "new_ref")
    )
    levels = {lv.pk: lv for lv in Level.objects.all()}
    by_level: dict[int, int] = defaultdict(int)
    for agent_id, agent in made.items():
        by_level[joined_level.get(agent_id) or agent.level_id] += 1
    ranked = sorted(by_level.items(), key=lambda item: levels[item[0]].rank if item[0] in levels else 99)
    upgraded: set[int] = set()
    rows = AgentTrail.objects.filter(
        agent_id__in=list(counted), kind=TrailKind.LEVEL, changed_at__gte=meeting.starts_at, changed_at__lt=end
    ).values_list("agent_id", "old_ref", "new_ref", "changed_at")
    for agent_id, old_ref, new_ref, at in rows:
        old, new = levels.get(old_ref), levels.get(new_ref)
        if old and new and new.rank < old.rank and at >= starts[("agent", agent_id)]:
            upgraded.add(agent_id)
    cash = Decimal("0")
    groups: dict[dt.datetime, list[int]] = defaultdict(list)
    for agent_id in counted:
        if starts[("agent", agent_id)] < end:
            groups[starts[("agent", agent_id)]].append(agent_id)
    for start, ids in groups.items():
        cash += sum(cash_collected(buyers=ids, start=start, end=end).values(), Decimal("0"))
    cost = meeting_cost(meeting)
    roi = ((cash - cost) / cost).quantize(Decimal("0.0001")) if cost > 0 else None
    return Outcome(
        guests=len(checked),
        agents_made=len(made),
        agents_by_level=[(levels[pk].name if pk in levels else "?", n) for pk, n in ranked],
        upgrades=len(upgraded),
        cash=to_money(cash),
        cost=cost,
        roi=roi,
        window_start=meeting.starts_at,
        window_end=end,
    )
