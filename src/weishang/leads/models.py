"""Leads (意向客户), the channels they come from, and the ad placements that bring them.

A lead is a person who may become an agent: found by phone or WeChat id (one lead per phone and
per WeChat id), with the channel that brought them, an owner who follows them up (a staff member
or an agent), and a stage that only moves forward (new → contacted → invited → attended →
converted), or ends as lost. Every change is a ``LeadNote`` row: the lead's dated history, never
edited. An ``AdPlacement`` is a paid placement on a platform; its ``code`` is the ``src``
parameter of the tracked link that counts the leads it brings; ``AdSpend`` rows record what it
cost by day (a correction is a negative row).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from weishang.core import clock
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES


class LeadChannel(models.TextChoices):
    OWN_NETWORK = "own_network", _("Own network (自有人脉)")
    SEARCH_ADS = "search_ads", _("Search ads (搜索广告)")
    FEED_ADS = "feed_ads", _("Feed ads (信息流广告)")
    RECRUITING_SITE = "recruiting_site", _("Recruiting sites (微商货源网等)")
    FORUM = "forum", _("Forums and Tieba (论坛 / 贴吧)")
    SHORT_VIDEO = "short_video", _("Short video (短视频)")
    ARTICLE = "article", _("Articles and 微头条 (软文 / 微头条)")
    REFERRAL = "referral", _("An agent's referral (代理推荐)")
    MEETING = "meeting", _("Meeting (会议)")
    OTHER = "other", _("Other (其他)")


class LeadStage(models.TextChoices):
    NEW = "new", _("New (新线索)")
    CONTACTED = "contacted", _("Contacted (已联系)")
    INVITED = "invited", _("Invited (已邀约)")
    ATTENDED = "attended", _("Attended (已到场)")
    CONVERTED = "converted", _("Converted (已成交)")
    LOST = "lost", _("Lost (已流失)")


# The forward order of the open stages; converted and lost are ends.
STAGE_ORDER = (LeadStage.NEW, LeadStage.CONTACTED, LeadStage.INVITED, LeadStage.ATTENDED, LeadStage.CONVERTED)


class AdFormat(models.TextChoices):
    FEED_ARTICLE = "feed_article", _("Feed article / 微头条 (信息流图文)")
    SHORT_VIDEO = "short_video", _("Short video (短视频)")
    ARTICLE = "article", _("Article (软文)")
    IMAGE = "image", _("Image ad (图片广告)")


class AdPricing(models.TextChoices):
    BID = "bid", _("Bid (竞价)")
    FLAT = "flat", _("Flat price (固定价)")


class AdPlacement(models.Model):
    """A paid placement: a platform, a format, a price, and the tracked link's source code."""

    code = models.SlugField(
        _("source code"),
        max_length=40,
        unique=True,
        help_text=_("The source parameter of the tracked link, e.g. toutiao-nov; letters, digits and hyphens."),
    )
    name = models.CharField(_("name"), max_length=80)
    channel = models.CharField(_("channel"), max_length=20, choices=LeadChannel.choices)
    platform = models.CharField(_("platform"), max_length=40, help_text=_("e.g. 今日头条, 抖音, 百度, 微商货源网"))
    format = models.CharField(_("format"), max_length=20, choices=AdFormat.choices)
    pricing = models.CharField(_("pricing"), max_length=10, choices=AdPricing.choices)
    price = models.DecimalField(
        _("price"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        help_text=_("Per click for a bid, the whole placement for a flat price."),
    )
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        ordering = ["-starts_on", "pk"]
        verbose_name = _("ad placement")
        verbose_name_plural = _("ad placements")

    def __str__(self) -> str:
        return f"{self.name} ({self.platform})"


class AdSpend(models.Model):
    """What a placement cost on a day. Rows are never edited: a correction is a negative row."""

    placement = models.ForeignKey(
        AdPlacement, on_delete=models.PROTECT, related_name="spend", verbose_name=_("ad placement")
    )
    day = models.DateField(_("day"))
    amount = models.DecimalField(_("amount"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    clicks = models.PositiveIntegerField(_("clicks"), default=0)
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
        ordering = ["-day", "-pk"]
        verbose_name = _("ad spend")
        verbose_name_plural = _("ad spend")
        indexes = [models.Index(fields=["day"], name="leads_spend_day")]

    def __str__(self) -> str:
        return f"{self.placement.code} {self.day} {self.amount}"


class Lead(models.Model):
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    wechat_id = models.CharField(_("WeChat id"), max_length=40, blank=True)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region")
    )
    channel = models.CharField(_("channel"), max_length=20, choices=LeadChannel.choices)
    placement = models.ForeignKey(
        AdPlacement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
        verbose_name=_("ad placement"),
    )
    owner_agent = models.ForeignKey(
        "channel.Agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
        verbose_name=_("owner (agent)"),
        help_text=_("The agent who follows this lead up; empty = the brand's staff."),
    )
    owner_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner (staff)"),
    )
    stage = models.CharField(_("stage"), max_length=12, choices=LeadStage.choices, default=LeadStage.NEW)
    stage_changed_at = models.DateTimeField(_("stage since"), default=clock.now)
    remind_at = models.DateTimeField(
        _("next follow-up"), null=True, blank=True, help_text=_("When the owner is reminded to follow up.")
    )
    agent = models.OneToOneField(
        "channel.Agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lead",
        verbose_name=_("became agent"),
    )
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [
            models.UniqueConstraint(
                fields=["phone"],
                condition=~Q(phone=""),
                name="lead_one_per_phone",
                violation_error_message=_("This person is already a lead."),
            ),
            models.UniqueConstraint(
                fields=["wechat_id"],
                condition=~Q(wechat_id=""),
                name="lead_one_per_wechat",
                violation_error_message=_("This person is already a lead."),
            ),
            models.CheckConstraint(
                condition=~Q(phone="", wechat_id=""),
                name="lead_has_contact",
                violation_error_message=_("Enter a phone number or a WeChat id."),
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "created_at"], name="leads_channel_created"),
            models.Index(fields=["owner_agent", "stage"], name="leads_owner_stage"),
        ]

    def __str__(self) -> str:
        return self.name


class NoteKind(models.TextChoices):
    NOTE = "note", _("Follow-up note")
    STAGE = "stage", _("Stage change")
    CAPTURE = "capture", _("Captured")
    OWNER = "owner", _("Owner change")
    IMPORT = "import", _("Imported")


class LeadNote(models.Model):
    """One dated line of a lead's history: a follow-up note, a stage change, a capture. Immutable."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(_("kind"), max_length=10, choices=NoteKind.choices)
    at = models.DateTimeField(_("when"), default=clock.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    text = models.CharField(_("note"), max_length=500, blank=True)
    stage_from = models.CharField(_("from"), max_length=12, choices=LeadStage.choices, blank=True)
    stage_to = models.CharField(_("to"), max_length=12, choices=LeadStage.choices, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("lead note")
        verbose_name_plural = _("lead notes")

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind} {self.at:%Y-%m-%d}"


class LeadImport(models.Model):
    """A CSV or XLSX file of leads: parsed into a preview (accepted and rejected rows, each
    rejected row with its reasons), then applied once."""

    class Status(models.TextChoices):
        PREVIEW = "preview", _("Preview")
        APPLIED = "applied", _("Applied")

    file_name = models.CharField(_("file"), max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), default=clock.now)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PREVIEW)
    rows = models.JSONField(_("accepted rows"), default=list)
    rejected = models.JSONField(_("rejected rows"), default=list)
    created = models.PositiveIntegerField(_("leads created"), default=0)
    updated = models.PositiveIntegerField(_("leads already known"), default=0)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("lead import")
        verbose_name_plural = _("lead imports")

    def __str__(self) -> str:
        return self.file_name
