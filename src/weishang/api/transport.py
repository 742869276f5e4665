"""The API's transport: how a request's body is read, which methods a path answers, and the one
error envelope for everything under ``/api/``, whatever goes wrong before a route runs.

- :class:`JsonParser` (the API's parser) reads a body once, after authentication: only
  ``application/json`` (415 ``unsupported_media_type`` otherwise), valid UTF-8 and standard JSON
  (no ``NaN``), a JSON object (422 ``invalid`` on ``body`` in the caller's language otherwise). A route that takes
  files takes ``multipart/form-data`` only. Limits Django enforces while reading (a body over
  ``DATA_UPLOAD_MAX_MEMORY_SIZE``, more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` parameters or
  ``DATA_UPLOAD_MAX_NUMBER_FILES`` files, a broken multipart body) are answered by
  :mod:`weishang.api.errors` (413, 400, 422), never a 500.
- :class:`ApiTransportMiddleware` makes every path under ``/api/`` answer like the routes do:
  ``HEAD`` wherever ``GET`` works (the same headers, no body), ``OPTIONS`` with ``Allow``, a wrong
  method 405 ``method_not_allowed`` with ``Allow``, an unknown path 404 ``not_found`` — and any
  answer that is not JSON by then (a Django error page, in DEBUG one that lists every URL or the
  settings) becomes the envelope with the same status.

Why not in the routes: django-ninja answers a wrong method and Django answers an unknown path
before any route runs, with HTML; one middleware that sees every answer is the only place that
catches them all.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja.errors import ValidationError
from ninja.parser import Parser

from weishang.api.errors import status_error
from weishang.core.errors import BusinessError, error_body

PREFIX = "/api/"
JSON = "application/json"
MULTIPART = "multipart/form-data"


class UnsupportedMediaType(BusinessError):
    status = 415
    code = "unsupported_media_type"


def media_type(request) -> str:
    """The request's media type, lower case, without parameters (``charset``, ``boundary``)."""
    return (request.META.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()


def _refuse_constant(name: str):
    raise ValueError(name)


class JsonParser(Parser):
    """Reads a JSON body, or refuses it in the envelope. django-ninja wraps what this raises in a
    400 ``HttpError``; :mod:`weishang.api.errors` answers the cause instead (415 or 422)."""

    def parse_body(self, request) -> Any:
        kind = media_type(request)
        if kind != JSON and not kind.endswith("+json"):
            raise UnsupportedMediaType(_("Send the body as JSON, with the header Content-Type: application/json."))
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _invalid_body(_("The request body is not valid UTF-8.")) from exc
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, NaN, a 5,000-digit number, deep nesting
            raise _invalid_body(_("The request body is not valid JSON.")) from exc
        if not isinstance(data, dict):  # every body of ours is an object: `true` is not `{}`
            raise _invalid_body(_("Send a JSON object."))
        return data

    def parse_querydict(self, data, list_fields, request) -> dict:
        if data is request.FILES and request.method not in ("GET", "HEAD") and media_type(request) != MULTIPART:
            raise UnsupportedMediaType(_("Send this form as multipart/form-data (a file upload)."))
        return super().parse_querydict(data, list_fields, request)


def _invalid_body(message: str) -> ValidationError:
    return ValidationError([{"loc": ("body",), "type": "body_invalid", "msg": message}])


_KEEP_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def envelope(request, status: int) -> JsonResponse:
    """The envelope for an answer that did not come from a route (see the module's docstring)."""
    code, message = status_error(status, method=request.method)
    return JsonResponse(error_body(code, message), status=status, json_dumps_params={"ensure_ascii": False})


def allowed_methods(response) -> list[str]:
    """The methods a 405 answer allows, with ``HEAD`` beside ``GET`` and ``OPTIONS``."""
    methods = [m.strip().upper() for m in (response.get("Allow") or "").split(",") if m.strip()]
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")
    if methods and "OPTIONS" not in methods:
        methods.append("OPTIONS")
    return methods


class ApiTransportMiddleware:
    """HEAD, OPTIONS, 405 and 404 under ``/api/`` in the envelope (see the module's docstring).
    It sits after the locale middleware, so that its messages are in the caller's language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        method = request.method
        if method == "HEAD":
            request.method = "GET"  # answered as GET is, then without the body
        response = self.get_response(request)
        request.method = method
        if method == "OPTIONS" and response.status_code == 405:
            answer = HttpResponse(status=204)
            answer["Allow"] = ", ".join(allowed_methods(response))
            return answer
        if response.status_code >= 400 and not _is_json(response):
            answer = envelope(request, response.status_code)
            for name in _KEEP_HEADERS:
                if name in response:
                    answer[name] = response[name]
            response = answer
        if response.status_code == 405:
            response["Allow"] = ", ".join(allowed_methods(response))
        if method == "HEAD" and not getattr(response, "streaming", False):
            response["Content-Length"] = str(len(response.content))
            response.content = b""
        return response


def _is_json(response) -> bool:
    kind = (response.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    return kind == JSON or kind.endswith("+json")
