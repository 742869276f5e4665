"""Login lockout: too many wrong passwords lock the account, and the client's address, for a while.

django-axes records every failed login (``user_login_failed``) per account name and client address
(:func:`weishang.core.http.client_ip`). A login is refused, even with the right password, while
the account has ``AXES_FAILURE_LIMIT`` failures within ``AXES_COOLOFF_TIME``, or the address has
``WEISHANG_LOGIN_IP_FAILURE_LIMIT`` (higher: many phones share one carrier address). Every login
surface passes through here: the phone pages, the console and ``POST /api/v1/auth/login``.

- A successful login clears that account's failures from that address (a user who mistyped twice
  starts afresh), not the address's failures against other accounts.
- A password reset by text message clears the account's failures from every address: the owner
  has proved they hold the phone.
- The lockout is not extended by attempts made while locked: the cool-off is what the message says.
"""

from __future__ import annotations

import math
from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from weishang.core import clock
from weishang.core.http import client_ip

DEFAULT_IP_FAILURE_LIMIT = 20


def ip_failure_limit() -> int:
    return int(getattr(settings, "WEISHANG_LOGIN_IP_FAILURE_LIMIT", DEFAULT_IP_FAILURE_LIMIT))


def login_name(request, credentials: dict | None) -> str | None:
    """The account a login names: phone and username of one account count together (axes's
    ``AXES_USERNAME_CALLABLE``). A name with no account is counted as typed."""
    typed = (credentials or {}).get("username")
    if typed is None and request is not None and hasattr(request, "POST"):
        typed = request.POST.get("username")
    typed = (typed or "").strip()[:150]
    if not typed:
        return None
    user = get_user_model().objects.filter(Q(phone=typed) | Q(username=typed)).order_by("pk").only("username").first()
    return user.get_username() if user is not None else typed


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a locked-out login before the password is checked (first in AUTHENTICATION_BACKENDS).

    A call without a request (the test client's ``login()``, a shell) is not a login over the
    network and is not counted; every web, console and API login passes its request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LockoutHandler(AxesDatabaseHandler):
    """axes's database handler with two limits: one per account, a higher one per address.

    axes compares the largest count of its parameter groups (``["username", "ip_address"]``)
    with one limit; the address's count is scaled so that it reaches that limit exactly when it
    reaches its own."""

    def get_failures(self, request, credentials=None) -> int:
        # one queryset per AXES_LOCKOUT_PARAMETERS group, in its order: ["username", "ip_address"]
        counts = []
        for attempts in self.get_user_attempts(request, credentials):
            counts.append(sum(a.failures_since_start for a in attempts.only("failures_since_start")))
        account = counts[0] if counts else 0
        address = counts[1] if len(counts) > 1 else 0
        limit = int(settings.AXES_FAILURE_LIMIT)
        return max(account, math.floor(address * limit / max(1, ip_failure_limit())))


def seconds_left(request, credentials: dict | None = None) -> int:
    """How long until the lockout that refused this request ends (at least a minute's worth)."""
    cool_off = get_cool_off(request) or timedelta(0)
    now = clock.now()
    name = login_name(request, credentials or getattr(request, "axes_credentials", None))
    ip = getattr(request, "axes_ip_address", None) or client_ip(request)
    latest = AccessAttempt.objects.filter(
        Q(username=name) | Q(ip_address=ip), attempt_time__gte=now - cool_off
    ).aggregate(latest=Max("attempt_time"))["latest"]
    if latest is None:
        return int(cool_off.total_seconds())
    return max(1, math.ceil((latest + cool_off - now).total_seconds()))


def lockout_message(request, credentials: dict | None = None) -> str:
    minutes = max(1, math.ceil(seconds_left(request, credentials) / 60))
    return _(
        "Too many wrong passwords: signing in is locked for %(minutes)d minutes to protect the account. "
        "Try again later, or reset the password by text message."
    ) % {"minutes": minutes}


def is_locked_out(request) -> bool:
    return bool(getattr(request, "axes_locked_out", False))


def lockout_response(request, original_response=None, credentials=None):
    """axes's ``AXES_LOCKOUT_CALLABLE``: the page or API answer already says why (the login form
    and the API's error envelope do); here it gets the status 429 and a Retry-After."""
    response = original_response
    if response is None:  # pragma: no cover - axes always passes the response in the sync path
        from django.http import HttpResponse

        response = HttpResponse(
            lockout_message(request, credentials), status=429, content_type="text/plain; charset=utf-8"
        )
    if response.status_code < 300 or response.status_code in (400, 401, 403):
        response.status_code = 429
    response["Retry-After"] = str(seconds_left(request, credentials))
    return response


def lockout_clear(*, user, request=None) -> int:
    """Forget failed logins of ``user``: from the request's address after a successful login,
    from every address after a password reset (``request`` None)."""
    attempts = AccessAttempt.objects.filter(username=user.get_username())
    if request is not None:
        attempts = attempts.filter(ip_address=client_ip(request))
    count, _ = attempts.delete()
    return count


def clear_on_login(sender, request, user, **kwargs) -> None:
    if request is not None:
        lockout_clear(user=user, request=request)


class LockoutAwareLoginMixin:
    """For an AuthenticationForm: a locked-out login says so (and for how long) instead of
    "wrong password"."""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            if is_locked_out(self.request):
                raise forms.ValidationError(lockout_message(self.request), code="locked_out") from None
            raise
