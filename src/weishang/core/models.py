from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from weishang.core.validators import validate_phone


class User(AbstractUser):
    """A person who logs in: brand staff (``is_staff``) or an agent (has ``agent``).

    Agents log in with their phone number; staff with a username or phone.
    """

    phone = models.CharField(
        _("phone"), max_length=20, unique=True, null=True, blank=True, validators=[validate_phone]
    )

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
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("brand settings")
        verbose_name_plural = _("brand settings")

    def __str__(self) -> str:
        return self.name
