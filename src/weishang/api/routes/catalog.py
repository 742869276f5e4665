"""The catalog as the calling agent orders from it (the phone pages /m/order/ and /m/upgrade/):
every SKU on sale at my level price (or at the price of a level I may upgrade to), my purchase
limits and my cloud stock, who fills my order, and the levels I may upgrade to."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from weishang.api.errors import ERRORS
from weishang.api.routes.orders import (
    TEXT_PATTERN,
    TradeLevelOut,
    TradePartyOut,
    level_out,
    party_out,
)
from weishang.api.security import AGENT
from weishang.channel.models import AgentStatus
from weishang.channel.selectors import require_agent
from weishang.core.errors import BusinessError
from weishang.trade import selectors, services

router = Router(tags=["catalog"])


class TradeCatalogSkuOut(Schema):
    sku: str = Field(..., description="SKU code: send it in POST /orders lines")
    name: str
    product: str
    retail_price: Decimal
    price: Decimal = Field(..., description="my price per unit (at `level`)")
    cloud_stock: int = Field(..., description="units in my cloud stock")
    min_order_qty: int = Field(..., description="at least this many units of it per order")
    max_per_order: int | None = Field(..., description="at most this many per order; null: no limit")
    max_per_day: int | None
    max_per_week: int | None
    max_per_month: int | None


class TradeUpgradeOptionOut(Schema):
    level: TradeLevelOut
    top_up: Decimal = Field(..., description="an upgrade order to this level comes to at least this much")
    seller: TradePartyOut | None = Field(..., description="who fills it; null: the company")


class TradeCatalogOut(Schema):
    order_kind: Literal["entry", "restock", "upgrade"] = Field(
        ..., description="what POST /orders makes at these prices"
    )
    can_order: bool = Field(..., description="false while my account is not active (and owes no entry order)")
    level: TradeLevelOut = Field(..., description="the level these prices are at")
    my_level: TradeLevelOut
    min_units: int = Field(..., description="a restock order has at least this many units in all (0: no minimum)")
    min_total: Decimal = Field(..., description="an entry or upgrade order comes to at least this much")
    seller: TradePartyOut | None = Field(..., description="who fills my order; null: the company")
    items: list[TradeCatalogSkuOut]
    upgrades: list[TradeUpgradeOptionOut] = Field(
        ..., description="the levels I may upgrade to now (GET /catalog?level=<code> prices one)"
    )


@router.get(
    "/catalog",
    response={200: TradeCatalogOut, **ERRORS},
    auth=AGENT,
    summary="Products on sale at my level price, my purchase limits and my cloud stock",
)
def catalog(
    request,
    level: str | None = Query(
        None,
        min_length=1,
        max_length=32,
        pattern=TEXT_PATTERN,
        description=("price the catalog at a level I may upgrade to (an upgrade order); default: my own level"),
    ),
):
    me = require_agent(request.user)
    upgrades = selectors.upgrade_levels(agent=me) if me.status == AgentStatus.ACTIVE else []
    chosen = me.level
    if level and level != me.level.code:
        chosen = next((option for option in upgrades if option.code == level), None)
        if chosen is None:
            raise BusinessError(
                _("You cannot order at level %(code)s now; see upgrades.") % {"code": level}, field="level"
            )
    if chosen.pk != me.level_id:
        kind, min_total = "upgrade", services.upgrade_top_up(agent=me, level=chosen)
    elif me.status == AgentStatus.APPLICANT and me.entry_due > 0:
        kind, min_total = "entry", me.entry_due
    else:
        kind, min_total = "restock", Decimal("0.00")
    return TradeCatalogOut(
        order_kind=kind,
        can_order=kind == "entry" or me.status == AgentStatus.ACTIVE,
        level=level_out(chosen),
        my_level=level_out(me.level),
        min_units=me.level.min_restock_qty if kind == "restock" else 0,
        min_total=min_total,
        seller=party_out(services.order_route(buyer=me, level=chosen)[0]),
        items=[
            TradeCatalogSkuOut(
                sku=sku.code,
                name=sku.name,
                product=sku.product.name,
                retail_price=sku.retail_price,
                price=price,
                cloud_stock=held,
                min_order_qty=sku.min_order_qty,
                max_per_order=sku.max_per_order,
                max_per_day=sku.max_per_day,
                max_per_week=sku.max_per_week,
                max_per_month=sku.max_per_month,
            )
            for sku, price, held in selectors.restock_catalog(agent=me, level=chosen)
        ],
        upgrades=[
            TradeUpgradeOptionOut(
                level=level_out(option),
                top_up=services.upgrade_top_up(agent=me, level=option),
                seller=party_out(services.order_route(buyer=me, level=option)[0]),
            )
            for option in upgrades
        ],
    )
