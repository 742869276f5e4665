"""Plan versions, reward lines, settlement runs, and which outbox events the engine has consumed.

The rules themselves live once, in ``weishang.plans`` (pure Python); these models keep what the
rules produced and which plan produced it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from weishang.channel.models import Agent
from weishang.core import clock
from weishang.core.models import OutboxEvent
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES


def _plan_history_user(request=None, instance=None, **kwargs):
    """Who changed a plan version: the console user, or (from a command) whoever the service
    recorded as activating or uploading it."""
    if request is not None:
        return request.user
    if instance is not None:
        return instance.activated_by or instance.uploaded_by
    return None


class PlanVersion(models.Model):
    """One uploaded version of a plan file, kept exactly as written. Once activated it never
    changes: an edit is a new version. Its history (upload, replacement of a draft, activation)
    is kept with who and when."""

    plan_id = models.SlugField(_("plan id"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20)
    jurisdiction = models.CharField(_("jurisdiction"), max_length=10)
    source = models.TextField(_("plan file (YAML)"))
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=clock.now)
    active_from = models.DateTimeField(
        _("active from"),
        null=True,
        blank=True,
        help_text=_(
            "Set on activation; the plan in force at a time is the activated version with the latest start before it."
        ),
    )
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("activated by"),
    )
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    synced_at = models.DateTimeField(
        _("catalog synced"),
        null=True,
        blank=True,
        help_text=_("When its levels, prices and supply mode were written to the catalog and brand settings."),
    )
    history = HistoricalRecords(get_user=_plan_history_user)

    class Meta:
        ordering = ["plan_id", "-version"]
        verbose_name = _("plan version")
        verbose_name_plural = _("plans")
        constraints = [models.UniqueConstraint(fields=["plan_id", "version"], name="planversion_unique")]

    def __str__(self) -> str:
        return f"{self.plan_id} v{self.version}"

    @property
    def is_activated(self) -> bool:
        return self.activated_at is not None


class PlanAcknowledgement(models.Model):
    """Audit record: who accepted a plan's HIGH linter findings when activating it, when, and why."""

    version = models.ForeignKey(
        PlanVersion, on_delete=models.PROTECT, related_name="acknowledgements", verbose_name=_("plan")
    )
    jurisdiction = models.CharField(_("jurisdiction"), max_length=10)
    findings = models.JSONField(_("findings accepted"), default=list)
    text = models.TextField(_("acknowledgement"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("when"), default=clock.now)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("plan risk acknowledgement")
        verbose_name_plural = _("plan risk acknowledgements")

    def __str__(self) -> str:
        return f"{self.version} · {self.at:%Y-%m-%d}"


class RewardKind(models.TextChoices):
    REWARD = "reward", _("Reward")
    MARGIN = "margin", _("Margin (price differential)")
    PRIZE = "prize", _("Prize")
    BUYBACK = "buyback", _("Buyback on exit")


class RewardStatus(models.TextChoices):
    FROZEN = "frozen", _("Frozen (待结算)")
    AVAILABLE = "available", _("Available (已结算)")
    CANCELLED = "cancelled", _("Cancelled (order refunded before release)")
    REVERSED = "reversed", _("Reversed (order refunded after release)")
    AWARDED = "awarded", _("Awarded (prize to be handed over)")
    RECORDED = "recorded", _("Recorded (not paid by the brand)")


class RewardLine(models.Model):
    """What one rule of one plan version gave one beneficiary for one event — once.

    Paid lines move money in the ledger (``entry``; ``release_entry`` when released,
    ``reversal_entry`` when taken back). A margin is the seller's own price differential: it is
    recorded for income figures and the linter, but the brand pays nothing (status ``recorded``).
    """

    # No single-column index where a composite one leads with the column (``rewardline_agent``), and
    # partial ones for the columns most lines leave empty (see Meta): each index is written for
    # every line, and settlement writes many.
    beneficiary = models.ForeignKey(
        Agent, on_delete=models.PROTECT, related_name="reward_lines", verbose_name=_("beneficiary"), db_index=False
    )
    amount = models.DecimalField(_("amount"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    kind = models.CharField(_("kind"), max_length=10, choices=RewardKind.choices)
    rule_id = models.CharField(_("rule"), max_length=60)
    plan = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("plan"))
    source_event = models.CharField(_("source event"), max_length=120)
    generation = models.PositiveSmallIntegerField(_("generation"), default=0)
    payer = models.ForeignKey(
        Agent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("paid by"),
        help_text=_("Empty = the company pays."),
        db_index=False,
    )
    order = models.ForeignKey(
        "trade.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
        db_index=False,
    )
    period = models.CharField(_("period"), max_length=10, blank=True)
    explanation = models.JSONField(_("explanation"), default=dict)
    explanation_zh = models.CharField(_("explanation (Chinese)"), max_length=300, blank=True)
    explanation_en = models.CharField(_("explanation (English)"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=RewardStatus.choices)
    release_at = models.DateTimeField(_("release on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    release_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    reversal_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("reward line")
        verbose_name_plural = _("reward lines")
        constraints = [
            models.UniqueConstraint(
                fields=["source_event", "rule_id", "beneficiary", "generation"], name="rewardline_once"
            ),
        ]
        # Partial indexes where most lines have nothing to find: settlement's lines (tens of
        # thousands a month) are available at once, with no order, payer, release or reversal, and
        # enter none of these (a query on ``order_id = …`` implies ``order_id IS NOT NULL``, so the
        # databases use them as before).
        indexes = [
            models.Index(
                fields=["status", "release_at"], name="rewardline_release", condition=Q(status=RewardStatus.FROZEN)
            ),
            models.Index(fields=["beneficiary", "status"], name="rewardline_agent"),
            models.Index(fields=["order"], name="rewardline_order", condition=Q(order__isnull=False)),
            models.Index(fields=["payer"], name="rewardline_payer", condition=Q(payer__isnull=False)),
            models.Index(
                fields=["release_entry"], name="rewardline_release_entry", condition=Q(release_entry__isnull=False)
            ),
            models.Index(
                fields=["reversal_entry"], name="rewardline_reversal_entry", condition=Q(reversal_entry__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} → {self.beneficiary_id}: ¥{self.amount}"

    def explanation_text(self) -> str:
        from django.utils.translation import get_language

        lang = (get_language() or "zh-hans").lower()
        return (self.explanation_en if lang.startswith("en") else self.explanation_zh) or self.explanation_zh


class EventReceipt(models.Model):
    """An outbox event a consumer has handled: each is handled once, in the transaction that
    records its effects."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="receipts")
    consumer = models.CharField(max_length=30)
    handled_at = models.DateTimeField(default=clock.now)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("event receipt")
        verbose_name_plural = _("event receipts")
        constraints = [models.UniqueConstraint(fields=["event", "consumer"], name="eventreceipt_once")]


class SettlementRun(models.Model):
    """One period's settlement (team ladder, target awards). Rerunning it changes nothing; a run
    interrupted half-way finishes the agents it had not reached."""

    period = models.CharField(_("period"), max_length=10, help_text=_("2026-11, 2026-Q4 or 2026."))
    plan = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("plan"))
    started_at = models.DateTimeField(_("started"), default=clock.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    lines = models.PositiveIntegerField(_("reward lines"), default=0)
    total = models.DecimalField(_("rewards paid"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0)
    volume = models.DecimalField(
        _("purchases in the period"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0
    )
    # The background task settling it, when the console started it (rewards.tasks.settle_run).
    task_id = models.CharField(_("background task"), max_length=64, blank=True, default="", editable=False)

    class Meta:
        ordering = ["-period"]
        verbose_name = _("settlement run")
        verbose_name_plural = _("settlement runs")
        constraints = [models.UniqueConstraint(fields=["period", "plan"], name="settlementrun_once")]

    def __str__(self) -> str:
        return self.period

    @property
    def payout_ratio(self):
        return (self.total / self.volume) if self.volume else None


class SettlementReport(models.Model):
    """Per agent and period: the figures settlement used and what it paid."""

    # Indexed by the unique (run, agent) and by (agent, run): no single-column indexes besides.
    run = models.ForeignKey(SettlementRun, on_delete=models.PROTECT, related_name="reports", db_index=False)
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+", db_index=False)
    personal_purchase = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0)
    team_purchase = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0)
    rewards = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0)

    class Meta:
        verbose_name = _("settlement report")
        verbose_name_plural = _("settlement reports")
        constraints = [models.UniqueConstraint(fields=["run", "agent"], name="settlementreport_once")]
        indexes = [models.Index(fields=["agent", "run"], name="settlementreport_agent")]
