"""No N+1 queries on the phone app's list pages: each page costs the same number of queries with
a few rows as with many (the rows are checked to be on the page, so the count is of a real list)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext

from weishang.channel import services as channel_services
from weishang.trade import services


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_pages = _load("test_trade_pages")
_rewards = _load("test_rewards_pages")
world, media, login, png, html = _pages.world, _pages.media, _pages.login, _pages.png, _pages.html
catalog, tiered, r, chain = _rewards.catalog, _rewards.tiered, _rewards.r, _rewards.chain


def queries(client, url: str) -> tuple[int, str]:
    client.get(url)  # warm: session, translations
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured), html(response)


def assert_flat(client, url: str, grow, expect_text) -> None:
    few, _ = queries(client, url)
    grow()
    many, text = queries(client, url)
    for expected in expect_text():
        assert expected in text, (url, expected)
    assert many == few, f"{url}: {few} queries with few rows, {many} with many"


def test_orders_fill_applications_stock_and_wallet_pages(world):
    sku, city, vip = world["sku"], world["city"], world["vip"]
    orders = []

    def more_orders():
        for _ in range(10):
            order = services.order_submit(buyer=vip, lines=[(sku.code, 1)], by=vip.user)
            services.order_approve(order=order, by=city.user)
            services.payment_submit_transfer(order=order, by=vip.user, screenshot=png())
            orders.append(order)

    services.order_submit(buyer=vip, lines=[(sku.code, 1)], by=vip.user)
    as_vip, as_city = login(vip), login(city)
    assert_flat(as_vip, "/m/orders/", more_orders, lambda: [o.number for o in orders])
    assert_flat(as_city, "/m/fill/?all=1", lambda: None, lambda: [o.number for o in orders])

    channel_services.application_submit(
        invite_code=city.invite_code, phone="13611110000", real_name="申请人0", level_code="vip", password="pass-word-1"
    )

    def more_applications():
        for n in range(1, 9):
            channel_services.application_submit(
                invite_code=city.invite_code,
                phone=f"1361111000{n}",
                real_name=f"申请人{n}",
                level_code="vip",
                password="pass-word-1",
            )

    assert_flat(as_city, "/m/applications/", more_applications, lambda: [f"申请人{n}" for n in range(9)])

    def more_pickups():
        for _ in range(6):
            services.pickup_request(
                agent=city, lines=[(sku, 1)], by=city.user, name="王芳", phone="13900001111", address="上海市徐汇区"
            )

    services.pickup_request(
        agent=city, lines=[(sku, 1)], by=city.user, name="王芳", phone="13900001111", address="上海市徐汇区"
    )
    assert_flat(
        as_city,
        "/m/stock/",
        more_pickups,
        lambda: list(city.orders.filter(kind="pickup").values_list("number", flat=True)),
    )

    def more_wallet():
        for _ in range(6):
            services.wallet_topup_submit(agent=vip, by=vip.user, amount="100", screenshot=png())

    services.wallet_topup_submit(agent=vip, by=vip.user, amount="100", screenshot=png())
    assert_flat(as_vip, "/m/wallet/", more_wallet, lambda: ["100.00"])


def test_rewards_page(chain, r):
    p0, c1, c2, c3 = chain
    r.complete(c3, [("GLOW-30ML", 20)])
    r.process()

    def more_lines():
        for _ in range(8):
            r.complete(c3, [("GLOW-30ML", 20)])
        r.process()

    client = login(c2)
    assert_flat(client, "/m/rewards/", more_lines, lambda: ["+¥170.00"])
    assert html(client.get("/m/rewards/")).count('data-testid="reward-line"') == 9
