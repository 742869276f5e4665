"""The demo brand's catalog and the tiered plan from examples/, activated; short-hands to complete
orders through the trade services and to run the reward engine."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from tests import stock_helpers
from weishang.catalog.models import SKU, Product
from weishang.core import clock as domain_clock
from weishang.core.models import Brand, SupplyMode
from weishang.ledger.models import Account, Purpose
from weishang.ledger.selectors import ledger_verify
from weishang.rewards import plan_versions
from weishang.rewards.services import rewards_process
from weishang.trade import services as trade
from weishang.trade import stock
from weishang.trade.models import LocationKind, OrderStatus
from weishang.trade.providers.fake import FakeProvider

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"

# A weekday in the middle of a month and of a quarter, at 10:00 China time: a scenario that starts
# here cannot run into another month, however slowly the machine runs it.
MID_MONTH = datetime(2026, 5, 13, 10, 0)


@pytest.fixture
def mid_month(clock):
    """The domain's clock set to MID_MONTH and running from there, for a scenario whose orders
    must all fall in one month and one quarter. Ask for it before the fixtures that write (the
    plan's activation, the agents), so that everything the scenario records carries its dates."""
    clock.travel(MID_MONTH)
    return clock


@pytest.fixture
def catalog(db, levels):
    # A brand under UK rules: the example plans carry no CRIT finding there (only HIGH ones, which
    # activation accepts with an acknowledgement), so the reward engine can run on them. Under
    # Chinese rules the linter rightly refuses glow-tiered and glow-social-mall (see test_gate.py).
    brand = Brand.objects.create(name="焕颜 GLOW", supply_mode=SupplyMode.CLOUD, jurisdiction="uk")
    product = Product.objects.create(name="焕颜修护系列")
    skus = {
        code: SKU.objects.create(product=product, code=code, name=name, retail_price=Decimal(retail))
        for code, name, retail in (
            ("GLOW-30ML", "焕颜修护精华 30ml", "298"),
            ("GLOW-50G", "焕颜修护面霜 50g", "198"),
            ("GLOW-MASK5", "焕颜补水面膜 5片装", "99"),
            ("GLOW-GIFT398", "焕颜大礼包", "398"),
        )
    }
    return SimpleNamespace(brand=brand, skus=skus)


def activate(name: str, **kw):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    version = plan_versions.plan_upload(text=text, filename=name)
    kw.setdefault("acknowledgement", "测试：已知悉 HIGH 风险 / test: HIGH findings accepted")
    return plan_versions.plan_activate(version=version, **kw)


@pytest.fixture
def tiered(catalog):
    return activate("glow-tiered.yaml")


def balance(agent, purpose: str) -> Decimal:
    row = Account.objects.filter(owner=agent, purpose=purpose).first()
    return row.balance if row else Decimal("0.00")


def frozen(agent) -> Decimal:
    return balance(agent, Purpose.AGENT_REWARDS_FROZEN)


def available(agent) -> Decimal:
    return balance(agent, Purpose.AGENT_REWARDS_AVAILABLE)


def receive(agent, sku, units: int) -> None:
    """``units`` of ``sku`` arrive from the supplier into the agent's cloud stock."""
    stock_helpers.receive(sku, units, into=stock.location_for_agent(agent, LocationKind.CLOUD))


def stock_warehouse(sku, units: int) -> None:
    """The brand's warehouse receives ``units`` of ``sku`` from the supplier."""
    stock_helpers.receive(sku, units)


def pay(order) -> None:
    body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=int(order.total * 100))
    trade.payment_credit_from_provider(notice=FakeProvider().parse_notification(headers, body))


def complete(buyer, lines, staff=None, **kw):
    """An order placed, approved, paid (WeChat Pay) and filled — and, when it was shipped rather
    than moved in cloud stock, received by the buyer: completed."""
    order = trade.order_submit(buyer=buyer, lines=lines, by=buyer.user, **kw)
    seller_user = order.seller.user if order.seller_id else staff
    trade.order_approve(order=order, by=seller_user)
    pay(order)
    trade.order_fill(order=order, by=seller_user)
    order.refresh_from_db()
    if order.status == OrderStatus.FULFILLED:
        trade.order_confirm_receipt(order=order, by=buyer.user)
        order.refresh_from_db()
    return order


@pytest.fixture
def r():
    return SimpleNamespace(
        balance=balance,
        frozen=frozen,
        available=available,
        receive=receive,
        pay=pay,
        complete=complete,
        stock_warehouse=stock_warehouse,
        process=rewards_process,
        verify=ledger_verify,
        activate=activate,
    )


@pytest.fixture
def warehouse_staff(db):
    """A staff user who approves and fills the brand's own orders."""
    user = get_user_model().objects.create_user(username="warehouse", password="pass-word-1", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="trade", codename__in=("change_order", "change_payment"))
    )
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def ladder_channel(mid_month, tiered, make_agent, catalog, warehouse_staff, r):
    """联创 P → 总代 G1 → G2 → G3 → 市代 C1 → C2 (referrer line), each with a restock this month.

    Team ladder: G3 135,500 (3 %), G2 245,500 (3 %), G1 355,500 (5 %), P 515,500 (5 %): four lines.
    Quarter trip (personal ≥ 50,000): P, G1, G2, G3: four prizes. Six agents to report on. Returns
    the day of the orders: MID_MONTH's (the clock is set there, so they never straddle two months)."""
    sku = catalog.skus["GLOW-30ML"]
    r.stock_warehouse(sku, 5000)
    p = make_agent("partner", real_name="联创周")
    g1 = make_agent("general", referrer=p, real_name="总代一")
    g2 = make_agent("general", referrer=g1, real_name="总代二")
    g3 = make_agent("general", referrer=g2, real_name="总代三")
    c1 = make_agent("city", referrer=g3, real_name="市代一")
    c2 = make_agent("city", referrer=c1, real_name="市代二")
    r.receive(p, sku, 3000)
    orders = [r.complete(p, [("GLOW-30ML", 2000)], staff=warehouse_staff)]  # 160,000, from the warehouse
    for agent, units in ((g1, 1000), (g2, 1000), (g3, 1000), (c1, 100), (c2, 50)):
        orders.append(r.complete(agent, [("GLOW-30ML", units)]))
    r.process()
    days = {timezone.localtime(order.completed_at).date() for order in orders}
    assert days == {MID_MONTH.date()} == {domain_clock.today()}
    return days.pop()
