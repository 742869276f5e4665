"""Device tokens end (M7 item 5): a password change or reset logs every other device out, and a
token unused for WEISHANG_TOKEN_IDLE_DAYS stops working with a clear code."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from weishang.api.models import ApiToken
from weishang.core import sms

from .conftest import assert_matches_spec, error_of

PASSWORD = "pass-word-1"
PHONE = "13900004444"
NEW = "brand-new-secret-7"


@pytest.fixture
def agent(make_agent):
    return make_agent("city", phone=PHONE, password=PASSWORD)


def login(api, device: str, password: str = PASSWORD) -> str:
    response = api().post("/auth/login", {"phone": PHONE, "password": password, "device": device})
    assert response.status_code == 201, response.content
    return response.json()["token"]


def works(api, token: str) -> bool:
    return api(token=token).get("/me").status_code == 200


def test_a_password_reset_logs_every_device_and_session_out(api, agent, settings):
    settings.WEISHANG_SMS_BACKEND = "weishang.core.sms.LocmemBackend"
    sms.outbox.clear()
    phone_token, pad_token = login(api, "手机"), login(api, "平板")
    browser = Client()
    browser.force_login(agent.user)
    assert works(api, phone_token) and browser.get("/m/").status_code == 200

    web = Client()
    web.post("/m/password/forgot/", {"phone": PHONE})
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1].text).group(1)
    done = web.post("/m/password/reset/", {"phone": PHONE, "code": code, "new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302

    for token in (phone_token, pad_token):
        refused = api(token=token).get("/me")
        assert refused.status_code == 401 and error_of(refused)["code"] == "unauthenticated"
    assert browser.get("/m/")["Location"].startswith("/m/login/")  # the other session ended
    assert works(api, login(api, "新手机", NEW))


def test_a_password_change_through_the_api_keeps_only_the_device_making_it(api, agent):
    phone_token, pad_token = login(api, "手机"), login(api, "平板")
    browser = Client()
    browser.force_login(agent.user)
    changed = api(token=phone_token).post("/auth/password", {"old_password": PASSWORD, "new_password": NEW})
    assert changed.status_code == 204
    assert_matches_spec(changed, "POST", "/auth/password")
    assert works(api, phone_token) and not works(api, pad_token)
    assert browser.get("/m/")["Location"].startswith("/m/login/")
    assert api().post("/auth/login", {"phone": PHONE, "password": PASSWORD}).status_code == 401
    assert works(api, login(api, "电脑", NEW))


@pytest.mark.parametrize(
    "body, status, field, message",
    [
        ({"old_password": "wrong-old", "new_password": NEW}, 400, "old_password", "旧密码"),
        ({"old_password": PASSWORD, "new_password": "12345678"}, 400, "new_password", "密码"),
        ({"old_password": PASSWORD, "new_password": "short"}, 400, "new_password", "密码"),
        ({"old_password": PASSWORD}, 422, "new_password", "必填"),
    ],
)
def test_a_refused_password_change_changes_nothing(api, agent, body, status, field, message):
    token, other = login(api, "手机"), login(api, "平板")
    refused = api(token=token).post("/auth/password", body)
    assert refused.status_code == status
    error = error_of(refused)
    assert field in error["fields"] and message in " ".join(error["fields"][field])
    assert works(api, other)
    agent.user.refresh_from_db()
    assert agent.user.check_password(PASSWORD)


def test_a_token_unused_for_the_idle_limit_answers_token_expired(api, agent, settings):
    settings.WEISHANG_TOKEN_IDLE_DAYS = 30
    token = login(api, "旧手机")
    row = ApiToken.objects.get()
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now() - timedelta(days=29))
    assert works(api, token)  # 29 days: still fine, and now used again
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now() - timedelta(days=30, minutes=1))
    expired = api(token=token).get("/me")
    assert expired.status_code == 401
    error = error_of(expired)
    assert error["code"] == "token_expired" and "30" in error["message"] and "重新登录" in error["message"]
    assert_matches_spec(expired, "GET", "/me")
    assert api(token=token).get("/me").status_code == 401  # it stays expired
    listed = api(token=login(api, "新手机")).get("/auth/devices").json()
    assert [d["device"] for d in listed] == ["新手机"]  # the expired one is not a logged-in device


def test_a_token_never_used_expires_from_its_creation(api, agent):
    token = login(api, "没用过")
    ApiToken.objects.update(created_at=timezone.now() - timedelta(days=31), last_used_at=None)
    assert error_of(api(token=token).get("/me"))["code"] == "token_expired"


def test_last_used_is_written_at_most_every_five_minutes(api, agent, django_assert_num_queries):
    token = login(api, "手机")
    assert works(api, token)
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    assert works(api, token)
    assert ApiToken.objects.get().last_used_at == first  # a second call within five minutes writes nothing
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=6))
    assert works(api, token)
    assert ApiToken.objects.get().last_used_at > first - timedelta(minutes=6)
