"""The same payment notice 100 times at once (M13 faults): a provider that retries, a proxy that
duplicates, or an attacker replaying a captured notice. Sent over real HTTP to a live threaded
server, from 100 threads released together (a connection the server's backlog refuses is sent
again, as the provider would): the order is paid once — one payment, one entry in the
ledger, one `order.paid` event — and every answer is the success answer, so the provider stops
retrying. On SQLite (the test database is a file) and on PostgreSQL when the suite runs there."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import requests

from weishang.catalog.models import SKU, Product
from weishang.core.models import OutboxEvent
from weishang.ledger.models import JournalEntry
from weishang.ledger.selectors import ledger_verify
from weishang.trade import services
from weishang.trade.models import OrderStatus, Payment
from weishang.trade.providers.fake import FakeProvider

TIMES = 100


@pytest.mark.django_db(transaction=True)
def test_one_notice_a_hundred_times_at_once_pays_once(live_server, make_agent):
    product = Product.objects.create(name="精华")
    SKU.objects.create(product=product, code="S1", name="精华 30ml", retail_price=Decimal("298"))
    top = make_agent("partner")
    buyer = make_agent("city", referrer=top)
    order = services.order_submit(buyer=buyer, lines=[("S1", 5)], by=buyer.user)
    order = services.order_approve(order=order, by=top.user)
    entries_before = JournalEntry.objects.count()
    body, headers = FakeProvider.notification(
        out_trade_no=order.number, amount_fen=int(order.total * 100), transaction_id="4200000999-STORM"
    )
    gate = threading.Barrier(TIMES)
    answers: list[tuple[int, dict]] = [(0, {})] * TIMES

    def send(i: int) -> None:
        gate.wait()
        for _attempt in range(20):  # a refused connection is sent again, as the provider does
            try:
                response = requests.post(f"{live_server.url}/pay/notify/fake/", data=body, headers=headers, timeout=120)
            except requests.ConnectionError:
                continue
            answers[i] = (response.status_code, response.json())
            return

    threads = [threading.Thread(target=send, args=(i,)) for i in range(TIMES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert {status for status, _ in answers} == {200}, answers
    assert {answer["code"] for _, answer in answers} == {"SUCCESS"}
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.filter(order=order).count() == 1
    assert OutboxEvent.objects.filter(topic="order.paid", key=order.number).count() == 1
    assert JournalEntry.objects.count() - entries_before <= 1  # the provider's money, booked once at most
    assert ledger_verify() == []
