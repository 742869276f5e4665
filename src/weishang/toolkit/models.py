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
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(_("added"), default=clock.now)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
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
