"""Meetings (M10): invitations by agents, the door check-in, costs, and the outcome a meeting is
credited with — guests, agents made by level, upgrades, cash collected, cost and ROI — each
worked out by hand from the story the test tells, and a person credited to one meeting only."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from tests.leads.helpers import brand_staff, paid_restock
from tests.meetings.helpers import china, make_meeting
from weishang.channel import services as channel_services
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.leads.models import Lead, LeadChannel, LeadStage
from weishang.leads.services import leads_follow_events
from weishang.meetings import selectors, services
from weishang.meetings.models import CostKind, Invitation, MeetingKind, MeetingStatus, Rsvp

pytestmark = pytest.mark.django_db


def test_the_outcome_of_a_meeting_matches_the_story(make_agent, levels, clock):
    clock.freeze(datetime(2026, 11, 1, 9, 0))
    inviter = make_agent("province", real_name="邀约人")
    member = make_agent("city", referrer=inviter, real_name="老代理")
    meeting = make_meeting(china(2026, 11, 10, 14, 0))
    services.meeting_invite(meeting=meeting, by_agent=inviter, name="新人甲", phone="13900000001")
    services.meeting_invite(meeting=meeting, by_agent=inviter, name="新人乙", phone="13900000002")
    services.meeting_invite(meeting=meeting, by_agent=inviter, name="老代理", phone=member.user.phone)
    clock.freeze(datetime(2026, 11, 5, 9, 0))
    paid_restock(member, Decimal("600.00"))  # before the meeting: not its cash

    clock.freeze(datetime(2026, 11, 10, 14, 30))
    for name, phone in (("新人甲", "13900000001"), ("新人乙", "13900000002"), ("老代理", member.user.phone)):
        assert services.meeting_checkin(meeting=meeting, name=name, phone=phone).already is False
    walk_in = services.meeting_checkin(meeting=meeting, name="路人丙", phone="13900000004", region="330106")
    assert walk_in.invitation.invited_by is None
    assert services.meeting_checkin(meeting=meeting, name="新人甲", phone="139 0000 0001").already is True

    clock.freeze(datetime(2026, 11, 12, 10, 0))
    made = make_agent("city", phone="13900000001", referrer=inviter)
    leads_follow_events()  # the outbox consumer (on commit in production) converts the lead
    paid_restock(made, Decimal("1200.00"))
    clock.freeze(datetime(2026, 11, 15, 10, 0))
    member = channel_services.agent_change_level(agent=member, level=levels["province"], reason="升级")
    paid_restock(member, Decimal("1000.00"))

    clock.freeze(datetime(2026, 12, 20, 10, 0))  # the 30-day window ended on 12-10 14:00
    late = make_agent("vip", phone="13900000002")
    leads_follow_events()
    paid_restock(member, Decimal("500.00"))
    paid_restock(late, Decimal("800.00"))

    services.meeting_cost_add(meeting=meeting, kind=CostKind.VENUE, amount="2000", by=brand_staff())
    services.meeting_cost_add(meeting=meeting, kind=CostKind.GIFTS, amount="600.00", by=brand_staff())
    services.meeting_cost_add(
        meeting=meeting, kind=CostKind.GIFTS, amount="-100", note="礼品退回一份", by=brand_staff()
    )

    out = selectors.meeting_outcome(meeting)
    # By hand: 4 guests (甲, 乙, the member, the walk-in); 甲 joined as 市代 in the window, 乙 after
    # it; the member rose 市代 → 省代; cash 1,200 (甲) + 1,000 (the member, in the window) = 2,200;
    # cost 2,000 + 600 − 100 = 2,500; ROI (2,200 − 2,500) ÷ 2,500 = −0.12.
    assert out.guests == 4
    assert (out.agents_made, out.agents_by_level) == (1, [("市代", 1)])
    assert out.upgrades == 1
    assert out.cash == Decimal("2200.00")
    assert out.cost == Decimal("2500.00")
    assert out.roi == Decimal("-0.12")
    assert out.roi_percent == Decimal("-12")
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD  # the first check-in marked it held
    lead = Lead.objects.get(phone="13900000004")
    assert (lead.stage, lead.channel) == (LeadStage.ATTENDED, LeadChannel.MEETING)


def test_a_person_at_two_meetings_counts_for_the_earlier_one(make_agent, levels, clock):
    clock.freeze(datetime(2026, 11, 1, 9, 0))
    member = make_agent("province")
    first = make_meeting(china(2026, 11, 10, 14, 0))  # window to 12-10 14:00
    second = make_meeting(china(2026, 11, 20, 14, 0), kind=MeetingKind.SALON, title="沙龙")  # to 12-20 14:00
    clock.freeze(datetime(2026, 11, 10, 14, 5))
    services.meeting_checkin(meeting=first, name="x", phone=member.user.phone)
    clock.freeze(datetime(2026, 11, 20, 14, 5))
    services.meeting_checkin(meeting=second, name="x", phone=member.user.phone)
    clock.freeze(datetime(2026, 11, 25, 10, 0))  # inside both windows: the first meeting's
    member = channel_services.agent_change_level(agent=member, level=levels["general"])
    paid_restock(member, Decimal("2000.00"))
    clock.freeze(datetime(2026, 12, 15, 10, 0))  # after the first window, inside the second
    paid_restock(member, Decimal("800.00"))
    a, b = selectors.meeting_outcome(first), selectors.meeting_outcome(second)
    assert (a.guests, a.upgrades, a.cash) == (1, 1, Decimal("2000.00"))
    assert (b.guests, b.upgrades, b.cash) == (1, 0, Decimal("800.00"))
    assert a.roi is None and b.roi is None  # no cost entered: no ROI to show


def test_check_in_only_in_its_window_and_never_for_a_cancelled_meeting(make_agent, clock):
    clock.freeze(datetime(2026, 11, 1, 9, 0))
    meeting = make_meeting(china(2026, 11, 10, 14, 0))  # 14:00–17:00: check-in 11:00–20:00
    for at in (datetime(2026, 11, 10, 10, 59), datetime(2026, 11, 10, 20, 1)):
        clock.freeze(at)
        with pytest.raises(BusinessError):
            services.meeting_checkin(meeting=meeting, name="早到", phone="13900000009")
    assert not Invitation.objects.exists()
    clock.freeze(datetime(2026, 11, 10, 11, 0))
    assert services.meeting_checkin(meeting=meeting, name="准时", phone="13900000009").already is False
    data = services.MeetingInput(
        kind=meeting.kind,
        title=meeting.title,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        venue=meeting.venue,
        budget=meeting.budget,
    )
    services.meeting_update(meeting=meeting, data=data, status=MeetingStatus.CANCELLED, by=brand_staff())
    with pytest.raises(BusinessError, match="取消"):
        services.meeting_checkin(meeting=meeting, name="又来", phone="13900000008")


@pytest.mark.parametrize(
    ("name", "phone", "field"),
    [
        ("", "13900000001", "name"),
        ("名" * 51, "13900000001", "name"),
        ("张三", "12345", "phone"),
        ("张三", "<script>alert(1)</script>", "phone"),
        ("张三", "1390000000１' OR 1=1", "phone"),
    ],
)
def test_hostile_check_in_input_is_refused_on_its_field(clock, name, phone, field):
    clock.freeze(datetime(2026, 11, 1, 9, 0))
    meeting = make_meeting(china(2026, 11, 1, 10, 0))
    with pytest.raises(BusinessError) as err:
        services.meeting_checkin(meeting=meeting, name=name, phone=phone)
    assert err.value.field == field
    assert not Invitation.objects.exists() and not Lead.objects.exists()


def test_invitations_inside_the_team_once_per_person(make_agent, clock):
    clock.freeze(datetime(2026, 11, 1, 9, 0))
    inviter = make_agent("province", real_name="邀约人")
    other = make_agent("province")
    outsider = make_agent("city", referrer=other)
    meeting = make_meeting(china(2026, 11, 10, 14, 0))
    inv = services.meeting_invite(meeting=meeting, by_agent=inviter, name="新人", phone="13900000001")
    assert Lead.objects.get(phone="13900000001").stage == LeadStage.INVITED
    with pytest.raises(Conflict, match="邀约人"):
        services.meeting_invite(meeting=meeting, by_agent=other, name="新人", phone="13900000001")
    with pytest.raises(Forbidden):
        services.meeting_invite(meeting=meeting, by_agent=inviter, name="x", phone=outsider.user.phone)
    services.invitation_rsvp(invitation=inv, answer=Rsvp.YES)
    with pytest.raises(BusinessError):
        services.invitation_rsvp(invitation=inv, answer="<b>yes</b>")
    inv.refresh_from_db()
    assert inv.rsvp == Rsvp.YES
    # The counts the growth app reads.
    start, end = china(2026, 11, 1), china(2026, 12, 1)
    assert selectors.invitations_sent(agent=inviter, start=start, end=end) == 1
    assert selectors.invitations_sent(agent=other, start=start, end=end) == 0
    clock.freeze(datetime(2026, 11, 10, 14, 0))
    services.meeting_checkin(meeting=meeting, name="新人", phone="13900000001")
    assert selectors.guests_came(agent=inviter, start=start, end=end) == 1
    assert selectors.meetings_held(start=start, end=end) == 1
    assert selectors.meetings_held(start=china(2026, 12, 1), end=china(2027, 1, 1)) == 0


@pytest.mark.parametrize(
    ("amount", "note"), [("abc", ""), ("0", ""), ("-50", ""), ("NaN", ""), ("1e12", ""), ("-5000", "太多")]
)
def test_bad_costs_are_refused(clock, amount, note):
    clock.freeze(datetime(2026, 11, 1, 9, 0))
    meeting = make_meeting(china(2026, 11, 10, 14, 0))
    services.meeting_cost_add(meeting=meeting, kind=CostKind.VENUE, amount="100", by=brand_staff())
    with pytest.raises(BusinessError):
        services.meeting_cost_add(meeting=meeting, kind=CostKind.VENUE, amount=amount, note=note, by=brand_staff())
    assert selectors.meeting_cost(meeting) == Decimal("100.00")


def test_a_meeting_needs_a_venue_or_for_an_online_class_a_link(clock):
    clock.freeze(datetime(2026, 11, 1, 9, 0))
    start = china(2026, 11, 10, 14, 0)
    with pytest.raises(BusinessError) as err:
        services.meeting_create(
            data=services.MeetingInput(kind=MeetingKind.ONLINE_CLASS, title="线上课", starts_at=start, ends_at=start),
            by=brand_staff(),
        )
    assert err.value.field == "ends_at"
    with pytest.raises(BusinessError) as err:
        services.meeting_create(
            data=services.MeetingInput(
                kind=MeetingKind.ONLINE_CLASS, title="线上课", starts_at=start, ends_at=china(2026, 11, 10, 15, 0)
            ),
            by=brand_staff(),
        )
    assert err.value.field == "online_link"
