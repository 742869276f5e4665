"""Security codes in the console (M9): the warehouse prints a batch and downloads it as the print
shop's CSV and as a QR label sheet (read back: the CSV's rows, the PDF's pages, codes and QR
pictures), scans codes onto a pick-up, and operations closes a channel-conflict case. Each page
refuses the roles that may not use it."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from pypdf import PdfReader

from weishang.codes import symbols
from weishang.codes.models import ChannelConflict, CodeBatch, CodeMove
from weishang.codes.services import batch_create, code_check
from weishang.core.roles import roles_sync
from weishang.trade import services as trade

from .test_codes import owner, world  # noqa: F401 - the fixture, reused

pytestmark = pytest.mark.django_db
STAFF_PASSWORD = "staff-pass-123"


@pytest.fixture
def staff(db, django_user_model):
    groups = roles_sync()

    def make(role: str) -> Client:
        user = django_user_model.objects.create_user(username=f"{role}-user", password=STAFF_PASSWORD, is_staff=True)
        user.groups.add(groups[role])
        client = Client()
        client.force_login(user)
        return client

    return make


def pdf_text(body: bytes) -> list[str]:
    # pypdf reads fpdf2's embedded CJK font with a NUL between characters.
    return [page.extract_text().replace("\x00", "") for page in PdfReader(io.BytesIO(body)).pages]


def test_the_warehouse_prints_a_batch_and_downloads_csv_and_labels(world, staff):  # noqa: F811
    warehouse = staff("warehouse")
    page = warehouse.get("/console/codes/codebatch/")
    assert page.status_code == 200 and "生成码批次" in page.content.decode()
    made = warehouse.post(
        "/console/codes/codebatch/new/", {"sku": world["sku"].pk, "boxes": "3", "per_box": "12", "note": "首批"}
    )
    assert made.status_code == 302
    batch = CodeBatch.objects.exclude(pk=world["batch"].pk).get()
    assert (batch.boxes, batch.per_box, batch.items) == (3, 12, 36)

    sheet = warehouse.get(f"/console/codes/codebatch/{batch.pk}/codes.csv")
    assert sheet["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows[0] == ["批次", "规格（SKU）", "箱码", "单品码", "查询链接"]
    assert len(rows) == 37 and len({r[3] for r in rows[1:]}) == 36 and len({r[2] for r in rows[1:]}) == 3
    assert all(symbols.well_formed(r[3]) and r[4].endswith(f"/verify/?code={r[3]}") for r in rows[1:])

    labels = warehouse.get(f"/console/codes/codebatch/{batch.pk}/labels.pdf")
    assert labels["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(labels.content))
    assert len(reader.pages) == 3  # a page per box: its label and its 12 items
    texts = pdf_text(labels.content)
    first_box = rows[1][2]
    assert symbols.grouped(first_box) in texts[0] and "焕颜精华 30ml" in texts[0]
    assert symbols.grouped(rows[1][3]) in texts[0]
    assert len(reader.pages[0].images) == 13  # the box's QR code and its items'

    bad = warehouse.post("/console/codes/codebatch/new/", {"sku": world["sku"].pk, "boxes": "1000", "per_box": "200"})
    assert bad.status_code == 400 and "最多" in bad.content.decode()
    assert CodeBatch.objects.count() == 2


def test_a_batch_too_large_for_labels_is_sent_to_the_csv(world, staff):  # noqa: F811
    big = batch_create(sku=world["sku"], boxes=30, per_box=100, by=owner())
    response = staff("owner").get(f"/console/codes/codebatch/{big.pk}/labels.pdf", follow=True)
    assert "请下载 CSV" in response.content.decode()


@pytest.mark.parametrize("role", ["finance", "lecturer"])
def test_roles_without_codes_are_refused(world, staff, role):  # noqa: F811
    client = staff(role)
    for url in (
        "/console/codes/codebatch/",
        "/console/codes/codebatch/new/",
        f"/console/codes/codebatch/{world['batch'].pk}/codes.csv",
        "/console/codes/channelconflict/",
    ):
        assert client.get(url).status_code == 403, url


def test_agents_and_strangers_never_reach_the_codes_console(world):  # noqa: F811
    agent = Client()
    agent.force_login(world["city"].user)
    for client in (agent, Client()):
        response = client.get("/console/codes/codebatch/new/")
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_warehouse_scans_a_pick_up_and_operations_closes_the_case(world, staff):  # noqa: F811
    vip = world["vip"]
    from weishang.trade.stock import Move, location_for_agent, location_singleton, stock_move

    stock_move(
        moves=[Move(location_singleton("supplier"), location_for_agent(vip, "cloud"), world["sku"], 3)], reason="r"
    )
    pickup = trade.pickup_request(
        agent=vip,
        lines=[("GLOW-30", 2)],
        by=vip.user,
        name="顾客",
        phone="13912345678",
        region="510104",
        address="春熙路",
    )
    items = list(world["batch"].item_codes.values_list("code", flat=True)[:2])
    warehouse = staff("warehouse")
    scan = warehouse.post("/console/codes/codebatch/scan/", {"order": pickup.number, "codes": "\n".join(items)})
    assert scan.status_code == 302
    assert CodeMove.objects.filter(order=pickup).count() == 2
    again = warehouse.post("/console/codes/codebatch/scan/", {"order": "NOPE", "codes": items[0]})
    assert again.status_code == 400 and "没有这个订单号" in again.content.decode()

    cases = ChannelConflict.objects.filter(kind="sold_elsewhere")  # a 杭州 特约's goods sent to 成都
    assert cases.count() == 2
    case = cases.first()
    assert warehouse.get(f"/console/codes/channelconflict/{case.pk}/handle/").status_code == 403
    operations = staff("operations")
    detail = operations.get(f"/console/codes/channelconflict/{case.pk}/change/").content.decode()
    assert 'data-testid="code-trail"' in detail and "四川省 成都市 锦江区" in detail
    refused = operations.post(f"/console/codes/channelconflict/{case.pk}/handle/", {"status": "handled", "note": ""})
    assert refused.status_code == 400
    done = operations.post(
        f"/console/codes/channelconflict/{case.pk}/handle/", {"status": "handled", "note": "已电话警告"}
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.note) == ("handled", "已电话警告")


def test_an_item_code_is_found_as_scanned_and_shows_its_trail(world, staff):  # noqa: F811
    code = world["batch"].item_codes.first()
    code_check(text=code.code, region="510104")
    client = staff("owner")
    found = client.get("/console/codes/itemcode/", {"q": symbols.grouped(code.code).lower()}).content.decode()
    assert code.code in found
    detail = client.get(f"/console/codes/itemcode/{code.pk}/change/").content.decode()
    assert "尚未出库" in detail and "四川省 成都市 锦江区" in detail


def test_the_pick_up_page_offers_the_scan_as_one_of_its_steps(world, staff):  # noqa: F811
    """The scan is a step of the order workflow: the console's order page lists it for a pick-up
    waiting to ship, and its page takes the codes."""
    from django.urls import reverse

    from weishang.trade.stock import Move, location_for_agent, location_singleton, stock_move

    vip = world["vip"]
    stock_move(
        moves=[Move(location_singleton("supplier"), location_for_agent(vip, "cloud"), world["sku"], 2)], reason="r"
    )
    pickup = trade.pickup_request(
        agent=vip,
        lines=[("GLOW-30", 1)],
        by=vip.user,
        name="顾客",
        phone="13912345678",
        region="330106",
        address="文三路",
    )
    warehouse = staff("warehouse")
    page = warehouse.get(reverse("admin:trade_order_change", args=[pickup.pk])).content.decode()
    url = reverse("admin:trade_order_scan_pickup_codes", args=[pickup.pk])
    assert url in page and "扫防伪码" in page
    code = world["batch"].item_codes.first().code
    assert warehouse.post(url, {"codes": code}).status_code == 302
    assert CodeMove.objects.get().order == pickup
    assert not ChannelConflict.objects.exists()  # 杭州's 特约, a customer in 杭州
    assert staff("finance").get(url).status_code == 403
