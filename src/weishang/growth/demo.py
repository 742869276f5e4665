"""The demo brand's launch and work plans: an internal recruitment phase that ended last month and
a public recruitment phase running now, each with targets (agents, 市代 made, cash collected,
meetings held, leads), so the phase page draws its weekly chart; and this month's work plan for
the 市代 login, set at twice what they have done so far (half done, as the issue asks), plus one
for a member of their team so the upline sees the team's progress. Written once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model

from weishang.channel.models import Agent, Level
from weishang.channel.selectors import team_members
from weishang.core import clock
from weishang.growth.models import LaunchPhase, PhaseKind, TargetMetric, WorkPlan
from weishang.growth.selectors import plan_progress
from weishang.growth.services import phase_save, work_plan_set
from weishang.leads.models import Lead, LeadStage
from weishang.leads.services import lead_follow_up


def demo_growth(*, login_phone: str) -> None:
    if LaunchPhase.objects.exists():
        return
    staff = get_user_model().objects.filter(username="owner").first()
    if staff is None:
        return
    today = clock.today()
    city = Level.objects.filter(code="city").first()
    internal_end = today - timedelta(days=31)
    phase_save(
        name="内部招商（创始人人脉 · 沙龙 · 私董会）",
        kind=PhaseKind.INTERNAL,
        starts_on=internal_end - timedelta(days=89),
        ends_on=internal_end,
        targets=[
            (TargetMetric.AGENTS, None, 60),
            (TargetMetric.CASH, None, Decimal("300000")),
            (TargetMetric.MEETINGS, None, 3),
            *([(TargetMetric.AGENTS_AT_LEVEL, city, 10)] if city else []),
        ],
        note="1–4 个月：先做熟人，办沙龙和私董会",
        by=staff,
    )
    phase_save(
        name="公开招商（广告 · 论坛 · 短视频）",
        kind=PhaseKind.PUBLIC,
        starts_on=internal_end + timedelta(days=1),
        ends_on=internal_end + timedelta(days=90),
        targets=[
            (TargetMetric.AGENTS, None, 120),
            (TargetMetric.CASH, None, Decimal("600000")),
            (TargetMetric.LEADS, None, 150),
            (TargetMetric.MEETINGS, None, 4),
        ],
        note="信息流、短视频、微商货源网同时投放",
        by=staff,
    )
    login = Agent.objects.filter(user__phone=login_phone).first()
    if login is None:
        return
    month = f"{today:%Y-%m}"
    if not WorkPlan.objects.filter(agent=login, month=month).exists():
        # This month's work so far: two leads followed up, one invited, one met at a meeting.
        mine = list(Lead.objects.filter(owner_agent=login, stage__in=(LeadStage.NEW, LeadStage.CONTACTED))[:2])
        for lead, (stage, text) in zip(
            mine,
            ((LeadStage.INVITED, "约了本周六的沙龙"), (LeadStage.ATTENDED, "来了沙龙，想先拿小单试试")),
            strict=False,
        ):
            lead_follow_up(lead=lead, by=login.user, text=text, stage=stage)
        plan = WorkPlan.objects.create(agent=login, month=month, set_by=staff, talks=1, meets=1, invites=1, orders=1)
        done = plan_progress(plan)
        # Twice what is done: the plan is half done (a measure with nothing done yet is left out).
        work_plan_set(
            agent=login,
            month=month,
            by=staff,
            talks=2 * done.talks,
            meets=2 * done.meets,
            invites=2 * done.invites,
            orders=2 * done.orders,
        )
    member = team_members(agent=login).filter(status="active").order_by("pk").first()
    if member is not None:
        work_plan_set(agent=member, month=month, by=login.user, talks=8, meets=3, invites=4, orders=2)
