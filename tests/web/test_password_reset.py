"""Forgot password: a code by text message, a new password, and every way it must refuse —
a wrong, expired, replaced or used code, a flood of requests, and a number with no account,
which must look exactly like one with an account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from weishang.core import sms
from weishang.core.models import PhoneCode

OLD, NEW = "pass-word-1", "brand-new-secret-7"


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    settings.WEISHANG_SMS_BACKEND = "weishang.core.sms.LocmemBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def agent(make_agent):
    return make_agent("vip", phone="13900001111", password=OLD)


def ask(client: Client, phone: str):
    return client.post("/m/password/forgot/", {"phone": phone})


def code_in(message) -> str:
    return re.search(r"\b(\d{6})\b", message.text).group(1)


def reset(client: Client, phone: str, code: str, password: str = NEW, again: str | None = None):
    return client.post(
        "/m/password/reset/",
        {
            "phone": phone,
            "code": code,
            "new_password1": password,
            "new_password2": again if again is not None else password,
        },
    )


def can_log_in(phone: str, password: str) -> bool:
    return Client().login(username=phone, password=password)


def test_a_code_by_text_message_sets_a_new_password(client, agent, sms_outbox):
    page = client.get("/m/login/")
    assert "/m/password/forgot/" in page.content.decode()
    response = ask(client, "139 0000 1111")  # spaces as people type them
    assert response.status_code == 302 and response["Location"] == "/m/password/reset/?phone=13900001111"
    assert len(sms_outbox) == 1 and sms_outbox[0].phone == "13900001111"
    assert "验证码" in sms_outbox[0].text and "10" in sms_outbox[0].text
    form = client.get(response["Location"])
    assert 'value="13900001111"' in form.content.decode()

    done = reset(client, "13900001111", code_in(sms_outbox[0]))
    assert done.status_code == 302 and done["Location"] == "/m/login/"
    assert "密码已修改" in client.get("/m/login/").content.decode()
    assert can_log_in("13900001111", NEW) and not can_log_in("13900001111", OLD)
    # The code is spent: using it again changes nothing.
    again = reset(client, "13900001111", code_in(sms_outbox[0]), password="another-secret-9")
    assert again.status_code == 400 and "验证码错误或已过期" in again.content.decode()
    assert can_log_in("13900001111", NEW)


def test_a_number_without_an_account_looks_the_same_and_gets_no_message(client, agent, sms_outbox):
    known, unknown = ask(client, "13900001111"), ask(Client(), "13900002222")
    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == "/m/password/reset/?phone=13900002222"
    assert [m.phone for m in sms_outbox] == ["13900001111"]
    refused = reset(client, "13900002222", "123456")
    assert refused.status_code == 400 and "验证码错误或已过期" in refused.content.decode()


def test_a_bad_number_is_shown_next_to_the_field_in_the_pages_language(client, db, sms_outbox):
    response = ask(client, "12345")
    assert response.status_code == 400 and "11 位" in response.content.decode()
    client.cookies["django_language"] = "en"
    english = ask(client, "12345")
    assert english.status_code == 400 and "11-digit mainland mobile number" in english.content.decode()
    assert sms_outbox == []


def test_five_wrong_codes_spend_the_code(client, agent, sms_outbox):
    ask(client, "13900001111")
    right = code_in(sms_outbox[0])
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(5):
        assert reset(client, "13900001111", wrong).status_code == 400
    assert PhoneCode.objects.get().attempts == 5
    assert reset(client, "13900001111", right).status_code == 400
    assert can_log_in("13900001111", OLD)


def test_an_expired_code_is_refused(client, agent, sms_outbox):
    ask(client, "13900001111")
    PhoneCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert reset(client, "13900001111", code_in(sms_outbox[0])).status_code == 400
    assert can_log_in("13900001111", OLD)


def test_requests_are_limited_and_a_new_code_replaces_the_old(client, agent, sms_outbox):
    ask(client, "13900001111")
    ask(client, "13900001111")  # within a minute: nothing more is sent
    assert len(sms_outbox) == 1
    PhoneCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    ask(client, "13900001111")
    assert len(sms_outbox) == 2
    first, second = code_in(sms_outbox[0]), code_in(sms_outbox[1])
    if first != second:
        assert reset(client, "13900001111", first).status_code == 400
    assert reset(client, "13900001111", second).status_code == 302
    # At most five codes an hour, however long apart they are asked for.
    for _ in range(5):
        PhoneCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
        ask(client, "13900001111")
    assert PhoneCode.objects.filter(created_at__gte=timezone.now() - timedelta(hours=1)).count() <= 5
    assert len(sms_outbox) == PhoneCode.objects.count()


def test_new_password_errors_stay_next_to_their_fields_and_keep_the_code(client, agent, sms_outbox):
    ask(client, "13900001111")
    code = code_in(sms_outbox[0])
    different = reset(client, "13900001111", code, password=NEW, again=NEW + "x")
    assert different.status_code == 400 and "两次输入的密码不一致" in different.content.decode()
    weak = reset(client, "13900001111", code, password="12345678")
    assert weak.status_code == 400 and "密码" in weak.content.decode()
    assert can_log_in("13900001111", OLD)
    assert reset(client, "13900001111", code).status_code == 302
    assert can_log_in("13900001111", NEW)
