"""CSV and XLSX exports of the console lists: what the list shows (its filters and search), with
headers a person reads in the page's language, money to the fen, and only for staff who may
see the list."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest
from console_helpers import D, company_transfer, give_rewards, topup, withdraw
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.stock_helpers import receive
from weishang.channel.services import application_submit
from weishang.ledger import services as ledger
from weishang.rewards.models import PlanVersion, RewardKind, RewardLine, RewardStatus
from weishang.trade import services as trade
from weishang.trade import stock
from weishang.trade.models import LocationKind

CSV_FORMAT, XLSX_FORMAT = "0", "1"


def export(client, model: str, fmt: str, query: str = ""):
    """Press "Export" on the list ``model`` ("channel_agent") with ``query`` applied, choose the format."""
    url = reverse(f"admin:{model}_export") + (f"?{query}" if query else "")
    form = client.get(url)
    assert form.status_code == 200, form.status_code
    return client.post(url, {"format": fmt, "resource": "0"})


def read_csv(response) -> list[dict]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 Chinese only with the BOM
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def read_xlsx(response) -> tuple[list[dict], openpyxl.worksheet.worksheet.Worksheet]:
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;") and ".xlsx" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]], sheet


def money(value) -> Decimal:
    """A spreadsheet cell or CSV text as the amount a person reads."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"


# --- agents and applications ----------------------------------------------------------------


def test_agents_xlsx_is_the_filtered_and_searched_list(client, owner, make_agent, levels):
    a = make_agent("vip", real_name="王静", phone="13500000001")
    make_agent("vip", real_name="李娜")
    make_agent("city", real_name="王芳")
    make_agent("vip", real_name="王丽", referrer=a)
    client.force_login(owner)
    rows, sheet = read_xlsx(export(client, "channel_agent", XLSX_FORMAT, f"level__id__exact={levels['vip'].pk}&q=王"))
    assert sorted(r["真实姓名"] for r in rows) == ["王丽", "王静"]
    first = next(r for r in rows if r["真实姓名"] == "王静")
    assert first["手机号"] == "13500000001"  # in full: staff see it on the page too
    assert first["等级"] == "特约"
    assert isinstance(first["加入时间"], datetime)
    second = next(r for r in rows if r["真实姓名"] == "王丽")
    assert second["推荐人"] == "王静"
    assert sheet.freeze_panes == "A2"


def test_agents_csv_in_english(client, owner, make_agent, english):
    make_agent("vip", real_name="王静", phone="13500000002")
    client.force_login(owner)
    rows = read_csv(export(client, "channel_agent", CSV_FORMAT))
    assert list(rows[0]) == [
        "agent id",
        "real name",
        "phone",
        "level",
        "status",
        "supplier",
        "referrer",
        "referrer's phone",
        "introducer",
        "invite code",
        "entry order owed",
        "joined",
    ]
    assert rows[0]["real name"] == "王静" and rows[0]["phone"] == "13500000002"
    assert rows[0]["status"] == "Active" and rows[0]["supplier"] == "the company"
    assert rows[0]["entry order owed"] == "0.00"


def test_applications_csv(client, owner, levels, english):
    application_submit(
        invite_code=None, phone="13600000009", real_name="陈静", level_code="general", password="pass-word-1"
    )
    client.force_login(owner)
    rows = read_csv(export(client, "channel_application", CSV_FORMAT, "status__exact=pending"))
    assert [(r["real name"], r["phone"], r["level applied for"], r["status"]) for r in rows] == [
        ("陈静", "13600000009", "总代", "Pending")
    ]
    assert "ID number" not in rows[0]


# --- trade ----------------------------------------------------------------------------------


def test_orders_csv_has_the_items_and_exact_totals(client, owner, make_agent, sku, english):
    receive(sku, 100)
    paid = company_transfer(make_agent("vip", real_name="王静"), sku, 5, by=owner)
    waiting = trade.order_submit(buyer=make_agent("vip", real_name="李娜"), lines=[(sku, 2)], by=None)
    client.force_login(owner)
    rows = read_csv(export(client, "trade_order", CSV_FORMAT, "status__exact=paid"))
    assert len(rows) == 1
    row = rows[0]
    assert row["order number"] == paid.number and row["buyer / customer"] == "王静"
    assert row["items"] == "GLOW-30ML × 5" and row["total"] == "400.00" and row["filled by"] == "the company"
    assert row["status"] == "Paid"
    everything = read_csv(export(client, "trade_order", CSV_FORMAT))
    assert {r["order number"] for r in everything} == {paid.number, waiting.number}


def test_payments_xlsx_amounts_are_exact(client, owner, finance, make_agent):
    agent = make_agent("vip", real_name="王静")
    topup(agent, "100.00", by=finance)
    topup(agent, "250.55", by=finance)
    client.force_login(owner)
    rows, sheet = read_xlsx(export(client, "trade_payment", XLSX_FORMAT, "status__exact=confirmed"))
    amounts = sorted(money(r["金额"]) for r in rows)
    assert amounts == [D("100.00"), D("250.55")] and sum(amounts) == D("350.55")
    amount_column = [c.column for c in sheet[1] if c.value == "金额"][0]
    assert sheet.cell(2, amount_column).number_format == "#,##0.00"


def test_stock_on_hand_and_moves(client, owner, make_agent, sku, levels, english):
    vip = make_agent("vip", real_name="王静")
    receive(sku, 12, into=stock.location_for_agent(vip, LocationKind.CLOUD))
    receive(sku, 40)
    client.force_login(owner)
    rows = read_csv(
        export(
            client,
            "trade_stocklevel",
            CSV_FORMAT,
            f"location__kind__exact=cloud&location__agent__level__id__exact={levels['vip'].pk}",
        )
    )
    assert [(r["agent"], r["agent's level"], r["SKU"], r["on hand"]) for r in rows] == [
        ("王静", "特约", "GLOW-30ML", "12")
    ]
    moves = read_csv(export(client, "trade_stockmove", CSV_FORMAT, "reason__exact=receipt"))
    assert sorted(int(r["units"]) for r in moves) == [12, 40]
    assert all(r["reason"] == "Received from a supplier" for r in moves)


# --- rewards and withdrawals ----------------------------------------------------------------


def test_reward_lines_csv(client, owner, make_agent, english):
    agent = make_agent("vip", real_name="王静")
    plan = PlanVersion.objects.create(
        plan_id="p", version=1, name="方案", kind="retail", jurisdiction="cn", source="x", sha256="0" * 64
    )
    RewardLine.objects.create(
        beneficiary=agent,
        amount=D("57.50"),
        kind=RewardKind.REWARD,
        rule_id="retail-share",
        plan=plan,
        source_event="e1",
        status=RewardStatus.FROZEN,
        explanation_zh="¥57.50 = …",
        explanation_en="¥57.50 = … (en)",
    )
    client.force_login(owner)
    rows = read_csv(export(client, "rewards_rewardline", CSV_FORMAT, "status__exact=frozen"))
    assert [(r["beneficiary"], r["amount"], r["rule"], r["explanation"]) for r in rows] == [
        ("王静", "57.50", "retail-share", "¥57.50 = … (en)")
    ]


def test_withdrawals_xlsx_has_the_full_account_for_paying(client, finance, make_agent):
    one, two = make_agent("vip", real_name="王静"), make_agent("vip", real_name="李娜")
    give_rewards(one, "500.00")
    give_rewards(two, "500.00")
    first = withdraw(one, "123.45", account_no="6222020200112233445")
    withdraw(two, "99.99")
    ledger.withdrawal_approve(withdrawal=first, by=finance)
    client.force_login(finance)
    rows, _sheet = read_xlsx(export(client, "ledger_withdrawal", XLSX_FORMAT, "status__exact=approved"))
    assert len(rows) == 1
    assert rows[0]["代理"] == "王静" and rows[0]["账户"] == "6222020200112233445"
    assert money(rows[0]["金额"]) == D("123.45")


# --- who may export, and at what cost ---------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "model"),
    [
        ("warehouse", "ledger_withdrawal"),
        ("lecturer", "channel_agent"),
        (None, "trade_order"),
        ("operations", "rewards_rewardline"),
    ],
)
def test_staff_without_the_view_permission_cannot_export(client, staff, make_agent, role, model):
    client.force_login(staff(role))
    url = reverse(f"admin:{model}_export")
    assert client.get(url).status_code == 403
    assert client.post(url, {"format": CSV_FORMAT, "resource": "0"}).status_code == 403


def test_an_agent_cannot_reach_an_export(client, make_agent):
    agent = make_agent("vip")
    client.force_login(agent.user)
    response = client.post(reverse("admin:channel_agent_export"), {"format": CSV_FORMAT, "resource": "0"})
    assert response.status_code == 302 and "login" in response["Location"]


def test_finance_exports_what_it_may_view(client, finance, levels):
    application_submit(
        invite_code=None, phone="13600000008", real_name="陈静", level_code="general", password="pass-word-1"
    )
    client.force_login(finance)
    assert len(read_csv(export(client, "channel_application", CSV_FORMAT))) == 1
    page = client.get(reverse("admin:channel_application_changelist")).content.decode()
    assert reverse("admin:channel_application_export") in page  # the button is on the list


def test_an_export_costs_the_same_queries_for_3_or_30_orders(client, owner, make_agent, sku):
    receive(sku, 500)
    client.force_login(owner)

    def queries() -> int:
        url = reverse("admin:trade_order_export")
        with CaptureQueriesContext(connection) as captured:
            assert client.post(url, {"format": XLSX_FORMAT, "resource": "0"}).status_code == 200
        return len(captured.captured_queries)

    for _ in range(3):
        trade.order_submit(buyer=make_agent("vip"), lines=[(sku, 1)], by=None)
    few = queries()
    for _ in range(27):
        trade.order_submit(buyer=make_agent("vip"), lines=[(sku, 1)], by=None)
    assert queries() == few
