"""Device tokens and API keys: made, shown once, checked, revoked.

The device tokens are also the store of ``core.devices`` (registered in ``api.apps``), through
which the account pages and the console list and sign out a person's devices."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from weishang.api.models import ApiKey, ApiToken
from weishang.api.scopes import SCOPES
from weishang.channel.models import Agent
from weishang.channel.selectors import AGENT_RELATED, remember_agent
from weishang.core import clock, devices
from weishang.core.errors import BusinessError, NotFound
from weishang.core.lockout import is_locked_out, lockout_message
from weishang.core.prepared import prepared

TOKEN_PREFIX = "wst_"
KEY_PREFIX = "wsk_"
# How often "last used" is written: not on every request, which would make every read a write (on
# SQLite, a turn in the one writers' queue). Five minutes is finer than anything it is read for: the
# devices list, and the 30-day idle logout.
TOUCH_EVERY_SECONDS = 300


class LoginFailed(BusinessError):
    status = 401
    code = "login_failed"


class LoginLocked(BusinessError):
    """Too many wrong passwords (weishang.core.lockout); the answer carries a Retry-After."""

    status = 429
    code = "login_locked"


class TokenExpired(BusinessError):
    """A device token unused for longer than ``WEISHANG_TOKEN_IDLE_DAYS``: log in again."""

    status = 401
    code = "token_expired"


def token_idle_limit() -> timedelta:
    return devices.idle_limit()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_login(*, phone: str, password: str, device: str = "", request=None) -> tuple[ApiToken, str]:
    """Log in with phone (or staff username) and password; returns the token row and its secret,
    which is shown this once. A NUL character in the phone or password (no account has one;
    PostgreSQL refuses it in a query) is a failed login, checked before anything is looked up."""
    if "\x00" in (phone or "") or "\x00" in (password or ""):
        raise LoginFailed(_("Phone number and password do not match, or the account is disabled."))
    device = (device or "").replace("\x00", "")
    user = authenticate(request, username=(phone or "").strip(), password=password or "")
    if user is None and request is not None and is_locked_out(request):
        raise LoginLocked(lockout_message(request))
    if user is None:
        raise LoginFailed(_("Phone number and password do not match, or the account is disabled."))
    return token_create(user=user, device=device)


def token_create(*, user, device: str = "") -> tuple[ApiToken, str]:
    secret = _new_secret(TOKEN_PREFIX)
    token = ApiToken.objects.create(user=user, device=(device or "")[:100], prefix=secret[:12], key_hash=_hash(secret))
    return token, secret


@prepared(str)
def _live_token(key_hash: str) -> QuerySet[ApiToken]:
    """The token with this hash if it is not revoked, its user and the user's agent with it (one
    query, not two: the route asks for the agent next), compiled once (every API request asks)."""
    related = ("user", *(f"user__agent__{name}" for name in AGENT_RELATED))
    return ApiToken.objects.select_related(*related).filter(key_hash=key_hash, revoked_at__isnull=True).order_by()[:1]


def token_check(secret: str) -> ApiToken | None:
    """The live token with this secret, its user loaded, or None. A token unused for longer than
    the idle limit raises :class:`TokenExpired`, every time, so that the client knows to log in again."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    found = _live_token(_hash(secret))
    token = found[0] if found else None
    if token is None or not token.user.is_active:
        return None
    try:
        remember_agent(token.user, token.user.agent)
    except Agent.DoesNotExist:  # staff, or an account without an agent
        pass
    now = clock.now()
    if (token.last_used_at or token.created_at) < now - token_idle_limit():
        raise TokenExpired(
            _("This device has not been used for %(days)d days and was logged out. Log in again.")
            % {"days": token_idle_limit().days}
        )
    _touch(token)
    return token


def tokens_live(*, user) -> QuerySet[ApiToken]:
    """The user's device tokens that still work: not revoked, used (or made) within the idle limit."""
    since = clock.now() - token_idle_limit()
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).filter(
        Q(last_used_at__gte=since) | Q(last_used_at__isnull=True, created_at__gte=since)
    )


@transaction.atomic
def tokens_revoke_all(*, user, keep: ApiToken | None = None) -> int:
    """Log every device of ``user`` out (but ``keep``, the one making the request, if given);
    returns how many were still live."""
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    if keep is not None:
        tokens = tokens.exclude(pk=keep.pk)
    return tokens.update(revoked_at=clock.now())


def token_revoke(*, token: ApiToken, by) -> ApiToken:
    if token.user_id != by.pk:
        raise NotFound(_("No such device."))
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
        token.refresh_from_db(fields=["revoked_at"])
    return token


def api_key_create(*, name: str, scopes: Iterable[str], by=None) -> tuple[ApiKey, str]:
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise BusinessError(_("Unknown scopes: %(scopes)s.") % {"scopes": ", ".join(unknown)}, field="scopes")
    if not (name or "").strip():
        raise BusinessError(_("Give the key a name."), field="name")
    secret = _new_secret(KEY_PREFIX)
    key = ApiKey.objects.create(
        name=name.strip()[:100], scopes=scopes, created_by=by, prefix=secret[:12], key_hash=_hash(secret)
    )
    return key, secret


def api_key_check(secret: str) -> ApiKey | None:
    if not secret or not secret.startswith(KEY_PREFIX):
        return None
    key = ApiKey.objects.filter(key_hash=_hash(secret), revoked_at__isnull=True).first()
    if key is not None:
        _touch(key)
    return key


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
    key.refresh_from_db(fields=["revoked_at"])
    return key


def _touch(row) -> None:
    now = clock.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > TOUCH_EVERY_SECONDS:
        type(row).objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
