"""Leads in the console (M10): operations add a lead, follow it up, import a file through its
preview (the refused rows listed with their reasons), record a placement's spend, and read the
channel report; finance reads the report but not the leads; the warehouse and agents see none."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from weishang.core.roles import roles_sync
from weishang.leads.models import AdFormat, AdPlacement, AdPricing, AdSpend, Lead, LeadChannel, LeadStage

pytestmark = pytest.mark.django_db
STAFF_PASSWORD = "staff-pass-123"


@pytest.fixture
def staff(db, django_user_model):
    groups = roles_sync()
    made: dict[str, Client] = {}

    def make(role: str) -> Client:
        if role in made:
            return made[role]
        user = django_user_model.objects.create_user(username=f"{role}-user", password=STAFF_PASSWORD, is_staff=True)
        user.groups.add(groups[role])
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        client.force_login(user)
        made[role] = client
        return client

    return make


@pytest.fixture
def placement(db):
    return AdPlacement.objects.create(
        code="douyin-1",
        name="抖音短视频",
        channel=LeadChannel.SHORT_VIDEO,
        platform="抖音",
        format=AdFormat.SHORT_VIDEO,
        pricing=AdPricing.BID,
        price=Decimal("0.80"),
        starts_on=date(2026, 11, 1),
    )


def test_operations_add_a_lead_and_follow_it_up(staff, clock):
    clock.freeze(datetime(2026, 11, 20, 10, 0))
    ops = staff("operations")
    added = ops.post(
        "/console/leads/lead/add/",
        {"name": "吴敏", "phone": "13811112222", "wechat_id": "", "channel": "forum", "note": "贴吧私信咨询"},
    )
    assert added.status_code == 302
    lead = Lead.objects.get(phone="13811112222")
    page = ops.get(f"/console/leads/lead/{lead.pk}/change/").content.decode()
    assert "贴吧私信咨询" in page and "记录跟进" in page
    ops.post(
        f"/console/leads/lead/{lead.pk}/follow/",
        {"text": "电话沟通，约周六沙龙", "stage": "invited", "remind_at_0": "2026-11-22", "remind_at_1": "09:00"},
    )
    lead.refresh_from_db()
    assert lead.stage == LeadStage.INVITED and lead.remind_at is not None
    again = ops.post("/console/leads/lead/add/", {"name": "吴敏2", "phone": "13811112222", "channel": "forum"})
    assert Lead.objects.count() == 1  # the same phone is refused, nothing created
    assert again.status_code == 200 and "此人已是线索" in again.content.decode()
    no_contact = ops.post("/console/leads/lead/add/", {"name": "无名", "channel": "forum"})
    assert no_contact.status_code == 200 and "请填写手机号或微信号" in no_contact.content.decode()


def test_an_import_is_previewed_with_reasons_then_applied(staff):
    ops = staff("operations")
    content = "姓名,手机,渠道\n甲,13811113333,短视频\n乙,123,短视频\n".encode()
    upload = ops.post("/console/leads/lead/import/", {"file": SimpleUploadedFile("名单.csv", content)})
    assert upload.status_code == 302
    preview = ops.get(upload["Location"]).content.decode()
    assert "不是 11 位手机号" in preview and "将添加 1 行，拒绝 1 行" in preview
    assert Lead.objects.count() == 0
    ops.post(upload["Location"])
    assert list(Lead.objects.values_list("name", flat=True)) == ["甲"]
    bad = ops.post("/console/leads/lead/import/", {"file": SimpleUploadedFile("x.exe", b"MZ\x90\x00")})
    assert bad.status_code == 400 and "请上传 .csv 或 .xlsx 文件" in bad.content.decode()


def test_spend_and_the_channel_report(staff, placement, clock):
    clock.freeze(datetime(2026, 11, 20, 10, 0))
    ops = staff("operations")
    ops.post(
        f"/console/leads/adplacement/{placement.pk}/spend/", {"day": "2026-11-19", "amount": "300", "clicks": "40"}
    )
    ops.post(f"/console/leads/adplacement/{placement.pk}/spend/", {"day": "2026-11-19", "amount": "abc"})
    assert list(AdSpend.objects.values_list("amount", flat=True)) == [Decimal("300.00")]
    page = ops.get(f"/console/leads/adplacement/{placement.pk}/change/").content.decode()
    assert "/join/?src=douyin-1" in page
    Lead.objects.create(name="甲", phone="13811114444", channel=LeadChannel.SHORT_VIDEO, placement=placement)
    Lead.objects.create(name="乙", phone="13811115555", channel=LeadChannel.SHORT_VIDEO, placement=placement)
    report = staff("finance").get("/console/leads/lead/report/?month=2026-11").content.decode()
    assert "短视频" in report and "300.00" in report and "150.00" in report  # cost per lead
    assert staff("finance").get("/console/leads/lead/report/?month=../../x").status_code == 200


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        ("finance", "/console/leads/lead/", 403),
        ("finance", "/console/leads/lead/import/", 403),
        ("warehouse", "/console/leads/lead/report/", 403),
        ("warehouse", "/console/leads/adplacement/", 403),
        ("lecturer", "/console/leads/lead/", 403),
        ("finance", "/console/leads/adplacement/", 200),
    ],
)
def test_who_may_open_what(staff, role, url, status):
    assert staff(role).get(url).status_code == status


def test_an_agent_never_reaches_the_console(make_agent):
    agent = make_agent("city")
    client = Client()
    client.force_login(agent.user)
    assert client.get("/console/leads/lead/").status_code == 302  # to the console's login
