"""B2B fixtures: the brand's business account selling a warehouse SKU, a salon buying, a
second buyer and a second seller that must never see the first pair's deal."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from b2b_helpers import day  # tests/b2b/b2b_helpers.py

from tests.stock_helpers import receive
from weishang.b2b import services
from weishang.b2b.models import AccountKind, MemberRole
from weishang.catalog.models import SKU, Product

D = Decimal
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def sku(db):
    product = Product.objects.create(name="焕颜修护系列")
    return SKU.objects.create(product=product, code="GLOW-30ML", name="焕颜修护精华 30ml", retail_price=D("100"))


@pytest.fixture
def member():
    """member(account, role) -> a new login acting for ``account`` in ``role``."""

    def make(account, role=MemberRole.ADMIN):
        return services.member_add(account=account, username=f"b2b-{next(_seq)}", password="b2b-pass-123", role=role)

    return make


@pytest.fixture
def brand_co(db):
    return services.account_create(name="焕颜品牌", kind=AccountKind.SUPPLIER, is_brand=True, contact_name="周经理")


@pytest.fixture
def salon(db):
    return services.account_create(name="美丽沙龙", kind=AccountKind.BUYER, contact_name="李店长", phone="13800000001")


@pytest.fixture
def other_buyer(db):
    return services.account_create(name="另一家门店", kind=AccountKind.BUYER)


@pytest.fixture
def other_seller(db):
    return services.account_create(name="包材工厂", kind=AccountKind.SUPPLIER)


@pytest.fixture
def people(brand_co, salon, member):
    """The brand company's salesperson and finance, and the salon's buyer."""
    return {
        "sales": member(brand_co, MemberRole.SALES),
        "finance": member(brand_co, MemberRole.FINANCE),
        "buyer": member(salon, MemberRole.BUYER),
    }


@pytest.fixture
def listing(brand_co, member, sku):
    sales = member(brand_co, MemberRole.SALES)
    return services.listing_save(
        member=sales,
        title="焕颜修护精华 30ml 批发",
        unit="瓶",
        min_quantity=10,
        lead_days=5,
        warranty_days=180,
        sku=sku,
        tiers=[("10", "80"), ("50", "72"), ("100", "65")],
    )


@pytest.fixture
def deal(brand_co, salon, member, listing, sku):
    """The brand and the salon: a quote and a counter-offer, the brand's counter accepted with a
    30% deposit paid, 40 bottles shipped and received, a claim on 2 closed by a credit note."""
    from weishang.b2b.models import ClaimKind, Resolution, Terms

    receive(sku, 200, unit_cost="40")
    people = {
        "seller": member(brand_co, MemberRole.ADMIN),
        "buyer": member(salon, MemberRole.ADMIN),
        "finance": member(brand_co, MemberRole.FINANCE),
    }
    inquiry = services.inquiry_create(member=people["buyer"], seller=brand_co, lines=[(listing, "100")])
    line = inquiry.lines.get()
    for who, price in (("seller", "65"), ("buyer", "60"), ("seller", "63")):
        offer = services.offer_make(
            member=people[who],
            inquiry=inquiry,
            lines={line.pk: ("100", price)},
            terms=Terms.DEPOSIT,
            deposit_percent="30",
            delivery_date=day(10),
            valid_until=day(5),
        )
    order = services.offer_accept(member=people["buyer"], offer=offer)
    services.payment_record(member=people["seller"], order=order, amount="1890")
    order_line = order.lines.get()
    shipment = services.shipment_create(
        member=people["seller"], order=order, quantities={order_line.pk: "40"}, carrier="顺丰", tracking_number="SF77"
    )
    services.shipment_receive(member=people["buyer"], shipment=shipment)
    claim = services.claim_open(
        member=people["buyer"], line=order_line, kind=ClaimKind.QUALITY, quantity="2", reason="瓶身破损"
    )
    services.claim_resolve(member=people["seller"], claim=claim, resolution=Resolution.CREDIT_NOTE)
    return {"people": people, "inquiry": inquiry, "order": order, "shipment": shipment, "claim": claim, "offer": offer}
