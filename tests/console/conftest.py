"""Fixtures for the console tests: staff in each role, a product, and money and orders made
through the services (confirmed transfers, wallet top-ups, rewards, withdrawals)."""

from __future__ import annotations

import itertools

import pytest
from console_helpers import D  # tests/console/console_helpers.py
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from weishang.catalog.models import SKU, Product
from weishang.core.roles import role_group_name, roles_sync

_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def staff(db):
    """staff("finance") -> a staff user in that role (None: staff with no role at all)."""
    roles_sync()

    def make(role: str | None, username: str | None = None):
        user = get_user_model().objects.create_user(
            username=username or f"{role or 'norole'}-{next(_seq)}", password="staff-pass-123", is_staff=True
        )
        if role:
            user.groups.add(Group.objects.get(name=role_group_name(role)))
        return get_user_model().objects.get(pk=user.pk)  # a fresh permission cache

    return make


@pytest.fixture
def owner(staff):
    return staff("owner", "owner")


@pytest.fixture
def finance(staff):
    return staff("finance", "finance")


@pytest.fixture
def sku(db):
    product = Product.objects.create(name="焕颜修护系列")
    return SKU.objects.create(product=product, code="GLOW-30ML", name="焕颜修护精华 30ml", retail_price=D("100"))
