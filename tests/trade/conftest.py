"""Fixtures for the trade tests: a brand with a supply mode, two SKUs, a supplier and a buyer,
brand staff, stock receipts, and short-hands for the order steps (all through the services)."""

from __future__ import annotations

import io
import itertools
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from PIL import Image

from tests import stock_helpers
from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.core.models import Brand, SupplyMode
from weishang.ledger.models import Account, JournalLine, Purpose
from weishang.ledger.selectors import ledger_verify
from weishang.trade import services, stock
from weishang.trade.models import LocationKind, Order

_seq = itertools.count(1)


# --- files ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Uploaded screenshots go to a temporary directory, never to var/media."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    return root


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def image_upload(name: str = "transfer.png", fmt: str = "PNG", size=(64, 48), **save) -> SimpleUploadedFile:
    """A real image file, as a browser would upload it."""
    buf = io.BytesIO()
    Image.new("RGB", size, (220, 40, 40)).save(buf, format=fmt, **save)
    return SimpleUploadedFile(name, buf.getvalue(), content_type=f"image/{fmt.lower()}")


# --- brand, catalog, people -----------------------------------------------------------------


@pytest.fixture
def brand(db) -> Brand:
    """The brand row; tests change ``supply_mode`` with :func:`set_mode`."""
    return Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)


def set_mode(brand: Brand, mode: str) -> Brand:
    brand.supply_mode = mode
    brand.save(update_fields=["supply_mode"])
    return brand


@pytest.fixture
def skus(db, levels) -> SimpleNamespace:
    """A: retail 100.00 with a 特约 (vip) override of 75.50; B: retail 33.33, no override
    (vip pays 33.33 × 0.80 = 26.664 → 26.66)."""
    product = Product.objects.create(name="焕颜修护系列")
    a = SKU.objects.create(product=product, code="A", name="修护精华", retail_price=Decimal("100.00"))
    b = SKU.objects.create(product=product, code="B", name="洁面乳", retail_price=Decimal("33.33"))
    LevelPrice.objects.create(sku=a, level=levels["vip"], price=Decimal("75.50"))
    return SimpleNamespace(a=a, b=b, product=product)


@pytest.fixture
def make_staff(db):
    """make_staff("change_order", "change_payment") -> a brand staff user with those trade permissions."""

    def make(*codenames: str, is_staff: bool = True):
        n = next(_seq)
        user = get_user_model().objects.create_user(username=f"staff{n}", password="pass-word-1", is_staff=is_staff)
        for codename in codenames:
            user.user_permissions.add(Permission.objects.get(content_type__app_label="trade", codename=codename))
        return get_user_model().objects.get(pk=user.pk)  # no stale permission cache

    return make


@pytest.fixture
def boss(make_staff):
    """Brand staff who may act on orders and payments."""
    return make_staff("change_order", "change_payment")


@pytest.fixture
def supplier(make_agent, brand):
    return make_agent("general")


@pytest.fixture
def buyer(make_agent, supplier):
    agent = make_agent("vip", referrer=supplier)
    assert agent.supplier_id == supplier.pk
    return agent


# --- stock ----------------------------------------------------------------------------------


def location(agent, kind: str = LocationKind.CLOUD):
    """The agent's cloud (or own, ``agent``) location; the company warehouse for ``None``."""
    if agent is None:
        return stock.location_singleton(LocationKind.WAREHOUSE)
    return stock.location_for_agent(agent, kind)


def receive(agent, sku: SKU, quantity: int, kind: str = LocationKind.CLOUD) -> None:
    """Units arrive from a supplier into the agent's location (or the warehouse)."""
    stock_helpers.receive(sku, quantity, into=location(agent, kind))


def on_hand(agent, sku: SKU, kind: str = LocationKind.CLOUD) -> int:
    return stock.on_hand(location=location(agent, kind), sku=sku)


# --- money ----------------------------------------------------------------------------------


def balance(agent) -> Decimal:
    """The agent's wallet (货款) balance: their ledger account."""
    account = Account.objects.filter(owner=agent, purpose=Purpose.AGENT_WALLET).first()
    return account.balance if account else Decimal("0.00")


def entries_sum(agent) -> Decimal:
    """The wallet recomputed from its journal lines (credit-normal: credits raise it)."""
    total = JournalLine.objects.filter(account__owner=agent, account__purpose=Purpose.AGENT_WALLET).aggregate(
        s=Sum("amount")
    )["s"]
    return -Decimal(total or 0).quantize(Decimal("0.01"))


WALLET_KINDS = {"wallet_topup": "topup", "order_payment": "payment", "order_refund": "refund"}


def wallet_moves(agent=None) -> list[tuple[str, Decimal]]:
    """Every change of agents' wallets (or one agent's), oldest first: (topup|payment|refund, ± amount)."""
    lines = JournalLine.objects.filter(account__purpose=Purpose.AGENT_WALLET)
    if agent is not None:
        lines = lines.filter(account__owner=agent)
    return [
        (WALLET_KINDS.get(kind, kind), -amount)
        for kind, amount in lines.order_by("pk").values_list("entry__kind", "amount")
    ]


def assert_wallet_consistent(agent) -> None:
    assert balance(agent) == entries_sum(agent)
    assert balance(agent) >= 0
    assert ledger_verify() == []


def notice(order: Order, *, txn: str | None = None, amount_fen: int | None = None, state: str = "SUCCESS"):
    """A provider's payment notice, as parse_notification() would return it."""
    return SimpleNamespace(
        transaction_id=txn or f"4200{next(_seq):016d}",
        out_trade_no=order.number,
        amount_fen=int(order.total * 100) if amount_fen is None else amount_fen,
        state=state,
        provider="fake",
        currency="CNY",
        paid_at=None,
        raw={},
    )


# --- order steps ----------------------------------------------------------------------------


@pytest.fixture
def t(boss, media_root):
    """The helpers above plus short-hands for the usual steps, each taken by the party that takes
    it in real life (the seller agent, or brand staff for the company)."""

    def seller_user(order):
        order.refresh_from_db()
        return order.seller.user if order.seller_id else boss

    def place(buyer, lines, **kw):
        return services.order_submit(buyer=buyer, lines=lines, by=buyer.user, **kw)

    def approve(order):
        return services.order_approve(order=order, by=seller_user(order))

    def pay(order):
        services.payment_credit_from_provider(notice=notice(order))
        order.refresh_from_db()
        return order

    def paid(buyer, lines, **kw):
        order = place(buyer, lines, **kw)
        approve(order)
        return pay(order)

    def fill(order, **kw):
        return services.order_fill(order=order, by=seller_user(order), **kw)

    def topup(agent, amount):
        payment = services.wallet_topup_submit(agent=agent, by=agent.user, amount=amount, screenshot=image_upload())
        return services.payment_confirm(payment=payment, by=boss)

    return SimpleNamespace(
        place=place,
        approve=approve,
        pay=pay,
        paid=paid,
        fill=fill,
        topup=topup,
        seller_user=seller_user,
        image_upload=image_upload,
        stored_files=lambda: stored_files(media_root),
        set_mode=set_mode,
        location=location,
        receive=receive,
        on_hand=on_hand,
        balance=balance,
        entries_sum=entries_sum,
        assert_wallet_consistent=assert_wallet_consistent,
        notice=notice,
        wallet_moves=wallet_moves,
    )
