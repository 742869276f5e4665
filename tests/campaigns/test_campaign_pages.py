"""The phone's order pages with a campaign running: the offer in words and the seats left, the
choice to take part, an order through it, and a refusal shown on the form with nothing ordered."""

from __future__ import annotations

import re

from weishang.campaigns.models import Campaign
from weishang.catalog.models import SKU
from weishang.trade.models import Order

UPGRADE_GIFT = (
    "  gift: {sku: GLOW-MASK5, qty: 1, min_amount: 0, kinds: [upgrade], cost: 30}\n  min_restock_qty: {city: 2}\n"
)


def token_of(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def test_the_restock_form_offers_the_campaign_and_refuses_when_it_is_full(running, make_agent, client):
    running(seats=1)
    agent = make_agent("city")
    client.force_login(agent.user)
    page = client.get("/m/order/").content.decode()
    assert "开业季" in page and "剩余 1 个名额" in page and "进货 2 件起" in page
    assert "订单满 ¥500 送 焕颜补水面膜 5片装 × 1" in page
    serum = SKU.objects.get(code="GLOW-30ML")
    answer = client.post("/m/order/", {"token": token_of(page), f"q{serum.pk}": "3", "campaign": "kaiye"})
    assert answer.status_code == 302
    order = Order.objects.get(buyer=agent)
    assert order.lines.filter(gift=True).count() == 1
    other = make_agent("city")
    client.force_login(other.user)
    form = {"token": token_of(client.get("/m/order/").content.decode()), f"q{serum.pk}": "3", "campaign": "kaiye"}
    refused = client.post("/m/order/", form)
    assert refused.status_code == 409 and "开业季名额已满" in refused.content.decode()
    assert not Order.objects.filter(buyer=other).exists() and Campaign.objects.get().seats_taken == 1
    bogus = client.post("/m/order/", {**form, "campaign": "<script>"})
    assert bogus.status_code == 400 and not Order.objects.filter(buyer=other).exists()


def test_the_upgrade_form_offers_a_campaign_for_upgrade_orders(running, make_agent, client, r, boss):
    running(offers=UPGRADE_GIFT)
    agent = make_agent("vip")
    r.complete(agent, [("GLOW-30ML", 9)], staff=boss)  # ¥2,070: 市代 is within reach, with a top-up
    r.process()
    client.force_login(agent.user)
    page = client.get("/m/upgrade/?to=city").content.decode()
    assert "开业季" in page and 'data-testid="campaign-choice"' in page
