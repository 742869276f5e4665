"""The console's front page: the figures a brand owner reads every morning, each right for data
made through the services, each linking to the list of the rows behind it, for the roles that
may see them, at a fixed number of queries whatever the size of the brand."""

from __future__ import annotations

import json
from datetime import timedelta

from console_helpers import D, company_transfer, give_rewards, page, topup, withdraw
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.stock_helpers import receive
from weishang.console import dashboard
from weishang.ledger import services as ledger
from weishang.ledger.models import Purpose
from weishang.trade import services as trade
from weishang.trade import stock
from weishang.trade.models import LocationKind, OrderStatus

INDEX = reverse("admin:index")


def listed(client, url: str) -> int:
    """How many rows the console list at ``url`` shows (its filters applied)."""
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["cl"].result_count


def chart(card) -> dict:
    return json.loads(card.find("canvas").attrs["data-value"])


# --- 回款 -----------------------------------------------------------------------------------


def test_two_payments_this_week_show_as_cash_collected_this_week(client, owner, finance, make_agent):
    agent = make_agent("vip")
    topup(agent, "100.00", by=finance)
    topup(agent, "250.00", by=finance)
    client.force_login(owner)
    response = client.get(INDEX)
    assert response.status_code == 200
    html = page(response)
    card = html.find(id="dashboard").find(data_metric="cash_collected")
    assert card.find("a", data_value="this_week").text == "¥350.00"
    assert card.find("a", data_value="this_month").text == "¥350.00"
    assert card.find("a", data_value="last_week").text == "¥0.00"
    weekly = chart(html.find(data_metric="cash_by_week"))
    assert weekly["datasets"][0]["data"][-1] == "350.00" and len(weekly["labels"]) == 12
    monthly = chart(html.find(data_metric="cash_by_month"))
    assert monthly["datasets"][0]["data"][-1] == "350.00" and len(monthly["labels"]) == 12


def test_this_weeks_figure_links_to_the_entries_behind_it(client, owner, finance, make_agent):
    agent = make_agent("vip")
    topup(agent, "100.00", by=finance)
    topup(agent, "250.00", by=finance)
    give_rewards(agent, "40.00")  # not cash: a reward posting
    client.force_login(owner)
    card = page(client.get(INDEX)).find(data_metric="cash_collected")
    link = card.find("a", data_value="this_week").attrs["href"]
    response = client.get(link)
    assert response.status_code == 200
    entries = list(response.context["cl"].queryset)
    assert sorted(e.kind for e in entries) == ["wallet_topup", "wallet_topup"]


def test_a_week_later_the_payments_are_last_weeks(owner, finance, make_agent):
    agent = make_agent("vip")
    topup(agent, "100.00", by=finance)
    topup(agent, "250.00", by=finance)
    cash = dashboard.cash_collected(timezone.localdate() + timedelta(days=7))
    assert cash.this_week.raw == D("0.00")
    assert cash.last_week.raw == D("350.00")
    assert [p.figure.raw for p in cash.weeks].count(D("350.00")) == 1


def test_paying_from_the_wallet_is_not_collected_twice(owner, finance, make_agent, sku):
    """The money reached the brand when the wallet was topped up; spending it on an order is not
    new cash. A transfer for a company order is."""
    receive(sku, 50)
    buyer = make_agent("vip")
    topup(buyer, "500.00", by=finance)
    order = trade.order_submit(buyer=buyer, lines=[(sku, 2)], by=buyer.user)
    trade.order_approve(order=order, by=owner)
    trade.order_pay_from_wallet(order=order, by=buyer.user)
    assert dashboard.cash_collected().this_week.raw == D("500.00")
    other = make_agent("vip")
    paid = company_transfer(other, sku, 3, by=owner)
    assert paid.total == D("240.00")  # 3 × ¥100 × 0.8
    assert dashboard.cash_collected().this_week.raw == D("740.00")


def test_a_withdrawal_paid_out_is_not_negative_cash_collected(owner, finance, make_agent):
    agent = make_agent("vip")
    topup(agent, "100.00", by=finance)
    give_rewards(agent, "80.00")
    withdrawal = withdraw(agent, "80.00")
    ledger.withdrawal_approve(withdrawal=withdrawal, by=finance)
    ledger.withdrawal_mark_paid(withdrawal=withdrawal, by=finance, reference="BANK-1")
    assert dashboard.cash_collected().this_week.raw == D("100.00")


# --- agents, applications and orders ------------------------------------------------------


def test_new_agents_by_level_this_month_with_links(client, owner, make_agent, levels):
    make_agent("vip")
    make_agent("vip")
    make_agent("city")
    client.force_login(owner)
    html = page(client.get(INDEX))
    series = {d["label"]: d["data"] for d in chart(html.find(data_metric="new_agents"))["datasets"]}
    assert series["特约"][-1] == 2 and series["市代"][-1] == 1 and series["联创"][-1] == 0
    agents = dashboard.new_agents(list(levels.values()))
    this_month = agents.latest_first[0]
    assert this_month[0].value == 3
    assert listed(client, this_month[0].url) == 3
    vip = next(cell for cell in this_month[1] if cell.label == "特约")
    assert vip.value == 2 and listed(client, vip.url) == 2


def test_the_launch_phase_under_way_against_its_plan_to_date(client, owner, make_agent, levels):
    from weishang.core import clock
    from weishang.growth.models import PhaseKind, TargetMetric
    from weishang.growth.services import phase_save

    today = clock.today()
    phase_save(
        name="公开招商（广告 · 论坛）",
        kind=PhaseKind.PUBLIC,
        starts_on=today - timedelta(days=9),  # day 10 of 30: a third of the time gone
        ends_on=today + timedelta(days=20),
        targets=[(TargetMetric.AGENTS, None, 30), (TargetMetric.AGENTS_AT_LEVEL, levels["vip"], 3)],
        by=owner,
    )
    for _ in range(4):
        make_agent("vip")
    client.force_login(owner)
    html = page(client.get(INDEX))
    panel = html.find(data_metric="launch_phase")
    assert "公开招商（广告 · 论坛）" in panel.text and "第 10 / 30 天" in panel.text
    rows = [[" ".join(cell.text.split()) for cell in tr.find_all("td")] for tr in panel.find_all("tr")[1:]]
    assert rows == [["新增代理", "4 / 30", "10"], ["某等级新增代理：特约", "4 / 3", "1"]]
    reached = {d["label"]: d["data"] for d in chart(panel)["datasets"]}
    assert reached["达成（%）"] == [13, 133] and reached["时间进度（%）"] == [33, 33]


def test_orders_waiting_by_what_they_wait_for(client, owner, make_agent, sku):
    buyer = make_agent("vip")
    order = trade.order_submit(buyer=buyer, lines=[(sku, 1)], by=buyer.user)
    client.force_login(owner)
    brand, queues = dashboard.orders_waiting()
    waiting = {f.url.split("waiting=")[-1]: f for f in queues}
    assert waiting["approval"].value == 1 and waiting["to_fill"].value == 0 and brand.value == 1
    assert listed(client, waiting["approval"].url) == 1 and listed(client, brand.url) == 1
    trade.order_approve(order=order, by=owner)
    brand, queues = dashboard.orders_waiting()
    waiting = {f.url.split("waiting=")[-1]: f for f in queues}
    assert waiting["approval"].value == 0 and waiting["unpaid"].value == 1 and brand.value == 0
    card = page(client.get(INDEX)).find(data_metric="orders_waiting")
    assert ("1", waiting["unpaid"].url) in card.links()


def test_applications_waiting_for_the_brand(client, owner, levels):
    from weishang.channel.services import application_submit

    application_submit(
        invite_code=None, phone="13600000001", real_name="王静", level_code="general", password="pass-word-1"
    )
    client.force_login(owner)
    card = page(client.get(INDEX)).find(data_metric="applications_waiting")
    links = card.links()
    assert links[0][0] == "1" and listed(client, links[0][1]) == 1


# --- stock, teams, rewards ----------------------------------------------------------------


def test_channel_stock_by_the_holders_level(client, owner, make_agent, sku):
    vip, city = make_agent("vip"), make_agent("city")
    receive(sku, 10, into=stock.location_for_agent(vip, LocationKind.CLOUD))
    receive(sku, 7, into=stock.location_for_agent(make_agent("vip"), LocationKind.CLOUD))
    receive(sku, 30, into=stock.location_for_agent(city, LocationKind.CLOUD))
    receive(sku, 500)  # the company warehouse is not channel stock
    client.force_login(owner)
    card = page(client.get(INDEX)).find(data_metric="channel_stock")
    rows = {tr.find("td").text: [td.text for td in tr.find_all("td")[1:]] for tr in card.find_all("tr")[1:]}
    assert rows["特约"] == ["17", "17"] and rows["市代"] == ["30", "30"] and rows["联创"] == ["0", "0"]
    vip_cell = next(href for text, href in card.links() if text == "17")
    assert listed(client, vip_cell) == 2


def test_top_teams_by_purchases_completed_this_month(client, owner, finance, make_agent, sku, levels):
    receive(sku, 1000)
    big, small = make_agent("partner"), make_agent("partner")
    member = make_agent("vip", referrer=big, supplier=None)
    deep = make_agent("vip", referrer=member, supplier=None)
    for buyer, units in ((member, 10), (deep, 5), (small, 100)):
        order = company_transfer(buyer, sku, units, by=owner)
        trade.order_fill(order=order, by=owner)
        order.refresh_from_db()
        if order.status == OrderStatus.FULFILLED:
            trade.order_confirm_receipt(order=order, by=buyer.user)
    level_name, teams = dashboard.top_teams(list(levels.values()))
    assert level_name == "联创"
    # 100 × ¥30 (联创 price) for the small team; (10 + 5) × ¥80 (特约) for the big one's two members.
    assert [(t.leader_id, t.volume.raw) for t in teams] == [(small.pk, D("3000.00")), (big.pk, D("1200.00"))]
    client.force_login(owner)
    card = page(client.get(INDEX)).find(data_metric="top_teams")
    assert ("¥1,200.00", teams[1].volume.url) in card.links()
    assert listed(client, teams[1].volume.url) == 2


def test_rewards_payable(client, owner, finance, make_agent):
    one, two = make_agent("vip"), make_agent("vip")
    give_rewards(one, "300.00")
    give_rewards(two, "50.00", Purpose.AGENT_REWARDS_FROZEN)
    first = withdraw(one, "120.00")
    withdraw(one, "30.00")
    ledger.withdrawal_approve(withdrawal=first, by=finance)
    client.force_login(owner)
    card = page(client.get(INDEX)).find(data_metric="rewards_payable")
    values = [text for text, _href in card.links()]
    assert values == ["¥50.00", "¥150.00", "¥30.00", "¥120.00"]
    to_approve = card.links()[2][1]
    assert listed(client, to_approve) == 1


# --- who sees what, in which language -------------------------------------------------------


def test_a_brand_with_nothing_yet_gets_zeros_not_an_error(client, owner):
    client.force_login(owner)
    response = client.get(INDEX)
    assert response.status_code == 200
    card = page(response).find(data_metric="cash_collected")
    assert card.find("a", data_value="this_week").text == "¥0.00"


def test_each_role_sees_the_figures_of_the_lists_it_may_open(client, staff, finance):
    client.force_login(staff("lecturer"))
    response = client.get(INDEX)
    assert response.status_code == 200 and not page(response).find_all(data_metric="cash_collected")
    client.force_login(staff("warehouse"))
    html = page(client.get(INDEX))
    assert html.find_all(data_metric="channel_stock") and not html.find_all(data_metric="cash_collected")
    client.force_login(finance)
    html = page(client.get(INDEX))
    assert html.find_all(data_metric="cash_collected") and html.find_all(data_metric="rewards_payable")
    assert not html.find_all(data_metric="channel_stock")


def test_the_dashboard_is_chinese_first_and_english_on_request(client, owner):
    client.force_login(owner)
    response = client.get(INDEX)
    assert page(response).find("html").attrs["lang"] == "zh-hans"
    client.cookies["django_language"] = "en"
    html = page(client.get(INDEX))
    assert html.find("html").attrs["lang"] == "en"
    assert "This week" in html.find(data_metric="cash_collected").text


# --- cost -----------------------------------------------------------------------------------


def count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(INDEX).status_code == 200
    return len(queries.captured_queries)


def test_the_dashboard_costs_the_same_queries_for_a_demo_sized_brand(client, staff, finance, make_agent, sku):
    from weishang.core import clock
    from weishang.demo.services import demo_load
    from weishang.growth.models import PhaseKind, TargetMetric
    from weishang.growth.services import phase_save

    boss = staff("owner", "boss")
    topup(make_agent("vip"), "10.00", by=finance)
    # a launch phase under way with a target of every kind: the demo keeps it as its own
    today = clock.today()
    phase_save(
        name="公开招商",
        kind=PhaseKind.PUBLIC,
        starts_on=today - timedelta(days=10),
        ends_on=today + timedelta(days=20),
        targets=[
            (TargetMetric.AGENTS, None, 100),
            (TargetMetric.AGENTS_AT_LEVEL, make_agent("city").level, 10),
            (TargetMetric.CASH, None, "500000"),
            (TargetMetric.MEETINGS, None, 3),
            (TargetMetric.LEADS, None, 200),
        ],
        by=boss,
    )
    client.force_login(boss)
    client.get(INDEX)
    small = count_queries(client)
    demo_load(agents=400)
    big = count_queries(client)
    assert big == small
    # M7: the stuck queue reads the brand's stuck_after_hours; M10: channel health's saved month and
    # breaches, and the launch phase under way (the phase, its targets, four figures)
    assert big <= 29
