"""API fixtures: an agent with a device token, a brand key with scopes, a JSON client."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client

from weishang.api.services import api_key_create, token_create
from weishang.core.models import Brand


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate-limit counts live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def brand_row(db):
    return Brand.objects.create(name="测试品牌")


class Api:
    """A JSON client for /api/v1 with an optional credential and language."""

    def __init__(self, *, token: str | None = None, key: str | None = None, language: str | None = None,
                 ip: str = "10.0.0.1"):
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
        return self.client.post(f"/api/v1{path}", json.dumps(body if body is not None else {}),
                                content_type="application/json", headers={**self.headers, **headers})

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


__all__ = ["json", "error_of"]
