"""The provider notify endpoint: a verified notice pays its order once, however often it comes."""

from __future__ import annotations

import pytest

from weishang.core.models import OutboxEvent
from weishang.trade import services
from weishang.trade.models import OrderStatus, Payment
from weishang.trade.providers.fake import FakeProvider


@pytest.fixture
def awaiting_order(make_agent, db):
    from decimal import Decimal

    from weishang.catalog.models import SKU, Product

    product = Product.objects.create(name="精华")
    SKU.objects.create(product=product, code="S1", name="精华 30ml", retail_price=Decimal("298"))
    top = make_agent("partner")
    buyer = make_agent("city", referrer=top)
    order = services.order_submit(buyer=buyer, lines=[("S1", 5)], by=buyer.user)
    return services.order_approve(order=order, by=top.user)


def post(client, body, headers):
    return client.generic("POST", "/pay/notify/fake/", body, content_type="application/json",
                          headers={k: v for k, v in headers.items() if k != "Content-Type"})


def test_a_replayed_notice_pays_once(client, awaiting_order):
    order = awaiting_order
    body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=int(order.total * 100),
                                              transaction_id="T-1")
    responses = [post(client, body, headers) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all(r.json()["code"] == "SUCCESS" for r in responses)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.filter(order=order).count() == 1
    assert OutboxEvent.objects.filter(topic="order.paid", key=order.number).count() == 1


def test_a_wrong_amount_is_refused_and_changes_nothing(client, awaiting_order, caplog):
    order = awaiting_order
    body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=1, transaction_id="T-2")
    response = post(client, body, headers)
    assert response.status_code == 400 and response.json()["code"] == "FAIL"
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert not Payment.objects.exists()
    assert "not credited" in caplog.text


def test_a_forged_notice_is_rejected(client, awaiting_order):
    order = awaiting_order
    body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=int(order.total * 100))
    response = post(client, body.replace(b'"SUCCESS"', b'"SUCCESS" '), headers)
    assert response.status_code == 401
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_unknown_provider_is_404(client, db):
    assert client.post("/pay/notify/nosuch/", b"{}", content_type="application/json").status_code == 404
