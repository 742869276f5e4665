"""My team and my applicants through the API: direct members or the whole team, by level, searched
by name or phone digits, each with a masked phone and this month's purchases; one member with the
agents between us and their own referrals; pages walked with a cursor; nobody outside my team (nor
my own upline) can be read by id, and applications that are not mine to decide are not found."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from weishang.api.services import token_create
from weishang.channel import services as channel_services
from weishang.channel.models import Agent, Application, ApplicationStatus
from weishang.trade.models import Order

from .conftest import assert_matches_spec, error_of

_spec = importlib.util.spec_from_file_location(
    "rewards_conftest_team_api", Path(__file__).resolve().parents[1] / "rewards" / "conftest.py"
)
_rewards = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rewards)
catalog, r = _rewards.catalog, _rewards.r


def token_of(agent) -> str:
    return token_create(user=agent.user, device="测试")[1]


def path_of(url: str) -> str:
    """A ``next`` / ``previous`` link as a path under /api/v1 for the test client."""
    return url.split("/api/v1", 1)[1]


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
    return boss, leader, lina, zhang, chen, outsider


def names(response) -> list[str]:
    return [m["real_name"] for m in response.json()["results"]]


def test_direct_members_with_masked_phone_and_this_months_purchases(api, team, r):
    _boss, leader, lina, zhang, _chen, _outsider = team
    r.complete(lina, [("GLOW-50G", 10)])  # 10 × ¥158.40 (198 × 0.80) = ¥1,584.00, filled by 王芳
    last_month = r.complete(zhang, [("GLOW-50G", 5)])
    Order.objects.filter(pk=last_month.pk).update(completed_at=timezone.now() - timedelta(days=40))

    response = api(token=token_of(leader)).get("/team")
    assert response.status_code == 200
    assert_matches_spec(response, "get", "/team")
    body = response.json()
    assert body["next"] is None and body["previous"] is None
    assert names(response) == ["特约张伟", "特约李娜"]  # direct only (陈静 is 李娜's), newest first
    row = body["results"][1]
    assert row == {
        "id": lina.pk,
        "real_name": "特约李娜",
        "phone_masked": "138****0006",
        "level": "vip",
        "level_name": "特约",
        "status": "active",
        "joined_at": row["joined_at"],
        "team_size": 2,
        "generation": 1,
        "purchases_this_month": "1584.00",
    }
    assert row["joined_at"].startswith(f"{timezone.localtime(lina.joined_at):%Y-%m-%d}")  # API times are China time
    assert body["results"][0]["purchases_this_month"] == "0.00"  # 张伟's order completed last month
    assert "13800000006" not in response.content.decode()


def test_whole_team_by_level_and_search(api, team):
    _boss, leader, lina, zhang, chen, _outsider = team
    client = api(token=token_of(leader))
    whole = client.get("/team", {"whole": "true"})
    assert names(whole) == ["特约陈静", "特约张伟", "特约李娜"]
    assert {m["real_name"]: m["generation"] for m in whole.json()["results"]} == {
        "特约陈静": 2,
        "特约张伟": 1,
        "特约李娜": 1,
    }
    assert names(client.get("/team", {"whole": "true", "level": "vip"})) == ["特约陈静", "特约张伟", "特约李娜"]
    assert names(client.get("/team", {"whole": "true", "level": "city"})) == []
    assert names(client.get("/team", {"whole": "true", "q": "陈"})) == ["特约陈静"]
    assert names(client.get("/team", {"whole": "true", "q": "1234"})) == ["特约张伟"]  # phone digits
    assert names(client.get("/team", {"whole": "true", "q": "１３７ ０００"})) == ["特约陈静"]  # full-width, spaces
    assert names(client.get("/team", {"q": "陈"})) == []  # 陈静 is not a direct referral
    assert names(client.get("/team", {"whole": "true", "q": "5555"})) == []  # 赵敏 is not in my team
    # The deprecated /me/team is the same list.
    mine = client.get("/me/team", {"whole": "true"})
    assert mine.json() == whole.json()
    assert_matches_spec(mine, "get", "/me/team")


def test_a_member_of_my_team_with_the_agents_between_us(api, team):
    _boss, leader, lina, _zhang, chen, _outsider = team
    client = api(token=token_of(leader), language="en")
    response = client.get(f"/team/{chen.pk}")
    assert_matches_spec(response, "get", "/team/{agent_id}")
    body = response.json()
    assert body["member"]["id"] == chen.pk and body["member"]["generation"] == 2
    assert body["member"]["phone_masked"] == "137****9999"
    assert body["referrer_id"] == lina.pk
    assert body["chain"] == [{"id": lina.pk, "real_name": "特约李娜", "level_name": "特约"}]
    assert (body["team_size"], body["members"], body["members_total"], body["level_counts"]) == (1, [], 0, [])

    body = client.get(f"/team/{lina.pk}").json()
    assert body["chain"] == [] and body["team_size"] == 2
    assert [m["id"] for m in body["members"]] == [chen.pk] and body["members_total"] == 1
    assert body["level_counts"] == [{"level": "vip", "level_name": "特约", "count": 1}]
    # Their own team, paged like mine.
    assert names(client.get("/team", {"of": lina.pk})) == ["特约陈静"]

    me = client.get(f"/team/{leader.pk}").json()
    assert me["member"]["generation"] == 0 and me["team_size"] == 4 and me["members_total"] == 2


def test_nobody_outside_my_team_can_be_read_by_id(api, team):
    boss, leader, lina, _zhang, chen, outsider = team
    client = api(token=token_of(leader))
    for agent_id in (outsider.pk, boss.pk, 999999):  # a stranger, my own referrer, no one
        response = client.get(f"/team/{agent_id}")
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
        assert_matches_spec(response, "get", "/team/{agent_id}")
        response = client.get("/team", {"of": agent_id})
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    # 李娜 sees her own referral, not her referrer's other members.
    lina_client = api(token=token_of(lina))
    assert lina_client.get(f"/team/{chen.pk}").status_code == 200
    assert lina_client.get(f"/team/{leader.pk}").status_code == 404
    for bad in ("0", "-1", "abc", "99999999999999999999999"):
        response = client.get(f"/team/{bad}")
        assert response.status_code in (404, 422), bad
        error_of(response)


def test_a_cursor_walks_45_members_in_pages_of_20(api, make_agent):
    leader = make_agent("city", real_name="团队长")
    members = [make_agent("vip", referrer=leader) for _ in range(45)]
    client = api(token=token_of(leader))
    seen, pages = [], []
    page = client.get("/team", {"page_size": 20}).json()
    while True:
        pages.append(len(page["results"]))
        seen += [m["id"] for m in page["results"]]
        if page["next"] is None:
            break
        page = client.get(path_of(page["next"])).json()
    assert pages == [20, 20, 5]
    assert seen == [m.pk for m in reversed(members)]  # newest first, each once
    # And back: the last page's "previous" leads to the second page.
    back = client.get(path_of(page["previous"])).json()
    assert [m["id"] for m in back["results"]] == seen[20:40]
    # The page size defaults to 20 and is 1 to 100, as the spec says: outside that, a 422 on it.
    assert len(client.get("/team").json()["results"]) == 20
    assert len(client.get("/team", {"page_size": 100}).json()["results"]) == 45
    for size in (0, 101, 1000):
        refused = client.get("/team", {"page_size": size})
        assert refused.status_code == 422 and list(refused.json()["error"]["fields"]) == ["page_size"]
    bad = client.get("/team", {"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and list(error_of(bad)["fields"]) == ["cursor"]
    assert_matches_spec(bad, "get", "/team")


def test_team_needs_an_agent(api, team, django_user_model):
    assert api().get("/team").status_code == 401
    staff = django_user_model.objects.create_user("ops1", password="pass-word-1", is_staff=True)
    response = api(token=token_create(user=staff)[1]).get("/team")
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"


# --- applications waiting for my decision -------------------------------------------------------


def apply(inviter, phone: str, level: str = "vip", name: str = "新人") -> Application:
    return channel_services.application_submit(
        invite_code=inviter.invite_code, phone=phone, real_name=name, level_code=level, password="pass-word-1"
    )


def test_applications_waiting_for_me_and_deciding_them(api, team):
    _boss, leader, lina, _zhang, _chen, outsider = team
    mine = apply(leader, "13700001111", name="新人小美")
    theirs = apply(outsider, "13700002222", name="新人小王")
    client = api(token=token_of(leader))
    response = client.get("/applications")
    assert_matches_spec(response, "get", "/applications")
    body = response.json()
    assert [a["id"] for a in body["results"]] == [mine.pk]
    row = body["results"][0]
    assert row == {
        "id": mine.pk,
        "status": "pending",
        "level": "vip",
        "level_name": "特约",
        "real_name": "新人小美",
        "phone_masked": "137****1111",
        "inviter": "市代王芳",
        "approver": "市代王芳",
        "submitted_at": row["submitted_at"],
    }

    # Someone else's applicant: not found, and nothing changes.
    for verb, data in (("approve", {}), ("reject", {"note": "不合适"})):
        response = client.post(f"/applications/{theirs.pk}/{verb}", data)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
        assert_matches_spec(response, "post", f"/applications/{{application_id}}/{verb}")
    theirs.refresh_from_db()
    assert theirs.status == ApplicationStatus.PENDING and theirs.decided_by is None

    approved = client.post(f"/applications/{mine.pk}/approve", {"note": "欢迎"})
    assert approved.status_code == 200 and approved.json()["real_name"] == "新人小美"
    assert Agent.objects.get(pk=approved.json()["id"]).referrer == leader
    assert client.get("/applications").json()["results"] == []
    again = client.post(f"/applications/{mine.pk}/approve", {})
    assert again.status_code == 409  # mine, already decided: a conflict, not a secret
    assert api(token=token_of(lina)).get("/applications").json()["results"] == []


def test_brand_staff_see_the_applications_addressed_to_the_brand(api, team, django_user_model):
    boss = team[0]
    to_brand = apply(boss, "13700003333", level="general")  # 总代 is approved by brand staff
    apply(boss, "13700004444")  # 特约 is approved by 周强
    staff = django_user_model.objects.create_user("ops1", password="pass-word-1", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="decide_application"))
    response = api(token=token_create(user=staff)[1]).get("/applications")
    assert [a["id"] for a in response.json()["results"]] == [to_brand.pk]
    assert response.json()["results"][0]["approver"] is None


def test_text_no_database_can_store_is_a_422_not_a_500(api, team):
    client = api(token=token_of(team[1]))
    for params, field in (({"q": "陈\x00"}, "q"), ({"level": "\x00"}, "level")):
        response = client.get("/team", params)
        assert response.status_code == 422 and list(error_of(response)["fields"]) == [field]
    theirs = apply(team[5], "13700005555")
    response = client.post(f"/applications/{theirs.pk}/reject", {"note": "\x00"})
    assert response.status_code == 422 and list(error_of(response)["fields"]) == ["note"]


def test_a_page_costs_the_same_queries_for_3_members_as_for_20(api, make_agent, catalog, r):
    def queries(n: int) -> int:
        leader = make_agent("city")
        for _ in range(n):
            member = make_agent("vip", referrer=leader)
            make_agent("vip", referrer=member)
        client = api(token=token_of(leader))
        with CaptureQueriesContext(connection) as captured:
            assert len(client.get("/team", {"whole": "true"}).json()["results"]) == min(2 * n, 20)
        return len(captured)

    assert queries(3) == queries(10)
