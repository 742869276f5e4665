"""Level prices (拿货价): the override table, the retail × discount fallback and the grid."""

from __future__ import annotations

from decimal import Decimal

import pytest

from weishang.catalog import selectors, services
from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.channel.models import Level


@pytest.fixture
def product(db):
    return Product.objects.create(name="焕颜修护系列")


def make_sku(product, code: str, retail: str) -> SKU:
    return SKU.objects.create(product=product, code=code, name=code, retail_price=Decimal(retail))


def set_discount(level: Level, discount: str) -> Level:
    level.discount = Decimal(discount)
    level.save()
    return level


# --- level_price ----------------------------------------------------------------------------


def test_fallback_is_retail_times_discount(product, levels):
    sku = make_sku(product, "A", "298")
    assert selectors.level_price(sku=sku, level=levels["partner"]) == Decimal("89.40")  # × 0.30
    assert selectors.level_price(sku=sku, level=levels["vip"]) == Decimal("238.40")  # × 0.80


@pytest.mark.parametrize(
    "retail,discount,expected",
    [
        ("0.25", "0.500", "0.13"),  # 0.125 → half up (banker's rounding would give 0.12)
        ("0.35", "0.500", "0.18"),  # 0.175
        ("99.99", "0.333", "33.30"),  # 33.29667
        ("10.01", "0.125", "1.25"),  # 1.25125
        ("10.03", "0.125", "1.25"),  # 1.25375 → 1.25
        ("10.04", "0.125", "1.26"),  # 1.255 → half up
        ("0.01", "0.001", "0.00"),  # 0.00001
        ("0", "0.800", "0.00"),
        ("123456789.99", "1.000", "123456789.99"),
    ],
)
def test_fallback_rounds_half_up_to_a_fen(product, levels, retail, discount, expected):
    sku = make_sku(product, "A", retail)
    level = set_discount(levels["city"], discount)
    price = selectors.level_price(sku=sku, level=level)
    assert price == Decimal(expected)
    assert price.as_tuple().exponent == -2  # always two places: it is money


def test_override_wins_over_fallback(product, levels):
    sku = make_sku(product, "A", "298")
    LevelPrice.objects.create(sku=sku, level=levels["vip"], price=Decimal("230"))
    assert selectors.level_price(sku=sku, level=levels["vip"]) == Decimal("230.00")
    # other levels and other SKUs still fall back
    assert selectors.level_price(sku=sku, level=levels["city"]) == Decimal("178.80")
    other = make_sku(product, "B", "100")
    assert selectors.level_price(sku=other, level=levels["vip"]) == Decimal("80.00")


def test_override_of_zero_is_a_price_not_a_missing_row(product, levels):
    sku = make_sku(product, "A", "298")
    LevelPrice.objects.create(sku=sku, level=levels["vip"], price=Decimal("0"))
    assert selectors.level_price(sku=sku, level=levels["vip"]) == Decimal("0")


def test_fallback_follows_discount_changes(product, levels):
    sku = make_sku(product, "A", "200")
    assert selectors.level_price(sku=sku, level=levels["vip"]) == Decimal("160.00")
    set_discount(levels["vip"], "0.75")
    assert selectors.level_price(sku=sku, level=levels["vip"]) == Decimal("150.00")


# --- price_grid -----------------------------------------------------------------------------


def test_price_grid_shape(product, levels):
    second = Product.objects.create(name="面膜")
    make_sku(product, "B", "100")
    a = make_sku(product, "A", "298")
    m = make_sku(second, "M", "99")
    LevelPrice.objects.create(sku=a, level=levels["general"], price=Decimal("110"))

    grid_levels, rows = selectors.price_grid()
    assert [lvl.code for lvl in grid_levels] == ["partner", "general", "province", "city", "vip"]
    assert [sku.code for sku, _cells in rows] == ["A", "B", "M"]  # by product, then code
    for sku, cells in rows:
        assert [lvl.code for lvl, _set, _eff in cells] == ["partner", "general", "province", "city", "vip"]
        for level, set_price, effective in cells:
            if (sku, level) == (a, levels["general"]):
                assert set_price == Decimal("110") and effective == Decimal("110")
            else:
                assert set_price is None
                assert effective == selectors.level_price(sku=sku, level=level)
    cells_m = dict((lvl.code, eff) for lvl, _s, eff in rows[2][1])
    assert cells_m == {
        "partner": Decimal("29.70"),
        "general": Decimal("39.60"),
        "province": Decimal("49.50"),
        "city": Decimal("59.40"),
        "vip": Decimal("79.20"),
    }
    assert m in [sku for sku, _ in rows]


def test_price_grid_empty(db):
    assert selectors.price_grid() == ([], [])


def test_price_grid_levels_without_skus(levels):
    grid_levels, rows = selectors.price_grid()
    assert len(grid_levels) == 5 and rows == []


# --- parse_price and level_prices_set (the service behind the grid) ------------------------


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("", None),
        ("   ", None),
        ("0", Decimal("0.00")),
        ("12", Decimal("12.00")),
        ("12.3", Decimal("12.30")),
        ("12.30", Decimal("12.30")),
        ("¥12.5", Decimal("12.50")),
        ("￥12.5", Decimal("12.50")),
        ("1,234.56", Decimal("1234.56")),
        (" 7 ", Decimal("7.00")),
        ("12.300", Decimal("12.30")),
    ],
)
def test_parse_price_accepts(raw, expected):
    assert services.parse_price(raw) == expected


@pytest.mark.parametrize(
    "raw", ["-1", "-0.01", "abc", "1.005", "NaN", "Infinity", "-Infinity", "1e12", "12.3.4", "1 2"]
)
def test_parse_price_refuses(raw):
    with pytest.raises(ValueError):
        services.parse_price(raw)


def test_level_prices_set_all_or_nothing(product, levels):
    a = make_sku(product, "A", "100")
    with pytest.raises(services.PriceGridError) as info:
        services.level_prices_set(cells={(a.pk, levels["vip"].pk): "50", (a.pk, levels["city"].pk): "x"})
    assert list(info.value.errors) == [(a.pk, levels["city"].pk)]
    assert info.value.field == "prices"
    assert not LevelPrice.objects.exists()
    changed = services.level_prices_set(cells={(a.pk, levels["vip"].pk): "60", (a.pk, levels["city"].pk): "50"})
    assert changed == 2
    assert services.level_prices_set(cells={(a.pk, levels["vip"].pk): "60.00"}) == 0
    assert LevelPrice.history.count() == 2
