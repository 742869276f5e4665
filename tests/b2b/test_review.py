"""Defects found in the M14 review (each test failed before its fix)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from b2b_helpers import day  # tests/b2b/b2b_helpers.py

from tests.stock_helpers import receive
from weishang.b2b import services
from weishang.b2b.models import ClaimKind, OrderStatus, Resolution, Terms
from weishang.core.errors import BusinessError, Conflict
from weishang.ledger.models import Account, Purpose
from weishang.ledger.selectors import ledger_verify

pytestmark = pytest.mark.django_db
D = Decimal


def balance(purpose) -> Decimal:
    account = Account.objects.filter(owner=None, purpose=purpose).first()
    return account.balance if account else D("0")


def prepaid_order(people, listing, brand_co, units="10", price="80"):
    """An order of ``units`` bottles at ``price``, paid before shipment."""
    inquiry = services.inquiry_create(member=people["buyer"], seller=brand_co, lines=[(listing, units)])
    offer = services.offer_make(
        member=people["sales"],
        inquiry=inquiry,
        lines={inquiry.lines.get().pk: (units, price)},
        terms=Terms.PREPAY,
        delivery_date=day(5),
        valid_until=day(5),
    )
    return services.offer_accept(member=people["buyer"], offer=offer)


def test_a_refund_on_a_return_is_not_owed_again(people, listing, brand_co, sku):
    """10 bottles at ¥80 paid (¥800), shipped and received; 2 returned and ¥160 refunded. The buyer
    kept 8 bottles and paid ¥640 for them: nothing is owed, the order is complete, the brand's sales
    are ¥640 and no receivable is left (before the fix the refund made the buyer owe ¥160 again)."""
    receive(sku, 50, unit_cost="40")
    order = prepaid_order(people, listing, brand_co)
    line = order.lines.get()
    services.payment_record(member=people["finance"], order=order, amount="800")
    box = services.shipment_create(
        member=people["sales"], order=order, quantities={line.pk: "10"}, carrier="顺丰", tracking_number="SF1"
    )
    services.shipment_receive(member=people["buyer"], shipment=box)
    claim = services.claim_open(member=people["buyer"], line=line, kind=ClaimKind.RETURN, quantity="2", reason="退货")
    services.claim_resolve(member=people["sales"], claim=claim, resolution=Resolution.REFUND, restock=True)

    money = services.statement(order)
    assert (money.paid, money.refunded, money.unpaid, money.net) == (D("640"), D("160"), D("0"), D("0"))
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    with pytest.raises(BusinessError):  # nothing is left to pay
        services.payment_record(member=people["finance"], order=order, amount="160")
    assert (balance(Purpose.BRAND_RECEIVABLES), balance(Purpose.BRAND_CUSTOMER_ADVANCES)) == (D("0"), D("0"))
    assert balance(Purpose.BRAND_CASH) == D("640.00")
    assert balance(Purpose.BRAND_SALES) == D("640.00")
    assert services.b2b_verify() == [] and ledger_verify() == []


def test_a_payment_or_a_shipment_sent_twice_is_recorded_once(people, listing, brand_co, sku):
    """A double click or a retried form posted the same bank transfer or parcel twice: two
    payments (and two ledger entries), two shipments with two invoices. The same bank reference
    or tracking number on one order is now refused, and nothing changes."""
    receive(sku, 50, unit_cost="40")
    order = prepaid_order(people, listing, brand_co, units="20")  # ¥1,600
    line = order.lines.get()
    services.payment_record(member=people["finance"], order=order, amount="800", reference="回单 0001")
    with pytest.raises(Conflict):
        services.payment_record(member=people["finance"], order=order, amount="800", reference=" 回单 0001 ")
    assert services.statement(order).received == D("800")
    assert balance(Purpose.BRAND_CASH) == D("800")
    services.payment_record(member=people["finance"], order=order, amount="800", reference="回单 0002")

    services.shipment_create(
        member=people["sales"], order=order, quantities={line.pk: "5"}, carrier="顺丰", tracking_number="SF100"
    )
    with pytest.raises(Conflict):
        services.shipment_create(
            member=people["sales"], order=order, quantities={line.pk: "5"}, carrier="顺丰", tracking_number="SF100"
        )
    line.refresh_from_db()
    assert (line.shipped, order.invoices.count(), order.shipments.count()) == (5, 1, 1)
    assert services.b2b_verify() == [] and ledger_verify() == []


def test_the_documents_date_an_early_morning_order_by_china_time(people, listing, brand_co, sku):
    """An order placed and shipped at 07:30 China time (23:30 UTC the day before): its contract and
    delivery note said the day before, in UTC."""
    from datetime import UTC, datetime

    from weishang.b2b import documents
    from weishang.b2b.models import Order, Shipment

    receive(sku, 50, unit_cost="40")
    order = prepaid_order(people, listing, brand_co)
    services.payment_record(member=people["finance"], order=order, amount="800")
    box = services.shipment_create(
        member=people["sales"],
        order=order,
        quantities={order.lines.get().pk: "10"},
        carrier="顺丰",
        tracking_number="S",
    )
    early = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # 2026-12-05 07:30 in Beijing
    Order.objects.filter(pk=order.pk).update(created_at=early)
    Shipment.objects.filter(pk=box.pk).update(shipped_at=early)
    order.refresh_from_db()
    box.refresh_from_db()
    assert "2026-12-05" in dict(documents.order_document(order).facts).values()
    assert "2026-12-05" in dict(documents.delivery_document(box).facts).values()


def test_an_inquiry_keeps_every_product_asked_for_past_the_fiftieth(people, brand_co, member):
    """The ask page lists all of a seller's listings; the service kept only the first 50 rows it was
    given, empty or not, so units typed against the 51st listing were silently dropped."""
    from weishang.b2b.models import Listing, PriceTier

    items = []
    for n in range(51):
        item = Listing.objects.create(seller=brand_co, title=f"商品 {n:02d}", min_quantity=1)
        PriceTier.objects.create(listing=item, min_quantity=1, unit_price=D("10"))
        items.append(item)
    lines = [(item, "") for item in items]
    lines[0] = (items[0], "3")
    lines[50] = (items[50], "4")
    inquiry = services.inquiry_create(member=people["buyer"], seller=brand_co, lines=lines)
    assert sorted((line.listing.title, line.quantity) for line in inquiry.lines.all()) == [
        ("商品 00", 3),
        ("商品 50", 4),
    ]


def test_document_numbers_carry_as_much_chance_as_the_trade_orders(people, listing, brand_co):
    """B2B numbers had 6 random hex characters (16.7 million a day and prefix): a few thousand
    payments or shipments in a day collide on the unique number and fail with a 500. They now
    carry 10, as trade's order and payment numbers do."""
    import re

    from weishang.core import clock

    order = prepaid_order(people, listing, brand_co)
    payment = services.payment_record(member=people["finance"], order=order, amount="10")
    today = f"{clock.localtime():%Y%m%d}"
    for number, prefix in ((order.number, "BO"), (order.inquiry.number, "RFQ"), (payment.number, "BP")):
        assert re.fullmatch(rf"{prefix}{today}[0-9A-F]{{10}}", number), number


def test_a_replacement_does_not_restart_the_warranty_of_the_units_received_before(
    people, listing, brand_co, sku, clock
):
    """The listing's warranty is 180 days. 10 bottles received on day 0, 2 of them replaced and the
    replacements received on day 100. On day 200 only the 2 replacements are within their warranty;
    the claim counted the warranty from the latest receipt for every unit of the line."""
    from datetime import timedelta as td

    receive(sku, 50, unit_cost="40")
    order = prepaid_order(people, listing, brand_co)
    line = order.lines.get()
    services.payment_record(member=people["finance"], order=order, amount="800")
    first = services.shipment_create(
        member=people["sales"], order=order, quantities={line.pk: "10"}, carrier="顺丰", tracking_number="SF1"
    )
    services.shipment_receive(member=people["buyer"], shipment=first)
    claim = services.claim_open(member=people["buyer"], line=line, kind=ClaimKind.QUALITY, quantity="2", reason="漏液")
    services.claim_resolve(member=people["sales"], claim=claim, resolution=Resolution.REPLACEMENT)
    start = clock.freeze(clock_now())
    clock.freeze(start + td(days=100))
    again = services.shipment_create(
        member=people["sales"], order=order, quantities={line.pk: "2"}, carrier="顺丰", tracking_number="SF2"
    )
    services.shipment_receive(member=people["buyer"], shipment=again)
    clock.freeze(start + td(days=200))
    line.refresh_from_db()
    assert services.claimable(line)[0] == 2
    with pytest.raises(BusinessError):
        services.claim_open(member=people["buyer"], line=line, kind=ClaimKind.QUALITY, quantity="3", reason="过期")
    services.claim_open(member=people["buyer"], line=line, kind=ClaimKind.QUALITY, quantity="2", reason="又漏液")


def clock_now():
    from weishang.core import clock

    return clock.now()
