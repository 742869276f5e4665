"""Concurrent trade writes: fills and pick-ups racing for the same stock, a payment confirmed
by many clicks at once, a provider notice delivered many times at once, and many orders paid
from one wallet. Real threads (and, on PostgreSQL, real processes), real transactions."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Sum
from PIL import Image
from threads import run_together  # tests/concurrency/threads.py

from tests.stock_helpers import receive
from weishang.catalog.models import SKU, Product
from weishang.channel.models import Agent
from weishang.core.models import Brand, OutboxEvent, SupplyMode
from weishang.ledger.models import Account, JournalLine, Purpose
from weishang.ledger.selectors import ledger_verify
from weishang.trade import services, stock
from weishang.trade.models import (
    LocationKind,
    Order,
    OrderKind,
    OrderStatus,
    OrderTransition,
    Payment,
    StockLevel,
)
from weishang.trade.stock import InsufficientStock, stock_verify

pytestmark = pytest.mark.django_db(transaction=True)

N = 8
S = OrderStatus


def split(results, error_type):
    ok = [r for r in results if not isinstance(r, Exception)]
    failed = [r for r in results if isinstance(r, Exception)]
    unexpected = [r for r in failed if not isinstance(r, error_type)]
    assert not unexpected, unexpected
    return ok, failed


# --- setup (through the services, as in tests/trade) ----------------------------------------


@pytest.fixture
def world(db, levels, make_agent, media_root):
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    product = Product.objects.create(name="焕颜修护系列")
    sku = SKU.objects.create(product=product, code="A", name="修护精华", retail_price=Decimal("100.00"))  # vip 80.00
    seller = make_agent("general")
    boss = get_user_model().objects.create_user(username="boss", is_staff=True)
    boss.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="trade", codename__in=["change_order", "change_payment"])
    )
    return SimpleNamespace(
        sku=sku,
        seller=seller,
        boss=get_user_model().objects.get(pk=boss.pk),
        make_buyer=lambda: make_agent("vip", referrer=seller),
    )


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def png() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(buf, format="PNG")
    return SimpleUploadedFile("transfer.png", buf.getvalue(), content_type="image/png")


def cloud(agent, sku) -> int:
    return stock.on_hand(location=stock.location_for_agent(agent, LocationKind.CLOUD), sku=sku)


def notice(order, txn):
    return SimpleNamespace(
        transaction_id=txn,
        out_trade_no=order.number,
        amount_fen=int(order.total * 100),
        currency="CNY",
        state="SUCCESS",
    )


def approved(buyer, sku, qty, seller):
    order = services.order_submit(buyer=buyer, lines=[(sku, qty)], by=buyer.user)
    return services.order_approve(order=order, by=seller.user)


def paid(buyer, sku, qty, seller, n):
    order = approved(buyer, sku, qty, seller)
    services.payment_credit_from_provider(notice=notice(order, f"TXN-SETUP-{n}"))
    return Order.objects.get(pk=order.pk)


def wallet_ok(agent) -> Decimal:
    """The agent's wallet as the ledger has it, checked against its journal lines."""
    wallet = Account.objects.get(owner=agent, purpose=Purpose.AGENT_WALLET)
    lines = JournalLine.objects.filter(account=wallet).aggregate(s=Sum("amount"))["s"] or Decimal("0")
    assert wallet.balance == -Decimal(lines).quantize(Decimal("0.01"))  # credit-normal
    assert wallet.balance >= 0
    assert ledger_verify() == []
    return wallet.balance


def paid_orders_for_fill_race(world, stock_units=10, qty=3):
    receive(world.sku, stock_units, into=stock.location_for_agent(world.seller, LocationKind.CLOUD))
    buyers = [world.make_buyer() for _ in range(N)]
    orders = [paid(b, world.sku, qty, world.seller, i) for i, b in enumerate(buyers)]
    assert all(o.status == S.PAID for o in orders)
    return buyers, orders


def check_fill_race(world, buyers, orders, successes, stock_units=10, qty=3):
    expected = stock_units // qty
    assert successes == expected
    assert cloud(world.seller, world.sku) == stock_units - successes * qty >= 0
    assert sum(cloud(b, world.sku) for b in buyers) == successes * qty
    statuses = sorted(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True))
    assert statuses == sorted([S.COMPLETED] * expected + [S.PAID] * (N - expected))
    assert OutboxEvent.objects.filter(topic="order.completed").count() == expected
    assert not StockLevel.objects.filter(quantity__lt=0).exists()
    assert stock_verify() == []


# --- (a) fills racing for one seller's cloud stock ------------------------------------------


def test_fills_never_oversell_the_sellers_cloud_stock(world):
    buyers, orders = paid_orders_for_fill_race(world)
    results = run_together(
        *[(lambda o=o: services.order_fill(order=Order.objects.get(pk=o.pk), by=world.seller.user)) for o in orders]
    )
    ok, failed = split(results, InsufficientStock)
    check_fill_race(world, buyers, orders, len(ok))
    assert all(f.code == "insufficient_stock" for f in failed)


# --- (b) pick-ups racing for one agent's cloud stock ----------------------------------------


def test_pickups_never_oversell_cloud_stock(world):
    agent = world.make_buyer()
    receive(world.sku, 10, into=stock.location_for_agent(agent, LocationKind.CLOUD))
    results = run_together(
        *[
            (
                lambda i=i: services.pickup_request(
                    agent=agent,
                    lines=[(world.sku, 3)],
                    by=agent.user,
                    name="王芳",
                    phone="13800000000",
                    address=f"上海市 {i} 号",
                )
            )
            for i in range(N)
        ]
    )
    ok, failed = split(results, InsufficientStock)
    assert len(ok) == 3 and len(failed) == N - 3
    assert cloud(agent, world.sku) == 1
    assert Order.objects.filter(kind=OrderKind.PICKUP).count() == 3  # the failed ones left no order behind
    assert stock_verify() == []


# --- (c) one payment confirmed by many clicks -----------------------------------------------


def test_a_payment_confirmed_at_once_by_many_is_confirmed_once(world):
    from weishang.core.errors import Conflict

    buyer = world.make_buyer()
    order = approved(buyer, world.sku, 2, world.seller)
    payment = services.payment_submit_transfer(order=order, by=buyer.user, screenshot=png())
    confirmers = [world.seller.user] * (N // 2) + [world.boss] * (N - N // 2)
    results = run_together(
        *[(lambda u=u: services.payment_confirm(payment=Payment.objects.get(pk=payment.pk), by=u)) for u in confirmers]
    )
    ok, failed = split(results, Conflict)
    assert len(ok) == 1
    assert all(f.code == "already_decided" for f in failed)
    order.refresh_from_db()
    assert order.status == S.PAID
    assert OrderTransition.objects.filter(order=order, to_status=S.PAID).count() == 1
    assert OutboxEvent.objects.filter(topic="order.paid", key=order.number).count() == 1
    assert Payment.objects.filter(order=order, status="confirmed").count() == 1


# --- (d) one provider notice delivered many times at once -----------------------------------


def test_a_provider_notice_delivered_at_once_credits_once(world):
    buyer = world.make_buyer()
    order = approved(buyer, world.sku, 2, world.seller)
    same = notice(order, "4200000999202611270000000042")
    results = run_together(*[(lambda: services.payment_credit_from_provider(notice=same)) for _ in range(N)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1
    assert Payment.objects.count() == 1
    order.refresh_from_db()
    assert order.status == S.PAID
    assert OrderTransition.objects.filter(order=order, to_status=S.PAID).count() == 1
    assert OutboxEvent.objects.filter(topic="order.paid").count() == 1


# --- (d2) an unpaid shop order expiring while its payment arrives --------------------------


def test_expiry_and_payment_at_the_same_moment_never_cancel_a_paid_order(world):
    from datetime import timedelta

    from django.utils import timezone

    from weishang.core.errors import Conflict
    from weishang.trade.models import Customer

    receive(world.sku, 10, into=stock.location_for_agent(world.seller, LocationKind.CLOUD))
    outcomes = set()
    for i in range(4):
        order = services.retail_order_submit(
            seller=world.seller, name="陈女士", phone=f"1390000{i:04d}", address="上海", lines=[(world.sku, 1)]
        )
        Order.objects.filter(pk=order.pk).update(submitted_at=timezone.now() - timedelta(hours=25))
        paying = notice(order, f"4200000999202611270000001{i:03d}")
        results = run_together(
            lambda paying=paying: services.payment_credit_from_provider(notice=paying),
            lambda o=order: services.retail_order_expire_one(order=o.pk, now=timezone.now()),
        )
        paid, expired = results
        order.refresh_from_db()
        customer = Customer.objects.get(pk=order.customer_id)
        if isinstance(paid, Payment):  # the payment won: the order is paid and never cancelled
            assert expired is False and order.status == S.PAID and customer.bound_agent == world.seller
        else:  # the expiry won: the payment is refused, nothing credited, nobody bound
            assert isinstance(paid, Conflict) and expired is True, results
            assert order.status == S.CANCELLED and not order.payments.exists() and customer.bound_agent is None
        outcomes.add(order.status)
    assert outcomes <= {S.PAID, S.CANCELLED}
    assert OrderTransition.objects.filter(to_status=S.CANCELLED, order__status=S.PAID).count() == 0


def test_paid_shop_orders_of_one_customer_cancelled_at_once_never_deadlock(world, make_agent):
    """Each cancellation works the customer's binding out again under the customer's lock and
    fixes the other order's: neither waits for the other's order lock while holding the customer."""
    from weishang.core.models import CustomerBinding
    from weishang.trade.models import Customer

    # First binding: cancelling the first paid order moves the second's binding to its own seller.
    Brand.objects.update(customer_binding=CustomerBinding.FIRST)
    other = make_agent("general")
    for seller in (world.seller, other):
        receive(world.sku, 10, into=stock.location_for_agent(seller, LocationKind.CLOUD))
    for i in range(4):
        phone = f"1390001{i:04d}"
        orders = []
        for n, seller in enumerate((world.seller, other)):
            order = services.retail_order_submit(
                seller=seller, name="陈女士", phone=phone, address="上海", lines=[(world.sku, 1)]
            )
            services.payment_credit_from_provider(notice=notice(order, f"TXN-BIND-{i}-{n}"))
            orders.append(order)
        results = run_together(*[(lambda o=o: services.order_cancel(order=o, by=o.seller.user)) for o in orders])
        assert not [r for r in results if isinstance(r, Exception)], results
        assert sorted(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == [
            S.CANCELLED,
            S.CANCELLED,
        ]
        assert Customer.objects.get(phone=phone).bound_agent is None


# --- (e) many orders paid from one wallet ---------------------------------------------------


def test_one_wallet_pays_only_what_it_holds(world):
    from weishang.core.errors import Conflict

    buyer = world.make_buyer()
    topup = services.wallet_topup_submit(agent=buyer, by=buyer.user, amount="250.00", screenshot=png())
    services.payment_confirm(payment=topup, by=world.boss)
    orders = [approved(buyer, world.sku, 1, world.seller) for _ in range(N)]  # 80.00 each: 3 fit in 250
    results = run_together(
        *[(lambda o=o: services.order_pay_from_wallet(order=Order.objects.get(pk=o.pk), by=buyer.user)) for o in orders]
    )
    ok, failed = split(results, Conflict)
    assert len(ok) == 3
    assert all(f.code == "insufficient_funds" for f in failed)
    assert wallet_ok(buyer) == Decimal("10.00")
    assert Order.objects.filter(status=S.PAID).count() == 3
    assert Payment.objects.filter(method="wallet").count() == 3
    assert OutboxEvent.objects.filter(topic="order.paid").count() == 3


# --- (f) purchase limits and (g) idempotent retries under concurrent submissions -------------


def test_concurrent_submissions_respect_the_daily_limit(world):
    from weishang.core.errors import BusinessError

    world.sku.max_per_day = 10
    world.sku.save()
    buyer = world.make_buyer()
    results = run_together(
        *[
            (lambda: services.order_submit(buyer=Agent.objects.get(pk=buyer.pk), lines=[(world.sku, 3)], by=buyer.user))
            for _ in range(N)
        ]
    )
    ok, failed = split(results, BusinessError)
    assert len(ok) == 3 and len(failed) == N - 3
    assert sum(o.lines.get().quantity for o in Order.objects.filter(buyer=buyer)) == 9


def test_concurrent_retries_with_one_key_make_one_order(world):
    buyer = world.make_buyer()
    results = run_together(
        *[
            (
                lambda: services.order_submit(
                    buyer=Agent.objects.get(pk=buyer.pk),
                    lines=[(world.sku, 1)],
                    by=buyer.user,
                    idempotency_key="submit-7f3a",
                )
            )
            for _ in range(N)
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1
    assert Order.objects.count() == 1 and OrderTransition.objects.count() == 1


# --- (a) again, with processes (PostgreSQL) -------------------------------------------------

CHILD = r"""
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "weishang.settings")
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import connection
from weishang.trade import services
order_pk, user_pk = int(sys.argv[1]), int(sys.argv[2])
user = get_user_model().objects.get(pk=user_pk)
print(json.dumps({"ready": connection.settings_dict["NAME"]}), flush=True)
sys.stdin.readline()
try:
    services.order_fill(order=order_pk, by=user)
    out = {"ok": True}
except Exception as exc:
    out = {"ok": False, "error": type(exc).__name__, "code": getattr(exc, "code", "")}
connection.close()
print(json.dumps(out), flush=True)
"""


def _database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.slow
def test_fills_from_separate_processes_never_oversell(world):
    if connection.vendor != "postgresql":
        pytest.skip("process-level race runs on PostgreSQL (SQLite is covered by the thread test)")
    buyers, orders = paid_orders_for_fill_race(world)
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "weishang.settings"}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(o.pk), str(world.seller.user_id)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for o in orders
    ]
    try:
        for child in children:  # every process is set up and connected before any starts
            line = child.stdout.readline()
            assert line, child.stderr.read()
            assert json.loads(line)["ready"] == connection.settings_dict["NAME"]
        start = time.monotonic()
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        results = []
        for child in children:
            out, err = child.communicate(timeout=60)
            assert child.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        assert time.monotonic() - start < 60
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    ok = [r for r in results if r["ok"]]
    assert all(
        r["error"] == "InsufficientStock" and r["code"] == "insufficient_stock" for r in results if not r["ok"]
    ), results
    check_fill_race(world, buyers, orders, len(ok))
