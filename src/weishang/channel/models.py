"""The agent channel: levels, agents, their three relations, the tree indexes, the
relationship change log (代理轨迹) and applications.

Truth for each tree is a parent foreign key (``Agent.supplier``, ``Agent.referrer``). The
closure tables ``SupplierLink`` and ``ReferrerLink`` are derived indexes kept right by
``channel.tree`` inside the same transaction as every change of a parent key, and checked by
``weishang tree verify``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from weishang.core import clock
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES
from weishang.core.validators import mask_id_number, validate_phone

ZERO = Decimal("0")


class Approver(models.TextChoices):
    SUPPLIER = "supplier", _("Supplier upline (brand staff if the company supplies)")
    BRAND = "brand", _("Brand staff")


class Level(models.Model):
    """An agent level (联创, 总代, 省代, 市代, 特约 …). Rank 1 is the highest."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True, help_text=_("1 is the highest level."))
    entry_amount = models.DecimalField(
        _("entry order amount"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
        help_text=_("The first purchase (授权单) this level requires, in yuan. 0 = none."),
    )
    discount = models.DecimalField(
        _("discount"),
        max_digits=4,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("1"))],
        help_text=_("Level price = retail price × discount, unless the price grid overrides it."),
    )
    min_restock_qty = models.PositiveIntegerField(_("minimum units per restock order"), default=1)
    approver = models.CharField(
        _("applications approved by"), max_length=10, choices=Approver.choices, default=Approver.SUPPLIER
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["rank"]
        verbose_name = _("level")
        verbose_name_plural = _("levels")
        constraints = [
            models.CheckConstraint(condition=Q(entry_amount__gte=0), name="level_entry_amount_not_negative"),
            models.CheckConstraint(condition=Q(discount__gt=0) & Q(discount__lte=1), name="level_discount_in_range"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_higher_than(self, other: Level) -> bool:
        return self.rank < other.rank


class AgentStatus(models.TextChoices):
    APPLICANT = "applicant", _("Applicant (entry order owed)")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    EXITED = "exited", _("Exited")


class Agent(models.Model):
    """An agent (代理): a user account plus their level and three separate relations."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agent", verbose_name=_("login")
    )
    real_name = models.CharField(_("real name"), max_length=50)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    level = models.ForeignKey(Level, on_delete=models.PROTECT, related_name="agents", verbose_name=_("level"))
    status = FSMField(_("status"), max_length=12, choices=AgentStatus.choices, default=AgentStatus.APPLICANT)
    invite_code = models.CharField(_("invite code"), max_length=12, unique=True)
    supplier = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supplied_agents",
        verbose_name=_("supplier"),
        help_text=_("The upline who fills this agent's orders; empty = the company."),
    )
    referrer = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referred_agents",
        verbose_name=_("referrer"),
        help_text=_("Who recruited this agent; teams follow this tree."),
    )
    introducer = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="introduced_agents",
        verbose_name=_("introducer"),
    )
    wechat_id = models.CharField(
        _("WeChat id"),
        max_length=20,
        blank=True,
        db_index=True,
        help_text=_("微信号: customers look the agent up by it on the public /verify/ page."),
    )
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
        help_text=_(
            "Where the agent is authorized to sell: shown on the certificate, read by the channel-conflict report."
        ),
    )
    entry_due = models.DecimalField(
        _("entry order owed"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=ZERO,
        help_text=_("Amount of the entry order the level requires and that is not yet paid."),
    )
    joined_at = models.DateTimeField(_("joined"), default=clock.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        permissions = [("move_agent", _("Can move an agent and their team in the tree"))]
        constraints = [
            models.CheckConstraint(condition=~Q(supplier=models.F("pk")), name="agent_not_own_supplier"),
            models.CheckConstraint(condition=~Q(referrer=models.F("pk")), name="agent_not_own_referrer"),
            models.CheckConstraint(condition=Q(entry_due__gte=0), name="agent_entry_due_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.real_name} ({self.level.name})" if self.level_id else self.real_name

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone(self) -> str:
        return self.user.phone or ""

    # --- status transitions: called only from channel.services ---------------------------
    @transition(field=status, source=AgentStatus.APPLICANT, target=AgentStatus.ACTIVE)
    def activate(self) -> None:
        pass

    @transition(field=status, source=AgentStatus.ACTIVE, target=AgentStatus.SUSPENDED)
    def suspend(self) -> None:
        pass

    @transition(field=status, source=AgentStatus.SUSPENDED, target=AgentStatus.ACTIVE)
    def reinstate(self) -> None:
        pass

    @transition(
        field=status,
        source=[AgentStatus.APPLICANT, AgentStatus.ACTIVE, AgentStatus.SUSPENDED],
        target=AgentStatus.EXITED,
    )
    def exit(self) -> None:
        pass


class TreeLink(models.Model):
    """One (ancestor, descendant) pair of a tree, with the number of steps between them.

    Every agent has a link to itself at depth 0, so "the team of X" is simply
    ``ancestor = X``, and "the chain above X" is ``descendant = X``.
    """

    ancestor = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+", db_index=False)
    descendant = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+", db_index=False)
    depth = models.PositiveIntegerField()

    class Meta:
        abstract = True


class ReferrerLink(TreeLink):
    class Meta:
        verbose_name = _("referrer tree link")
        constraints = [models.UniqueConstraint(fields=["descendant", "ancestor"], name="referrerlink_unique")]
        indexes = [models.Index(fields=["ancestor", "depth", "descendant"], name="referrerlink_team")]


class SupplierLink(TreeLink):
    class Meta:
        verbose_name = _("supplier tree link")
        constraints = [models.UniqueConstraint(fields=["descendant", "ancestor"], name="supplierlink_unique")]
        indexes = [models.Index(fields=["ancestor", "depth", "descendant"], name="supplierlink_team")]


class TrailKind(models.TextChoices):
    JOINED = "joined", _("Joined")
    LEVEL = "level", _("Level")
    SUPPLIER = "supplier", _("Supplier")
    REFERRER = "referrer", _("Referrer")
    INTRODUCER = "introducer", _("Introducer")
    STATUS = "status", _("Status")
    REGION = "region", _("Region")


class AgentTrail(models.Model):
    """The relationship change log (代理轨迹): one immutable row per change, with who, when, why."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="trail", verbose_name=_("agent"))
    kind = models.CharField(_("what changed"), max_length=12, choices=TrailKind.choices)
    old_value = models.CharField(_("from"), max_length=100, blank=True)
    new_value = models.CharField(_("to"), max_length=100, blank=True)
    old_ref = models.BigIntegerField(
        _("old id"), null=True, blank=True, help_text=_("id of the old level or agent, if any")
    )
    new_ref = models.BigIntegerField(
        _("new id"), null=True, blank=True, help_text=_("id of the new level or agent, if any")
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    changed_at = models.DateTimeField(_("when"), default=clock.now, db_index=True)
    reason = models.CharField(_("why"), max_length=300, blank=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name = _("relationship change")
        verbose_name_plural = _("relationship log (代理轨迹)")

    def __str__(self) -> str:
        return f"{self.agent}: {self.get_kind_display()} {self.old_display} → {self.new_display}"

    def _display(self, value: str) -> str:
        # Status changes store the status code, shown in the reader's language.
        if self.kind == TrailKind.STATUS and value in AgentStatus.values:
            return str(AgentStatus(value).label)
        return value

    @property
    def old_display(self) -> str:
        return self._display(self.old_value)

    @property
    def new_display(self) -> str:
        return self._display(self.new_value)


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Application(models.Model):
    """A person's application for a level, through an agent's invite or the brand's own link."""

    phone = models.CharField(_("phone"), max_length=20, validators=[validate_phone])
    real_name = models.CharField(_("real name"), max_length=50)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region")
    )
    password_hash = models.CharField(max_length=256, editable=False)
    level = models.ForeignKey(Level, on_delete=models.PROTECT, related_name="+", verbose_name=_("level applied for"))
    inviter = models.ForeignKey(
        Agent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invited_applications",
        verbose_name=_("invited by"),
        help_text=_("Becomes the referrer. Empty = the brand's own link."),
    )
    approver = models.ForeignKey(
        Agent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications_to_decide",
        verbose_name=_("approver"),
        help_text=_("The supplier upline who decides; empty = brand staff."),
    )
    status = FSMField(_("status"), max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING)
    submitted_at = models.DateTimeField(_("submitted"), default=clock.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=300, blank=True)
    agent = models.OneToOneField(
        Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="application", verbose_name=_("agent")
    )
    source = models.CharField(
        _("source"),
        max_length=40,
        blank=True,
        help_text=_("The source parameter of the tracked link the applicant came through (an ad placement's code)."),
    )

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        permissions = [("decide_application", _("Can approve or reject applications"))]
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=Q(status="pending"), name="application_one_pending_per_phone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.real_name} → {self.level}"

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @transition(field=status, source=ApplicationStatus.PENDING, target=ApplicationStatus.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=status, source=ApplicationStatus.PENDING, target=ApplicationStatus.REJECTED)
    def reject(self) -> None:
        pass
