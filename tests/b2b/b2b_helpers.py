"""Helpers for the B2B tests (imported by name: tests/b2b is on the path)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from weishang.core import clock
from weishang.trade import stock
from weishang.trade.models import LocationKind, StockReason


def receive(sku, units: int, cost: str, batch_code: str = "", expires_on=None) -> None:
    """``units`` of ``sku`` into the warehouse from the supplier, at ``cost`` each (into a batch
    with its expiry when the SKU is kept by batch)."""
    stock.stock_move(
        moves=[
            stock.Move(
                stock.location_singleton(LocationKind.SUPPLIER),
                stock.location_singleton(LocationKind.WAREHOUSE),
                sku,
                units,
                unit_cost=Decimal(cost),
                batch_code=batch_code,
                expires_on=expires_on,
            )
        ],
        reason=StockReason.RECEIPT,
    )


def day(n: int) -> str:
    """The date n days from today, as a form sends it."""
    return f"{clock.today() + timedelta(days=n):%Y-%m-%d}"
