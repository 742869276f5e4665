"""Chinese first: the language is Chinese unless the user chose another one.

Django's LocaleMiddleware would follow the browser's Accept-Language header, so a brand owner
on an English-language laptop, or a headless browser, would get English without asking. Here
only an explicit choice (the language switch, stored in the ``django_language`` cookie) or a
language prefix counts; everyone else gets settings.LANGUAGE_CODE (zh-hans).

The API (``/api/``) is different: a mini-program or an integration sets ``Accept-Language`` on
purpose, so there the header is followed (Chinese when it is absent).

Also here: the Content Security Policy by area of the site (``ContentSecurityPolicyByArea``).
"""

from __future__ import annotations

from django.conf import settings
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.middleware.locale import LocaleMiddleware


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return super().process_request(request)


class ContentSecurityPolicyByArea(ContentSecurityPolicyMiddleware):
    """Django's Content Security Policy, with a looser policy for the console and the API's
    documentation pages (``WEISHANG_CSP_CONSOLE``): the console's framework evaluates its
    templates' expressions in the browser (Alpine.js), which the strict policy of the phone and
    public pages (``SECURE_CSP``) forbids. A view's own ``csp_override`` still wins."""

    def process_response(self, request, response):
        if not hasattr(response, "_csp_config") and request.path.startswith(CONSOLE_AREAS):
            response._csp_config = settings.WEISHANG_CSP_CONSOLE
        return super().process_response(request, response)


CONSOLE_AREAS = ("/console/", "/api/v1/docs", "/api/v1/redoc")
