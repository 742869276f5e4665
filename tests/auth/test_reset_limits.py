"""Password reset codes by text message: besides the per-account limits, one client address may
ask for only so many codes an hour, whatever numbers it types and whatever X-Forwarded-For it sends."""

from __future__ import annotations

from django.test import Client

from weishang.core import phone_codes


def test_one_address_asks_for_a_limited_number_of_codes(make_agent, sms_outbox, monkeypatch, settings):
    settings.WEISHANG_TRUSTED_PROXIES = 0
    monkeypatch.setattr(phone_codes, "MAX_PER_ADDRESS_PER_HOUR", 3)
    phones = [make_agent("vip").phone for _ in range(5)]
    attacker = Client(REMOTE_ADDR="203.0.113.5")
    for n, phone in enumerate(phones[:4]):
        response = attacker.post("/m/password/forgot/", {"phone": phone}, headers={"X-Forwarded-For": f"10.0.0.{n}"})
        assert response.status_code == 302  # the same answer: the page tells nothing
    assert [m.phone for m in sms_outbox] == phones[:3]
    Client(REMOTE_ADDR="198.51.100.9").post("/m/password/forgot/", {"phone": phones[4]})
    assert sms_outbox[-1].phone == phones[4]  # another address is not affected
