"""The team-volume rollup's follower racing referrer moves of the team whose orders it adds: the
rollup still equals the orders over the tree as it ends. Real threads, real transactions, on
SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.db import transaction
from threads import run_together  # tests/concurrency/threads.py

from weishang.channel import services
from weishang.channel.models import Agent
from weishang.channel.tree import Relation
from weishang.core import clock
from weishang.core.outbox import outbox_emit
from weishang.trade import volume
from weishang.trade.models import Order, OrderKind, OrderStatus, TeamVolume

pytestmark = pytest.mark.django_db(transaction=True)
_numbers = itertools.count(1)


def completed_orders(buyers, total: str) -> None:
    """Completed restocks with their events, left for the follower (not run inline here)."""
    with transaction.atomic():
        for buyer in buyers:
            order = Order.objects.create(
                number=f"V{next(_numbers):08d}",
                kind=OrderKind.RESTOCK,
                buyer=buyer,
                status=OrderStatus.COMPLETED,
                total=Decimal(total),
                completed_at=clock.now(),
            )
            outbox_emit(topic="order.completed", key=order.number, payload={"order": order.number})


def test_the_follower_and_moves_of_the_team_in_between(make_agent, settings):
    settings.WEISHANG_OUTBOX_INLINE = False
    roots = [make_agent("partner"), make_agent("partner")]
    leader = make_agent("city", referrer=roots[0])
    members = [make_agent("vip", referrer=leader) for _ in range(3)]
    for round_ in range(6):
        completed_orders([leader, *members], f"{round_ + 1}0.00")
        target = roots[(round_ + 1) % 2]
        results = run_together(
            lambda: volume.volume_process(),
            lambda target=target: services.agent_move(
                agent=Agent.objects.get(pk=leader.pk), relation=Relation.REFERRER, new_parent=target, reason="race"
            ),
        )
        assert not [r for r in results if isinstance(r, Exception)], results
    volume.volume_process()
    assert volume.volume_differences() == []
    month = volume.month_of(clock.now())
    team = TeamVolume.objects.get(agent=leader, month=month).team
    assert team == sum(Decimal(f"{r + 1}0.00") * 4 for r in range(6))
    # The team ended under roots[0] (six moves, alternating): its root holds it, the other nothing.
    assert TeamVolume.objects.get(agent=roots[0], month=month).team == team
    assert TeamVolume.objects.filter(agent=roots[1], month=month).values_list("team", flat=True).first() in (None, 0)
