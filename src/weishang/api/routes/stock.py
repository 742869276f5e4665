"""My stock (cloud stock held for me by the brand, and my own stock at hand) and pick-ups: units
shipped out of my cloud stock to an address (the phone page /m/stock/)."""

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from weishang.api.errors import ERRORS
from weishang.api.params import RegionCode
from weishang.api.routes.orders import (
    MAX_UNITS,
    Number,
    Pages,
    Rows,
    Text,
    TradeOrderFilters,
    TradeOrderOut,
    fields_renamed,
    order_out,
    with_details,
)
from weishang.api.security import AGENT
from weishang.channel.selectors import require_agent
from weishang.core.errors import BusinessError
from weishang.core.validators import normalize_phone, validate_phone
from weishang.trade import selectors, services
from weishang.trade.models import LocationKind, Order, OrderKind

router = Router(tags=["stock"])


class TradeStockRowOut(Schema):
    sku: str = Field(..., description="SKU code")
    name: str
    quantity: int


class TradeStockOut(Schema):
    cloud: list[TradeStockRowOut] = Field(..., description="my cloud stock (云仓): what I can sell on or pick up")
    own: list[TradeStockRowOut] = Field(..., description="my own stock, at hand")


def _rows(levels) -> list[TradeStockRowOut]:
    return [TradeStockRowOut(sku=level.sku.code, name=level.sku.name, quantity=level.quantity) for level in levels]


@router.get("/stock", response={200: TradeStockOut, **ERRORS}, auth=AGENT, summary="My cloud and own stock per SKU")
def stock(request):
    me = require_agent(request.user)
    return TradeStockOut(
        cloud=_rows(selectors.stock_holdings(agent=me)),
        own=_rows(selectors.stock_holdings(agent=me, kind=LocationKind.AGENT)),
    )


class TradePickupIn(Schema):
    sku: Text = Field(..., min_length=1, max_length=40, description="SKU code")
    quantity: int = Field(..., ge=1, le=MAX_UNITS)
    name: Text = Field(..., min_length=1, max_length=50, description="the recipient")
    phone: Text = Field(..., min_length=1, max_length=20, description="the recipient's mobile number")
    region: RegionCode | None = Field(
        None, description="the address's district (GB/T 2260 code, from GET /public/regions); recommended"
    )
    address: Text = Field(..., min_length=1, max_length=200, description="street, building and room")


def _pickup(me, number: str) -> Order:
    order = selectors.order_of_buyer(agent=me, number=number)
    if order is None or order.kind != OrderKind.PICKUP:
        raise Http404
    return order


@router.post(
    "/pickups",
    response={201: TradeOrderOut, **ERRORS},
    auth=AGENT,
    summary="Ship units of my cloud stock to an address (they leave my cloud stock now)",
)
def pickup_create(request, payload: TradePickupIn):
    me = require_agent(request.user)
    phone = normalize_phone(payload.phone)
    try:
        validate_phone(phone)
    except ValidationError as exc:
        raise BusinessError(exc.messages[0], field="phone") from None
    with fields_renamed({"lines[0].sku": "sku", "lines[0].quantity": "quantity"}):
        order = services.pickup_request(
            agent=me,
            lines=[(payload.sku, payload.quantity)],
            by=request.user,
            name=payload.name,
            phone=phone,
            region=payload.region,
            address=payload.address,
        )
    return Status(201, order_out(request, _pickup(me, order.number)))


@router.get("/pickups", response={200: list[TradeOrderOut], **ERRORS}, auth=AGENT, summary="My pick-ups, newest first")
@paginate(Pages)
def pickup_list(request, filters: Query[TradeOrderFilters]):
    me = require_agent(request.user)
    pickups = selectors.orders_as_buyer(agent=me, kinds=(OrderKind.PICKUP,))
    return Rows(filters.apply(with_details(pickups)), lambda order: order_out(request, order))


@router.get(
    "/pickups/{number}",
    response={200: TradeOrderOut, **ERRORS},
    auth=AGENT,
    summary="One pick-up, with its carrier and tracking number once shipped",
)
def pickup_detail(request, number: Number):
    return order_out(request, _pickup(require_agent(request.user), number))
