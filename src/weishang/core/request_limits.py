"""Request limits, checked before anything reads the request.

- A path with a NUL character (``/join/%00/``) is no page of ours: 404 at once (PostgreSQL
  refuses NUL in text, so it would otherwise fail deep in a query as a 500). The API checks its
  path parameters itself and answers 422 in its error envelope.
- Upload limits: a request whose body is larger than ``WEISHANG_UPLOAD_MAX_BYTES`` is refused
from its Content-Length header, before a byte of the body is read (Django would otherwise spool a
50 MB multipart body to disk before the form could say the file is too big).

The API answers 413 in its error envelope (``{"error": {"code": "too_large", …}}``); a web page
answers 413 with a short page saying so in the reader's language and a link back. The size of
one picture (5 MB) and its pixels are checked where every picture is checked,
``core.files.check_screenshot``.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from weishang.core.errors import error_body

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def upload_max_bytes() -> int:
    return int(getattr(settings, "WEISHANG_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def _too_large(request, limit: int) -> HttpResponse:
    message = _(
        "The upload is too large: at most %(mb)s MB. Choose a smaller picture "
        "(a screenshot is usually well under 5 MB)."
    ) % {"mb": limit // (1024 * 1024) or 1}
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body("too_large", message), status=413)
    else:
        back = request.META.get("HTTP_REFERER") or ""
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = "/m/"
        response = HttpResponse(
            format_html(
                '<!DOCTYPE html><html lang="{}"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1"><title>{}</title></head>'
                '<body><main><h1>{}</h1><p role="alert">{}</p><p><a href="{}">{}</a></p></main></body></html>',
                get_language() or "zh-hans",
                _("File too large"),
                _("File too large"),
                message,
                back,
                _("Back"),
            ),
            status=413,
        )
    # No "Connection: close" here: it is a hop-by-hop header, which a WSGI application may not set
    # (wsgiref, and so Django's runserver, fails the response with a 500). The server decides; Django's
    # drains the unread body before the connection is reused.
    return response


class RequestLimitsMiddleware:
    """Refuses a path with NUL (404) and a request body over the limit from its Content-Length,
    unread (413)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info and not request.path_info.startswith("/api/"):  # the API: 422
            raise Http404("no such page")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = upload_max_bytes()
        if length > limit:
            return _too_large(request, limit)
        return self.get_response(request)
