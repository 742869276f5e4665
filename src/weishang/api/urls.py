"""The REST API, version 1 (django-ninja), mounted at ``/api/v1/``.

OpenAPI 3.1 at ``/api/v1/openapi.json``, interactive docs at ``/api/v1/docs``. Routers live in
``weishang.api.routes``; who may call what in ``weishang.api.security``; the error format in
``weishang.api.errors``; ``Idempotency-Key`` in ``weishang.api.idempotency``; what the spec adds to
the routes' own (the transport's answers and headers) in ``weishang.api.openapi``. docs/api.md is the
integrator's guide.
"""

from __future__ import annotations

from ninja import NinjaAPI

from weishang.api import errors, idempotency, openapi
from weishang.api.rendering import LocalTimeRenderer
from weishang.api.routes import auth as auth_routes
from weishang.api.routes import channel as channel_routes
from weishang.api.throttles import CallerThrottle
from weishang.api.transport import JsonParser

DESCRIPTION = """Weishang's API for mini-programs, apps and brand integrations (ERP, logistics).

- **Agents** log in with `POST /auth/login` and send `Authorization: Bearer <token>`; they reach only
  their own records and their own team.
- **Brand integrations** send `X-Api-Key: <key>`; a key reaches only its scopes.
- **Errors** are always `{"error": {"code", "message", "fields"}}` with a 4xx status (500 for a failure on our side).
- **Idempotency**: send `Idempotency-Key` on a POST; a retry with the same key returns the first response.
- **Lists** are cursor-paginated (`cursor`, `page_size`); polled reads answer `ETag` / `If-None-Match`.

See docs/api.md."""


class WeishangAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        return openapi.augment(super().get_openapi_schema(*args, **kwargs))


api = WeishangAPI(
    title="Weishang API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    throttle=[CallerThrottle()],
    parser=JsonParser(),
    renderer=LocalTimeRenderer(),
)
errors.install(api)
idempotency.install(api)
api.add_router("/auth", auth_routes.router)
api.add_router("/auth", "weishang.api.routes.wechat.router")
api.add_router("/", channel_routes.router)
api.add_router("/", "weishang.api.routes.catalog.router")
api.add_router("/", "weishang.api.routes.orders.router")
api.add_router("/", "weishang.api.routes.stock.router")
api.add_router("/team", "weishang.api.routes.team.router")
api.add_router("/", "weishang.api.routes.rewards.router")
api.add_router("/public", "weishang.api.routes.public.router")
api.add_router("/public", "weishang.api.routes.promotions.router")
api.add_router("/", "weishang.api.routes.verify.router")
api.add_router("/", "weishang.api.routes.stores.router")
api.add_router("/", "weishang.api.routes.leads.router")
api.add_router("/", "weishang.api.routes.campaigns.router")
api.add_router("/", "weishang.api.routes.notifications.router")
api.add_router("/", "weishang.api.routes.academy.router")
api.add_router("/brand", "weishang.api.routes.brand.router")
