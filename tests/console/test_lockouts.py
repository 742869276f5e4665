"""Login lockouts in the console (django-axes, M7 item 4): the owner sees the failed logins and
clears a lockout (deleting the account's access attempt), on pages in Chinese; no other role sees
them."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

ATTEMPTS = reverse("admin:axes_accessattempt_changelist")


@pytest.fixture
def locked(db):
    """A staff member who typed a wrong password five times: locked out."""
    get_user_model().objects.create_user(username="clerk", password="clerk-pass-123", is_staff=True)
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        client.post("/console/login/", {"username": "clerk", "password": "wrong"})
    assert client.post("/console/login/", {"username": "clerk", "password": "clerk-pass-123"}).status_code == 429
    return client


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style") and self.skip > 0

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def text(response) -> str:
    """What a reader sees on the page."""
    parser = _Text()
    parser.feed(response.content.decode())
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def test_the_owner_sees_the_lockout_in_chinese_and_clears_it(client, owner, locked):
    client.force_login(owner)
    page = client.get(ATTEMPTS)
    assert page.status_code == 200
    words = text(page)
    assert "clerk" in words and "登录尝试" in words and "已锁定" in words
    for english in ("Access attempts", "Locked Out", "Failed Logins", "Attempt Time", "IP Address", "Axes"):
        assert english not in words, english
    attempt = AccessAttempt.objects.get(username="clerk")
    detail = client.get(reverse("admin:axes_accessattempt_change", args=[attempt.pk]))
    assert detail.status_code == 200 and "失败次数" in text(detail)
    response = client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="clerk").exists()
    right = locked.post("/console/login/", {"username": "clerk", "password": "clerk-pass-123"})
    assert right.status_code == 302  # unlocked: the right password signs in again


@pytest.mark.parametrize("role", ["operations", "finance", "warehouse", "lecturer", None])
def test_no_other_role_sees_or_clears_a_lockout(client, staff, locked, role):
    client.force_login(staff(role))
    attempt = AccessAttempt.objects.get(username="clerk")
    assert client.get(ATTEMPTS).status_code == 403
    assert (
        client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}).status_code == 403
    )
    assert AccessAttempt.objects.filter(username="clerk").exists()
