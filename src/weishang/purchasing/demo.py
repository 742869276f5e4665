"""The demo brand's purchasing: its OEM factory and a packaging supplier with their prices; an order
from last month received (one box of masks rejected at inspection and replaced), billed and paid,
then closed; this month's order confirmed and half received, one jar rejected; and a draft made from
the reorder rules (first, while they propose). Written once, through the services."""

from __future__ import annotations

from datetime import timedelta

from weishang.catalog.models import SKU
from weishang.core import clock
from weishang.purchasing import services
from weishang.purchasing.models import PurchaseOrder


def purchasing_demo(*, by=None) -> None:
    if PurchaseOrder.objects.exists():
        return
    skus = {s.code: s for s in SKU.objects.filter(code__in=["GLOW-30ML", "GLOW-50G", "GLOW-MASK5"])}
    if len(skus) < 3:
        return
    factory = services.supplier_save(
        name="广州焕颜生物科技（OEM 工厂）",
        contact="李经理",
        phone="020-88886666",
        address="广州市白云区太和镇工业园 8 号",
        payment_days=30,
        terms="月结 30 天，满 5000 元包邮",
    )
    packaging = services.supplier_save(name="义乌美包包装", contact="陈小姐", phone="0579-85551234", payment_days=0)
    services.supplier_price_set(
        supplier=factory, sku=skus["GLOW-30ML"], unit_price="42.00", lead_time_days=15, min_quantity=200
    )
    services.supplier_price_set(
        supplier=factory, sku=skus["GLOW-50G"], unit_price="31.50", lead_time_days=15, min_quantity=100
    )
    services.supplier_price_set(
        supplier=factory, sku=skus["GLOW-MASK5"], unit_price="12.80", lead_time_days=7, min_quantity=100
    )
    services.supplier_price_set(supplier=packaging, sku=skus["GLOW-MASK5"], unit_price="13.50", lead_time_days=3)

    # A draft from the reorder rules, made first while they propose (the cream and the masks are
    # below their minimums; the receipts below would lift them over). Its units then count as on
    # order, so 补货规则 proposes no second order for them.
    services.pos_from_proposals(by=by)

    # Last month's order: masks and serum; one box of masks crushed at inspection, replaced, billed, paid.
    last = services.po_create(
        supplier=factory,
        lines=[(skus["GLOW-30ML"], 200, None), (skus["GLOW-MASK5"], 100, None)],
        expected_date=clock.today() - timedelta(days=10),
        note="十一月补货",
        by=by,
    )
    services.po_move(po=last, move="send", by=by)
    services.po_move(po=last, move="confirm", by=by)
    lines = {line.sku.code: line for line in last.lines.all()}
    services.po_receive(
        po=last,
        lines={lines["GLOW-30ML"].pk: (200, 0, ""), lines["GLOW-MASK5"].pk: (99, 1, "外箱压坏，面膜漏液")},
        freight="180.00",
        batches={lines["GLOW-MASK5"].pk: ("MK20261015", clock.today() + timedelta(days=680))},
        by=by,
    )
    services.po_receive(
        po=last,
        lines={lines["GLOW-MASK5"].pk: (1, 0, "")},
        note="补发 1 盒",
        batches={lines["GLOW-MASK5"].pk: ("MK20261102", "")},  # the shelf life gives its expiry
        by=by,
    )
    bill = services.bill_enter(
        po=last,
        number="GZHY-2026-1108",
        lines={lines["GLOW-30ML"].pk: (200, None), lines["GLOW-MASK5"].pk: (100, None)},
        by=by,
    )
    services.bill_pay(bill=bill, amount=bill.total, reference="招行网银 20261120-0042", by=by)
    services.po_move(po=last, move="close", by=by)

    # This month's: the cream, half arrived, one jar cracked.
    now = services.po_create(
        supplier=factory,
        lines=[(skus["GLOW-50G"], 300, None)],
        expected_date=clock.today() + timedelta(days=5),
        note="十二月补货",
        by=by,
    )
    services.po_move(po=now, move="send", by=by)
    services.po_move(po=now, move="confirm", by=by)
    [cream] = now.lines.all()
    services.po_receive(po=now, lines={cream.pk: (149, 1, "瓶身开裂")}, freight="60.00", by=by)
