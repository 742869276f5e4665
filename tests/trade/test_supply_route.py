"""One supply route per supply mode (trade.supply): each mode's answers pinned — who sells, from
which stock to which, whether a fill ships — and a route registered for a made-up mode used by the
services and selectors with no other edit."""

from __future__ import annotations

import pytest

from weishang.channel.models import AgentStatus
from weishang.core.errors import Conflict
from weishang.core.models import SupplyMode
from weishang.trade import selectors, services, supply
from weishang.trade.models import LocationKind, OrderStatus
from weishang.trade.supply import SupplyRoute, route_for

CLOUD, OWN, WAREHOUSE, CUSTOMER = LocationKind.CLOUD, LocationKind.AGENT, LocationKind.WAREHOUSE, LocationKind.CUSTOMER


def kinds(pair) -> tuple[tuple[str, int | None], tuple[str, int | None]]:
    """(kind, agent id) of a fill's from and to locations."""
    src, dst = pair
    return (src.kind, src.agent_id), (dst.kind, dst.agent_id)


@pytest.mark.parametrize(
    ("mode", "agents_sell", "sells_from", "lands_in", "ships"),
    [
        (SupplyMode.NEAREST_HIGHER_UPLINE, True, OWN, OWN, True),
        (SupplyMode.COMPANY, False, OWN, OWN, True),
        (SupplyMode.CLOUD, True, CLOUD, CLOUD, False),
    ],
)
def test_each_mode_has_its_route(mode, agents_sell, sells_from, lands_in, ships):
    route = route_for(mode)
    answers = (route.mode, route.agents_sell, route.sells_from, route.lands_in, route.ships)
    assert answers == (mode, agents_sell, sells_from, lands_in, ships)
    assert route_for(str(mode)) is route


def test_every_supply_mode_has_a_route():
    assert {str(mode) for mode in SupplyMode} <= set(supply.ROUTES)


def test_an_order_recorded_without_a_mode_reads_as_the_upline_route():
    assert route_for("") is route_for(SupplyMode.NEAREST_HIGHER_UPLINE)


# --- who sells ------------------------------------------------------------------------------


@pytest.fixture
def chain(make_agent, brand):
    """联创 ← 总代 ← 特约: the 特约's supplier is the 总代."""
    top = make_agent("partner")
    general = make_agent("general", referrer=top)
    buyer = make_agent("vip", referrer=general)
    assert buyer.supplier_id == general.pk
    return top, general, buyer


@pytest.mark.parametrize("mode", [SupplyMode.NEAREST_HIGHER_UPLINE, SupplyMode.CLOUD])
def test_an_upline_sells_under_the_agent_modes(chain, levels, mode):
    top, general, buyer = chain
    route = route_for(mode)
    assert route.seller(buyer=buyer) == general
    assert route.seller(buyer=buyer, level=levels["vip"]) == general  # the buyer's own level
    # An upgrade to 总代 is sold by the nearest upline above 总代: the 联创.
    assert route.seller(buyer=buyer, level=levels["general"]) == top


def test_nobody_sells_for_a_supplier_no_longer_active(chain):
    _top, general, buyer = chain
    general.status = AgentStatus.SUSPENDED
    general.save(update_fields=["status"])
    buyer.refresh_from_db()
    assert route_for(SupplyMode.CLOUD).seller(buyer=buyer) is None


def test_the_company_sells_under_the_company_mode(chain, levels):
    _top, _general, buyer = chain
    route = route_for(SupplyMode.COMPANY)
    assert route.seller(buyer=buyer) is None
    assert route.seller(buyer=buyer, level=levels["general"]) is None


def test_order_route_asks_the_brands_route(t, chain, brand):
    _top, general, buyer = chain
    assert services.order_route(buyer=buyer) == (general, SupplyMode.CLOUD)
    t.set_mode(brand, SupplyMode.COMPANY)
    assert services.order_route(buyer=buyer) == (None, SupplyMode.COMPANY)


# --- from where, to where, shipped or not ---------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "from_kind", "to_kind", "ships"),
    [
        (SupplyMode.NEAREST_HIGHER_UPLINE, OWN, OWN, True),
        (SupplyMode.CLOUD, CLOUD, CLOUD, False),
    ],
)
def test_an_agent_fills_from_their_stock_into_the_buyers(
    t, skus, supplier, buyer, brand, mode, from_kind, to_kind, ships
):
    t.set_mode(brand, mode)
    order = t.place(buyer, [(skus.a, 1)])
    route = route_for(order.supply_mode)
    assert kinds(route.fill_locations(order)) == ((from_kind, supplier.pk), (to_kind, buyer.pk))
    assert route.fill_ships(order) is ships


@pytest.mark.parametrize(
    ("mode", "to_kind", "ships"), [(SupplyMode.COMPANY, OWN, True), (SupplyMode.CLOUD, CLOUD, False)]
)
def test_the_company_fills_from_its_warehouse(t, skus, make_agent, brand, mode, to_kind, ships):
    t.set_mode(brand, mode)
    top = make_agent("partner")  # no supplier: the company sells under any mode
    order = t.place(top, [(skus.a, 100)])
    assert order.seller_id is None
    route = route_for(order.supply_mode)
    assert kinds(route.fill_locations(order)) == ((WAREHOUSE, None), (to_kind, top.pk))
    assert route.fill_ships(order) is ships
    assert route.fill_source(order)[0] == "公司仓库"


@pytest.mark.parametrize(("mode", "from_kind"), [(SupplyMode.CLOUD, CLOUD), (SupplyMode.NEAREST_HIGHER_UPLINE, OWN)])
def test_a_shop_order_ships_to_the_customer_from_the_sellers_stock(t, skus, supplier, brand, mode, from_kind):
    t.set_mode(brand, mode)
    order = services.retail_order_submit(
        seller=supplier, name="王女士", phone="13912345678", address="上海市徐汇区", lines=[(skus.a, 1)]
    )
    route = route_for(order.supply_mode)
    assert kinds(route.fill_locations(order)) == ((from_kind, supplier.pk), (CUSTOMER, None))
    assert route.fill_ships(order) is True


def test_fill_source_names_the_sellers_stock_or_the_companys(t, skus, supplier, buyer, brand):
    order = t.place(buyer, [(skus.a, 1)])
    label, location = selectors.fill_source(order)
    assert location is None and label == f"{supplier.real_name} 云仓"
    t.receive(supplier, skus.a, 3)
    assert selectors.fill_source(order)[1] == t.location(supplier)
    assert selectors.fill_source(order, as_company=True)[0] == "公司仓库"


# --- a fourth route, for a mode only this test knows ----------------------------------------

COMPANY_CLOUD = "test_company_cloud"


@pytest.fixture
def company_cloud(monkeypatch, brand, t):
    """The company sells from its warehouse straight into the buyer's cloud stock: nothing ships."""
    route = SupplyRoute(mode=COMPANY_CLOUD, agents_sell=False, sells_from=OWN, lands_in=CLOUD, ships=False)
    monkeypatch.setitem(supply.ROUTES, COMPANY_CLOUD, route)
    t.set_mode(brand, COMPANY_CLOUD)
    return route


def test_a_route_registered_for_a_new_mode_is_used_everywhere(t, skus, buyer, boss, company_cloud):
    assert route_for(COMPANY_CLOUD) is company_cloud
    assert services.order_route(buyer=buyer) == (None, COMPANY_CLOUD)
    t.receive(None, skus.a, 10)
    assert selectors.seller_in_stock(seller=None, mode=COMPANY_CLOUD) == {skus.a.pk}
    order = t.paid(buyer, [(skus.a, 4)])
    assert (order.seller_id, order.supply_mode) == (None, COMPANY_CLOUD)
    assert selectors.fill_shortfalls(order=order) == []
    assert selectors.order_availability(order).short == []

    services.order_fill(order=order, by=boss)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED  # landed in cloud stock: nothing travels
    assert t.on_hand(None, skus.a) == 6 and t.on_hand(buyer, skus.a, CLOUD) == 4

    another = t.paid(buyer, [(skus.a, 1)])
    with pytest.raises(Conflict) as refused:
        services.shipment_send(order=another, by=boss, carrier="顺丰", tracking_number="SF1")
    assert refused.value.code == "nothing_to_ship"


def test_an_agent_route_for_a_new_mode_reads_the_sellers_stock_of_its_kind(
    t, skus, supplier, buyer, brand, monkeypatch
):
    """Upline agents selling from their own stock into the buyer's cloud stock (a mode only this
    test knows): the shortfall and the route's availability read the seller's own stock."""
    monkeypatch.setitem(supply.ROUTES, "test_own_to_cloud", SupplyRoute("test_own_to_cloud", True, OWN, CLOUD, False))
    t.set_mode(brand, "test_own_to_cloud")
    t.receive(supplier, skus.a, 2, OWN)
    t.receive(supplier, skus.b, 9)  # cloud stock: not what this route sells from
    assert selectors.seller_in_stock(seller=supplier, mode="test_own_to_cloud") == {skus.a.pk}
    rows = selectors.route_availability(seller=supplier, mode="test_own_to_cloud", lines=[(skus.a, 2), (skus.b, 1)])
    assert [row["seller_ok"] for row in rows] == [True, False]
    order = t.place(buyer, [(skus.a, 2)])
    assert order.seller_id == supplier.pk and selectors.fill_shortfalls(order=order) == []
    assert kinds(route_for(order.supply_mode).fill_locations(order)) == ((OWN, supplier.pk), (CLOUD, buyer.pk))
