"""One error format everywhere in the API::

    {"error": {"code": "insufficient_stock", "message": "…", "fields": {"quantity": ["…"]}}}

``message`` is in the caller's language (``Accept-Language``, Chinese by default); ``fields``
maps each input to its messages and is empty when the error is not about one input. A bad input is
a 4xx and changes nothing; an unexpected failure is a 500 with the same shape and no traceback.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError

from weishang.core import unavailable
from weishang.core.errors import BusinessError, error_body

log = logging.getLogger("weishang.api")


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class ErrorOut(Schema):
    error: ErrorDetail


# Every operation documents these, so that a client (and schemathesis) knows each answer's shape.
# (405, 413, 415 and 500, answered by the transport, are added to every operation's spec by
# weishang.api.openapi.)
ERROR_STATUSES = (400, 401, 403, 404, 409, 422, 429)
ERRORS = {status: ErrorOut for status in ERROR_STATUSES}


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
        "string_unicode": _("Enter valid text (UTF-8)."),
        "finite_number": _("Enter a finite number."),
        "float_type": _("Enter a number."),
        "int_parsing_size": _("This number is too large."),
        "decimal_not_finite": _("Enter a finite number."),
        "decimal_whole_digits": _("Use at most %(whole_digits)s digits before the decimal point."),
        "multiple_of": _("Enter a multiple of %(multiple_of)s."),
        "date_from_datetime_inexact": _("Enter a date such as 2026-11-27."),
        "date_future": _("Enter a date in the future."),
        "date_past": _("Enter a date in the past."),
        "uuid_parsing": _("Enter a UUID."),
        "uuid_type": _("Enter a UUID."),
        "url_parsing": _("Enter a web address."),
        "none_required": _("Leave this empty."),
        "union_tag_invalid": _("Choose one of: %(expected_tags)s."),
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
    if kind and kind not in OWN_MESSAGE_TYPES and not (get_language() or "").startswith("en"):
        return _("This value is not valid.")  # pydantic's message is English only
    return str(err.get("msg", "")).removeprefix("Value error, ")


# Errors whose message is ours, already in the caller's language: a validator's ValueError, the
# body and cursor checks of weishang.api.transport and weishang.api.pagination.
OWN_MESSAGE_TYPES = {"value_error", "assertion_error", "body_invalid", "cursor_invalid"}


def _field_name(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "header", "form", "file")]
    if not parts and tuple(loc) == ("body",):  # the body as a whole: not JSON, not readable
        return "body"
    return ".".join(parts) or "__all__"


# What a status means when nothing more specific is known: its code and its message. The handlers
# below and weishang.api.transport (answers made before any route runs) both read it.
STATUS_ERRORS = {
    400: ("bad_request", lambda: _("The request is malformed.")),
    401: ("unauthenticated", lambda: _("Log in first: send a valid token or API key.")),
    403: ("forbidden", lambda: _("You may not do this.")),
    404: ("not_found", lambda: _("Not found.")),
    405: ("method_not_allowed", lambda: _("This path does not take the method %(method)s.")),
    413: ("too_large", lambda: _("The request is too large.")),
    415: ("unsupported_media_type", lambda: _("This content type is not accepted here.")),
    429: ("rate_limited", lambda: _("Too many requests. Try again in a moment.")),
    500: ("server_error", lambda: _("Something went wrong on our side. Try again later.")),
}


def status_error(status: int, *, method: str = "") -> tuple[str, str]:
    """``(code, message)`` for ``status``, in the caller's language."""
    code, message = STATUS_ERRORS.get(status) or (
        STATUS_ERRORS[500] if status >= 500 else ("error", lambda: _("The request was refused."))
    )
    return code, message() % {"method": method} if status == 405 else message()


def install(api: NinjaAPI) -> None:
    def respond(request, status: int, code: str, message, fields=None, headers=None):
        response = api.create_response(request, error_body(code, message, fields), status=status)
        for name, value in (headers or {}).items():
            response[name] = value
        return response

    def respond_status(request, status: int, headers=None):
        code, message = status_error(status, method=request.method)
        return respond(request, status, code, message, headers=headers)

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
        return respond_status(request, 401, headers={"WWW-Authenticate": 'Bearer realm="weishang"'})

    @api.exception_handler(AuthorizationError)
    def forbidden(request, exc):
        return respond_status(request, 403)

    @api.exception_handler(PermissionDenied)
    def permission_denied(request, exc):
        return respond_status(request, 403)

    @api.exception_handler(Throttled)
    def throttled(request, exc: Throttled):
        headers = {"Retry-After": str(int(exc.wait))} if exc.wait else {}
        return respond_status(request, 429, headers=headers)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond_status(request, 404)

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        # django-ninja wraps whatever the body parser raises in a 400 HttpError: answer the cause.
        if isinstance(exc.__cause__, (BusinessError, ValidationError)):
            return api.on_exception(request, exc.__cause__)
        return respond(request, exc.status_code, status_error(exc.status_code)[0], str(exc))

    # Limits Django enforces while it reads a request (settings DATA_UPLOAD_MAX_*): raised where a
    # route first reads its body, form or query, and answered here, never as a 500.
    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        return respond(
            request,
            413,
            "too_large",
            _("The request body is too large: at most %(kb)s KB of JSON or form fields.") % {"kb": limit // 1024},
        )

    @api.exception_handler(TooManyFieldsSent)
    def too_many_fields(request, exc):
        return respond(
            request,
            400,
            "too_many_fields",
            _("Too many parameters: at most %(count)s in the query string or the form.")
            % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS},
        )

    @api.exception_handler(TooManyFilesSent)
    def too_many_files(request, exc):
        return respond(
            request,
            400,
            "too_many_files",
            _("Too many files: at most %(count)s in one request.") % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FILES},
        )

    @api.exception_handler(MultiPartParserError)
    def broken_multipart(request, exc):
        message = _("The upload could not be read: send it as multipart/form-data with its boundary.")
        return respond(request, 422, "invalid", _("Some fields are not valid."), {"body": [message]})

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request, exc):
        return respond_status(request, 400)

    @api.exception_handler(Exception)
    def server_error(request, exc: Exception):
        kind = unavailable.classify(exc)
        if kind is not None:  # a full disk, a read-only or unreachable database: try again later
            unavailable.report(request, kind, exc)
            headers = {"Retry-After": str(unavailable.RETRY_AFTER_SECONDS)}
            return respond(request, 503, kind, unavailable.message(), headers=headers)
        log.exception("API error on %s %s", request.method, request.path)
        return respond_status(request, 500)
