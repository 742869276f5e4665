"""The agent's home page, as an agent reads it each morning: what is waiting for me (as seller and
as buyer), this month's purchases and team volume, rewards, and cloud stock per product — right
after each step of a real order, in Chinese and English, with a fixed number of queries."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from weishang.catalog.models import SKU
from weishang.trade import services, volume

_spec = importlib.util.spec_from_file_location("trade_pages", Path(__file__).with_name("test_trade_pages.py"))
_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_pages)
login, png, seed_cloud, html = _pages.login, _pages.png, _pages.seed_cloud, _pages.html
world = _pages.world
media = _pages.media


def waiting(client) -> dict[str, int]:
    """The 'waiting for me' list as the page shows it: {text: count}."""
    section = re.search(r'data-testid="waiting">(.*?)</section>', html(client.get("/m/")), re.S).group(1)
    return {
        text.strip(): int(count)
        for text, count in re.findall(r"<span>([^<]+)</span> <strong class=\"count\">(\d+)</strong>", section)
    }


def figure(client, testid: str) -> str:
    return re.search(rf'data-testid="{testid}">([^<]*)<', html(client.get("/m/"))).group(1)


def test_each_step_of_an_order_shows_up_for_whoever_must_act(world):
    sku, city, vip = world["sku"], world["city"], world["vip"]
    as_vip, as_city = login(vip), login(city)
    assert waiting(as_city) == {} and "没有等你处理的事" in html(as_city.get("/m/"))

    order = services.order_submit(buyer=vip, lines=[(sku.code, 3)], by=vip.user)
    assert waiting(as_city) == {"待审核的订单": 1}
    assert waiting(as_vip) == {}

    services.order_approve(order=order, by=city.user)
    assert waiting(as_city) == {}
    assert waiting(as_vip) == {"我待付款的订单": 1}

    payment = services.payment_submit_transfer(order=order, by=vip.user, screenshot=png())
    assert waiting(as_vip) == {}
    assert waiting(as_city) == {"待确认的转账": 1}

    services.payment_confirm(payment=payment, by=city.user)
    assert waiting(as_city) == {"已付款待发货的订单": 1}

    services.order_fill(order=order, by=city.user)
    order.refresh_from_db()
    volume.volume_process()  # the team-volume rollup's follower, which the outbox runs after the commit
    assert waiting(as_city) == {}
    # Cloud stock: the units are the 特约's now; this month's purchases count the completed order.
    assert figure(as_vip, f"home-stock-{sku.code}") == "3"
    assert figure(as_city, f"home-stock-{sku.code}") == "47"
    if order.status == "completed":
        assert figure(as_vip, "personal-volume") == "¥240.00"
        assert figure(as_city, "team-volume") == "¥240.00"
        assert figure(as_city, "personal-volume") == "¥0.00"
    assert figure(as_vip, "rewards-frozen") == "¥0.00" and figure(as_vip, "rewards-available") == "¥0.00"


def test_the_page_speaks_english_on_request(world):
    as_city = login(world["city"], language="en")
    services.order_submit(buyer=world["vip"], lines=[(world["sku"].code, 1)], by=world["vip"].user)
    assert waiting(as_city) == {"Orders to approve": 1}
    page = html(as_city.get("/m/"))
    assert "My purchases this month" in page and "My cloud stock" in page and 'lang="en"' in page


def test_the_home_page_costs_the_same_queries_with_more_stock_and_more_orders(world):
    sku, city, vip = world["sku"], world["city"], world["vip"]
    as_city = login(city)
    as_city.get("/m/")
    with CaptureQueriesContext(connection) as few:
        as_city.get("/m/")
    for n in range(8):
        extra = SKU.objects.create(product=sku.product, code=f"X{n}", name=f"加量 {n}", retail_price=sku.retail_price)
        seed_cloud(city, extra, 5 + n)
        services.order_submit(buyer=vip, lines=[(sku.code, 1)], by=vip.user)
    with CaptureQueriesContext(connection) as many:
        page = as_city.get("/m/")
    assert 'data-testid="home-stock-X7">12<' in html(page)
    assert waiting(as_city) == {"待审核的订单": 8}
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


@pytest.mark.parametrize("path", ["/m/password/forgot/", "/m/password/reset/", "/m/login/"])
def test_pages_before_login_are_reachable_and_labelled(client, db, path):
    page = client.get(path)
    assert page.status_code == 200
    text = html(page)
    assert text.count("<label") >= 1 and 'class="skip"' in text
