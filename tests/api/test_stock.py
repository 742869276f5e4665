"""GET /stock and pick-ups through the API: an agent ships units of their cloud stock to an
address; the units leave cloud stock at once; the warehouse ships with a carrier and tracking
number, which the pick-up then shows; the agent confirms receipt. Bad input is a 4xx on its field
and changes nothing; another agent's pick-up is 404."""

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from tests.stock_helpers import receive
from weishang.api.services import token_create
from weishang.catalog.models import SKU, Product
from weishang.core.models import Brand, SupplyMode
from weishang.trade import services
from weishang.trade.models import Order, OrderKind, StockLevel, StockMove
from weishang.trade.stock import location_for_agent, on_hand

from .conftest import Api, error_of
from .test_orders import Checked

ADDRESS = {"name": "李娜", "phone": "139 1234 5678", "region": "310104", "address": "漕溪北路 1 号"}


def cloud(agent, sku) -> int:
    return on_hand(location=location_for_agent(agent, "cloud"), sku=sku)


def snapshot() -> dict:
    return {
        "orders": sorted(Order.objects.values_list("pk", "status", "tracking_number")),
        "stock": sorted(StockLevel.objects.values_list("location_id", "sku_id", "quantity")),
        "moves": StockMove.objects.count(),
    }


def client(agent, **kw) -> Api:
    return Checked(token=token_create(user=agent.user)[1], **kw)


@pytest.fixture
def world(make_agent):
    """A 特约 with 10 units of A in cloud stock and 2 of B at hand; a stranger with 5 of A."""
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    product = Product.objects.create(name="焕颜修护系列")
    a = SKU.objects.create(product=product, code="A", name="修护精华", retail_price=Decimal("100"))
    b = SKU.objects.create(product=product, code="B", name="洁面乳", retail_price=Decimal("30"))
    vip, stranger = make_agent("vip", real_name="特约李娜"), make_agent("vip", real_name="特约孙丽")
    receive(a, 10, into=location_for_agent(vip, "cloud"))
    receive(b, 2, into=location_for_agent(vip, "agent"))
    receive(a, 5, into=location_for_agent(stranger, "cloud"))
    warehouse = get_user_model().objects.create_user(username="warehouse", password="x", is_staff=True)
    warehouse.user_permissions.add(Permission.objects.get(content_type__app_label="trade", codename="change_order"))
    warehouse = get_user_model().objects.get(pk=warehouse.pk)
    return {"a": a, "b": b, "vip": vip, "stranger": stranger, "warehouse": warehouse}


def test_my_stock_per_sku_in_cloud_and_at_hand(world):
    body = client(world["vip"]).get("/stock").json()
    assert body == {
        "cloud": [{"sku": "A", "name": "修护精华", "quantity": 10}],
        "own": [{"sku": "B", "name": "洁面乳", "quantity": 2}],
    }
    theirs = client(world["stranger"]).get("/stock").json()
    assert theirs == {"cloud": [{"sku": "A", "name": "修护精华", "quantity": 5}], "own": []}


def test_a_pick_up_leaves_cloud_stock_is_shipped_with_tracking_and_received(world):
    vip = client(world["vip"])
    created = vip.post("/pickups", {"sku": "A", "quantity": 4, **ADDRESS})
    assert created.status_code == 201
    pickup = created.json()
    number = pickup["number"]
    assert number.startswith("P") and (pickup["kind"], pickup["status"]) == ("pickup", "submitted")
    assert pickup["lines"] == [
        {"sku": "A", "name": "修护精华", "quantity": 4, "unit_price": "0.00", "amount": "0.00", "gift": False}
    ]
    assert pickup["ship_to"] == {
        "name": "李娜",
        "phone": "13912345678",
        "region": "310104",
        "region_name": "上海市 徐汇区",
        "address": "漕溪北路 1 号",
    }
    assert pickup["tracking"] is None and pickup["next_actions"] == []
    assert cloud(world["vip"], world["a"]) == 6
    assert vip.get("/stock").json()["cloud"][0]["quantity"] == 6

    assert [p["number"] for p in vip.get("/pickups").json()["results"]] == [number]
    assert vip.get("/orders").json()["results"] == []  # my purchase orders do not list pick-ups

    services.pickup_ship(
        order=Order.objects.get(number=number), by=world["warehouse"], carrier="顺丰", tracking_number="SF1234567890"
    )
    shipped = vip.get(f"/pickups/{number}").json()
    assert shipped["status"] == "fulfilled" and shipped["next_actions"] == ["receive"]
    assert shipped["tracking"]["carrier"] == "顺丰" and shipped["tracking"]["tracking_number"] == "SF1234567890"
    assert shipped["tracking"]["shipped_at"] and shipped["tracking"]["delivered_at"] is None

    received = vip.post(f"/orders/{number}/receive")
    assert received.status_code == 200 and received.json()["status"] == "completed"
    assert received.json()["tracking"]["delivered_at"]
    assert vip.get("/pickups", {"status": "completed"}).json()["results"][0]["number"] == number
    assert vip.get("/pickups", {"status": "submitted"}).json()["results"] == []


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"sku": "A", "quantity": 11}, 409, "quantity"),
        ({"sku": "B", "quantity": 1}, 409, "quantity"),  # at hand, not in cloud stock
        ({"sku": "NOPE", "quantity": 1}, 400, "sku"),
        ({"sku": "A", "quantity": 0}, 422, "quantity"),
        ({"sku": "A", "quantity": 1, "phone": "12345"}, 400, "phone"),
        ({"sku": "A", "quantity": 1, "address": ""}, 422, "address"),
        ({"sku": "A", "quantity": 1, "address": "   "}, 400, "address"),
        ({"sku": "A", "quantity": 1, "name": None}, 422, "name"),
        ({"sku": "A", "quantity": 1, "region": "99999"}, 422, "region"),
        ({"sku": "A", "quantity": 1, "region": 310104}, 422, "region"),
        ({"sku": "A", "quantity": 1, "region": "999999"}, 400, "region"),
        ({"sku": "A", "quantity": 1, "region": "310000"}, 400, "region"),
    ],
)
def test_a_refused_pick_up_is_4xx_on_its_field_and_changes_nothing(world, body, status, field):
    before = snapshot()
    response = client(world["vip"]).post("/pickups", {**ADDRESS, **body})
    assert response.status_code == status and field in error_of(response)["fields"]
    assert snapshot() == before


def test_not_enough_stock_says_so_in_chinese_or_english(world):
    zh = client(world["vip"]).post("/pickups", {"sku": "A", "quantity": 11, **ADDRESS})
    assert error_of(zh)["code"] == "insufficient_stock" and "不足" in error_of(zh)["message"]
    en = client(world["vip"], language="en").post("/pickups", {"sku": "A", "quantity": 11, **ADDRESS})
    assert "11 wanted, 10 on hand" in error_of(en)["message"]


def test_a_retried_pick_up_is_made_once(world):
    vip = client(world["vip"])
    key = str(uuid.uuid4())
    first = vip.post("/pickups", {"sku": "A", "quantity": 3, **ADDRESS}, **{"Idempotency-Key": key})
    again = vip.post("/pickups", {"sku": "A", "quantity": 3, **ADDRESS}, **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert Order.objects.filter(kind=OrderKind.PICKUP).count() == 1 and cloud(world["vip"], world["a"]) == 7


def test_another_agents_pick_up_is_404_and_nothing_changes(world):
    number = client(world["stranger"]).post("/pickups", {"sku": "A", "quantity": 1, **ADDRESS}).json()["number"]
    services.pickup_ship(
        order=Order.objects.get(number=number), by=world["warehouse"], carrier="顺丰", tracking_number="SF1"
    )
    vip = client(world["vip"])
    before = snapshot()
    for response in (
        vip.get(f"/pickups/{number}"),
        vip.get(f"/orders/{number}"),
        vip.post(f"/orders/{number}/receive"),
    ):
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert vip.get("/pickups").json()["results"] == []
    assert snapshot() == before


def test_a_purchase_order_is_not_a_pick_up(world, make_agent):
    city = make_agent("city")
    receive(world["a"], 10, into=location_for_agent(city, "cloud"))
    vip = make_agent("vip", referrer=city)
    order = services.order_submit(buyer=vip, lines=[("A", 1)], by=vip.user)
    assert client(vip).get(f"/pickups/{order.number}").status_code == 404


def test_pick_ups_come_in_cursor_pages(world):
    vip = client(world["vip"])
    numbers = [vip.post("/pickups", {"sku": "A", "quantity": 1, **ADDRESS}).json()["number"] for _ in range(3)]
    first = vip.get("/pickups", {"page_size": 2}).json()
    assert [p["number"] for p in first["results"]] == numbers[:0:-1]
    second = vip.client.get(first["next"], headers=vip.headers).json()
    assert [p["number"] for p in second["results"]] == numbers[:1] and second["next"] is None
