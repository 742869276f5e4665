"""No N+1 on the console's list pages: a list of 30 rows costs the same queries as a list of 3
(the rows' columns are joined or annotated in the list's one query)."""

from __future__ import annotations

import itertools

import pytest
from console_helpers import D, give_rewards, screenshot, withdraw
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.stock_helpers import receive
from weishang.catalog.models import SKU, LevelPrice
from weishang.channel.models import Level
from weishang.channel.services import application_submit
from weishang.rewards.models import PlanVersion, RewardKind, RewardLine, RewardStatus
from weishang.trade import services as trade
from weishang.trade import stock
from weishang.trade.models import LocationKind

_seq = itertools.count(1)


@pytest.fixture
def makers(make_agent, levels, sku, owner, finance):
    """name -> (list url, make(n): add n rows to that list)."""
    receive(sku, 10_000)

    def agents(n):
        referrer = make_agent("city")
        for _ in range(n - 1):
            make_agent("vip", referrer=referrer)

    def applications(n):
        for _ in range(n):
            application_submit(
                invite_code=None,
                phone=f"1360{next(_seq):07d}",
                real_name="王静",
                level_code="general",
                password="pass-word-1",
            )

    def orders(n):
        for _ in range(n):
            buyer = make_agent("vip")
            order = trade.order_submit(buyer=buyer, lines=[(sku, 1)], by=buyer.user)
            trade.order_approve(order=order, by=owner)
            trade.payment_submit_transfer(order=order, by=buyer.user, screenshot=screenshot())

    def payments(n):
        for _ in range(n):
            agent = make_agent("vip")
            trade.wallet_topup_submit(agent=agent, by=agent.user, amount=D("10"), screenshot=screenshot())

    def stock_levels(n):
        for _ in range(n):
            receive(sku, 5, into=stock.location_for_agent(make_agent("vip"), LocationKind.CLOUD))

    def reward_lines(n):
        plan = PlanVersion.objects.create(
            plan_id=f"p{next(_seq)}",
            version=1,
            name="方案",
            kind="retail",
            jurisdiction="cn",
            source="x",
            sha256="0" * 64,
        )
        for i in range(n):
            agent = make_agent("vip")
            order = trade.order_submit(buyer=agent, lines=[(sku, 1)], by=agent.user)
            RewardLine.objects.create(
                beneficiary=agent,
                amount=D("5.00"),
                kind=RewardKind.REWARD,
                rule_id="r",
                plan=plan,
                source_event=f"e{next(_seq)}",
                status=RewardStatus.FROZEN,
                order=order,
                payer=agent if i % 2 else None,
            )

    def withdrawals(n):
        for _ in range(n):
            agent = make_agent("vip")
            give_rewards(agent, "50.00")
            withdraw(agent, "20.00")

    def levels_(n):
        top = Level.objects.order_by("-rank").first().rank
        for i in range(n):
            Level.objects.create(code=f"lv{next(_seq)}", name=f"等级{i}", rank=top + 1 + i, discount=D("0.9"))

    def plans(n):
        for _ in range(n):
            PlanVersion.objects.create(
                plan_id=f"p{next(_seq)}",
                version=1,
                name="方案",
                kind="retail",
                jurisdiction="cn",
                source="x",
                sha256="0" * 64,
                uploaded_by=owner,
            )

    def prices(n):
        for i in range(n):
            other = SKU.objects.create(
                product=sku.product, code=f"S{next(_seq)}", name=f"规格{i}", retail_price=D("10")
            )
            LevelPrice.objects.create(sku=other, level=levels["vip"], price=D("8"))

    def level_history(n):
        level = levels["vip"]
        for i in range(n):
            level.min_restock_qty = i + 2
            level.save()

    return {
        "agents": (reverse("admin:channel_agent_changelist"), agents),
        "applications": (reverse("admin:channel_application_changelist"), applications),
        "orders": (reverse("admin:trade_order_changelist"), orders),
        "payments": (reverse("admin:trade_payment_changelist"), payments),
        "stock levels": (reverse("admin:trade_stocklevel_changelist") + "?location__kind__exact=cloud", stock_levels),
        "stock moves": (reverse("admin:trade_stockmove_changelist"), stock_levels),
        "reward lines": (reverse("admin:rewards_rewardline_changelist"), reward_lines),
        "withdrawals": (reverse("admin:ledger_withdrawal_changelist"), withdrawals),
        "levels": (reverse("admin:channel_level_changelist"), levels_),
        "plans": (reverse("admin:rewards_planversion_changelist"), plans),
        "level prices": (
            reverse("admin:catalog_levelprice_changelist") + f"?level__id__exact={levels['vip'].pk}",
            prices,
        ),
        "level history": (reverse("admin:channel_level_history", args=[levels["vip"].pk]), level_history),
    }


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "name",
    [
        "agents",
        "applications",
        "orders",
        "payments",
        "stock levels",
        "stock moves",
        "reward lines",
        "withdrawals",
        "levels",
        "plans",
        "level prices",
        "level history",
    ],
)
def test_a_list_of_30_costs_the_same_queries_as_a_list_of_3(client, owner, makers, name):
    url, make = makers[name]
    make(3)
    client.force_login(owner)
    client.get(url)
    few = queries(client, url)
    make(27)
    many = queries(client, url)
    assert many == few, f"{name}: {few} queries for 3 rows, {many} for 30"
