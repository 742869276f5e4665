"""The scan as a step of the one order workflow (trade.workflow): wherever goods go out, the
seller (or the brand, on its own orders) and the warehouse (on a pick-up) scan the codes of
what they send. It changes no status; it is taken before the fill or the shipment it goes with."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from weishang.core.models import SupplyMode
from weishang.trade import workflow
from weishang.trade.models import Order, OrderKind, OrderStatus
from weishang.trade.workflow import Actor, Step, When

# Paid orders whose goods travel when filled: a shop sale, or an agent's order in a supply mode
# that ships (cloud stock moves on paper until a pick-up ships it).
GOODS_GO_OUT = (
    When((OrderStatus.PAID,), kinds=(OrderKind.RETAIL,)),
    When(
        (OrderStatus.PAID,),
        not_kinds=(OrderKind.RETAIL, OrderKind.PICKUP),
        supply_modes=(SupplyMode.NEAREST_HIGHER_UPLINE, SupplyMode.COMPANY),
    ),
)
PICKUP_GOES_OUT = (When((OrderStatus.SUBMITTED,), kinds=(OrderKind.PICKUP,)),)


def _scan(order: Order, user, data: dict) -> Order:
    from weishang.codes.services import codes_scan

    return codes_scan(order=order, by=user, text=data["codes"])


def _scanned(order: Order) -> str:
    n = getattr(order, "codes_added", 0)
    if not n:
        return gettext("Order %(number)s: those codes were scanned already.") % {"number": order.number}
    return gettext("Order %(number)s: %(n)s codes scanned.") % {"number": order.number, "n": n}


SCAN = Step(
    "scan_codes",
    by=(Actor.SELLER,),
    when=GOODS_GO_OUT,
    label=_("Scan security codes"),
    input="codes",
    run=_scan,
    done=_scanned,
    # In the console the brand is the seller: the warehouse scans what it ships, as it fills it
    # and scans a pick-up (core.roles; without this the step took the default "order_decide").
    perm="order_handle",
    icon="qr_code_scanner",
)
SCAN_PICKUP = Step(
    "scan_pickup_codes",
    by=(Actor.BRAND,),
    when=PICKUP_GOES_OUT,
    label=_("Scan security codes"),
    input="codes",
    run=_scan,
    done=_scanned,
    perm="order_handle",
    icon="qr_code_scanner",
)


def install() -> None:
    workflow.install(steps=(SCAN, SCAN_PICKUP))
