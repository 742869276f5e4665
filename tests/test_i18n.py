"""Chinese first, English available: the pages a user sees are in the language they chose."""

from __future__ import annotations

import pytest
from django.utils import translation

ENGLISH_ON_HOME = ["Team members", "Direct referrals", "My uplines", "Supplier", "Referrer", "Invite code", "Log out"]
CHINESE_ON_HOME = ["团队", "直推", "发货上级", "推荐人", "邀请码"]


@pytest.fixture
def agent_client(client, make_agent):
    agent = make_agent("city", password="pass-word-1")
    assert client.login(username=agent.phone, password="pass-word-1")
    return client


def test_phone_pages_are_chinese_by_default(agent_client):
    html = agent_client.get("/m/").content.decode()
    assert 'lang="zh-hans"' in html
    for text in CHINESE_ON_HOME:
        assert text in html
    for text in ENGLISH_ON_HOME:
        assert text not in html


def test_switching_to_english(agent_client):
    response = agent_client.post("/i18n/setlang/", {"language": "en", "next": "/m/"})
    assert response.status_code == 302
    html = agent_client.get("/m/").content.decode()
    assert 'lang="en"' in html
    for text in ENGLISH_ON_HOME:
        assert text in html


def test_join_form_errors_are_in_the_users_language(client, levels):
    html = client.post("/join/", {"real_name": "王静", "phone": "12345", "level": "vip",
                                  "password": "long-enough-1"}).content.decode()
    assert "11 位" in html or "11位" in html
    client.cookies["django_language"] = "en"
    html = client.post("/join/", {"real_name": "王静", "phone": "12345", "level": "vip",
                                  "password": "long-enough-1"}).content.decode()
    assert "11-digit" in html


def test_console_is_chinese_for_staff(admin_client):
    html = admin_client.get("/console/").content.decode()
    assert "代理" in html and "拿货价" in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_status_has_a_label(language):
    from weishang.channel.models import AgentStatus, ApplicationStatus

    with translation.override(language):
        for choices in (AgentStatus, ApplicationStatus):
            for value, label in choices.choices:
                assert str(label).strip() and str(label) != value


def test_an_english_browser_still_gets_chinese_until_the_user_switches(client, make_agent):
    agent = make_agent("vip", password="pass-word-1")
    client.login(username=agent.phone, password="pass-word-1")
    html = client.get("/m/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/m/"})
    html = client.get("/m/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert 'lang="en"' in html
