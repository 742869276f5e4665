from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from weishang.core import clock
from weishang.core.validators import validate_phone


class User(AbstractUser):
    """A person who logs in: brand staff (``is_staff``) or an agent (has ``agent``).

    Agents log in with their phone number; staff with a username or phone.
    """

    phone = models.CharField(_("phone"), max_length=20, unique=True, null=True, blank=True, validators=[validate_phone])

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.phone or self.username


class Jurisdiction(models.TextChoices):
    CN = "cn", _("China (PRC)")
    WECHAT = "wechat", _("WeChat platform rules")
    US = "us", _("United States")
    EU = "eu", _("European Union")
    UK = "uk", _("United Kingdom")
    NONE = "none", _("None (sandbox: plans can be simulated, never activated)")


class SupplyMode(models.TextChoices):
    """Who fills an agent's restock order (plan-format.md, ``supply``)."""

    NEAREST_HIGHER_UPLINE = "nearest_higher_upline", _("The supplier upline ships from their own stock (上级发货)")
    COMPANY = "company", _("The company ships (总部发货)")
    CLOUD = "cloud", _("Cloud stock: the supplier upline's cloud stock moves to the buyer's (云仓)")


class CustomerBinding(models.TextChoices):
    FIRST = "first", _("First agent keeps the customer")
    EXPIRING = "expiring", _("Binding expires after N days")
    OVERRIDE = "override", _("Last agent takes the customer")


class Brand(models.Model):
    """The brand that runs this Weishang: one per deployment (see docs/decisions.md)."""

    name = models.CharField(_("name"), max_length=100)
    logo = models.ImageField(_("logo"), upload_to="brand/", blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    jurisdiction = models.CharField(
        _("jurisdiction"),
        max_length=10,
        choices=Jurisdiction.choices,
        default=Jurisdiction.CN,
        help_text=_("The rulebook the plan linter applies before a plan can go live."),
    )
    supply_mode = models.CharField(
        _("who fills restock orders"),
        max_length=24,
        choices=SupplyMode.choices,
        default=SupplyMode.CLOUD,
        help_text=_("Set by the active plan's `supply` key once plans exist."),
    )
    customer_binding = models.CharField(
        _("customer binding"),
        max_length=10,
        choices=CustomerBinding.choices,
        default=CustomerBinding.FIRST,
    )
    customer_binding_days = models.PositiveIntegerField(
        _("binding expires after (days)"),
        null=True,
        blank=True,
        help_text=_("Only for expiring binding."),
    )
    retail_unpaid_hours = models.PositiveIntegerField(
        _("unpaid shop orders expire after (hours)"),
        default=24,
        validators=[
            MinValueValidator(1, _("Enter at least 1 hour.")),
            MaxValueValidator(24 * 30, _("Enter at most 720 hours (30 days).")),
        ],
        help_text=_(
            "A shop order not paid within this time is cancelled by the periodic job "
            "(`weishang orders expire`); one with a transfer waiting for confirmation waits for it."
        ),
    )
    stuck_after_hours = models.PositiveIntegerField(
        _("paid orders are stuck after (hours)"),
        default=48,
        validators=[MinValueValidator(1)],
        help_text=_("A paid order not filled within this many hours appears in the console's stuck queue."),
    )
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)
    # Every change of a setting, with who made it (the audit history; core.services.brand_save).
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("brand settings")
        verbose_name_plural = _("brand settings")
        # The jurisdiction picks the rules a reward plan is checked against: the owner's (M7).
        permissions = [("change_jurisdiction", _("Can change the jurisdiction"))]

    def __str__(self) -> str:
        return self.name


class OutboxEvent(models.Model):
    """A fact other parts of the system act on (order paid, completed, refunded; level changed).

    Written in the same transaction as the change it reports, so it exists exactly when the change
    does. Consumers (M3's reward engine) process events in id order and idempotently: ``key`` is
    unique per topic, and a consumer records what it has done per event.
    """

    topic = models.CharField(_("topic"), max_length=50, db_index=True)
    key = models.CharField(_("key"), max_length=100)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        constraints = [models.UniqueConstraint(fields=["topic", "key"], name="outbox_one_per_topic_key")]

    def __str__(self) -> str:
        return f"{self.topic} {self.key}"


class OutboxCursor(models.Model):
    """How far one consumer (``name``) has read the outbox (``core.outbox.outbox_follow``)."""

    name = models.CharField(_("consumer"), max_length=40, unique=True)
    position = models.BigIntegerField(_("last event read"), default=0)

    class Meta:
        verbose_name = _("outbox cursor")
        verbose_name_plural = _("outbox cursors")

    def __str__(self) -> str:
        return f"{self.name} @ {self.position}"


class PhoneCode(models.Model):
    """A one-time code sent by text message to an account's phone: to reset a forgotten password,
    or to bind a WeChat to the account (``purpose``).

    Only a hash of the code is stored. A code expires after a few minutes, allows a few wrong
    guesses, and is spent by its first successful use; asking for a new one spends the old ones
    of the same purpose.
    """

    class Purpose(models.TextChoices):
        PASSWORD_RESET = "password_reset", _("password reset")
        WECHAT_BIND = "wechat_bind", _("WeChat binding")

    user = models.ForeignKey("core.User", on_delete=models.CASCADE, related_name="phone_codes", verbose_name=_("user"))
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.PASSWORD_RESET)
    code_hash = models.CharField(_("code hash"), max_length=128)
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False, db_index=True)
    expires_at = models.DateTimeField(_("expires"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("phone code")
        verbose_name_plural = _("phone codes")

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"
