"""Orders through the API, as an integrator's app would drive them: a 特约 orders stock, the
supplying 市代 approves it, the 特约 pays by transfer with a real screenshot, the 市代 confirms and
fills it from cloud stock; wallet and online payment, returns, upgrade and entry orders; and every
refusal — bad input, wrong state, someone else's order — is a 4xx in the caller's language that
changes nothing."""

import re
import uuid
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from tests.stock_helpers import receive
from weishang.api.services import token_create
from weishang.catalog.models import SKU, Product
from weishang.channel.models import AgentStatus
from weishang.core.models import Brand, SupplyMode
from weishang.ledger.models import Account, JournalEntry
from weishang.trade import services
from weishang.trade.models import (
    Order,
    OrderTransition,
    Payment,
    StockLevel,
    StockMove,
)
from weishang.trade.providers.fake import FakeProvider
from weishang.trade.selectors import wallet_balance
from weishang.trade.stock import Move, location_for_agent, location_singleton, on_hand, stock_move

from .conftest import Api, assert_matches_spec, error_of

# --- helpers --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern, str]]:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    return sorted(
        ((re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path) for path in paths),
        key=lambda row: row[1].count("{"),
    )


def template(path: str) -> str:
    """The spec's path template for a path called: /orders/R2026… → /api/v1/orders/{number}."""
    path = "/api/v1" + path.split("?")[0]
    return next(name for pattern, name in _templates() if pattern.match(path))


class Checked(Api):
    """The API client of these tests: every answer must be one the spec documents (its status, and
    a body matching that status's schema). A 304 has no body to check."""

    def get(self, path: str, params=None, **headers):
        response = super().get(path, params, **headers)
        if response.status_code != 304:
            assert_matches_spec(response, "GET", template(path))
        return response

    def post(self, path: str, body=None, **headers):
        response = super().post(path, body, **headers)
        assert_matches_spec(response, "POST", template(path))
        return response


def png(name: str = "transfer.png") -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (12, 20), (7, 193, 96)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def seed_cloud(agent, sku, units: int) -> None:
    """``units`` of ``sku`` arrive from the supplier into the agent's cloud stock."""
    receive(sku, units, into=location_for_agent(agent, "cloud"))


def cloud(agent, sku) -> int:
    return on_hand(location=location_for_agent(agent, "cloud"), sku=sku)


def snapshot() -> dict:
    """Everything a refused request must leave as it was."""
    return {
        "orders": sorted(Order.objects.values_list("pk", "status", "total", "tracking_number")),
        "transitions": OrderTransition.objects.count(),
        "payments": sorted(Payment.objects.values_list("pk", "status")),
        "stock": sorted(StockLevel.objects.values_list("location_id", "sku_id", "quantity")),
        "moves": StockMove.objects.count(),
        "accounts": sorted(Account.objects.values_list("pk", "balance")),
        "entries": JournalEntry.objects.count(),
    }


def upload(client: Api, number: str, screenshot=None, **fields):
    """POST /orders/{number}/transfer as multipart/form-data, as a phone uploads a picture."""
    data = {"screenshot": screenshot or png(), **fields}
    response = client.client.post(f"/api/v1/orders/{number}/transfer", data, headers=client.headers)
    assert_matches_spec(response, "POST", "/orders/{number}/transfer")
    return response


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def world(make_agent):
    """A cloud-stock brand, one SKU at ¥100 retail (a 特约 pays 80.00), a 市代 with 50 units in cloud
    stock supplying a 特约; and another 市代 and 特约 pair, strangers to the first."""
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    product = Product.objects.create(name="焕颜精华")
    sku = SKU.objects.create(product=product, code="GLOW-30", name="焕颜精华 30ml", retail_price=Decimal("100"))
    city = make_agent("city", real_name="市代王芳")
    vip = make_agent("vip", referrer=city, real_name="特约李娜")
    other_city = make_agent("city", real_name="市代赵敏")
    other_vip = make_agent("vip", referrer=other_city, real_name="特约孙丽")
    for seller in (city, other_city):
        seed_cloud(seller, sku, 50)

    def client(agent, **kw) -> Api:
        return Checked(token=token_create(user=agent.user, device="测试")[1], **kw)

    return SimpleNamespace(sku=sku, city=city, vip=vip, other_city=other_city, other_vip=other_vip, client=client)


def place(world, units: int = 3, buyer=None) -> str:
    response = world.client(buyer or world.vip).post("/orders", {"lines": [{"sku": "GLOW-30", "quantity": units}]})
    assert response.status_code == 201, response.content
    return response.json()["number"]


def approved(world, units: int = 3, buyer=None) -> str:
    number = place(world, units, buyer)
    seller = world.city if (buyer or world.vip) == world.vip else world.other_city
    assert world.client(seller).post(f"/fills/{number}/approve").status_code == 200
    return number


def completed(world, units: int = 3) -> str:
    number = approved(world, units)
    vip, city = world.client(world.vip), world.client(world.city)
    assert upload(vip, number).status_code == 201
    payment_id = vip.get(f"/orders/{number}").json()["payments"][0]["id"]
    assert city.post(f"/fills/{number}/payments/{payment_id}/confirm").status_code == 200
    assert city.post(f"/fills/{number}/fill").json()["status"] == "completed"
    return number


def top_up(agent, amount: str) -> None:
    staff = get_user_model().objects.create_user(
        username=f"finance{agent.pk}", password="x", is_staff=True, is_superuser=True
    )
    payment = services.wallet_topup_submit(agent=agent, by=agent.user, amount=Decimal(amount), screenshot=png())
    services.payment_confirm(payment=payment, by=staff)


# --- the whole journey ----------------------------------------------------------------------


def test_a_restock_order_from_creation_to_cloud_stock_through_the_api_only(world, media):
    vip, city = world.client(world.vip), world.client(world.city)

    created = vip.post("/orders", {"lines": [{"sku": "GLOW-30", "quantity": 3}], "note": "周五前要"})
    assert created.status_code == 201
    order = created.json()
    number = order["number"]
    assert number.startswith("R")
    assert (order["kind"], order["status"], order["status_display"]) == ("restock", "submitted", "已提交")
    assert order["lines"] == [
        {
            "sku": "GLOW-30",
            "name": "焕颜精华 30ml",
            "quantity": 3,
            "unit_price": "80.00",
            "amount": "240.00",
            "gift": False,
        }
    ]
    assert (order["total"], order["units"], order["note"]) == ("240.00", 3, "周五前要")
    assert order["seller"] == {"id": world.city.pk, "name": "市代王芳", "level": {"code": "city", "name": "市代"}}
    assert order["buyer"]["name"] == "特约李娜" and order["buyer"]["level"]["code"] == "vip"
    assert order["payments"] == [] and order["tracking"] is None and order["paid_at"] is None
    assert order["next_actions"] == ["cancel"]
    assert Order.objects.get(number=number).total == Decimal("240.00")

    # The 市代 sees it waiting, approves it.
    waiting = city.get("/fills").json()
    assert [o["number"] for o in waiting["results"]] == [number]
    assert waiting["results"][0]["next_actions"] == ["approve", "reject"]
    detail = city.get(f"/fills/{number}").json()
    assert detail["shortfalls"] == [] and detail["buyer"]["id"] == world.vip.pk
    approved_order = city.post(f"/fills/{number}/approve").json()
    assert (approved_order["status"], approved_order["next_actions"]) == ("awaiting_payment", [])

    # The 特约 pays by transfer with a screenshot.
    mine = vip.get(f"/orders/{number}").json()
    assert mine["status_display"] == "待付款"
    assert mine["next_actions"] == ["cancel", "pay_online", "pay_transfer", "pay_wallet"]
    sent = upload(vip, number, reference="微信转账 0815")
    assert sent.status_code == 201
    payment = sent.json()["payments"][0]
    assert (payment["method"], payment["status"], payment["amount"], payment["reference"]) == (
        "transfer",
        "pending",
        "240.00",
        "微信转账 0815",
    )
    # The screenshot is served by a permission-checked route, never by its public media URL (M7 8f).
    assert payment["screenshot_url"] == f"http://testserver/api/v1/payments/{payment['id']}/screenshot"
    image_path = f"/payments/{payment['id']}/screenshot"
    for who in (world.vip, world.city):
        shown = Api(token=token_create(user=who.user, device="测试")[1]).get(image_path)
        assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    for stranger in (world.other_vip, world.other_city):
        assert Api(token=token_create(user=stranger.user, device="测试")[1]).get(image_path).status_code == 404
    assert Api().get(image_path).status_code in (401, 404)
    assert sent.json()["next_actions"] == []
    stored = Payment.objects.get(pk=payment["id"])
    assert stored.screenshot.name.endswith(".png") and (media / stored.screenshot.name).is_file()

    # The 市代 sees the transfer to check, confirms it, fills from cloud stock.
    assert city.get(f"/fills/{number}").json()["next_actions"] == ["payment"]
    confirmed = city.post(f"/fills/{number}/payments/{payment['id']}/confirm", {"note": "已到账"}).json()
    assert confirmed["status"] == "paid" and confirmed["paid_at"]
    assert confirmed["payments"][0]["status"] == "confirmed" and confirmed["payments"][0]["note"] == "已到账"
    assert confirmed["next_actions"] == ["fill"]
    filled = city.post(f"/fills/{number}/fill", {}).json()
    assert filled["status"] == "completed" and filled["completed_at"] and filled["next_actions"] == []
    assert cloud(world.vip, world.sku) == 3 and cloud(world.city, world.sku) == 47

    # The 特约's stock shows it; the order offers a return now.
    assert vip.get("/stock").json()["cloud"] == [{"sku": "GLOW-30", "name": "焕颜精华 30ml", "quantity": 3}]
    assert vip.get(f"/orders/{number}").json()["next_actions"] == ["refund"]
    assert city.get("/fills").json()["results"] == []  # nothing waits for the 市代 any more
    assert [o["number"] for o in city.get("/fills", {"all": "true"}).json()["results"]] == [number]

    # And picks two units up.
    pickup = vip.post(
        "/pickups",
        {
            "sku": "GLOW-30",
            "quantity": 2,
            "name": "李娜",
            "phone": "13912345678",
            "address": "上海市徐汇区漕溪北路 1 号",
        },
    )
    assert pickup.status_code == 201 and pickup.json()["kind"] == "pickup"
    assert cloud(world.vip, world.sku) == 1


def test_english_on_request(world):
    number = place(world)
    response = world.client(world.vip, language="en").get(f"/orders/{number}")
    assert response.json()["status_display"] == "Submitted"
    assert response.json()["kind_display"].startswith("Restock order")


# --- paying ---------------------------------------------------------------------------------


def test_paying_from_the_wallet(world):
    top_up(world.vip, "1000")
    number = approved(world)
    paid = world.client(world.vip).post(f"/orders/{number}/pay", {"method": "wallet"})
    assert paid.status_code == 200
    body = paid.json()
    assert body["online"] is None
    assert body["order"]["status"] == "paid" and body["order"]["payments"][0]["method"] == "wallet"
    assert body["order"]["payments"][0]["status"] == "confirmed"
    assert wallet_balance(agent=world.vip) == Decimal("760.00")
    assert wallet_balance(agent=world.city) == Decimal("240.00")


def test_a_wallet_too_small_is_409_and_changes_nothing(world):
    top_up(world.vip, "100")
    number = approved(world)
    before = snapshot()
    zh = world.client(world.vip).post(f"/orders/{number}/pay", {"method": "wallet"})
    assert zh.status_code == 409 and error_of(zh)["code"] == "insufficient_funds"
    assert "¥100.00" in error_of(zh)["message"] and "wallet" in error_of(zh)["fields"]
    en = world.client(world.vip, language="en").post(f"/orders/{number}/pay", {"method": "wallet"})
    assert "Your wallet has ¥100.00; ¥240.00 is needed." == error_of(en)["message"]
    assert snapshot() == before


def test_online_payment_answers_what_the_client_opens_and_pays_nothing_yet(world):
    number = approved(world)
    vip = world.client(world.vip)
    h5 = vip.post(f"/orders/{number}/pay", {"method": "online"}).json()
    token = FakeProvider.cashier_token(number)  # the link carries the order's secret: the app has no session
    assert h5["online"] == {
        "provider": "fake",
        "channel": "h5",
        "h5_url": f"http://testserver/pay/fake/{number}/?t={token}",
        "code_url": None,
    }
    assert h5["order"]["status"] == "awaiting_payment" and h5["order"]["payments"] == []
    native = vip.post(f"/orders/{number}/pay", {"method": "online", "channel": "native"}).json()
    assert native["online"]["code_url"].startswith("weixin://wxpay/") and native["online"]["h5_url"] is None


def test_without_an_online_provider_online_payment_is_409(world, settings):
    settings.WEISHANG_PAYMENT_PROVIDERS = {}
    number = approved(world)
    vip = world.client(world.vip, language="en")
    assert vip.get(f"/orders/{number}").json()["next_actions"] == ["cancel", "pay_transfer", "pay_wallet"]
    response = vip.post(f"/orders/{number}/pay", {"method": "online"})
    assert response.status_code == 409 and "pay by transfer" in error_of(response)["message"]


@pytest.mark.parametrize("body", [{}, {"method": "transfer"}, {"method": "wallet", "channel": "jsapi"}])
def test_a_bad_pay_body_is_422(world, body):
    number = approved(world)
    response = world.client(world.vip).post(f"/orders/{number}/pay", body)
    assert response.status_code == 422 and error_of(response)["code"] == "invalid"


def test_a_transfer_that_is_not_a_picture_is_refused(world, media):
    number = approved(world)
    vip = world.client(world.vip)
    before = snapshot()
    fake = SimpleUploadedFile("transfer.png", b"this is not a picture", content_type="image/png")
    zh = upload(vip, number, screenshot=fake)
    assert zh.status_code == 400 and list(error_of(zh)["fields"]) == ["screenshot"]
    en = upload(
        world.client(world.vip, language="en"),
        number,
        screenshot=SimpleUploadedFile("transfer.png", b"still not", content_type="image/png"),
    )
    assert error_of(en)["message"] == "The screenshot must be an image (JPEG, PNG, WebP or GIF)."
    missing = vip.client.post(f"/api/v1/orders/{number}/transfer", {"reference": "x"}, headers=vip.headers)
    assert missing.status_code == 422 and "screenshot" in error_of(missing)["fields"]
    assert snapshot() == before
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_a_second_transfer_while_one_waits_is_409(world):
    number = approved(world)
    vip = world.client(world.vip)
    assert upload(vip, number).status_code == 201
    again = upload(vip, number)
    assert again.status_code == 409 and Payment.objects.count() == 1


def test_a_rejected_transfer_needs_a_reason_and_the_buyer_can_send_another(world):
    number = approved(world)
    vip, city = world.client(world.vip), world.client(world.city)
    payment_id = upload(vip, number).json()["payments"][0]["id"]
    before = snapshot()
    no_reason = city.post(f"/fills/{number}/payments/{payment_id}/reject", {"reason": "  "})
    assert no_reason.status_code == 400
    assert error_of(no_reason)["fields"] == {"reason": [error_of(no_reason)["message"]]}
    assert "原因" in error_of(no_reason)["message"]
    assert snapshot() == before
    rejected = city.post(f"/fills/{number}/payments/{payment_id}/reject", {"reason": "没有收到"}).json()
    assert rejected["payments"][0]["status"] == "rejected" and rejected["payments"][0]["note"] == "没有收到"
    assert vip.get(f"/orders/{number}").json()["next_actions"] == ["cancel", "pay_online", "pay_transfer", "pay_wallet"]
    assert upload(vip, number).status_code == 201


# --- refusals when ordering -----------------------------------------------------------------


@pytest.mark.parametrize(
    "line, field",
    [
        ({"sku": "GLOW-30", "quantity": 0}, "lines.0.quantity"),
        ({"sku": "GLOW-30", "quantity": -2}, "lines.0.quantity"),
        ({"sku": "GLOW-30", "quantity": 100000}, "lines.0.quantity"),
        ({"sku": "GLOW-30", "quantity": "three"}, "lines.0.quantity"),
        ({"sku": "GLOW-30"}, "lines.0.quantity"),
        ({"sku": "", "quantity": 1}, "lines.0.sku"),
    ],
)
def test_a_malformed_line_is_422_on_that_field(world, line, field):
    response = world.client(world.vip).post("/orders", {"lines": [line]})
    assert response.status_code == 422 and field in error_of(response)["fields"]
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    "path, body",
    [
        ("/orders", '{"lines": [{"sku": "GLOW-30\\u0000", "quantity": 1}]}'),
        ("/orders", '{"lines": [{"sku": "\\ud800", "quantity": 1}]}'),
        ("/orders", '{"lines": [{"sku": "GLOW-30", "quantity": 1}], "note": "\\u0000"}'),
        (
            "/pickups",
            '{"sku": "GLOW-30", "quantity": 1, "name": "李\\u0000娜", "phone": "13912345678", "address": "上海"}',
        ),
    ],
)
def test_text_the_database_cannot_store_is_422_not_a_500(world, path, body):
    vip = world.client(world.vip)
    before = snapshot()
    response = vip.client.post(f"/api/v1{path}", body, content_type="application/json", headers=vip.headers)
    assert response.status_code == 422 and error_of(response)["code"] == "invalid"
    assert snapshot() == before


def test_an_order_number_that_cannot_be_one_is_422(world):
    number = place(world)
    vip, city = world.client(world.vip), world.client(world.city)
    for client, path in (
        (vip, "/orders/R1%00"),
        (city, "/fills/R1%00x"),
        (vip, "/pickups/P%ED%A0%80"),
        (vip, "/orders/R-1"),
    ):
        response = client.get(path)
        assert response.status_code == 422 and "number" in error_of(response)["fields"], path
    reason = city.post(f"/fills/{number}/reject", {"reason": "缺\x00货"})
    assert reason.status_code == 422 and list(error_of(reason)["fields"]) == ["reason"]
    assert Order.objects.get(number=number).status == "submitted"


def test_no_lines_is_422(world):
    response = world.client(world.vip).post("/orders", {"lines": []})
    assert response.status_code == 422 and "lines" in error_of(response)["fields"]


def test_an_unknown_product_is_400_on_its_line(world):
    response = world.client(world.vip).post(
        "/orders", {"lines": [{"sku": "GLOW-30", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]}
    )
    assert response.status_code == 400 and list(error_of(response)["fields"]) == ["lines.1.sku"]
    assert "NOPE" in error_of(response)["message"] and Order.objects.count() == 0


def test_below_the_level_minimum_is_400_in_chinese_or_english(world):
    # A 市代 restocks at least 5 units (the company fills: no supplier above this one).
    zh = world.client(world.city).post("/orders", {"lines": [{"sku": "GLOW-30", "quantity": 3}]})
    assert zh.status_code == 400 and "lines" in error_of(zh)["fields"]
    assert "5" in error_of(zh)["message"] and "市代" in error_of(zh)["message"]
    en = world.client(world.city, language="en").post("/orders", {"lines": [{"sku": "GLOW-30", "quantity": 3}]})
    assert error_of(en)["message"] == "A 市代 restock order needs at least 5 units; this one has 3."
    assert Order.objects.count() == 0


def test_purchase_limits_of_the_sku_are_enforced(world):
    world.sku.max_per_order = 4
    world.sku.save()
    response = world.client(world.vip, language="en").post("/orders", {"lines": [{"sku": "GLOW-30", "quantity": 5}]})
    assert response.status_code == 400 and "at most 4 units per order" in error_of(response)["message"]
    assert Order.objects.count() == 0


def test_a_target_level_on_a_restock_order_is_refused(world, levels):
    response = world.client(world.vip).post(
        "/orders", {"kind": "restock", "target_level": "city", "lines": [{"sku": "GLOW-30", "quantity": 1}]}
    )
    assert response.status_code == 400 and list(error_of(response)["fields"]) == ["target_level"]


def test_staff_and_strangers_cannot_order(world, api):
    staff = get_user_model().objects.create_user(username="operations", password="x", is_staff=True)
    response = api(token=token_create(user=staff)[1]).post("/orders", {"lines": [{"sku": "GLOW-30", "quantity": 1}]})
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert api().get("/orders").status_code == 401
    assert api(token="wst_not-a-token").post("/orders", {"lines": []}).status_code == 401
    assert Order.objects.count() == 0


def test_a_suspended_agent_cannot_restock(world):
    world.vip.status = AgentStatus.SUSPENDED
    world.vip.save()
    response = world.client(world.vip).post("/orders", {"lines": [{"sku": "GLOW-30", "quantity": 1}]})
    assert response.status_code == 403 and Order.objects.count() == 0


# --- entry and upgrade orders ---------------------------------------------------------------


def test_an_applicant_places_their_entry_order_by_default(world, make_agent):
    applicant = make_agent("vip", referrer=world.city, entry_paid=False)
    assert applicant.status == AgentStatus.APPLICANT and applicant.entry_due == Decimal("298")
    client = world.client(applicant, language="en")
    short = client.post("/orders", {"lines": [{"sku": "GLOW-30", "quantity": 3}]})  # 240.00 < 298
    assert short.status_code == 400 and "at least ¥298" in error_of(short)["message"]
    created = client.post("/orders", {"lines": [{"sku": "GLOW-30", "quantity": 4}]})
    assert created.status_code == 201
    assert (created.json()["kind"], created.json()["total"]) == ("entry", "320.00")
    restock = client.post("/orders", {"kind": "restock", "lines": [{"sku": "GLOW-30", "quantity": 4}]})
    assert restock.status_code == 403 and "entry order" in error_of(restock)["message"]


def test_an_active_agent_owes_no_entry_order(world):
    response = world.client(world.vip).post("/orders", {"kind": "entry", "lines": [{"sku": "GLOW-30", "quantity": 4}]})
    assert response.status_code == 409 and list(error_of(response)["fields"]) == ["kind"]


def test_an_upgrade_order_is_priced_at_the_target_level(world, make_agent):
    general = make_agent("general", real_name="总代陈静")
    city = make_agent("city", referrer=general)
    vip = make_agent("vip", referrer=city)
    seed_cloud(general, world.sku, 100)
    client = world.client(vip, language="en")
    # 市代 pays 60.00; the top-up is 2000 - 298 = 1702.00, so 28 units (1680.00) are too few.
    short = client.post("/orders", {"target_level": "city", "lines": [{"sku": "GLOW-30", "quantity": 28}]})
    assert short.status_code == 400 and "at least ¥1702" in error_of(short)["message"]
    no_level = client.post("/orders", {"kind": "upgrade", "lines": [{"sku": "GLOW-30", "quantity": 29}]})
    assert no_level.status_code == 400 and error_of(no_level)["message"] == "Choose the level to upgrade to."
    assert list(error_of(no_level)["fields"]) == ["target_level"]
    lower = client.post("/orders", {"target_level": "vip", "lines": [{"sku": "GLOW-30", "quantity": 29}]})
    assert lower.status_code == 400 and list(error_of(lower)["fields"]) == ["target_level"]
    unknown = client.post("/orders", {"target_level": "emperor", "lines": [{"sku": "GLOW-30", "quantity": 1}]})
    assert unknown.status_code == 400 and list(error_of(unknown)["fields"]) == ["target_level"]
    created = client.post("/orders", {"target_level": "city", "lines": [{"sku": "GLOW-30", "quantity": 29}]})
    assert created.status_code == 201
    body = created.json()
    assert (body["kind"], body["total"], body["lines"][0]["unit_price"]) == ("upgrade", "1740.00", "60.00")
    assert body["upgrade_to"] == {"code": "city", "name": "市代"} and body["seller"]["id"] == general.pk
    again = client.post("/orders", {"target_level": "city", "lines": [{"sku": "GLOW-30", "quantity": 29}]})
    assert again.status_code == 409 and "in progress" in error_of(again)["message"]


# --- wrong state ----------------------------------------------------------------------------


def test_actions_in_the_wrong_state_are_409_and_change_nothing(world):
    number = place(world)
    vip, city = world.client(world.vip), world.client(world.city)
    before = snapshot()
    for client, path in [
        (vip, f"/orders/{number}/receive"),
        (city, f"/fills/{number}/fill"),
        (city, f"/fills/{number}/delivered"),
        (city, f"/fills/{number}/refund-approve"),
    ]:
        response = client.post(path, {})
        assert 400 <= response.status_code < 500 and response.status_code != 404, path
        assert error_of(response)
    pay = vip.post(f"/orders/{number}/pay", {"method": "wallet"})
    assert pay.status_code == 409 and error_of(pay)["code"] == "conflict"
    assert upload(vip, number).status_code == 409
    assert snapshot() == before
    assert city.post(f"/fills/{number}/approve").status_code == 200
    twice = city.post(f"/fills/{number}/approve")
    assert twice.status_code == 409 and error_of(twice)["code"] == "wrong_status"


def test_rejecting_needs_a_reason_in_the_callers_language(world):
    number = place(world)
    before = snapshot()
    zh = world.client(world.city).post(f"/fills/{number}/reject", {})
    assert zh.status_code == 400 and error_of(zh)["fields"] == {"reason": ["请填写驳回原因。"]}
    en = world.client(world.city, language="en").post(f"/fills/{number}/reject", {"reason": ""})
    assert error_of(en)["message"] == "Say why the order is rejected."
    assert snapshot() == before
    rejected = world.client(world.city).post(f"/fills/{number}/reject", {"reason": "缺货"}).json()
    assert rejected["status"] == "rejected" and rejected["next_actions"] == []
    assert world.client(world.vip).get(f"/orders/{number}").json()["status"] == "rejected"


def test_the_buyer_cancels_before_it_is_filled(world):
    number = place(world)
    cancelled = world.client(world.vip).post(f"/orders/{number}/cancel", {"note": "下错了"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert Order.objects.get(number=number).transitions.last().note == "下错了"


def test_cancelling_a_paid_order_returns_the_money_to_the_wallet(world):
    top_up(world.vip, "300")
    number = approved(world)
    vip = world.client(world.vip)
    vip.post(f"/orders/{number}/pay", {"method": "wallet"})
    assert wallet_balance(agent=world.vip) == Decimal("60.00")
    assert vip.post(f"/orders/{number}/cancel", {}).json()["status"] == "cancelled"
    assert wallet_balance(agent=world.vip) == Decimal("300.00")


def test_not_enough_stock_to_fill_is_409_with_the_shortfall_and_changes_nothing(world):
    number = approved(world, units=3)
    vip, city = world.client(world.vip), world.client(world.city)
    top_up(world.vip, "1000")
    vip.post(f"/orders/{number}/pay", {"method": "wallet"})
    stock_move(
        moves=[Move(location_for_agent(world.city, "cloud"), location_singleton("scrap"), world.sku, 49)],
        reason="scrap",
    )
    assert city.get(f"/fills/{number}").json()["shortfalls"] == [
        {"sku": "GLOW-30", "name": "焕颜精华 30ml", "wanted": 3, "on_hand": 1}
    ]
    before = snapshot()
    response = city.post(f"/fills/{number}/fill", {})
    assert response.status_code == 409 and error_of(response)["code"] == "insufficient_stock"
    assert "quantity" in error_of(response)["fields"]
    assert snapshot() == before


def test_a_shop_order_is_filled_shipped_and_marked_delivered_by_its_seller(world):
    order = services.retail_order_submit(
        seller=world.city,
        name="顾客张三",
        phone="13800001234",
        address="杭州市西湖区文三路 8 号",
        lines=[("GLOW-30", 2)],
    )
    payment = services.retail_payment_submit(order=order, phone="13800001234", screenshot=png())
    city = world.client(world.city)
    listed = city.get("/fills").json()["results"]
    assert [(o["number"], o["kind"], o["buyer"], o["next_actions"]) for o in listed] == [
        (order.number, "retail", None, ["payment"])
    ]
    assert listed[0]["ship_to"] == {
        "name": "顾客张三",
        "phone": "13800001234",
        "region": None,  # an M6 client that sends no region still places its order
        "region_name": "",
        "address": "杭州市西湖区文三路 8 号",
    }
    assert listed[0]["total"] == "200.00"  # retail price
    city.post(f"/fills/{order.number}/payments/{payment.pk}/confirm")
    shipped = city.post(f"/fills/{order.number}/fill", {"carrier": "顺丰", "tracking_number": "SF0001"}).json()
    assert shipped["status"] == "fulfilled" and shipped["next_actions"] == ["delivered"]
    assert (shipped["tracking"]["carrier"], shipped["tracking"]["tracking_number"]) == ("顺丰", "SF0001")
    assert cloud(world.city, world.sku) == 48
    delivered = city.post(f"/fills/{order.number}/delivered").json()
    assert delivered["status"] == "completed" and delivered["tracking"]["delivered_at"]


# --- returns --------------------------------------------------------------------------------


def test_a_return_declined_then_asked_again_and_approved(world):
    number = completed(world)
    vip, city = world.client(world.vip), world.client(world.city)
    no_reason = vip.post(f"/orders/{number}/refund", {"reason": ""})
    assert no_reason.status_code == 400 and list(error_of(no_reason)["fields"]) == ["reason"]
    asked = vip.post(f"/orders/{number}/refund", {"reason": "过敏"}).json()
    assert asked["status"] == "refund_requested" and asked["next_actions"] == []
    assert city.get(f"/fills/{number}").json()["next_actions"] == ["refund_approve", "refund_decline"]
    assert city.post(f"/fills/{number}/refund-decline", {}).status_code == 400
    declined = city.post(f"/fills/{number}/refund-decline", {"reason": "已拆封"}).json()
    assert declined["status"] == "completed"
    vip.post(f"/orders/{number}/refund", {"reason": "还是过敏"})
    refunded = city.post(f"/fills/{number}/refund-approve", {"note": "同意"}).json()
    assert refunded["status"] == "refunded"
    assert cloud(world.vip, world.sku) == 0 and cloud(world.city, world.sku) == 50
    assert wallet_balance(agent=world.vip) == Decimal("240.00")


# --- someone else's order -------------------------------------------------------------------

BUYER_CALLS = [
    ("get", "/orders/{n}", None),
    ("post", "/orders/{n}/cancel", {}),
    ("post", "/orders/{n}/pay", {"method": "wallet"}),
    ("post", "/orders/{n}/pay", {"method": "online"}),
    ("post", "/orders/{n}/receive", {}),
    ("post", "/orders/{n}/refund", {"reason": "不想要了"}),
]
SELLER_CALLS = [
    ("get", "/fills/{n}", None),
    ("post", "/fills/{n}/approve", {}),
    ("post", "/fills/{n}/reject", {"reason": "不卖"}),
    ("post", "/fills/{n}/fill", {}),
    ("post", "/fills/{n}/delivered", {}),
    ("post", "/fills/{n}/refund-approve", {}),
    ("post", "/fills/{n}/refund-decline", {"reason": "不退"}),
    ("post", "/fills/{n}/payments/{p}/confirm", {}),
    ("post", "/fills/{n}/payments/{p}/reject", {"reason": "没收到"}),
]


def _call(client: Api, method: str, path: str, body):
    return client.get(path) if method == "get" else client.post(path, body)


@pytest.mark.parametrize("state", ["submitted", "awaiting_transfer"])
def test_someone_elses_order_number_is_404_on_every_endpoint_and_nothing_changes(world, state):
    number = place(world) if state == "submitted" else approved(world)
    payment_id = 0
    if state == "awaiting_transfer":
        payment_id = upload(world.client(world.vip), number).json()["payments"][0]["id"]
    stranger_buyer, stranger_seller = world.client(world.other_vip), world.client(world.other_city)
    buyer_as_seller, seller_as_buyer = world.client(world.vip), world.client(world.city)
    before = snapshot()
    for client in (stranger_buyer, seller_as_buyer, stranger_seller):
        for method, path, body in BUYER_CALLS:
            response = _call(client, method, path.format(n=number), body)
            assert response.status_code == 404 and error_of(response)["code"] == "not_found", path
        response = upload(client, number)
        assert response.status_code == 404, "transfer"
    for client in (stranger_seller, buyer_as_seller, stranger_buyer):
        for method, path, body in SELLER_CALLS:
            response = _call(client, method, path.format(n=number, p=payment_id or 1), body)
            assert response.status_code == 404 and error_of(response)["code"] == "not_found", path
    assert snapshot() == before
    listed = [
        o["number"]
        for c in (stranger_buyer, seller_as_buyer, stranger_seller)
        for o in c.get("/orders").json()["results"]
    ]
    listed += [
        o["number"]
        for c in (stranger_seller, buyer_as_seller, stranger_buyer)
        for o in c.get("/fills", {"all": "true"}).json()["results"]
    ]
    assert number not in listed


def test_a_payment_of_another_order_is_404_under_mine(world):
    mine = approved(world)
    theirs = approved(world, buyer=world.other_vip)
    their_payment = upload(world.client(world.other_vip), theirs).json()["payments"][0]["id"]
    upload(world.client(world.vip), mine)
    before = snapshot()
    city = world.client(world.city)
    for action, body in (("confirm", {}), ("reject", {"reason": "x"})):
        response = city.post(f"/fills/{mine}/payments/{their_payment}/{action}", body)
        assert response.status_code == 404
    huge = city.post(f"/fills/{mine}/payments/{2**70}/confirm", {})
    assert huge.status_code == 422
    assert snapshot() == before


# --- idempotency, caching, lists ------------------------------------------------------------


def test_a_retry_with_the_same_idempotency_key_creates_one_order(world):
    vip = world.client(world.vip)
    key = str(uuid.uuid4())
    body = {"lines": [{"sku": "GLOW-30", "quantity": 2}]}
    first = vip.post("/orders", body, **{"Idempotency-Key": key})
    again = vip.post("/orders", body, **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    other = vip.post("/orders", body, **{"Idempotency-Key": str(uuid.uuid4())})
    assert other.status_code == 201 and Order.objects.count() == 2


def test_a_retried_transfer_upload_sends_one_payment(world):
    number = approved(world)
    vip = world.client(world.vip)
    key = str(uuid.uuid4())
    first = vip.client.post(
        f"/api/v1/orders/{number}/transfer", {"screenshot": png()}, headers={**vip.headers, "Idempotency-Key": key}
    )
    again = vip.client.post(
        f"/api/v1/orders/{number}/transfer", {"screenshot": png()}, headers={**vip.headers, "Idempotency-Key": key}
    )
    assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1


def test_a_polled_order_answers_304_until_it_changes(world):
    number = place(world)
    vip = world.client(world.vip)
    first = vip.get(f"/orders/{number}")
    etag = first["ETag"]
    assert etag
    unchanged = vip.get(f"/orders/{number}", **{"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    world.client(world.city).post(f"/fills/{number}/approve")
    changed = vip.get(f"/orders/{number}", **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["status"] == "awaiting_payment"


def test_my_orders_come_in_cursor_pages_newest_first_with_filters(world):
    numbers = [place(world, units) for units in (1, 2, 3, 4, 5)]
    vip = world.client(world.vip)
    world.client(world.city).post(f"/fills/{numbers[0]}/approve")
    page = vip.get("/orders", {"page_size": 2}).json()
    seen = [o["number"] for o in page["results"]]
    assert seen == numbers[:2:-1][:2] and page["previous"] is None
    while page["next"]:
        page = vip.client.get(page["next"], headers=vip.headers).json()
        seen += [o["number"] for o in page["results"]]
    assert seen == numbers[::-1]
    assert [o["number"] for o in vip.get("/orders", {"status": "awaiting_payment"}).json()["results"]] == [numbers[0]]
    assert vip.get("/orders", {"kind": "upgrade"}).json()["results"] == []

    Order.objects.filter(number=numbers[1]).update(created_at="2026-01-10T12:00:00+08:00")
    Order.objects.filter(number=numbers[2]).update(created_at="2026-01-11T00:30:00+08:00")
    in_jan = vip.get("/orders", {"created_after": "2026-01-10", "created_before": "2026-01-11"}).json()
    assert [o["number"] for o in in_jan["results"]] == [numbers[1]]
    assert [o["number"] for o in vip.get("/orders", {"created_before": "2026-01-12"}).json()["results"]] == [
        numbers[2],
        numbers[1],
    ]
    assert vip.get("/orders", {"created_after": "0001-01-01", "created_before": "9999-12-31"}).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": "cD1hYmM="},
        {"status": "lost"},
        {"created_after": "yesterday"},
        {"kind": "pickup"},
    ],
)
def test_bad_list_parameters_are_422(world, params):
    response = world.client(world.vip).get("/orders", params)
    assert response.status_code == 422 and error_of(response)["code"] == "invalid"


def test_a_list_costs_the_same_queries_for_2_orders_or_12(world):
    vip = world.client(world.vip)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert vip.get("/orders", {"page_size": 100}).status_code == 200
        return len(ctx.captured_queries)

    for units in (1, 2):
        number = approved(world, units)
        upload(vip, number)
    few = count()
    for units in range(1, 11):
        number = approved(world, units)
        upload(vip, number)
    assert count() == few


def test_the_order_says_where_to_pay_and_its_qr_code_is_for_the_buyer_only(world):
    """M7 item 11 through the API: GET /orders/{number} waiting for payment lists the seller's
    receiving accounts; the QR code answers only to a buyer with an order to pay its owner."""
    account = services.receiving_account_save(
        by=world.city.user, agent=world.city, data={"kind": "wechat", "holder": "王芳"}, qr_image=png("qr.png")
    )
    number = approved(world)
    vip = world.client(world.vip)
    order = vip.get(f"/orders/{number}").json()
    assert order["pay_to"] == [
        {
            "kind": "wechat",
            "kind_display": "微信",
            "holder": "王芳",
            "account_number": "",
            "bank": "",
            "note": "",
            "qr_url": f"http://testserver/api/v1/receiving-accounts/{account.pk}/qr",
        }
    ]
    qr = f"/receiving-accounts/{account.pk}/qr"
    shown = Api(token=token_create(user=world.vip.user, device="测试")[1]).get(qr)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    stranger = Api(token=token_create(user=world.other_vip.user, device="测试")[1])
    assert stranger.get(qr).status_code == 404
    assert stranger.get("/receiving-accounts/99999/qr").status_code == 404
    # Cancelled: nothing to pay, no accounts, and the QR code is not the buyer's business any more.
    assert vip.post(f"/orders/{number}/cancel", {}).status_code == 200
    assert vip.get(f"/orders/{number}").json()["pay_to"] is None
    assert Api(token=token_create(user=world.vip.user, device="测试")[1]).get(qr).status_code == 404


def test_each_step_answers_the_order_exactly_as_reading_it_again_does(world, make_agent):
    """The answers of the hot path are built from what the request already holds (the order just
    submitted answers from its lines, the agent comes with the token): each must be, byte for byte,
    the order as GET reads it afterwards — restock and upgrade orders, with a gift-free campaign-less
    order of several lines, then approved, paid from the wallet and filled (docs/benchmarks.md, M13)."""
    vip, city = world.client(world.vip), world.client(world.city)
    second = SKU.objects.create(
        product=world.sku.product, code="GLOW-50", name="焕颜精华 50ml", retail_price=Decimal("150")
    )
    seed_cloud(world.city, second, 20)
    top_up(world.vip, "5000.00")

    created = vip.post(
        "/orders",
        {
            "lines": [
                {"sku": "GLOW-30", "quantity": 2},
                {"sku": "GLOW-50", "quantity": 1},
                {"sku": "GLOW-30", "quantity": 1},
            ]
        },
        **{"Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    assert created.json() == vip.get(f"/orders/{number}").json()
    assert [line["quantity"] for line in created.json()["lines"]] == [3, 1]

    approved_order = city.post(f"/fills/{number}/approve")
    assert approved_order.json() == city.get(f"/fills/{number}").json()
    paid = vip.post(f"/orders/{number}/pay", {"method": "wallet"}, **{"Idempotency-Key": str(uuid.uuid4())})
    assert paid.status_code == 200, paid.content
    assert paid.json()["order"] == vip.get(f"/orders/{number}").json()
    assert paid.json()["order"]["payments"][0]["amount"] == "360.00"
    filled = city.post(f"/fills/{number}/fill", {})
    assert filled.json()["status"] == "completed"
    assert filled.json() == city.get(f"/fills/{number}").json()

    # An upgrade order (its target level in the answer) answers as it reads back too.
    upgrade = vip.post(
        "/orders", {"kind": "upgrade", "target_level": "city", "lines": [{"sku": "GLOW-30", "quantity": 40}]}
    )
    assert upgrade.status_code == 201, upgrade.content
    assert upgrade.json()["upgrade_to"]["code"] == "city"
    assert upgrade.json() == vip.get(f"/orders/{upgrade.json()['number']}").json()
