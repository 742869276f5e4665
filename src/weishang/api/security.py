"""Who is calling: an agent's device token (``Authorization: Bearer wst_…``), the browser session
of the phone pages, or a brand integration's API key (``X-Api-Key: wsk_…``) with scopes."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth
from ninja.utils import check_csrf

from weishang.api.services import api_key_check, token_check
from weishang.core.errors import Forbidden


class DeviceToken(HttpBearer):
    """An agent's (or staff member's) device token from ``POST /auth/login``."""

    def authenticate(self, request, token: str):
        found = token_check(token)
        if found is None:
            return None
        request.user = found.user
        request.api_token = found
        return found


class BrandKey(APIKeyHeader):
    """A brand integration's API key; the endpoint names the scope it needs."""

    param_name = "X-Api-Key"

    def __init__(self, scope: str):
        self.scope = scope
        super().__init__()

    def authenticate(self, request, key: str | None):
        found = api_key_check(key or "")
        if found is None:
            return None
        if self.scope not in found.scopes:
            raise Forbidden(_("This API key lacks the scope %(scope)s.") % {"scope": self.scope}, code="missing_scope")
        request.api_key = found
        return found


class PhoneSession(SessionAuth):
    """The phone pages' session (their own fetches to the API). Without a logged-in session this is
    no credential at all — the answer is 401 ``unauthenticated``, as for a missing token — and only
    a logged-in session must also pass Django's CSRF check (403 ``csrf_failed``), because only a
    cookie is sent by a browser on another site's behalf. A device token is never subject to CSRF.
    (django-ninja's own ``SessionAuth`` checks CSRF first, so that a POST with no credential or a
    wrong token answered 403 "CSRF check Failed", in English.)"""

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise Forbidden(
                _("The security check of this page failed (CSRF): reload the page and try again."), code="csrf_failed"
            )
        return user


# An agent calls with a device token, or from the phone pages with their session.
AGENT = [DeviceToken(), PhoneSession()]


def brand(scope: str) -> list:
    return [BrandKey(scope)]
