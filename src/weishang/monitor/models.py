"""Channel health (渠道健康): a month's live figures beside the plan's forecast, and the alerts.

``HealthSnapshot``: one month's figures as ``weishang plan monitor --save`` computed them (the
live figures, the forecast for the same month of the plan's run, each rule's verdict with its
citation). ``HealthAlert``: one breach of one rule in one month, written once (unique on period and
rule), so the owner is told once. ``ForecastCache``: the simulator's report for a plan version,
a scenario file and a number of months, run once (docs/decisions.md, "Channel health").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from weishang.core import clock


class HealthSnapshot(models.Model):
    period = models.CharField(_("calendar month"), max_length=7, unique=True, help_text=_("YYYY-MM, China time."))
    plan_label = models.CharField(_("plan"), max_length=80, blank=True)
    jurisdiction = models.CharField(_("jurisdiction"), max_length=10)
    figures = models.JSONField(_("live figures"), default=dict)
    forecast = models.JSONField(_("forecast"), default=dict)
    verdicts = models.JSONField(_("verdicts"), default=list)
    computed_at = models.DateTimeField(_("computed"), default=clock.now)

    class Meta:
        ordering = ["-period"]
        verbose_name = _("channel health month")
        verbose_name_plural = _("channel health")

    def __str__(self) -> str:
        return self.period


class HealthAlert(models.Model):
    period = models.CharField(_("calendar month"), max_length=7)
    rule = models.CharField(_("rule"), max_length=20)
    status = models.CharField(_("verdict"), max_length=8)
    source = models.CharField(_("citation"), max_length=300)
    message = models.TextField(_("message"), blank=True, help_text=_("What the rule found, in Chinese."))
    message_en = models.TextField(_("message (English)"), blank=True)
    figures = models.JSONField(_("figures"), default=dict)
    created_at = models.DateTimeField(_("raised"), default=clock.now)
    emailed = models.PositiveIntegerField(_("owners emailed"), default=0)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )

    class Meta:
        ordering = ["-period", "rule"]
        verbose_name = _("channel health alert")
        verbose_name_plural = _("channel health alerts")
        constraints = [models.UniqueConstraint(fields=["period", "rule"], name="healthalert_once")]

    def __str__(self) -> str:
        return f"{self.period} {self.rule} {self.status}"


class ForecastCache(models.Model):
    plan_sha256 = models.CharField(max_length=64)
    scenario_sha256 = models.CharField(max_length=64)
    months = models.PositiveIntegerField()
    report = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("forecast cache")
        verbose_name_plural = _("forecast caches")
        constraints = [
            models.UniqueConstraint(fields=["plan_sha256", "scenario_sha256", "months"], name="forecastcache_once")
        ]
