"""Pages and endpoints only agents have: an account without an agent is told so in each face's own
way — the phone pages answer 404, the API 403 with a sentence — and an agent gets the page."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from weishang.api.services import token_create

PHONE_PAGES = [
    "/m/order/",
    "/m/upgrade/",
    "/m/orders/",
    "/m/orders/X-1/",
    "/m/fill/",
    "/m/stock/",
    "/m/wallet/",
    "/m/payment-methods/",
    "/m/rewards/",
    "/m/rewards/withdraw/",
    "/m/progress/",
    "/m/customers/",
    "/m/invite/",
]
API_ENDPOINTS = [
    "/api/v1/me",
    "/api/v1/team",
    "/api/v1/catalog",
    "/api/v1/orders",
    "/api/v1/fills",
    "/api/v1/stock",
    "/api/v1/pickups",
    "/api/v1/rewards",
    "/api/v1/withdrawals",
    "/api/v1/progress",
]


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(username="ops-1", password="staff-pass-123", is_staff=True)


def test_phone_pages_answer_404_to_an_account_without_an_agent(client, staff):
    client.force_login(staff)
    for url in PHONE_PAGES:
        assert client.get(url).status_code == 404, url
    assert client.post("/m/orders/X-1/pay-online/").status_code == 404


def test_phone_pages_open_for_an_agent(client, make_agent):
    client.force_login(make_agent("vip").user)
    for url in PHONE_PAGES:
        if "X-1" not in url:
            assert client.get(url).status_code == 200, url


def test_the_api_answers_403_to_an_account_without_an_agent(staff):
    api = Client(headers={"Authorization": f"Bearer {token_create(user=staff)[1]}", "Accept-Language": "en"})
    for url in API_ENDPOINTS:
        response = api.get(url)
        assert response.status_code == 403, url
        assert "Only agents have this page." in response.content.decode(), url


def test_the_api_answers_an_agent(make_agent):
    api = Client(headers={"Authorization": f"Bearer {token_create(user=make_agent('vip').user)[1]}"})
    for url in API_ENDPOINTS:
        assert api.get(url).status_code == 200, url
