"""Helpers for the B2B tests (imported by name: tests/b2b is on the path)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from weishang.core import clock
from weishang.trade import stock
from weishang.trade.models import LocationKind, StockReason


def receive(sku, units: int, cost: str) -> None:
    stock.stock_move(
        moves=[
            stock.Move(
                stock.location_singleton(LocationKind.SUPPLIER),
                stock.location_singleton(LocationKind.WAREHOUSE),
                sku,
                units,
                unit_cost=Decimal(cost),
            )
        ],
        reason=StockReason.RECEIPT,
    )


def day(n: int) -> str:
    """The date n days from today, as a form sends it."""
    return f"{clock.today() + timedelta(days=n):%Y-%m-%d}"
