"""My team (/m/team/): an agent sees their direct referrals or their whole team, by level, each
with level, join date, masked phone and this month's purchases; searches by name or phone digits
(a plain form, and an htmx fragment as they type); never sees anyone outside their own team; the
page costs the same number of queries for 3 members as for 30."""

from __future__ import annotations

import importlib.util
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from weishang.trade.models import Order
from weishang.web.views import TEAM_PAGE_SIZE

_spec = importlib.util.spec_from_file_location(
    "rewards_conftest", Path(__file__).resolve().parents[1] / "rewards" / "conftest.py"
)
_rewards = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rewards)
catalog, r = _rewards.catalog, _rewards.r

PASSWORD = "pass-word-1"


def login(agent, *, language: str | None = None) -> Client:
    client = Client()
    assert client.login(username=agent.phone, password=PASSWORD)
    if language:
        client.cookies["django_language"] = language
    return client


def html(response) -> str:
    return response.content.decode()


def members(text: str) -> list[str]:
    """The names listed, in order."""
    return re.findall(r'<li data-testid="member">.*?<strong>([^<]+)</strong>', text, re.S)


def member_row(text: str, name: str) -> str:
    rows = re.findall(r'<li data-testid="member">.*?</li>', text, re.S)
    return next(row for row in rows if f"<strong>{name}</strong>" in row)


@pytest.fixture
def team(catalog, make_agent, r):
    """省代周强 (who has stock) recruited 市代王芳; 王芳 recruited 特约李娜 (13800000006) and 特约张伟;
    李娜 recruited 特约陈静. Apart: 市代赵敏, recruited by 周强 too — not in 王芳's team."""
    boss = make_agent("province", real_name="省代周强")
    leader = make_agent("city", referrer=boss, real_name="市代王芳")
    lina = make_agent("vip", referrer=leader, real_name="特约李娜", phone="13800000006")
    zhang = make_agent("vip", referrer=leader, real_name="特约张伟", phone="13900001234")
    chen = make_agent("vip", referrer=lina, real_name="特约陈静", phone="13700009999")
    outsider = make_agent("city", referrer=boss, real_name="市代赵敏", phone="13600005555")
    r.receive(leader, catalog.skus["GLOW-50G"], 100)
    r.receive(boss, catalog.skus["GLOW-50G"], 100)
    return boss, leader, lina, zhang, chen, outsider


def test_direct_members_with_level_join_date_masked_phone_and_this_months_purchases(team, r):
    _boss, leader, lina, zhang, _chen, _outsider = team
    r.complete(lina, [("GLOW-50G", 10)])  # 10 × ¥158.40 (198 × 0.80) = ¥1,584.00, filled by 王芳
    last_month = r.complete(zhang, [("GLOW-50G", 5)])
    Order.objects.filter(pk=last_month.pk).update(completed_at=timezone.now() - timedelta(days=40))

    text = html(login(leader, language="en").get("/m/team/"))
    assert members(text) == ["特约李娜", "特约张伟"]  # direct only: 陈静 is 李娜's
    row = member_row(text, "特约李娜")
    assert 'data-testid="phone">138****0006<' in row
    assert "13800000006" not in text  # the whole number is never on the page
    assert "特约" in row and f"Joined {timezone.localtime(lina.joined_at):%Y-%m-%d}" in row
    assert 'data-testid="month-purchases">¥1584.00<' in row
    assert "team of 2" in row  # 李娜 and 陈静
    # 张伟's order was completed 40 days ago: not this month's.
    assert 'data-testid="month-purchases">¥0.00<' in member_row(text, "特约张伟")
    assert "4 members, the leader included." in text


def test_whole_team_by_level_with_generations(team, make_agent):
    _boss, leader, lina, zhang, chen, _outsider = team
    client = login(leader, language="en")
    text = html(client.get("/m/team/?show=all"))
    assert members(text) == ["特约李娜", "特约张伟", "特约陈静"]  # one level: nearer generation first
    assert "generation 2" in member_row(text, "特约陈静") and "generation 1" in member_row(text, "特约李娜")

    # A 市代 recruited by 王芳 (supplied from higher up): listed first, the higher level.
    make_agent("city", referrer=leader, real_name="市代孙丽")
    text = html(client.get("/m/team/?show=all"))
    assert members(text) == ["市代孙丽", "特约李娜", "特约张伟", "特约陈静"]
    counts = re.search(r'data-testid="level-counts">(.*?)</ul>', text, re.S).group(1)
    assert re.findall(r'<span class="badge">([^<]+)</span> (\d+)</a>', counts) == [("市代", "1"), ("特约", "3")]
    assert members(html(client.get("/m/team/?show=all&level=vip"))) == ["特约李娜", "特约张伟", "特约陈静"]
    assert members(html(client.get("/m/team/?show=all&level=city"))) == ["市代孙丽"]
    assert members(html(client.get("/m/team/?level=vip"))) == ["特约李娜", "特约张伟"]  # direct ones only


def test_search_by_name_or_phone_digits(team):
    _boss, leader, *_ = team
    client = login(leader, language="en")
    assert members(html(client.get("/m/team/?q=张伟"))) == ["特约张伟"]
    assert members(html(client.get("/m/team/?q=0006"))) == ["特约李娜"]
    assert members(html(client.get("/m/team/?q=１３９"))) == ["特约张伟"]  # full-width digits, as typed in Chinese
    # 陈静 is in the team but not a direct referral: found only in the whole team.
    assert members(html(client.get("/m/team/?q=9999"))) == []
    text = html(client.get("/m/team/?show=all&q=9999"))
    assert members(text) == ["特约陈静"] and "1 member matches." in text
    text = html(client.get("/m/team/?q=nobody"))
    assert members(text) == [] and "No one in this team matches." in text


def test_the_search_works_as_a_plain_form_and_as_you_type_with_htmx(team):
    _boss, leader, *_ = team
    client = login(leader, language="en")
    page = html(client.get("/m/team/?q=李娜"))
    form = re.search(r'<form method="get" class="search" role="search".*?</form>', page, re.S).group(0)
    assert '<label for="team-q">' in form and 'id="team-q" name="q" value="李娜"' in form
    assert '<label for="team-level">' in form and '<button type="submit">' in form
    assert 'hx-get="/m/team/"' in form and 'hx-target="#team-results"' in form and "input changed" in form
    assert 'id="team-results" aria-live="polite"' in page

    fragment = client.get("/m/team/?q=张伟", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "HX-Request" in fragment["Vary"]
    text = html(fragment)
    assert "<html" not in text and "<form" not in text  # only the list, swapped into #team-results
    assert members(text) == ["特约张伟"]
    # Back or reload after htmx pushed the URL: the whole page again.
    restore = html(client.get("/m/team/?q=张伟", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}))
    assert "<html" in restore and members(restore) == ["特约张伟"]


def test_another_teams_ids_are_not_found(team):
    boss, leader, lina, _zhang, chen, outsider = team
    client = login(leader)
    assert client.get(f"/m/team/{lina.pk}/").status_code == 200
    assert members(html(client.get(f"/m/team/{lina.pk}/"))) == ["特约陈静"]
    assert client.get(f"/m/team/{chen.pk}/").status_code == 200  # two levels down: still my team
    assert client.get(f"/m/team/{outsider.pk}/").status_code == 404  # a peer's team
    assert client.get(f"/m/team/{boss.pk}/").status_code == 404  # my upline's
    assert client.get(f"/m/team/{boss.pk}/?show=all").status_code == 404
    assert client.get("/m/team/999999/").status_code == 404
    # Filters never widen the team: the outsider is not found by name or phone.
    assert members(html(client.get("/m/team/?show=all&q=赵敏"))) == []
    assert members(html(client.get("/m/team/?show=all&q=5555"))) == []
    # 李娜 sees her own team only, not her upline's other referrals.
    lina_client = login(lina)
    assert lina_client.get(f"/m/team/{leader.pk}/").status_code == 404
    assert members(html(lina_client.get("/m/team/?show=all"))) == ["特约陈静"]


def test_bad_query_input_is_harmless(team):
    _boss, leader, *_ = team
    client = login(leader)
    for query in (
        "?page=abc",
        "?page=-1",
        "?page=99999999999",
        "?level=%00",
        "?q=" + "x" * 500,
        "?show=everything",
        "?q=%27%20OR%201=1--",
        "?q=%00",
        "?q=%E6%9D%8E%00",
        "?level=vip%00",
    ):
        assert client.get("/m/team/" + query).status_code == 200, query


def test_a_page_of_3_members_costs_as_many_queries_as_a_page_of_30(catalog, make_agent, r):
    def leader_with(n: int) -> Client:
        leader = make_agent("city")
        r.receive(leader, catalog.skus["GLOW-50G"], 10 * n)
        for i in range(n):
            member = make_agent("vip", referrer=leader)
            make_agent("vip", referrer=member)
            if i % 3 == 0:
                r.complete(member, [("GLOW-50G", 1)])
        return login(leader)

    counts = []
    for n in (3, 30):
        client = leader_with(n)
        for url in ("/m/team/", "/m/team/?show=all", "/m/team/?show=all&q=代理"):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200
            listed = html(response).count('data-testid="member"')
            assert listed == min(n if url == "/m/team/" else 2 * n, TEAM_PAGE_SIZE)
            counts.append((url, len(queries)))
    assert counts[:3] == [(url, q) for url, q in counts[3:]], counts


def test_chinese_by_default_and_english_on_the_switch(team):
    _boss, leader, *_ = team
    client = login(leader)
    text = html(client.get("/m/team/"))
    assert 'lang="zh-hans"' in text
    assert "我的团队" in text and "直推人数" in text and "加入" in text and "等级" in text
    assert "My team" not in text and "Joined" not in text
    client.post("/i18n/setlang/", {"language": "en", "next": "/m/team/"})
    text = html(client.get("/m/team/"))
    assert 'lang="en"' in text
    for words in (
        "My team",
        "Direct referrals",
        "Whole team",
        "Search by name or phone digits",
        "All levels",
        "Purchases this month",
        "Joined",
    ):
        assert words in text, words
