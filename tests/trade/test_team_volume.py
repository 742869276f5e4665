"""The monthly team-volume rollup (``trade.volume``): after real orders, returns and referrer moves
it holds what the direct query over the orders and the closure table answers, for every agent and
month; the follower reads each event once; ``weishang volume verify`` finds and fixes a difference.
Runs on SQLite and, with ``DATABASE_URL``, on PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from weishang.channel import services as channel_services
from weishang.channel.selectors import team_sum
from weishang.channel.tree import Relation
from weishang.core import clock
from weishang.rewards.hierarchy import DatabaseHierarchy
from weishang.trade import services, volume
from weishang.trade.models import VOLUME_KINDS, Order, TeamVolume
from weishang.trade.models import OrderStatus as S
from weishang.trade.selectors import team_purchase_volume
from weishang.trade.workflow import COUNTED_STATUSES


def this_month() -> tuple[str, object, object]:
    month = volume.month_of(clock.now())
    start = volume.month_start(month)
    return month, start, (start + timedelta(days=32)).replace(day=1)


def direct(agent, start, end) -> Decimal:
    """The figure from the orders: counted volume orders completed in [start, end), over the closure table."""
    counted = Order.objects.filter(
        status__in=COUNTED_STATUSES, kind__in=VOLUME_KINDS, completed_at__gte=start, completed_at__lt=end
    )
    return team_sum(agent=agent, queryset=counted, agent_field="buyer_id", amount_field="total")


@pytest.fixture
def tree(make_agent, supplier):
    """supplier (总代) ← mid (市代) ← buyer (特约); supplier ← other (省代) ← other_buyer (特约)."""
    mid = make_agent("city", referrer=supplier)
    other = make_agent("province", referrer=supplier)
    return {
        "top": supplier,
        "mid": mid,
        "buyer": make_agent("vip", referrer=mid),
        "other": other,
        "other_buyer": make_agent("vip", referrer=other),
    }


def restock(t, skus, agent, qty: int) -> Order:
    """A cloud restock paid from the wallet and filled by the agent's supplier: completed."""
    t.topup(agent, "5000")
    t.receive(agent.supplier, skus.a, qty)
    order = t.place(agent, [(skus.a, qty)])
    t.approve(order)
    services.order_pay_from_wallet(order=order, by=agent.user)
    t.fill(order)
    order.refresh_from_db()
    assert order.status == S.COMPLETED
    volume.volume_process()  # as the outbox does after the commit (tests run inside one transaction)
    return order


def assert_rollup_is_the_direct_query(agents) -> None:
    month, start, end = this_month()
    for agent in agents:
        assert team_purchase_volume(agent=agent, start=start, end=end) == direct(agent, start, end), agent
    assert volume.volume_differences() == []


def test_the_rollup_follows_orders_returns_and_moves(t, skus, tree):
    month, start, end = this_month()
    everyone = list(tree.values())
    first = restock(t, skus, tree["buyer"], 3)
    second = restock(t, skus, tree["mid"], 5)
    third = restock(t, skus, tree["other_buyer"], 2)
    rows = {r.agent_id: r for r in TeamVolume.objects.filter(month=month)}
    # The buyer's own order is their own figure and every ancestor's team figure.
    assert rows[tree["buyer"].pk].own == rows[tree["buyer"].pk].team == first.total
    assert rows[tree["mid"].pk].own == second.total
    assert rows[tree["mid"].pk].team == first.total + second.total
    assert rows[tree["top"].pk].team == first.total + second.total + third.total
    assert rows[tree["top"].pk].own == 0
    assert_rollup_is_the_direct_query(everyone)

    # A return asked for still counts (as for the reward engine); granted, it is taken back.
    services.refund_request(order=first, by=tree["buyer"].user, note="过敏")
    assert team_purchase_volume(agent=tree["top"], start=start, end=end) == first.total + second.total + third.total
    volume.volume_process()
    services.refund_approve(order=first, by=tree["mid"].user, note="同意")
    volume.volume_process()
    assert team_purchase_volume(agent=tree["mid"], start=start, end=end) == second.total
    assert_rollup_is_the_direct_query(everyone)

    # mid and their team move under other: other's team now holds them; top's total stays.
    restock(t, skus, tree["buyer"], 1)
    before_top = team_purchase_volume(agent=tree["top"], start=start, end=end)
    channel_services.agent_move(agent=tree["mid"], relation=Relation.REFERRER, new_parent=tree["other"])
    mid_team = team_purchase_volume(agent=tree["mid"], start=start, end=end)
    assert team_purchase_volume(agent=tree["other"], start=start, end=end) == third.total + mid_team
    assert team_purchase_volume(agent=tree["top"], start=start, end=end) == before_top
    assert_rollup_is_the_direct_query(everyone)
    # … and to the top of the tree (no referrer): top's team loses them.
    channel_services.agent_move(agent=tree["mid"], relation=Relation.REFERRER, new_parent=None)
    assert team_purchase_volume(agent=tree["top"], start=start, end=end) == before_top - mid_team
    assert_rollup_is_the_direct_query(everyone)


def test_the_engine_reads_the_same_figure_for_a_month_and_any_other_window(t, skus, tree):
    month, start, end = this_month()
    restock(t, skus, tree["buyer"], 2)
    restock(t, skus, tree["other_buyer"], 4)
    view = DatabaseHierarchy()
    first_day, last_day = start.date(), (end - timedelta(days=1)).date()
    for agent in tree.values():
        assert view.team_purchase(agent.pk, first_day, last_day) == direct(agent, start, end)
    # A window that is not whole months is summed from the orders, and agrees too.
    today = clock.localtime().date()
    assert view.team_purchase(tree["top"].pk, today, today) == direct(tree["top"], *_day(today))
    # The months before hold nothing.
    before = volume.month_start(f"{start.year - 1}-01")
    assert team_purchase_volume(agent=tree["top"], start=before, end=start) == Decimal("0.00")


def _day(day: date):
    from weishang.rewards.hierarchy import day_range

    return day_range(day, day)


def test_each_event_is_read_once_and_verify_finds_and_fixes_a_difference(t, skus, tree):
    month, start, end = this_month()
    t.topup(tree["buyer"], "5000")
    t.receive(tree["mid"], skus.a, 2)
    order = t.place(tree["buyer"], [(skus.a, 2)])
    t.approve(order)
    services.order_pay_from_wallet(order=order, by=tree["buyer"].user)
    t.fill(order)
    assert volume.volume_process() == 1  # the order's completion (its other events are not followed)
    figures = dict(TeamVolume.objects.values_list("agent_id", "team"))
    assert volume.volume_process() == 0 and dict(TeamVolume.objects.values_list("agent_id", "team")) == figures

    call_command("volume", "verify")  # no difference: exit 0
    TeamVolume.objects.filter(agent=tree["top"], month=month).update(team=Decimal("1.00"))
    assert len(volume.volume_differences()) == 1
    with pytest.raises(CommandError, match="1 team-volume differences"):
        call_command("volume", "verify")
    call_command("volume", "verify", "--fix")
    assert volume.volume_differences() == []
    assert team_purchase_volume(agent=tree["top"], start=start, end=end) == direct(tree["top"], start, end)
    # After a rebuild the follower does not count the orders again.
    assert volume.volume_process() == 0
    assert volume.volume_differences() == []


def test_whole_months_only(db):
    start = volume.month_start("2026-03")
    assert volume.whole_months(start, volume.month_start("2026-06")) == ["2026-03", "2026-04", "2026-05"]
    assert volume.whole_months(start, volume.month_start("2027-01")) == [f"2026-{m:02d}" for m in range(3, 13)]
    assert volume.whole_months(start, start + timedelta(days=30)) is None  # 30 days, not a month
    assert volume.whole_months(start + timedelta(hours=1), volume.month_start("2026-04")) is None
    assert volume.whole_months(start, start) is None
