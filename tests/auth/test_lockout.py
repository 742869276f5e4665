"""Brute force (M7 item 4): wrong passwords lock the account, and the address, for a cool-off, on
the phone login, the console login and the API login alike; a rotated X-Forwarded-For is no way
around it; a successful login and a password reset clear the failures as a user expects."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

PASSWORD = "pass-word-1"
PHONE = "13900007777"
OTHER_PHONE = "13900008888"


@pytest.fixture
def agent(make_agent):
    return make_agent("vip", phone=PHONE, password=PASSWORD)


@pytest.fixture
def other(make_agent):
    return make_agent("vip", phone=OTHER_PHONE, password=PASSWORD)


def phone_login(client: Client, login: str, password: str, **headers):
    return client.post("/m/login/", {"username": login, "password": password}, headers=headers)


def api_login(client: Client, login: str, password: str, **headers):
    return client.post(
        "/api/v1/auth/login",
        json.dumps({"phone": login, "password": password}),
        content_type="application/json",
        headers=headers,
    )


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/m/"


def fail(client: Client, times: int, login: str = PHONE, **headers) -> list[int]:
    return [phone_login(client, login, "wrong-password", **headers).status_code for _ in range(times)]


def test_five_wrong_passwords_refuse_even_the_right_one_until_the_cool_off_passes(agent, time_passes):
    client = Client(REMOTE_ADDR="203.0.113.5")
    assert fail(client, 4) == [200] * 4  # wrong password, the form again
    fifth = phone_login(client, PHONE, "wrong-password")
    assert fifth.status_code == 429 and "锁定" in fifth.content.decode()
    right = phone_login(client, PHONE, PASSWORD)
    page = right.content.decode()
    assert right.status_code == 429 and not logged_in(right)
    assert "锁定 15 分钟" in page
    assert 0 < int(right["Retry-After"]) <= 15 * 60
    assert "密码不匹配" not in page  # says "locked", not "wrong password"

    time_passes(minutes=14)
    assert not logged_in(phone_login(client, PHONE, PASSWORD))
    time_passes(minutes=2)
    assert logged_in(phone_login(client, PHONE, PASSWORD))


def test_the_account_is_locked_from_every_address(agent):
    fail(Client(REMOTE_ADDR="203.0.113.5"), 5)
    elsewhere = phone_login(Client(REMOTE_ADDR="198.51.100.9"), PHONE, PASSWORD)
    assert elsewhere.status_code == 429 and not logged_in(elsewhere)


def test_rotating_x_forwarded_for_does_not_help_without_trusted_proxies(agent, settings):
    settings.WEISHANG_TRUSTED_PROXIES = 0
    client = Client(REMOTE_ADDR="203.0.113.5")
    for n in range(5):
        phone_login(client, OTHER_PHONE if n % 2 else "13900000000", "x", **{"X-Forwarded-For": f"10.9.9.{n}"})
    for n in range(15):
        phone_login(client, f"1390000{n:04d}", "x", **{"X-Forwarded-For": f"10.8.8.{n}"})
    # 20 failures from one connection address: the address is locked, whatever the header says
    blocked = phone_login(client, PHONE, "anything", **{"X-Forwarded-For": "10.7.7.7"})
    assert blocked.status_code == 429


def test_one_trusted_proxy_takes_the_address_it_saw(agent, settings):
    settings.WEISHANG_TRUSTED_PROXIES = 1
    proxy = Client(REMOTE_ADDR="10.0.0.2")  # every request arrives from the proxy
    for n in range(20):
        phone_login(proxy, f"1390000{n:04d}", "x", **{"X-Forwarded-For": f"6.6.6.{n}, 203.0.113.5"})
    # the attacker (203.0.113.5 as the proxy saw it) is locked, whatever it puts in front...
    assert phone_login(proxy, PHONE, PASSWORD, **{"X-Forwarded-For": "1.2.3.4, 203.0.113.5"}).status_code == 429
    # ...and another client behind the same proxy is not
    assert logged_in(phone_login(proxy, PHONE, PASSWORD, **{"X-Forwarded-For": "198.51.100.9"}))


def test_one_locked_account_does_not_lock_another_account_from_another_address(agent, other):
    fail(Client(REMOTE_ADDR="203.0.113.5"), 5)
    assert logged_in(phone_login(Client(REMOTE_ADDR="198.51.100.9"), OTHER_PHONE, PASSWORD))


def test_phone_and_username_of_one_account_count_together(agent):
    client = Client(REMOTE_ADDR="203.0.113.5")
    fail(client, 3, login=PHONE)
    fail(client, 2, login=agent.user.username)
    assert phone_login(client, PHONE, PASSWORD).status_code == 429


def test_a_successful_login_clears_my_mistakes(agent):
    client = Client(REMOTE_ADDR="203.0.113.5")
    fail(client, 4)
    assert logged_in(phone_login(client, PHONE, PASSWORD))
    client.post("/m/logout/")
    fail(client, 4)  # four more mistakes: not five in a row, no lockout
    assert logged_in(phone_login(client, PHONE, PASSWORD))


def test_my_own_login_does_not_clear_my_failures_against_someone_else(agent, other):
    attacker = Client(REMOTE_ADDR="203.0.113.5")
    fail(attacker, 4, login=PHONE)
    assert logged_in(phone_login(attacker, OTHER_PHONE, PASSWORD))
    attacker.post("/m/logout/")
    fail(attacker, 1, login=PHONE)
    assert phone_login(Client(REMOTE_ADDR="198.51.100.9"), PHONE, PASSWORD).status_code == 429


def test_a_password_reset_by_text_message_ends_the_lockout(agent, sms_outbox):
    client = Client(REMOTE_ADDR="203.0.113.5")
    fail(client, 5)
    client.post("/m/password/forgot/", {"phone": PHONE})
    code = re.search(r"\b(\d{6})\b", sms_outbox[-1].text).group(1)
    done = client.post(
        "/m/password/reset/",
        {"phone": PHONE, "code": code, "new_password1": "brand-new-secret-7", "new_password2": "brand-new-secret-7"},
    )
    assert done.status_code == 302
    assert logged_in(phone_login(client, PHONE, "brand-new-secret-7"))


def test_the_console_login_locks_out_with_a_clear_message(db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(username="boss", password="staff-pass-123", is_staff=True, is_superuser=True)
    client = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(5):
        client.post("/console/login/", {"username": "boss", "password": "wrong"})
    right = client.post("/console/login/", {"username": "boss", "password": "staff-pass-123"})
    assert right.status_code == 429 and "锁定" in right.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_api_login_locks_out_in_the_envelope(agent, time_passes):
    client = Client(REMOTE_ADDR="203.0.113.5")
    codes = [api_login(client, PHONE, "wrong").json()["error"]["code"] for _ in range(5)]
    assert codes == ["login_failed"] * 4 + ["login_locked"]
    right = api_login(client, PHONE, PASSWORD)
    assert right.status_code == 429
    error = right.json()["error"]
    assert error["code"] == "login_locked" and "锁定" in error["message"] and "15" in error["message"]
    assert 0 < int(right["Retry-After"]) <= 15 * 60
    english = api_login(client, PHONE, PASSWORD, **{"Accept-Language": "en"})
    assert "locked" in english.json()["error"]["message"]
    time_passes(minutes=16)
    assert api_login(client, PHONE, PASSWORD).status_code == 201


def test_the_api_login_ignores_a_rotated_forwarded_header(agent, settings):
    settings.WEISHANG_TRUSTED_PROXIES = 0
    client = Client(REMOTE_ADDR="203.0.113.5")
    for n in range(5):
        api_login(client, PHONE, "wrong", **{"X-Forwarded-For": f"10.1.1.{n}"})
    assert api_login(client, PHONE, PASSWORD, **{"X-Forwarded-For": "10.2.2.2"}).status_code == 429


def test_the_test_clients_login_and_force_login_are_not_counted(agent, client):
    """The suite's many logins: force_login and the test client's login() (no request) pass."""
    for _ in range(10):
        assert not Client().login(username=PHONE, password="wrong")
    assert Client().login(username=PHONE, password=PASSWORD)
    client.force_login(agent.user)
    assert client.get("/m/").status_code == 200
