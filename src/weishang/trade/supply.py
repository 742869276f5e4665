"""One supply route per supply mode: who sells to a buyer, from which stock, into which, and whether
a fill ships (an Oscar-style strategy).

The brand's ``supply_mode`` (``core.models.SupplyMode``, set by the plan's ``supply`` key) decides
how an agent's order is supplied. Every place that needs to know asks the route of the order's
mode (``route_for(order.supply_mode)``) or of the brand's (``route_for(brand_get().supply_mode)``),
instead of comparing modes itself:

- the services route a new order (``services.order_route``), fill it (``order_fill``: the
  from/to locations, and whether it completes at once) and ship it (``shipment_send``);
- the selectors read the seller's stock (``fill_shortfalls``, ``seller_in_stock``,
  ``route_availability``) and where a fill would come from (``fill_source``);
- the console, the phone pages and the API read those selectors and ``fill_ships``.

A new mode is one ``register(SupplyRoute(...))`` (or a subclass overriding ``seller``); nothing
else changes. See docs/decisions.md ("One supply route per supply mode").
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext

from weishang.channel import selectors as channel_selectors
from weishang.channel.models import Agent, AgentStatus, Level
from weishang.core.models import SupplyMode
from weishang.trade import stock
from weishang.trade.models import Location, LocationKind, Order, OrderKind


@dataclass(frozen=True)
class SupplyRoute:
    """How an agent's order is supplied under one supply mode.

    ``agents_sell``: an upline agent sells (``seller``); False: the company sells, from its warehouse.
    ``sells_from``: the kind of location (``LocationKind``) a selling agent sells from (their own
    stock, or cloud stock 云仓); ``lands_in``: the kind an agent's bought units land in.
    ``ships``: a fill to an agent travels (a carrier and tracking number, and the buyer confirms
    receipt); False: the units land in the buyer's stock at once and the order completes when
    filled. A shop order (to a consumer) always ships."""

    mode: str
    agents_sell: bool
    sells_from: str
    lands_in: str
    ships: bool

    def seller(self, *, buyer: Agent, level: Level | None = None) -> Agent | None:
        """Who sells to ``buyer`` (None: the company). ``level`` is the level the order is priced at
        when it is not the buyer's own: an upgrade order is sold by the nearest upline of a higher
        level than the target level; otherwise the buyer's supplier, while active."""
        if not self.agents_sell:
            return None
        if level is not None and level.pk != buyer.level_id:
            return channel_selectors.resolve_supplier(referrer=buyer.supplier, level=level)
        supplier = buyer.supplier
        return supplier if supplier is not None and supplier.status == AgentStatus.ACTIVE else None

    def fill_locations(self, order: Order) -> tuple[Location, Location]:
        """(from, to) locations for filling ``order``, created on first use: the seller agent's
        stock (the company warehouse when the company sells) to the buyer's, or to the customers
        for a shop order."""
        if order.kind == OrderKind.RETAIL:  # to the consumer: out of the selling agent's stock
            if order.seller is None:
                raise ValueError(f"shop order {order.number} has no agent seller")
            return (
                stock.location_for_agent(order.seller, self.sells_from),
                stock.location_singleton(LocationKind.CUSTOMER),
            )
        if order.buyer is None:
            raise ValueError(f"order {order.number} has no agent buyer")
        source = (
            stock.location_for_agent(order.seller, self.sells_from)
            if order.seller is not None
            else stock.location_singleton(LocationKind.WAREHOUSE)
        )
        return source, stock.location_for_agent(order.buyer, self.lands_in)

    def fill_source(self, order: Order, *, as_company: bool = False) -> tuple[str, Location | None]:
        """Where ``fill_locations`` would take the units from, without creating anything: (a name
        for it, the location or None if it does not exist yet). ``as_company``: where a fill by the
        company would take them from (the stuck order's "the company fills it")."""
        seller = None if as_company else order.seller
        if seller is not None:
            location = Location.objects.filter(kind=self.sells_from, agent=seller).first()
            label = gettext("cloud stock") if self.sells_from == LocationKind.CLOUD else gettext("own stock")
            return (location.name if location else f"{seller.real_name} {label}"), location
        location = Location.objects.filter(kind=LocationKind.WAREHOUSE, agent__isnull=True).order_by("pk").first()
        return (location.name if location else gettext("Company warehouse")), location

    def fill_ships(self, order: Order) -> bool:
        """Whether filling ``order`` sends goods (a carrier and tracking number) or lands them in
        the buyer's stock, completing the order."""
        return order.kind == OrderKind.RETAIL or self.ships


ROUTES: dict[str, SupplyRoute] = {}


def register(route: SupplyRoute) -> SupplyRoute:
    """Make ``route`` the route of its mode (replacing any before it)."""
    ROUTES[str(route.mode)] = route
    return route


# 上级发货: the supplier upline ships from their own stock to the buyer's.
UPLINE = register(
    SupplyRoute(
        mode=SupplyMode.NEAREST_HIGHER_UPLINE,
        agents_sell=True,
        sells_from=LocationKind.AGENT,
        lands_in=LocationKind.AGENT,
        ships=True,
    )
)
# 总部发货: the company ships from its warehouse to the buyer's own stock.
COMPANY = register(
    SupplyRoute(
        mode=SupplyMode.COMPANY,
        agents_sell=False,
        sells_from=LocationKind.AGENT,
        lands_in=LocationKind.AGENT,
        ships=True,
    )
)
# 云仓: the supplier upline's cloud stock moves to the buyer's; nothing travels.
CLOUD = register(
    SupplyRoute(
        mode=SupplyMode.CLOUD, agents_sell=True, sells_from=LocationKind.CLOUD, lands_in=LocationKind.CLOUD, ships=False
    )
)


def route_for(mode: str) -> SupplyRoute:
    """The route of ``mode``. A mode no route is registered for (an order recorded without one:
    blank) reads as the upline route — own stock, shipped — as the code always has."""
    return ROUTES.get(str(mode)) or ROUTES[SupplyMode.NEAREST_HIGHER_UPLINE]
