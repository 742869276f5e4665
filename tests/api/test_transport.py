"""The API under hostile transport, sent as a real client sends it: raw bytes for the body, the
headers as they come, CSRF enforced (Django's test client skips CSRF unless asked; a browser does
not). Whatever arrives, the answer is the documented envelope with a 4xx — never a 500, never a
Django HTML page — in the caller's language, and nothing changes. docs/api.md "Errors" is the
contract; the schemathesis run (test_schemathesis.py) fuzzes the same contract over every route.

A few of these go through the live server over a socket (``http.client``), where the test
client would hide what a real server does: HEAD, an oversized body refused unread."""

from __future__ import annotations

import base64
import http.client
import json
import uuid
from urllib.parse import urlsplit

import pytest
from django.test import Client

from weishang.api.models import IdempotencyRecord
from weishang.api.services import token_create, token_revoke
from weishang.channel.models import Application

from .conftest import assert_matches_spec, error_of

PASSWORD = "pass-word-1"
JSON = "application/json"


class Raw:
    """A client that sends exactly what it is given, with CSRF checks on."""

    def __init__(self, *, token: str | None = None, language: str | None = None, ip: str = "10.0.0.7"):
        self.client = Client(enforce_csrf_checks=True, REMOTE_ADDR=ip)
        self.headers: dict[str, str] = {}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if language:
            self.headers["Accept-Language"] = language

    def send(self, method: str, path: str, body: bytes | str = b"", content_type: str = JSON, **headers):
        return self.client.generic(
            method, f"/api/v1{path}", body, content_type=content_type, headers={**self.headers, **headers}
        )

    def get(self, path: str, query: str = "", **headers):
        return self.client.get(f"/api/v1{path}" + (f"?{query}" if query else ""), headers={**self.headers, **headers})


def application(phone: str = "13700001111") -> bytes:
    return json.dumps({"phone": phone, "real_name": "新人张三", "level": "vip", "password": PASSWORD}).encode()


@pytest.fixture
def brand(brand_row, levels):
    """A brand taking join applications at its levels."""
    return brand_row


@pytest.fixture
def city(make_agent):
    return make_agent("city", real_name="市代王芳", password=PASSWORD)


@pytest.fixture
def token(city) -> str:
    return token_create(user=city.user, device="测试手机")[1]


# --- 1. cursors ---------------------------------------------------------------------------------


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("path", ["/team", "/orders", "/fills", "/withdrawals", "/rewards/lines"])
def test_a_cursor_naming_an_impossible_position_is_422_on_cursor(path, token):
    for bad in ("p=--5", "p=-", "p=5-", "p=1e3", "p=" + "9" * 30, "o=-1", "r=maybe", "garbage", "p=5"):
        response = Raw(token=token).get(path, f"cursor={_cursor(bad)}")
        assert response.status_code == 422, (path, bad, response.content)
        assert list(error_of(response)["fields"]) == ["cursor"]
    for raw in ("%%%", "not-base64!", "\u00e9t\u00e9"):
        response = Raw(token=token).get(path, "cursor=" + raw)
        assert response.status_code == 422 and list(error_of(response)["fields"]) == ["cursor"]


def test_a_cursor_made_by_one_list_is_refused_by_another(token, make_agent, city):
    for _ in range(3):
        make_agent("vip", referrer=city)
    client = Raw(token=token)
    team = client.get("/team", "page_size=1").json()
    cursor = dict(part.split("=", 1) for part in urlsplit(team["next"]).query.split("&"))["cursor"]
    assert client.get("/team", f"page_size=1&cursor={cursor}").status_code == 200
    for other in ("/orders", "/fills", "/withdrawals"):
        refused = client.get(other, f"cursor={cursor}")
        assert refused.status_code == 422 and list(error_of(refused)["fields"]) == ["cursor"]


# --- 2–4. bodies and queries over Django's limits ------------------------------------------------


def test_a_json_body_over_the_limit_is_413_in_the_envelope(city, settings, make_agent):
    big = b'{"phone": "13800000000", "password": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + b'"}'
    for headers in ({}, {"Idempotency-Key": str(uuid.uuid4())}):
        for path in ("/auth/login", f"/public/shops/{city.invite_code}/orders", "/applications"):
            response = Raw(language="en").send("POST", path, big, **headers)
            assert response.status_code == 413, (path, headers, response.content[:300])
            assert error_of(response)["code"] == "too_large" and "KB" in error_of(response)["message"]
    assert not IdempotencyRecord.objects.exists() and not Application.objects.exists()


def test_more_than_a_thousand_query_parameters_is_400_in_the_envelope(city, token):
    query = "&".join(f"f{i}=1" for i in range(1001))
    for client, path in (
        (Raw(), f"/public/shops/{city.invite_code}/orders/WS1?phone=13812345678"),
        (Raw(token=token), "/orders?x=1"),
        (Raw(), "/nowhere?x=1"),
    ):
        response = client.get(path.split("?")[0], path.split("?")[1] + "&" + query)
        assert response.status_code in (400, 404), response.content[:200]
        assert error_of(response)["code"] in ("too_many_fields", "not_found")
    response = Raw(token=token).get("/orders", query)
    assert response.status_code == 400 and error_of(response)["code"] == "too_many_fields"
    assert "1000" in error_of(response)["message"]


def _multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "XyZ") -> bytes:
    lines = []
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        lines += [f"--{boundary}".encode(), f"Content-Disposition: {disposition}".encode(), b"", content]
    return b"\r\n".join(lines + [f"--{boundary}--".encode(), b""])


def test_a_broken_or_oversized_multipart_upload_is_a_4xx_in_the_envelope(token):
    client = Raw(token=token)
    path = "/orders/WS20261127000001/transfer"
    cases = {
        "no boundary": (b"--x\r\n", "multipart/form-data", 422, "invalid"),
        "empty boundary": (b"--\r\n", "multipart/form-data; boundary=", 422, "invalid"),
        "too many fields": (
            _multipart([(f"f{i}", None, b"1") for i in range(1001)]),
            "multipart/form-data; boundary=XyZ",
            400,
            "too_many_fields",
        ),
        "too many files": (
            _multipart([(f"s{i}", f"{i}.png", b"x") for i in range(101)]),
            "multipart/form-data; boundary=XyZ",
            400,
            "too_many_files",
        ),
        "truncated": (
            _multipart([("reference", None, b"abc")])[:-12],
            "multipart/form-data; boundary=XyZ",
            422,
            "invalid",
        ),
    }
    for name, (body, content_type, status, code) in cases.items():
        response = client.send("POST", path, body, content_type=content_type)
        assert response.status_code == status, (name, response.content[:300])
        assert error_of(response)["code"] == code, name


# --- 5. credentials and CSRF ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path",
    [
        ("POST", "/orders"),
        ("POST", "/withdrawals"),
        ("POST", "/auth/password"),
        ("DELETE", "/auth/devices/1"),
        ("POST", "/applications/1/approve"),
        ("GET", "/me"),
    ],
)
def test_no_wrong_or_revoked_token_is_401_with_www_authenticate_not_a_csrf_403(method, path, city, token):
    from weishang.api.models import ApiToken

    revoked = token_create(user=city.user, device="旧手机")[1]
    token_revoke(token=ApiToken.objects.get(user=city.user, device="旧手机"), by=city.user)
    for credential in (None, "wst_not-a-token", revoked, ""):
        response = Raw(token=credential, language="en").send(method, path, b"{}")
        assert response.status_code == 401, (credential, response.content)
        assert error_of(response)["code"] in ("unauthenticated", "token_expired")
        assert response["WWW-Authenticate"].startswith("Bearer")
    # A good token needs no CSRF token: it is not sent by a browser on another site's behalf.
    assert Raw(token=token).send("POST", "/auth/password", b"{}").status_code == 422


def test_the_phone_pages_session_keeps_its_csrf_check(city):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(city.user)
    body = json.dumps({"amount": "1.00"})
    refused = browser.post("/api/v1/withdrawals", body, content_type=JSON, headers={"Accept-Language": "en"})
    assert refused.status_code == 403 and error_of(refused)["code"] == "csrf_failed"
    assert "CSRF" in error_of(refused)["message"]
    chinese = browser.post("/api/v1/withdrawals", body, content_type=JSON)
    assert "重新" in error_of(chinese)["message"]
    browser.get("/m/")  # the page sets the CSRF cookie, as in a browser
    csrf = browser.cookies["csrftoken"].value
    allowed = browser.post("/api/v1/withdrawals", body, content_type=JSON, headers={"X-CSRFToken": csrf})
    assert allowed.status_code != 403, allowed.content  # past CSRF: the rules answer (no money to withdraw)
    assert browser.get("/api/v1/me").status_code == 200  # a read needs no CSRF token


# --- 6, 7, 11. idempotency ---------------------------------------------------------------------


def test_a_429_is_never_stored_for_its_key(brand, settings):
    from django.core.cache import caches

    settings.WEISHANG_API_RATES = {"public": "1/m"}
    key = str(uuid.uuid4())
    assert Raw().send("POST", "/applications", application("13700000001")).status_code == 201
    limited = Raw().send("POST", "/applications", application("13700000002"), **{"Idempotency-Key": key})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert not IdempotencyRecord.objects.filter(key=key).exists()
    for each in caches.all():
        each.clear()  # the minute has passed
    retried = Raw().send("POST", "/applications", application("13700000002"), **{"Idempotency-Key": key})
    assert retried.status_code == 201 and not retried.has_header("Idempotent-Replayed")
    assert Application.objects.count() == 2


def test_nothing_answered_before_authentication_is_stored(city, token):
    key = str(uuid.uuid4())
    first = Raw().send("POST", "/withdrawals", b'{"amount": "1.00"}', **{"Idempotency-Key": key})
    assert first.status_code == 401
    assert not IdempotencyRecord.objects.exists()
    # The body is read after authentication: an unparsable one from a stranger is still 401.
    assert Raw().send("POST", "/withdrawals", b"{not json", **{"Idempotency-Key": key}).status_code == 401
    # Logged in, an unparsable body is 422 in the envelope (not a Django 400 page), and not stored.
    broken = Raw(token=token).send("POST", "/withdrawals", b"{not json", **{"Idempotency-Key": key})
    assert broken.status_code == 422 and broken["Content-Type"].startswith(JSON)
    assert error_of(broken)["fields"] == {"body": ["请求内容不是有效的 JSON。"]}
    assert not IdempotencyRecord.objects.exists()


def test_a_replay_is_the_first_answer_byte_for_byte_with_its_headers(city):
    key = str(uuid.uuid4())
    wrong = json.dumps({"phone": city.user.phone, "password": "wrong-password"}).encode()
    first = Raw(language="en").send("POST", "/auth/login", wrong, **{"Idempotency-Key": key})
    assert first.status_code == 401
    again = Raw(language="zh-hans").send("POST", "/auth/login", wrong, **{"Idempotency-Key": key})
    assert again["Idempotent-Replayed"] == "true"
    assert again.status_code == first.status_code and again.content == first.content
    for header in ("Content-Type", "Content-Language", "WWW-Authenticate"):
        assert again.get(header) == first.get(header), header
    assert again["Content-Type"] == "application/json; charset=utf-8" and again["Content-Language"] == "en"


@pytest.mark.parametrize("key", ["", " ", "a b", "ключ", "caf\u00e9", "nul\x00byte", "tab\tkey", "x" * 256])
def test_an_idempotency_key_outside_printable_ascii_is_400_and_not_stored(brand, key):
    response = Raw(language="en").send("POST", "/applications", application(), **{"Idempotency-Key": key})
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_idempotency_key"
    assert not IdempotencyRecord.objects.exists() and not Application.objects.exists()


# --- 8. routing ----------------------------------------------------------------------------------


def test_a_wrong_method_is_405_in_the_envelope_with_allow(token, settings):
    settings.DEBUG = True  # Django's debug pages must not leak either
    for method, path, allowed in (
        ("DELETE", "/orders", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("PUT", "/me", {"GET", "HEAD", "OPTIONS"}),
        ("GET", "/auth/login", {"POST", "OPTIONS"}),
    ):
        response = Raw(token=token, language="en").send(method, path)
        assert response.status_code == 405, (method, path)
        assert error_of(response)["code"] == "method_not_allowed" and method in error_of(response)["message"]
        assert set(response["Allow"].split(", ")) == allowed


@pytest.mark.parametrize("path", ["/nowhere", "/orders/", "/ORDERS", "/", "/auth", "/orders/x/y/z"])
def test_an_unknown_path_is_404_in_the_envelope_even_in_debug(path, token, settings):
    settings.DEBUG = True
    response = Raw(token=token).get(path)
    assert response.status_code == 404 and response["Content-Type"].startswith(JSON)
    assert error_of(response) == {"code": "not_found", "message": "未找到。", "fields": {}}
    assert b"urlpatterns" not in response.content and b"SECRET" not in response.content


def test_head_works_wherever_get_does_and_options_answers_allow(token):
    client = Raw(token=token)
    get, head = client.get("/me"), client.client.head("/api/v1/me", headers=client.headers)
    assert get.status_code == head.status_code == 200 and head.content == b""
    assert head["ETag"] == get["ETag"] and head["Content-Type"] == get["Content-Type"]
    assert int(head["Content-Length"]) == len(get.content)
    options = client.client.options("/api/v1/orders", headers=client.headers)
    assert options.status_code == 204 and set(options["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}
    assert client.client.options("/api/v1/nowhere").status_code == 404
    assert client.client.head("/api/v1/auth/login").status_code == 405  # HEAD only where GET is


# --- 9, 10. what a body may be -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[1,",
        b'{"phone": "1"',
        b"\xff\xfe{}",
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b"[" * 100_000,
        b'{"a": 1' + b"0" * 5000 + b"}",
        b"\x00",
    ],
)
def test_a_malformed_or_undecodable_body_is_422_invalid_in_the_callers_language(body, brand):
    for language, expected in (("zh-hans", "请求内容"), ("en", "request body")):
        response = Raw(language=language).send("POST", "/applications", body)
        assert response.status_code == 422, response.content[:200]
        error = error_of(response)
        assert error["code"] == "invalid" and list(error["fields"]) == ["body"]
        assert expected in error["fields"]["body"][0], error
        assert "Expecting" not in error["fields"]["body"][0] and "codec" not in error["fields"]["body"][0]
    assert not Application.objects.exists()


@pytest.mark.parametrize("body", [b"true", b"null", b"[]", b'"text"', b"0", b'[{"phone": "13700001111"}]'])
def test_a_body_that_is_not_a_json_object_is_422_not_an_empty_one(body, city, token):
    """A JSON value that is not an object is not `{}`: an action whose fields are all optional
    (cancelling an order) must not run on `true`."""
    from weishang.trade.models import Order

    for path in ("/withdrawals", "/orders/WS20261127000001/cancel"):
        response = Raw(token=token).send("POST", path, body)
        assert response.status_code == 422, (path, body, response.content)
        assert error_of(response)["fields"] == {"body": ["请发送 JSON 对象。"]}
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=XyZ",
        "",
        "application/jsonx",
    ],
)
def test_a_body_that_is_not_json_is_415(content_type, brand):
    response = Raw(language="en").send("POST", "/applications", application(), content_type=content_type)
    assert response.status_code == 415, response.content[:200]
    error = error_of(response)
    assert error["code"] == "unsupported_media_type" and "application/json" in error["message"]
    assert not Application.objects.exists()
    # JSON with its charset is JSON.
    assert (
        Raw().send("POST", "/applications", application(), content_type="application/json; charset=utf-8").status_code
        == 201
    )


def test_a_file_route_takes_multipart_only(token):
    response = Raw(token=token, language="en").send("POST", "/orders/WS20261127000001/transfer", b'{"reference": "x"}')
    assert response.status_code == 415 and "multipart/form-data" in error_of(response)["message"]


# --- 12. what a value may be ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "0",
        "1700000000",
        "2026-11-01T00:00:00",
        "2026-11-01T00:00:00Z",
        "20261101",
        "2026-1-1",
        "2026-13-01",
        " 2026-11-01",
        "2026-11-01 ",
    ],
)
def test_a_date_filter_is_a_day_written_yyyy_mm_dd_only(value, token):
    for name in ("created_before", "created_after"):
        response = Raw(token=token).get("/orders", f"{name}={value}")
        assert response.status_code == 422 and list(error_of(response)["fields"]) == [name], value
        assert error_of(response)["fields"][name] == ["请输入日期，如 2026-11-27。"]
    assert Raw(token=token).get("/orders", "created_after=2026-11-01&created_before=2026-12-01").status_code == 200


def test_pydantic_messages_are_never_english_under_chinese(city, token):
    probes = [
        ("/withdrawals", b'{"amount": "NaN"}'),
        ("/withdrawals", b'{"amount": 1e400}'),
        ("/orders", b'{"lines": [{"sku": "\\ud800", "quantity": 1}]}'),
        ("/orders", b'{"lines": [{"sku": "A", "quantity": 1.5}]}'),
        ("/orders", b'{"lines": {"sku": "A"}}'),
        ("/withdrawals", b'{"amount": {"x": 1}}'),
    ]
    for path, body in probes:
        response = Raw(token=token).send("POST", path, body)
        assert 400 <= response.status_code < 500, (path, body, response.content)
        messages = [m for ms in error_of(response)["fields"].values() for m in ms] + [error_of(response)["message"]]
        for message in messages:
            assert not message.isascii(), (path, body, message)


# --- times ---------------------------------------------------------------------------------------


def test_times_are_written_in_china_time_with_their_offset(token):
    devices = Raw(token=token).get("/auth/devices").json()
    assert devices and all(d["created_at"].endswith("+08:00") for d in devices), devices


def test_every_answer_here_matches_the_spec(token, brand):
    """The answers above are in the spec, for each operation they name."""
    assert_matches_spec(Raw(token=token).send("POST", "/withdrawals", b"{"), "POST", "/withdrawals")
    assert_matches_spec(Raw(token=token).get("/orders", "created_before=0"), "GET", "/orders")
    assert_matches_spec(
        Raw().send("POST", "/applications", application(), content_type="text/plain"), "POST", "/applications"
    )


# --- over a socket -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_real_server_answers_head_and_an_oversized_body_in_the_envelope(live_server, settings):
    settings.WEISHANG_UPLOAD_MAX_BYTES = 64 * 1024
    address = urlsplit(live_server.url)

    def call(method: str, path: str, body: bytes | None = None, **headers):
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        try:
            connection.request(method, f"/api/v1{path}", body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    status, headers, body = call("HEAD", "/openapi.json")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 1000
    status, headers, body = call(
        "POST", "/auth/login", b"{" + b" " * (200 * 1024) + b"}", **{"Content-Type": JSON, "Accept-Language": "en"}
    )
    assert status == 413 and json.loads(body)["error"]["code"] == "too_large"
    # The phone pages' answer to an oversized upload reaches the browser too (a page, not a 500).
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.request(
        "POST", "/m/login/", body=b"x" * (200 * 1024), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    page = connection.getresponse()
    assert page.status == 413 and "文件太大" in page.read().decode()
    connection.close()
    status, headers, body = call("PATCH", "/auth/login", b"{}", **{"Content-Type": JSON})
    assert status == 405 and json.loads(body)["error"]["code"] == "method_not_allowed"
    assert "POST" in headers["Allow"]
