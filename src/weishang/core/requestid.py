"""A request id on every request and every log line it writes (M13).

``RequestIdMiddleware`` takes the id a proxy set in ``X-Request-ID`` (when it is a sane token) or
makes one, keeps it for the request's duration, and answers it in the response's ``X-Request-ID``
header, so that a user's complaint ("it failed at 10:02, id …") finds its log lines.
``RequestIdFilter`` puts it on each log record as ``request_id`` (``-`` outside a request); the
production log format writes records as JSON lines (settings.LOGGING).
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
_SANE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_current: ContextVar[str] = ContextVar("weishang_request_id", default="-")


def request_id() -> str:
    """The id of the request being served, or ``-``."""
    return _current.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        value = given if _SANE.match(given) else uuid.uuid4().hex
        request.request_id = value
        token = _current.set(value)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = value
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a request's 4xx and 5xx after the middleware returned: the record carries it.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or _current.get()
        return True
