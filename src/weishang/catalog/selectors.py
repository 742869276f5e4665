from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch

from weishang.catalog.models import SKU, LevelPrice, Product, ProductImage
from weishang.channel.models import Level
from weishang.core.money import to_money


def level_price(*, sku: SKU, level: Level) -> Decimal:
    """What an agent of ``level`` pays for one unit of ``sku``."""
    return level_prices(skus=[sku], level=level)[sku.pk]


def level_prices(*, skus: list[SKU], level: Level) -> dict[int, Decimal]:
    """What an agent of ``level`` pays for one unit of each of ``skus``, by SKU id, in one query:
    the level's set price, or else the retail price times the level's discount."""
    if not skus:
        return {}
    set_prices = dict(
        LevelPrice.objects.filter(level_id=level.pk, sku_id__in=[sku.pk for sku in skus])
        .order_by()
        .values_list("sku_id", "price")
    )
    return {
        sku.pk: set_prices[sku.pk] if sku.pk in set_prices else to_money(sku.retail_price * level.discount)
        for sku in skus
    }


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


def with_thumbnails(skus):
    """Set ``thumbnail`` on each SKU: its product's first picture (None without one). One query
    for the list, whatever its length."""
    skus = list(skus)
    first: dict[int, ProductImage] = {}
    for image in ProductImage.objects.filter(product_id__in={sku.product_id for sku in skus}).order_by(
        "product_id", "position", "pk"
    ):
        first.setdefault(image.product_id, image)
    for sku in skus:
        sku.thumbnail = first.get(sku.product_id)
    return skus


def product_for_page(product_id: int) -> Product | None:
    """A product on sale with its pictures and its active SKUs (for its public page), or None."""
    return (
        Product.objects.filter(pk=product_id, active=True)
        .prefetch_related("images", Prefetch("skus", queryset=SKU.objects.filter(active=True).order_by("code")))
        .first()
    )


def products_on_sale():
    """The products on sale, by name (a filter's choices)."""
    return Product.objects.filter(active=True).order_by("name")


def first_picture(product_id: int):
    """A product's first picture (its file), or None."""
    image = ProductImage.objects.filter(product_id=product_id).order_by("position", "pk").first()
    return image.image if image else None


def product_names_for(level) -> list[str]:
    """The products an agent of ``level`` may buy and sell (an active SKU with a price for the
    level), by name: what their authorization certificate lists."""
    rows = (
        Product.objects.filter(active=True, skus__active=True, skus__level_prices__level=level)
        .order_by("pk")
        .values_list("pk", "name")
        .distinct()
    )
    return [name for _pk, name in rows]
