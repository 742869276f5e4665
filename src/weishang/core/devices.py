"""A person's logged-in devices: the apps and mini-programs that hold a device token.

The tokens are the API's (``api.models.ApiToken``, made and checked by ``api.services``), but
seeing and signing out one's devices is an account matter, done on the phone's account pages
(``web.account_views``) and, for an agent, on the console's agent page (``channel.admin``). They
ask this module, which depends on no face: the API app hands its token store to :func:`register`
when it is ready (``api.apps``), as it installs its password-change hook (``core.passwords``).

The store's ``live(user=…)`` is a queryset of the user's working tokens (each with ``pk``,
``device``, ``prefix``, ``created_at``, ``last_used_at``), ``revoke(token=…, by=…)`` signs one out
(only its owner's), ``revoke_all(user=…, keep=None)`` all of them but ``keep`` and returns how
many were live.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class DeviceStore:
    live: Callable[..., Any]
    revoke: Callable[..., Any]
    revoke_all: Callable[..., int]


_stores: list[DeviceStore] = []


def register(store: DeviceStore) -> None:
    """Install the store of device tokens (once; the API app calls it when it is ready)."""
    _stores[:] = [store]


def _store() -> DeviceStore:
    if not _stores:
        raise ImproperlyConfigured("No device store: weishang.api registers it when it is ready.")
    return _stores[0]


def idle_limit() -> timedelta:
    """How long a device stays logged in unused (``WEISHANG_TOKEN_IDLE_DAYS``, 30 days)."""
    return timedelta(days=int(getattr(settings, "WEISHANG_TOKEN_IDLE_DAYS", 30)))


def live(*, user: Any) -> Any:
    """The user's devices still logged in (a queryset of their device tokens)."""
    return _store().live(user=user)


def sign_out(*, token: Any, by: Any) -> Any:
    """Sign one device of ``by`` out (another person's device is not found)."""
    return _store().revoke(token=token, by=by)


def sign_out_all(*, user: Any, keep: Any = None) -> int:
    """Sign every device of ``user`` out (but ``keep``); returns how many were still logged in."""
    return _store().revoke_all(user=user, keep=keep)
