"""WeChat's settings, checked at start: with WeChat on, production needs the app id and secret
and the real API (not the fake)."""

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
    if conf.get("FAKE"):
        errors.append(Error("The fake WeChat server is on outside development.", id="weishang.E011"))
    return errors
