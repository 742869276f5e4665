"""Chinese first, English available: the pages a user sees are in the language they chose."""

from __future__ import annotations

import pytest
from django.utils import translation

ENGLISH_ON_HOME = ["Team members", "Direct referrals", "My uplines", "Supplier", "Referrer", "Invite code", "Rewards"]
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
    html = client.post(
        "/join/", {"real_name": "王静", "phone": "12345", "level": "vip", "password": "long-enough-1"}
    ).content.decode()
    assert "11 位" in html or "11位" in html
    client.cookies["django_language"] = "en"
    html = client.post(
        "/join/", {"real_name": "王静", "phone": "12345", "level": "vip", "password": "long-enough-1"}
    ).content.decode()
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


def _po_entries(path):
    """(msgid, translated?, fuzzy?) for every entry of a .po file but the header (a small reader:
    the test needs no gettext tools)."""
    import re

    entries, block = [], []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.strip():
            block.append(line)
            continue
        if block:
            text = "\n".join(block)
            fuzzy = bool(re.search(r"^#,.*\bfuzzy\b", text, re.M))
            obsolete = all(row.startswith("#") for row in block)
            msgid = "".join(re.findall(r'^(?:msgid|msgid_plural)?\s*"(.*)"$', text.split("msgstr")[0], re.M))
            msgstrs = re.findall(r'^msgstr(?:\[\d\])? "(.*)"\n?((?:".*"\n?)*)', text + "\n", re.M)
            translated = all((head + body).replace('"', "").replace("\n", "").strip() for head, body in msgstrs)
            if msgid and not obsolete:
                entries.append((msgid, translated, fuzzy))
            block = []
    return entries


def test_every_message_has_its_chinese_translation():
    from pathlib import Path

    import weishang

    po = Path(weishang.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    missing = [msgid for msgid, translated, fuzzy in _po_entries(po) if not translated or fuzzy]
    assert missing == [], f"{len(missing)} message(s) without a Chinese translation, e.g. {missing[:5]}"
