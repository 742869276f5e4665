"""One error format everywhere in the API::

    {"error": {"code": "insufficient_stock", "message": "…", "fields": {"quantity": ["…"]}}}

``message`` is in the caller's language (``Accept-Language``, Chinese by default); ``fields``
maps each input to its messages and is empty when the error is not about one input. A bad input is
a 4xx and changes nothing; an unexpected failure is a 500 with the same shape and no traceback.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError

from weishang.core.errors import BusinessError

log = logging.getLogger("weishang.api")


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class ErrorOut(Schema):
    error: ErrorDetail


# Every operation documents these, so that a client (and schemathesis) knows each answer's shape.
ERROR_STATUSES = (400, 401, 403, 404, 409, 422, 429)
ERRORS = {status: ErrorOut for status in ERROR_STATUSES}


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def _validation_message(err: dict) -> str:
    """Pydantic's message for one input, in the caller's language for the usual kinds of mistake
    (pydantic speaks English only); the original message otherwise."""
    ctx = {k: str(v) for k, v in (err.get("ctx") or {}).items()}
    kind = err.get("type", "")
    messages = {
        "missing": _("This field is required."),
        "string_type": _("Enter text."),
        "string_too_short": _("Enter at least %(min_length)s characters."),
        "string_too_long": _("Enter at most %(max_length)s characters."),
        "string_pattern_mismatch": _("This is not in the expected format."),
        "int_parsing": _("Enter a whole number."),
        "int_type": _("Enter a whole number."),
        "int_from_float": _("Enter a whole number."),
        "decimal_parsing": _("Enter a number."),
        "decimal_type": _("Enter a number."),
        "float_parsing": _("Enter a number."),
        "decimal_max_places": _("Use at most %(decimal_places)s decimal places."),
        "decimal_max_digits": _("Use at most %(max_digits)s digits."),
        "greater_than": _("Enter a value greater than %(gt)s."),
        "greater_than_equal": _("Enter a value of at least %(ge)s."),
        "less_than": _("Enter a value less than %(lt)s."),
        "less_than_equal": _("Enter a value of at most %(le)s."),
        "too_short": _("Give at least %(min_length)s items."),
        "too_long": _("Give at most %(max_length)s items."),
        "bool_parsing": _("Enter true or false."),
        "bool_type": _("Enter true or false."),
        "date_parsing": _("Enter a date such as 2026-11-27."),
        "date_from_datetime_parsing": _("Enter a date such as 2026-11-27."),
        "date_type": _("Enter a date such as 2026-11-27."),
        "datetime_parsing": _("Enter a date and time such as 2026-11-27T09:30:00+08:00."),
        "datetime_from_date_parsing": _("Enter a date and time such as 2026-11-27T09:30:00+08:00."),
        "datetime_type": _("Enter a date and time such as 2026-11-27T09:30:00+08:00."),
        "literal_error": _("Choose one of: %(expected)s."),
        "enum": _("Choose one of: %(expected)s."),
        "json_invalid": _("The request body is not valid JSON."),
        "model_attributes_type": _("Send a JSON object."),
        "dict_type": _("Send a JSON object."),
        "model_type": _("Send a JSON object."),
        "list_type": _("Send a list."),
        "extra_forbidden": _("This field is not expected."),
    }
    template = messages.get(kind)
    if template is not None:
        try:
            return template % ctx
        except (KeyError, ValueError, TypeError):
            pass
    return str(err.get("msg", "")).removeprefix("Value error, ")


def _field_name(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "header", "form", "file")]
    return ".".join(parts) or "__all__"


def install(api: NinjaAPI) -> None:
    def respond(request, status: int, code: str, message, fields=None, headers=None):
        response = api.create_response(request, error_body(code, message, fields), status=status)
        for name, value in (headers or {}).items():
            response[name] = value
        return response

    @api.exception_handler(BusinessError)
    def business_error(request, exc: BusinessError):
        text = str(exc.message)
        fields = {exc.field: [text]} if exc.field else {}
        return respond(request, exc.status, exc.code, text, fields)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        fields: dict[str, list[str]] = {}
        for err in exc.errors:
            fields.setdefault(_field_name(err.get("loc", ())), []).append(_validation_message(err))
        return respond(request, 422, "invalid", _("Some fields are not valid."), fields)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return respond(request, 401, "unauthenticated", _("Log in first: send a valid token or API key."),
                       headers={"WWW-Authenticate": 'Bearer realm="weishang"'})

    @api.exception_handler(AuthorizationError)
    def forbidden(request, exc):
        return respond(request, 403, "forbidden", _("You may not do this."))

    @api.exception_handler(PermissionDenied)
    def permission_denied(request, exc):
        return respond(request, 403, "forbidden", _("You may not do this."))

    @api.exception_handler(Throttled)
    def throttled(request, exc: Throttled):
        headers = {"Retry-After": str(int(exc.wait))} if exc.wait else {}
        return respond(request, 429, "rate_limited", _("Too many requests. Try again in a moment."),
                       headers=headers)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, 404, "not_found", _("Not found."))

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        codes = {400: "bad_request", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}
        return respond(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))

    @api.exception_handler(Exception)
    def server_error(request, exc: Exception):
        log.exception("API error on %s %s", request.method, request.path)
        return respond(request, 500, "server_error", _("Something went wrong on our side. Try again later."))
