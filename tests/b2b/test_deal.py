"""A whole B2B deal through the services, the brand selling from its warehouse.

Worked example (by hand, every figure to the fen). Listing: 10+ ¥80, 50+ ¥72, 100+ ¥65 a bottle.
The warehouse holds 200 bottles received at ¥40 (inventory ¥8,000).

===========================================  =========================================================
step                                         the brand's ledger (receivable R, advance A after it)
===========================================  =========================================================
inquiry: 60 bottles
round 1, seller: 60 × 72 = 4,320, 30% dep.
round 2, buyer: 100 × 60 = 6,000
round 3, seller: 100 × 63 = 6,300, 30% dep.
buyer accepts: order 6,300, deposit 1,890
deposit received 1,890                       Dr cash 1,890 / Cr advances 1,890          R 0, A 1,890
ship 40 (invoice 40 × 63 = 2,520)            Cr sales 2,520 / Dr advances 1,890 / Dr R 630   R 630
  and the goods leave at ¥40                 Dr COGS 1,600 / Cr inventory 1,600
claim 5 bottles → credit note 5 × 63 = 315   Dr sales 315 / Cr R 315                    R 315
ship 60 (invoice 3,780)                      Cr sales 3,780 / Dr R 3,780                R 4,095
                                             Dr COGS 2,400 / Cr inventory 2,400
balance received 4,095                       Dr cash 4,095 / Cr R 4,095                 R 0, A 0
===========================================  =========================================================

Sales end at 2,520 − 315 + 3,780 = 5,985 = the cash received (1,890 + 4,095); cost of goods sold
4,000 (100 × 40); inventory 4,000 (100 bottles left at 40).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.stock_helpers import receive
from weishang.b2b import services
from weishang.b2b.models import (
    ClaimKind,
    InquiryStatus,
    MemberRole,
    OfferStatus,
    OrderStatus,
    Resolution,
    Terms,
)
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict, Forbidden, NotFound
from weishang.ledger.models import Account, JournalEntry, Purpose
from weishang.ledger.selectors import ledger_verify

pytestmark = pytest.mark.django_db
D = Decimal


def balance(purpose) -> Decimal:
    account = Account.objects.filter(owner=None, purpose=purpose).first()
    return account.balance if account else D("0")


def days(n: int) -> str:
    return f"{clock.today() + timedelta(days=n):%Y-%m-%d}"


def negotiate(people, listing, brand_co) -> tuple:
    inquiry = services.inquiry_create(
        member=people["buyer"], seller=brand_co, lines=[(listing, "60")], wanted_date=days(20), note="开业备货"
    )
    line = inquiry.lines.get()
    first = services.offer_make(
        member=people["sales"],
        inquiry=inquiry,
        lines={line.pk: ("60", services.tier_price(listing, 60))},
        terms=Terms.DEPOSIT,
        deposit_percent="30",
        delivery_date=days(15),
        valid_until=days(7),
    )
    second = services.offer_make(
        member=people["buyer"],
        inquiry=inquiry,
        lines={line.pk: ("100", "60")},
        terms=Terms.DEPOSIT,
        deposit_percent="30",
        delivery_date=days(15),
        valid_until=days(7),
        note="要 100 瓶，60 元可以吗",
    )
    third = services.offer_make(
        member=people["sales"],
        inquiry=inquiry,
        lines={line.pk: ("100", "63")},
        terms=Terms.DEPOSIT,
        deposit_percent="30",
        delivery_date=days(15),
        valid_until=days(7),
    )
    return inquiry, (first, second, third)


def test_the_worked_deal_from_listing_to_credit_note(people, listing, brand_co, sku):
    receive(sku, 200, unit_cost="40")
    inquiry, (first, second, third) = negotiate(people, listing, brand_co)
    assert first.total == D("4320.00") and second.total == D("6000.00") and third.total == D("6300.00")
    first.refresh_from_db()
    second.refresh_from_db()
    assert [first.status, second.status, third.status] == [
        OfferStatus.SUPERSEDED,
        OfferStatus.SUPERSEDED,
        OfferStatus.OPEN,
    ]
    with pytest.raises(Conflict):  # the one who made an offer does not accept it
        services.offer_accept(member=people["sales"], offer=third)
    order = services.offer_accept(member=people["buyer"], offer=third)
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.ACCEPTED
    assert (order.total, order.deposit_amount, order.status) == (
        D("6300.00"),
        D("1890.00"),
        OrderStatus.AWAITING_PAYMENT,
    )
    line = order.lines.get()

    with pytest.raises(Conflict):  # nothing ships before the deposit
        services.shipment_create(
            member=people["sales"], order=order, quantities={line.pk: "40"}, carrier="顺丰", tracking_number="SF1"
        )
    services.payment_record(member=people["finance"], order=order, amount="1890", reference="银行回单 001")
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert (balance(Purpose.BRAND_CUSTOMER_ADVANCES), balance(Purpose.BRAND_RECEIVABLES)) == (D("1890"), D("0"))

    first_box = services.shipment_create(
        member=people["sales"], order=order, quantities={line.pk: "40"}, carrier="顺丰", tracking_number="SF1"
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIAL
    assert first_box.invoice.amount == D("2520.00")
    assert (balance(Purpose.BRAND_CUSTOMER_ADVANCES), balance(Purpose.BRAND_RECEIVABLES)) == (D("0"), D("630.00"))
    assert balance(Purpose.BRAND_COST_OF_GOODS_SOLD) == D("1600.00")

    services.shipment_receive(member=people["buyer"], shipment=first_box)
    claim = services.claim_open(
        member=people["buyer"], line=line, kind=ClaimKind.QUALITY, quantity="5", reason="瓶盖破损"
    )
    services.claim_resolve(member=people["sales"], claim=claim, resolution=Resolution.CREDIT_NOTE, answer="补偿")
    assert claim.credit_note.amount == D("315.00")
    assert balance(Purpose.BRAND_RECEIVABLES) == D("315.00")

    second_box = services.shipment_create(
        member=people["sales"], order=order, quantities={line.pk: "60"}, carrier="顺丰", tracking_number="SF2"
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert balance(Purpose.BRAND_RECEIVABLES) == D("4095.00")
    services.shipment_receive(member=people["buyer"], shipment=second_box)
    with pytest.raises(BusinessError):  # more than is left to pay
        services.payment_record(member=people["finance"], order=order, amount="4095.01")
    services.payment_record(member=people["finance"], order=order, amount="4095")
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED

    assert balance(Purpose.BRAND_RECEIVABLES) == balance(Purpose.BRAND_CUSTOMER_ADVANCES) == D("0")
    assert balance(Purpose.BRAND_SALES) == D("5985.00")
    assert balance(Purpose.BRAND_COST_OF_GOODS_SOLD) == D("4000.00")
    assert balance(Purpose.BRAND_INVENTORY) == D("4000.00")
    assert ledger_verify() == []
    assert services.b2b_verify() == []


def test_a_replacement_is_owed_and_shipped_without_a_second_invoice(people, listing, brand_co, sku):
    receive(sku, 200, unit_cost="40")
    inquiry, (_a, _b, third) = negotiate(people, listing, brand_co)
    order = services.offer_accept(member=people["buyer"], offer=third)
    line = order.lines.get()
    services.payment_record(member=people["finance"], order=order, amount="1890")
    box = services.shipment_create(
        member=people["sales"], order=order, quantities={line.pk: "100"}, carrier="顺丰", tracking_number="SF1"
    )
    services.shipment_receive(member=people["buyer"], shipment=box)
    claim = services.claim_open(member=people["buyer"], line=line, kind=ClaimKind.QUALITY, quantity="2", reason="漏液")
    services.claim_resolve(member=people["sales"], claim=claim, resolution=Resolution.REPLACEMENT)
    line.refresh_from_db()
    order.refresh_from_db()
    assert (line.to_ship, order.status) == (2, OrderStatus.PARTIAL)
    with pytest.raises(BusinessError):
        services.shipment_create(
            member=people["sales"], order=order, quantities={line.pk: "3"}, carrier="顺丰", tracking_number="SF2"
        )
    again = services.shipment_create(
        member=people["sales"], order=order, quantities={line.pk: "2"}, carrier="顺丰", tracking_number="SF2"
    )
    assert not hasattr(again, "invoice") or again.invoice is None
    assert order.invoices.count() == 1
    assert balance(Purpose.BRAND_COST_OF_GOODS_SOLD) == D("4080.00")  # 102 bottles left at 40
    assert services.b2b_verify() == [] and ledger_verify() == []


def test_a_refund_pays_back_money_received_and_no_more(people, listing, brand_co, sku):
    receive(sku, 200, unit_cost="40")
    _inquiry, (_a, _b, third) = negotiate(people, listing, brand_co)
    order = services.offer_accept(member=people["buyer"], offer=third)
    line = order.lines.get()
    services.payment_record(member=people["finance"], order=order, amount="1890")
    box = services.shipment_create(
        member=people["sales"], order=order, quantities={line.pk: "10"}, carrier="顺丰", tracking_number="SF1"
    )
    services.shipment_receive(member=people["buyer"], shipment=box)
    claim = services.claim_open(member=people["buyer"], line=line, kind=ClaimKind.RETURN, quantity="4", reason="退货")
    with pytest.raises(BusinessError):  # more than the claimed units are worth (4 × 63 = 252)
        services.claim_resolve(member=people["sales"], claim=claim, resolution=Resolution.REFUND, amount="252.01")
    services.claim_resolve(member=people["sales"], claim=claim, resolution=Resolution.REFUND, restock=True)
    money = services.statement(order)
    assert (money.paid, money.refunded) == (D("1638.00"), D("252.00"))
    assert balance(Purpose.BRAND_CASH) == D("1638.00")
    assert sku_on_hand(sku) == 194  # 200 − 10 shipped + 4 back
    assert services.b2b_verify() == [] and ledger_verify() == []


def sku_on_hand(sku) -> int:
    from weishang.trade import stock
    from weishang.trade.models import LocationKind

    return stock.on_hand(location=stock.location_singleton(LocationKind.WAREHOUSE), sku=sku)


def test_a_claim_after_the_warranty_or_for_more_than_received_is_refused(people, listing, brand_co, sku, clock):
    receive(sku, 200, unit_cost="40")
    _inquiry, (_a, _b, third) = negotiate(people, listing, brand_co)
    order = services.offer_accept(member=people["buyer"], offer=third)
    line = order.lines.get()
    with pytest.raises(Conflict):  # nothing received yet
        services.claim_open(member=people["buyer"], line=line, kind=ClaimKind.QUALITY, quantity="1", reason="x")
    services.payment_record(member=people["finance"], order=order, amount="1890")
    box = services.shipment_create(
        member=people["sales"], order=order, quantities={line.pk: "10"}, carrier="顺丰", tracking_number="SF1"
    )
    services.shipment_receive(member=people["buyer"], shipment=box)
    with pytest.raises(BusinessError):
        services.claim_open(member=people["buyer"], line=line, kind=ClaimKind.QUALITY, quantity="11", reason="x")
    clock.travel(clock.now() + timedelta(days=181))  # the listing's warranty is 180 days
    with pytest.raises(Conflict):
        services.claim_open(member=people["buyer"], line=line, kind=ClaimKind.QUALITY, quantity="1", reason="x")


def test_an_expired_offer_cannot_be_accepted(people, listing, brand_co, clock):
    _inquiry, (_a, _b, third) = negotiate(people, listing, brand_co)
    clock.travel(clock.now() + timedelta(days=8))
    with pytest.raises(Conflict):
        services.offer_accept(member=people["buyer"], offer=third)


def test_net_30_ships_at_once_and_invoices_due_in_30_days(people, listing, brand_co, sku):
    receive(sku, 50, unit_cost="40")
    inquiry = services.inquiry_create(member=people["buyer"], seller=brand_co, lines=[(listing, "20")])
    line = inquiry.lines.get()
    offer = services.offer_make(
        member=people["sales"],
        inquiry=inquiry,
        lines={line.pk: ("20", "80")},
        terms=Terms.NET30,
        delivery_date=days(3),
        valid_until=days(3),
    )
    order = services.offer_accept(member=people["buyer"], offer=offer)
    assert (order.deposit_amount, order.status) == (D("0"), OrderStatus.CONFIRMED)
    box = services.shipment_create(
        member=people["sales"],
        order=order,
        quantities={order.lines.get().pk: "20"},
        carrier="中通",
        tracking_number="Z1",
    )
    assert box.invoice.due_date == clock.today() + timedelta(days=30)
    assert balance(Purpose.BRAND_RECEIVABLES) == D("1600.00")


def test_a_deal_between_two_other_companies_is_kept_out_of_the_brands_ledger(salon, other_seller, member):
    seller = member(other_seller, MemberRole.ADMIN)
    buyer = member(salon, MemberRole.ADMIN)
    item = services.listing_save(member=seller, title="玻璃瓶 30ml", tiers=[("100", "1.20")], min_quantity=100)
    inquiry = services.inquiry_create(member=buyer, seller=other_seller, lines=[(item, "500")])
    offer = services.offer_make(
        member=seller,
        inquiry=inquiry,
        lines={inquiry.lines.get().pk: ("500", "1.10")},
        terms=Terms.PREPAY,
        delivery_date=days(10),
        valid_until=days(5),
    )
    order = services.offer_accept(member=buyer, offer=offer)
    assert order.deposit_amount == D("550.00")
    services.payment_record(member=seller, order=order, amount="550")
    services.shipment_create(
        member=seller, order=order, quantities={order.lines.get().pk: "500"}, carrier="德邦", tracking_number="D1"
    )
    assert not JournalEntry.objects.filter(kind="b2b").exists()
    assert services.statement(order).net == D("0")


def test_roles_and_sides_are_held(people, listing, brand_co, salon, other_buyer, member):
    stranger = member(other_buyer, MemberRole.ADMIN)
    inquiry, (_a, _b, third) = negotiate(people, listing, brand_co)
    with pytest.raises(NotFound):  # another company's inquiry is not found
        services.offer_accept(member=stranger, offer=third)
    with pytest.raises(Forbidden):  # finance does not negotiate
        services.offer_accept(member=member(salon, MemberRole.FINANCE), offer=third)
    order = services.offer_accept(member=people["buyer"], offer=third)
    with pytest.raises(Forbidden):  # sales does not record money
        services.payment_record(member=people["sales"], order=order, amount="1")
    with pytest.raises(Forbidden):  # the buyer does not record the seller's receipts
        services.payment_record(member=member(salon, MemberRole.ADMIN), order=order, amount="1")
    with pytest.raises(NotFound):
        services.payment_record(member=stranger, order=order, amount="1")


@pytest.mark.parametrize(
    ("quantity", "price"),
    [
        ("-5", "60"),
        ("0", "60"),
        ("1e3", "60"),
        ("99999999", "60"),
        ("100", "-1"),
        ("100", "NaN"),
        ("100", "1.001"),
        ("100", "Infinity"),
        ("100", ""),
        ("１００", "60"),
        ("100", "9" * 30),
    ],
)
def test_hostile_offers_change_nothing(people, listing, brand_co, quantity, price):
    inquiry = services.inquiry_create(member=people["buyer"], seller=brand_co, lines=[(listing, "60")])
    with pytest.raises(BusinessError):
        services.offer_make(
            member=people["sales"],
            inquiry=inquiry,
            lines={inquiry.lines.get().pk: (quantity, price)},
            terms=Terms.DEPOSIT,
            deposit_percent="30",
            delivery_date=days(5),
            valid_until=days(5),
        )
    assert not inquiry.offers.exists()


def test_a_tier_price_follows_the_quantity(listing):
    assert [services.tier_price(listing, n) for n in (9, 10, 49, 50, 100, 1000)] == [
        None,
        D("80"),
        D("80"),
        D("72"),
        D("65"),
        D("65"),
    ]


def test_a_listing_under_its_minimum_or_with_rising_tiers_is_refused(brand_co, member):
    sales = member(brand_co, MemberRole.SALES)
    with pytest.raises(BusinessError):  # the first tier above the minimum order leaves a gap
        services.listing_save(member=sales, title="x", min_quantity=10, tiers=[("20", "5")])
    with pytest.raises(BusinessError):  # more units may not cost more each
        services.listing_save(member=sales, title="x", min_quantity=1, tiers=[("1", "5"), ("10", "6")])
    with pytest.raises(BusinessError):
        services.inquiry_create(
            member=member(brand_co, MemberRole.ADMIN),
            seller=brand_co,
            lines=[],
        )


def test_the_brand_buys_through_purchasing_not_b2b(brand_co, other_seller, member):
    """A B2B purchase by the brand would bypass its purchase orders and payables (docs/decisions.md)."""
    from weishang.b2b.models import AccountKind

    brand_co.kind = AccountKind.BOTH
    brand_co.save()
    seller = member(other_seller, MemberRole.ADMIN)
    bottles = services.listing_save(member=seller, title="玻璃瓶", tiers=[("100", "1.2")], min_quantity=100)
    with pytest.raises(Forbidden) as refused:
        services.inquiry_create(
            member=member(brand_co, MemberRole.ADMIN), seller=other_seller, lines=[(bottles, "100")]
        )
    assert "进货管理" in str(refused.value.message)


def test_the_command_finds_a_posting_that_went_around_the_orders(people, listing, brand_co, sku):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from weishang.ledger import services as ledger

    receive(sku, 50, unit_cost="40")
    _inquiry, (_a, _b, third) = negotiate(people, listing, brand_co)
    order = services.offer_accept(member=people["buyer"], offer=third)
    services.payment_record(member=people["finance"], order=order, amount="1890")
    out = StringIO()
    call_command("b2b", "verify", stdout=out)
    assert "match" in out.getvalue()
    ledger.journal_post(  # a hand-made receivable no order explains
        lines=[
            (ledger.account_for(owner=None, purpose=Purpose.BRAND_RECEIVABLES), D("10")),
            (ledger.account_for(owner=None, purpose=Purpose.BRAND_SALES), D("-10")),
        ]
    )
    with pytest.raises(CommandError):
        call_command("b2b", "verify", stdout=StringIO(), stderr=StringIO())
