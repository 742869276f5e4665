"""Stock services: every change is a StockMove plus a guarded update of the cached levels.

A decrement is one statement, ``UPDATE … SET quantity = quantity - n WHERE … AND quantity >= n``:
if it touches no row, there was not enough stock and the whole transaction is rolled back. That
holds under any concurrency on both databases (no read-then-write), and the CHECK constraint
``stocklevel_never_negative`` stands behind it. Rows are touched in (location, sku) order, so two
transactions moving the same stock cannot deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import translation
from django.utils.translation import gettext as _

from weishang.catalog.models import SKU
from weishang.channel.models import Agent
from weishang.core.errors import Conflict
from weishang.trade.models import Location, LocationKind, StockLevel, StockMove
from weishang.trade.models.stock import INTERNAL_KINDS


@dataclass(frozen=True)
class Move:
    from_location: Location
    to_location: Location
    sku: SKU
    quantity: int
    order_line_id: int | None = None
    # What one unit cost (goods received from a supplier): read by the listeners below (the
    # inventory app values the brand's warehouse at moving average cost); None = at the average.
    unit_cost: Decimal | None = None
    # The batch (批号) and expiry date of goods received, for SKUs kept by batch (the inventory
    # app's listener records them and picks first expiry, first out); "" = none given.
    batch_code: str = ""
    expires_on: date | None = None


# Called in the transaction of every ``stock_move`` with the moves written and the ``Move``s asked
# for (same order), the reason, who, and the ``counter`` the caller named (the ledger purpose on the
# other side of the moves' valuation, e.g. goods received not billed; "" = by reason). The inventory
# app installs its valuation here when it is ready, so that trade knows nothing of it.
StockListener = Callable[..., None]
_listeners: list[StockListener] = []


def on_stock_moved(listener: StockListener) -> None:
    """Call ``listener(moves=…, asked=…, reason=…, by=…, counter=…)`` in every stock move's
    transaction (once per listener)."""
    if listener not in _listeners:
        _listeners.append(listener)


class InsufficientStock(Conflict):
    code = "insufficient_stock"

    def __init__(self, *, location: Location, sku: SKU, wanted: int, on_hand: int):
        super().__init__(
            _("Not enough %(sku)s at %(location)s: %(wanted)d wanted, %(on_hand)d on hand.")
            % {"sku": sku.name, "location": location.name, "wanted": wanted, "on_hand": on_hand},
            field="quantity",
        )
        self.location, self.sku, self.wanted, self.on_hand = location, sku, wanted, on_hand


# --- locations ------------------------------------------------------------------------------


def location_for_agent(agent: Agent, kind: str) -> Location:
    """The agent's own (``agent``) or cloud (``cloud``) location, created on first use
    (its name in the brand's language, whoever's request created it)."""
    with translation.override(settings.LANGUAGE_CODE):
        label = _("cloud stock") if kind == LocationKind.CLOUD else _("own stock")
    location, _created = Location.objects.get_or_create(
        kind=kind, agent=agent, defaults={"code": f"{kind}-{agent.pk}", "name": f"{agent.real_name} {label}"}
    )
    return location


def location_singleton(kind: str) -> Location:
    """The company's main warehouse, or the external customer / supplier / scrap location."""
    names = {
        LocationKind.WAREHOUSE: _("Company warehouse"),
        LocationKind.CUSTOMER: _("Customers"),
        LocationKind.SUPPLIER: _("Suppliers"),
        LocationKind.SCRAP: _("Scrap"),
        LocationKind.COUNT: _("Stock count differences"),
    }
    location = Location.objects.filter(kind=kind, agent__isnull=True).order_by("pk").first()
    if location is None:
        with translation.override(settings.LANGUAGE_CODE):
            name = str(names[kind])
        location, _created = Location.objects.get_or_create(code=str(kind), defaults={"kind": kind, "name": name})
    return location


# --- moves ----------------------------------------------------------------------------------


@transaction.atomic
def stock_move(*, moves: list[Move], reason: str, by=None, note: str = "", counter: str = "") -> list[StockMove]:
    """Record ``moves`` and update the levels; all or nothing. Raises InsufficientStock.
    The installed listeners (``on_stock_moved``) run in the same transaction."""
    delta: dict[tuple[int, int], int] = defaultdict(int)
    objects = {}
    for m in moves:
        if m.quantity <= 0:
            raise Conflict(_("A stock move needs a positive number of units."), field="quantity")
        for location, sign in ((m.from_location, -1), (m.to_location, +1)):
            if location.kind in INTERNAL_KINDS:
                delta[(location.pk, m.sku.pk)] += sign * m.quantity
                objects[(location.pk, m.sku.pk)] = (location, m.sku)
    keys = sorted(delta)
    StockLevel.objects.bulk_create(
        [StockLevel(location_id=loc, sku_id=sku) for loc, sku in keys], ignore_conflicts=True
    )
    for key in keys:  # one fixed order: no deadlocks between concurrent movers
        change = delta[key]
        if change == 0:
            continue
        levels = StockLevel.objects.filter(location_id=key[0], sku_id=key[1])
        if change < 0:
            updated = levels.filter(quantity__gte=-change).update(quantity=F("quantity") + change)
            if not updated:
                location, sku = objects[key]
                on_hand = levels.values_list("quantity", flat=True).first() or 0
                raise InsufficientStock(location=location, sku=sku, wanted=-change, on_hand=on_hand)
        else:
            levels.update(quantity=F("quantity") + change)
    written = StockMove.objects.bulk_create(
        [
            StockMove(
                from_location=m.from_location,
                to_location=m.to_location,
                sku=m.sku,
                quantity=m.quantity,
                reason=reason,
                order_line_id=m.order_line_id,
                created_by=by,
                note=note[:200],
            )
            for m in moves
        ]
    )
    for listener in _listeners:
        listener(moves=written, asked=moves, reason=reason, by=by, counter=counter)
    return written


def on_hand(*, location: Location, sku: SKU) -> int:
    return StockLevel.objects.filter(location=location, sku=sku).values_list("quantity", flat=True).first() or 0


def stock_verify() -> list[str]:
    """Differences between the cached levels and the sum of moves; empty when all is right."""
    expected: dict[tuple[int, int], int] = defaultdict(int)
    internal = set(Location.objects.filter(kind__in=INTERNAL_KINDS).values_list("pk", flat=True))
    for loc, sku, qty in (
        StockMove.objects.values("to_location", "sku")
        .annotate(n=Sum("quantity"))
        .values_list("to_location", "sku", "n")
    ):
        if loc in internal:
            expected[(loc, sku)] += qty
    for loc, sku, qty in (
        StockMove.objects.values("from_location", "sku")
        .annotate(n=Sum("quantity"))
        .values_list("from_location", "sku", "n")
    ):
        if loc in internal:
            expected[(loc, sku)] -= qty
    cached = {(loc, sku): qty for loc, sku, qty in StockLevel.objects.values_list("location", "sku", "quantity")}
    keys = sorted(set(expected) | set(cached))
    places = dict(Location.objects.filter(pk__in={k[0] for k in keys}).values_list("pk", "code"))
    codes = dict(SKU.objects.filter(pk__in={k[1] for k in keys}).values_list("pk", "code"))
    problems = []
    for key in keys:
        want, have = expected.get(key, 0), cached.get(key, 0)
        where = f"{places.get(key[0], key[0])} / {codes.get(key[1], key[1])}"
        if want != have:
            problems.append(
                _("%(where)s: the moves add up to %(want)d, the cached figure says %(have)d")
                % {"where": where, "want": want, "have": have}
            )
        if want < 0:
            problems.append(_("%(where)s: the moves go below zero (%(want)d)") % {"where": where, "want": want})
    return problems
