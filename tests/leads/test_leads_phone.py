"""An agent's leads on the phone (M10): add one, see it under its stage, record a follow-up with a
reminder that shows on the home page's to-do when it is due; another agent's lead is a 404 and
bad input is shown on the form, changing nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.test import Client

from weishang.leads.models import Lead, LeadNote, LeadStage

pytestmark = pytest.mark.django_db


def phone_client(agent) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(agent.user)
    return client


def test_an_agent_adds_and_follows_up_a_lead(make_agent, clock):
    clock.freeze(datetime(2026, 11, 20, 10, 0))
    me = make_agent("city")
    client = phone_client(me)
    assert "我的意向客户" in client.get("/m/me/").content.decode()
    made = client.post(
        "/m/leads/",
        {"name": "陈丽", "phone": "13822223333", "channel": "own_network", "note": "老同事", "region_1": ""},
    )
    assert made.status_code == 302
    lead = Lead.objects.get(phone="13822223333")
    assert lead.owner_agent == me and lead.stage == LeadStage.NEW
    page = client.get("/m/leads/?stage=new").content.decode()
    assert "陈丽" in page and "老同事" not in page
    followed = client.post(
        f"/m/leads/{lead.pk}/", {"text": "约了周六沙龙", "stage": "invited", "remind_at": "2026-11-21T09:00"}
    )
    assert followed.status_code == 302
    lead.refresh_from_db()
    assert lead.stage == LeadStage.INVITED
    assert "待跟进的意向客户" not in client.get("/m/").content.decode()
    clock.freeze(datetime(2026, 11, 21, 9, 30))
    home = client.get("/m/").content.decode()
    assert "待跟进的意向客户" in home
    assert "该跟进了" in client.get("/m/leads/").content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "phone": "13822224444", "channel": "own_network"}, "此项必填"),
        ({"name": "甲", "phone": "12", "channel": "own_network"}, "11 位"),
        ({"name": "甲", "phone": "", "wechat_id": "", "channel": "own_network"}, "请填写手机号或微信号"),
        ({"name": "甲", "phone": "13822224444", "channel": "feed_ads"}, "选择一个有效的选项"),
        ({"name": "甲", "phone": "13822224444", "channel": "own_network", "remind_at": "明天"}, "有效的日期/时间"),
    ],
)
def test_bad_input_is_shown_on_the_form(make_agent, data, message):
    client = phone_client(make_agent("city"))
    response = client.post("/m/leads/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert Lead.objects.count() == 0


def test_another_agents_lead_is_not_there(make_agent):
    owner, other = make_agent("city"), make_agent("city")
    phone_client(owner).post("/m/leads/", {"name": "甲", "phone": "13822225555", "channel": "own_network"})
    lead = Lead.objects.get()
    client = phone_client(other)
    assert client.get(f"/m/leads/{lead.pk}/").status_code == 404
    assert client.post(f"/m/leads/{lead.pk}/", {"text": "抢客户", "stage": "lost"}).status_code == 404
    assert "甲" not in client.get("/m/leads/").content.decode()
    assert LeadNote.objects.filter(text="抢客户").count() == 0
    assert Client().get("/m/leads/").status_code == 302  # to the login
