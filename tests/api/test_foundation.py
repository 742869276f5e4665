"""The API's ground rules, as an integrator meets them on first use: log in for a device token
(stored hashed), log out revokes it; one error shape everywhere in the caller's language;
Idempotency-Key replays the first response; rate limits on login and per caller; the OpenAPI 3.1
spec and its interactive docs."""

from __future__ import annotations

import hashlib
import threading
import uuid

import pytest
from django.db import connection

from weishang.api.models import ApiToken, IdempotencyRecord
from weishang.channel.models import Application

from .conftest import assert_matches_spec, error_of

PASSWORD = "pass-word-1"


# --- logging in and out ------------------------------------------------------------------------


def test_login_gives_a_device_token_that_is_stored_hashed_and_logout_revokes_it(api, make_agent):
    agent = make_agent("city", phone="13900002222")
    response = api().post("/auth/login", {"phone": "13900002222", "password": PASSWORD, "device": "iPhone 15"})
    assert response.status_code == 201
    assert_matches_spec(response, "POST", "/auth/login")
    body = response.json()
    token = body["token"]
    assert body["token_type"] == "Bearer" and body["agent_id"] == agent.pk
    row = ApiToken.objects.get(pk=body["device_id"])
    assert row.key_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.key_hash
    assert row.device == "iPhone 15" and token.startswith(row.prefix)

    me = api(token=token)
    assert me.get("/me").json()["id"] == agent.pk
    listed = me.get("/auth/devices")
    assert_matches_spec(listed, "GET", "/auth/devices")
    devices = listed.json()
    assert [(d["id"], d["device"], d["current"]) for d in devices] == [(row.pk, "iPhone 15", True)]

    logout = me.post("/auth/logout")
    assert logout.status_code == 204
    assert_matches_spec(logout, "POST", "/auth/logout")
    after = me.get("/me")
    assert after.status_code == 401 and error_of(after)["code"] == "unauthenticated"
    assert_matches_spec(after, "GET", "/me")
    again = me.post("/auth/logout")
    assert again.status_code == 401
    assert_matches_spec(again, "POST", "/auth/logout")
    assert after["WWW-Authenticate"].startswith("Bearer")


def test_a_device_can_be_logged_out_from_another_but_not_someone_elses(api, make_agent):
    make_agent("city", phone="13900002222")
    make_agent("city", phone="13900003333")
    phone = api().post("/auth/login", {"phone": "13900002222", "password": PASSWORD, "device": "手机"}).json()
    pad = api().post("/auth/login", {"phone": "13900002222", "password": PASSWORD, "device": "平板"}).json()
    other = api().post("/auth/login", {"phone": "13900003333", "password": PASSWORD}).json()
    stranger = api(token=other["token"])
    not_theirs = stranger.delete(f"/auth/devices/{pad['device_id']}")
    assert not_theirs.status_code == 404
    assert_matches_spec(not_theirs, "DELETE", "/auth/devices/{device_id}")
    assert api(token=pad["token"]).get("/me").status_code == 200
    revoked = api(token=phone["token"]).delete(f"/auth/devices/{pad['device_id']}")
    assert revoked.status_code == 204
    assert_matches_spec(revoked, "DELETE", "/auth/devices/{device_id}")
    assert api(token=pad["token"]).get("/me").status_code == 401
    assert api(token=phone["token"]).get("/me").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "13900002222", "password": "wrong-password"},
        {"phone": "13900009999", "password": PASSWORD},
        # A NUL character (PostgreSQL refuses it in a query: a 500 before) is a failed login too.
        {"phone": "139000\u00002222", "password": PASSWORD},
        {"phone": "13900002222", "password": "secret\u0000"},
    ],
)
def test_a_failed_login_is_401_in_the_callers_language(api, make_agent, body):
    make_agent("city", phone="13900002222")
    zh = api().post("/auth/login", body)
    assert zh.status_code == 401 and error_of(zh)["code"] == "login_failed" and "密码" in error_of(zh)["message"]
    assert_matches_spec(zh, "POST", "/auth/login")
    en = api(language="en").post("/auth/login", body)
    assert "password do not match" in error_of(en)["message"]
    assert ApiToken.objects.count() == 0


def test_a_disabled_account_cannot_use_its_token(api, agent_token):
    agent, token = agent_token
    agent.user.is_active = False
    agent.user.save()
    assert api(token=token).get("/me").status_code == 401


# --- one error shape ---------------------------------------------------------------------------


def test_every_error_has_the_same_shape(api, agent_token, brand_row):
    _agent, token = agent_token
    bad_json = api(token=token).client.post("/api/v1/auth/login", "{not json", content_type="application/json")
    assert bad_json.status_code in (400, 422) and error_of(bad_json)
    missing = api().post("/auth/login", {"phone": "13900002222"})
    assert missing.status_code == 422 and "password" in error_of(missing)["fields"]
    assert_matches_spec(missing, "POST", "/auth/login")
    assert_matches_spec(bad_json, "POST", "/auth/login")
    field = api(language="en").post(
        "/applications", {"phone": "12345", "real_name": "张三", "level": "vip", "password": PASSWORD}
    )
    assert field.status_code == 400 and error_of(field)["fields"] == {"phone": [error_of(field)["message"]]}
    assert "11-digit" in error_of(field)["message"]
    not_found = api(token=token).post("/applications/999999/approve", {})
    assert not_found.status_code == 404 and error_of(not_found)["code"] == "not_found"
    assert api().get("/me").status_code == 401


# --- idempotency -------------------------------------------------------------------------------


def application(phone="13700001111"):
    return {"phone": phone, "real_name": "新人张三", "level": "vip", "password": PASSWORD}


def test_a_retry_with_the_same_key_gets_the_first_response_and_creates_nothing(api, agent_token, brand_row):
    client = api()
    key = str(uuid.uuid4())
    first = client.post("/applications", application(), **{"Idempotency-Key": key})
    assert first.status_code == 201
    again = client.post("/applications", application(), **{"Idempotency-Key": key})
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Application.objects.count() == 1
    # The same key with a different body is refused; a new key makes a new one (and is told why not).
    other = client.post("/applications", application("13700002222"), **{"Idempotency-Key": key})
    assert other.status_code == 422 and error_of(other)["code"] == "idempotency_key_reused"
    assert Application.objects.count() == 1
    # Another caller may use the same key for their own request.
    theirs = api(ip="10.9.9.9").post("/applications", application("13700003333"), **{"Idempotency-Key": key})
    assert theirs.status_code == 201 and Application.objects.count() == 2


def test_a_refused_request_is_replayed_as_refused(api, brand_row):
    client = api()
    key = "retry-of-a-bad-phone"
    first = client.post("/applications", application("12345"), **{"Idempotency-Key": key})
    again = client.post("/applications", application("12345"), **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 400 and again.json() == first.json()
    assert Application.objects.count() == 0


def test_a_bad_idempotency_key_is_400(api, brand_row):
    response = api().post("/applications", application(), **{"Idempotency-Key": "x" * 256})
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_idempotency_key"
    assert Application.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_once(api, levels):
    from weishang.core.models import Brand

    Brand.objects.create(name="测试品牌")
    key, results = str(uuid.uuid4()), []

    def send():
        try:
            results.append(api().post("/applications", application(), **{"Idempotency-Key": key}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Application.objects.count() == 1
    assert results.count(201) >= 1 and set(results) <= {201, 409}
    assert IdempotencyRecord.objects.get().status_code == 201


# --- rate limits ---------------------------------------------------------------------------------


def test_login_is_limited_per_ip(api, make_agent, settings):
    settings.WEISHANG_API_RATES = {"login": "3/m"}
    make_agent("city", phone="13900002222")
    wrong = {"phone": "13900002222", "password": "wrong-password"}
    statuses = [api(ip="10.1.1.1").post("/auth/login", wrong).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = api(ip="10.1.1.1").post("/auth/login", {"phone": "13900002222", "password": PASSWORD})
    assert limited.status_code == 429 and error_of(limited)["code"] == "rate_limited"
    assert_matches_spec(limited, "POST", "/auth/login")
    assert int(limited["Retry-After"]) > 0
    assert api(ip="10.2.2.2").post("/auth/login", {"phone": "13900002222", "password": PASSWORD}).status_code == 201


def test_each_token_has_its_own_limit(api, agent_token, make_agent, settings):
    settings.WEISHANG_API_RATES = {"caller": "5/m"}
    _agent, token = agent_token
    mine = [api(token=token).get("/me").status_code for _ in range(6)]
    assert mine == [200] * 5 + [429]
    _token, other = __import__("weishang.api.services", fromlist=["token_create"]).token_create(
        user=make_agent("vip").user
    )
    assert api(token=other).get("/me").status_code == 200


# --- the spec ----------------------------------------------------------------------------------


def test_openapi_31_spec_and_docs(api, db):
    spec = api().get("/openapi.json")
    assert spec.status_code == 200
    body = spec.json()
    assert body["openapi"].startswith("3.1") and body["info"]["version"] == "1"
    login = body["paths"]["/api/v1/auth/login"]["post"]
    assert {"201", "401", "422", "429"} <= set(login["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in login["parameters"])
    schemes = body["components"]["securitySchemes"]
    assert {"DeviceToken", "BrandKey"} & set(schemes)
    docs = api().get("/docs")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
    assert b"cdn.jsdelivr" not in docs.content  # served from our own static files: works offline


# --- the contract helper itself ----------------------------------------------------------------


def test_the_contract_helper_refuses_what_the_spec_does_not_say(api, agent_token):
    from django.http import HttpResponse, JsonResponse

    _agent, token = agent_token
    assert_matches_spec(api(token=token).get("/me"), "GET", "/me")
    wrong_shape = JsonResponse({"id": "not a number"})
    with pytest.raises(AssertionError, match="does not match its schema"):
        assert_matches_spec(wrong_shape, "GET", "/me")
    with pytest.raises(AssertionError, match="does not list"):
        assert_matches_spec(HttpResponse(status=418), "GET", "/me")
    with pytest.raises(AssertionError, match="documented without a body"):
        assert_matches_spec(JsonResponse({"surprise": True}, status=204), "POST", "/auth/logout")
    with pytest.raises(AssertionError, match="not in the spec"):
        assert_matches_spec(JsonResponse({}), "GET", "/no/such/path")


def test_validation_messages_are_in_the_callers_language(api, db):
    missing = api().post("/auth/login", {"phone": "13900002222"})
    assert error_of(missing)["fields"] == {"password": ["此项必填。"]}
    assert error_of(missing)["message"] == "部分字段填写有误。"
    english = api(language="en").post("/auth/login", {"phone": "13900002222", "password": "x" * 200})
    assert error_of(english)["fields"] == {"password": ["Enter at most 128 characters."]}
