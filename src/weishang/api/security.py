"""Who is calling: an agent's device token (``Authorization: Bearer wst_…``), the browser session
of the phone pages, or a brand integration's API key (``X-Api-Key: wsk_…``) with scopes."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

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
            raise Forbidden(_("This API key lacks the scope %(scope)s.") % {"scope": self.scope},
                            code="missing_scope")
        request.api_key = found
        return found


# An agent calls with a device token, or from the phone pages with their session.
AGENT = [DeviceToken(), SessionAuth()]


def brand(scope: str) -> list:
    return [BrandKey(scope)]
