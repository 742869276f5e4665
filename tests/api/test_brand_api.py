"""Brand integrations through the API, as an ERP or a logistics system uses them: agents, orders and
payments read with filters and cursors; the warehouse ships pick-ups and company-filled orders with a
tracking number and corrects it later, once however often it retries; settlement runs and their
per-agent reports. A key reaches only its scopes (403 ``missing_scope``), nothing without a key
(401), and ships only in the name of an issuer who may ship."""

from __future__ import annotations

import importlib.util
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.stock_helpers import receive
from weishang.api.services import api_key_create, api_key_revoke
from weishang.core.models import OutboxEvent, SupplyMode
from weishang.core.roles import roles_sync
from weishang.rewards.services import settle_period
from weishang.trade import services as trade
from weishang.trade import stock
from weishang.trade.models import LocationKind, Order, OrderStatus, OrderTransition, StockLevel

from .conftest import assert_matches_spec, error_of

_spec = importlib.util.spec_from_file_location(
    "rewards_conftest_brand_api", Path(__file__).resolve().parents[1] / "rewards" / "conftest.py"
)
_rewards = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rewards)
catalog, tiered, r = _rewards.catalog, _rewards.tiered, _rewards.r

ADDRESS = {"name": "王芳", "phone": "13800000000", "address": "杭州市西湖区文三路 1 号"}


@pytest.fixture
def staff(django_user_model):
    """staff("warehouse") -> a staff user in that role group."""
    groups = roles_sync()

    def make(role: str):
        user = django_user_model.objects.create_user(f"{role}-user", password="pass-word-1", is_staff=True)
        user.groups.add(groups[role])
        return django_user_model.objects.get(pk=user.pk)

    return make


@pytest.fixture
def warehouse(staff):
    return staff("warehouse")


@pytest.fixture
def key(warehouse):
    """key("orders:read", ...) -> a key issued by the warehouse."""

    def make(*scopes: str, by=warehouse) -> str:
        return api_key_create(name="ERP", scopes=scopes, by=by)[1]

    return make


def warehouse_units(sku) -> int:
    row = StockLevel.objects.filter(location=stock.location_singleton(LocationKind.WAREHOUSE), sku=sku).first()
    return row.quantity if row else 0


@pytest.fixture
def company_order(catalog, make_agent, warehouse, r):
    """The brand ships itself (总部发货): 联创陈总 restocks 100 serums, approved and paid by WeChat Pay."""
    catalog.brand.supply_mode = SupplyMode.COMPANY
    catalog.brand.save()
    receive(catalog.skus["GLOW-30ML"], 300)
    buyer = make_agent("partner", real_name="联创陈总")
    order = trade.order_submit(buyer=buyer, lines=[("GLOW-30ML", 100)], by=buyer.user)
    assert order.seller is None
    trade.order_approve(order=order, by=warehouse)
    r.pay(order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order


@pytest.fixture
def pickup(catalog, make_agent, r):
    """市代王芳 asks the warehouse to send 4 serums out of her cloud stock."""
    agent = make_agent("city", real_name="市代王芳")
    r.receive(agent, catalog.skus["GLOW-30ML"], 10)
    return trade.pickup_request(agent=agent, lines=[("GLOW-30ML", 4)], by=agent.user, **ADDRESS)


# --- who may call what --------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/brand/agents", "agents:read"),
    ("get", "/brand/agents/1", "agents:read"),
    ("get", "/brand/orders", "orders:read"),
    ("get", "/brand/orders/R1", "orders:read"),
    ("get", "/brand/payments", "payments:read"),
    ("post", "/brand/shipments", "shipments:write"),
    ("post", "/brand/shipments/R1/tracking", "shipments:write"),
    ("get", "/brand/settlements", "settlements:read"),
    ("get", "/brand/settlements/2026-11/reports", "settlements:read"),
]
BODY = {"order": "R1", "carrier": "顺丰", "tracking_number": "SF1"}


@pytest.mark.parametrize("method, path, scope", ENDPOINTS)
def test_a_key_reaches_only_its_scopes(api, key, agent_token, method, path, scope):
    others = [
        s for s in ("agents:read", "orders:read", "payments:read", "shipments:write", "settlements:read") if s != scope
    ]
    call = getattr(api(key=key(*others), language="en"), method)
    response = call(path, BODY) if method == "post" else call(path)
    assert response.status_code == 403
    assert_matches_spec(
        response,
        method,
        path.replace("/1", "/{agent_id}").replace("/R1", "/{number}").replace("/2026-11/", "/{period}/"),
    )
    error = error_of(response)
    assert error["code"] == "missing_scope" and scope in error["message"]
    # No key, or an agent's device token: 401.
    for client in (api(), api(token=agent_token[1])):
        call = getattr(client, method)
        response = call(path, BODY) if method == "post" else call(path)
        assert response.status_code == 401 and error_of(response)["code"] == "unauthenticated"


def test_a_revoked_key_is_refused(api, key, brand_row):
    from weishang.api.models import ApiKey

    secret = key("agents:read")
    assert api(key=secret).get("/brand/agents").status_code == 200
    api_key_revoke(key=ApiKey.objects.get())
    assert api(key=secret).get("/brand/agents").status_code == 401


# --- agents ---------------------------------------------------------------------------------------


def test_agents_with_their_level_uplines_and_filters(api, key, make_agent):
    boss = make_agent("province", real_name="省代周强", phone="13900000001")
    city = make_agent("city", referrer=boss, real_name="市代王芳")
    vip = make_agent("vip", referrer=city, real_name="特约李娜")
    client = api(key=key("agents:read"))
    listed, one = client.get("/brand/agents"), client.get(f"/brand/agents/{vip.pk}")
    assert_matches_spec(listed, "get", "/brand/agents")
    assert_matches_spec(one, "get", "/brand/agents/{agent_id}")
    body, row = listed.json(), one.json()
    assert [a["id"] for a in body["results"]] == [vip.pk, city.pk, boss.pk]
    assert row == body["results"][0]
    assert (row["real_name"], row["level"], row["level_name"], row["status"]) == ("特约李娜", "vip", "特约", "active")
    assert (row["referrer_id"], row["supplier_id"], row["entry_due"]) == (city.pk, city.pk, "0.00")
    assert client.get(f"/brand/agents/{boss.pk}").json()["phone"] == "13900000001"
    assert [a["id"] for a in client.get("/brand/agents", {"level": "city"}).json()["results"]] == [city.pk]
    assert client.get("/brand/agents", {"status": "suspended"}).json()["results"] == []
    today = timezone.localdate()
    assert len(client.get("/brand/agents", {"joined_after": today.isoformat()}).json()["results"]) == 3
    assert client.get("/brand/agents", {"joined_before": today.isoformat()}).json()["results"] == []
    assert client.get("/brand/agents/999999").status_code == 404
    bad = client.get("/brand/agents", {"status": "vip"})
    assert bad.status_code == 422 and list(error_of(bad)["fields"]) == ["status"]


def test_agents_walk_in_pages(api, key, make_agent):
    made = [make_agent("vip") for _ in range(45)]
    client = api(key=key("agents:read"))
    seen, sizes = [], []
    page = client.get("/brand/agents", {"page_size": 20}).json()
    while True:
        sizes.append(len(page["results"]))
        seen += [a["id"] for a in page["results"]]
        if not page["next"]:
            break
        page = client.get(page["next"].split("/api/v1", 1)[1]).json()
    assert sizes == [20, 20, 5] and seen == [a.pk for a in reversed(made)]


# --- orders and payments --------------------------------------------------------------------------


def test_orders_with_lines_and_filters(api, key, company_order, pickup):
    client = api(key=key("orders:read"))
    listed, one = client.get("/brand/orders"), client.get(f"/brand/orders/{company_order.number}")
    assert_matches_spec(listed, "get", "/brand/orders")
    assert_matches_spec(one, "get", "/brand/orders/{number}")
    body, row = listed.json(), one.json()
    assert [o["number"] for o in body["results"]] == [pickup.number, company_order.number]
    assert row == body["results"][1]
    assert (row["kind"], row["status"], row["seller_id"], row["buyer_id"], row["total"]) == (
        "restock",
        "paid",
        None,
        company_order.buyer_id,
        "8940.00",
    )  # 100 × ¥89.40 (298 × 0.30)
    assert row["lines"] == [
        {
            "sku": "GLOW-30ML",
            "name": "焕颜修护精华 30ml",
            "quantity": 100,
            "unit_price": "89.40",
            "line_total": "8940.00",
        }
    ]
    assert row["paid_at"] and row["shipped_at"] is None and row["customer_name"] is None
    assert [o["number"] for o in client.get("/brand/orders", {"kind": "pickup"}).json()["results"]] == [pickup.number]
    assert [o["number"] for o in client.get("/brand/orders", {"status": "paid"}).json()["results"]] == [
        company_order.number
    ]
    assert len(client.get("/brand/orders", {"company": "true"}).json()["results"]) == 2
    assert client.get("/brand/orders", {"company": "false"}).json()["results"] == []
    assert client.get("/brand/orders", {"completed_after": "2000-01-01"}).json()["results"] == []
    assert client.get("/brand/orders/NOPE").status_code == 404


def test_payments_with_filters(api, key, company_order):
    client = api(key=key("payments:read"))
    response = client.get("/brand/payments")
    assert_matches_spec(response, "get", "/brand/payments")
    [row] = response.json()["results"]
    assert (row["order_number"], row["method"], row["amount"], row["status"], row["receiver_id"]) == (
        company_order.number,
        "wechatpay",
        "8940.00",
        "confirmed",
        None,
    )
    assert row["provider_txn_id"] and row["topup_for_id"] is None
    assert client.get("/brand/payments", {"status": "pending"}).json()["results"] == []
    assert len(client.get("/brand/payments", {"method": "wechatpay"}).json()["results"]) == 1


# --- shipments ------------------------------------------------------------------------------------


def test_the_warehouse_ships_a_company_order_once_however_often_it_retries(api, key, company_order, warehouse, catalog):
    client = api(key=key("shipments:write", "orders:read"))
    before = warehouse_units(catalog.skus["GLOW-30ML"])
    retry = str(uuid.uuid4())
    body = {"order": company_order.number, "carrier": "顺丰", "tracking_number": "SF1234567890"}
    first = client.post("/brand/shipments", body, **{"Idempotency-Key": retry})
    again = client.post("/brand/shipments", body, **{"Idempotency-Key": retry})
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert_matches_spec(first, "post", "/brand/shipments")
    shipped = first.json()
    assert (shipped["order"], shipped["status"], shipped["carrier"], shipped["tracking_number"]) == (
        company_order.number,
        "fulfilled",
        "顺丰",
        "SF1234567890",
    )
    assert shipped["shipped_at"] and shipped["ship_name"] == ""
    company_order.refresh_from_db()
    assert company_order.status == OrderStatus.FULFILLED and company_order.tracking_number == "SF1234567890"
    assert warehouse_units(catalog.skus["GLOW-30ML"]) == before - 100  # the units left the warehouse, once
    fulfil = OrderTransition.objects.get(order=company_order, to_status=OrderStatus.FULFILLED)
    assert fulfil.by == warehouse  # in the name of the key's issuer
    # Shipping it again (a new request) is refused: it is no longer waiting to be filled.
    twice = client.post("/brand/shipments", body)
    assert twice.status_code == 409 and error_of(twice)["fields"] == {"status": [error_of(twice)["message"]]}
    assert_matches_spec(twice, "post", "/brand/shipments")
    assert client.get(f"/brand/orders/{company_order.number}").json()["tracking_number"] == "SF1234567890"


def test_the_warehouse_ships_a_pickup_and_corrects_its_tracking(api, key, pickup):
    client = api(key=key("shipments:write"))
    response = client.post("/brand/shipments", {"order": pickup.number, "carrier": "顺丰", "tracking_number": "SF1"})
    assert response.status_code == 201 and response.json()["status"] == "fulfilled"
    assert response.json()["ship_name"] == "王芳"
    pickup.refresh_from_db()
    assert (pickup.status, pickup.carrier, pickup.tracking_number) == (OrderStatus.FULFILLED, "顺丰", "SF1")
    assert pickup.shipped_at is not None

    fixed = client.post(f"/brand/shipments/{pickup.number}/tracking", {"carrier": "中通", "tracking_number": "ZT9"})
    assert fixed.status_code == 200
    assert_matches_spec(fixed, "post", "/brand/shipments/{number}/tracking")
    assert (fixed.json()["carrier"], fixed.json()["tracking_number"]) == ("中通", "ZT9")
    pickup.refresh_from_db()
    assert (pickup.carrier, pickup.tracking_number, pickup.status) == ("中通", "ZT9", OrderStatus.FULFILLED)
    # Integrations hear of it (the webhook event).
    assert OutboxEvent.objects.filter(topic="shipment.tracking_updated", payload__tracking_number="ZT9").exists()


def test_shipments_that_are_not_the_brands_to_send_are_refused(api, key, make_agent, catalog, r, pickup):
    client = api(key=key("shipments:write"), language="en")
    # An order an agent fills (cloud stock upline).
    boss = make_agent("province")
    r.receive(boss, catalog.skus["GLOW-30ML"], 50)
    buyer = make_agent("city", referrer=boss)
    theirs = trade.order_submit(buyer=buyer, lines=[("GLOW-30ML", 5)], by=buyer.user)
    # A company order filled into cloud stock: nothing travels.
    partner = make_agent("partner")
    cloud = trade.order_submit(buyer=partner, lines=[("GLOW-30ML", 100)], by=partner.user)
    assert theirs.seller == boss and cloud.seller is None
    for order, code in ((theirs, "not_brand_shipment"), (cloud, "nothing_to_ship")):
        response = client.post("/brand/shipments", {"order": order.number, "carrier": "顺丰", "tracking_number": "1"})
        assert response.status_code == 409
        assert error_of(response)["code"] == code and order.number in error_of(response)["message"]
        response = client.post(f"/brand/shipments/{order.number}/tracking", {"carrier": "顺丰", "tracking_number": "1"})
        assert response.status_code == 409 and error_of(response)["code"] == code
        assert_matches_spec(response, "post", "/brand/shipments/{number}/tracking")
    # A pick-up not shipped yet has no tracking to correct; an unknown order is not found.
    response = client.post(f"/brand/shipments/{pickup.number}/tracking", {"carrier": "顺丰", "tracking_number": "1"})
    assert response.status_code == 409 and error_of(response)["code"] == "wrong_status"
    response = client.post("/brand/shipments", {"order": "NOPE", "carrier": "顺丰", "tracking_number": "1"})
    assert response.status_code == 404
    missing = client.post("/brand/shipments", {"order": pickup.number, "carrier": "顺丰", "tracking_number": ""})
    assert missing.status_code == 422 and list(error_of(missing)["fields"]) == ["tracking_number"]
    assert Order.objects.filter(status=OrderStatus.FULFILLED).count() == 0
    assert Order.objects.filter(tracking_number__gt="").count() == 0


def test_a_key_ships_only_in_the_name_of_an_issuer_who_may(api, key, staff, pickup):
    body = {"order": pickup.number, "carrier": "顺丰", "tracking_number": "SF1"}
    nobody = api(language="en", key=api_key_create(name="old", scopes=["shipments:write"])[1])
    response = nobody.post("/brand/shipments", body)
    assert response.status_code == 403 and error_of(response)["code"] == "key_without_issuer"
    finance = api(key=key("shipments:write", by=staff("finance")))
    response = finance.post("/brand/shipments", body)
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    pickup.refresh_from_db()
    assert pickup.status == OrderStatus.SUBMITTED and pickup.tracking_number == ""


# --- settlements ----------------------------------------------------------------------------------


def test_settlement_runs_and_their_reports(api, key, tiered, make_agent, catalog, r):
    p0 = make_agent("province", real_name="省代周强")
    c1 = make_agent("city", referrer=p0, real_name="市代王芳")
    c2 = make_agent("city", referrer=c1, real_name="市代李娜")
    c3 = make_agent("city", referrer=c2, real_name="市代张伟")
    r.receive(p0, catalog.skus["GLOW-30ML"], 2000)
    order = r.complete(c3, [("GLOW-30ML", 700)])  # ¥119,000 in one month: 张伟's team reaches 3 %
    r.process()
    month = timezone.localtime(order.completed_at).date()
    label = f"{month:%Y-%m}"
    run = settle_period(period=label, today=month.replace(day=28) + timedelta(days=10))

    client = api(key=key("settlements:read"))
    response = client.get("/brand/settlements")
    assert_matches_spec(response, "get", "/brand/settlements")
    [row] = response.json()["results"]
    assert (row["id"], row["period"], row["lines"], row["total"], row["volume"]) == (
        run.pk,
        label,
        run.lines,
        "3570.00",
        "119000.00",
    )
    assert row["plan"] == f"{tiered.plan_id} v{tiered.version}" and row["finished_at"]
    assert Decimal(row["payout_ratio"]) == Decimal("0.0300")

    response = client.get(f"/brand/settlements/{label}/reports")
    assert_matches_spec(response, "get", "/brand/settlements/{period}/reports")
    reports = response.json()["results"]
    by_agent = {x["agent_id"]: x for x in reports}
    assert by_agent[c3.pk]["rewards"] == "3570.00" and by_agent[c3.pk]["agent_name"] == "市代张伟"
    assert by_agent[c3.pk]["personal_purchase"] == "119000.00" and by_agent[c3.pk]["level"] == "city"
    assert by_agent[c1.pk]["team_purchase"] == "119000.00" and by_agent[c1.pk]["run_id"] == run.pk
    for period in ("2001-01", "nonsense", "x" * 50):
        response = client.get(f"/brand/settlements/{period}/reports")
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_text_no_database_can_store_is_a_422_not_a_500(api, key, pickup):
    client = api(key=key("shipments:write", "orders:read", "settlements:read", "agents:read"))
    for body, field in (
        ({"order": pickup.number, "carrier": "顺\x00丰", "tracking_number": "SF1"}, "carrier"),
        ({"order": pickup.number, "carrier": "顺丰", "tracking_number": "\ud800"}, "tracking_number"),
        ({"order": "\x00", "carrier": "顺丰", "tracking_number": "SF1"}, "order"),
    ):
        response = client.post("/brand/shipments", body)
        assert response.status_code == 422 and list(error_of(response)["fields"]) == [field]
    for path in ("/brand/orders/R1%00", "/brand/settlements/2026-11%00/reports"):
        assert client.get(path).status_code == 404
    response = client.post("/brand/shipments/R1%00/tracking", {"carrier": "顺丰", "tracking_number": "SF1"})
    assert response.status_code == 404
    response = client.get("/brand/agents", {"level": "\x00"})
    assert response.status_code == 422 and list(error_of(response)["fields"]) == ["level"]
    pickup.refresh_from_db()
    assert pickup.status == OrderStatus.SUBMITTED


def test_an_orders_page_costs_the_same_queries_for_2_orders_as_for_12(api, key, catalog, make_agent, r):
    client = api(key=key("orders:read"))
    boss = make_agent("province")
    r.receive(boss, catalog.skus["GLOW-30ML"], 500)

    def queries() -> tuple[int, int]:
        client.get("/brand/orders")  # the first call records when the key was used: not counted
        with CaptureQueriesContext(connection) as captured:
            rows = client.get("/brand/orders").json()["results"]
        return len(rows), len(captured)

    for _ in range(2):
        buyer = make_agent("city", referrer=boss)
        trade.order_submit(buyer=buyer, lines=[("GLOW-30ML", 5), ("GLOW-50G", 5)], by=buyer.user)
    few = queries()
    for _ in range(10):
        buyer = make_agent("city", referrer=boss)
        trade.order_submit(buyer=buyer, lines=[("GLOW-30ML", 5), ("GLOW-MASK5", 5)], by=buyer.user)
    many = queries()
    assert (few[0], many[0]) == (2, 12) and few[1] == many[1]
