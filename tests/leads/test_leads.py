"""Leads (M10): captured by themselves from an application through an invite or tracked link,
converted when the person joins, followed up with dated notes and reminders, imported from a
file with a preview, and counted per channel and month against the ad spend."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from openpyxl import Workbook

from weishang.channel import services as channel_services
from weishang.core import clock as the_clock
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.leads import selectors
from weishang.leads.models import AdFormat, AdPlacement, AdPricing, Lead, LeadChannel, LeadStage
from weishang.leads.services import (
    ad_spend_record,
    lead_assign,
    lead_capture,
    lead_create,
    lead_follow_up,
    leads_follow_events,
    leads_import_apply,
    leads_import_preview,
)

pytestmark = pytest.mark.django_db


def staff():
    User = get_user_model()
    return User.objects.filter(username="ops").first() or User.objects.create_superuser(
        username="ops", password="pass-word-1", phone="13000000002"
    )


def placement(code="toutiao-nov", channel=LeadChannel.FEED_ADS) -> AdPlacement:
    return AdPlacement.objects.create(
        code=code,
        name="头条信息流",
        channel=channel,
        platform="今日头条",
        format=AdFormat.FEED_ARTICLE,
        pricing=AdPricing.BID,
        price=Decimal("1.20"),
        starts_on=date(2026, 11, 1),
    )


def test_a_phone_is_one_lead_and_the_stage_only_moves_forward():
    lead = lead_capture(name="王芳", phone="138 0013 8000", channel=LeadChannel.FORUM, stage=LeadStage.INVITED)
    again = lead_capture(name="王芳", phone="+8613800138000", channel=LeadChannel.SHORT_VIDEO, stage=LeadStage.NEW)
    assert again.pk == lead.pk
    again.refresh_from_db()
    assert again.stage == LeadStage.INVITED  # not moved back
    assert again.channel == LeadChannel.FORUM  # the first touch brought them
    lead_capture(name="王芳", phone="13800138000", stage=LeadStage.ATTENDED)
    again.refresh_from_db()
    assert again.stage == LeadStage.ATTENDED
    assert [n.stage_to for n in selectors.lead_history(again)][:2] == [LeadStage.ATTENDED, LeadStage.INVITED]
    assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"name": "", "phone": "13800138000"}, "name"),
        ({"name": "甲", "phone": "12345"}, "phone"),
        ({"name": "甲"}, "phone"),
        ({"name": "甲", "wechat_id": "a b"}, "wechat_id"),
        ({"name": "甲", "phone": "13800138000", "channel": "tv"}, "channel"),
        ({"name": "甲", "phone": "13800138000", "region": "../../etc"}, "region"),
    ],
)
def test_bad_leads_are_refused_with_their_field(kw, field):
    kw = {"channel": LeadChannel.OTHER, **kw}
    with pytest.raises(BusinessError) as exc:
        lead_create(by=staff(), **kw)
    assert exc.value.field == field
    assert Lead.objects.count() == 0


def test_a_known_person_is_refused_naming_who_follows_them(make_agent):
    owner = make_agent("city", real_name="李市代")
    lead_create(name="张三", phone="13800138001", channel=LeadChannel.OWN_NETWORK, owner_agent=owner, by=owner.user)
    with pytest.raises(Conflict) as exc:
        lead_create(name="张三三", phone="13800138001", channel=LeadChannel.FORUM, by=staff())
    assert "李市代" in str(exc.value.message)


def test_an_invite_application_becomes_a_referral_lead_and_joining_converts_it(make_agent, levels):
    inviter = make_agent("city")
    plc = placement()
    application = channel_services.application_submit(
        invite_code=inviter.invite_code,
        phone="13900000001",
        real_name="赵六",
        level_code="vip",
        password="pass-word-1",
        source="toutiao-nov",
    )
    leads_follow_events()  # the outbox consumer (on commit in production)
    lead = Lead.objects.get(phone="13900000001")
    assert (lead.stage, lead.owner_agent, lead.placement, lead.channel) == (
        LeadStage.INVITED,
        inviter,
        plc,
        LeadChannel.FEED_ADS,
    )
    agent = channel_services.application_approve(application=application, by=staff())
    leads_follow_events()
    assert Lead.objects.get(pk=lead.pk).stage == LeadStage.INVITED  # approved, the entry order not yet paid
    agent = channel_services.agent_change_status(agent=agent, action="activate", by=staff())
    leads_follow_events()
    lead.refresh_from_db()
    assert lead.stage == LeadStage.CONVERTED
    assert lead.agent == agent


def test_a_hostile_source_parameter_is_dropped(make_agent, levels):
    application = channel_services.application_submit(
        invite_code=None,
        phone="13900000002",
        real_name="钱七",
        level_code="vip",
        password="pass-word-1",
        source="<script>alert(1)</script>",
    )
    assert application.source == ""
    leads_follow_events()
    assert Lead.objects.get(phone="13900000002").channel == LeadChannel.OTHER


def test_follow_up_notes_reminders_and_stages(make_agent, clock):
    clock.freeze(datetime(2026, 11, 10, 9, 0))
    owner = make_agent("city")
    other = make_agent("city")
    lead = lead_create(
        name="孙八", phone="13800138002", channel=LeadChannel.OWN_NETWORK, owner_agent=owner, by=owner.user
    )
    with pytest.raises(Forbidden):
        lead_follow_up(lead=lead, by=other.user, text="我也想跟")
    with pytest.raises(BusinessError):
        lead_follow_up(lead=lead, by=owner.user, text="  ")
    with pytest.raises(BusinessError):
        lead_follow_up(
            lead=lead, by=owner.user, text="明天再打", remind_at=datetime(2026, 11, 9, tzinfo=the_clock.now().tzinfo)
        )
    lead = lead_follow_up(
        lead=lead,
        by=owner.user,
        text="加了微信，约周六沙龙",
        stage=LeadStage.INVITED,
        remind_at=the_clock.now() + timedelta(days=1),
    )
    assert lead.stage == LeadStage.INVITED
    assert list(selectors.reminders_due(agent=owner)) == []
    clock.advance(timedelta(days=1, minutes=1))
    assert list(selectors.reminders_due(agent=owner)) == [lead]
    with pytest.raises(BusinessError):
        lead_follow_up(lead=lead, by=owner.user, text="回到新线索", stage=LeadStage.NEW)
    with pytest.raises(BusinessError):
        lead_follow_up(lead=lead, by=owner.user, text="成交了", stage=LeadStage.CONVERTED)
    lead = lead_follow_up(lead=lead, by=owner.user, text="说太贵", stage=LeadStage.LOST)
    assert lead.stage == LeadStage.LOST and lead.remind_at is None
    assert list(selectors.reminders_due(agent=owner)) == []


def test_an_agent_passes_a_lead_only_inside_their_team(make_agent):
    boss = make_agent("province")
    member = make_agent("city", referrer=boss)
    stranger = make_agent("city")
    lead = lead_create(
        name="周九", phone="13800138003", channel=LeadChannel.OWN_NETWORK, owner_agent=boss, by=boss.user
    )
    with pytest.raises(Forbidden):
        lead_assign(lead=lead, by=boss.user, owner_agent=stranger)
    lead = lead_assign(lead=lead, by=boss.user, owner_agent=member)
    assert lead.owner_agent == member


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_previews_accepted_and_rejected_rows_then_applies_once(make_agent):
    owner = make_agent("city", phone="13700000001")
    placement("baidu-1", LeadChannel.SEARCH_ADS)
    lead_capture(name="老客户", phone="13800138010", channel=LeadChannel.OWN_NETWORK)
    content = _xlsx(
        [
            ["姓名", "手机", "微信", "地区", "渠道", "负责人", "来源", "备注"],
            ["甲", "13800138011", "", "330106", "论坛", "13700000001", "", "贴吧私信"],
            ["乙", "1380013", "", "", "", "", "", ""],
            ["丙", "", "", "", "电视", "", "", ""],
            ["丁", "13800138011", "", "", "", "", "", "重复"],
            ["戊", "", "wx_wu", "杭州市西湖区", "搜索广告", "", "baidu-1", ""],
            ["老客户", "13800138010", "", "", "", "", "", "再次咨询"],
            ["己", "13800138012", "", "火星", "", "13999999999", "nope", ""],
        ]
    )
    batch = leads_import_preview(file_name="leads.xlsx", content=content, by=staff())
    assert [r["line"] for r in batch.rows] == [2, 6, 7]
    rejected = {r["line"]: r["reasons"] for r in batch.rejected}
    assert set(rejected) == {3, 4, 5, 8}
    assert len(rejected[8]) == 3  # region, owner and source all named
    assert Lead.objects.count() == 1  # a preview creates nothing
    batch = leads_import_apply(batch=batch, by=staff())
    assert (batch.created, batch.updated) == (2, 1)
    assert Lead.objects.get(phone="13800138011").owner_agent == owner
    assert Lead.objects.get(wechat_id="wx_wu").placement.code == "baidu-1"
    with pytest.raises(Conflict):
        leads_import_apply(batch=batch, by=staff())


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("leads.pdf", b"%PDF-1.4"),
        ("leads.xlsx", b"PK\x03\x04 not a zip"),
        ("leads.csv", b""),
        ("leads.csv", "名字,电话\n甲,1\n".encode()),
        ("leads.csv", b"\xff\xfe\x00\x00garbage\x00"),
    ],
)
def test_bad_import_files_are_refused_and_create_nothing(name, content):
    with pytest.raises(BusinessError) as exc:
        leads_import_preview(file_name=name, content=content, by=staff())
    assert exc.value.field == "file"


def test_a_gbk_csv_from_excel_is_read():
    content = "姓名,手机,渠道\n王五,13800138020,短视频\n".encode("gb18030")
    batch = leads_import_preview(file_name="导出.csv", content=content, by=staff())
    assert batch.rows[0]["channel"] == LeadChannel.SHORT_VIDEO


def test_a_channels_month_spend_leads_agents_and_cash(make_agent, levels, clock):
    from tests.leads.helpers import paid_restock

    clock.freeze(datetime(2026, 11, 5, 10, 0))
    plc = placement()
    ad_spend_record(placement=plc, day=date(2026, 11, 3), amount="600.00", clicks=500, by=staff())
    ad_spend_record(placement=plc, day=date(2026, 11, 4), amount="400.00", by=staff())
    ad_spend_record(placement=plc, day=date(2026, 10, 31), amount="999.00", by=staff())  # October
    for i in range(4):
        lead_capture(name=f"线索{i}", phone=f"1381111000{i}", channel=LeadChannel.FEED_ADS, placement=plc)
    agent = make_agent("city", phone="13811110000")
    leads_follow_events()
    paid_restock(agent, Decimal("1200.00"))
    row = next(r for r in selectors.channel_month("2026-11") if r.key == LeadChannel.FEED_ADS)
    assert (row.spend, row.leads, row.converted) == (Decimal("1000.00"), 4, 1)
    assert (row.cost_per_lead, row.cost_per_agent) == (Decimal("250.00"), Decimal("1000.00"))
    assert row.cash == Decimal("1200.00")
    assert [r.key for r in selectors.placement_month("2026-11")] == ["toutiao-nov"]
    october = next(r for r in selectors.channel_month("2026-10") if r.key == LeadChannel.FEED_ADS)
    assert (october.spend, october.leads, october.cost_per_lead) == (Decimal("999.00"), 0, None)


@pytest.mark.parametrize(
    ("amount", "note", "day"),
    [
        ("abc", "", date(2026, 11, 3)),
        ("0", "", date(2026, 11, 3)),
        ("-5", "", date(2026, 11, 3)),
        ("NaN", "", date(2026, 11, 3)),
        ("1e20", "", date(2026, 11, 3)),
        ("5", "", date(2027, 1, 1)),
    ],
)
def test_bad_spend_is_refused(amount, note, day, clock):
    clock.freeze(datetime(2026, 11, 5, 10, 0))
    with pytest.raises(BusinessError):
        ad_spend_record(placement=placement(), day=day, amount=amount, note=note, by=staff())


def test_a_negative_spend_corrects_with_a_reason(clock):
    clock.freeze(datetime(2026, 11, 5, 10, 0))
    plc = placement()
    ad_spend_record(placement=plc, day=date(2026, 11, 3), amount="600", by=staff())
    ad_spend_record(placement=plc, day=date(2026, 11, 3), amount="-100", note="平台退款", by=staff())
    row = next(r for r in selectors.channel_month("2026-11") if r.key == LeadChannel.FEED_ADS)
    assert row.spend == Decimal("500.00")
