"""The client's address (M7 item 4): one helper, driven by WEISHANG_TRUSTED_PROXIES, read by every
per-address limit. A client that rotates X-Forwarded-For keeps its count."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from weishang.core.http import client_ip

from .conftest import error_of


def request_with(remote: str | None = "203.0.113.5", forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote} if remote is not None else {}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/", **meta)
    if remote is None:
        request.META.pop("REMOTE_ADDR", None)
    return request


@pytest.mark.parametrize(
    "proxies, remote, forwarded, expected",
    [
        (0, "203.0.113.5", None, "203.0.113.5"),
        (0, "203.0.113.5", "1.1.1.1", "203.0.113.5"),  # no proxy: the header is the client's own words
        (0, "203.0.113.5", "1.1.1.1, 2.2.2.2", "203.0.113.5"),
        (1, "10.0.0.2", "1.1.1.1, 198.51.100.9", "198.51.100.9"),  # one proxy: the address it saw
        (1, "10.0.0.2", "198.51.100.9", "198.51.100.9"),
        (2, "10.0.0.2", "1.1.1.1, 198.51.100.9, 10.0.0.3", "198.51.100.9"),
        (2, "10.0.0.2", "198.51.100.9", "198.51.100.9"),  # fewer entries than proxies: the leftmost
        (1, "10.0.0.2", None, "10.0.0.2"),  # no header: the connection
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),  # garbage is not believed
        (1, "10.0.0.2", " 2001:db8::1 ", "2001:db8::1"),
        (0, "garbage", None, None),
        (0, None, None, None),
    ],
)
def test_client_ip(settings, proxies, remote, forwarded, expected):
    settings.WEISHANG_TRUSTED_PROXIES = proxies
    assert client_ip(request_with(remote, forwarded)) == expected


def test_the_trusted_proxies_setting_defaults_to_none(db):
    from django.conf import settings

    assert settings.WEISHANG_TRUSTED_PROXIES == 0


def rotate(api, path: str, method: str = "get", n: int = 4, **headers):
    statuses = []
    for i in range(n):
        caller = api(ip="203.0.113.5")
        send = caller.get if method == "get" else caller.post
        statuses.append(send(path, **{"X-Forwarded-For": f"10.{i}.{i}.{i}"}, **headers).status_code)
    return statuses


def test_a_rotated_forwarded_header_keeps_the_public_count(api, db, settings):
    settings.WEISHANG_API_RATES = {"public": "3/m"}
    statuses = rotate(api, "/public/shops/NO-SUCH-SHOP")
    assert statuses[:3] == [404, 404, 404] and statuses[3] == 429


def test_a_rotated_forwarded_header_keeps_the_applications_count(api, db, settings):
    settings.WEISHANG_API_RATES = {"public": "3/m"}
    statuses = rotate(api, "/applications", method="post")
    assert 429 not in statuses[:3] and statuses[3] == 429


def test_a_rotated_forwarded_header_keeps_the_login_count(api, db, settings):
    settings.WEISHANG_API_RATES = {"login": "3/m"}
    statuses = rotate(api, "/auth/login", method="post")
    assert statuses == [422, 422, 422, 429]


def test_behind_one_proxy_each_client_has_its_own_count(api, db, settings):
    settings.WEISHANG_TRUSTED_PROXIES = 1
    settings.WEISHANG_API_RATES = {"public": "2/m"}
    proxy = "10.0.0.2"
    one = [
        api(ip=proxy).get("/public/shops/X", **{"X-Forwarded-For": "6.6.6.6, 198.51.100.1"}).status_code
        for _ in range(3)
    ]
    assert one == [404, 404, 429]
    limited = api(ip=proxy).get("/public/shops/X", **{"X-Forwarded-For": "7.7.7.7, 198.51.100.1"})
    assert error_of(limited)["code"] == "rate_limited"  # a new fake entry in front does not help
    assert api(ip=proxy).get("/public/shops/X", **{"X-Forwarded-For": "198.51.100.2"}).status_code == 404
