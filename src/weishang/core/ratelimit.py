"""A rate limit for public pages (the API has its own, django-ninja's throttles in api/throttles.py,
with the same rates): at most N requests per client address in a window, counted in Django's
cache (per process by default; a deployment with several processes points CACHES at Redis).
Rates are ``WEISHANG_API_RATES``'s, e.g. ``{"public": "120/m"}``, so one setting governs a
lookup whether it comes from the page or from the API."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import caches

from weishang.core.http import client_ip

DEFAULT_RATES = {"caller": "600/m", "login": "10/m", "public": "120/m"}
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate(name: str) -> str:
    """The rate of ``name`` ("120/m"): the settings' WEISHANG_API_RATES, else the default."""
    return {**DEFAULT_RATES, **getattr(settings, "WEISHANG_API_RATES", {})}[name]


def _rate(scope: str) -> tuple[int, int]:
    count, _slash, period = rate(scope).partition("/")
    return int(count), PERIODS[period.strip()[:1]]


def allow(request, scope: str = "public") -> bool:
    """Count this request against its address; False once the address is over the rate."""
    limit, seconds = _rate(scope)
    window = int(time.time() // seconds)
    who = hashlib.sha256((client_ip(request) or "").encode()).hexdigest()[:16]
    key = f"weishang:rate:{scope}:{who}:{window}"
    if caches["shared"].add(key, 1, timeout=seconds + 1):
        return True
    try:
        return caches["shared"].incr(key) <= limit
    except ValueError:  # expired between add and incr
        caches["shared"].add(key, 1, timeout=seconds + 1)
        return True
