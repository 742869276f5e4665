"""Batches and expiry dates, picked first expiry, first out (FEFO).

Worked example (by hand), face masks kept by batch, the clock at 2026-12-05:

====================================================  =========================================
step                                                  batches in the warehouse after it
====================================================  =========================================
30 masks on hand when tracking starts                 unbatched 30 (no expiry: picked last)
receive A 20, expires 2027-06-30                      A 20, unbatched 30
receive B 10, expires 2027-01-31                      B 10, A 20, unbatched 30
receive C 5, expires 2026-12-31                       C 5, B 10, A 20, unbatched 30
fill an order of 12 (C 5 first, then B 7)             B 3, A 20, unbatched 30
on 2027-02-01 B has expired: fill 10 takes A 10       B 3 (expired), A 10, unbatched 30
scrap 3: the expired B first                          A 10, unbatched 30
fill 35: A 10, then unbatched 25                      unbatched 5
====================================================  =========================================
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests import stock_helpers
from weishang.catalog.models import SKU, Product
from weishang.core.errors import BusinessError, Conflict
from weishang.inventory import batches
from weishang.inventory.models import BatchMove
from weishang.inventory.selectors import batches_in_stock
from weishang.trade import stock
from weishang.trade.models import LocationKind, StockReason

pytestmark = pytest.mark.django_db


@pytest.fixture
def masks(db):
    product = Product.objects.create(name="补水面膜")
    return SKU.objects.create(product=product, code="GLOW-MASK5", name="补水面膜 5 片装", retail_price=30)


def where(kind):
    return stock.location_singleton(kind)


def receive(sku, units, code="", expires=None):
    """``units`` into the warehouse from the supplier at 12 each, in batch ``code`` expiring on ``expires``."""
    stock_helpers.receive(sku, units, unit_cost=12, batch_code=code, expires_on=expires)


def out(sku, units, reason=StockReason.ORDER_FILL, to=LocationKind.CUSTOMER):
    return stock.stock_move(moves=[stock.Move(where(LocationKind.WAREHOUSE), where(to), sku, units)], reason=reason)


def on_hand(sku) -> dict[str, int]:
    return {row["batch"].code: row["units"] for row in batches_in_stock()}


def taken(moves) -> list[tuple[str, int]]:
    return [(m.batch.code, -m.quantity) for m in BatchMove.objects.filter(stock_move__in=moves).order_by("pk")]


def test_the_worked_example_first_expiry_first_out(masks, clock):
    clock.freeze(datetime(2026, 12, 5, 10))
    receive(masks, 30)  # before tracking: no batch asked
    batches.tracking_start(sku=masks, warn_days=45)
    receive(masks, 20, "A", date(2027, 6, 30))
    receive(masks, 10, "B", date(2027, 1, 31))
    receive(masks, 5, "C", date(2026, 12, 31))
    assert on_hand(masks) == {"C": 5, "B": 10, "A": 20, "-": 30}
    assert taken(out(masks, 12)) == [("C", 5), ("B", 7)]
    assert on_hand(masks) == {"B": 3, "A": 20, "-": 30}

    clock.freeze(datetime(2027, 2, 1, 10))
    rows = {row["batch"].code: row for row in batches_in_stock()}
    assert rows["B"]["expired"] and not rows["A"]["expiring"]
    assert taken(out(masks, 10)) == [("A", 10)]
    assert taken(out(masks, 3, reason=StockReason.SCRAP, to=LocationKind.SCRAP)) == [("B", 3)]
    assert taken(out(masks, 35)) == [("A", 10), ("-", 25)]
    assert on_hand(masks) == {"-": 5}
    assert batches.batches_verify() == [] and stock.stock_verify() == []


def test_a_sale_never_takes_an_expired_batch_and_says_which(masks, clock):
    clock.freeze(datetime(2026, 12, 5, 10))
    batches.tracking_start(sku=masks)
    receive(masks, 4, "OLD", date(2026, 12, 10))
    clock.freeze(datetime(2026, 12, 20, 10))
    with pytest.raises(Conflict) as refused:
        out(masks, 1)
    assert "OLD" in str(refused.value.message) and "2026-12-10" in str(refused.value.message)
    assert stock.on_hand(location=where(LocationKind.WAREHOUSE), sku=masks) == 4  # nothing moved


def test_a_receipt_must_name_its_batch_and_keep_its_expiry(masks, clock):
    clock.freeze(datetime(2026, 12, 5, 10))
    batches.tracking_start(sku=masks, shelf_life_days=365)
    with pytest.raises(BusinessError):
        receive(masks, 5)
    receive(masks, 5, "L1")  # the shelf life gives the expiry
    assert batches_in_stock()[0]["expires_on"] == date(2027, 12, 5)
    with pytest.raises(BusinessError):  # the same batch with another expiry is a typo
        receive(masks, 5, "L1", date(2027, 1, 1))


def test_a_transfer_between_warehouses_keeps_the_batches(masks, clock):
    from weishang.trade.models import Location

    clock.freeze(datetime(2026, 12, 5, 10))
    batches.tracking_start(sku=masks)
    receive(masks, 6, "A", date(2027, 3, 1))
    receive(masks, 6, "B", date(2027, 2, 1))
    second = Location.objects.create(name="华东仓", kind=LocationKind.WAREHOUSE)
    moved = stock.stock_move(
        moves=[stock.Move(where(LocationKind.WAREHOUSE), second, masks, 8)], reason=StockReason.ADJUSTMENT
    )
    assert sorted(
        (m.batch.code, m.location_id == second.pk, m.quantity) for m in BatchMove.objects.filter(stock_move__in=moved)
    ) == [
        ("A", False, -2),
        ("A", True, 2),
        ("B", False, -6),
        ("B", True, 6),
    ]
    assert batches.batches_verify() == []


def test_an_untracked_sku_moves_as_before(masks):
    receive(masks, 3)
    out(masks, 2)
    assert not BatchMove.objects.exists()


def test_a_batch_received_again_on_a_later_day_keeps_its_expiry(masks, clock):
    """Review: a batch's second receipt (a purchase order received in two parts) without an expiry
    typed was refused, because the shelf life was counted again from the second day."""
    clock.freeze(datetime(2026, 12, 5, 10))
    batches.tracking_start(sku=masks, shelf_life_days=365)
    receive(masks, 5, "L1")  # expires 2027-12-05 by the shelf life
    clock.freeze(datetime(2026, 12, 8, 10))
    receive(masks, 7, "L1")  # the rest of the same batch, three days later
    assert [(row["batch"].code, row["units"], row["expires_on"]) for row in batches_in_stock()] == [
        ("L1", 12, date(2027, 12, 5))
    ]
    assert batches.batches_verify() == []


def test_a_batch_number_too_long_is_refused_not_cut(masks, clock):
    """Review: a batch number longer than the 40 characters kept was cut silently, so two numbers
    sharing their first 40 characters became one batch (with the first one's expiry)."""
    clock.freeze(datetime(2026, 12, 5, 10))
    batches.tracking_start(sku=masks)
    with pytest.raises(BusinessError):
        receive(masks, 5, "L" * 40 + "-A", date(2027, 6, 1))
    assert stock.on_hand(location=where(LocationKind.WAREHOUSE), sku=masks) == 0
    assert batches_in_stock() == []
