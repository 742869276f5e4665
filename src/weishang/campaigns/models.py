"""Live campaigns (起盘打法 / 活动策划): a ``Campaign`` is a dated overlay on the plan in force
(``plans.campaign``: its YAML is kept as written, its limits copied into columns), with its seats
and gifts counted in columns that only guarded UPDATEs move (no oversell under concurrent
orders). A ``CampaignSeat`` is one order that took part; ``CampaignCost`` rows are its real costs
(a trip, a venue), never edited: a correction is a negative row with its reason.

The status is the brand's decision (draft → scheduled, or cancelled); whether a scheduled
campaign is upcoming, running or over follows from its dates (``Campaign.phase``).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from weishang.core import clock
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft (草稿)")
    SCHEDULED = "scheduled", _("Scheduled (已排期)")
    CANCELLED = "cancelled", _("Cancelled (已取消)")


class CampaignPhase(models.TextChoices):
    DRAFT = "draft", _("Draft (草稿)")
    UPCOMING = "upcoming", _("Upcoming (未开始)")
    RUNNING = "running", _("Running (进行中)")
    ENDED = "ended", _("Ended (已结束)")
    CANCELLED = "cancelled", _("Cancelled (已取消)")


class Campaign(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True, help_text=_("The overlay's id."))
    name = models.CharField(_("name"), max_length=100)
    overlay = models.TextField(_("campaign file (YAML)"))
    starts = models.DateField(_("starts"))
    ends = models.DateField(_("ends"))
    seats = models.PositiveIntegerField(_("seats"), null=True, blank=True, help_text=_("Empty: no limit."))
    per_agent_limit = models.PositiveIntegerField(_("seats per agent"), default=1)
    gift_quantity = models.PositiveIntegerField(_("gifts in all"), null=True, blank=True)
    budget = models.DecimalField(
        _("budget"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True
    )
    seats_taken = models.PositiveIntegerField(_("seats taken"), default=0)
    gifts_given = models.PositiveIntegerField(_("gifts given"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    lint = models.JSONField(
        _("compliance findings"), default=list, blank=True, help_text=_("What the linter found when it was scheduled.")
    )
    jurisdiction = models.CharField(_("jurisdiction checked"), max_length=8, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=clock.now)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("scheduled by"),
    )
    scheduled_at = models.DateTimeField(_("scheduled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.CharField(_("why cancelled"), max_length=200, blank=True)

    class Meta:
        ordering = ["-starts", "pk"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(condition=Q(ends__gte=F("starts")), name="campaign_ends_after_start"),
            models.CheckConstraint(
                condition=Q(seats__isnull=True) | Q(seats_taken__lte=F("seats")), name="campaign_seats_not_oversold"
            ),
            models.CheckConstraint(
                condition=Q(gift_quantity__isnull=True) | Q(gifts_given__lte=F("gift_quantity")),
                name="campaign_gifts_not_oversold",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def phase_on(self, day: date) -> str:
        if self.status != CampaignStatus.SCHEDULED:
            return self.status
        if day < self.starts:
            return CampaignPhase.UPCOMING
        return CampaignPhase.RUNNING if day <= self.ends else CampaignPhase.ENDED

    @property
    def phase(self) -> str:
        return self.phase_on(clock.today())

    def get_phase_display(self) -> str:
        return str(CampaignPhase(self.phase).label)

    @property
    def seats_left(self) -> int | None:
        return None if self.seats is None else max(self.seats - self.seats_taken, 0)


class SeatStatus(models.TextChoices):
    TAKEN = "taken", _("Taken (已占用)")
    PAID = "paid", _("Paid (已付款)")
    RETURNED = "returned", _("Returned (已退回)")
    REFUNDED = "refunded", _("Refunded (已退款)")


class CampaignSeat(models.Model):
    """One order that took part in a campaign: the seat it took and the gift it ships with."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="seat_rows", verbose_name=_("campaign")
    )
    agent = models.ForeignKey("channel.Agent", on_delete=models.PROTECT, related_name="+", verbose_name=_("agent"))
    order = models.OneToOneField(
        "trade.Order", on_delete=models.PROTECT, related_name="campaign_seat", verbose_name=_("order")
    )
    gift_qty = models.PositiveIntegerField(_("gift units"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=SeatStatus.choices, default=SeatStatus.TAKEN)
    taken_at = models.DateTimeField(_("taken"), default=clock.now)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)

    class Meta:
        ordering = ["taken_at", "pk"]
        verbose_name = _("campaign seat")
        verbose_name_plural = _("campaign seats")
        indexes = [models.Index(fields=["campaign", "agent", "status"])]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.order_id}"


class CampaignCost(models.Model):
    """A real cost of a campaign. Never edited: a correction is a negative line with its reason."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="costs", verbose_name=_("campaign"))
    label = models.CharField(_("what"), max_length=100)
    amount = models.DecimalField(_("amount"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), default=clock.now)

    class Meta:
        ordering = ["recorded_at", "pk"]
        verbose_name = _("campaign cost")
        verbose_name_plural = _("campaign costs")

    def __str__(self) -> str:
        return f"{self.label} {self.amount}"
