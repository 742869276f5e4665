"""Writes of the campaigns: a campaign from its file, scheduled only when the linter finds no
CRIT for the brand's jurisdiction, cancelled, costed; an agent's order that takes part in one
(``campaign_order_submit``: trade's ``order_submit`` with the campaign as its ``OrderOffer``);
and the seats following their orders from the outbox (``seats_sync``).

Seats and gifts are counters on the campaign moved by one guarded UPDATE each
(``seats_taken < seats``): twenty orders racing for five seats make five seats, whatever the
database. An agent's seats are counted under the buyer's lock ``order_submit`` already holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from pydantic import ValidationError

from weishang.campaigns import selectors
from weishang.campaigns.models import Campaign, CampaignCost, CampaignSeat, CampaignStatus, SeatStatus
from weishang.catalog.models import SKU
from weishang.channel.models import Agent, Level
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict, NotFound
from weishang.core.money import to_money
from weishang.core.outbox import outbox_follow
from weishang.core.text import record_text
from weishang.ledger import services as ledger
from weishang.ledger.models import JournalEntry, Purpose
from weishang.plans.campaign import CampaignOverlay, apply_overlay
from weishang.rewards.labels import severity_label, value_text
from weishang.rewards.plan_versions import PlanBlocked, plan_in_force, plan_of
from weishang.trade import services as trade
from weishang.trade.models import Order, OrderKind, OrderStatus
from weishang.trade.workflow import PAID_STATUSES

GIVEN_BACK = (OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.REFUNDED)


def _parse(text: str) -> CampaignOverlay:
    try:
        return selectors.overlay_of_text(text)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '—'}: {error['msg']}" for error in exc.errors()[:5]
        )
        raise BusinessError(
            _("The campaign file is not valid: %(problems)s") % {"problems": problems}, field="overlay"
        ) from None
    except ValueError as exc:
        raise BusinessError(
            _("The campaign file is not valid: %(problems)s") % {"problems": exc}, field="overlay"
        ) from None


def check_overlay(overlay: str, *, campaign: Campaign | None = None) -> CampaignOverlay:
    """The campaign file read and checked against the catalog and the plan in force: its id
    free, its gift a product on sale, its level codes and reward ids fitting the plan."""
    parsed = _parse(overlay)
    others = Campaign.objects.filter(code=parsed.id)
    if campaign is not None:
        others = others.exclude(pk=campaign.pk)
    if others.exists():
        raise Conflict(_("Another campaign has the id %(id)s.") % {"id": parsed.id}, field="overlay")
    gift = parsed.offers.gift
    if gift is not None and not SKU.objects.filter(code=gift.sku, active=True).exists():
        raise BusinessError(_("The gift %(sku)s is not a product on sale.") % {"sku": gift.sku}, field="overlay")
    version = plan_in_force()
    if version is not None:
        try:
            apply_overlay(plan_of(version), parsed)
        except ValueError as exc:
            raise BusinessError(str(exc), field="overlay") from None
    return parsed


@transaction.atomic
def campaign_save(*, overlay: str, by, campaign: Campaign | None = None) -> Campaign:
    """Create a draft campaign from its file, or replace a draft's file. A scheduled campaign is
    not edited: cancel it and write a new one."""
    if campaign is not None:
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.DRAFT:
            raise Conflict(_("Only a draft campaign can be edited."), field="overlay")
    parsed = check_overlay(overlay, campaign=campaign)
    gift = parsed.offers.gift
    campaign = campaign or Campaign(created_by=by)
    campaign.code, campaign.name, campaign.overlay = parsed.id, parsed.name, overlay
    campaign.starts, campaign.ends = parsed.starts, parsed.ends
    campaign.seats, campaign.per_agent_limit, campaign.budget = parsed.seats, parsed.per_agent_limit, parsed.budget
    campaign.gift_quantity = gift.quantity if gift is not None else None
    campaign.save()
    return campaign


@transaction.atomic
def campaign_schedule(*, campaign: Campaign, by) -> Campaign:
    """Draft → scheduled, once the linter finds no CRIT on the plan in force with the campaign
    laid over it, for the brand's jurisdiction (``PlanBlocked`` with the findings otherwise)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise Conflict(_("Only a draft campaign can be scheduled."), field="status")
    if campaign.ends < clock.today():
        raise BusinessError(_("This campaign ended on %(day)s.") % {"day": campaign.ends}, field="overlay")
    if plan_in_force() is None:
        raise Conflict(_("A campaign is laid over the plan in force, and none is in force."), field="status")
    _parse(campaign.overlay)
    report = selectors.campaign_lint(campaign)
    assert report is not None  # a plan is in force
    crit = [f for f in report.findings if f.severity == "CRIT"]
    if crit:
        raise PlanBlocked(
            _(
                "The linter finds %(n)d %(severity)s finding(s) for %(where)s (%(rules)s): this campaign "
                "cannot start. Its findings say what triggered each one."
            )
            % {
                "n": len(crit),
                "severity": severity_label("CRIT"),
                "where": value_text("jurisdiction", report.jurisdiction),
                "rules": ", ".join(sorted({f.rule for f in crit})),
            },
            crit,
        )
    campaign.status, campaign.scheduled_by, campaign.scheduled_at = CampaignStatus.SCHEDULED, by, clock.now()
    campaign.lint, campaign.jurisdiction = [f.as_dict() for f in report.findings], report.jurisdiction
    campaign.save(update_fields=["status", "scheduled_by", "scheduled_at", "lint", "jurisdiction"])
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, by, reason: str) -> Campaign:
    """A draft or scheduled campaign stops taking orders. The orders that took part keep their
    seats and gifts: they were promised."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == CampaignStatus.CANCELLED:
        raise Conflict(_("This campaign is already cancelled."), field="status")
    if not reason.strip():
        raise BusinessError(_("Say why the campaign is cancelled."), field="reason")
    campaign.status, campaign.cancelled_by, campaign.cancelled_at = CampaignStatus.CANCELLED, by, clock.now()
    campaign.cancel_reason = reason.strip()[:200]
    campaign.save(update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason"])
    return campaign


@transaction.atomic
def campaign_cost_add(*, campaign: Campaign, label: str, amount, by, note: str = "") -> CampaignCost:
    """A real cost (a trip, a venue). A correction is a negative line with its reason."""
    try:
        value = to_money(amount) if not isinstance(amount, float) else None
    except (InvalidOperation, TypeError, ValueError):
        value = None
    if value is None or value == 0 or abs(value) >= Decimal("1e12"):
        raise BusinessError(_("Enter an amount in yuan, other than 0."), field="amount")
    if not label.strip():
        raise BusinessError(_("Say what the cost is for."), field="label")
    if value < 0 and not note.strip():
        raise BusinessError(_("A correction needs its reason."), field="note")
    return CampaignCost.objects.create(
        campaign=campaign, label=label.strip()[:100], amount=value, note=note.strip()[:200], recorded_by=by
    )


# --- taking part ----------------------------------------------------------------------------


class CampaignOffer:
    """A campaign as trade's ``OrderOffer``: its terms for the order's checks, then its seat."""

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        self.overlay = selectors.overlay_of(campaign)
        self.terms_given = trade.OfferTerms()
        self.kind = ""

    def terms(self, *, buyer: Agent, kind: str, level: Level) -> trade.OfferTerms:
        campaign = Campaign.objects.get(pk=self.campaign.pk)
        if campaign.phase_on(clock.today()) != "running":
            raise Conflict(_("%(name)s is not running now.") % {"name": campaign.name}, field="campaign")
        offers = self.overlay.offers
        self.kind = kind
        self.terms_given = trade.OfferTerms(
            entry_amount=offers.entry.get(level.code) if kind == OrderKind.ENTRY else None,
            min_restock_qty=offers.min_restock_qty.get(level.code) if kind == OrderKind.RESTOCK else None,
        )
        return self.terms_given

    def take(self, *, order: Order, units: int) -> list[tuple[SKU, int]]:
        campaign, gift = self.campaign, self.overlay.offers.gift
        wants_gift = gift is not None and self.kind in gift.kinds and order.total >= gift.min_amount
        eased = self.terms_given.entry_amount is not None or self.terms_given.min_restock_qty is not None
        if not (eased or wants_gift):
            raise BusinessError(
                _("This order does not qualify for %(name)s.") % {"name": campaign.name}, field="campaign"
            )
        mine = CampaignSeat.objects.filter(campaign=campaign, agent=order.buyer, status__in=selectors.HOLDING)
        if mine.count() >= campaign.per_agent_limit:
            raise Conflict(
                _("You already hold your %(n)d seat(s) in %(name)s.")
                % {"n": campaign.per_agent_limit, "name": campaign.name},
                field="campaign",
                code="campaign_seat_held",
            )
        seats = Campaign.objects.filter(pk=campaign.pk)
        if campaign.seats is not None:
            seats = seats.filter(seats_taken__lt=F("seats"))
        if not seats.update(seats_taken=F("seats_taken") + 1):
            raise Conflict(
                _("%(name)s is full: all its seats are taken.") % {"name": campaign.name},
                field="campaign",
                code="campaign_full",
            )
        given = 0
        if wants_gift:
            assert gift is not None
            left = Campaign.objects.filter(pk=campaign.pk)
            if campaign.gift_quantity is not None:
                left = left.filter(gifts_given__lte=F("gift_quantity") - gift.qty)
            if left.update(gifts_given=F("gifts_given") + gift.qty):
                given = gift.qty
            elif not eased:
                raise Conflict(
                    _("The gifts of %(name)s are all given.") % {"name": campaign.name},
                    field="campaign",
                    code="campaign_gifts_out",
                )
        assert order.buyer is not None  # an agent's order (order_submit)
        CampaignSeat.objects.create(campaign=campaign, agent=order.buyer, order=order, gift_qty=given)
        return [(SKU.objects.get(code=gift.sku), given)] if given and gift is not None else []


def campaign_order_submit(*, campaign: Campaign | str, **order) -> Order:
    """``trade.services.order_submit`` taking part in ``campaign`` (or its code)."""
    if isinstance(campaign, str):
        found = Campaign.objects.filter(code=campaign).first()
        if found is None:
            raise NotFound(_("There is no such campaign."), field="campaign")
        campaign = found
    return trade.order_submit(offer=CampaignOffer(campaign), **order)


# --- following the orders -------------------------------------------------------------------

_GIFT = gettext_noop("Campaign gift shipped for the brand")
_GIFT_BACK = gettext_noop("Campaign gift taken back (order cancelled or refunded)")


def _gift_paid(seat: CampaignSeat, *, back: bool) -> None:
    """An upline who ships the brand's gift is paid its cost from the promotion expense account
    when the order is paid, and gives it back if the order is refunded."""
    order = seat.order
    gift = selectors.overlay_of(seat.campaign).offers.gift
    if order.seller_id is None or gift is None or not seat.gift_qty or gift.cost <= 0:
        return
    amount = gift.cost * seat.gift_qty
    key = f"campaign-gift:{seat.pk}"
    if back and not JournalEntry.objects.filter(idempotency_key=key).exists():
        return
    wallet = ledger.account_for(owner=order.seller, purpose=Purpose.AGENT_WALLET)
    expense = ledger.account_for(owner=None, purpose=Purpose.BRAND_PROMOTION_EXPENSE)
    source, target = (wallet, expense) if back else (expense, wallet)
    ledger.journal_post(
        lines=[ledger.debit(source, amount), ledger.credit(target, amount)],
        kind="campaign_back" if back else "campaign",
        idempotency_key=f"{key}:back" if back else key,
        reference=f"order:{order.number}",
        memo=record_text(_GIFT_BACK if back else _GIFT),
        allow_negative={Purpose.AGENT_WALLET} if back else None,
    )


@transaction.atomic
def seats_sync(*, orders: Iterable[str] | None = None) -> int:
    """Bring the seats of ``orders`` (numbers; None: every seat still held) in line with their
    order: paid → the seat is paid (an upline shipping the gift is paid its cost); cancelled,
    rejected or refunded → the seat and the gifts go back to the campaign. Idempotent; returns
    how many seats changed."""
    held = CampaignSeat.objects.filter(status__in=selectors.HOLDING)
    if orders is not None:
        held = held.filter(order__number__in=list(orders))
    changed = 0
    for seat in held.select_for_update(of=("self",)).select_related("order__seller", "campaign").order_by("pk"):
        status = seat.order.status
        if status in GIVEN_BACK:
            if seat.status == SeatStatus.PAID:
                _gift_paid(seat, back=True)
            Campaign.objects.filter(pk=seat.campaign_id).update(
                seats_taken=F("seats_taken") - 1, gifts_given=F("gifts_given") - seat.gift_qty
            )
            new = SeatStatus.REFUNDED if status == OrderStatus.REFUNDED else SeatStatus.RETURNED
        elif status in PAID_STATUSES and seat.status == SeatStatus.TAKEN:
            _gift_paid(seat, back=False)
            new = SeatStatus.PAID
        else:
            continue
        CampaignSeat.objects.filter(pk=seat.pk).update(status=new, settled_at=clock.now())
        changed += 1
    return changed


FOLLOWED_TOPICS = ("order.paid", "order.cancelled", "order.rejected", "order.refunded", "order.completed")


def _handle(events) -> None:
    seats_sync(orders={event.payload.get("order") for event in events if event.payload.get("order")})


def campaigns_follow_events() -> int:
    """The outbox consumer: orders paid, cancelled, rejected or refunded since the last run. An
    event read out of order is healed by ``seats_sync()`` with no orders (``weishang campaigns sync``)."""
    return outbox_follow("campaigns", FOLLOWED_TOPICS, _handle)
