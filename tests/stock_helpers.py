"""Stock set-up shared by the tests: goods arriving from the supplier.

Import it as ``from tests.stock_helpers import receive``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from weishang.catalog.models import SKU
from weishang.trade import stock
from weishang.trade.models import Location, LocationKind, StockReason


def receive(
    sku: SKU,
    units: int,
    *,
    into: Location | None = None,
    unit_cost: Decimal | str | int | None = None,
    batch_code: str = "",
    expires_on: date | None = None,
) -> Location:
    """``units`` of ``sku`` arrive from the supplier into ``into``: one stock move with the reason
    "receipt", through ``stock.stock_move`` (so the inventory listeners value and batch it as they
    would a real receipt). Returns the location that received them.

    ``into`` is the brand's warehouse when not given; pass any other location, e.g. an agent's
    cloud stock, ``stock.location_for_agent(agent, LocationKind.CLOUD)``.

    ``unit_cost`` is what one unit cost (a Decimal, or a string such as ``"30.00"``); ``None``
    receives them at the warehouse's average cost. ``batch_code`` and ``expires_on`` name the batch
    (批号) and its expiry for SKUs kept by batch; ``""`` and ``None`` give none.
    """
    source = stock.location_singleton(LocationKind.SUPPLIER)
    target = into if into is not None else stock.location_singleton(LocationKind.WAREHOUSE)
    cost = None if unit_cost is None else Decimal(unit_cost)
    move = stock.Move(source, target, sku, units, unit_cost=cost, batch_code=batch_code, expires_on=expires_on)
    stock.stock_move(moves=[move], reason=StockReason.RECEIPT)
    return target
