"""Golden scenarios: docs/golden-scenarios.md worked out by hand, replayed through the real services.

The expected tables are read from the page (the fenced block after each
``<!-- golden:SCENARIO:TABLE -->`` comment), so the page and this test cannot drift: every reward
line, order, ledger balance, settlement run and report the services produce must be listed there,
and nothing else.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from tests import stock_helpers
from weishang.channel import services as channel_services
from weishang.channel.models import Agent, Level
from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.ledger.models import Account, Purpose
from weishang.ledger.selectors import ledger_verify
from weishang.plans import period_label
from weishang.rewards.models import RewardLine, SettlementReport, SettlementRun
from weishang.rewards.periods import parse_period
from weishang.rewards.services import rewards_process, rewards_release, settle_period
from weishang.trade import services as trade
from weishang.trade import stock
from weishang.trade.models import LocationKind, Order, OrderKind, OrderStatus
from weishang.trade.providers.fake import FakeProvider

DOC = Path(__file__).resolve().parents[2] / "docs" / "golden-scenarios.md"
_BLOCK = re.compile(r"<!-- golden:(?P<scenario>[\w-]+):(?P<table>[\w-]+) -->\s*```[^\n]*\n(?P<body>.*?)```", re.S)
_IGNORED = {"arithmetic", "note"}
CENT = Decimal("0.01")
_phones = itertools.count(1)


# --- the page ---------------------------------------------------------------------------------


@cache
def golden_tables() -> dict[tuple[str, str], list[dict[str, str]]]:
    """{(scenario, table): rows as {column: text}}, read from docs/golden-scenarios.md."""
    tables = {}
    for found in _BLOCK.finditer(DOC.read_text(encoding="utf-8")):
        lines = [line for line in found["body"].splitlines() if line.strip() and not set(line) <= set("-|: ")]
        header = [cell.strip() for cell in lines[0].split("|")]
        rows = []
        for line in lines[1:]:
            cells = [cell.strip() for cell in line.split("|")]
            cells += [""] * (len(header) - len(cells))
            rows.append({h: c for h, c in zip(header, cells, strict=True) if h not in _IGNORED})
        key = (found["scenario"], found["table"])
        assert key not in tables, f"{key} is written twice in {DOC.name}"
        tables[key] = rows
    return tables


def table(scenario: str, name: str) -> list[dict[str, str]]:
    return golden_tables()[(scenario, name)]


def money(text: str) -> Decimal:
    return Decimal(text.replace(",", "") or "0").quantize(CENT)


def test_the_page_has_every_table_for_both_plan_kinds():
    names = {"tree", "orders", "lines", "ledger", "runs", "reports"}
    assert set(golden_tables()) == {(s, t) for s in ("tiered", "social") for t in names}
    for (scenario, name), rows in golden_tables().items():
        assert rows, f"golden:{scenario}:{name} is empty"


# --- driving the services -----------------------------------------------------------------------


@pytest.fixture
def staff(db):
    user = get_user_model().objects.create_user(username="warehouse", password="pass-word-1", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="trade", codename__in=("change_order", "change_payment"))
    )
    return get_user_model().objects.get(pk=user.pk)


class Channel:
    """Agents by name and orders by label, made through the services, and the label of every
    outbox event a reward line can come from."""

    def __init__(self, staff):
        self.staff = staff
        self.agents: dict[str, Agent] = {}
        self.orders: dict[str, Order] = {}
        self.sources: dict[str, str] = {}
        self.names: dict[int, str] = {}

    def agent(
        self,
        name: str,
        level: str,
        *,
        referrer: str | None = None,
        applicant: bool = False,
        supplier: str | None = None,
    ) -> Agent:
        chosen = "auto" if supplier is None else self.agents[supplier]
        agent = channel_services.agent_create(
            phone=f"137{next(_phones):08d}",
            real_name=name,
            level=Level.objects.get(code=level),
            referrer=self.agents[referrer] if referrer else None,
            supplier=chosen,
            password="pass-word-1",
            entry_paid=not applicant,
        )
        self.agents[name], self.names[agent.pk] = agent, name
        self.sources[f"agent.joined:{agent.pk}"] = f"join:{name}"
        rewards_process()
        return agent

    def fresh(self, name: str) -> Agent:
        self.agents[name] = Agent.objects.select_related("level", "user").get(pk=self.agents[name].pk)
        return self.agents[name]

    def _label(self, label: str, order: Order) -> Order:
        self.orders[label] = order
        self.sources[f"order.completed:{order.number}"] = label
        return order

    def buy(self, label: str, buyer: str, lines, kind: str = OrderKind.RESTOCK) -> Order:
        """An agent's order placed, approved, paid, filled and (own stock) received: completed."""
        agent = self.fresh(buyer)
        order = trade.order_submit(buyer=agent, lines=lines, kind=kind, by=agent.user)
        seller_side = order.seller.user if order.seller_id else self.staff
        trade.order_approve(order=order, by=seller_side)
        pay(order)
        trade.order_fill(order=order, by=seller_side)
        order.refresh_from_db()
        if order.status == OrderStatus.FULFILLED:  # shipped to the agent's own stock
            trade.order_confirm_receipt(order=order, by=agent.user)
            order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        rewards_process()
        return self._label(label, order)

    def retail(self, label: str, seller: str, customer: str, phone: str, lines) -> Order:
        """A consumer orders in the agent's shop, pays online; the agent ships and marks it delivered."""
        agent = self.fresh(seller)
        order = trade.retail_order_submit(
            seller=agent, name=customer, phone=phone, address="上海市徐汇区 1 号", lines=lines
        )
        pay(order)
        trade.order_fill(order=order, by=agent.user, carrier="顺丰", tracking_number="SF0001")
        trade.order_mark_delivered(order=order, by=agent.user)
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        rewards_process()
        return self._label(label, order)

    def refund(self, label: str, note: str = "不想要了") -> Order:
        order = self.orders[label]
        trade.refund_request(order=order, by=order.buyer.user, note=note)
        trade.refund_approve(order=order, by=order.seller.user if order.seller_id else self.staff)
        rewards_process()
        order.refresh_from_db()
        return order

    def close(self, kind: str) -> SettlementRun:
        """Settle the month (or quarter) the orders completed in, the day after it ends."""
        days = {timezone.localtime(o.completed_at).date() for o in self.orders.values()}
        periods = {period_label(kind, day) for day in days}
        assert periods == {period_label(kind, clock.today())}  # the clock was set mid-month (mid_month)
        label = periods.pop()
        _kind, _start, end = parse_period(label)
        with pytest.raises(BusinessError):  # not before the period is over
            settle_period(period=label, today=end)
        self.sources[f"period:{label}"] = kind
        return settle_period(period=label, today=end + timedelta(days=1))

    def name(self, agent_id: int | None, none: str = "-") -> str:
        return none if agent_id is None else self.names[agent_id]


@pytest.fixture(autouse=True)
def _mid_month(mid_month):
    """Every scenario here runs on the domain's clock set mid-month (tests/rewards/conftest.py),
    before its plan is activated: its month and quarter are one, on any day the suite runs."""


def pay(order: Order) -> None:
    body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=int(order.total * 100))
    trade.payment_credit_from_provider(notice=FakeProvider().parse_notification(headers, body))


def receive(location, sku_code: str, units: int) -> None:
    """``units`` of the SKU with code ``sku_code`` arrive from the supplier into ``location``."""
    from weishang.catalog.models import SKU

    stock_helpers.receive(SKU.objects.get(code=sku_code), units, into=location)


def warehouse():
    return stock.location_singleton(LocationKind.WAREHOUSE)


# --- comparing with the page --------------------------------------------------------------------


def _diff(actual: Counter, expected: Counter) -> str:
    missing = sorted((expected - actual).elements())
    extra = sorted((actual - expected).elements())
    return f"\n  in the page, not in the database: {missing!r}\n  in the database, not in the page: {extra!r}"


def check_tree(ch: Channel, scenario: str) -> None:
    rows = table(scenario, "tree")
    assert {row["agent"] for row in rows} == set(ch.agents)
    for row in rows:
        agent = ch.fresh(row["agent"])
        assert agent.level.code == row["final level"], row
        assert ch.name(agent.referrer_id) == row["referrer"], row
        assert ch.name(agent.supplier_id, "company") == row["supplier"], row
        entry = Order.objects.filter(buyer=agent, kind=OrderKind.ENTRY).exists()
        assert entry == (row["joins as"] == "applicant"), row
        if not entry:
            assert row["joins as"] == row["final level"], row


def _items(text: str) -> dict[str, int]:
    items = {}
    for part in text.split():
        qty, sku = part.split("×")
        items[sku] = items.get(sku, 0) + int(qty)
    return items


def check_orders(ch: Channel, scenario: str) -> None:
    rows = table(scenario, "orders")
    assert [row["order"] for row in rows] == list(ch.orders)
    assert Order.objects.count() == len(rows)
    for row in rows:
        order = Order.objects.get(pk=ch.orders[row["order"]].pk)
        lines = {}
        for code, qty in order.lines.values_list("sku__code", "quantity"):
            lines[code] = lines.get(code, 0) + qty
        actual = (
            order.kind,
            ch.name(order.buyer_id),
            ch.name(order.seller_id, "company"),
            lines,
            order.total,
            order.status,
        )
        expected = (row["kind"], row["buyer"], row["seller"], _items(row["items"]), money(row["total"]), row["status"])
        assert actual == expected, row["order"]


def check_lines(ch: Channel, scenario: str) -> None:
    actual = Counter(
        (
            ch.sources[line.source_event],
            ch.name(line.beneficiary_id),
            line.rule_id,
            line.generation,
            line.amount,
            line.status,
        )
        for line in RewardLine.objects.all()
    )
    expected = Counter(
        (row["source"], row["beneficiary"], row["rule"], int(row["gen"]), money(row["amount"]), row["status"])
        for row in table(scenario, "lines")
    )
    assert actual == expected, _diff(actual, expected)


_ACCOUNTS = {
    Purpose.AGENT_REWARDS_FROZEN: "frozen",
    Purpose.AGENT_REWARDS_AVAILABLE: "available",
    Purpose.PAYOUTS_IN_TRANSIT: "in_transit",
    Purpose.BRAND_REWARD_EXPENSE: "reward_expense",
    Purpose.BRAND_PRIZES_PAYABLE: "prizes_payable",
}


def check_ledger(ch: Channel, scenario: str) -> None:
    actual = {
        (ch.name(owner, "brand"), _ACCOUNTS[purpose]): balance
        for owner, purpose, balance in Account.objects.filter(purpose__in=list(_ACCOUNTS)).values_list(
            "owner_id", "purpose", "balance"
        )
        if balance != 0
    }
    expected = {(row["holder"], row["account"]): money(row["balance"]) for row in table(scenario, "ledger")}
    assert actual == expected
    assert ledger_verify() == []


def check_settlement(ch: Channel, scenario: str) -> None:
    labels = {
        event.removeprefix("period:"): label for event, label in ch.sources.items() if event.startswith("period:")
    }
    runs = {
        labels[run.period]: (run.lines, run.total, run.volume, run.finished_at is not None)
        for run in SettlementRun.objects.all()
    }
    assert runs == {
        row["period"]: (int(row["lines"]), money(row["total"]), money(row["volume"]), True)
        for row in table(scenario, "runs")
    }
    reports = Counter(
        (labels[r.run.period], ch.name(r.agent_id), r.personal_purchase, r.team_purchase, r.rewards)
        for r in SettlementReport.objects.select_related("run")
    )
    expected = Counter(
        (row["period"], row["agent"], money(row["personal"]), money(row["team"]), money(row["rewards"]))
        for row in table(scenario, "reports")
    )
    assert reports == expected, _diff(reports, expected)


def check_all(ch: Channel, scenario: str) -> None:
    check_tree(ch, scenario)
    check_orders(ch, scenario)
    check_lines(ch, scenario)
    check_ledger(ch, scenario)
    check_settlement(ch, scenario)


# --- scenario A: tiered -------------------------------------------------------------------------


def test_golden_tiered(tiered, r, staff):
    ch = Channel(staff)
    receive(warehouse(), "GLOW-30ML", 5000)
    receive(warehouse(), "GLOW-MASK5", 500)
    ch.agent("周强", "partner")
    ch.agent("王芳", "general", referrer="周强")
    ch.agent("李娜", "general", referrer="王芳")
    ch.agent("张伟", "city", referrer="李娜")
    ch.agent("刘洋", "city", referrer="张伟")
    ch.agent("陈静", "vip", referrer="刘洋", supplier="张伟")
    ch.agent("赵磊", "city", referrer="刘洋", applicant=True)

    ch.buy("O1", "周强", [("GLOW-30ML", 2000), ("GLOW-MASK5", 100)])
    ch.buy("O2", "王芳", [("GLOW-30ML", 1000)])
    ch.buy("O3", "李娜", [("GLOW-30ML", 800), ("GLOW-MASK5", 20)])
    ch.buy("O4", "张伟", [("GLOW-30ML", 100)])
    ch.buy("O5", "刘洋", [("GLOW-30ML", 50)])
    ch.buy("O6", "赵磊", [("GLOW-30ML", 11), ("GLOW-MASK5", 3)], kind=OrderKind.ENTRY)
    ch.buy("O7", "陈静", [("GLOW-30ML", 10)])

    now = clock.now()
    assert rewards_release(now=now + timedelta(days=6)) == 0  # frozen_days: 7
    assert rewards_release(now=now + timedelta(days=8)) == 4
    ch.refund("O5")
    ch.close("month")
    ch.close("quarter")
    check_all(ch, "tiered")


# --- scenario B: social mall ----------------------------------------------------------------------

GIFT_ENTRY = [("GLOW-GIFT398", 1), ("GLOW-MASK5", 1)]  # the gift pack and a mask (a pack alone also joins)


def test_golden_social_mall(catalog, r, staff):
    r.activate("glow-social-mall.yaml")
    ch = Channel(staff)
    receive(warehouse(), "GLOW-GIFT398", 50)
    receive(warehouse(), "GLOW-30ML", 500)
    receive(warehouse(), "GLOW-MASK5", 500)
    ch.agent("孙丽", "director")
    ch.agent("钱多", "shopkeeper", referrer="孙丽")
    ch.agent("吴敏", "member", referrer="钱多", applicant=True)
    ch.buy("O1", "吴敏", GIFT_ENTRY, kind=OrderKind.ENTRY)
    ch.agent("郑浩", "member", referrer="吴敏", applicant=True)
    ch.buy("O2", "郑浩", GIFT_ENTRY, kind=OrderKind.ENTRY)
    ch.agent("冯雪", "member", referrer="郑浩", applicant=True)
    ch.buy("O3", "冯雪", GIFT_ENTRY, kind=OrderKind.ENTRY)
    ch.buy("O4", "吴敏", [("GLOW-30ML", 11)])
    assert ch.fresh("吴敏").level.code == "shopkeeper"  # cumulative spend 3,208.75 ≥ 3,000
    ch.retail("O5", "吴敏", "陈女士", "13900002222", [("GLOW-30ML", 2)])
    ch.buy("O6", "郑浩", [("GLOW-MASK5", 5)])
    ch.refund("O6")

    now = clock.now()
    assert rewards_release(now=now + timedelta(days=14)) == 0  # frozen_days: 15
    assert rewards_release(now=now + timedelta(days=16)) == 13
    ch.close("month")
    check_all(ch, "social")


# --- found on the way (fixed) ---------------------------------------------------------------------


def test_a_member_joins_by_buying_one_gift_pack(catalog, r, staff):
    r.activate("glow-social-mall.yaml")
    ch = Channel(staff)
    receive(warehouse(), "GLOW-GIFT398", 5)
    ch.agent("孙丽", "director")
    ch.agent("吴敏", "member", referrer="孙丽", applicant=True)
    order = ch.buy("O1", "吴敏", [("GLOW-GIFT398", 1)], kind=OrderKind.ENTRY)
    assert ch.fresh("吴敏").status == "active"
    assert RewardLine.objects.filter(order=order, rule_id="self-rebate").exists()
    assert RewardLine.objects.filter(
        source_event=f"agent.joined:{ch.agents['吴敏'].pk}", rule_id="gift-pack-referral"
    ).exists()


def test_refunding_the_gift_pack_takes_back_the_per_head_rewards(catalog, r, staff):
    r.activate("glow-social-mall.yaml")
    ch = Channel(staff)
    receive(warehouse(), "GLOW-GIFT398", 5)
    receive(warehouse(), "GLOW-MASK5", 5)
    ch.agent("孙丽", "director")
    ch.agent("钱多", "shopkeeper", referrer="孙丽")  # 孙丽 earns 100 for this join
    ch.agent("吴敏", "member", referrer="钱多", applicant=True)
    ch.buy("O1", "吴敏", GIFT_ENTRY, kind=OrderKind.ENTRY)  # 钱多 100, 孙丽 20, 吴敏 rebate 21.12
    assert (r.frozen(ch.agents["钱多"]), r.frozen(ch.agents["孙丽"])) == (Decimal("100.00"), Decimal("120.00"))
    ch.refund("O1")
    assert r.frozen(ch.agents["吴敏"]) == 0  # the rebate is taken back …
    assert (r.frozen(ch.agents["钱多"]), r.frozen(ch.agents["孙丽"])) == (0, Decimal("100.00"))  # … the per-head too
    assert ch.fresh("吴敏").status == "suspended"  # joined on a returned order: suspended until the brand decides
    assert ledger_verify() == []


def test_rewards_release_on_every_database(tiered, r, staff):
    """Frozen rewards are released after the frozen days — on PostgreSQL too, where locking the lines
    across the nullable order join used to be refused (FOR UPDATE on the nullable side of an outer join)."""
    ch = Channel(staff)
    receive(warehouse(), "GLOW-30ML", 100)
    ch.agent("张伟", "city")
    ch.agent("刘洋", "city", referrer="张伟")
    order = ch.buy("O1", "刘洋", [("GLOW-30ML", 10)])
    assert rewards_release(now=order.completed_at + timedelta(days=7)) == 1
    assert r.available(ch.agents["张伟"]) == Decimal("85.00")
