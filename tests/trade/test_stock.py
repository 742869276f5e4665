"""Stock: filling moves units from the seller to the buyer according to the supply mode; not
enough stock changes nothing; the cached levels always match the moves (``stock verify``)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from weishang.core.errors import Conflict, Forbidden
from weishang.core.models import OutboxEvent, SupplyMode
from weishang.trade import services, stock
from weishang.trade.models import LocationKind, OrderStatus, OrderTransition, StockLevel, StockMove, StockReason
from weishang.trade.stock import InsufficientStock, stock_verify

pytestmark = pytest.mark.django_db

S = OrderStatus
CLOUD, OWN = LocationKind.CLOUD, LocationKind.AGENT


def names_location(text: str, location) -> bool:
    """A verify message says which location it is about (by code or by id)."""
    return location.code in text or f"location {location.pk}" in text


def fills(order) -> list[tuple[str, str, str, int]]:
    return list(
        StockMove.objects.filter(order_line__order=order, reason=StockReason.ORDER_FILL)
        .order_by("pk")
        .values_list("from_location__kind", "to_location__kind", "sku__code", "quantity")
    )


def test_cloud_mode_moves_cloud_stock_and_completes_at_once(t, skus, supplier, buyer):
    t.receive(supplier, skus.a, 10)
    t.receive(supplier, skus.b, 10)
    order = t.paid(buyer, [(skus.a, 3), (skus.b, 4)])
    t.fill(order)
    order.refresh_from_db()
    assert order.status == S.COMPLETED and order.completed_at
    assert (t.on_hand(supplier, skus.a), t.on_hand(supplier, skus.b)) == (7, 6)
    assert (t.on_hand(buyer, skus.a), t.on_hand(buyer, skus.b)) == (3, 4)
    assert fills(order) == [(CLOUD, CLOUD, "A", 3), (CLOUD, CLOUD, "B", 4)]
    moves = StockMove.objects.filter(order_line__order=order)
    assert {m.created_by_id for m in moves} == {supplier.user_id} and {m.note for m in moves} == {order.number}
    assert OutboxEvent.objects.filter(topic="order.completed", key=order.number).count() == 1
    assert stock_verify() == []


def test_upline_mode_moves_own_stock_and_completes_on_receipt(t, brand, skus, supplier, buyer):
    t.set_mode(brand, SupplyMode.NEAREST_HIGHER_UPLINE)
    t.receive(supplier, skus.a, 10, kind=OWN)
    t.receive(supplier, skus.a, 50)  # cloud stock is not used in this mode
    order = t.paid(buyer, [(skus.a, 4)])
    t.fill(order, carrier="中通", tracking_number="ZT778899")
    order.refresh_from_db()
    assert order.status == S.FULFILLED
    assert (order.carrier, order.tracking_number) == ("中通", "ZT778899") and order.shipped_at
    assert t.on_hand(supplier, skus.a, OWN) == 6 and t.on_hand(buyer, skus.a, OWN) == 4
    assert t.on_hand(supplier, skus.a) == 50 and t.on_hand(buyer, skus.a) == 0
    assert fills(order) == [(OWN, OWN, "A", 4)]
    assert not OutboxEvent.objects.filter(topic="order.completed").exists()

    with pytest.raises(Forbidden):
        services.order_confirm_receipt(order=order, by=supplier.user)  # the seller cannot say it arrived
    services.order_confirm_receipt(order=order, by=buyer.user)
    order.refresh_from_db()
    assert order.status == S.COMPLETED and order.delivered_at
    assert OutboxEvent.objects.filter(topic="order.completed", key=order.number).count() == 1
    with pytest.raises(Conflict):
        services.order_confirm_receipt(order=order, by=buyer.user)
    assert OutboxEvent.objects.filter(topic="order.completed").count() == 1
    assert stock_verify() == []


def test_company_mode_ships_from_the_warehouse(t, brand, skus, buyer, boss):
    t.set_mode(brand, SupplyMode.COMPANY)
    t.receive(None, skus.a, 100)
    order = t.paid(buyer, [(skus.a, 5)])
    services.order_fill(order=order, by=boss, carrier="顺丰", tracking_number="SF1")
    assert t.on_hand(None, skus.a) == 95 and t.on_hand(buyer, skus.a, OWN) == 5
    assert fills(order) == [(LocationKind.WAREHOUSE, OWN, "A", 5)]
    order.refresh_from_db()
    assert order.status == S.FULFILLED
    assert stock_verify() == []


def test_cloud_mode_without_a_supplier_fills_from_the_warehouse(t, skus, make_agent, boss, brand):
    top = make_agent("partner")
    t.receive(None, skus.a, 500)
    order = t.paid(top, [(skus.a, 100)])
    services.order_fill(order=order, by=boss)
    order.refresh_from_db()
    assert order.status == S.COMPLETED
    assert t.on_hand(None, skus.a) == 400 and t.on_hand(top, skus.a) == 100
    assert stock_verify() == []


def test_resale_down_the_chain(t, skus, make_agent, brand):
    """Units pass from the general agent's cloud to the city agent's, then to the vip's."""
    general = make_agent("general")
    city = make_agent("city", referrer=general)
    vip = make_agent("vip", referrer=city)
    assert vip.supplier_id == city.pk
    t.receive(general, skus.a, 20)
    t.fill(t.paid(city, [(skus.a, 10)]))
    t.fill(t.paid(vip, [(skus.a, 4)]))
    assert [t.on_hand(a, skus.a) for a in (general, city, vip)] == [10, 6, 4]
    assert stock_verify() == []


def test_not_enough_stock_changes_nothing(t, skus, supplier, buyer):
    t.receive(supplier, skus.a, 3)
    t.receive(supplier, skus.b, 10)
    order = t.paid(buyer, [(skus.b, 2), (skus.a, 5)])
    moves_before = StockMove.objects.count()
    with pytest.raises(InsufficientStock) as exc:
        t.fill(order)
    err = exc.value
    assert isinstance(err, Conflict) and err.code == "insufficient_stock"
    assert (err.sku, err.wanted, err.on_hand) == (skus.a, 5, 3)
    cloud = t.location(supplier)
    assert err.location == cloud
    text = str(err)
    assert skus.a.name in text and cloud.name in text and "5" in text and "3" in text
    order.refresh_from_db()
    assert order.status == S.PAID
    assert OrderTransition.objects.filter(order=order).count() == 4
    assert StockMove.objects.count() == moves_before
    assert (t.on_hand(supplier, skus.a), t.on_hand(supplier, skus.b)) == (3, 10)
    assert (t.on_hand(buyer, skus.a), t.on_hand(buyer, skus.b)) == (0, 0)
    assert not OutboxEvent.objects.filter(topic="order.completed").exists()
    assert stock_verify() == []

    t.receive(supplier, skus.a, 2)  # restocked: now the fill goes through
    t.fill(order)
    assert t.on_hand(supplier, skus.a) == 0 and t.on_hand(buyer, skus.a) == 5
    assert stock_verify() == []


def test_a_seller_with_no_stock_row_at_all(t, skus, supplier, buyer):
    order = t.paid(buyer, [(skus.a, 1)])
    with pytest.raises(InsufficientStock) as exc:
        t.fill(order)
    assert exc.value.on_hand == 0
    order.refresh_from_db()
    assert order.status == S.PAID
    assert not StockMove.objects.exists()
    assert stock_verify() == []


def test_filling_twice_moves_stock_once(t, skus, supplier, buyer):
    t.receive(supplier, skus.a, 10)
    order = t.paid(buyer, [(skus.a, 3)])
    t.fill(order)
    with pytest.raises(Conflict):
        t.fill(order)
    assert t.on_hand(supplier, skus.a) == 7 and t.on_hand(buyer, skus.a) == 3
    assert len(fills(order)) == 1


def test_stock_verify_reports_a_tampered_level(t, skus, supplier, buyer, capsys):
    t.receive(supplier, skus.a, 10)
    t.fill(t.paid(buyer, [(skus.a, 4)]))
    assert stock_verify() == []
    call_command("stock", "verify")  # no error
    assert capsys.readouterr().err == ""

    cloud = t.location(buyer)
    StockLevel.objects.filter(location=cloud, sku=skus.a).update(quantity=40)  # someone edits the cache
    problems = stock_verify()
    assert len(problems) == 1
    assert names_location(problems[0], cloud) and "4" in problems[0] and "40" in problems[0]
    with pytest.raises(CommandError):
        call_command("stock", "verify")
    assert names_location(capsys.readouterr().err, cloud)


def test_stock_verify_reports_a_deleted_level_and_a_stray_level(t, skus, supplier):
    t.receive(supplier, skus.a, 10)
    StockLevel.objects.filter(location=t.location(supplier)).delete()
    assert len(stock_verify()) == 1
    t.receive(supplier, skus.b, 1)
    StockLevel.objects.create(location=t.location(supplier, OWN), sku=skus.b, quantity=3)  # no move made it
    assert len(stock_verify()) == 2


def test_stock_verify_reports_moves_that_go_below_zero(t, skus, supplier, buyer):
    t.receive(supplier, skus.a, 2)
    StockMove.objects.create(
        from_location=t.location(supplier),
        to_location=t.location(buyer),
        sku=skus.a,
        quantity=5,
        reason=StockReason.ADJUSTMENT,
    )  # written behind the service's back
    problems = stock_verify()
    assert any("-3" in p and names_location(p, t.location(supplier)) for p in problems)


def test_stock_level_never_negative(t, skus, supplier):
    t.receive(supplier, skus.a, 2)
    level = StockLevel.objects.get(location=t.location(supplier), sku=skus.a)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(pk=level.pk).update(quantity=-1)
    with pytest.raises(InsufficientStock):
        stock.stock_move(
            moves=[stock.Move(t.location(supplier), stock.location_singleton(LocationKind.SCRAP), skus.a, 3)],
            reason=StockReason.SCRAP,
        )
    assert t.on_hand(supplier, skus.a) == 2
    assert not StockLevel.objects.filter(quantity__lt=0).exists()


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_move_needs_a_positive_quantity(t, skus, supplier, quantity):
    with pytest.raises(Conflict):
        stock.stock_move(
            moves=[stock.Move(stock.location_singleton(LocationKind.SUPPLIER), t.location(supplier), skus.a, quantity)],
            reason=StockReason.RECEIPT,
        )
    assert not StockMove.objects.exists()


def test_moves_inside_one_call_are_all_or_nothing(t, skus, supplier, buyer):
    t.receive(supplier, skus.a, 5)
    src, dst = t.location(supplier), t.location(buyer)
    with pytest.raises(InsufficientStock):
        stock.stock_move(
            moves=[stock.Move(src, dst, skus.a, 3), stock.Move(src, dst, skus.a, 3)], reason=StockReason.ADJUSTMENT
        )  # 6 out of 5: the two moves together fail
    assert t.on_hand(supplier, skus.a) == 5 and t.on_hand(buyer, skus.a) == 0
    assert StockMove.objects.count() == 1
    assert stock_verify() == []


def test_location_helpers_return_one_location_each(skus, supplier):
    assert stock.location_for_agent(supplier, CLOUD) == stock.location_for_agent(supplier, CLOUD)
    assert stock.location_for_agent(supplier, CLOUD) != stock.location_for_agent(supplier, OWN)
    assert stock.location_singleton(LocationKind.WAREHOUSE) == stock.location_singleton(LocationKind.WAREHOUSE)
    assert stock.location_singleton(LocationKind.WAREHOUSE).agent is None
