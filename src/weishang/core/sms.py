"""Text messages (短信) to a phone: verification codes and notifications.

Chinese SMS providers send only templates the brand registered and had approved, with the
variables filled in; free text is refused. So a message names its ``purpose`` (a template the
brand registers once, listed in ``PURPOSES``) and the ``params`` that fill it, beside the full
``text`` a person reads (what the development backends show, and the log).

A backend is a class with ``send(message) -> reference``, named by the setting
``WEISHANG_SMS_BACKEND``:

- ``weishang.core.sms.ConsoleBackend`` (the default, for development): writes the message to
  the server's log, as Django's console e-mail backend does, so that ``make run`` works with no
  SMS account — the code appears in the terminal running the server.
- ``weishang.core.sms.LocmemBackend``: keeps messages in ``weishang.core.sms.outbox`` (tests).
- ``weishang.core.sms_tencent.TencentSmsBackend``: Tencent Cloud SMS (腾讯云短信), the provider
  adapter; ``weishang.core.fake_sms`` answers it on loopback in tests and on a developer's machine.

A failure raises ``SmsError`` (with the provider's code) and the caller tells the person to try
again, or retries later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils.module_loading import import_string

from weishang.core import clock

logger = logging.getLogger("weishang.sms")

DEFAULT_BACKEND = "weishang.core.sms.ConsoleBackend"

# The templates a brand registers with its provider, one per purpose, and what fills them in order
# (docs/operations.md gives the text to register for each).
PURPOSES = {
    "password_reset": ("code", "minutes"),
    "wechat_bind": ("code", "minutes"),
    "notice": ("what",),
}


class SmsError(Exception):
    """The provider did not accept the message."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Sms:
    phone: str
    purpose: str
    params: tuple[str, ...]
    text: str
    sent_at: datetime = field(default_factory=clock.now)


outbox: list[Sms] = []


class ConsoleBackend:
    def send(self, message: Sms) -> str:
        logger.warning("SMS to %s: %s", message.phone, message.text)
        print(f"[weishang sms] to {message.phone}: {message.text}", flush=True)  # noqa: T201 - the development stand-in
        return ""


class LocmemBackend:
    def send(self, message: Sms) -> str:
        outbox.append(message)
        return f"locmem-{len(outbox)}"


def sms_send(*, phone: str, purpose: str, params: tuple[str, ...] | list[str], text: str) -> str:
    """Send the ``purpose`` template filled with ``params`` to ``phone``; ``text`` is the whole
    message as the person reads it. Returns the provider's reference; raises ``SmsError``."""
    if purpose not in PURPOSES or len(params) != len(PURPOSES[purpose]):
        raise ValueError(f"SMS purpose {purpose!r} takes {PURPOSES.get(purpose)}")
    backend = import_string(getattr(settings, "WEISHANG_SMS_BACKEND", DEFAULT_BACKEND))()
    return backend.send(Sms(phone=phone, purpose=purpose, params=tuple(str(p) for p in params), text=text))
