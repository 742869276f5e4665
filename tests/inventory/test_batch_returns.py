"""Units a trade order gives back to the warehouse (a return approved on a filled order) go back
into the batches the order line's fill took them from, so their expiry and first-expiry-first-out
stay right. Before the fix they went into the SKU's unbatched batch, which has no expiry and is
picked last.

Worked example (by hand), the clock at 2026-12-05, 修护精华 kept by batch, A expires 2027-03-31,
B 2027-12-31; a 总代 with no upline buys from the company (at least 20 units an order):

=============================================  ===========================================
step                                           batches in the warehouse after it
=============================================  ===========================================
receive A 30, B 100                            A 30, B 100
order 1 fills 20 (first expiry first: A)       A 10, B 100
order 2 fills 25 (A 10, then B 15)             B 85
order 1 returned: its 20 back into A           A 20, B 85  (not unbatched 20)
order 2 returned: A 10 and B 15 back           A 30, B 100
a new order of 20 takes A first again          A 10, B 100
=============================================  ===========================================
"""

from __future__ import annotations

import io
import itertools
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from tests.stock_helpers import receive
from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.core.models import Brand, SupplyMode
from weishang.core.roles import role_group_name, roles_sync
from weishang.inventory import batches
from weishang.inventory.models import BatchMove
from weishang.inventory.selectors import batches_in_stock
from weishang.trade import services as trade
from weishang.trade import stock
from weishang.trade.models import LocationKind, StockMove, StockReason

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)


@pytest.fixture
def sku(db, levels):
    product = Product.objects.create(name="焕颜修护系列")
    sku = SKU.objects.create(product=product, code="SERUM", name="修护精华", retail_price=Decimal("198.00"))
    LevelPrice.objects.create(sku=sku, level=levels["general"], price=Decimal("90.00"))
    return sku


@pytest.fixture
def boss(db):
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    roles_sync()
    user = get_user_model().objects.create_user(username=f"owner-{next(_seq)}", password="pw-123456", is_staff=True)
    user.groups.add(Group.objects.get(name=role_group_name("owner")))
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def buyer(make_agent):
    return make_agent("general")  # no upline: the company sells, from its warehouse


def screenshot():
    buf = io.BytesIO()
    Image.new("RGB", (40, 40), (10, 200, 10)).save(buf, format="PNG")
    return SimpleUploadedFile("transfer.png", buf.getvalue(), content_type="image/png")


def filled(boss, buyer, sku, units):
    order = trade.order_submit(buyer=buyer, lines=[(sku, units)], by=buyer.user)
    assert order.seller_id is None
    trade.order_approve(order=order, by=boss)
    payment = trade.payment_submit_transfer(order=order, by=buyer.user, screenshot=screenshot())
    trade.payment_confirm(payment=payment, by=boss)
    trade.order_fill(order=order, by=boss)
    order.refresh_from_db()
    return order


def refunded(boss, buyer, order):
    trade.refund_request(order=order, by=buyer.user, note="过敏")
    trade.refund_approve(order=order, by=boss, note="同意")


def on_hand() -> dict[str, int]:
    return {row["batch"].code: row["units"] for row in batches_in_stock()}


def all_agrees() -> bool:
    call_command("inventory", "verify")  # raises CommandError on any difference
    return batches.batches_verify() == [] and stock.stock_verify() == []


def test_the_worked_example_returns_go_back_into_their_batches(boss, buyer, sku, clock):
    clock.freeze(datetime(2026, 12, 5, 10))
    batches.tracking_start(sku=sku)
    receive(sku, 30, unit_cost="30.00", batch_code="A", expires_on=date(2027, 3, 31))
    receive(sku, 100, unit_cost="30.00", batch_code="B", expires_on=date(2027, 12, 31))
    first = filled(boss, buyer, sku, 20)
    assert on_hand() == {"A": 10, "B": 100}
    second = filled(boss, buyer, sku, 25)
    assert on_hand() == {"B": 85}

    refunded(boss, buyer, first)
    assert on_hand() == {"A": 20, "B": 85}  # no unbatched units without an expiry
    assert {row["batch"].code: row["expires_on"] for row in batches_in_stock()}["A"] == date(2027, 3, 31)
    refunded(boss, buyer, second)
    assert on_hand() == {"A": 30, "B": 100}
    assert all_agrees()

    third = filled(boss, buyer, sku, 20)  # first expiry first out: A again
    fill = StockMove.objects.get(order_line__order=third, reason=StockReason.ORDER_FILL)
    assert [(m.batch.code, m.quantity) for m in BatchMove.objects.filter(stock_move=fill)] == [("A", -20)]
    assert on_hand() == {"A": 10, "B": 100}
    assert all_agrees()


def test_a_return_split_across_two_batches_restores_both(boss, buyer, sku, clock):
    clock.freeze(datetime(2026, 12, 5, 10))
    batches.tracking_start(sku=sku)
    receive(sku, 30, unit_cost="30.00", batch_code="A", expires_on=date(2027, 3, 31))
    receive(sku, 100, unit_cost="30.00", batch_code="B", expires_on=date(2027, 12, 31))
    order = filled(boss, buyer, sku, 40)  # A 30, then B 10
    assert on_hand() == {"B": 90}
    refunded(boss, buyer, order)
    assert on_hand() == {"A": 30, "B": 100}
    back = StockMove.objects.get(order_line__order=order, reason=StockReason.RETURN)
    assert sorted((m.batch.code, m.quantity) for m in BatchMove.objects.filter(stock_move=back)) == [
        ("A", 30),
        ("B", 10),
    ]
    assert all_agrees()


def test_returns_in_parts_put_back_no_more_than_each_batch_gave(boss, buyer, sku, clock):
    """A line's units coming back in several moves (as a partial return would): the batch shipped
    last first, each batch no more than the line took from it less what came back before."""
    clock.freeze(datetime(2026, 12, 5, 10))
    batches.tracking_start(sku=sku)
    receive(sku, 30, unit_cost="30.00", batch_code="A", expires_on=date(2027, 3, 31))
    receive(sku, 100, unit_cost="30.00", batch_code="B", expires_on=date(2027, 12, 31))
    order = filled(boss, buyer, sku, 40)  # A 30, then B 10
    line = order.lines.get()
    cloud = stock.location_for_agent(buyer, LocationKind.CLOUD)
    warehouse = stock.location_singleton(LocationKind.WAREHOUSE)

    def back(*units, reason=StockReason.RETURN):
        stock.stock_move(moves=[stock.Move(cloud, warehouse, sku, n, line.pk) for n in units], reason=reason)

    back(6)  # the batch shipped last first
    assert on_hand() == {"B": 96}
    back(3, 4, reason=StockReason.CANCEL)  # B gave 10 and has 6 back: 3 and then 1, then 3 into A
    assert on_hand() == {"A": 3, "B": 100}
    back(27)  # the rest: all A's
    assert on_hand() == {"A": 30, "B": 100}
    assert all_agrees()


def test_units_filled_before_the_sku_was_kept_by_batch_come_back_unbatched(boss, buyer, sku, clock):
    clock.freeze(datetime(2026, 12, 5, 10))
    receive(sku, 20, unit_cost="30.00")  # not kept by batch yet
    before = filled(boss, buyer, sku, 20)
    batches.tracking_start(sku=sku)
    receive(sku, 30, unit_cost="30.00", batch_code="A", expires_on=date(2027, 3, 31))
    after = filled(boss, buyer, sku, 20)
    refunded(boss, buyer, before)
    refunded(boss, buyer, after)
    assert on_hand() == {"A": 30, "-": 20}  # only what no batch gave goes unbatched
    assert all_agrees()
