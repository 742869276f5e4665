"""The demo brand's catalog and the tiered plan from examples/, activated; short-hands to complete
orders through the trade services and to run the reward engine."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from weishang.catalog.models import SKU, Product
from weishang.core.models import Brand, SupplyMode
from weishang.ledger.models import Account, Purpose
from weishang.ledger.selectors import ledger_verify
from weishang.rewards import plans
from weishang.rewards.services import rewards_process
from weishang.trade import services as trade
from weishang.trade import stock
from weishang.trade.models import LocationKind, OrderStatus
from weishang.trade.providers.fake import FakeProvider

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"


@pytest.fixture
def catalog(db, levels):
    # A brand under UK rules: the example plans carry no CRIT finding there (only HIGH ones, which
    # activation accepts with an acknowledgement), so the reward engine can run on them. Under
    # Chinese rules the linter rightly refuses glow-tiered and glow-social-mall (see test_gate.py).
    brand = Brand.objects.create(name="焕颜 GLOW", supply_mode=SupplyMode.CLOUD, jurisdiction="uk")
    product = Product.objects.create(name="焕颜修护系列")
    skus = {code: SKU.objects.create(product=product, code=code, name=name, retail_price=Decimal(retail))
            for code, name, retail in (("GLOW-30ML", "焕颜修护精华 30ml", "298"),
                                       ("GLOW-50G", "焕颜修护面霜 50g", "198"),
                                       ("GLOW-MASK5", "焕颜补水面膜 5片装", "99"),
                                       ("GLOW-GIFT398", "焕颜大礼包", "398"))}
    return SimpleNamespace(brand=brand, skus=skus)


def activate(name: str, **kw):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    version = plans.plan_upload(text=text, filename=name)
    kw.setdefault("acknowledgement", "测试：已知悉 HIGH 风险 / test: HIGH findings accepted")
    return plans.plan_activate(version=version, **kw)


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
    stock.stock_move(moves=[stock.Move(stock.location_singleton(LocationKind.SUPPLIER),
                                       stock.location_for_agent(agent, LocationKind.CLOUD), sku, units)],
                     reason="receipt")


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
    return SimpleNamespace(balance=balance, frozen=frozen, available=available, receive=receive, pay=pay,
                           complete=complete, process=rewards_process, verify=ledger_verify, activate=activate)
