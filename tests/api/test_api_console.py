"""The console pages for API credentials, as the brand owner uses them: make a key with its
scopes (shown once, stored hashed, working at once), revoke it; see and revoke agents' device
tokens. And the housekeeping command for Idempotency-Key records."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from weishang.api.models import ApiKey, ApiToken, IdempotencyRecord
from weishang.api.services import token_create

from .conftest import error_of


@pytest.fixture
def owner(db):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from weishang.core.roles import role_group_name, roles_sync

    roles_sync()
    user = get_user_model().objects.create_user(username="owner", password="staff-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name=role_group_name("owner")))
    return user


@pytest.fixture
def console(client, owner):
    client.force_login(owner)
    return client


def test_the_owner_makes_a_key_sees_it_once_and_it_works_at_once(console, owner, api, brand_row):
    page = console.get(reverse("admin:api_apikey_add"))
    assert page.status_code == 200
    assert 'value="orders:read"' in page.content.decode() and 'type="checkbox"' in page.content.decode()

    response = console.post(reverse("admin:api_apikey_add"), {"name": "ERP 金蝶", "scopes": ["orders:read"]})
    assert response.status_code == 200
    key = ApiKey.objects.get()
    assert (key.name, key.scopes, key.created_by) == ("ERP 金蝶", ["orders:read"], owner)
    html = response.content.decode()
    secret = html.split('data-testid="secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith("wsk_") and secret.startswith(key.prefix)
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    # Never shown again.
    assert secret not in console.get(reverse("admin:api_apikey_change", args=[key.pk])).content.decode()
    assert secret not in console.get(reverse("admin:api_apikey_changelist")).content.decode()

    assert api(key=secret).get("/brand/orders").status_code == 200
    refused = api(key=secret).get("/brand/agents")
    assert refused.status_code == 403 and error_of(refused)["code"] == "missing_scope"

    # Revoked from its page: refused at once.
    assert console.get(reverse("admin:api_apikey_revoke_one", args=[key.pk])).status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is None  # a GET only asks
    console.post(reverse("admin:api_apikey_revoke_one", args=[key.pk]))
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api(key=secret).get("/brand/orders").status_code == 401


def test_a_key_needs_a_name_and_a_scope(console):
    response = console.post(reverse("admin:api_apikey_add"), {"name": "", "scopes": []})
    assert response.status_code == 200 and not ApiKey.objects.exists()
    bad = console.post(reverse("admin:api_apikey_add"), {"name": "ERP", "scopes": ["orders:write-everything"]})
    assert bad.status_code == 200 and not ApiKey.objects.exists()


def test_keys_are_revoked_from_the_list(console, brand_key):
    brand_key("orders:read", name="ERP")
    brand_key("agents:read", name="物流")
    rows = ApiKey.objects.order_by("pk")
    console.post(reverse("admin:api_apikey_changelist"), {"action": "revoke", "_selected_action": [rows[0].pk]})
    assert [k.revoked_at is not None for k in ApiKey.objects.order_by("pk")] == [True, False]


def test_the_owner_logs_an_agents_device_out(console, agent_token, api):
    agent, token = agent_token
    other_token = token_create(user=agent.user, device="平板")[1]
    page = console.get(reverse("admin:api_apitoken_changelist"))
    assert page.status_code == 200 and "测试手机" in page.content.decode()
    assert token not in page.content.decode()
    row = ApiToken.objects.get(device="测试手机")
    console.post(reverse("admin:api_apitoken_changelist"), {"action": "revoke", "_selected_action": [row.pk]})
    assert api(token=token).get("/me").status_code == 401
    assert api(token=other_token).get("/me").status_code == 200
    assert console.get(reverse("admin:api_apitoken_add")).status_code == 403  # tokens come from logging in


def test_staff_without_the_role_cannot_see_credentials(client, db):
    from django.contrib.auth import get_user_model

    clerk = get_user_model().objects.create_user(username="clerk", password="staff-pass-123", is_staff=True)
    client.force_login(clerk)
    assert client.get(reverse("admin:api_apikey_changelist")).status_code == 403
    assert client.get(reverse("admin:api_apitoken_changelist")).status_code == 403


def test_old_idempotency_records_are_pruned(db):
    old = IdempotencyRecord.objects.create(
        principal="ip:x", key="old", method="POST", path="/api/v1/x", request_hash="0" * 64, status_code=201
    )
    IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    IdempotencyRecord.objects.create(
        principal="ip:x", key="new", method="POST", path="/api/v1/x", request_hash="0" * 64, status_code=201
    )
    out = io.StringIO()
    call_command("api", "prune", stdout=out)
    assert "1 idempotency record(s) deleted" in out.getvalue()
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
