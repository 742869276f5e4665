"""Purchasing: a purchase order from draft to closed, receiving with inspection and landed costs,
the supplier's bill matched against what was accepted, and its payment — every figure in the ledger.

Worked example (the order PO: CREAM 10 at ¥30.00 = ¥300.00, MASK 20 at ¥5.00 = ¥100.00):

1. Received: CREAM 10 accepted; MASK 19 accepted and 1 rejected ("包装破损"); freight ¥10.00.
   Accepted value 300 + 95 = 395; freight spread by value: CREAM 10 × 300/395 = 7.594… → ¥7.59,
   MASK the rest ¥2.41. Stock: CREAM 10 worth ¥307.59, MASK 19 worth ¥97.41. Ledger: inventory
   ¥405.00 = goods received not billed ¥395.00 + cash paid for freight ¥10.00.
2. The order is partially received (1 MASK to come); the replacement arrives: received.
3. The bill: CREAM 10 × 30 + MASK 20 × 5 = ¥400.00: goods received not billed cleared to 0, payables ¥400.00.
4. Paid ¥150.00 then ¥250.00: payables 0, the bill paid.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from weishang.catalog.models import SKU, Product
from weishang.core.errors import BusinessError, Conflict
from weishang.inventory.models import ReorderRule, SkuValuation
from weishang.inventory.services import reorder_rule_save, valuation_verify
from weishang.ledger.models import Account, Purpose
from weishang.ledger.selectors import ledger_verify
from weishang.purchasing import services
from weishang.purchasing.models import BillStatus, POStatus, PurchaseOrder, SupplierPrice
from weishang.trade.stock import stock_verify

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def skus(db):
    product = Product.objects.create(name="焕颜系列")
    cream = SKU.objects.create(product=product, code="CREAM", name="面霜", retail_price=D("198"))
    mask = SKU.objects.create(product=product, code="MASK", name="面膜", retail_price=D("99"))
    return cream, mask


@pytest.fixture
def factory(skus):
    supplier = services.supplier_save(name="广州美妆 OEM 工厂", contact="李经理", payment_days=30)
    services.supplier_price_set(supplier=supplier, sku=skus[0], unit_price="30.00", lead_time_days=10)
    services.supplier_price_set(supplier=supplier, sku=skus[1], unit_price="5.00", lead_time_days=5, min_quantity=50)
    return supplier


def balance(purpose):
    account = Account.objects.filter(owner__isnull=True, purpose=purpose).first()
    return account.balance if account else D("0.00")


def confirmed(factory, skus, lines=None):
    po = services.po_create(supplier=factory, lines=lines or [(skus[0], 10, None), (skus[1], 20, None)])
    services.po_move(po=po, move="send")
    return services.po_move(po=po, move="confirm")


def test_the_worked_example(factory, skus):
    cream, mask = skus
    po = confirmed(factory, skus)
    assert po.total == D("400.00")
    lines = {line.sku.code: line for line in po.lines.all()}
    receipt = services.po_receive(
        po=po,
        lines={lines["CREAM"].pk: (10, 0, ""), lines["MASK"].pk: (19, 1, "包装破损")},
        freight="10.00",
    )
    assert [(r.line.sku.code, r.landed_cost) for r in receipt.lines.all()] == [
        ("CREAM", D("7.59")),
        ("MASK", D("2.41")),
    ]
    assert SkuValuation.objects.get(sku=cream).value == D("307.59")
    assert (SkuValuation.objects.get(sku=mask).quantity, SkuValuation.objects.get(sku=mask).value) == (19, D("97.41"))
    assert balance(Purpose.BRAND_INVENTORY) == D("405.00")
    assert balance(Purpose.BRAND_GOODS_RECEIVED) == D("395.00")
    po.refresh_from_db()
    assert po.status == POStatus.PARTIAL
    services.po_receive(po=po, lines={lines["MASK"].pk: (1, 0, "")})
    po.refresh_from_db()
    assert po.status == POStatus.RECEIVED and po.received_at
    bill = services.bill_enter(
        po=po, number="INV-2026-0088", lines={lines["CREAM"].pk: (10, "30.00"), lines["MASK"].pk: (20, None)}
    )
    assert bill.total == D("400.00") and (bill.due_date - bill.bill_date).days == 30
    assert balance(Purpose.BRAND_GOODS_RECEIVED) == D("0.00") and balance(Purpose.BRAND_PAYABLES) == D("400.00")
    services.bill_pay(bill=bill, amount="150.00", reference="网银 001")
    bill.refresh_from_db()
    assert bill.status == BillStatus.PARTIAL and bill.balance == D("250.00")
    services.bill_pay(bill=bill, amount="250.00")
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID and balance(Purpose.BRAND_PAYABLES) == D("0.00")
    services.po_move(po=po, move="close")
    assert ledger_verify() == [] and valuation_verify() == [] and stock_verify() == []


def test_the_spread_adds_up_to_the_fen():
    """¥10.00 of freight over lines worth ¥300 and ¥100: 10 × 300/400 = 7.50 and the rest 2.50.
    Over three equal lines: 10/3 = 3.333… → 3.33, 3.33 and the last takes the remainder 3.34."""
    assert services.spread(D("10.00"), [D("300"), D("100")]) == [D("7.50"), D("2.50")]
    assert services.spread(D("10.00"), [D("1"), D("1"), D("1")]) == [D("3.33"), D("3.33"), D("3.34")]
    assert services.spread(D("10.00"), [D("300"), D("100")]) == [D("7.50"), D("2.50")]
    assert services.spread(D("0.00"), [D("5")]) == [D("0.00")]


def test_states_refuse_what_they_do_not_allow(factory, skus):
    po = services.po_create(supplier=factory, lines=[(skus[0], 5, None)])
    line = po.lines.get()
    with pytest.raises(Conflict):
        services.po_receive(po=po, lines={line.pk: (5, 0, "")})  # a draft receives nothing
    with pytest.raises(Conflict):
        services.po_move(po=po, move="confirm")  # not sent yet
    services.po_move(po=po, move="send")
    services.po_move(po=po, move="confirm")
    services.po_receive(po=po, lines={line.pk: (2, 0, "")})
    with pytest.raises(Conflict):
        services.po_move(po=po, move="cancel")  # goods came: close instead
    services.po_move(po=po, move="close")
    with pytest.raises(Conflict):
        services.po_receive(po=po, lines={line.pk: (3, 0, "")})


def test_receiving_more_than_ordered_or_rejecting_without_a_reason_changes_nothing(factory, skus):
    po = confirmed(factory, skus)
    line = po.lines.get(sku=skus[0])
    for bad in ({line.pk: (11, 0, "")}, {line.pk: (5, 1, "")}, {line.pk: ("-1", 0, "")}, {line.pk: ("abc", 0, "")}):
        with pytest.raises(BusinessError):
            services.po_receive(po=po, lines=bad)
    with pytest.raises(BusinessError):
        services.po_receive(po=po, lines={line.pk: (1, 0, "")}, freight="NaN")
    line.refresh_from_db()
    assert (line.accepted, line.rejected) == (0, 0) and not SkuValuation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_receipts_at_once_never_accept_more_than_was_ordered(factory, skus):
    po = confirmed(factory, skus, lines=[(skus[0], 10, None)])
    line = po.lines.get()
    outcomes = []

    def receive():
        try:
            services.po_receive(po=po, lines={line.pk: (7, 0, "")})
            outcomes.append("ok")
        except BusinessError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=receive) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    line.refresh_from_db()
    assert sorted(outcomes) == ["ok", "refused"] and line.accepted == 7
    assert SkuValuation.objects.get(sku=skus[0]).quantity == 7


def test_a_bill_that_does_not_match_is_refused_line_by_line(factory, skus):
    po = confirmed(factory, skus)
    lines = {line.sku.code: line for line in po.lines.all()}
    services.po_receive(po=po, lines={lines["CREAM"].pk: (6, 0, "")})
    with pytest.raises(BusinessError) as refused:
        services.bill_enter(po=po, number="X1", lines={lines["CREAM"].pk: (8, "31.00")})
    text = str(refused.value.message)
    assert "CREAM" in text and "8" in text and "6" in text and "31.00" in text and "30.00" in text
    assert balance(Purpose.BRAND_PAYABLES) == D("0.00") and not po.bills.exists()
    services.bill_enter(po=po, number="X1", lines={lines["CREAM"].pk: (6, None)})
    with pytest.raises(BusinessError):
        services.bill_enter(po=po, number="X1", lines={lines["CREAM"].pk: (0, None)})  # the same number again
    with pytest.raises(BusinessError):
        services.bill_enter(po=po, number="X2", lines={lines["CREAM"].pk: (1, None)})  # all 6 billed already


@pytest.mark.parametrize("amount", ["0", "-5", "400.01", "abc", "1e9"])
def test_paying_a_bad_amount_is_refused(factory, skus, amount):
    po = confirmed(factory, skus)
    lines = {line.sku.code: line for line in po.lines.all()}
    services.po_receive(po=po, lines={lines["CREAM"].pk: (10, 0, ""), lines["MASK"].pk: (20, 0, "")})
    bill = services.bill_enter(po=po, number="B", lines={lines["CREAM"].pk: (10, None), lines["MASK"].pk: (20, None)})
    with pytest.raises(BusinessError):
        services.bill_pay(bill=bill, amount=amount)
    bill.refresh_from_db()
    assert bill.paid == 0 and balance(Purpose.BRAND_PAYABLES) == D("400.00")


def test_reorder_proposals_become_draft_orders_from_the_cheapest_supplier(factory, skus):
    cream, mask = skus
    dearer = services.supplier_save(name="上海代工厂")
    services.supplier_price_set(supplier=dearer, sku=cream, unit_price="33.00")
    reorder_rule_save(sku=cream, minimum=20, maximum=60, multiple=10)
    reorder_rule_save(sku=mask, minimum=10, maximum=30)
    [po] = services.pos_from_proposals()
    assert po.supplier == factory and po.status == POStatus.DRAFT
    assert {(line.sku.code, line.quantity, line.unit_price) for line in po.lines.all()} == {
        ("CREAM", 60, D("30.00")),
        ("MASK", 50, D("5.00")),  # 30 proposed, the factory's minimum is 50
    }
    services.po_move(po=po, move="send")
    assert services.pos_from_proposals() == []  # what is on order now covers the rules
    assert ReorderRule.objects.count() == 2


def test_a_price_change_is_kept_in_its_history(factory, skus):
    services.supplier_price_set(supplier=factory, sku=skus[0], unit_price="32.00", lead_time_days=10)
    price = SupplierPrice.objects.get(supplier=factory, sku=skus[0])
    assert [h.unit_price for h in price.history.order_by("history_date")] == [D("30.00"), D("32.00")]


def test_a_draft_needs_a_price_when_the_supplier_has_none(skus):
    other = services.supplier_save(name="新工厂")
    with pytest.raises(BusinessError) as refused:
        services.po_create(supplier=other, lines=[(skus[0], 5, None)])
    assert refused.value.field == "unit_price" and not PurchaseOrder.objects.exists()


def test_supplier_performance_worked_by_hand(factory, skus):
    """Three receipts: the cream's order (due tomorrow) arrives whole — on time; the masks' order
    (due yesterday) arrives in two, both late: on time 1 of 3 = 33.3 %. Units inspected: 10 + 20
    + 3 = 33, of which 3 rejected (30 accepted): rejected
    3 / 33 = 9.09 % → 9.1 %. Prices: the cream 30 → 32 (one change), its lead time alone moved
    (no change), the mask set again at 5.00 (no change), then 5.00 → 4.50 (one): 2 changes."""
    from datetime import timedelta

    from weishang.core import clock
    from weishang.purchasing.selectors import supplier_performance

    cream, mask = skus
    early = services.po_create(supplier=factory, lines=[(cream, 10, None)], expected_date=clock.today() + timedelta(1))
    late = services.po_create(supplier=factory, lines=[(mask, 20, None)], expected_date=clock.today() - timedelta(1))
    for po in (early, late):
        services.po_move(po=po, move="send")
    services.po_receive(po=early, lines={early.lines.get().pk: (10, 0, "")})
    services.po_receive(po=late, lines={late.lines.get().pk: (17, 3, "漏液")})
    services.po_receive(po=late, lines={late.lines.get().pk: (3, 0, "")})
    services.supplier_price_set(supplier=factory, sku=cream, unit_price="32.00", lead_time_days=10)
    services.supplier_price_set(supplier=factory, sku=cream, unit_price="32.00", lead_time_days=12)
    services.supplier_price_set(supplier=factory, sku=mask, unit_price="5.00", lead_time_days=5, min_quantity=50)
    services.supplier_price_set(supplier=factory, sku=mask, unit_price="4.50", lead_time_days=5, min_quantity=50)
    figures = supplier_performance(factory)
    assert (figures.receipts, figures.on_time, figures.on_time_rate) == (3, 1, D("33.3"))
    assert (figures.accepted, figures.rejected, figures.rejection_rate) == (30, 3, D("9.1"))
    assert figures.price_changes == 2
