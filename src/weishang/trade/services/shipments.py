"""The brand's shipments: the console's warehouse, or a logistics system through the API, ships a
pick-up or an order the company fills, and corrects its tracking."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.trade import supply
from weishang.trade.models import (
    Order,
    OrderKind,
    OrderStatus,
)
from weishang.trade.services.common import (
    emit_tracking,
    is_staff_with,
    locked_order,
)
from weishang.trade.services.fulfilment import order_fill, pickup_ship

# --- the brand's shipments (the console's warehouse, or a logistics system through the API) ---


def _require_warehouse(user) -> None:
    if not is_staff_with(user, "trade.change_order"):
        raise Forbidden(_("Only the brand's warehouse ships orders."))


def _require_brand_shipment(order: Order) -> None:
    """Goods the brand sends: a pick-up, or an order the company fills whose route ships it."""
    if order.kind == OrderKind.PICKUP:
        return
    if order.seller_id is not None:
        raise Conflict(
            _("Order %(number)s is sent by its seller, not by the brand.") % {"number": order.number},
            field="order",
            code="not_brand_shipment",
        )
    if not supply.route_for(order.supply_mode).fill_ships(order):
        raise Conflict(
            _("Order %(number)s is filled into cloud stock: nothing is shipped.") % {"number": order.number},
            field="order",
            code="nothing_to_ship",
        )


def _carrier_and_tracking(carrier: str, tracking_number: str) -> tuple[str, str]:
    carrier, tracking_number = (carrier or "").strip()[:40], (tracking_number or "").strip()[:60]
    if not carrier or not tracking_number:
        raise BusinessError(_("Enter the carrier and the tracking number."), field="tracking_number")
    return carrier, tracking_number


@transaction.atomic
def shipment_send(*, order: Order, by, carrier: str, tracking_number: str) -> Order:
    """The brand's warehouse ships a pick-up, or a paid order the company fills (``order_fill``
    out of the warehouse), with its carrier and tracking number."""
    _require_warehouse(by)
    carrier, tracking_number = _carrier_and_tracking(carrier, tracking_number)
    if order.kind == OrderKind.PICKUP:
        return pickup_ship(order=order, by=by, carrier=carrier, tracking_number=tracking_number)
    _require_brand_shipment(order)
    return order_fill(order=order, by=by, carrier=carrier, tracking_number=tracking_number)


@transaction.atomic
def shipment_tracking_update(*, order: Order, by, carrier: str, tracking_number: str) -> Order:
    """The brand's warehouse corrects the carrier or tracking number of a shipment it sent."""
    _require_warehouse(by)
    order = locked_order(order)
    _require_brand_shipment(order)
    if order.status not in (OrderStatus.FULFILLED, OrderStatus.COMPLETED):
        raise Conflict(
            _("Order %(number)s has not been shipped yet.") % {"number": order.number},
            field="status",
            code="wrong_status",
        )
    carrier, tracking_number = _carrier_and_tracking(carrier, tracking_number)
    if (order.carrier, order.tracking_number) != (carrier, tracking_number):
        order.carrier, order.tracking_number = carrier, tracking_number
        order.save(update_fields=["carrier", "tracking_number"])
        emit_tracking(order)
    return order
