"""Upgrade orders (升级单): priced at the target level, at least the top-up, filled by an upline of a
higher level than the target, and the level changes when the order completes (and back on refund)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from weishang.channel.models import Agent, AgentTrail, TrailKind
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.models import OutboxEvent
from weishang.trade import services
from weishang.trade.models import Order, OrderKind, OrderStatus


def upgrade(t, buyer, level, lines, **kw):
    return t.place(buyer, lines, kind=OrderKind.UPGRADE, target_level=level, **kw)


def test_top_up_is_the_difference_between_entry_amounts(buyer, levels):
    assert services.upgrade_top_up(agent=buyer, level=levels["city"]) == Decimal("1702")  # 2000 − 298
    assert services.upgrade_top_up(agent=buyer, level=levels["general"]) == Decimal("19702")


def test_upgrade_order_is_priced_at_the_target_level_and_raises_the_level_when_filled(t, skus, supplier, buyer, levels):
    t.receive(supplier, skus.a, 100)
    order = upgrade(t, buyer, levels["city"], [("A", 29)])  # 29 × 60.00 (100 × 0.60) = 1740 ≥ 1702
    assert order.seller_id == supplier.pk and order.target_level_id == levels["city"].pk
    line = order.lines.get()
    assert line.unit_price == Decimal("60.00") and order.total == Decimal("1740.00")
    t.approve(order)
    t.pay(order)
    t.fill(order)
    order.refresh_from_db()
    buyer.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert buyer.level.code == "city"
    assert t.on_hand(buyer, skus.a) == 29
    assert (
        OutboxEvent.objects.filter(topic="agent.level_changed", payload__agent=buyer.pk, payload__to="city").count()
        == 1
    )
    trail = AgentTrail.objects.get(agent=buyer, kind=TrailKind.LEVEL)
    assert trail.old_ref == levels["vip"].pk and order.number in trail.reason


def test_level_stays_until_the_order_completes(t, skus, supplier, buyer, levels):
    order = upgrade(t, buyer, levels["city"], [("A", 29)])
    t.approve(order)
    t.pay(order)
    buyer.refresh_from_db()
    assert buyer.level.code == "vip"  # paid but not filled: not yet


def test_below_the_top_up_is_refused_and_nothing_is_created(t, skus, buyer, levels):
    with pytest.raises(BusinessError) as exc:
        upgrade(t, buyer, levels["city"], [("A", 28)])  # 1680 < 1702
    assert exc.value.field == "lines" and "1702" in str(exc.value.message)
    assert not Order.objects.exists()


def test_target_must_be_above_the_buyers_level(t, skus, supplier, levels):
    with pytest.raises(BusinessError) as exc:
        upgrade(t, supplier, levels["city"], [("A", 100)])
    assert exc.value.field == "target_level"
    with pytest.raises(BusinessError) as exc:
        t.place(supplier, [("A", 100)], kind=OrderKind.UPGRADE)
    assert exc.value.field == "target_level"
    assert not Order.objects.exists()


def test_one_upgrade_order_at_a_time(t, skus, buyer, levels):
    upgrade(t, buyer, levels["city"], [("A", 29)])
    with pytest.raises(Conflict):
        upgrade(t, buyer, levels["province"], [("A", 200)])
    assert Order.objects.count() == 1


def test_an_applicant_cannot_upgrade(t, skus, make_agent, supplier, levels):
    applicant = make_agent("vip", referrer=supplier, entry_paid=False)
    with pytest.raises(Forbidden):
        upgrade(t, applicant, levels["city"], [("A", 29)])


def test_upgrade_is_filled_by_an_upline_above_the_target(t, skus, make_agent, levels):
    partner = make_agent("partner")
    general = make_agent("general", referrer=partner)
    vip = make_agent("vip", referrer=general)
    order = upgrade(t, vip, levels["general"], [("A", 500)])  # general price 40 × 500 = 20000 ≥ 19702
    assert order.seller_id == partner.pk  # the 总代 supplier cannot fill a 总代 order
    t.receive(partner, skus.a, 500)
    t.approve(order)
    t.pay(order)
    t.fill(order)
    vip = Agent.objects.get(pk=vip.pk)
    assert vip.level.code == "general" and vip.supplier_id == partner.pk


def test_a_refunded_upgrade_order_takes_the_level_back(t, skus, supplier, buyer, levels):
    t.receive(supplier, skus.a, 100)
    order = upgrade(t, buyer, levels["city"], [("A", 29)])
    t.approve(order)
    t.pay(order)
    t.fill(order)
    services.refund_request(order=order, by=buyer.user, note="不想升级了")
    services.refund_approve(order=order, by=supplier.user)
    buyer.refresh_from_db()
    assert buyer.level.code == "vip"
    assert t.on_hand(buyer, skus.a) == 0 and t.on_hand(supplier, skus.a) == 100
    assert t.balance(buyer) == Decimal("1740.00")
    assert list(
        OutboxEvent.objects.filter(topic="agent.level_changed", payload__agent=buyer.pk)
        .order_by("pk")
        .values_list("payload__to", flat=True)
    ) == ["city", "vip"]
