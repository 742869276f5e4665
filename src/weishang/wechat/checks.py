"""WeChat's settings, checked at start: with WeChat on and DEBUG off, the app id, secret and API
hosts must be given (production's settings never turn the fake on: settings.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register()
def wechat_settings(app_configs, **kwargs):
    conf = settings.WEISHANG_WECHAT
    if not conf.get("ENABLED") or settings.DEBUG:
        return []
    errors = []
    for key in ("APP_ID", "APP_SECRET", "API_BASE", "OPEN_BASE"):
        if not conf.get(key):
            errors.append(Error(f"WEISHANG_WECHAT[{key!r}] is empty while WeChat is on.", id="weishang.E010"))
    return errors
