"""My leads through the API (M10): add, list, follow up; another agent's lead is 404; bad bodies
are 4xx with field errors in Chinese and change nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from weishang.leads.models import Lead, LeadStage

pytestmark = pytest.mark.django_db


def client_for(agent) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(agent.user)
    return client


def test_add_list_and_follow_up(make_agent):
    me = make_agent("city")
    api = client_for(me)
    made = api.post(
        "/api/v1/leads",
        {"name": "林静", "phone": "13833334444", "channel": "referral", "note": "老客户介绍"},
        content_type="application/json",
    )
    assert made.status_code == 201 and made.json()["stage"] == "new"
    lead_id = made.json()["id"]
    listed = api.get("/api/v1/leads").json()
    assert [row["name"] for row in listed["results"]] == ["林静"]
    moved = api.post(
        f"/api/v1/leads/{lead_id}/follow-ups",
        {"text": "约了招商会", "stage": "invited"},
        content_type="application/json",
    )
    assert moved.status_code == 200 and moved.json()["stage_name"] == "已邀约"
    detail = api.get(f"/api/v1/leads/{lead_id}").json()
    assert [n["text"] for n in detail["history"]][:2] == ["约了招商会", "老客户介绍"]
    again = api.post("/api/v1/leads", {"name": "林静", "phone": "13833334444"}, content_type="application/json")
    assert again.status_code == 409 and "已是线索" in again.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "phone": "13833335555"}, "name"),
        ({"name": "甲", "phone": "123"}, "phone"),
        ({"name": "甲"}, "phone"),
        ({"name": "甲", "phone": "13833335555", "channel": "tv"}, "channel"),
        ({"name": "甲", "phone": "13833335555", "region": "../../"}, "region"),
        ({"name": "甲" * 51, "phone": "13833335555"}, "name"),
    ],
)
def test_bad_bodies_are_refused_with_fields(make_agent, body, field):
    response = client_for(make_agent("city")).post("/api/v1/leads", body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert field in response.json()["error"]["fields"]
    assert Lead.objects.count() == 0


def test_another_agents_lead_is_not_found(make_agent):
    owner, other = make_agent("city"), make_agent("city")
    made = client_for(owner).post(
        "/api/v1/leads", {"name": "甲", "phone": "13833336666"}, content_type="application/json"
    )
    lead_id = made.json()["id"]
    api = client_for(other)
    assert api.get(f"/api/v1/leads/{lead_id}").status_code == 404
    moved = api.post(
        f"/api/v1/leads/{lead_id}/follow-ups", {"text": "x", "stage": "lost"}, content_type="application/json"
    )
    assert moved.status_code == 404
    assert Lead.objects.get().stage == LeadStage.NEW
    assert Client().get("/api/v1/leads").status_code == 401
