"""Text messages (短信) to a phone: verification codes for now.

A backend is a class with ``send(phone, text)``, named by the setting ``WEISHANG_SMS_BACKEND``:

- ``weishang.core.sms.ConsoleBackend`` (the default, for development): writes the message to
  the server's log, as Django's console e-mail backend does, so that ``make run`` works with no
  SMS account — the code appears in the terminal running the server.
- ``weishang.core.sms.LocmemBackend``: keeps messages in ``weishang.core.sms.outbox`` (tests).

A production brand plugs in its provider (Aliyun, Tencent Cloud SMS) as another class with the
same method; a failure raises ``SmsError`` and the user is told to try again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils.module_loading import import_string

from weishang.core import clock

logger = logging.getLogger("weishang.sms")

DEFAULT_BACKEND = "weishang.core.sms.ConsoleBackend"


class SmsError(Exception):
    """The provider did not accept the message."""


@dataclass(frozen=True)
class Sms:
    phone: str
    text: str
    sent_at: datetime


outbox: list[Sms] = []


class ConsoleBackend:
    def send(self, phone: str, text: str) -> None:
        logger.warning("SMS to %s: %s", phone, text)
        print(f"[weishang sms] to {phone}: {text}", flush=True)  # noqa: T201 - the development stand-in


class LocmemBackend:
    def send(self, phone: str, text: str) -> None:
        outbox.append(Sms(phone=phone, text=text, sent_at=clock.now()))


def sms_send(*, phone: str, text: str) -> None:
    backend = import_string(getattr(settings, "WEISHANG_SMS_BACKEND", DEFAULT_BACKEND))()
    backend.send(phone, text)
