"""Fixtures for the ledger tests: agents, the brand's and agents' accounts, staff in the finance
role, and short-hands to give an agent rewards (all through the services)."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from ledger_helpers import D  # tests/ledger/ledger_helpers.py

from weishang.core.roles import role_group_name, roles_sync
from weishang.ledger import services
from weishang.ledger.models import Purpose

P = Purpose
_seq = itertools.count(1)


@pytest.fixture
def agent(make_agent):
    return make_agent("city")


@pytest.fixture
def make_staff(db):
    """make_staff("finance") -> a staff user in that role (the permissions come from core.roles)."""

    def make(role: str | None = "finance", *, is_staff: bool = True):
        user = get_user_model().objects.create_user(
            username=f"staff{next(_seq)}", password="pass-word-1", is_staff=is_staff
        )
        if role:
            roles_sync()
            from django.contrib.auth.models import Group

            user.groups.add(Group.objects.get(name=role_group_name(role)))
        return get_user_model().objects.get(pk=user.pk)  # no stale permission cache

    return make


@pytest.fixture
def finance(make_staff):
    return make_staff("finance")


@pytest.fixture
def acct():
    """acct(agent_or_None, purpose) -> the account (opened on first use)."""
    return lambda owner, purpose: services.account_for(owner=owner, purpose=purpose)


@pytest.fixture
def reward(acct):
    """reward(agent, "100.00") credits available rewards, paid for by the brand's reward expense."""

    def give(agent, amount, purpose=P.AGENT_REWARDS_AVAILABLE):
        return services.journal_post(
            lines=[
                services.debit(acct(None, P.BRAND_REWARD_EXPENSE), D(amount)),
                services.credit(acct(agent, purpose), D(amount)),
            ],
            memo="reward",
            reference=f"reward:{next(_seq)}",
            kind="reward.accrue",
        )

    return give


@pytest.fixture
def withdraw(agent):
    """withdraw("60.00") -> the agent's request, with the usual fee (0.6 %) and minimum (¥10)."""

    def request(amount, *, who=None, **kw):
        who = who or agent
        args = dict(
            agent=who,
            amount=amount,
            method="alipay",
            account_name="王静",
            account_no="13800138000",
            by=who.user,
            fee_rate=D("0.006"),
            minimum=D("10.00"),
        )
        args.update(kw)
        return services.withdrawal_request(**args)

    return request
