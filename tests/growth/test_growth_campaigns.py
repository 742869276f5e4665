"""The growth report's campaigns (M10): the shop's coupon offers and flash sales, each with what it
brought and what it cost (the agents' live campaigns: tests/campaigns)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.promotions.test_promotions import NOW, PHONE, flash, offer, pay, place, world  # noqa: F401 - fixture
from weishang.growth.selectors import growth_report
from weishang.promotions import services as promos

pytestmark = pytest.mark.django_db


def test_the_months_campaigns_with_orders_revenue_and_cost(world):  # noqa: F811
    coupon_offer = offer(world, name="满100减20")
    flash(world, name="双11秒杀", starts_at=NOW + timedelta(days=40), ends_at=NOW + timedelta(days=41))  # 30 December
    coupon = promos.coupon_claim(offer=coupon_offer, phone=PHONE)
    paid = pay(place(world, code=coupon.code, lines=[(world.sku, 2)]))
    assert paid.total == Decimal("180.00")
    november = growth_report("2026-11")["campaigns"]
    assert [(c["campaign"], c["kind"]) for c in november] == [("满100减20", "coupon")]
    row = november[0]
    assert (row["orders"], row["units"], row["revenue"], row["cost"], row["budget"]) == (
        1,
        2,
        "180.00",
        "20.00",
        "1000.00",
    )
    assert [c["campaign"] for c in growth_report("2026-12")["campaigns"]] == ["双11秒杀"]
    assert growth_report("2026-10")["campaigns"] == []
