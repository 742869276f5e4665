"""The REST API, version 1 (django-ninja). M6 fills it; M1 has the application flow and "me"."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from weishang.api import channel as channel_api
from weishang.core.errors import BusinessError

api = NinjaAPI(title="Weishang API", version="1", urls_namespace="api-v1")


@api.exception_handler(BusinessError)
def business_error(request, exc: BusinessError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        errors.setdefault(".".join(loc) or "__all__", []).append(err.get("msg", ""))
    return api.create_response(
        request, {"detail": _("Some fields are not valid."), "code": "invalid", "errors": errors}, status=422
    )


@api.exception_handler(AuthenticationError)
def auth_error(request, exc):
    return api.create_response(request, {"detail": _("Log in first."), "code": "unauthenticated"}, status=401)


api.add_router("/", channel_api.router)
