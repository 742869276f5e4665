"""The spec at /api/v1/openapi.json tells a client every answer it can get: the transport's statuses
and headers on each operation (weishang.api.openapi), and the server sends them as documented."""

from __future__ import annotations

import re
import uuid

import pytest

from .conftest import assert_matches_spec, error_of


@pytest.fixture
def spec(api, db):
    response = api().get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(spec):
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_every_operation_documents_the_transport_s_answers(spec):
    for method, path, operation in operations(spec):
        answers = operation["responses"]
        where = f"{method.upper()} {path}"
        for status in ("405", "429", "500"):
            assert answers[status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"
            }, where
        assert "Retry-After" in answers["429"]["headers"], where
        if operation.get("security"):
            assert answers["401"]["headers"]["WWW-Authenticate"]["required"] is True, where
        has_body = "requestBody" in operation
        assert {"413", "415"} <= set(answers) if has_body else not {"413", "415"} & set(answers), where
        if method == "get":
            assert answers["304"]["headers"]["ETag"]["required"] is True and "content" not in answers["304"], where
            assert "ETag" in answers["200"]["headers"], where
        if method == "post":
            for status, answer in answers.items():
                if status.startswith("2"):
                    assert "Idempotent-Replayed" in answer["headers"], where
            keys = [p for p in operation["parameters"] if p["in"] == "header" and p["name"] == "Idempotency-Key"]
            assert len(keys) == 1 and keys[0]["schema"]["pattern"] == r"^[\x21-\x7E]{1,255}$", where


def test_the_idempotency_key_pattern_is_printable_ascii(spec):
    pattern = spec["paths"]["/api/v1/orders"]["post"]["parameters"][-1]["schema"]["pattern"]
    assert re.fullmatch(pattern, str(uuid.uuid4())) and re.fullmatch(pattern, "a" * 255)
    for bad in ("", "a" * 256, "with space", "密钥", "nul\x00", "tab\t"):
        assert not re.fullmatch(pattern, bad), bad


def test_a_get_answers_an_etag_and_304_as_documented(api, agent_token):
    _agent, secret = agent_token
    client = api(token=secret)
    first = client.get("/me")
    assert first.status_code == 200 and first["ETag"]
    again = client.get("/me", **{"If-None-Match": first["ETag"]})
    assert again.status_code == 304 and again["ETag"] == first["ETag"] and again.content == b""
    assert_matches_spec(again, "get", "/me")


def test_a_401_says_how_to_authenticate_as_documented(api, db):
    response = api(token="wst_not-a-token").get("/me")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == "unauthenticated"
    assert_matches_spec(response, "get", "/me")


def test_a_replayed_post_says_so_as_documented(api, agent_token):
    _agent, secret = agent_token
    client, key = api(token=secret), str(uuid.uuid4())
    body = {"amount": "150", "method": "alipay", "account_name": "王芳", "account_no": "13900001111"}
    first = client.post("/withdrawals", body, **{"Idempotency-Key": key})
    again = client.post("/withdrawals", body, **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 409  # nothing to withdraw yet; refused once, replayed
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert_matches_spec(again, "post", "/withdrawals")


def test_a_code_in_a_path_is_documented_with_its_pattern(spec):
    """An invite code, an order number or a period: letters, digits and dashes. Anything else names
    nothing: the server answers 404 (tests/api/test_public_api.py, test_brand_api.py)."""
    for method, path, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["schema"].get("type") == "string":
                assert parameter["schema"]["pattern"].startswith("^[A-Za-z0-9"), (method, path, parameter["name"])
