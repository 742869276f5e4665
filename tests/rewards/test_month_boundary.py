"""The domain's clock reaches the services: an order completed in the last second of a month belongs
to that month, one completed a second later to the next — in the order's dates, in the reward
lines, and in each month's settlement (weishang.core.clock, set by the ``clock`` fixture)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from weishang.core import clock as domain_clock
from weishang.core.errors import BusinessError
from weishang.rewards.models import RewardLine, SettlementReport
from weishang.rewards.selectors import lines_in_period
from weishang.rewards.services import settle_period

LAST_SECOND_OF_MAY = datetime(2026, 5, 31, 23, 59, 59)  # China time


@pytest.fixture
def last_second_of_may(clock):
    """The clock stopped at 23:59:59 on 31 May before the plan is activated and the agents join."""
    clock.freeze(LAST_SECOND_OF_MAY)
    return clock


def test_orders_a_second_apart_across_midnight_fall_in_two_months(
    last_second_of_may, tiered, catalog, make_agent, warehouse_staff, r
):
    clock = last_second_of_may
    sku = catalog.skus["GLOW-30ML"]
    r.stock_warehouse(sku, 1000)
    partner = make_agent("partner", real_name="联创周")
    referrer = make_agent("general", referrer=partner, real_name="总代王")
    general = make_agent("general", referrer=referrer, real_name="总代李")  # a peer referral: lines per order
    r.receive(partner, sku, 500)

    in_may = r.complete(general, [("GLOW-30ML", 200)])  # bought from the partner's cloud stock
    r.process()  # the reward worker, in the same second (its lines are dated when it runs)
    clock.advance(timedelta(seconds=1))
    in_june = r.complete(general, [("GLOW-30ML", 300)])
    r.process()

    assert timezone.localtime(in_may.completed_at).date() == date(2026, 5, 31)
    assert timezone.localtime(in_june.completed_at).date() == date(2026, 6, 1)
    may_lines = lines_in_period(RewardLine.objects.filter(period=""), "2026-05")
    june_lines = lines_in_period(RewardLine.objects.filter(period=""), "2026-06")
    assert set(may_lines.values_list("order", flat=True)) == {in_may.pk}
    assert set(june_lines.values_list("order", flat=True)) == {in_june.pk}

    # It is now 00:00:00 on 1 June: May is over and may be settled, June is not.
    assert domain_clock.today() == date(2026, 6, 1)
    with pytest.raises(BusinessError):
        settle_period(period="2026-06")
    may = settle_period(period="2026-05")
    june = settle_period(period="2026-06", today=date(2026, 7, 1))

    def personal(run) -> Decimal:
        return SettlementReport.objects.get(run=run, agent=general).personal_purchase

    assert (personal(may), personal(june)) == (in_may.total, in_june.total)
    assert in_may.total != in_june.total
