"""A campaign's seats under concurrent orders: twenty agents submitting at the same moment for a
campaign of five seats make exactly five orders, and the fifteen others are told it is full.
Real threads, real transactions (SQLite serialises the writers; on PostgreSQL the guarded
UPDATE does)."""

from __future__ import annotations

import pytest
from threads import run_together  # tests/concurrency/threads.py

from tests.campaigns import conftest as campaign_fixtures
from tests.leads.helpers import brand_staff
from weishang.campaigns import services
from weishang.campaigns.models import Campaign, CampaignSeat
from weishang.core.errors import Conflict
from weishang.trade.models import Order, OrderLine

pytestmark = pytest.mark.django_db(transaction=True)
catalog, tiered = campaign_fixtures.catalog, campaign_fixtures.tiered  # the rewards tests' brand and plan
N = 20


def test_twenty_orders_for_five_seats_make_exactly_five(tiered, catalog, make_agent):
    boss = brand_staff()
    campaign_fixtures.stock_warehouse(catalog.skus["GLOW-30ML"], 500)
    campaign = services.campaign_schedule(
        campaign=services.campaign_save(overlay=campaign_fixtures.campaign_yaml(seats=5), by=boss), by=boss
    )
    agents = [make_agent("city") for _ in range(N)]
    results = run_together(
        *[
            (
                lambda a=agent: services.campaign_order_submit(
                    campaign=campaign.code, buyer=a, lines=[("GLOW-30ML", 3)], by=a.user
                )
            )
            for agent in agents
        ]
    )
    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(placed) == 5, results
    assert len(refused) == N - 5 and all(isinstance(r, Conflict) and r.code == "campaign_full" for r in refused)
    campaign.refresh_from_db()
    assert (campaign.seats_taken, campaign.gifts_given) == (5, 5)
    assert CampaignSeat.objects.count() == 5 == Order.objects.count()
    assert OrderLine.objects.filter(gift=True).count() == 5
    assert Campaign.objects.get().seats_left == 0
