"""Launch phases tracked week by week against their targets, agents' work plans filling in from
what they log, and `weishang growth report` (M10)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from tests.leads.helpers import brand_staff, paid_restock
from weishang.core.errors import BusinessError, Forbidden
from weishang.growth.models import PhaseKind, TargetMetric, WorkPlan
from weishang.growth.selectors import phase_progress, plan_progress, team_plans
from weishang.growth.services import phase_save, work_plan_set
from weishang.leads.models import LeadChannel, LeadStage
from weishang.leads.services import lead_capture, lead_create, lead_follow_up

pytestmark = pytest.mark.django_db


def test_a_phase_is_tracked_week_by_week_against_its_targets(make_agent, levels, clock):
    # Monday 2 November to Sunday 15 November 2026: two whole weeks.
    clock.freeze(datetime(2026, 11, 2, 9, 0))
    phase = phase_save(
        name="内部招商",
        kind=PhaseKind.INTERNAL,
        starts_on=date(2026, 11, 2),
        ends_on=date(2026, 11, 15),
        targets=[
            (TargetMetric.AGENTS, None, 4),
            (TargetMetric.AGENTS_AT_LEVEL, levels["city"], 2),
            (TargetMetric.CASH, None, Decimal("2400")),
            (TargetMetric.LEADS, None, 10),
        ],
        by=brand_staff(),
    )
    first = make_agent("city")  # week 1
    make_agent("vip")
    lead_capture(name="甲", phone="13811110001", channel=LeadChannel.FORUM)
    paid_restock(first, Decimal("1200.00"))
    clock.freeze(datetime(2026, 11, 10, 9, 0))  # week 2
    make_agent("city")
    lead_capture(name="乙", phone="13811110002", channel=LeadChannel.FORUM)
    lead_capture(name="丙", phone="13811110003", channel=LeadChannel.FORUM)
    clock.freeze(datetime(2026, 11, 16, 9, 0))  # after the phase: not counted
    make_agent("city")
    progress = phase_progress(phase)
    by = {t.target.metric if t.target.level is None else "city": t for t in progress.targets}
    assert (progress.days, progress.elapsed, progress.status) == (14, 14, "ended")
    assert [w.label for w in by[TargetMetric.AGENTS].weeks] == ["11-08", "11-15"]
    assert [w.actual for w in by[TargetMetric.AGENTS].weeks] == [2, 3]  # cumulative
    assert [w.planned for w in by[TargetMetric.AGENTS].weeks] == [Decimal("2.00"), Decimal("4.00")]
    assert by["city"].actual == 2 and by["city"].share == 100
    assert by[TargetMetric.CASH].actual == Decimal("1200.00") and by[TargetMetric.CASH].share == 50
    assert by[TargetMetric.LEADS].actual == 3 and by[TargetMetric.LEADS].share == 30
    # Mid-phase, the weeks stop at today and the first week is cut at the phase's start.
    mid = phase_progress(phase, today=date(2026, 11, 11))
    assert [w.label for w in mid.targets[0].weeks] == ["11-08", "11-11"] and mid.elapsed == 10


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"name": ""}, "name"),
        ({"kind": "secret"}, "kind"),
        ({"ends_on": date(2026, 10, 1)}, "ends_on"),
        ({"targets": [("agents", None, "-3")]}, "targets"),
        ({"targets": [("agents", None, "1.5")]}, "targets"),
        ({"targets": [("agents", None, "NaN")]}, "targets"),
        ({"targets": [("agents", None, 3), ("agents", None, 4)]}, "targets"),
        ({"targets": [("cash", None, "1e30")]}, "targets"),
        ({"targets": [("agents_at_level", None, 3)]}, "targets"),
    ],
)
def test_bad_phases_are_refused(kw, field, levels):
    args = {
        "name": "公开招商",
        "kind": PhaseKind.PUBLIC,
        "starts_on": date(2026, 11, 2),
        "ends_on": date(2026, 12, 2),
        "targets": [],
        "by": brand_staff(),
    } | kw
    with pytest.raises(BusinessError) as exc:
        phase_save(**args)
    assert exc.value.field == field


def test_a_work_plan_is_set_by_the_upline_and_fills_in(make_agent, levels, clock):
    clock.freeze(datetime(2026, 11, 3, 9, 0))
    boss = make_agent("province")
    member = make_agent("city", referrer=boss)
    stranger = make_agent("city")
    with pytest.raises(Forbidden):
        work_plan_set(agent=member, month="2026-11", by=stranger.user, talks=5)
    with pytest.raises(Forbidden):
        work_plan_set(agent=member, month="2026-11", by=member.user, talks=5)  # not their own
    with pytest.raises(BusinessError):
        work_plan_set(agent=member, month="2026-10", by=boss.user, talks=5)  # gone by
    with pytest.raises(BusinessError):
        work_plan_set(agent=member, month="2026-13", by=boss.user, talks=5)
    with pytest.raises(BusinessError):
        work_plan_set(agent=member, month="2026-11", by=boss.user)  # nothing to do
    plan = work_plan_set(agent=member, month="2026-11", by=boss.user, talks=4, meets=2, invites=2, orders=2)
    one = lead_create(
        name="甲", phone="13811110011", channel=LeadChannel.OWN_NETWORK, owner_agent=member, by=member.user
    )
    two = lead_create(
        name="乙", phone="13811110012", channel=LeadChannel.OWN_NETWORK, owner_agent=member, by=member.user
    )
    lead_follow_up(lead=one, by=member.user, text="约沙龙", stage=LeadStage.INVITED)
    lead_follow_up(lead=one, by=member.user, text="来了", stage=LeadStage.ATTENDED)
    lead_follow_up(lead=two, by=member.user, text="约沙龙", stage=LeadStage.INVITED)
    paid_restock(member, Decimal("1200.00"))
    clock.freeze(datetime(2026, 12, 1, 9, 0))
    lead_follow_up(lead=two, by=member.user, text="下个月的事", stage=LeadStage.ATTENDED)  # December
    progress = plan_progress(plan)
    assert (progress.talks, progress.meets, progress.invites, progress.orders) == (2, 1, 2, 1)
    assert progress.share == (2 + 1 + 2 + 1) * 100 // 10
    assert [p.plan.agent for p in team_plans(agent=boss, month="2026-11")] == [member]
    assert team_plans(agent=stranger, month="2026-11") == []
    again = work_plan_set(agent=member, month="2026-12", by=brand_staff(), orders=3)
    assert WorkPlan.objects.count() == 2 and again.set_by == brand_staff()


def test_the_upline_sets_a_plan_on_the_phone(make_agent, clock):
    clock.freeze(datetime(2026, 11, 3, 9, 0))
    boss = make_agent("province")
    member = make_agent("city", referrer=boss, phone="13766660001")
    make_agent("city", phone="13766660002")  # not in the team
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(boss.user)
    form = {"month": "2026-11", "talks": "6", "meets": "2", "invites": "3", "orders": "1"}
    refused = client.post("/m/plan/", form | {"phone": "13766660002"})
    assert refused.status_code == 400 and "你的团队里没有这个手机号" in refused.content.decode()
    bad = client.post("/m/plan/", form | {"phone": "13766660001", "talks": "-1"})
    assert bad.status_code == 400
    assert client.post("/m/plan/", form | {"phone": "13766660001"}).status_code == 302
    assert WorkPlan.objects.get().agent == member
    page = client.get("/m/plan/").content.decode()
    assert member.real_name in page and "0%" in page
    member_client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    member_client.force_login(member.user)
    assert "0 / 6" in member_client.get("/m/plan/").content.decode()


def test_growth_report_prints_the_month(make_agent, levels, clock):
    clock.freeze(datetime(2026, 11, 3, 9, 0))
    phase_save(
        name="公开招商",
        kind=PhaseKind.PUBLIC,
        starts_on=date(2026, 11, 1),
        ends_on=date(2026, 11, 30),
        targets=[(TargetMetric.LEADS, None, 4)],
        by=brand_staff(),
    )
    lead_capture(name="甲", phone="13811110021", channel=LeadChannel.SHORT_VIDEO)
    lead_capture(name="乙", phone="13811110022", channel=LeadChannel.SHORT_VIDEO)
    out = StringIO()
    call_command("growth", "report", "--period", "2026-11", "--format", "json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["period"] == "2026-11"
    assert [(c["key"], c["leads"]) for c in report["channels"]] == [("short_video", 2)]
    assert report["channels_total"]["leads"] == 2
    assert report["phases"][0]["targets"][0]["actual"] == "2" and report["phases"][0]["targets"][0]["share"] == 50
    assert set(report) >= {"placements", "meetings", "campaigns", "work_plans"}
    text = StringIO()
    call_command("growth", "report", "--period", "2026-11", stdout=text)
    assert "Growth report 2026-11" in text.getvalue()
    with pytest.raises(Exception, match="expected a month"):
        call_command("growth", "report", "--period", "11/2026")


def test_phases_in_the_console(levels, django_user_model, clock):
    from weishang.core.roles import roles_sync

    clock.freeze(datetime(2026, 11, 10, 9, 0))
    groups = roles_sync()
    ops = django_user_model.objects.create_user(username="ops1", password="x-pass-123", is_staff=True)
    ops.groups.add(groups["operations"])
    finance = django_user_model.objects.create_user(username="fin1", password="x-pass-123", is_staff=True)
    finance.groups.add(groups["finance"])
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(ops)
    data = {
        "name": "公开招商",
        "kind": "public",
        "starts_on": "2026-11-02",
        "ends_on": "2026-11-29",
        "note": "",
        "targets-TOTAL_FORMS": "2",
        "targets-INITIAL_FORMS": "0",
        "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "1000",
        "targets-0-metric": "agents_at_level",
        "targets-0-level": str(levels["city"].pk),
        "targets-0-target": "5",
        "targets-1-metric": "cash",
        "targets-1-level": "",
        "targets-1-target": "50000",
    }
    saved = client.post("/console/growth/launchphase/add/", data)
    assert saved.status_code == 302
    from weishang.growth.models import LaunchPhase

    phase = LaunchPhase.objects.get()
    assert sorted(t.metric for t in phase.targets.all()) == ["agents_at_level", "cash"]
    page = client.get(f"/console/growth/launchphase/{phase.pk}/progress/").content.decode()
    assert "市代" in page and "50000" in page and "11-08" in page
    reader = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    reader.force_login(finance)
    assert reader.get(f"/console/growth/launchphase/{phase.pk}/progress/").status_code == 200
    assert reader.post("/console/growth/launchphase/add/", data).status_code == 403
    bad = client.post("/console/growth/launchphase/add/", data | {"targets-1-target": "-5"})
    assert bad.status_code == 200 and LaunchPhase.objects.count() == 1
