"""The permission matrix's world: the demo brand, loaded once for the module (inside one
transaction that is rolled back at its end, so no other test sees it), and its subjects."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings

from security.world import World, world_build


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> World:
    settings = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        WEISHANG_API_RATES={"caller": "1000000/m", "login": "1000000/m", "public": "1000000/m"},
    )
    with settings, django_db_blocker.unblock(), transaction.atomic():
        yield world_build()
        transaction.set_rollback(True)
