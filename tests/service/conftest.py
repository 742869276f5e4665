"""Fixtures for customer service: a brand with the FAQ, a seller agent's shop, staff in each role."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from weishang.core.models import Brand
from weishang.core.roles import role_group_name, roles_sync
from weishang.faq import services as faq_services

FAQ = """# 百问百答

## 付款

### 怎么付款？
下单后页面会显示收款码，微信转账后上传截图。

### 钱包是什么？
钱包里是你的货款余额。
"""

_seq = itertools.count(1)


@pytest.fixture
def brand(db, levels):
    Brand.objects.create(name="焕颜 GLOW")
    faq_services.faq_import(faq_services.parse_markdown(FAQ))
    return levels


@pytest.fixture
def seller(brand, make_agent):
    return make_agent("city", real_name="卖家甲")


@pytest.fixture
def other_seller(brand, make_agent):
    return make_agent("city", real_name="卖家乙")


@pytest.fixture
def staff(db):
    roles_sync()

    def make(role: str):
        user = get_user_model().objects.create_user(
            username=f"{role}-{next(_seq)}", password="staff-pass-123", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role_group_name(role)))
        return get_user_model().objects.get(pk=user.pk)

    return make
