"""A WeChat identity bound to a person's account (one per kind of app and person; an openid binds
one account), and the audit of every bind and unbind."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from weishang.core import clock


class AppKind(models.TextChoices):
    MP = "mp", _("Official account web pages (公众号)")
    MINI = "mini", _("Mini-program (小程序)")


class WechatIdentity(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wechat_identities", verbose_name=_("account")
    )
    kind = models.CharField(_("app"), max_length=8, choices=AppKind.choices)
    openid = models.CharField(_("openid"), max_length=64)
    unionid = models.CharField(_("unionid"), max_length=64, blank=True)
    nickname = models.CharField(_("WeChat name"), max_length=64, blank=True)
    avatar_url = models.URLField(_("WeChat picture"), max_length=300, blank=True)
    bound_at = models.DateTimeField(_("bound"), default=clock.now)
    last_sign_in_at = models.DateTimeField(_("last signed in"), null=True, blank=True)

    class Meta:
        verbose_name = _("WeChat identity")
        verbose_name_plural = _("WeChat identities")
        constraints = [
            models.UniqueConstraint(fields=["kind", "openid"], name="wechat_openid_binds_one_account"),
            models.UniqueConstraint(fields=["user", "kind"], name="wechat_one_identity_per_app"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.openid}"


class BindingAction(models.TextChoices):
    BOUND = "bound", _("Bound (绑定)")
    UNBOUND = "unbound", _("Unbound (解绑)")


class WechatBindingEvent(models.Model):
    """Who bound or unbound which WeChat identity, how and when (immutable)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("account")
    )
    kind = models.CharField(_("app"), max_length=8, choices=AppKind.choices)
    openid = models.CharField(_("openid"), max_length=64)
    action = models.CharField(_("action"), max_length=8, choices=BindingAction.choices)
    how = models.CharField(_("proved by"), max_length=20, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("when"), default=clock.now)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("WeChat binding change")
        verbose_name_plural = _("WeChat binding changes")

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.openid}"
