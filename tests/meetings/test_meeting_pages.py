"""The meeting pages: the door's check-in and the guest's RSVP (public, on a phone, no login), an
agent's own meetings and invitations, and the console — who may see and do what."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tests.meetings.helpers import china, make_meeting
from weishang.core.roles import role_group_name, roles_sync
from weishang.leads.models import Lead, LeadStage
from weishang.meetings import selectors, services
from weishang.meetings.models import Invitation, MeetingCost, Rsvp

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)


def staff(role: str):
    roles_sync()
    user = get_user_model().objects.create_user(
        username=f"{role}-{next(_seq)}", password="staff-pass-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role_group_name(role)))
    return get_user_model().objects.get(pk=user.pk)


def checkin_url(meeting) -> str:
    return f"/meet/c/{meeting.checkin_token}/"


def test_a_guest_checks_in_once_by_the_door_link(client, clock):
    clock.freeze(datetime(2026, 11, 10, 14, 10))
    meeting = make_meeting(china(2026, 11, 10, 14, 0))
    page = client.get(checkin_url(meeting))
    assert page.status_code == 200 and "签到" in page.content.decode()
    done = client.post(checkin_url(meeting), {"name": "赵敏", "phone": "13900000001"})
    assert done.status_code == 200 and "签到成功" in done.content.decode()
    again = client.post(checkin_url(meeting), {"name": "赵敏", "phone": "13900000001"})
    assert "已经签到过了" in again.content.decode()
    assert Invitation.objects.filter(checked_in_at__isnull=False).count() == 1
    assert Lead.objects.get(phone="13900000001").stage == LeadStage.ATTENDED


def test_check_in_outside_the_window_is_refused_on_the_page(client, clock):
    clock.freeze(datetime(2026, 11, 9, 14, 0))  # the day before
    meeting = make_meeting(china(2026, 11, 10, 14, 0))
    page = client.post(checkin_url(meeting), {"name": "赵敏", "phone": "13900000001"})
    assert page.status_code == 400 and "签到尚未开始" in page.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("token", ["nope", "x" * 500, "%00", "中文", "' OR 1=1 --"])
def test_a_wrong_token_is_404(client, clock, token):
    clock.freeze(datetime(2026, 11, 10, 14, 10))
    make_meeting(china(2026, 11, 10, 14, 0))
    assert client.get(f"/meet/c/{token}/").status_code == 404
    assert client.post(f"/meet/c/{token}/", {"name": "a", "phone": "13900000001"}).status_code == 404
    assert client.get(f"/meet/i/{token}/").status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"name": "<script>alert(1)</script>", "phone": "abc"},
        {"name": "x" * 5000, "phone": "13900000001"},
        {"name": "赵敏", "phone": "13900000001", "region": "999999"},
        {"name": "赵敏", "phone": "13900000001\x00"},
    ],
)
def test_hostile_check_in_input_gets_a_message_not_a_500(client, clock, data):
    clock.freeze(datetime(2026, 11, 10, 14, 10))
    meeting = make_meeting(china(2026, 11, 10, 14, 0))
    page = client.post(checkin_url(meeting), data)
    assert page.status_code == 400
    assert 'role="alert"' in page.content.decode()
    assert "<script>alert(1)</script>" not in page.content.decode()
    assert not Invitation.objects.exists()


def test_the_public_pages_are_rate_limited(client, clock, settings):
    settings.WEISHANG_API_RATES = {"public": "2/m"}
    clock.freeze(datetime(2026, 11, 10, 14, 10))
    meeting = make_meeting(china(2026, 11, 10, 14, 0))
    codes = [
        client.post(checkin_url(meeting), {"name": "赵敏", "phone": f"1390000000{i}"}).status_code for i in range(3)
    ]
    assert codes == [200, 200, 429]


def test_a_guest_answers_their_invitation_without_logging_in(client, make_agent, clock):
    clock.freeze(datetime(2026, 11, 1, 9, 0))
    inviter = make_agent("province", real_name="邀约人")
    meeting = make_meeting(china(2026, 11, 10, 14, 0))
    inv = services.meeting_invite(meeting=meeting, by_agent=inviter, name="新人", phone="13900000001")
    page = client.get(f"/meet/i/{inv.token}/")
    assert page.status_code == 200 and "邀约人" in page.content.decode()
    client.post(f"/meet/i/{inv.token}/", {"rsvp": "yes"})
    inv.refresh_from_db()
    assert inv.rsvp == Rsvp.YES
    bad = client.post(f"/meet/i/{inv.token}/", {"rsvp": "<img src=x>"})
    assert bad.status_code == 400
    inv.refresh_from_db()
    assert inv.rsvp == Rsvp.YES


def test_an_agent_invites_and_sees_only_their_own_invitations(client, make_agent, clock):
    clock.freeze(datetime(2026, 11, 1, 9, 0))
    mine = make_agent("province", real_name="我自己")
    other = make_agent("province", real_name="别人")
    meeting = make_meeting(china(2026, 11, 10, 14, 0))
    services.meeting_invite(meeting=meeting, by_agent=other, name="别人的客人", phone="13900000002")
    client.force_login(mine.user)
    client.post(f"/m/meetings/{meeting.pk}/invite/", {"name": "我的客人", "phone": "13900000001"})
    page = client.get("/m/meetings/").content.decode()
    assert "我的客人" in page and "别人的客人" not in page
    assert [i.name for i in selectors.invitations_of(agent=mine)] == ["我的客人"]
    refused = client.post(f"/m/meetings/{meeting.pk}/invite/", {"name": "x", "phone": "13900000002"}, follow=True)
    assert "已被邀约" in refused.content.decode()


def test_agents_cannot_open_the_console_and_staff_see_what_their_role_allows(client, make_agent, clock):
    clock.freeze(datetime(2026, 11, 10, 15, 0))
    meeting = make_meeting(china(2026, 11, 10, 14, 0))
    services.meeting_checkin(meeting=meeting, name="赵敏", phone="13900000001")
    change = f"/console/meetings/meeting/{meeting.pk}/change/"
    agent = make_agent("partner")
    client.force_login(agent.user)
    for url in ("/console/meetings/meeting/", change, f"/console/meetings/meeting/{meeting.pk}/qr.png"):
        assert client.get(url).status_code == 302  # to the console's login: an agent is never staff
    assert client.get(f"/m/meetings/{meeting.pk}/invite/").status_code == 405

    client.force_login(staff("finance"))
    page = client.get(change)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="outcome"' in body and "赵敏" not in body  # the ROI card, not the guests
    assert (
        client.post(f"/console/meetings/meeting/{meeting.pk}/cost/", {"kind": "venue", "amount": "5"}).status_code
        == 403
    )
    assert client.get("/console/meetings/meeting/add/").status_code == 403

    client.force_login(staff("warehouse"))
    assert client.get(change).status_code == 403

    client.force_login(staff("operations"))
    body = client.get(change).content.decode()
    assert "赵敏" in body
    png = client.get(f"/console/meetings/meeting/{meeting.pk}/qr.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert meeting.checkin_token in client.get(f"/console/meetings/meeting/{meeting.pk}/sign/").content.decode()
    bad = client.post(f"/console/meetings/meeting/{meeting.pk}/cost/", {"kind": "venue", "amount": "-5", "note": ""})
    assert bad.status_code == 400 and not MeetingCost.objects.exists()
    ok = client.post(f"/console/meetings/meeting/{meeting.pk}/cost/", {"kind": "venue", "amount": "800"})
    assert ok.status_code == 302
    assert selectors.meeting_outcome(meeting).cost == 800
