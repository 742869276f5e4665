"""Launch phases tracked week by week, and work plans' progress.

A phase's measure between two instants (China time):
- agents: agents who joined (the relationship log's JOINED rows), at a level or in all;
- cash: entry, upgrade and restock orders paid and not refunded (``trade.selectors.cash_collected``);
- meetings: meetings held (``meetings.selectors.meetings_held``);
- leads: leads created.
``phase_progress`` gives, for each target, the figure so far and, week by week (Monday to Sunday,
the first and last weeks cut at the phase's dates), the cumulative figure beside the target
pro-rated by days elapsed, which the console charts.

A work plan's progress in its month (``plan_progress``):
- talks: the agent's leads with any history line in the month (added, followed up, moved);
- meets: the agent's leads that reached "attended" in the month (a meeting's check-in does it);
- invites: the agent's leads that reached "invited" in the month (an invitation does it);
- orders: ``trade.selectors.orders_paid_count`` — own purchases and shop sales paid in the month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from weishang.channel.models import Agent
from weishang.channel.selectors import joined_by_level, team_member_ids
from weishang.core import clock
from weishang.core.money import to_money
from weishang.growth.models import LaunchPhase, PhaseTarget, TargetMetric, WorkPlan
from weishang.leads.models import Lead, LeadNote, LeadStage
from weishang.meetings.selectors import meetings_held
from weishang.trade.selectors import cash_collected, orders_paid_count


def _plain(value: Decimal) -> str:
    """120, 2022290, 1200.5: a figure without trailing zeros or an exponent."""
    return format(value.normalize(), "f")


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def measure(target: PhaseTarget, start: dt.datetime, end: dt.datetime) -> Decimal:
    """The target's figure in [start, end)."""
    if target.metric == TargetMetric.AGENTS:
        return Decimal(sum(joined_by_level(start=start, end=end).values()))
    if target.metric == TargetMetric.AGENTS_AT_LEVEL:
        return Decimal(joined_by_level(start=start, end=end).get(target.level_id or 0, 0))
    if target.metric == TargetMetric.CASH:
        return to_money(sum(cash_collected(start=start, end=end).values(), Decimal("0")))
    if target.metric == TargetMetric.MEETINGS:
        return Decimal(meetings_held(start=start, end=end))
    return Decimal(Lead.objects.filter(created_at__gte=start, created_at__lt=end).count())


@dataclass(frozen=True)
class Week:
    label: str  # 11-02
    actual: Decimal  # cumulative from the phase's start to this week's end (or today)
    planned: Decimal  # the target pro-rated by days elapsed


@dataclass
class TargetProgress:
    target: PhaseTarget
    label: str
    actual: Decimal
    weeks: list[Week] = field(default_factory=list)

    @property
    def share(self) -> int:
        """Per cent of the target reached (whole, floored)."""
        return int(self.actual * 100 / self.target.target) if self.target.target else 0

    def as_dict(self) -> dict:
        return {
            "measure": self.target.metric,
            "label": self.label,
            "level": self.target.level.code if self.target.level_id else None,
            "target": _plain(self.target.target),
            "actual": _plain(self.actual),
            "share": self.share,
            "weeks": [{"week": w.label, "actual": str(w.actual), "planned": str(w.planned)} for w in self.weeks],
        }


@dataclass
class PhaseProgress:
    phase: LaunchPhase
    days: int
    elapsed: int
    targets: list[TargetProgress]

    @property
    def status(self) -> str:
        today = clock.today()
        if today < self.phase.starts_on:
            return "upcoming"
        return "running" if today <= self.phase.ends_on else "ended"

    def as_dict(self) -> dict:
        return {
            "phase": self.phase.name,
            "kind": self.phase.kind,
            "starts": self.phase.starts_on.isoformat(),
            "ends": self.phase.ends_on.isoformat(),
            "status": self.status,
            "days": self.days,
            "elapsed": self.elapsed,
            "targets": [t.as_dict() for t in self.targets],
        }


def _label(target: PhaseTarget) -> str:
    if target.metric == TargetMetric.AGENTS_AT_LEVEL and target.level_id:
        return f"{target.get_metric_display()}：{target.level.name}"
    return str(target.get_metric_display())


def phase_progress(phase: LaunchPhase, *, today: dt.date | None = None) -> PhaseProgress:
    today = today or clock.today()
    start = _aware(phase.starts_on)
    days = (phase.ends_on - phase.starts_on).days + 1
    last = min(today, phase.ends_on)
    elapsed = max(0, min(days, (today - phase.starts_on).days + 1))
    ends = []  # each week's last day (inclusive), cut at the phase's end and today
    day = phase.starts_on
    while day <= last:
        sunday = day + dt.timedelta(days=6 - day.weekday())
        ends.append(min(sunday, last))
        day = sunday + dt.timedelta(days=1)
    progress = []
    for target in phase.targets.select_related("level"):
        weeks = []
        for end_day in ends:
            share = Decimal((end_day - phase.starts_on).days + 1) / Decimal(days)
            weeks.append(
                Week(
                    label=f"{end_day:%m-%d}",
                    actual=measure(target, start, _aware(end_day + dt.timedelta(days=1))),
                    planned=to_money(target.target * share),
                )
            )
        actual = weeks[-1].actual if weeks else Decimal("0")
        progress.append(TargetProgress(target=target, label=_label(target), actual=actual, weeks=weeks))
    return PhaseProgress(phase=phase, days=days, elapsed=elapsed, targets=progress)


@dataclass(frozen=True)
class PanelRow:
    label: str
    target: Decimal
    actual: Decimal
    planned: Decimal  # the target pro-rated by the days gone

    @property
    def share(self) -> int:
        return int(self.actual * 100 / self.target) if self.target else 0

    @property
    def on_track(self) -> bool:
        return self.actual >= self.planned


def phase_panel(today: dt.date | None = None) -> tuple[LaunchPhase, int, int, list[PanelRow]] | None:
    """The launch phase under way (the dashboard's panel): each target to date against the target
    pro-rated by the days gone, with its figures read once each whatever the targets (a fixed
    number of queries); (phase, days gone, days, rows). The week-by-week chart is the phase's page."""
    today = today or clock.today()
    phase = current_phase(today)
    if phase is None:
        return None
    start, end = _aware(phase.starts_on), _aware(today + dt.timedelta(days=1))
    joined = joined_by_level(start=start, end=end)
    figures = {
        TargetMetric.AGENTS: Decimal(sum(joined.values())),
        TargetMetric.CASH: to_money(sum(cash_collected(start=start, end=end).values(), Decimal("0"))),
        TargetMetric.MEETINGS: Decimal(meetings_held(start=start, end=end)),
        TargetMetric.LEADS: Decimal(Lead.objects.filter(created_at__gte=start, created_at__lt=end).count()),
    }
    days = (phase.ends_on - phase.starts_on).days + 1
    gone = (today - phase.starts_on).days + 1
    rows = []
    for target in phase.targets.select_related("level").order_by("pk"):
        if target.metric == TargetMetric.AGENTS_AT_LEVEL:
            actual = Decimal(joined.get(target.level_id or 0, 0))
        else:
            actual = figures[target.metric]
        planned = to_money(target.target * Decimal(gone) / Decimal(days))
        rows.append(PanelRow(label=_label(target), target=target.target, actual=actual, planned=planned))
    return phase, gone, days, rows


def phases() -> QuerySet[LaunchPhase]:
    return LaunchPhase.objects.prefetch_related("targets")


def current_phase(today: dt.date | None = None) -> LaunchPhase | None:
    today = today or clock.today()
    return LaunchPhase.objects.filter(starts_on__lte=today, ends_on__gte=today).order_by("starts_on").first()


# --- work plans ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanProgress:
    plan: WorkPlan
    talks: int
    meets: int
    invites: int
    orders: int

    def rows(self) -> list[tuple[str, int, int]]:
        """(measure, done, target) for each measure the plan sets."""
        from django.utils.translation import gettext as _

        every = [
            (_("People talked to"), self.talks, self.plan.talks),
            (_("People met"), self.meets, self.plan.meets),
            (_("Invitations"), self.invites, self.plan.invites),
            (_("Orders"), self.orders, self.plan.orders),
        ]
        return [row for row in every if row[2]]

    @property
    def share(self) -> int:
        """Per cent done over all the plan's measures (each capped at its target), floored."""
        rows = self.rows()
        wanted = sum(target for _label, _done, target in rows)
        return int(sum(min(done, target) for _label, done, target in rows) * 100 / wanted) if wanted else 0

    def as_dict(self) -> dict:
        return {
            "agent": self.plan.agent_id,
            "month": self.plan.month,
            "talks": [self.talks, self.plan.talks],
            "meets": [self.meets, self.plan.meets],
            "invites": [self.invites, self.plan.invites],
            "orders": [self.orders, self.plan.orders],
            "share": self.share,
        }


def _reached(agent_id: int, stage: str, start: dt.datetime, end: dt.datetime) -> int:
    return (
        LeadNote.objects.filter(lead__owner_agent_id=agent_id, stage_to=stage, at__gte=start, at__lt=end)
        .values("lead_id")
        .distinct()
        .count()
    )


def plan_progress(plan: WorkPlan) -> PlanProgress:
    start, end = clock.month_range(plan.month)
    talks = (
        LeadNote.objects.filter(lead__owner_agent_id=plan.agent_id, at__gte=start, at__lt=end)
        .values("lead_id")
        .distinct()
        .count()
    )
    return PlanProgress(
        plan=plan,
        talks=talks,
        meets=_reached(plan.agent_id, LeadStage.ATTENDED, start, end),
        invites=_reached(plan.agent_id, LeadStage.INVITED, start, end),
        orders=orders_paid_count(agent=plan.agent_id, start=start, end=end),
    )


def plan_of(*, agent: Agent | int, month: str) -> WorkPlan | None:
    return WorkPlan.objects.filter(agent_id=getattr(agent, "pk", agent), month=month).first()


def team_plans(*, agent: Agent, month: str) -> list[PlanProgress]:
    """The plans of the agent's team (the referrer tree below them) for the month, least done first."""
    plans = WorkPlan.objects.filter(
        month=month, agent_id__in=team_member_ids(agent=agent, include_self=False)
    ).select_related("agent", "agent__level")
    return sorted((plan_progress(p) for p in plans), key=lambda p: (p.share, p.plan.agent_id))


def plans_in_month(month: str) -> list[PlanProgress]:
    return [plan_progress(p) for p in WorkPlan.objects.filter(month=month).select_related("agent", "agent__level")]


# --- the growth report -------------------------------------------------------------------------


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def meeting_rows(start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Meetings that started in [start, end), each with the source's figures."""
    from weishang.meetings.models import Meeting
    from weishang.meetings.selectors import meeting_outcome

    rows = []
    for meeting in Meeting.objects.filter(starts_at__gte=start, starts_at__lt=end).order_by("starts_at", "pk"):
        outcome = meeting_outcome(meeting)
        rows.append(
            {
                "meeting": meeting.title,
                "kind": meeting.kind,
                "starts": timezone.localtime(meeting.starts_at).isoformat(),
                "status": meeting.status,
                "guests": outcome.guests,
                "agents_made": outcome.agents_made,
                "agents_by_level": [{"level": name, "agents": n} for name, n in outcome.agents_by_level],
                "upgrades": outcome.upgrades,
                "cash_collected": _money(outcome.cash),
                "cost": _money(outcome.cost),
                "roi": _money(outcome.roi),
            }
        )
    return rows


def growth_report(period: str) -> dict:
    """What the console shows for the month ``YYYY-MM``, per channel, placement, meeting, phase,
    campaign and work plan (``weishang growth report``). ``ValueError`` for a bad month."""
    from weishang.leads.selectors import channel_month, channel_totals, placement_month

    start, end = clock.month_range(period)
    channels = channel_month(period)
    first, last = timezone.localtime(start).date(), timezone.localtime(end).date() - dt.timedelta(days=1)
    phases_in = LaunchPhase.objects.filter(starts_on__lte=last, ends_on__gte=first).order_by("starts_on")
    plans = plans_in_month(period)
    return {
        "period": period,
        "channels": [row.as_dict() for row in channels],
        "channels_total": channel_totals(channels).as_dict() | {"key": "total", "label": "total"},
        "placements": [row.as_dict() for row in placement_month(period)],
        "meetings": meeting_rows(start, end),
        "phases": [phase_progress(phase, today=min(last, clock.today())).as_dict() for phase in phases_in],
        "campaigns": campaign_rows(start, end),
        "work_plans": {
            "plans": len(plans),
            "average_share": (sum(p.share for p in plans) // len(plans)) if plans else None,
            "done": sum(1 for p in plans if p.share >= 100),
        },
    }


def campaign_rows(start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Campaigns that ran in [start, end), each with what it brought and what it cost: the agents'
    live campaigns (``campaigns.selectors``: seats, recruits, upgrades, gifts and prizes besides),
    the shop's coupon offers and flash sales (``promotions.selectors``). Each report covers the
    campaign's whole run, not only the part inside the month."""
    from weishang.campaigns.selectors import campaigns_between
    from weishang.promotions.models import CouponOffer, FlashSale
    from weishang.promotions.selectors import flash_report, offer_report

    def row(kind: str, name: str, first: dt.datetime, last: dt.datetime, report: dict) -> dict:
        return {
            "campaign": name,
            "kind": kind,
            "starts": timezone.localtime(first).isoformat(),
            "ends": timezone.localtime(last).isoformat(),
            "orders": report["paid_orders"],
            "units": report["units"],
            "revenue": _money(to_money(report["revenue"])),
            "cost": _money(to_money(report["discount"])),
            "budget": _money(None if report["budget"] is None else to_money(report["budget"])),
            "new_customers": report["new_customers"],
        }

    last_day = timezone.localdate(end - dt.timedelta(microseconds=1))
    rows = [
        {
            "campaign": rep.campaign.name,
            "kind": "campaign",
            "starts": rep.campaign.starts.isoformat(),
            "ends": rep.campaign.ends.isoformat(),
            "orders": rep.orders,
            "units": rep.units,
            "revenue": _money(rep.cash),
            "cost": _money(rep.cost),
            "budget": _money(rep.budget),
            "new_customers": None,
            "seats_taken": rep.seats_taken,
            "recruits": rep.recruits,
            "upgrades": rep.upgrades,
            "gifts": rep.gifts,
            "prizes": _money(rep.prizes),
        }
        for rep in campaigns_between(timezone.localdate(start), last_day)
    ]
    rows += [
        row("coupon", offer.name, offer.valid_from, offer.valid_to, offer_report(offer=offer))
        for offer in CouponOffer.objects.filter(valid_from__lt=end, valid_to__gt=start).order_by("valid_from", "pk")
    ]
    rows += [
        row("flash_sale", sale.name, sale.starts_at, sale.ends_at, flash_report(sale=sale))
        for sale in FlashSale.objects.filter(starts_at__lt=end, ends_at__gt=start).order_by("starts_at", "pk")
    ]
    return rows
