"""API fixtures: an agent with a device token, a brand key with scopes, a JSON client."""

from __future__ import annotations

import json
from functools import lru_cache

import jsonschema_rs
import pytest
from django.core.cache import caches
from django.test import Client

from weishang.api.services import api_key_create, token_create
from weishang.core.models import Brand


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate-limit counts live in the cache: each test starts with none."""
    for each in caches.all():
        each.clear()
    yield
    for each in caches.all():
        each.clear()


@pytest.fixture
def brand_row(db):
    return Brand.objects.create(name="测试品牌")


class Api:
    """A JSON client for /api/v1 with an optional credential and language."""

    def __init__(
        self, *, token: str | None = None, key: str | None = None, language: str | None = None, ip: str = "10.0.0.1"
    ):
        self.client = Client(REMOTE_ADDR=ip)
        self.headers = {}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if key:
            self.headers["X-Api-Key"] = key
        if language:
            self.headers["Accept-Language"] = language

    def get(self, path: str, params=None, **headers):
        return self.client.get(f"/api/v1{path}", params or {}, headers={**self.headers, **headers})

    def post(self, path: str, body=None, **headers):
        return self.client.post(
            f"/api/v1{path}",
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers={**self.headers, **headers},
        )

    def delete(self, path: str, **headers):
        return self.client.delete(f"/api/v1{path}", headers={**self.headers, **headers})


@pytest.fixture
def api():
    return Api


@pytest.fixture
def agent_token(make_agent):
    """(agent, secret) — a 市代 logged in on one device."""
    agent = make_agent("city", real_name="市代王芳")
    _token, secret = token_create(user=agent.user, device="测试手机")
    return agent, secret


@pytest.fixture
def brand_key(db):
    def make(*scopes: str, name: str = "ERP") -> str:
        return api_key_create(name=name, scopes=scopes)[1]

    return make


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert body["error"]["message"]
    return body["error"]


@lru_cache(maxsize=1)
def _openapi() -> dict:
    """The live spec, as an integrator downloads it (read once per test run)."""
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def assert_matches_spec(response, method: str, path_template: str) -> None:
    """The response is one the spec documents for this operation: its status is listed, and its
    body (JSON) validates against that status's schema, $refs resolved in the spec's components.
    ``path_template`` as in the spec, with or without the ``/api/v1`` prefix: ``/orders/{number}``."""
    spec = _openapi()
    path = path_template if path_template.startswith("/api/") else f"/api/v1{path_template}"
    assert path in spec["paths"], f"{path} is not in the spec"
    operation = spec["paths"][path].get(method.lower())
    assert operation is not None, f"{method.upper()} {path} is not in the spec"
    status = str(response.status_code)
    documented = operation["responses"].get(status) or operation["responses"].get(f"{status[0]}XX")
    assert documented is not None, (
        f"{method.upper()} {path} answered {status}, which the spec does not list ({', '.join(operation['responses'])})"
    )
    content = documented.get("content")
    if not content:
        assert not response.content, f"{method.upper()} {path} {status} is documented without a body"
        return
    media = response.get("Content-Type", "").split(";")[0].strip()
    assert media in content, f"{method.upper()} {path} {status} answered {media!r}, documented {list(content)}"
    schema = content[media].get("schema", {})
    validator = jsonschema_rs.Draft202012Validator({**schema, "components": spec.get("components", {})})
    body = json.loads(response.content)
    problems = [f"{'/'.join(map(str, e.instance_path)) or '(body)'}: {e.message}" for e in validator.iter_errors(body)]
    assert not problems, f"{method.upper()} {path} {status} does not match its schema:\n" + "\n".join(problems)


__all__ = ["json", "error_of", "assert_matches_spec"]
