"""Errors a user can act on, and the one shape they are told in.

Services raise :class:`BusinessError` (or a subclass) with a translated message and, where it
belongs to one input, the field name. Views show the message on the page; the API answers a 4xx
with :func:`error_body` — ``{"error": {"code", "message", "fields": {field: [message]}}}`` — and so
does every answer under ``/api/`` made before a route runs (weishang.api.transport,
weishang.core.request_limits). Nothing is changed when one is raised, because every service runs
in one transaction.
"""

from __future__ import annotations

from django.utils.functional import Promise


class BusinessError(Exception):
    """A request that is well-formed but not allowed. HTTP 400 unless a subclass says otherwise."""

    status = 400
    code = "invalid"

    def __init__(self, message: str | Promise, *, field: str | None = None, code: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(BusinessError):
    status = 404
    code = "not_found"


class Forbidden(BusinessError):
    status = 403
    code = "forbidden"


class Conflict(BusinessError):
    status = 409
    code = "conflict"


def error_body(code: str, message: str | Promise, fields: dict[str, list[str]] | None = None) -> dict:
    """The API's error envelope: ``code`` for programs, ``message`` for people (in their language),
    ``fields`` mapping each input at fault to its messages (empty when the error is not about one)."""
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}
