"""The client's address, the one way every part of Weishang reads it.

Behind no proxy (``WEISHANG_TRUSTED_PROXIES = 0``, the default) the address is the connection's,
``REMOTE_ADDR``; an ``X-Forwarded-For`` header is ignored, because the client writes it and could
put any address there. Behind N proxies that each append the address they received the request
from, the client is the Nth address from the right of ``X-Forwarded-For``: the entries to its left
were written by the client and are not believed. The login lockout, the API's rate limits, the
idempotency keys of public calls and the payer's address sent to a payment provider all use
:func:`client_ip`, so that rotating a header moves none of them.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def trusted_proxies() -> int:
    try:
        return max(0, int(getattr(settings, "WEISHANG_TRUSTED_PROXIES", 0) or 0))
    except (TypeError, ValueError):
        return 0


def _valid(address: str | None) -> str | None:
    if not address:
        return None
    address = address.strip()
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's IP address (a valid IPv4 or IPv6 address), or None if there is none."""
    remote = _valid(request.META.get("REMOTE_ADDR"))
    proxies = trusted_proxies()
    if proxies == 0:
        return remote
    forwarded = [part.strip() for part in (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")]
    forwarded = [part for part in forwarded if part]
    if not forwarded:
        return remote
    # Fewer entries than proxies: the request skipped some; the leftmost was still written by one of them.
    return _valid(forwarded[-min(proxies, len(forwarded))]) or remote
