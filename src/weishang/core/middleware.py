"""Chinese first: the language is Chinese unless the user chose another one.

Django's LocaleMiddleware would follow the browser's Accept-Language header, so a brand owner
on an English-language laptop, or a headless browser, would get English without asking. Here
only an explicit choice (the language switch, stored in the ``django_language`` cookie) or a
language prefix counts; everyone else gets settings.LANGUAGE_CODE (zh-hans).

The API (``/api/``) is different: a mini-program or an integration sets ``Accept-Language`` on
purpose, so there the header is followed (Chinese when it is absent).
"""

from __future__ import annotations

from django.middleware.locale import LocaleMiddleware


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return super().process_request(request)
