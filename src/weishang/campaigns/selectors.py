"""Reads of the campaigns: which run when, what an agent may take part in, what the linter says
of one, and what one brought (``campaign_report``; ``campaigns_between`` for the growth report)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.db.models import Sum
from django.utils.translation import gettext as _

from weishang.campaigns.models import Campaign, CampaignCost, CampaignSeat, CampaignStatus, SeatStatus
from weishang.channel.models import Agent, AgentTrail, Level, TrailKind
from weishang.core import clock
from weishang.core.money import to_money
from weishang.plans.campaign import CampaignOverlay, lint_campaign, parse_campaign
from weishang.plans.lint import LintReport
from weishang.rewards.models import RewardLine, RewardStatus
from weishang.rewards.plan_versions import brand_jurisdiction, plan_in_force, plan_of
from weishang.trade.models import OrderKind, OrderLine

HOLDING = (SeatStatus.TAKEN, SeatStatus.PAID)


@lru_cache(maxsize=64)
def overlay_of_text(text: str) -> CampaignOverlay:
    return parse_campaign(text)


def overlay_of(campaign: Campaign) -> CampaignOverlay:
    """The campaign's overlay (parsed once per text and process)."""
    return overlay_of_text(campaign.overlay)


def running_on(day: date) -> list[Campaign]:
    return list(Campaign.objects.filter(status=CampaignStatus.SCHEDULED, starts__lte=day, ends__gte=day))


def overlays_between(start: date, end: date) -> list[CampaignOverlay]:
    """The overlays of the scheduled campaigns running on any day of [start, end], oldest first
    (installed into ``rewards.plan_versions``: the reward engine reads the plan with them)."""
    rows = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, starts__lte=end, ends__gte=start)
    return [overlay_of(c) for c in rows.order_by("starts", "pk")]


@dataclass(frozen=True)
class Offer:
    """A running campaign as one agent's order form shows it."""

    campaign: Campaign
    entry_amount: Decimal | None
    min_restock_qty: int | None
    gift_name: str
    gift_qty: int
    gift_min_amount: Decimal
    gifts_left: int | None
    mine: int

    @property
    def open(self) -> bool:
        full = self.campaign.seats_left == 0
        return not full and self.mine < self.campaign.per_agent_limit


def offers_for(*, agent: Agent, kind: str, level: Level | None = None) -> list[Offer]:
    """The campaigns running today that an order of ``kind`` by ``agent`` (priced at ``level``,
    the agent's own by default) could take part in, with the seats left and the agent's seats."""
    from weishang.catalog.models import SKU

    level = level or agent.level
    offers = []
    for campaign in running_on(clock.today()):
        overlay = overlay_of(campaign)
        terms = overlay.offers
        entry = terms.entry.get(level.code) if kind == OrderKind.ENTRY else None
        restock = terms.min_restock_qty.get(level.code) if kind == OrderKind.RESTOCK else None
        gift = terms.gift if terms.gift is not None and kind in terms.gift.kinds else None
        if entry is None and restock is None and gift is None:
            continue
        sku = SKU.objects.filter(code=gift.sku).first() if gift is not None else None
        offers.append(
            Offer(
                campaign=campaign,
                entry_amount=entry,
                min_restock_qty=restock,
                gift_name=sku.name if sku is not None else "",
                gift_qty=gift.qty if gift is not None else 0,
                gift_min_amount=gift.min_amount if gift is not None else Decimal(0),
                gifts_left=None
                if campaign.gift_quantity is None
                else max(campaign.gift_quantity - campaign.gifts_given, 0),
                mine=CampaignSeat.objects.filter(campaign=campaign, agent=agent, status__in=HOLDING).count(),
            )
        )
    return offers


def campaign_lint(campaign: Campaign) -> LintReport | None:
    """The linter on the plan in force with this campaign laid over it, for the brand's
    jurisdiction; only the findings the campaign adds (the plan's own were acknowledged when it
    went live). None without a plan in force."""
    version = plan_in_force()
    if version is None:
        return None
    plan = plan_of(version)
    jurisdiction = brand_jurisdiction(plan)
    jurisdiction = "all" if jurisdiction == "none" else jurisdiction
    base = {(f.rule, f.path) for f in lint_campaign(plan, _empty(campaign), jurisdiction).findings}
    report = lint_campaign(plan, overlay_of(campaign), jurisdiction)
    new = tuple(f for f in report.findings if (f.rule, f.path) not in base)
    return LintReport(
        plan=report.plan,
        version=report.version,
        jurisdiction=report.jurisdiction,
        findings=new,
        rules_applied=report.rules_applied,
        not_checked=report.not_checked,
    )


def _empty(campaign: Campaign) -> CampaignOverlay:
    overlay = overlay_of(campaign)
    return CampaignOverlay(id=overlay.id, name=overlay.name, starts=overlay.starts, ends=overlay.ends)


@dataclass(frozen=True)
class CampaignReport:
    """What a campaign brought and cost (the console's report, ``weishang growth report``)."""

    campaign: Campaign
    seats_taken: int
    seats_left: int | None
    orders: int  # paid orders that took part
    units: int  # the units they bought (gifts apart)
    cash: Decimal  # what they came to
    recruits: int  # entry orders that took part and were paid: agents who joined through it
    upgrades: int  # agents who took part and rose a level within its dates
    gifts: int  # gift units on paid orders
    gift_cost: Decimal
    prizes: Decimal  # what its reward rules gave (cash and prizes), less what was reversed
    other_costs: Decimal  # its cost lines (a trip, a venue)
    cost: Decimal
    budget: Decimal | None
    budget_left: Decimal | None
    cash_per_cost: Decimal | None

    def as_dict(self) -> dict:
        c = self.campaign
        return {
            "code": c.code,
            "name": c.name,
            "starts": c.starts.isoformat(),
            "ends": c.ends.isoformat(),
            "phase": c.phase,
            "seats": c.seats,
            **{
                key: (str(value) if isinstance(value, Decimal) else value)
                for key, value in self.__dict__.items()
                if key != "campaign"
            },
        }


def campaign_report(campaign: Campaign) -> CampaignReport:
    overlay = overlay_of(campaign)
    paid = CampaignSeat.objects.filter(campaign=campaign, status=SeatStatus.PAID)
    figures = paid.aggregate(cash=Sum("order__total"), gifts=Sum("gift_qty"))
    cash = to_money(figures["cash"] or 0)
    gifts = figures["gifts"] or 0
    gift_cost = to_money((overlay.offers.gift.cost if overlay.offers.gift is not None else 0) * gifts)
    rule_ids = [rule.id for rule in overlay.offers.rewards]
    prizes = Decimal(0)
    if rule_ids:
        prizes = (
            RewardLine.objects.filter(
                rule_id__in=rule_ids,
                created_at__date__gte=campaign.starts,
                status__in=(RewardStatus.FROZEN, RewardStatus.AVAILABLE, RewardStatus.AWARDED),
            ).aggregate(s=Sum("amount"))["s"]
            or 0
        )
    prizes = to_money(prizes)
    other = to_money(CampaignCost.objects.filter(campaign=campaign).aggregate(s=Sum("amount"))["s"] or 0)
    cost = gift_cost + prizes + other
    budget = campaign.budget
    return CampaignReport(
        campaign=campaign,
        seats_taken=campaign.seats_taken,
        seats_left=campaign.seats_left,
        orders=paid.count(),
        units=OrderLine.objects.filter(order__campaign_seat__in=paid, gift=False).aggregate(n=Sum("quantity"))["n"]
        or 0,
        cash=cash,
        recruits=paid.filter(order__kind=OrderKind.ENTRY).count(),
        upgrades=_upgrades(campaign),
        gifts=gifts,
        gift_cost=gift_cost,
        prizes=prizes,
        other_costs=other,
        cost=cost,
        budget=budget,
        budget_left=None if budget is None else budget - cost,
        cash_per_cost=(cash / cost).quantize(Decimal("0.01")) if cost > 0 else None,
    )


def _upgrades(campaign: Campaign) -> int:
    """The agents who took part and rose a level between its start and its end."""
    agents = set(
        CampaignSeat.objects.filter(campaign=campaign, status=SeatStatus.PAID).values_list("agent_id", flat=True)
    )
    ranks = dict(Level.objects.values_list("pk", "rank"))
    rose = set()
    for agent_id, old, new in AgentTrail.objects.filter(
        agent_id__in=agents,
        kind=TrailKind.LEVEL,
        changed_at__date__gte=campaign.starts,
        changed_at__date__lte=campaign.ends,
    ).values_list("agent_id", "old_ref", "new_ref"):
        if old in ranks and new in ranks and ranks[new] < ranks[old]:
            rose.add(agent_id)
    return len(rose)


def campaigns_between(start: date, end: date) -> list[CampaignReport]:
    """The scheduled campaigns that ran on any day of [start, end], with their reports."""
    rows = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, starts__lte=end, ends__gte=start)
    return [campaign_report(c) for c in rows.order_by("starts", "pk")]


def offer_words(offer: Offer) -> list[str]:
    """An offer in words, for the order form."""
    words = []
    if offer.entry_amount is not None:
        words.append(_("Entry order from ¥%(amount)s") % {"amount": offer.entry_amount})
    if offer.min_restock_qty is not None:
        words.append(_("Restock from %(n)d units") % {"n": offer.min_restock_qty})
    if offer.gift_qty:
        words.append(
            _("%(qty)d × %(gift)s free with an order of ¥%(amount)s or more")
            % {"qty": offer.gift_qty, "gift": offer.gift_name, "amount": offer.gift_min_amount}
        )
    return words


def seats_of(campaign: Campaign):
    return (
        CampaignSeat.objects.filter(campaign=campaign)
        .select_related("agent__user", "agent__level", "order")
        .order_by("-taken_at")
    )
