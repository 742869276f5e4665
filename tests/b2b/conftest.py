"""B2B fixtures: the brand's business account selling a warehouse SKU, a salon buying, a
second buyer and a second seller that must never see the first pair's deal."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from weishang.b2b import services
from weishang.b2b.models import AccountKind, MemberRole
from weishang.catalog.models import SKU, Product
from weishang.trade import stock
from weishang.trade.models import LocationKind, StockReason

D = Decimal
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def sku(db):
    product = Product.objects.create(name="焕颜修护系列")
    return SKU.objects.create(product=product, code="GLOW-30ML", name="焕颜修护精华 30ml", retail_price=D("100"))


def receive(sku, units: int, cost: str) -> None:
    stock.stock_move(
        moves=[
            stock.Move(
                stock.location_singleton(LocationKind.SUPPLIER),
                stock.location_singleton(LocationKind.WAREHOUSE),
                sku,
                units,
                unit_cost=D(cost),
            )
        ],
        reason=StockReason.RECEIPT,
    )


@pytest.fixture
def member():
    """member(account, role) -> a new login acting for ``account`` in ``role``."""

    def make(account, role=MemberRole.ADMIN):
        return services.member_add(account=account, username=f"b2b-{next(_seq)}", password="b2b-pass-123", role=role)

    return make


@pytest.fixture
def brand_co(db):
    return services.account_create(name="焕颜品牌", kind=AccountKind.BOTH, is_brand=True, contact_name="周经理")


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
