"""Errors a user can act on.

Services raise :class:`BusinessError` (or a subclass) with a translated message and, where it
belongs to one input, the field name. Views show the message on the page; the API turns it
into a 4xx with ``{"detail": ..., "errors": {field: [message]}}``. Nothing is changed when one
is raised, because every service runs in one transaction.
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

    def as_dict(self) -> dict:
        text = str(self.message)
        return {"detail": text, "code": self.code, "errors": {self.field or "__all__": [text]}}


class NotFound(BusinessError):
    status = 404
    code = "not_found"


class Forbidden(BusinessError):
    status = 403
    code = "forbidden"


class Conflict(BusinessError):
    status = 409
    code = "conflict"
