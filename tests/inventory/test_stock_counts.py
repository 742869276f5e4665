"""Stock counts (盘点): begun with the units on hand, counted on the sheet, posted as stock moves
valued at the average cost into gains and losses.

Worked example: CREAM 10 on hand worth ¥100.00 (¥10 each), MASK 4 worth ¥20.00 (¥5 each). Counted:
CREAM 8 (2 broken), MASK 5 (one found behind a shelf). Posting: CREAM 2 out at ¥10 → −¥20.00 (a
loss: gains and losses debited 20.00); MASK 1 in at ¥5 → +¥5.00 (a gain: credited 5.00). Inventory
ends at 80.00 + 25.00 = ¥105.00; gains and losses at ¥15.00 (debit: a net loss)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from weishang.catalog.models import SKU, Product
from weishang.core.errors import BusinessError, Conflict
from weishang.core.roles import role_group_name, roles_sync
from weishang.inventory import services
from weishang.inventory.models import CountStatus, SkuValuation, StockCount
from weishang.ledger.models import Account, Purpose
from weishang.ledger.selectors import ledger_verify
from weishang.trade import stock
from weishang.trade.models import LocationKind, StockMove, StockReason
from weishang.trade.stock import Move, stock_verify

pytestmark = pytest.mark.django_db
D = Decimal
_seq = itertools.count(1)


@pytest.fixture
def skus(db):
    product = Product.objects.create(name="焕颜系列")
    cream = SKU.objects.create(product=product, code="CREAM", name="面霜", retail_price=D("198"))
    mask = SKU.objects.create(product=product, code="MASK", name="面膜", retail_price=D("99"))
    warehouse = stock.location_singleton(LocationKind.WAREHOUSE)
    supplier = stock.location_singleton(LocationKind.SUPPLIER)
    stock.stock_move(
        moves=[
            Move(supplier, warehouse, cream, 10, unit_cost=D("10")),
            Move(supplier, warehouse, mask, 4, unit_cost=D("5")),
        ],
        reason=StockReason.RECEIPT,
    )
    return cream, mask


def staff(role):
    roles_sync()
    user = get_user_model().objects.create_user(
        username=f"{role}{next(_seq)}", password="staff-pass-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role_group_name(role)))
    return get_user_model().objects.get(pk=user.pk)


def balance(purpose):
    account = Account.objects.filter(owner__isnull=True, purpose=purpose).first()
    return account.balance if account else D("0.00")


def test_the_worked_example(skus):
    cream, mask = skus
    count = services.stock_count_start()
    assert {(line.sku.code, line.expected) for line in count.lines.all()} == {("CREAM", 10), ("MASK", 4)}
    services.stock_count_record(count=count, counted={cream.pk: "8", mask.pk: 5}, reasons={cream.pk: "破损 2 瓶"})
    moved = services.stock_count_post(count=count)
    assert {(line.sku.code, line.difference) for line in moved} == {("CREAM", -2), ("MASK", 1)}
    assert SkuValuation.objects.get(sku=cream).value == D("80.00")
    assert SkuValuation.objects.get(sku=mask).value == D("25.00")
    assert balance(Purpose.BRAND_INVENTORY) == D("105.00")
    assert balance(Purpose.BRAND_INVENTORY_ADJUSTMENT) == D("15.00")
    assert StockMove.objects.filter(reason=StockReason.ADJUSTMENT, note=count.number).count() == 2
    assert StockCount.objects.get(pk=count.pk).status == CountStatus.POSTED
    assert services.valuation_verify() == [] and ledger_verify() == [] and stock_verify() == []
    with pytest.raises(Conflict):
        services.stock_count_post(count=count)  # posted once


def test_the_difference_is_against_what_is_on_hand_when_posting(skus, make_agent):
    """The count began with 10 on hand; 3 were filled out before posting and the shelf then held 7,
    which the counter entered. The difference is taken against the units on hand when posting (as
    Odoo applies a count): 7 − 7, nothing moves — not 7 − 10, which would lose 3 units twice."""
    cream, _mask = skus
    count = services.stock_count_start()
    agent = stock.location_for_agent(make_agent("general"), LocationKind.CLOUD)
    stock.stock_move(
        moves=[Move(stock.location_singleton(LocationKind.WAREHOUSE), agent, cream, 3)], reason="order_fill"
    )
    services.stock_count_record(count=count, counted={cream.pk: 7})
    assert services.stock_count_post(count=count) == []
    assert not StockMove.objects.filter(reason=StockReason.ADJUSTMENT).exists()


@pytest.mark.parametrize("bad", ["-1", "2.5", "abc", "99999999999", "1e3"])
def test_a_bad_count_is_refused_and_changes_nothing(skus, bad):
    cream, mask = skus
    count = services.stock_count_start()
    services.stock_count_record(count=count, counted={mask.pk: 3})
    with pytest.raises(BusinessError) as refused:
        services.stock_count_record(count=count, counted={mask.pk: 4, cream.pk: bad})
    assert refused.value.field == "counted" and "CREAM" in str(refused.value.message)
    assert dict(count.lines.values_list("sku__code", "counted")) == {"CREAM": None, "MASK": 3}


def test_nothing_counted_cannot_be_posted_and_a_cancelled_count_is_closed(skus):
    count = services.stock_count_start()
    with pytest.raises(Conflict):
        services.stock_count_post(count=count)
    services.stock_count_cancel(count=count)
    with pytest.raises(Conflict):
        services.stock_count_record(count=count, counted={skus[0].pk: 1})


def test_the_warehouse_counts_and_finance_posts_in_the_console(client, skus):
    cream, mask = skus
    keeper, finance = staff("warehouse"), staff("finance")
    client.force_login(keeper)
    started = client.post("/console/inventory/stockcount/add/", {"location": stock.location_singleton("warehouse").pk})
    assert started.status_code == 302
    count = StockCount.objects.get()
    sheet = f"/console/inventory/stockcount/{count.pk}/sheet/"
    page = client.get(f"/console/inventory/stockcount/{count.pk}/change/").content.decode()
    assert "盘点表" in page and 'name="counted-' in page and 'value="post"' not in page
    client.post(sheet, {"step": "save", f"counted-{cream.pk}": "9", f"reason-{cream.pk}": "少 1"})
    assert client.post(sheet, {"step": "post"}).status_code == 403  # the warehouse does not post
    client.post(sheet, {"step": "save", f"counted-{mask.pk}": "-4"}, follow=True)
    assert dict(count.lines.values_list("sku__code", "counted")) == {"CREAM": 9, "MASK": None}
    client.force_login(finance)
    done = client.post(sheet, {"step": "post"}, follow=True)
    assert "已过账" in done.content.decode()
    assert SkuValuation.objects.get(sku=cream).quantity == 9
    assert balance(Purpose.BRAND_INVENTORY_ADJUSTMENT) == D("10.00")
    client.force_login(staff("operations"))
    assert client.get("/console/inventory/stockcount/").status_code == 403
