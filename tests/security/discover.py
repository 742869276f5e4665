"""Finding every target of the permission matrix, as test_chinese_everywhere finds every page: the
console's from the admin site, the phone and public pages from the URL resolver, the API's routes
from its OpenAPI schema. A page or route added later is found too, and fails the matrix until
``matrix.py`` says who may open it."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

# Console views that are no pages of their own: the JavaScript catalogue, autocomplete's JSON,
# signing out and in, the jump to the public site.
CONSOLE_NOT_PAGES = {"jsi18n", "autocomplete", "logout", "view_on_site", "login"}


@dataclass(frozen=True)
class Target:
    key: str  # what matrix.py classifies: "console channel.agent change", "web my_order", "api GET /orders"
    method: str
    url: str


def console_targets(objects: dict[str, object] | None = None, *, user=None) -> list[Target]:
    """The console: the site's own pages, each app's page, and for every registered model its
    list, add form, and the change form, history, delete confirmation and each view of its own
    (the admin's ``get_urls``) on a real object: ``objects[label]`` where given, else the newest
    that ``user`` (the owner) is shown in the model's list."""
    objects = objects or {}
    request = RequestFactory().get("/console/")
    request.user = user
    out = [
        Target("console site index", "GET", reverse("admin:index")),
        Target("console site password_change", "GET", reverse("admin:password_change")),
    ]
    for pattern in admin.site.get_urls():
        if isinstance(pattern, URLPattern) and pattern.name and pattern.name not in CONSOLE_NOT_PAGES:
            if not pattern.pattern.regex.groups and pattern.name not in ("index", "password_change"):
                out.append(Target(f"console site {pattern.name}", "GET", reverse(f"admin:{pattern.name}")))
    for label in sorted({m._meta.app_label for m in admin.site._registry}):
        out.append(Target(f"console app {label}", "GET", reverse("admin:app_list", args=[label])))
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower):
        app_label, model_name = model._meta.app_label, model._meta.model_name
        prefix = f"{app_label}_{model_name}_"
        if model._meta.label_lower in objects:
            obj = model._default_manager.get(pk=objects[model._meta.label_lower])
        else:
            shown = model_admin.get_queryset(request) if user is not None else model._default_manager.all()
            obj = shown.order_by("-pk").first() or model._default_manager.order_by("-pk").first()
        assert obj is not None, f"no {model._meta.label} for the console's pages: give world.py one"
        for pattern in model_admin.get_urls():
            if not isinstance(pattern, URLPattern) or not pattern.name:
                continue
            page = pattern.name.removeprefix(prefix)
            params = pattern.pattern.regex.groups
            key = f"console {model._meta.label_lower} {page}"
            if params == 0:
                out.append(Target(key, "GET", reverse(f"admin:{pattern.name}")))
            elif params == 1:
                out.append(Target(key, "GET", reverse(f"admin:{pattern.name}", args=[obj.pk])))
            elif params == 2 and hasattr(obj, "history"):  # django-simple-history: one past version
                version = obj.history.order_by("-pk").first()
                out.append(Target(key, "GET", reverse(f"admin:{pattern.name}", args=[obj.pk, version.pk])))
            else:
                raise AssertionError(f"{key} takes {params} ids: teach discover.py to fill them")
    return list(dict.fromkeys(out))


def _walk(patterns, prefix: str, namespace: str | None):
    for entry in patterns:
        route = str(entry.pattern) if isinstance(entry.pattern, RoutePattern) else entry.pattern.regex.pattern
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + route, entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            yield namespace, entry.name, prefix + route, list(entry.pattern.converters)


def web_routes() -> list[tuple[str, str, list[str]]]:
    """(key, route, parameter names) of every URL that is neither the console nor the API: the phone
    pages, the public pages, the health checks, the payment providers' notifications."""
    out = []
    for namespace, name, route, params in _walk(get_resolver().url_patterns, "/", None):
        if route.startswith(("/console/", "/api/v1/", "/^console/", "/^api/v1/")):
            continue
        if namespace in ("admin", "api-v1"):
            continue
        key = f"web {name}" if name else f"web {route}"
        out.append((key, route, params))
    return out


def api_routes(client) -> list[tuple[str, str, str, list[str]]]:
    """(key, method, path, path parameter names) of every operation of the API's OpenAPI schema."""
    schema = client.get("/api/v1/openapi.json").json()
    out = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            params = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"]
            out.append((f"api {method.upper()} {path.removeprefix('/api/v1')}", method.upper(), path, params))
    return out
