"""Filling and completing: the seller fills a paid order from their stock, the buyer confirms
receipt; pick-ups out of cloud stock; and the brand's ways out of a stuck order (fill it, take it
over, refund it)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from weishang.channel import services as channel_services
from weishang.channel.models import Agent, AgentStatus
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.models import SupplyMode
from weishang.core.selectors import brand_get
from weishang.core.text import record_text
from weishang.ledger import services as ledger
from weishang.ledger.models import Purpose
from weishang.regions.models import Region
from weishang.regions.selectors import region_from_input
from weishang.trade import selectors, stock, supply
from weishang.trade.models import (
    LocationKind,
    NoticeKind,
    Order,
    OrderKind,
    OrderLine,
    OrderStatus,
    OrderTransition,
    PaymentStatus,
    StockReason,
)
from weishang.trade.services.binding import bind_paid_customer, binds_when_filled
from weishang.trade.services.common import (
    agent_buyer,
    agent_seller,
    emit,
    emit_tracking,
    is_staff_with,
    locked_order,
    new_number,
    notify,
    order_target_level,
    require_buyer,
    require_note,
    require_seller_side,
    transition,
)
from weishang.trade.services.money import brand_account, post, wallet
from weishang.trade.services.orders import clean_lines, order_cancel
from weishang.trade.services.refunds import upgrade_reason

# --- filling and completing -----------------------------------------------------------------


def _complete(order: Order, *, by) -> None:
    transition(order, "complete", by=by)
    emit(order, "order.completed")
    if order.kind == OrderKind.ENTRY and agent_buyer(order).status == AgentStatus.APPLICANT:
        channel_services.agent_change_status(
            agent=agent_buyer(order), action="activate", by=by, reason=f"entry order {order.number} completed"
        )
    if order.kind == OrderKind.UPGRADE and order_target_level(order).is_higher_than(agent_buyer(order).level):
        channel_services.agent_change_level(
            agent=agent_buyer(order), level=order_target_level(order), by=by, reason=upgrade_reason(order)
        )


@transaction.atomic
def order_fill(*, order: Order, by, carrier: str = "", tracking_number: str = "") -> Order:
    """The seller fills a paid order from their stock. Cloud stock completes at once."""
    order = locked_order(order)
    require_seller_side(order, by)
    if order.status != OrderStatus.PAID:
        raise Conflict(
            _("Order %(number)s is %(status)s; only a paid order can be filled.")
            % {"number": order.number, "status": order.get_status_display()},
            field="status",
        )
    route = supply.route_for(order.supply_mode)
    src, dst = route.fill_locations(order)
    stock.stock_move(
        moves=[stock.Move(src, dst, line.sku, line.quantity, line.pk) for line in order.lines.select_related("sku")],
        reason=StockReason.ORDER_FILL,
        by=by,
        note=order.number,
    )
    if binds_when_filled(order):  # paid on the seller's word: the goods going out is what binds
        bind_paid_customer(order)
    if carrier or tracking_number:
        order.carrier, order.tracking_number, order.shipped_at = carrier[:40], tracking_number[:60], clock.now()
    transition(order, "fulfil", by=by)
    emit(order, "order.fulfilled")
    if order.tracking_number:
        emit_tracking(order)
    if not route.fill_ships(order):  # nothing travels: the units are the buyer's now
        _complete(order, by=by)
    return order


@transaction.atomic
def order_mark_delivered(*, order: Order, by) -> Order:
    """The seller (or the brand's warehouse) records that a shipped retail order arrived.
    (An agent's own order completes when the agent confirms receipt, not on the seller's word.)"""
    order = locked_order(order)
    require_seller_side(order, by)
    if order.kind != OrderKind.RETAIL:
        raise Conflict(_("Only a retail order is marked delivered by its seller."), field="kind")
    order.delivered_at = clock.now()
    _complete(order, by=by)
    return order


@transaction.atomic
def order_confirm_receipt(*, order: Order, by) -> Order:
    order = locked_order(order)
    require_buyer(order, by)
    order.delivered_at = clock.now()
    _complete(order, by=by)
    return order


# --- pick-ups -------------------------------------------------------------------------------


@transaction.atomic
def pickup_request(
    *,
    agent: Agent,
    lines,
    by,
    name: str,
    phone: str,
    address: str,
    region: Region | str | None = None,
    idempotency_key: str | None = None,
) -> Order:
    """Ship units out of the agent's cloud stock to an address (``region``: its province, city
    and district; ``address``: the street). The units leave cloud stock now, so they cannot be
    sold or picked up twice; the warehouse then ships them."""
    if agent.user_id != getattr(by, "pk", None):
        raise Forbidden(_("You can only pick up your own stock."))
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    if idempotency_key:
        first = Order.objects.filter(buyer=agent, idempotency_key=idempotency_key).first()
        if first is not None:
            return first
    for field, value in (("name", name), ("phone", phone), ("address", address)):
        if not (value or "").strip():
            raise BusinessError(_("Enter the recipient's name, phone and address."), field=field)
    region = region_from_input(region, finest=True)
    merged = clean_lines(lines)
    order = Order.objects.create(
        number=new_number(OrderKind.PICKUP),
        kind=OrderKind.PICKUP,
        buyer=agent,
        seller=None,
        supply_mode=SupplyMode.CLOUD,
        total=Decimal("0"),
        idempotency_key=idempotency_key or None,
        ship_name=name.strip()[:50],
        ship_phone=phone.strip()[:20],
        ship_region=region,
        ship_address=address.strip()[:200],
    )
    created = OrderLine.objects.bulk_create(
        [
            OrderLine(order=order, sku=sku, quantity=qty, unit_price=Decimal("0"), line_total=Decimal("0"))
            for sku, qty in merged.values()
        ]
    )
    cloud = stock.location_for_agent(agent, LocationKind.CLOUD)
    customer = stock.location_singleton(LocationKind.CUSTOMER)
    stock.stock_move(
        moves=[stock.Move(cloud, customer, line.sku, line.quantity, line.pk) for line in created],
        reason=StockReason.PICKUP,
        by=by,
        note=order.number,
    )
    transition(order, "submit", by=by)
    emit(order, "order.submitted")
    return order


@transaction.atomic
def pickup_ship(*, order: Order, by, carrier: str, tracking_number: str) -> Order:
    order = locked_order(order)
    if not is_staff_with(by, "trade.change_order"):
        raise Forbidden(_("Only the brand's warehouse ships pick-ups."))
    if not carrier.strip() or not tracking_number.strip():
        raise BusinessError(_("Enter the carrier and the tracking number."), field="tracking_number")
    order.carrier, order.tracking_number = carrier.strip()[:40], tracking_number.strip()[:60]
    transition(order, "ship_pickup", by=by)
    emit(order, "order.fulfilled")
    emit_tracking(order)
    return order


@transaction.atomic
def pickup_delivered(*, order: Order, by) -> Order:
    order = locked_order(order)
    if order.kind != OrderKind.PICKUP:
        raise Conflict(_("This is not a pick-up."), field="kind")
    if not (is_staff_with(by, "trade.change_order") or (order.buyer and order.buyer.user_id == by.pk)):
        raise Forbidden(_("This is not your order."))
    order.delivered_at = clock.now()
    transition(order, "complete", by=by)
    emit(order, "order.completed")
    return order


# --- stuck orders: the brand's ways out -----------------------------------------------------
# A paid order nobody fills within the brand's ``stuck_after_hours`` is stuck (the console's
# stuck queue). Brand staff who decide orders (owner, operations: change orders and see
# payments) take one of three ways out, each recorded as an OrderTransition with who and why:
# the company fills it now, the order is reassigned to the company (the warehouse fills it), or
# it is cancelled and refunded. A shop order (a consumer's, from an agent's shop) is only
# refunded. See docs/decisions.md ("Stuck orders", M7).

STUCK_PERMS = ("trade.change_order", "trade.view_payment")


# Whether an order is stuck is read by ``selectors.order_is_stuck`` (the console's queue and
# steps read it too); ``services.order_is_stuck`` is the same function.
order_is_stuck = selectors.order_is_stuck


def _require_stuck_handler(user) -> None:
    if not (getattr(user, "is_active", False) and getattr(user, "is_staff", False) and user.has_perms(STUCK_PERMS)):
        raise Forbidden(_("Only brand staff who decide orders can do this."))


def _require_stuck(order: Order) -> None:
    if not order_is_stuck(order):
        raise Conflict(
            _("Order %(number)s is not stuck: it is %(status)s, or paid less than %(hours)d hours ago.")
            % {"number": order.number, "status": order.get_status_display(), "hours": brand_get().stuck_after_hours},
            field="status",
            code="not_stuck",
        )


def _require_agent_order(order: Order) -> None:
    """The company takes over an agent's restock order, not a consumer's order from an agent's shop:
    that sale is the agent's (their shop, their retail margin and binding); stuck, it is refunded."""
    if order.kind == OrderKind.RETAIL:
        raise Conflict(
            _("A shop order stays with its seller: the company does not take it over. Cancel and refund it."),
            field="order",
            code="shop_order",
        )


def _reassign_to_company(order: Order, *, by, note: str) -> None:
    """The seller agent hands the order to the company. The money the agent received (their
    wallet was credited, or they hold the buyer's transfer) is owed to the brand: one balanced
    entry from the agent's wallet (which may go below zero, a debt) to brand sales. A later
    refund is then paid by brand sales, which now holds the money."""
    seller = agent_seller(order)
    paid = order.payments.filter(status=PaymentStatus.CONFIRMED).first()
    if paid is not None:
        post(
            [ledger.debit(wallet(seller), paid.amount), ledger.credit(brand_account(Purpose.BRAND_SALES), paid.amount)],
            kind="order_reassign",
            key=f"reassign:{order.number}",
            reference=f"order:{order.number}",
            by=by,
            allow_negative={Purpose.AGENT_WALLET},
        )
    order.seller = None
    order.save(update_fields=["seller"])
    OrderTransition.objects.create(
        order=order,
        from_status=order.status,
        to_status=order.status,
        by=by,
        note=(
            record_text(gettext_noop("Reassigned to the company from %(seller)s")) % {"seller": seller.real_name}
            + f": {note}"
        )[:300],
    )
    with translation.override(settings.LANGUAGE_CODE):
        text = gettext("The company took over order %(number)s from %(seller)s and fills it.") % {
            "number": order.number,
            "seller": seller.real_name,
        }
        if paid is not None:
            text += " " + gettext("¥%(amount)s the order was paid moved from %(seller)s's wallet to the company.") % {
                "amount": paid.amount,
                "seller": seller.real_name,
            }
    notify(order, seller, NoticeKind.REASSIGNED, text, by=by)
    notify(order, order.buyer, NoticeKind.REASSIGNED, text, by=by)
    emit(order, "order.reassigned", previous_seller=seller.pk)


@transaction.atomic
def order_reassign_to_company(*, order: Order, by, note: str) -> Order:
    """Way out 2: a stuck order of an agent becomes the company's; the warehouse fills it."""
    _require_stuck_handler(by)
    order = locked_order(order)
    _require_stuck(order)
    _require_agent_order(order)
    require_note(note, _("Say why the order is reassigned."))
    if order.seller_id is None:
        raise Conflict(
            _("Order %(number)s is already the company's.") % {"number": order.number},
            field="order",
            code="already_company",
        )
    _reassign_to_company(order, by=by, note=note)
    return order


@transaction.atomic
def order_company_fill(*, order: Order, by, note: str, carrier: str = "", tracking_number: str = "") -> Order:
    """Way out 1: the company fills a stuck order now from its warehouse (taking it over from the
    seller agent first, money and all). Refused, changing nothing, if the warehouse is short."""
    _require_stuck_handler(by)
    order = locked_order(order)
    _require_stuck(order)
    _require_agent_order(order)
    require_note(note, _("Say why the company fills the order."))
    if order.seller_id is not None:
        _reassign_to_company(order, by=by, note=note)
    return order_fill(order=order, by=by, carrier=carrier.strip(), tracking_number=tracking_number.strip())


@transaction.atomic
def order_stuck_refund(*, order: Order, by, note: str) -> Order:
    """Way out 3: cancel a stuck order; the money goes back to the buyer's wallet, paid by whoever
    received it (as ``order_cancel``), and both sides are told."""
    _require_stuck_handler(by)
    order = locked_order(order)
    _require_stuck(order)
    require_note(note, _("Say why the order is refunded."))
    return order_cancel(order=order, by=by, note=note)
