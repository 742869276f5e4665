"""The rewards tests' brand (UK rules, cloud stock) with glow-tiered in force, and a campaign
written as a brand writes one: its YAML, saved and scheduled through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.leads.helpers import brand_staff
from tests.rewards import conftest as rewards_fixtures
from weishang.campaigns import services
from weishang.core import clock

# The rewards tests' fixtures, used here as they are.
catalog, mid_month, r, tiered = (
    rewards_fixtures.catalog,
    rewards_fixtures.mid_month,
    rewards_fixtures.r,
    rewards_fixtures.tiered,
)
stock_warehouse = rewards_fixtures.stock_warehouse

GIFT = "  gift: {sku: GLOW-MASK5, qty: 1, min_amount: 500, kinds: [entry, restock], cost: 30, quantity: 10}\n"


def campaign_yaml(*, code="kaiye", seats=3, days=30, offers=None, extra="") -> str:
    today = clock.today()
    offers = offers if offers is not None else "  entry: {city: 1000}\n  min_restock_qty: {city: 2}\n" + GIFT
    seats_line = f"seats: {seats}\n" if seats is not None else ""
    return (
        f"id: {code}\nname: 开业季\nstarts: {today - timedelta(days=1)}\nends: {today + timedelta(days=days)}\n"
        f"{seats_line}per_agent_limit: 1\nbudget: 10000\n{extra}offers:\n{offers}"
    )


@pytest.fixture
def boss(db):
    return brand_staff()


@pytest.fixture
def running(mid_month, tiered, catalog, boss, r):
    """开业季: 3 seats; 市代 enter from ¥1,000 and restock from 2 units; a mask with orders of ¥500+."""

    def make(**kw):
        campaign = services.campaign_save(overlay=campaign_yaml(**kw), by=boss)
        return services.campaign_schedule(campaign=campaign, by=boss)

    r.stock_warehouse(catalog.skus["GLOW-30ML"], 500)
    r.stock_warehouse(catalog.skus["GLOW-MASK5"], 50)
    return make
