"""Launch phases with their targets, and agents' monthly work plans.

A ``LaunchPhase`` (招商阶段: internal recruitment through the founders' network, then public
recruitment…) has dates and ``PhaseTarget`` rows: agents made (in all, or at one level), cash
collected, meetings held, leads. Progress is computed, never stored (growth.selectors).

A ``WorkPlan`` (工作计划) is one agent's targets for one month — people to talk to, people met,
invitations, orders — set by their upline or the brand; progress fills in from the leads,
meetings and orders the agent logs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from weishang.core import clock
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES


class PhaseKind(models.TextChoices):
    INTERNAL = "internal", _("Internal recruitment (内部招商)")
    PUBLIC = "public", _("Public recruitment (公开招商)")
    OTHER = "other", _("Other (其他)")


class LaunchPhase(models.Model):
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=PhaseKind.choices)
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"), help_text=_("The last day of the phase."))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        ordering = ["starts_on", "pk"]
        verbose_name = _("launch phase")
        verbose_name_plural = _("launch phases")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="phase_ends_after_it_starts",
                violation_error_message=_("A phase ends on or after the day it starts."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class TargetMetric(models.TextChoices):
    AGENTS = "agents", _("Agents made (新增代理)")
    AGENTS_AT_LEVEL = "agents_at_level", _("Agents made at a level")
    CASH = "cash", _("Cash collected (回款), yuan")
    MEETINGS = "meetings", _("Meetings held (会议场次)")
    LEADS = "leads", _("Leads (线索)")


class PhaseTarget(models.Model):
    phase = models.ForeignKey(LaunchPhase, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(_("measure"), max_length=20, choices=TargetMetric.choices)
    level = models.ForeignKey(
        "channel.Level",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("level"),
        help_text=_("For agents made at a level."),
    )
    target = models.DecimalField(_("target"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)

    class Meta:
        ordering = ["phase", "metric", "level__rank"]
        verbose_name = _("phase target")
        verbose_name_plural = _("phase targets")
        constraints = [
            models.UniqueConstraint(fields=["phase", "metric", "level"], name="phase_target_once"),
            models.CheckConstraint(condition=Q(target__gt=0), name="phase_target_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.target}"


class WorkPlan(models.Model):
    agent = models.ForeignKey(
        "channel.Agent", on_delete=models.PROTECT, related_name="work_plans", verbose_name=_("agent")
    )
    month = models.CharField(_("month"), max_length=7, help_text=_("YYYY-MM"))
    talks = models.PositiveIntegerField(_("people to talk to"), default=0)
    meets = models.PositiveIntegerField(_("people to meet"), default=0)
    invites = models.PositiveIntegerField(_("invitations"), default=0)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("set by")
    )
    set_at = models.DateTimeField(_("set"), default=clock.now)

    class Meta:
        ordering = ["-month", "agent"]
        verbose_name = _("work plan")
        verbose_name_plural = _("work plans")
        constraints = [models.UniqueConstraint(fields=["agent", "month"], name="work_plan_once_a_month")]

    def __str__(self) -> str:
        return f"{self.agent} {self.month}"
