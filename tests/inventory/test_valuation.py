"""The brand's warehouse stock at moving average cost, posted to the ledger as it moves.

Worked example (by hand; every figure to the fen), one SKU in the company warehouse:

=====================================  =====  ========  =======================  ===========
step                                   units  value ¥   average ¥                posted
=====================================  =====  ========  =======================  ===========
receive 10 at 20.00                    10     200.00    20.00                    Dr inv 200 / Cr GRNI 200
receive 5 at 23.00                     15     315.00    21.00                    Dr inv 115 / Cr GRNI 115
fill 4 to an agent (sale)              11     231.00    21.00  (315 × 4/15 = 84) Dr COGS 84 / Cr inv 84
landed cost 11.00 (freight)            11     242.00    22.00                    Dr inv 11 / Cr payables 11
receive 3 at 26.00                     14     320.00    22.857142…               Dr inv 78 / Cr GRNI 78
fill 7 (320 × 7/14 = 160.00)           7      160.00    22.857142…               Dr COGS 160 / Cr inv 160
a cancelled fill returns 1 at average  8      182.86    22.8575 (1 × 160/7 → 22.86)  Dr inv 22.86 / Cr COGS 22.86
fill the last 8: all that is left      0      0.00      —                        Dr COGS 182.86 / Cr inv 182.86
=====================================  =====  ========  =======================  ===========

In: 200 + 115 + 11 + 78 = 404.00; cost of goods sold: 84 + 160 − 22.86 + 182.86 = 404.00. The
inventory account ends at 0.00, goods received not billed at 393.00 (credit), payables at 11.00.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests import stock_helpers
from weishang.catalog.models import SKU, Product
from weishang.core.errors import Conflict
from weishang.inventory import services
from weishang.inventory.models import LayerKind, SkuValuation, ValuationLayer
from weishang.ledger.models import Account, Purpose
from weishang.ledger.selectors import ledger_verify
from weishang.trade import stock
from weishang.trade.models import LocationKind, StockReason
from weishang.trade.stock import Move, stock_verify

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def sku(db):
    product = Product.objects.create(name="焕颜精华")
    return SKU.objects.create(product=product, code="GLOW", name="精华 30ml", retail_price=D("199.00"))


@pytest.fixture
def places(make_agent):
    agent = make_agent("general")
    return (
        stock.location_singleton(LocationKind.SUPPLIER),
        stock.location_singleton(LocationKind.WAREHOUSE),
        stock.location_for_agent(agent, LocationKind.CLOUD),
    )


def brand_balance(purpose: str) -> Decimal:
    account = Account.objects.filter(owner__isnull=True, purpose=purpose).first()
    return account.balance if account else D("0.00")


def valued(sku) -> tuple[int, Decimal]:
    v = SkuValuation.objects.get(sku=sku)
    return v.quantity, v.value


def test_the_worked_example(sku, places):
    supplier, warehouse, agent = places

    def receive(units, cost):
        stock_helpers.receive(sku, units, into=warehouse, unit_cost=cost)

    def fill(units):
        stock.stock_move(moves=[Move(warehouse, agent, sku, units)], reason=StockReason.ORDER_FILL)

    receive(10, "20.00")
    assert valued(sku) == (10, D("200.00"))
    receive(5, "23.00")
    assert valued(sku) == (15, D("315.00"))
    assert SkuValuation.objects.get(sku=sku).average_cost == D("21.00")
    fill(4)
    assert valued(sku) == (11, D("231.00"))
    services.landed_cost_add(sku=sku, amount="11.00", reference="freight PO1")
    assert valued(sku) == (11, D("242.00"))
    assert SkuValuation.objects.get(sku=sku).average_cost == D("22.00")
    receive(3, "26.00")
    assert valued(sku) == (14, D("320.00"))
    fill(7)
    assert valued(sku) == (7, D("160.00"))
    stock.stock_move(moves=[Move(agent, warehouse, sku, 1)], reason=StockReason.CANCEL)
    assert valued(sku) == (8, D("182.86"))
    fill(8)
    assert valued(sku) == (0, D("0.00"))

    layers = list(ValuationLayer.objects.filter(sku=sku).values_list("kind", "quantity", "value"))
    assert layers == [
        (LayerKind.RECEIPT, 10, D("200.00")),
        (LayerKind.RECEIPT, 5, D("115.00")),
        (LayerKind.OUT, -4, D("-84.00")),
        (LayerKind.LANDED_COST, 0, D("11.00")),
        (LayerKind.RECEIPT, 3, D("78.00")),
        (LayerKind.OUT, -7, D("-160.00")),
        (LayerKind.IN_AT_AVERAGE, 1, D("22.86")),
        (LayerKind.OUT, -8, D("-182.86")),
    ]
    assert brand_balance(Purpose.BRAND_INVENTORY) == D("0.00")
    assert brand_balance(Purpose.BRAND_COST_OF_GOODS_SOLD) == D("404.00")
    assert brand_balance(Purpose.BRAND_GOODS_RECEIVED) == D("393.00")
    assert brand_balance(Purpose.BRAND_PAYABLES) == D("11.00")
    assert services.valuation_verify() == [] and ledger_verify() == [] and stock_verify() == []


def test_moves_that_do_not_touch_a_warehouse_or_stay_inside_cost_nothing(sku, places, make_agent):
    supplier, warehouse, agent = places
    other = stock.location_for_agent(make_agent("vip"), LocationKind.CLOUD)
    stock.stock_move(moves=[Move(supplier, agent, sku, 5, unit_cost=D("9.99"))], reason=StockReason.RECEIPT)
    stock.stock_move(moves=[Move(agent, other, sku, 2)], reason=StockReason.ORDER_FILL)
    assert not ValuationLayer.objects.exists() and brand_balance(Purpose.BRAND_INVENTORY) == 0
    second = stock.Location.objects.create(kind=LocationKind.WAREHOUSE, code="wh-2", name="二号仓")
    stock.stock_move(moves=[Move(supplier, warehouse, sku, 4, unit_cost=D("10.00"))], reason=StockReason.RECEIPT)
    stock.stock_move(moves=[Move(warehouse, second, sku, 3)], reason=StockReason.ADJUSTMENT)
    assert valued(sku) == (4, D("40.00")) and ValuationLayer.objects.count() == 1
    assert services.valuation_verify() == []


def test_a_count_loss_and_scrap_go_to_gains_and_losses_at_average(sku, places):
    supplier, warehouse, _agent = places
    scrap = stock.location_singleton(LocationKind.SCRAP)
    stock.stock_move(moves=[Move(supplier, warehouse, sku, 3, unit_cost=D("10.00"))], reason=StockReason.RECEIPT)
    # one third of ¥10.00 each is not a whole number of fen: 30.00 × 1/3 = 10.00, then 20.00 × 1/2
    stock.stock_move(moves=[Move(warehouse, scrap, sku, 1)], reason=StockReason.SCRAP)
    assert valued(sku) == (2, D("20.00"))
    assert brand_balance(Purpose.BRAND_INVENTORY_ADJUSTMENT) == D("10.00")
    assert services.valuation_verify() == [] and ledger_verify() == []


def test_stock_found_without_a_cost_is_opened_at_zero_and_its_cost_set_later(sku, places):
    """Units written before valuation (or in bulk) leave at no cost until finance sets it."""
    from weishang.trade.models import StockLevel, StockMove

    supplier, warehouse, agent = places
    # 6 units the demo's history wrote in bulk: a move and a level, no layer
    StockMove.objects.create(from_location=supplier, to_location=warehouse, sku=sku, quantity=6, reason="receipt")
    StockLevel.objects.create(location=warehouse, sku=sku, quantity=6)
    problems = services.valuation_verify()
    assert problems == [] or all("valued" in p for p in problems)
    services.valuation_open(costs={sku.pk: "12.50"})
    assert valued(sku) == (6, D("75.00"))
    assert brand_balance(Purpose.BRAND_OPENING_BALANCE) == D("75.00")
    # and if nobody opened it, the first unit out opens what is missing at no cost
    StockMove.objects.create(from_location=supplier, to_location=warehouse, sku=sku, quantity=4, reason="receipt")
    StockLevel.objects.filter(location=warehouse, sku=sku).update(quantity=10)
    stock.stock_move(moves=[Move(warehouse, agent, sku, 10)], reason=StockReason.ORDER_FILL)
    assert valued(sku) == (0, D("0.00"))
    assert list(ValuationLayer.objects.filter(sku=sku).values_list("kind", "quantity", "value")) == [
        (LayerKind.OPENING, 6, D("75.00")),
        (LayerKind.OPENING, 4, D("0.00")),
        (LayerKind.OUT, -10, D("-75.00")),
    ]
    assert services.valuation_verify() == [] and ledger_verify() == []


def test_setting_the_cost_of_stock_posts_the_difference_to_opening_balances(sku, places):
    supplier, warehouse, _agent = places
    stock.stock_move(moves=[Move(supplier, warehouse, sku, 4)], reason=StockReason.RECEIPT, counter="brand_cash")
    assert valued(sku) == (4, D("0.00"))  # no cost given: at the average, which was nothing
    services.valuation_set_cost(sku=sku, unit_cost="7.25")
    assert valued(sku) == (4, D("29.00"))
    assert brand_balance(Purpose.BRAND_OPENING_BALANCE) == D("29.00")
    with pytest.raises(Conflict, match="已按该成本计价"):
        services.valuation_set_cost(sku=sku, unit_cost="7.25")
    assert services.valuation_verify() == [] and ledger_verify() == []


@pytest.mark.parametrize("amount", ["-1", "abc", "NaN", "1e30", "0.00001", ""])
def test_a_bad_landed_cost_is_refused_and_changes_nothing(sku, places, amount):
    supplier, warehouse, _agent = places
    stock.stock_move(moves=[Move(supplier, warehouse, sku, 2, unit_cost=D("5"))], reason=StockReason.RECEIPT)
    with pytest.raises(Exception) as refused:
        services.landed_cost_add(sku=sku, amount=amount, reference="x")
    assert getattr(refused.value, "field", None) == "amount"
    assert valued(sku) == (2, D("10.00")) and ValuationLayer.objects.count() == 1


def test_verify_finds_a_cached_value_changed_behind_the_services_back(sku, places):
    supplier, warehouse, _agent = places
    stock.stock_move(moves=[Move(supplier, warehouse, sku, 2, unit_cost=D("5"))], reason=StockReason.RECEIPT)
    SkuValuation.objects.filter(sku=sku).update(value=D("11.00"))
    problems = services.valuation_verify()
    assert any("GLOW" in p and "10.00" in p and "11.00" in p for p in problems), problems
