"""Rate limits: per caller (token or key) on everything, per IP on login and public endpoints.

Counts live in Django's cache: the default in-process cache is per server process; a deployment
with several processes points ``CACHES`` at Redis so that they share the counts. Rates come from
``WEISHANG_API_RATES`` (requests per second, minute, hour or day). The client's address is
:func:`weishang.core.http.client_ip` (``WEISHANG_TRUSTED_PROXIES``): a client cannot move to a fresh
count by sending another ``X-Forwarded-For``."""

from __future__ import annotations

import hashlib

from ninja.throttling import SimpleRateThrottle

from weishang.core.http import client_ip
from weishang.core.ratelimit import rate


class _SettingsRate(SimpleRateThrottle):
    """Reads its rate from the settings on every request, so that a change applies at once."""

    def allow_request(self, request) -> bool:
        self.rate = rate(self.scope)
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)

    def get_ident(self, request) -> str:
        return client_ip(request) or ""


class CallerThrottle(_SettingsRate):
    """Per token or API key; per IP for a request without one."""

    scope = "caller"

    def __init__(self):
        super().__init__(rate("caller"))

    def get_cache_key(self, request) -> str:
        auth = getattr(request, "auth", None)
        if auth is not None and getattr(auth, "pk", None) is not None:
            ident = f"{type(auth).__name__}:{auth.pk}"
        elif getattr(request, "user", None) is not None and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = "ip:" + hashlib.sha256((self.get_ident(request) or "").encode()).hexdigest()[:16]
        return self.cache_format % {"scope": self.scope, "ident": ident}


class IpThrottle(_SettingsRate):
    """Per client IP, whoever is calling: for login and public endpoints."""

    def __init__(self, name: str):
        self.scope = name
        super().__init__(rate(name))

    def get_cache_key(self, request) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
