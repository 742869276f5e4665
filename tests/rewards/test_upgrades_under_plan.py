"""Upgrades follow the plan in force: a tiered plan's top-up upgrades go through an upgrade order
the agent may place only once they qualify (推三升一, cumulative purchase …); a social-mall plan's
upgrades without top-up happen by themselves when the qualifying order completes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from weishang.channel import services as channel
from weishang.channel.models import Agent, Level
from weishang.core.errors import BusinessError
from weishang.trade import selectors
from weishang.trade import services as trade
from weishang.trade.models import OrderKind


def test_without_qualifying_an_upgrade_order_is_refused(tiered, make_agent, catalog, r):
    city = make_agent("city")
    vip = make_agent("vip", referrer=city)
    assert selectors.upgrade_levels(agent=vip) == []
    with pytest.raises(BusinessError) as exc:
        trade.order_submit(
            buyer=vip,
            lines=[("GLOW-30ML", 11)],
            kind=OrderKind.UPGRADE,
            target_level=Level.objects.get(code="city"),
            by=vip.user,
        )
    assert exc.value.field == "target_level"


def test_three_same_level_referrals_open_the_upgrade_to_the_next_level(tiered, make_agent, catalog, r):
    province = make_agent("province")
    vip = make_agent("vip", referrer=province, real_name="特约王芳")
    for _ in range(3):
        make_agent("vip", referrer=vip)
    assert [level.code for level in selectors.upgrade_levels(agent=vip)] == ["city"]  # one level only
    r.receive(province, catalog.skus["GLOW-30ML"], 50)
    order = r.complete(
        vip,
        [("GLOW-30ML", 11)],
        kind=OrderKind.UPGRADE,  # 11 × ¥170 = ¥1,870 ≥ ¥1,702
        target_level=Level.objects.get(code="city"),
    )
    assert order.total == Decimal("1870.00")
    assert Agent.objects.get(pk=vip.pk).level.code == "city"
    r.process()
    assert r.verify() == []


def test_social_mall_upgrades_by_cumulative_spend_without_top_up(catalog, r, django_user_model):
    r.activate("glow-social-mall.yaml")
    member = Level.objects.get(code="member")
    assert member.entry_amount == Decimal("338.30")  # the gift pack at the member's price (398 × 0.85)
    buyer = channel.agent_create(
        phone="13500000001", real_name="会员李娜", level=member, password="pass-word-1", entry_paid=True
    )
    boss = django_user_model.objects.create_superuser("boss", password="pass-word-1")
    from weishang.trade.stock import Move, location_singleton, stock_move

    stock_move(
        moves=[Move(location_singleton("supplier"), location_singleton("warehouse"), catalog.skus["GLOW-30ML"], 20)],
        reason="receipt",
    )
    r.complete(buyer, [("GLOW-30ML", 12)], staff=boss)  # 12 × ¥253.30 (298 × 0.85) = ¥3,039.60 ≥ ¥3,000
    r.process()
    assert Agent.objects.get(pk=buyer.pk).level.code == "shopkeeper"
    assert r.verify() == []
