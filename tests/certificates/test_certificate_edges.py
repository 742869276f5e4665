"""Edges of the certificates: ``weishang certificates sync`` from the command line; hostile
lookups on the public page, its form and the API (very long, NUL, SQL-ish, other scripts' digits,
emoji, direction marks) answered with a clear message or "not found", never a 500 and never the
phone; a staff re-issue audited (who, when, why) on the console's history pages."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from weishang.certificates.models import Certificate, CertificateStatus
from weishang.certificates.services import certificates_follow_events
from weishang.channel import services as channel

from .test_certificates import agent  # noqa: F401 - the fixture, reused

pytestmark = pytest.mark.django_db

HOSTILE = [
    "x" * 5000,
    "a\x00b",
    "\x00",
    "' OR 1=1 --",
    "1' UNION SELECT phone FROM core_user --",
    "%",
    "_",
    "٣٤٥٦٧٨٩٠١٢٣",  # Arabic-Indic digits
    "１３８００１３８０００",  # full-width digits of a number nobody has
    "🙂🙂",
    "\u202e\u200b",
    "SQ" + "Z" * 30,
]


def test_the_command_line_syncs(agent):  # noqa: F811
    certificates_follow_events()
    assert Certificate.objects.filter(agent=agent, status=CertificateStatus.ACTIVE).count() == 1
    Certificate.objects.all().delete()  # as if the app had just arrived
    out = StringIO()
    call_command("certificates", "sync", stdout=out)
    assert out.getvalue().startswith("1 agent(s)")
    assert Certificate.objects.filter(agent=agent, status=CertificateStatus.ACTIVE).count() == 1
    channel.agent_change_status(agent=agent, action="suspend")
    call_command("certificates", "sync", stdout=StringIO())
    assert not Certificate.objects.filter(agent=agent, status=CertificateStatus.ACTIVE).exists()


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_lookups_never_fail(agent, q):  # noqa: F811
    certificates_follow_events()
    for response in (
        Client().get("/verify/", {"q": q}, HTTP_ACCEPT_LANGUAGE="zh-hans"),
        Client().post("/verify/", {"q": q}, HTTP_ACCEPT_LANGUAGE="zh-hans"),
        Client().get("/api/v1/public/verify/certificate", {"q": q}, HTTP_ACCEPT_LANGUAGE="zh-hans"),
    ):
        assert response.status_code in (200, 400, 422), (q, response.status_code)
        body = response.content.decode()
        assert agent.phone not in body and agent.real_name not in body
        if response.status_code == 200 and response["Content-Type"].startswith("application/json"):
            assert response.json()["authorized"] is False


def test_a_reissue_is_audited_with_who_and_why(agent):  # noqa: F811
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from weishang.core.roles import role_group_name, roles_sync

    certificates_follow_events()
    old = Certificate.objects.get(agent=agent, status=CertificateStatus.ACTIVE)
    roles_sync()
    owner = get_user_model().objects.create_user(username="owner-audit", password="staff-pass-123", is_staff=True)
    owner.groups.add(Group.objects.get(name=role_group_name("owner")))
    console = Client()
    console.force_login(owner)
    answer = console.post(f"/console/certificates/certificate/{old.pk}/reissue/", {"reason": "纸质授权书丢失"})
    assert answer.status_code == 302
    new = Certificate.objects.get(agent=agent, status=CertificateStatus.ACTIVE)
    entries = {e.object_id: e for e in LogEntry.objects.filter(user=owner)}
    assert new.serial in entries[str(old.pk)].change_message and "纸质授权书丢失" in entries[str(old.pk)].change_message
    assert old.serial in entries[str(new.pk)].change_message
    history = console.get(f"/console/certificates/certificate/{old.pk}/history/").content.decode()
    assert "纸质授权书丢失" in history and "owner-audit" in history
