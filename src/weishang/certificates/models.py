"""Authorization certificates (授权书). A certificate states what an agent was authorized for —
level, region, products, from when to when — so each row keeps its own copy of those and is never
edited: an upgrade or a region change supersedes it with a new one, a suspension or exit revokes
it, and the history stays."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from weishang.core import clock


class CertificateStatus(models.TextChoices):
    ACTIVE = "active", _("In force")
    SUPERSEDED = "superseded", _("Replaced by a newer certificate")
    REVOKED = "revoked", _("Revoked")


class Certificate(models.Model):
    serial = models.CharField(_("certificate number"), max_length=20, unique=True)
    agent = models.ForeignKey(
        "channel.Agent", on_delete=models.PROTECT, related_name="certificates", verbose_name=_("agent")
    )
    level = models.ForeignKey("channel.Level", on_delete=models.PROTECT, related_name="+", verbose_name=_("level"))
    level_name = models.CharField(_("level as printed"), max_length=40)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region")
    )
    region_name = models.CharField(_("region as printed"), max_length=80)
    products = models.CharField(_("products"), max_length=500, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(
        _("status"), max_length=12, choices=CertificateStatus.choices, default=CertificateStatus.ACTIVE
    )
    issued_at = models.DateTimeField(_("issued"), default=clock.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=200, blank=True)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by", verbose_name=_("replaces")
    )

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("authorization certificate")
        verbose_name_plural = _("authorization certificates (授权书)")
        permissions = [("end_certificate", _("Can revoke or re-issue a certificate"))]
        constraints = [
            models.UniqueConstraint(fields=["agent"], condition=Q(status="active"), name="one_certificate_in_force"),
            models.CheckConstraint(condition=Q(valid_until__gte=models.F("valid_from")), name="certificate_dates"),
        ]

    def __str__(self) -> str:
        return self.serial


class CertificateTemplate(models.Model):
    """How the brand's certificates look: the title, the statement (with {name}, {brand},
    {level}, {region} and {products} filled in), and optional pictures — a background (drawn to
    fill the page) and the brand's seal (a PNG with transparency). Without a seal picture a red
    round seal with the brand's name is drawn. The newest template is used."""

    title = models.CharField(_("title"), max_length=20, default="授权书")
    statement = models.TextField(
        _("statement"),
        max_length=400,
        default="兹授权 {name} 为 {brand} {level}，授权区域：{region}。授权产品：{products}。"
        "授权期内可通过微信、朋友圈等渠道销售上述产品，须遵守品牌价格体系，不得跨区域销售。",
    )
    background = models.ImageField(_("background picture"), upload_to="certificates/", blank=True)
    seal = models.ImageField(_("seal picture"), upload_to="certificates/", blank=True)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        verbose_name = _("certificate template")
        verbose_name_plural = _("certificate templates")

    def __str__(self) -> str:
        return self.title
