"""System checks of Weishang's own settings (``weishang check``; also run by ``weishang serve``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from weishang.core.sms import DEFAULT_BACKEND

CONSOLE_SMS = "weishang.core.sms.ConsoleBackend"


def _sms_error() -> Error:
    return Error(
        "The console SMS backend writes password reset codes to the server's log.",
        hint="Set WEISHANG_SMS_BACKEND (setting or environment variable) to your SMS provider's backend class.",
        id="weishang.E001",
    )


def _console_sms() -> bool:
    return getattr(settings, "WEISHANG_SMS_BACKEND", DEFAULT_BACKEND) == CONSOLE_SMS


@register()
def sms_backend_check(app_configs=None, **kwargs) -> list[Error]:
    """With DEBUG off (a deployment), the console SMS backend is an error: serving refuses to start."""
    return [_sms_error()] if not settings.DEBUG and _console_sms() else []


@register(deploy=True)
def sms_backend_deploy_check(app_configs=None, **kwargs) -> list[Error]:
    """``check --deploy`` says it too while DEBUG is still on (with DEBUG off the check above does)."""
    return [_sms_error()] if settings.DEBUG and _console_sms() else []


TENCENT_SMS = "weishang.core.sms_tencent.TencentSmsBackend"


@register()
def tencent_sms_check(app_configs=None, **kwargs) -> list[Error]:
    """Tencent Cloud SMS chosen with a setting missing: every text message would fail."""
    if getattr(settings, "WEISHANG_SMS_BACKEND", DEFAULT_BACKEND) != TENCENT_SMS:
        return []
    from weishang.core.sms_tencent import missing_settings

    missing = missing_settings(getattr(settings, "WEISHANG_SMS_TENCENT", {}))
    if not missing:
        return []
    return [
        Error(
            f"Tencent Cloud SMS is chosen but WEISHANG_SMS_TENCENT lacks {', '.join(missing)}.",
            hint="docs/operations.md lists each setting and where Tencent's console shows it.",
            id="weishang.E002",
        )
    ]
