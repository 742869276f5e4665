"""The launch toolkit's records: the brand's qualifications (资质)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from weishang.core import clock


class QualificationKind(models.TextChoices):
    BUSINESS_LICENCE = "business_licence", _("Business licence (营业执照)")
    PRODUCTION_LICENCE = "production_licence", _("Production licence (生产许可证)")
    FILING = "filing", _("Product filing (备案凭证)")
    INSPECTION = "inspection", _("Inspection report (检测报告)")
    TRADEMARK = "trademark", _("Trademark certificate (商标注册证)")
    OTHER = "other", _("Other")


class Qualification(models.Model):
    """A licence, report or certificate the brand shows: its number, who issued it, how long it
    is valid, and the scan. Public ones appear on the brand page (``/brand/``), in the pitch deck
    and in the policy document; an expired one is flagged there, never hidden silently."""

    kind = models.CharField(_("kind"), max_length=24, choices=QualificationKind.choices)
    title = models.CharField(_("title"), max_length=100)
    number = models.CharField(_("certificate number"), max_length=64, blank=True)
    issuer = models.CharField(_("issued by"), max_length=100, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Empty: it does not expire (a trademark, a licence).")
    )
    document = models.FileField(
        _("scan"),
        upload_to="qualifications/",
        help_text=_("A photo or scan (JPEG, PNG, WebP) or a PDF, at most 10 MB."),
    )
    public = models.BooleanField(_("shown publicly"), default=True)
    position = models.PositiveSmallIntegerField(_("display order"), default=0)
    created_at = models.DateTimeField(_("added"), default=clock.now)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        # The documents generated from the plan in force (policy PDF, price poster, pitch deck).
        permissions = [("view_documents", _("Can download the policy document, price poster and pitch deck"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="qualification_valid_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return self.title


# --- the material centre (素材中心) ----------------------------------------------------------


class MaterialKind(models.TextChoices):
    COPY = "copy", _("Post text (朋友圈文案)")
    IMAGES = "images", _("Pictures")
    VIDEO = "video", _("Short video")


class Material(models.Model):
    """Something the brand gives agents to post: a 朋友圈 text and its pictures or a short video, by
    product or campaign. ``min_level``: only agents at that level or above see it (empty: all)."""

    title = models.CharField(_("title"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=MaterialKind.choices, default=MaterialKind.COPY)
    text = models.TextField(_("post text"), blank=True, help_text=_("What the agent copies and posts."))
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("product")
    )
    campaign = models.CharField(_("campaign"), max_length=60, blank=True)
    min_level = models.ForeignKey(
        "channel.Level",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("for levels from"),
        help_text=_("Empty: every agent sees it."),
    )
    published = models.BooleanField(_("published"), default=True)
    published_at = models.DateTimeField(_("published at"), default=clock.now)

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")

    def __str__(self) -> str:
        return self.title


class MaterialFile(models.Model):
    """One picture or video of a material, in order; a picture's thumbnail is made on upload."""

    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="files", verbose_name=_("material"))
    file = models.FileField(_("file"), upload_to="materials/")
    thumbnail = models.FileField(_("thumbnail"), upload_to="materials/thumbs/", blank=True, editable=False)
    is_video = models.BooleanField(_("video"), default=False, editable=False)
    position = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("material file")
        verbose_name_plural = _("material files")

    def __str__(self) -> str:
        return self.file.name


class MaterialUseKind(models.TextChoices):
    COPY = "copy", _("Text copied")
    DOWNLOAD = "download", _("File downloaded")
    DOWNLOAD_ALL = "download_all", _("All files downloaded")


class MaterialUse(models.Model):
    """An agent used a material (copied its text, downloaded a file or all of them): the brand sees
    which materials are used most. Immutable."""

    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="uses")
    agent = models.ForeignKey("channel.Agent", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=MaterialUseKind.choices)
    at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("material use")
        verbose_name_plural = _("material uses")
        indexes = [models.Index(fields=["material", "kind"], name="materialuse_material_kind")]


class MaterialVisit(models.Model):
    """When an agent last opened the material centre: what was published since is new to them."""

    agent = models.OneToOneField("channel.Agent", on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("material centre visit")
        verbose_name_plural = _("material centre visits")


# --- poster templates -------------------------------------------------------------------------


class PosterTarget(models.TextChoices):
    INVITE = "invite", _("Invite link (join my team)")
    SHOP = "shop", _("Shop link (buy from me)")


HEX_COLOUR = r"^#[0-9a-fA-F]{6}$"


class PosterTemplate(models.Model):
    """A poster the brand designs: a background picture and where the agent's QR code, name and
    level (and a product's picture) go on it, in the background's pixels. Agents pick one on the
    phone and get a PNG (``web.poster.render_template``). Positions are checked against the
    background's size when it is saved (``toolkit.services.poster_template_save``)."""

    name = models.CharField(_("name"), max_length=60)
    background = models.FileField(_("background"), upload_to="posters/")
    width = models.PositiveIntegerField(_("width"), editable=False, default=0)
    height = models.PositiveIntegerField(_("height"), editable=False, default=0)
    target = models.CharField(
        _("QR code opens"), max_length=10, choices=PosterTarget.choices, default=PosterTarget.INVITE
    )
    qr_x = models.PositiveIntegerField(_("QR code: left"), default=0)
    qr_y = models.PositiveIntegerField(_("QR code: top"), default=0)
    qr_size = models.PositiveIntegerField(_("QR code: size"), default=300)
    name_x = models.PositiveIntegerField(_("name: left"), default=0)
    name_y = models.PositiveIntegerField(_("name: top"), default=0)
    name_size = models.PositiveIntegerField(_("name: font size"), default=48, help_text=_("0: no name."))
    level_x = models.PositiveIntegerField(_("level: left"), default=0)
    level_y = models.PositiveIntegerField(_("level: top"), default=0)
    level_size = models.PositiveIntegerField(_("level: font size"), default=32, help_text=_("0: no level."))
    text_colour = models.CharField(
        _("text colour"), max_length=7, default="#1f2328", help_text=_("For example #1f2328.")
    )
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
        help_text=_("Its first picture goes on the poster."),
    )
    product_x = models.PositiveIntegerField(_("product picture: left"), default=0)
    product_y = models.PositiveIntegerField(_("product picture: top"), default=0)
    product_size = models.PositiveIntegerField(_("product picture: size"), default=0, help_text=_("0: no picture."))
    active = models.BooleanField(_("offered to agents"), default=True)
    position = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("poster template")
        verbose_name_plural = _("poster templates")

    def __str__(self) -> str:
        return self.name
