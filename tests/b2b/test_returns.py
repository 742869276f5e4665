"""Returned goods of a SKU kept by batch go back into the batches they were shipped from, so their
expiry and first-expiry-first-out stay right (before the fix they went into the unbatched batch,
which has no expiry and is picked last)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from b2b_helpers import day  # tests/b2b/b2b_helpers.py

from tests.stock_helpers import receive
from weishang.b2b import services
from weishang.b2b.models import ClaimKind, Resolution, Terms
from weishang.inventory import batches
from weishang.inventory.selectors import batches_in_stock
from weishang.trade import stock

pytestmark = pytest.mark.django_db


def on_hand() -> dict[str, int]:
    return {row["batch"].code: row["units"] for row in batches_in_stock()}


def shipped_and_received(people, listing, brand_co, units: str):
    inquiry = services.inquiry_create(member=people["buyer"], seller=brand_co, lines=[(listing, units)])
    offer = services.offer_make(
        member=people["sales"],
        inquiry=inquiry,
        lines={inquiry.lines.get().pk: (units, "80")},
        terms=Terms.PREPAY,
        delivery_date=day(5),
        valid_until=day(5),
    )
    order = services.offer_accept(member=people["buyer"], offer=offer)
    line = order.lines.get()
    services.payment_record(member=people["finance"], order=order, amount=str(80 * int(units)))
    box = services.shipment_create(
        member=people["sales"], order=order, quantities={line.pk: units}, carrier="顺丰", tracking_number="SF1"
    )
    services.shipment_receive(member=people["buyer"], shipment=box)
    return line


def returned(people, line, units: str) -> None:
    claim = services.claim_open(member=people["buyer"], line=line, kind=ClaimKind.RETURN, quantity=units, reason="退货")
    services.claim_resolve(member=people["sales"], claim=claim, resolution=Resolution.CREDIT_NOTE, restock=True)


def test_a_return_goes_back_into_the_batch_it_was_shipped_from(people, listing, brand_co, sku, clock):
    clock.freeze(datetime(2026, 12, 5, 10))
    batches.tracking_start(sku=sku)
    receive(sku, 30, unit_cost="40", batch_code="A", expires_on=date(2027, 3, 31))
    receive(sku, 100, unit_cost="40", batch_code="B", expires_on=date(2027, 12, 31))
    line = shipped_and_received(people, listing, brand_co, "10")  # first expiry first out: A
    assert on_hand() == {"A": 20, "B": 100}
    returned(people, line, "4")
    assert on_hand() == {"A": 24, "B": 100}  # no unbatched units without an expiry
    rows = {row["batch"].code: row for row in batches_in_stock()}
    assert rows["A"]["expires_on"] == date(2027, 3, 31)
    assert batches.batches_verify() == [] and stock.stock_verify() == []


def test_a_return_across_two_batches_puts_back_no_more_than_each_gave(people, listing, brand_co, sku, clock):
    clock.freeze(datetime(2026, 12, 5, 10))
    batches.tracking_start(sku=sku)
    receive(sku, 30, unit_cost="40", batch_code="A", expires_on=date(2027, 3, 31))
    receive(sku, 100, unit_cost="40", batch_code="B", expires_on=date(2027, 12, 31))
    line = shipped_and_received(people, listing, brand_co, "40")  # A 30, then B 10
    assert on_hand() == {"B": 90}
    returned(people, line, "6")  # the later batch first
    assert on_hand() == {"B": 96}
    returned(people, line, "7")  # B gave 10 and has 6 back: 4 more, then 3 into A
    assert on_hand() == {"A": 3, "B": 100}
    assert batches.batches_verify() == [] and stock.stock_verify() == []
