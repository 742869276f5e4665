"""Meetings (会议): a 招商会, 沙龙, 私董会, 启动会, 裂变会 or online class, its real costs, and the
people invited to it or checked in at its door.

A ``Meeting`` has a schedule, a venue (with its region) or an online link, a host and a closing
speaker (names, optionally agents), a budget, and an attribution window of N days: what the guests
do in [start, start + N days) is the meeting's outcome (``meetings.selectors``). Its ``checkin_token``
is the random part of the door QR's link. ``MeetingCost`` rows are its real costs, never edited:
a correction is a negative row with its reason. An ``Invitation`` is one person at one meeting —
a lead or an agent (a member), invited by an agent or walked in — with their RSVP and the time
they checked in at the door; one per meeting and person.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from weishang.core import clock
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES


def new_token() -> str:
    return secrets.token_urlsafe(18)


class MeetingKind(models.TextChoices):
    RECRUITMENT = "recruitment", _("Recruitment meeting (招商会)")
    SALON = "salon", _("Salon (沙龙)")
    PRIVATE_BOARD = "private_board", _("Private board meeting (私董会)")
    LAUNCH = "launch", _("Launch meeting (启动会)")
    TEAM_GROWTH = "team_growth", _("Team-growth meeting (裂变会)")
    ONLINE_CLASS = "online_class", _("Online class (线上课)")


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class Meeting(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=MeetingKind.choices)
    title = models.CharField(_("title"), max_length=80)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region")
    )
    online_link = models.URLField(_("online link"), max_length=300, blank=True)
    host_name = models.CharField(_("host"), max_length=50, blank=True)
    host_agent = models.ForeignKey(
        "channel.Agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("host (agent)"),
    )
    closing_name = models.CharField(
        _("closing speaker"), max_length=50, blank=True, help_text=_("Who closes the meeting (收单老师).")
    )
    closing_agent = models.ForeignKey(
        "channel.Agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closing speaker (agent)"),
    )
    budget = models.DecimalField(_("budget"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0)
    window_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"),
        default=30,
        help_text=_("What the guests do within this many days of the start counts for the meeting."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    checkin_token = models.CharField(_("check-in token"), max_length=40, unique=True, default=new_token)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        indexes = [models.Index(fields=["starts_at"], name="meetings_starts")]

    def __str__(self) -> str:
        return self.title


class CostKind(models.TextChoices):
    VENUE = "venue", _("Venue (场地)")
    TRAVEL = "travel", _("Travel and lodging (差旅)")
    GIFTS = "gifts", _("Gifts (礼品)")
    SPEAKERS = "speakers", _("Speakers (讲师)")
    CATERING = "catering", _("Catering (餐饮)")
    MATERIALS = "materials", _("Materials (物料)")
    OTHER = "other", _("Other (其他)")


class MeetingCost(models.Model):
    """A real cost of a meeting. Never edited: a correction is a negative line with its reason."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="costs", verbose_name=_("meeting"))
    kind = models.CharField(_("kind"), max_length=10, choices=CostKind.choices)
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
        verbose_name = _("meeting cost")
        verbose_name_plural = _("meeting costs")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class Rsvp(models.TextChoices):
    NONE = "", _("No answer yet")
    YES = "yes", _("Coming")
    MAYBE = "maybe", _("Maybe")
    NO = "no", _("Not coming")


class Invitation(models.Model):
    """One person at one meeting: a lead or an agent member, invited by an agent (or walked in)."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, related_name="invitations", verbose_name=_("meeting")
    )
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("lead")
    )
    agent = models.ForeignKey(
        "channel.Agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meeting_invitations",
        verbose_name=_("agent (member)"),
    )
    name = models.CharField(_("name"), max_length=50)
    invited_by = models.ForeignKey(
        "channel.Agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invitations_sent",
        verbose_name=_("invited by"),
    )
    token = models.CharField(_("link token"), max_length=40, unique=True, default=new_token)
    rsvp = models.CharField(_("RSVP"), max_length=5, choices=Rsvp.choices, blank=True, default=Rsvp.NONE)
    rsvp_at = models.DateTimeField(_("answered"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    created_at = models.DateTimeField(_("invited"), default=clock.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "lead"], condition=Q(lead__isnull=False), name="inv_one_per_lead"
            ),
            models.UniqueConstraint(
                fields=["meeting", "agent"], condition=Q(agent__isnull=False), name="inv_one_per_agent"
            ),
            models.CheckConstraint(
                condition=Q(lead__isnull=True, agent__isnull=False) | Q(lead__isnull=False, agent__isnull=True),
                name="inv_lead_or_agent",
            ),
        ]
        indexes = [
            models.Index(fields=["invited_by", "created_at"], name="inv_by_created"),
            models.Index(fields=["checked_in_at"], name="inv_checked_in"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting}: {self.name}"
