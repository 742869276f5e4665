from __future__ import annotations

from decimal import Decimal

from weishang.catalog.models import SKU, LevelPrice
from weishang.channel.models import Level
from weishang.core.money import to_money


def level_price(*, sku: SKU, level: Level) -> Decimal:
    """What an agent of ``level`` pays for one unit of ``sku``."""
    row = LevelPrice.objects.filter(sku=sku, level=level).values_list("price", flat=True).first()
    return row if row is not None else to_money(sku.retail_price * level.discount)


def price_grid() -> tuple[list[Level], list[tuple[SKU, list[tuple[Level, Decimal | None, Decimal]]]]]:
    """Levels (highest first) and, per SKU, each level's set price (or None) and effective price."""
    levels = list(Level.objects.order_by("rank"))
    skus = list(SKU.objects.select_related("product").order_by("product_id", "code"))
    prices = {(p.sku_id, p.level_id): p.price for p in LevelPrice.objects.all()}
    rows = []
    for sku in skus:
        cells = []
        for level in levels:
            set_price = prices.get((sku.pk, level.pk))
            effective = set_price if set_price is not None else to_money(sku.retail_price * level.discount)
            cells.append((level, set_price, effective))
        rows.append((sku, cells))
    return levels, rows
