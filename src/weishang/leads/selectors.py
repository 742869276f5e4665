"""Reading leads: an owner's list and reminders, a lead's history, and each channel's month.

A channel's month (``channel_month``), in the month's [start, end) in China time:
- spend: the ad spend rows dated in the month, of the channel's placements;
- leads: leads created in the month from the channel;
- converted: leads of the channel that became agents in the month;
- cost per lead and per agent: spend ÷ leads, spend ÷ converted (None when nothing to divide by);
- cash collected: what the agents the channel brought (ever) paid in the month for entry,
  upgrade and restock orders (``trade.selectors.cash_collected``).
The same figures per placement (``placement_month``). Money in Decimal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from weishang.channel.models import Agent
from weishang.core import clock
from weishang.core.money import to_money
from weishang.leads.models import AdPlacement, AdSpend, Lead, LeadChannel, LeadNote, LeadStage
from weishang.trade.selectors import cash_collected

OPEN_STAGES = (LeadStage.NEW, LeadStage.CONTACTED, LeadStage.INVITED, LeadStage.ATTENDED)


def leads_of(*, agent: Agent | int, stage: str = "", search: str = "") -> QuerySet[Lead]:
    """The leads an agent owns, due reminders first, then the newest."""
    leads = Lead.objects.filter(owner_agent_id=getattr(agent, "pk", agent)).select_related("region", "agent")
    if stage in LeadStage.values:
        leads = leads.filter(stage=stage)
    search = (search or "").strip()[:40]
    if search:
        leads = leads.filter(Q(name__icontains=search) | Q(phone__contains=search) | Q(wechat_id__icontains=search))
    return leads.order_by("remind_at", "-created_at", "-pk")


def lead_of(*, agent: Agent | int, pk: int) -> Lead | None:
    return Lead.objects.filter(owner_agent_id=getattr(agent, "pk", agent), pk=pk).select_related("region").first()


def reminders_due(*, agent: Agent | int | None = None, at: dt.datetime | None = None) -> QuerySet[Lead]:
    """Open leads whose follow-up time has come (an agent's, or the brand's when ``agent`` is None)."""
    leads = Lead.objects.filter(stage__in=OPEN_STAGES, remind_at__lte=at or clock.now())
    if agent is None:
        return leads.filter(owner_agent__isnull=True)
    return leads.filter(owner_agent_id=getattr(agent, "pk", agent))


def lead_history(lead: Lead) -> QuerySet[LeadNote]:
    return lead.notes.select_related("by").order_by("-at", "-pk")


def stage_counts(*, agent: Agent | int | None = None) -> dict[str, int]:
    leads = Lead.objects.all() if agent is None else Lead.objects.filter(owner_agent_id=getattr(agent, "pk", agent))
    counts = dict(leads.order_by().values_list("stage").annotate(n=Count("pk")).values_list("stage", "n"))
    return {stage: counts.get(stage, 0) for stage in LeadStage.values}


@dataclass(frozen=True)
class ChannelMonth:
    key: str  # a channel code, or a placement's source code
    label: str
    spend: Decimal
    leads: int
    converted: int
    cash: Decimal

    @property
    def cost_per_lead(self) -> Decimal | None:
        return to_money(self.spend / self.leads) if self.leads else None

    @property
    def cost_per_agent(self) -> Decimal | None:
        return to_money(self.spend / self.converted) if self.converted else None

    def as_dict(self) -> dict:
        def money(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "key": self.key,
            "label": self.label,
            "spend": money(self.spend),
            "leads": self.leads,
            "converted": self.converted,
            "cost_per_lead": money(self.cost_per_lead),
            "cost_per_agent": money(self.cost_per_agent),
            "cash_collected": money(self.cash),
        }


def _months(start: dt.datetime, end: dt.datetime) -> tuple[dt.date, dt.date]:
    return timezone.localtime(start).date(), timezone.localtime(end).date()


def _grouped(by: str, start: dt.datetime, end: dt.datetime) -> dict[str, dict]:
    """spend, leads, converted and cash by ``by`` (``channel`` or ``placement__code``)."""
    first, after = _months(start, end)
    spend_key = "placement__channel" if by == "channel" else "placement__code"
    spend = dict(
        AdSpend.objects.filter(day__gte=first, day__lt=after)
        .order_by()
        .values_list(spend_key)
        .annotate(s=Sum("amount"))
        .values_list(spend_key, "s")
    )
    leads = dict(
        Lead.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(**{f"{by}__isnull": True} if by != "channel" else {})
        .order_by()
        .values_list(by)
        .annotate(n=Count("pk"))
        .values_list(by, "n")
    )
    converted = dict(
        Lead.objects.filter(converted_at__gte=start, converted_at__lt=end)
        .order_by()
        .values_list(by)
        .annotate(n=Count("pk"))
        .values_list(by, "n")
    )
    brought = list(Lead.objects.filter(agent__isnull=False).values_list(by, "agent_id"))
    paid = cash_collected(buyers=[agent for _key, agent in brought], start=start, end=end)
    cash: dict[str, Decimal] = {}
    for key, agent in brought:
        if agent in paid:
            cash[key] = cash.get(key, Decimal("0")) + paid[agent]
    keys = {k for k in (*spend, *leads, *converted, *cash) if k}
    return {
        key: {
            "spend": to_money(spend.get(key) or 0),
            "leads": leads.get(key, 0),
            "converted": converted.get(key, 0),
            "cash": to_money(cash.get(key) or 0),
        }
        for key in keys
    }


def channel_month(label: str) -> list[ChannelMonth]:
    """Every channel's figures for the month ``YYYY-MM`` (channels with nothing are left out)."""
    start, end = clock.month_range(label)
    figures = _grouped("channel", start, end)
    labels = dict(LeadChannel.choices)
    return [
        ChannelMonth(key=code, label=str(labels[code]), **figures[code])
        for code in LeadChannel.values
        if code in figures
    ]


def placement_month(label: str) -> list[ChannelMonth]:
    """Each ad placement's figures for the month (leads by the placement's tracked link)."""
    start, end = clock.month_range(label)
    figures = _grouped("placement__code", start, end)
    names = dict(AdPlacement.objects.values_list("code", "name"))
    return [ChannelMonth(key=code, label=names.get(code, code), **figures[code]) for code in sorted(figures)]


def channel_totals(rows: list[ChannelMonth]) -> ChannelMonth:
    return ChannelMonth(
        key="",
        label="",
        spend=to_money(sum((r.spend for r in rows), Decimal("0"))),
        leads=sum(r.leads for r in rows),
        converted=sum(r.converted for r in rows),
        cash=to_money(sum((r.cash for r in rows), Decimal("0"))),
    )


def lead_months(limit: int = 12) -> list[str]:
    """Months that have leads or spend, newest first (for the report's month picker)."""
    months = {f"{d:%Y-%m}" for d in Lead.objects.dates("created_at", "month")}
    months |= {f"{d:%Y-%m}" for d in AdSpend.objects.dates("day", "month")}
    months.add(f"{clock.today():%Y-%m}")
    return sorted(months, reverse=True)[:limit]
