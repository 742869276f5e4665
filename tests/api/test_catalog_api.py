"""GET /catalog: what an agent's app shows before ordering — every SKU on sale at my level price,
my purchase limits and cloud stock, who fills my order, what an entry or upgrade order must come
to, and the levels I may upgrade to (priced with ?level=)."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from weishang.api.services import token_create
from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.core.models import Brand, SupplyMode
from weishang.trade.stock import Move, location_for_agent, location_singleton, stock_move

from .conftest import Api, error_of
from .test_orders import Checked


@pytest.fixture
def world(make_agent, levels):
    """A: retail 100.00 with a 特约 price of 75.50 and a 4-unit cap per order; B: retail 33.33
    (a 特约 pays 80% = 26.66); C is off sale. A 总代 → 市代 → 特约 line; the 特约 holds 7 units of A."""
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    product = Product.objects.create(name="焕颜修护系列")
    a = SKU.objects.create(
        product=product, code="A", name="修护精华", retail_price=Decimal("100.00"), max_per_order=4, max_per_month=20
    )
    SKU.objects.create(product=product, code="B", name="洁面乳", retail_price=Decimal("33.33"), min_order_qty=2)
    SKU.objects.create(product=product, code="C", name="旧款面霜", retail_price=Decimal("50.00"), active=False)
    LevelPrice.objects.create(sku=a, level=levels["vip"], price=Decimal("75.50"))
    general = make_agent("general", real_name="总代陈静")
    city = make_agent("city", referrer=general, real_name="市代王芳")
    vip = make_agent("vip", referrer=city, real_name="特约李娜")
    stock_move(moves=[Move(location_singleton("supplier"), location_for_agent(vip, "cloud"), a, 7)], reason="receipt")
    return {"general": general, "city": city, "vip": vip}


def client(agent, **kw) -> Api:
    return Checked(token=token_create(user=agent.user)[1], **kw)


def test_my_catalog_at_my_level_price_with_my_limits_and_stock(world):
    response = client(world["vip"]).get("/catalog")
    assert response.status_code == 200
    body = response.json()
    assert body["order_kind"] == "restock" and body["can_order"] is True
    assert body["level"] == body["my_level"] == {"code": "vip", "name": "特约"}
    assert (body["min_units"], body["min_total"]) == (1, "0.00")
    assert body["seller"] == {"id": world["city"].pk, "name": "市代王芳", "level": {"code": "city", "name": "市代"}}
    assert body["items"] == [
        {
            "sku": "A",
            "name": "修护精华",
            "product": "焕颜修护系列",
            "retail_price": "100.00",
            "price": "75.50",
            "cloud_stock": 7,
            "min_order_qty": 1,
            "max_per_order": 4,
            "max_per_day": None,
            "max_per_week": None,
            "max_per_month": 20,
        },
        {
            "sku": "B",
            "name": "洁面乳",
            "product": "焕颜修护系列",
            "retail_price": "33.33",
            "price": "26.66",
            "cloud_stock": 0,
            "min_order_qty": 2,
            "max_per_order": None,
            "max_per_day": None,
            "max_per_week": None,
            "max_per_month": None,
        },
    ]
    # Every level above mine, nearest first, each with what its upgrade order must come to.
    assert [(u["level"]["code"], u["top_up"]) for u in body["upgrades"]] == [
        ("city", "1702.00"),
        ("province", "5702.00"),
        ("general", "19702.00"),
        ("partner", "99702.00"),
    ]
    assert body["upgrades"][0]["seller"]["id"] == world["general"].pk  # a 市代 cannot fill a 市代's order
    assert body["upgrades"][-1]["seller"] is None  # nobody above a 联创: the company


def test_a_level_i_may_upgrade_to_prices_the_catalog_for_an_upgrade_order(world):
    body = client(world["vip"]).get("/catalog", {"level": "city"}).json()
    assert body["order_kind"] == "upgrade" and body["level"]["code"] == "city" and body["my_level"]["code"] == "vip"
    assert [(i["sku"], i["price"]) for i in body["items"]] == [("A", "60.00"), ("B", "20.00")]
    assert (body["min_units"], body["min_total"]) == (0, "1702.00")
    assert body["seller"]["id"] == world["general"].pk
    assert client(world["vip"]).get("/catalog", {"level": "vip"}).json()["order_kind"] == "restock"


@pytest.mark.parametrize("level", ["emperor", "vip "])
def test_a_level_i_cannot_order_at_is_400_on_level(world, level):
    response = client(world["city"], language="en").get("/catalog", {"level": level})
    assert response.status_code == 400 and list(error_of(response)["fields"]) == ["level"]
    assert "upgrades" in error_of(response)["message"]


def test_a_lower_level_is_not_an_upgrade(world):
    response = client(world["city"]).get("/catalog", {"level": "vip"})
    assert response.status_code == 400 and error_of(response)["fields"]["level"]


def test_an_applicant_sees_their_entry_order_and_no_upgrades(world, make_agent):
    applicant = make_agent("vip", referrer=world["city"], entry_paid=False)
    body = client(applicant).get("/catalog").json()
    assert body["order_kind"] == "entry" and body["can_order"] is True
    assert (body["min_units"], body["min_total"]) == (0, "298.00")
    assert body["upgrades"] == []
    refused = client(applicant).get("/catalog", {"level": "city"})
    assert refused.status_code == 400


def test_a_suspended_agent_sees_the_catalog_but_cannot_order(world):
    world["vip"].status = "suspended"
    world["vip"].save()
    body = client(world["vip"]).get("/catalog").json()
    assert body["can_order"] is False and body["upgrades"] == []


def test_the_company_fills_under_company_supply(world):
    brand = Brand.objects.get()
    brand.supply_mode = SupplyMode.COMPANY
    brand.save()
    assert client(world["vip"]).get("/catalog").json()["seller"] is None


def test_only_agents_have_a_catalog(world, api):
    staff = get_user_model().objects.create_user(username="operations", password="x", is_staff=True)
    response = api(token=token_create(user=staff)[1], language="en").get("/catalog")
    assert response.status_code == 403 and error_of(response)["message"] == "Only agents have this page."
    assert api().get("/catalog").status_code == 401


def test_the_catalog_is_cached_by_etag(world):
    vip = client(world["vip"])
    etag = vip.get("/catalog")["ETag"]
    assert vip.get("/catalog", **{"If-None-Match": etag}).status_code == 304
    SKU.objects.filter(code="B").update(retail_price=Decimal("40.00"))
    assert vip.get("/catalog", **{"If-None-Match": etag}).status_code == 200
