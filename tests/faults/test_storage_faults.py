"""A full disk or a read-only database (M13 faults): the request that wanted to write gets a clear
answer — the API a 503 with the error envelope and Retry-After, a page a 503 page — in the user's
language, nothing is half-written, and once the condition is lifted the same request succeeds.

SQLite's ``query_only`` makes a read-only database real on the test database's connection (it
refuses every write, as a read-only file or mount does). A full disk cannot be made on demand
under WAL (``max_page_count`` does not bound the log), so the disk-full case raises the error
SQLite and PostgreSQL give from inside the order's service, and the rest of the path is real."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, transaction
from django.test import Client

from weishang.api.services import token_create
from weishang.catalog.models import SKU, Product
from weishang.trade import services as trade_services
from weishang.trade.models import Order, OrderLine, OrderTransition

# Each request its own real transaction, as in production (no test transaction around them).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's query_only and max_page_count make the faults; PostgreSQL's are in docs/operations.md")


@pytest.fixture
def buyer(make_agent):
    product = Product.objects.create(name="精华")
    SKU.objects.create(product=product, code="S1", name="精华 30ml", retail_price=Decimal("298"))
    top = make_agent("partner")
    buyer = make_agent("city", referrer=top, phone="13900000042", password="fault-pass-123")
    return buyer, token_create(user=buyer.user, device="测试")[1]


def _rows() -> tuple[int, int, int]:
    return Order.objects.count(), OrderLine.objects.count(), OrderTransition.objects.count()


def _place(secret: str, key: str, language: str = "zh-hans"):
    return Client().post(
        "/api/v1/orders",
        json.dumps({"lines": [{"sku": "S1", "quantity": 5}]}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": key, "Accept-Language": language},
    )


def _pragma(sql: str) -> None:
    with connection.cursor() as cursor:
        for statement in sql.split(";"):
            cursor.execute(statement)


@pytest.mark.parametrize(("on", "off", "code"), [("PRAGMA query_only = ON", "PRAGMA query_only = OFF", "read_only")])
def test_an_order_while_the_database_cannot_write(buyer, on, off, code, caplog):
    _agent, secret = buyer
    before, key = _rows(), str(uuid.uuid4())
    _pragma(on)
    try:
        refused = _place(secret, key)
        english = _place(secret, str(uuid.uuid4()), language="en")
    finally:
        _pragma(off)
    assert refused.status_code == 503 and refused["Retry-After"] == "30"
    error = refused.json()["error"]
    assert error["code"] == code and "系统暂时无法保存" in error["message"] and "Traceback" not in refused.text
    assert english.status_code == 503 and "cannot save right now" in english.json()["error"]["message"]
    assert _rows() == before  # nothing half-written
    assert code in caplog.text  # logged at ERROR for the operator
    placed = _place(secret, key)  # the same request, once the database can write again
    assert placed.status_code == 201
    assert _rows()[0] == before[0] + 1


def test_a_page_while_the_database_cannot_write(buyer):
    client = Client()
    _pragma("PRAGMA query_only = ON")
    try:
        page = client.post("/m/login/", {"username": "13900000042", "password": "fault-pass-123"})
    finally:
        _pragma("PRAGMA query_only = OFF")
    assert page.status_code == 503 and page["Retry-After"] == "30"
    assert "系统暂时无法保存" in page.content.decode()
    assert client.post("/m/login/", {"username": "13900000042", "password": "fault-pass-123"}).status_code == 302


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("database or disk is full"),  # SQLite's words
        OperationalError('could not extend file "base/16384/2619": No space left on device'),  # PostgreSQL's
    ],
)
def test_an_order_while_the_disk_is_full(buyer, error, monkeypatch):
    _agent, secret = buyer
    before = _rows()

    real_submit = trade_services.order_submit

    def full(**kwargs):
        with transaction.atomic():  # the order written, then the disk fills before the commit
            real_submit(**kwargs)
            raise error

    with monkeypatch.context() as patched:
        patched.setattr(trade_services, "order_submit", full)
        refused = _place(secret, str(uuid.uuid4()))
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "storage_full"
    assert "系统暂时无法保存" in refused.json()["error"]["message"]
    assert _rows() == before  # the write before the failure was rolled back with it
    assert _place(secret, str(uuid.uuid4())).status_code == 201
