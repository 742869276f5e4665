"""My customers and my shop link (/m/customers/): the agent's shop link with a copy button and a
QR code, and the consumers who ordered from their shop — masked phone, order count, what they
paid, last order — searchable and paginated; never another agent's customers; as many queries
for 3 customers as for 30."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from weishang.channel import services as channel
from weishang.trade import services as trade
from weishang.web.growth_views import CUSTOMERS_PAGE_SIZE

_spec = importlib.util.spec_from_file_location(
    "rewards_conftest", Path(__file__).resolve().parents[1] / "rewards" / "conftest.py"
)
_rewards = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rewards)
catalog = _rewards.catalog
receive, pay_online = _rewards.receive, _rewards.pay

PASSWORD = "pass-word-1"


def login(agent, *, language: str | None = "en") -> Client:
    client = Client()
    assert client.login(username=agent.phone, password=PASSWORD)
    if language:
        client.cookies["django_language"] = language
    return client


def html(response) -> str:
    return response.content.decode()


def customers(text: str) -> list[str]:
    return re.findall(r'<li data-testid="customer">\s*<p><strong>([^<]+)</strong>', text)


def row(text: str, name: str) -> str:
    return next(
        li for li in re.findall(r'<li data-testid="customer">.*?</li>', text, re.S) if f"<strong>{name}</strong>" in li
    )


def buy(seller, name: str, phone: str, units: int = 1, *, pay: bool = True):
    """A consumer orders GLOW-50G (¥198 each) from ``seller``'s shop, and pays online."""
    order = trade.retail_order_submit(
        seller=seller, name=name, phone=phone, address="上海市静安区 1 号", lines=[("GLOW-50G", units)]
    )
    if pay:
        pay_online(order)
    return order


@pytest.fixture
def shops(catalog, make_agent):
    """特约李娜's shop and 特约张伟's shop, both with stock."""
    lina = make_agent("vip", real_name="特约李娜")
    zhang = make_agent("vip", real_name="特约张伟")
    for agent in (lina, zhang):
        receive(agent, catalog.skus["GLOW-50G"], 200)
    return lina, zhang


def test_my_customers_with_masked_phone_order_count_paid_total_and_last_order(shops):
    lina, zhang = shops
    buy(lina, "王静", "13900001111")
    last = buy(lina, "王静", "13900001111", units=2)
    buy(lina, "刘洋", "13900002222", pay=False)  # placed, not paid yet
    cancelled = buy(lina, "周敏", "13900003333", pay=False)
    trade.order_cancel(order=cancelled, by=lina.user)
    buy(zhang, "孙丽", "13900004444")  # 张伟's customer
    buy(zhang, "王静", "13900001111", units=5)  # 王静 at another shop: not counted here

    text = html(login(lina).get(reverse("web:customers")))
    assert customers(text) == ["刘洋", "王静"]  # last order first; the cancelled order made no customer
    wang = row(text, "王静")
    assert 'data-testid="phone">139****1111<' in wang and "13900001111" not in text
    assert "2 orders" in wang and 'data-testid="spent">¥594.00<' in wang  # 198 + 396
    assert f"Last order {timezone.localtime(last.created_at):%Y-%m-%d}" in wang
    assert "Bound to me" in wang  # the first shop 王静 bought from
    liu = row(text, "刘洋")
    assert "1 order" in liu and 'data-testid="spent">¥0.00<' in liu
    assert "孙丽" not in text and "周敏" not in text
    assert 'data-testid="customer-count">2 customers<' in text

    zhang_text = html(login(zhang).get(reverse("web:customers")))
    assert customers(zhang_text) == ["王静", "孙丽"]
    assert 'data-testid="spent">¥990.00<' in row(zhang_text, "王静") and "Bound to me" not in row(zhang_text, "王静")


def test_the_shop_link_with_copy_button_and_qr_code(shops):
    lina, _zhang = shops
    client = login(lina)
    text = html(client.get(reverse("web:customers")))
    shop_url = f"http://testserver/s/{lina.invite_code}/"
    assert f'<input id="shop-link" type="url" readonly value="{shop_url}"' in text
    assert '<label for="shop-link">' in text
    assert re.search(r'<button type="button" data-copy="#shop-link" data-copied="Copied\." hidden>Copy</button>', text)
    assert "/static/web/copy.js" in text
    assert f'<img class="qr" src="{reverse("web:shop_qr")}" alt="QR code of my shop link"' in text
    qr = client.get(reverse("web:shop_qr"))
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    assert client.get(shop_url).status_code == 200  # the link opens the shop


def test_search_by_name_or_phone_digits_plain_and_with_htmx(shops):
    lina, _zhang = shops
    buy(lina, "王静", "13900001111")
    buy(lina, "刘洋", "13800002222")
    client = login(lina)
    assert customers(html(client.get("/m/customers/?q=王静"))) == ["王静"]
    assert customers(html(client.get("/m/customers/?q=2222"))) == ["刘洋"]
    assert customers(html(client.get("/m/customers/?q=139"))) == ["王静"]
    text = html(client.get("/m/customers/?q=nobody"))
    assert customers(text) == [] and "No customer matches." in text
    form = re.search(
        r'<form method="get" class="search" role="search".*?</form>', html(client.get("/m/customers/")), re.S
    ).group(0)
    assert '<label for="customer-q">' in form and 'hx-target="#customer-results"' in form
    fragment = client.get("/m/customers/?q=刘", headers={"HX-Request": "true"})
    assert "<html" not in html(fragment) and customers(html(fragment)) == ["刘洋"]
    assert "HX-Request" in fragment["Vary"]


def test_pages_of_customers(shops):
    lina, _zhang = shops
    for i in range(CUSTOMERS_PAGE_SIZE + 2):
        buy(lina, f"顾客{i:02d}", f"1390000{i:04d}", pay=False)
    client = login(lina)
    first = html(client.get("/m/customers/"))
    assert len(customers(first)) == CUSTOMERS_PAGE_SIZE and customers(first)[0] == f"顾客{CUSTOMERS_PAGE_SIZE + 1}"
    assert f"{CUSTOMERS_PAGE_SIZE + 2} customers" in first and 'href="?page=2"' in first
    second = html(client.get("/m/customers/?page=2"))
    assert customers(second) == ["顾客01", "顾客00"] and 'href="?page=1"' in second
    assert customers(html(client.get("/m/customers/?q=顾客0&page=1"))) == [f"顾客0{i}" for i in range(9, -1, -1)]
    for query in ("?page=abc", "?page=0", "?page=99999", "?q=" + "9" * 300, "?q=%00", "?q=%E9%A1%BE%00"):
        assert client.get("/m/customers/" + query).status_code == 200, query


def test_3_customers_cost_as_many_queries_as_30(catalog, make_agent):
    counts = []
    for n in (3, 30):
        seller = make_agent("vip")
        receive(seller, catalog.skus["GLOW-50G"], 100)
        for i in range(n):
            buy(seller, f"顾客{i}", f"137{n:02d}00{i:04d}", pay=i % 2 == 0)
        client = login(seller)
        with CaptureQueriesContext(connection) as queries:
            text = html(client.get("/m/customers/"))
        assert len(customers(text)) == n
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_an_agent_who_is_not_active_has_no_shop_link(shops):
    lina, _zhang = shops
    buy(lina, "王静", "13900001111")
    channel.agent_change_status(agent=lina, action="suspend", reason="test")
    client = login(lina)
    text = html(client.get(reverse("web:customers")))
    assert 'id="shop-link"' not in text and "Your shop link works once you are an active agent." in text
    assert customers(text) == ["王静"]  # past customers stay listed
    assert client.get(reverse("web:shop_qr")).status_code == 404


def test_chinese_by_default_and_english_on_the_switch(shops):
    lina, _zhang = shops
    buy(lina, "王静", "13900001111")
    text = html(login(lina, language=None).get(reverse("web:customers")))
    assert 'lang="zh-hans"' in text and "王静" in text and "139****1111" in text and "已付款" in text
    text = html(login(lina, language="en").get(reverse("web:customers")))
    assert 'lang="en"' in text
    for words in ("My customers", "My shop link", "Search by name or phone digits", "Last order", "1 order"):
        assert words in text, words
