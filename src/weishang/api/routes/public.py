"""Public endpoints: an agent's shop (what /s/<invite code>/ shows), a consumer's retail order from
it, and the order's status for the phone number that placed it. No login; rate-limited per IP.

The same selectors and service as the shop pages (``channel.selectors.agent_by_invite_code``,
``trade.selectors.skus_on_sale`` / ``retail_order_for``, ``trade.services.retail_order_submit``).
An unknown shop, a shop that is closed (its agent is not active), and an order looked up with any
other phone number are all "not found".
"""

# No "from __future__ import annotations": django-ninja reads the views' annotations in its own
# module's namespace when they are wrapped.
from datetime import date, datetime
from decimal import Decimal

from django.http import Http404
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from weishang.api.errors import ERRORS
from weishang.api.params import InviteCode, OrderNumber, RegionCode, Text, key_or_404
from weishang.api.throttles import IpThrottle
from weishang.channel import selectors as channel_selectors
from weishang.channel.models import Agent, AgentStatus
from weishang.core.selectors import brand_get
from weishang.core.validators import mask_phone
from weishang.faq import services as faq_services
from weishang.promotions import services as promotion_services
from weishang.regions import selectors as regions
from weishang.toolkit import selectors as toolkit
from weishang.trade import selectors
from weishang.trade.models import Order

router = Router(tags=["public"])
PUBLIC = {"auth": None, "throttle": [IpThrottle("public")]}
MAX_UNITS = 99999


class ShopProductOut(Schema):
    sku: str = Field(..., description="SKU code, to order with")
    name: str
    product: str
    description: str
    retail_price: Decimal
    in_stock: bool = Field(..., description="the shop holds at least one unit to send")


class ShopOut(Schema):
    invite_code: str
    brand: str
    seller_name: str
    level: str = Field(..., description="the seller's level code")
    level_name: str
    products: list[ShopProductOut]


class ShopOrderLineIn(Schema):
    sku: Text = Field(..., min_length=1, max_length=40, description="SKU code (see the shop's products)")
    quantity: int = Field(..., ge=1, le=MAX_UNITS)


class ShopOrderIn(Schema):
    name: Text = Field(..., min_length=1, max_length=50, description="the consumer, who receives the goods")
    phone: Text = Field(
        ...,
        min_length=1,
        max_length=20,
        description="an 11-digit mainland mobile number; the order is found again with it",
    )
    region: RegionCode | None = Field(
        None, description="the address's district (GB/T 2260 code, from GET /public/regions); recommended"
    )
    address: Text = Field(..., min_length=1, max_length=200, description="street, building and room")
    lines: list[ShopOrderLineIn] = Field(..., min_length=1, max_length=100)
    coupon: Text | None = Field(
        None,
        max_length=16,
        description="one of the consumer's coupon codes (claimed with the same phone; see /promotions)",
    )


class ShopOrderLineOut(Schema):
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


class ShopOrderOut(Schema):
    number: str
    status: str
    status_name: str
    discount: Decimal = Field(..., description="what a coupon took off the lines (0: none)")
    total: Decimal = Field(..., description="what the consumer pays")
    seller_name: str
    lines: list[ShopOrderLineOut]
    ship_name: str
    ship_phone_masked: str
    ship_region: str | None = Field(..., description="GB/T 2260 code of the address's region")
    ship_region_name: str
    ship_address: str
    carrier: str
    tracking_number: str
    created_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    payment_pending: bool = Field(..., description="a transfer screenshot waits for the seller to confirm it")
    can_pay: bool = Field(..., description="waiting for payment: transfer the total and send the screenshot")


class ShopOrderLookup(Schema):
    phone: Text = Field(..., min_length=1, max_length=20, description="the phone number the order was placed with")


def _open_shop(invite_code: str) -> Agent:
    seller = channel_selectors.agent_by_invite_code(key_or_404(invite_code, max_length=12))
    if seller is None or seller.status != AgentStatus.ACTIVE:
        raise Http404
    return seller


def _order_out(order: Order, seller: Agent) -> ShopOrderOut:
    pending = bool(getattr(order, "has_pending_payment", False))
    return ShopOrderOut(
        number=order.number,
        status=order.status,
        status_name=order.get_status_display(),
        discount=order.discount,
        total=order.total,
        seller_name=seller.real_name,
        lines=[
            ShopOrderLineOut(
                sku=line.sku.code,
                name=line.sku.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                line_total=line.line_total,
            )
            for line in order.lines.all()
        ],
        ship_name=order.ship_name,
        ship_phone_masked=mask_phone(order.ship_phone),
        ship_region=order.ship_region_id,
        ship_region_name=order.ship_region.full_name if order.ship_region_id else "",
        ship_address=order.ship_address,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        created_at=order.created_at,
        paid_at=order.paid_at,
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
        completed_at=order.completed_at,
        payment_pending=pending,
        can_pay="pay_transfer" in selectors.buyer_actions(order),
    )


@router.get("/shops/{invite_code}", response={200: ShopOut, **ERRORS}, summary="An agent's shop", **PUBLIC)
def shop(request, invite_code: InviteCode):
    """The products on sale at retail price, and whether the shop has each one in stock."""
    seller = _open_shop(invite_code)
    in_stock = selectors.seller_in_stock(seller=seller, mode=brand_get().supply_mode)
    return ShopOut(
        invite_code=seller.invite_code,
        brand=brand_get().name,
        seller_name=seller.real_name,
        level=seller.level.code,
        level_name=seller.level.name,
        products=[
            ShopProductOut(
                sku=sku.code,
                name=sku.name,
                product=sku.product.name,
                description=sku.product.description,
                retail_price=sku.retail_price,
                in_stock=sku.pk in in_stock,
            )
            for sku in selectors.skus_on_sale()
        ],
    )


@router.post(
    "/shops/{invite_code}/orders",
    response={201: ShopOrderOut, **ERRORS},
    summary="Order from an agent's shop",
    **PUBLIC,
)
def shop_order_create(request, invite_code: InviteCode, payload: ShopOrderIn):
    """A consumer's order at retail price (the flash price where a flash sale runs, less the
    coupon given in ``coupon``). It waits for payment: transfer the total to the seller
    and send the screenshot from the shop's order page. Send an ``Idempotency-Key``: a retry
    places one order."""
    seller = _open_shop(invite_code)
    order = promotion_services.shop_order_place(
        seller=seller,
        name=payload.name,
        phone=payload.phone,
        region=payload.region,
        address=payload.address,
        lines=[(line.sku, line.quantity) for line in payload.lines],
        coupon_code=payload.coupon or "",
    )
    found = selectors.retail_order_for(seller=seller, number=order.number, phone=payload.phone)
    return Status(201, _order_out(found, seller))


@router.get(
    "/shops/{invite_code}/orders/{number}",
    response={200: ShopOrderOut, **ERRORS},
    summary="A shop order, for the phone number that placed it",
    **PUBLIC,
)
def shop_order(request, invite_code: InviteCode, number: OrderNumber, lookup: Query[ShopOrderLookup]):
    seller = channel_selectors.agent_by_invite_code(key_or_404(invite_code, max_length=12))
    number = key_or_404(number, max_length=32)
    order = selectors.retail_order_for(seller=seller, number=number, phone=lookup.phone) if seller else None
    if order is None:
        raise Http404
    return _order_out(order, seller)


# --- the brand's qualifications (launch toolkit, M9) -----------------------------------------


class QualificationOut(Schema):
    kind: str = Field(..., description="business_licence, production_licence, filing, inspection, trademark or other")
    kind_display: str
    title: str
    number: str = Field(..., description="the certificate number (check it with the issuer)")
    issuer: str
    valid_from: date | None
    valid_until: date | None = Field(..., description="none: it does not expire")
    validity: str = Field(..., description="valid, expires_soon (within 30 days), expired or not_yet")
    validity_display: str
    scan_url: str = Field(..., description="the scan (a picture or a PDF)")


class BrandOut(Schema):
    name: str
    qualifications: list[QualificationOut]


@router.get("/brand", response={200: BrandOut, **ERRORS}, summary="The brand and its qualifications", **PUBLIC)
def brand(request):
    """What the brand's public page (/brand/) shows: its public qualifications, an expired one
    flagged by ``validity``."""
    return BrandOut(
        name=brand_get().name,
        qualifications=[
            QualificationOut(
                kind=q.kind,
                kind_display=q.get_kind_display(),
                title=q.title,
                number=q.number,
                issuer=q.issuer,
                valid_from=q.valid_from,
                valid_until=q.valid_until,
                validity=q.validity.code,
                validity_display=str(q.validity.label),
                scan_url=request.build_absolute_uri(reverse("web:qualification_scan", args=[q.pk])),
            )
            for q in toolkit.with_validity(toolkit.public_qualifications())
        ],
    )


# --- 百问百答 (launch toolkit, M9) ---------------------------------------------------------------


class FaqEntryOut(Schema):
    category: str
    question: str
    answer: str


class FaqOut(Schema):
    query: str
    results: list[FaqEntryOut]


@router.get("/faq", response={200: FaqOut, **ERRORS}, summary="Search the brand's public FAQ", **PUBLIC)
def faq(
    request, q: str = Query(..., min_length=1, max_length=100, pattern=r"^[^\x00]*$", description="words, e.g. 结算")
):
    """The public questions (those for every level) holding every word of ``q``, best first.
    Chinese is segmented into words (two-character words such as 结算 and 代理 are found)."""
    found = faq_services.faq_search_logged(q)
    return FaqOut(
        query=q, results=[FaqEntryOut(category=e.category.name, question=e.question, answer=e.answer) for e in found]
    )


# --- regions (M9): the address picker's choices ---------------------------------------------


class RegionOut(Schema):
    code: str = Field(..., description="GB/T 2260 code")
    name: str
    full_name: str = Field(..., description="with its province and city, e.g. 浙江省 杭州市 西湖区")
    kind: str = Field(..., description="province, city or district")
    has_children: bool = Field(..., description="a finer choice follows (an address needs the finest)")


class RegionQuery(Schema):
    parent: RegionCode | None = Field(None, description="a region's code; none: the provinces")


@router.get(
    "/regions", response={200: list[RegionOut], **ERRORS}, summary="Provinces, or the regions within one", **PUBLIC
)
def region_list(request, query: Query[RegionQuery]):
    """What an address picker offers: the provinces, then the cities (or, for a municipality, the
    districts) within the chosen one, then the districts. An unknown ``parent`` is 404."""
    if query.parent is not None and regions.region_get(query.parent) is None:
        raise Http404
    found = regions.children_of(query.parent)
    with_children = regions.codes_with_children([r.code for r in found])
    return [
        RegionOut(code=r.code, name=r.name, full_name=r.full_name, kind=r.kind, has_children=r.code in with_children)
        for r in found
    ]
