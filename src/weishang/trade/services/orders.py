"""An order from submission to a decision: the lines and purchase limits checked, the seller
found by the brand's supply route (``order_route``), approval or rejection, cancellation before
fulfilment (the other side gets a notice, a paid order's money goes back)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import ForeignKey, Sum
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from weishang.catalog.models import SKU
from weishang.catalog.selectors import level_prices
from weishang.channel.models import Agent, AgentStatus, Level
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict, Forbidden, NotFound
from weishang.core.selectors import brand_get, unique_row
from weishang.core.text import record_text
from weishang.trade import selectors, stock, supply, workflow
from weishang.trade.models import (
    NoticeKind,
    Order,
    OrderKind,
    OrderLine,
    OrderNotice,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    StockMove,
    StockReason,
)
from weishang.trade.models.orders import LIVE_STATUSES, OPEN_STATUSES, VOLUME_KINDS
from weishang.trade.services.binding import unbind_undone
from weishang.trade.services.common import (
    emit,
    emit_payment,
    is_staff_with,
    locked_order,
    new_number,
    notify,
    party_name,
    require_note,
    require_seller_side,
    transition,
)
from weishang.trade.services.refunds import refund_money


class SupplierShort(Conflict):
    """The seller cannot fill the order from stock now; ``availability`` says what is short and who
    along the route has it (``selectors.route_availability``)."""

    def __init__(self, availability: list[dict]):
        super().__init__(_("Your supplier cannot fill all of this now."), field="lines", code="supplier_short")
        self.availability = availability


# --- submitting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferTerms:
    """What an offer the buyer takes part in (a campaign, ``weishang.campaigns``) changes in the
    order's checks: the entry order's minimum and the restock minimum (None: the level's own)."""

    entry_amount: Decimal | None = None
    min_restock_qty: int | None = None


class OrderOffer(Protocol):
    """An offer an order takes part in. Trade knows no campaign: the caller passes one in.

    ``terms`` is asked under the buyer's lock before the checks; ``take`` is called once the
    order and its lines exist, in the same transaction (it takes the seat with a guarded UPDATE
    and raises a ``BusinessError`` to refuse, which undoes the order), and returns the gift lines
    (SKU, units) shipped with it at no charge."""

    def terms(self, *, buyer: Agent, kind: str, level: Level) -> OfferTerms: ...

    def take(self, *, order: Order, units: int) -> list[tuple[SKU, int]]: ...


def clean_lines(lines) -> OrderedDict[int, tuple[SKU, int]]:
    if not lines:
        raise BusinessError(_("Add at least one product."), field="lines")
    merged: OrderedDict[int, tuple[SKU, int]] = OrderedDict()
    for i, (sku_ref, quantity) in enumerate(lines):
        try:
            quantity = int(quantity)
        except (TypeError, ValueError):
            raise BusinessError(_("Enter a whole number of units."), field=f"lines[{i}].quantity") from None
        if quantity <= 0:
            raise BusinessError(_("The quantity must be at least 1."), field=f"lines[{i}].quantity")
        sku = sku_ref if isinstance(sku_ref, SKU) else SKU.objects.filter(code=str(sku_ref)).first()
        if sku is None:
            raise BusinessError(_("Unknown product %(code)s.") % {"code": sku_ref}, field=f"lines[{i}].sku")
        if not sku.active:
            raise BusinessError(_("%(name)s is not on sale.") % {"name": sku.name}, field=f"lines[{i}].sku")
        previous = merged.get(sku.pk, (sku, 0))[1]
        merged[sku.pk] = (sku, previous + quantity)
    return merged


def _check_limits(
    buyer: Agent, kind: str, merged: OrderedDict[int, tuple[SKU, int]], terms: OfferTerms = OfferTerms()
) -> None:
    units = sum(q for _sku, q in merged.values())
    minimum = buyer.level.min_restock_qty if terms.min_restock_qty is None else terms.min_restock_qty
    if kind == OrderKind.RESTOCK and units < minimum:
        raise BusinessError(
            _("A %(level)s restock order needs at least %(n)d units; this one has %(units)d.")
            % {"level": buyer.level.name, "n": minimum, "units": units},
            field="lines",
        )
    now = clock.localtime()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    windows = (
        ("max_per_day", day, _("today")),
        ("max_per_week", day - timedelta(days=day.weekday()), _("this week")),
        ("max_per_month", day.replace(day=1), _("this month")),
    )
    for sku, quantity in merged.values():
        if quantity < sku.min_order_qty:
            raise BusinessError(
                _("%(name)s: at least %(n)d units per order.") % {"name": sku.name, "n": sku.min_order_qty},
                field="lines",
            )
        if sku.max_per_order is not None and quantity > sku.max_per_order:
            raise BusinessError(
                _("%(name)s: at most %(n)d units per order.") % {"name": sku.name, "n": sku.max_per_order},
                field="lines",
            )
        for field, since, label in windows:
            limit = getattr(sku, field)
            if limit is None:
                continue
            bought = (
                OrderLine.objects.filter(
                    gift=False,
                    order__buyer=buyer,
                    order__kind__in=VOLUME_KINDS,
                    order__status__in=LIVE_STATUSES,
                    order__submitted_at__gte=since,
                    sku=sku,
                ).aggregate(n=Sum("quantity"))["n"]
                or 0
            )
            if bought + quantity > limit:
                raise BusinessError(
                    _("%(name)s: at most %(n)d units %(period)s; you have ordered %(bought)d.")
                    % {"name": sku.name, "n": limit, "period": label, "bought": bought},
                    field="lines",
                )


def order_route(*, buyer: Agent, level: Level | None = None, mode: str | None = None) -> tuple[Agent | None, str]:
    """Who fills ``buyer``'s order (None: the company), and the brand's supply mode, by the mode's
    route (``trade.supply``).

    ``level`` is the level the order is priced at when it is not the buyer's own (an upgrade
    order is filled by an upline of a higher level than the target level). ``mode``: the brand's
    supply mode when the caller has read it already."""
    mode = brand_get().supply_mode if mode is None else mode
    return supply.route_for(mode).seller(buyer=buyer, level=level), mode


def upgrade_top_up(*, agent: Agent, level: Level) -> Decimal:
    """What an upgrade order to ``level`` must at least come to: the difference between the two
    levels' entry amounts (补差价), never below zero."""
    return max(level.entry_amount - agent.level.entry_amount, Decimal("0"))


def _check_upgrade(buyer: Agent, level: Level | None) -> None:
    if level is None:
        raise BusinessError(_("Choose the level to upgrade to."), field="target_level")
    if buyer.status != AgentStatus.ACTIVE:
        raise Forbidden(_("Only active agents can upgrade."))
    if not level.is_higher_than(buyer.level):
        raise BusinessError(
            _("%(level)s is not above your level %(mine)s.") % {"level": level.name, "mine": buyer.level.name},
            field="target_level",
        )
    if level.pk not in {allowed.pk for allowed in selectors.upgrade_levels(agent=buyer)}:
        raise BusinessError(
            _("You do not qualify for %(level)s yet; see your upgrade progress.") % {"level": level.name},
            field="target_level",
        )
    if Order.objects.filter(buyer=buyer, kind=OrderKind.UPGRADE, status__in=OPEN_STATUSES).exists():
        raise Conflict(_("You already have an upgrade order in progress."), field="target_level")


def order_submit(
    *,
    buyer: Agent,
    lines,
    kind: str = OrderKind.RESTOCK,
    by=None,
    idempotency_key: str | None = None,
    note: str = "",
    target_level: Level | None = None,
    accept_shortfall: bool = True,
    offer: OrderOffer | None = None,
) -> Order:
    """Submit an agent's entry, upgrade or restock order. Prices come from the level, never the client.

    ``offer`` is a campaign the buyer takes part in (``OrderOffer``): its terms replace the entry
    and restock minimums, it takes its seat once the order exists and adds its gift lines.

    With ``accept_shortfall=False`` an order its seller cannot fill from stock now is refused with
    ``SupplierShort`` (carrying the availability along the route) once every other check passed:
    the phone page shows it and lets the buyer submit anyway.

    An upgrade order (升级单) is priced at ``target_level``'s prices, must come to at least the
    top-up (``upgrade_top_up``) and moves the buyer to that level when it completes."""
    if kind not in (OrderKind.RESTOCK, OrderKind.ENTRY, OrderKind.UPGRADE):
        raise BusinessError(_("This kind of order is placed elsewhere."), field="kind")
    # What the order reads but never changes — the products it names, the brand's supply mode, the
    # prices of the level the buyer had when the request came in — is read before the write
    # transaction: on SQLite, before taking the database's one write lock, so that writers hold it
    # for less (docs/decisions.md, "Reads before the write lock"). A bad line is reported where it
    # was before: after the checks that come first, and never for a retry of an order already made.
    try:
        merged: OrderedDict[int, tuple[SKU, int]] | None = clean_lines(lines)
        bad_lines: BusinessError | None = None
    except BusinessError as exc:
        merged, bad_lines = None, exc
    mode = brand_get().supply_mode
    asked = target_level if kind == OrderKind.UPGRADE and target_level is not None else buyer.level
    prices = level_prices(skus=[sku for sku, _qty in merged.values()], level=asked) if merged else {}
    with transaction.atomic():
        return _submit(
            buyer=buyer,
            merged=merged,
            bad_lines=bad_lines,
            mode=mode,
            prices=(asked.pk, prices),
            kind=kind,
            by=by,
            idempotency_key=idempotency_key,
            note=note,
            target_level=target_level,
            accept_shortfall=accept_shortfall,
            offer=offer,
        )


def _locked_buyer(buyer: Agent) -> Agent:
    """``buyer``'s row read again under a lock: one buyer's submissions are serialised, so purchase
    limits hold under concurrent taps. Only the agent row is locked (PostgreSQL refuses FOR UPDATE
    across the nullable supplier join); its level and supplier are the ones ``buyer`` came with when
    the row still names them (the request read them with the device token), else read now."""
    locked = unique_row(Agent.objects.select_for_update(of=("self",)).filter(pk=buyer.pk))
    if locked is None:
        raise Agent.DoesNotExist("the buyer is gone")
    for name in ("level", "supplier"):
        field = Agent._meta.get_field(name)
        assert isinstance(field, ForeignKey)
        if field.is_cached(buyer):
            related = field.get_cached_value(buyer)
            if getattr(related, "pk", None) == getattr(locked, field.attname):
                field.set_cached_value(locked, related)
    return locked


def _submit(
    *,
    buyer: Agent,
    merged: OrderedDict[int, tuple[SKU, int]] | None,
    bad_lines: BusinessError | None,
    mode: str,
    prices: tuple[int | None, dict[int, Decimal]],
    kind: str,
    by,
    idempotency_key: str | None,
    note: str,
    target_level: Level | None,
    accept_shortfall: bool,
    offer: OrderOffer | None,
) -> Order:
    """``order_submit`` in its write transaction."""
    buyer = _locked_buyer(buyer)
    if idempotency_key:
        first = Order.objects.filter(buyer=buyer, idempotency_key=idempotency_key).first()
        if first is not None:
            return first  # a retry of the same submission gets the first order back
    if kind == OrderKind.RESTOCK and buyer.status != AgentStatus.ACTIVE:
        raise Forbidden(
            _("Only active agents can restock; pay your entry order first.")
            if buyer.status == AgentStatus.APPLICANT
            else _("Your account is not active.")
        )
    if kind == OrderKind.ENTRY and (buyer.status != AgentStatus.APPLICANT or buyer.entry_due <= 0):
        raise Conflict(_("You owe no entry order."), field="kind")
    if kind == OrderKind.UPGRADE:
        _check_upgrade(buyer, target_level)
    else:
        target_level = None
    price_level = target_level or buyer.level
    terms = offer.terms(buyer=buyer, kind=kind, level=price_level) if offer is not None else OfferTerms()
    if bad_lines is not None or merged is None:
        raise bad_lines or BusinessError(_("Add at least one product."), field="lines")
    _check_limits(buyer, kind, merged, terms)
    seller, mode = order_route(buyer=buyer, level=price_level, mode=mode)
    priced_level_id, known = prices
    if priced_level_id != price_level.pk:  # the buyer's level changed since the request came in
        known = level_prices(skus=[sku for sku, _qty in merged.values()], level=price_level)
    priced = [(sku, qty, known[sku.pk]) for sku, qty in merged.values()]
    total = sum((price * qty for _sku, qty, price in priced), Decimal("0"))
    if total <= 0:
        raise BusinessError(_("An order must come to more than ¥0."), field="lines")
    entry_due = buyer.entry_due if terms.entry_amount is None else min(terms.entry_amount, buyer.entry_due)
    if kind == OrderKind.ENTRY and total < entry_due:
        raise BusinessError(
            _("The entry order must come to at least ¥%(amount)s; this one is ¥%(total)s.")
            % {"amount": entry_due, "total": total},
            field="lines",
        )
    if kind == OrderKind.UPGRADE and total < (top_up := upgrade_top_up(agent=buyer, level=price_level)):
        raise BusinessError(
            _("An upgrade to %(level)s must come to at least ¥%(amount)s; this one is ¥%(total)s.")
            % {"level": price_level.name, "amount": top_up, "total": total},
            field="lines",
        )
    if not accept_shortfall:
        availability = selectors.route_availability(
            seller=seller, mode=mode, lines=[(sku, qty) for sku, qty, _price in priced]
        )
        if not all(row["seller_ok"] for row in availability):
            raise SupplierShort(availability)
    order = Order.objects.create(
        number=new_number(kind),
        kind=kind,
        buyer=buyer,
        seller=seller,
        supply_mode=mode,
        total=total,
        idempotency_key=idempotency_key or None,
        note=note[:300],
        target_level=target_level,
    )
    made = OrderLine.objects.bulk_create(
        [
            OrderLine(order=order, sku=sku, quantity=qty, unit_price=price, line_total=price * qty)
            for sku, qty, price in priced
        ]
    )
    if offer is not None:
        gifts = offer.take(order=order, units=sum(qty for _sku, qty, _price in priced))
        OrderLine.objects.bulk_create(
            [OrderLine(order=order, sku=sku, quantity=qty, unit_price=0, line_total=0, gift=True) for sku, qty in gifts]
        )
    transition(order, "submit", by=by)
    emit(order, "order.submitted")
    if offer is None:  # (an offer's seat and gifts are its own writes: its caller reads the order again)
        selectors.with_known_details(order, lines=made, payments=[])
    return order


# --- deciding -------------------------------------------------------------------------------


@transaction.atomic
def order_step(*, order: Order, step: str, by, note: str = "") -> Order:
    """Take a plain step of trade.workflow: one that only moves the status (no money or stock
    moves with it), such as a step a brand adds to its workflow. ``by`` must be one the step is
    for: the order's buyer (``buyer``), its seller or brand staff (``seller``), brand staff
    (``brand``); the step must apply to the order now. Writes the move and who made it."""
    the_step = workflow.current().step(step)
    if the_step is None or not the_step.move:
        raise NotFound(_("There is no such step."), field="step")
    order = locked_order(order)
    user_id = getattr(by, "pk", None)
    actors = set(the_step.by)
    is_buyer = order.buyer is not None and order.buyer.user_id == user_id
    is_seller = order.seller is not None and order.seller.user_id == user_id
    is_staff = is_staff_with(by, "trade.change_order")
    if not (
        (workflow.Actor.BUYER in actors and is_buyer)
        or (workflow.Actor.SELLER in actors and (is_seller or is_staff))
        or (workflow.Actor.BRAND in actors and is_staff)
    ):
        raise Forbidden(_("This order is not yours to handle."))
    if not the_step.applies(order):
        raise Conflict(
            _("Order %(number)s is %(status)s; that cannot be done now.")
            % {"number": order.number, "status": order.get_status_display()},
            field="status",
            code="wrong_status",
        )
    transition(order, the_step.move, by=by, note=note)
    return order


@transaction.atomic
def order_approve(*, order: Order, by) -> Order:
    order = locked_order(order)
    require_seller_side(order, by)
    transition(order, "approve", by=by)
    transition(order, "request_payment", by=by)
    emit(order, "order.approved")
    return order


@transaction.atomic
def order_reject(*, order: Order, by, note: str) -> Order:
    order = locked_order(order)
    require_seller_side(order, by)
    require_note(note, _("Say why the order is rejected."))
    transition(order, "reject", by=by, note=note)
    emit(order, "order.rejected")
    return order


@transaction.atomic
def order_cancel(*, order: Order, by, note: str = "") -> Order:
    """Before fulfilment. A paid order's money goes back to the buyer's wallet."""
    order = locked_order(order)
    if order.buyer is None or order.buyer.user_id != getattr(by, "pk", None):
        require_seller_side(order, by)
    cancel_locked(order, by=by, note=note)
    return order


def cancel_locked(order: Order, *, by, note: str) -> None:
    """Cancel a locked order whose canceller has been checked (``by`` None: the system)."""
    was_paid = order.status == OrderStatus.PAID
    refund = cancel_refund(order) if was_paid else None
    shop_refund = shop_order_refund(order) if was_paid else None
    transition(order, "cancel", by=by, note=note)
    if order.kind == OrderKind.PICKUP:  # the units left cloud stock at the request: put them back
        taken = StockMove.objects.filter(order_line__order=order, reason=StockReason.PICKUP).select_related(
            "from_location", "to_location", "sku"
        )
        stock.stock_move(
            moves=[stock.Move(m.to_location, m.from_location, m.sku, m.quantity, m.order_line_id) for m in taken],
            reason=StockReason.CANCEL,
            by=by,
            note=order.number,
        )
    # A transfer still waiting for confirmation is for an order that no longer exists.
    waiting = list(order.payments.filter(status=PaymentStatus.PENDING))
    order.payments.filter(status=PaymentStatus.PENDING).update(
        status=PaymentStatus.REJECTED,
        decided_by=by,
        decided_at=clock.now(),
        decision_note=record_text(gettext_noop("order cancelled")),
    )
    for payment in waiting:
        payment.status = PaymentStatus.REJECTED
        emit_payment(payment, "payment.rejected")
    if was_paid:
        refund_money(order)
        unbind_undone(order)
    _notify_cancel(order, by=by, refund=refund, note=note, shop_refund=shop_refund)
    emit(order, "order.cancelled")


def cancel_refund(order: Order) -> dict | None:
    """What cancelling ``order`` now pays back, for the confirmation page and the notices:
    ``{"amount", "payer", "payee"}`` (the payer is the seller agent whose wallet is debited, or
    None for the company), or None when nothing has been paid."""
    if order.status != OrderStatus.PAID or order.buyer_id is None:
        return None
    paid = order.payments.filter(status=PaymentStatus.CONFIRMED).first()
    if paid is None:
        return None
    return {"amount": paid.amount, "payer": order.seller, "payee": order.buyer, "method": paid.method}


def shop_order_refund(order: Order) -> dict | None:
    """What cancelling a paid shop order now does with the consumer's money (a consumer has no
    wallet): ``{"amount", "seller", "method"}``, or None when it is not a paid shop order."""
    if order.kind != OrderKind.RETAIL or order.status != OrderStatus.PAID:
        return None
    paid = order.payments.filter(status=PaymentStatus.CONFIRMED).first()
    if paid is None:
        return None
    return {"amount": paid.amount, "seller": order.seller, "method": paid.method}


def shop_refund_text(refund: dict) -> str:
    """``shop_order_refund`` in words, in the active language."""
    values = {"amount": refund["amount"], "seller": party_name(refund["seller"])}
    if refund["method"] == PaymentMethod.WECHATPAY:
        return (
            gettext(
                "The ¥%(amount)s the consumer paid through WeChat Pay goes back to them there, from "
                "the brand, taken from %(seller)s's wallet."
            )
            % values
        )
    return (
        gettext("The ¥%(amount)s the consumer transferred to %(seller)s is for %(seller)s to pay back to them.")
        % values
    )


def _notify_cancel(order: Order, *, by, refund: dict | None, note: str, shop_refund: dict | None = None) -> None:
    """The party who did not cancel finds it in their 待我处理: who cancelled, and who paid back what."""
    with translation.override(settings.LANGUAGE_CODE):
        by_buyer = order.buyer is not None and order.buyer.user_id == getattr(by, "pk", None)
        if by_buyer:
            text = gettext("%(buyer)s cancelled order %(number)s.")
        elif by is None:  # the periodic job (an unpaid shop order that expired)
            text = gettext("Order %(number)s was cancelled by the system.")
        else:
            text = gettext("Order %(number)s was cancelled by the seller or the brand.")
        text %= {"buyer": party_name(order.buyer), "number": order.number}
        if refund is not None:
            text += " " + gettext("¥%(amount)s went back from %(payer)s's wallet to %(payee)s's wallet.") % {
                "amount": refund["amount"],
                "payer": party_name(refund["payer"]),
                "payee": party_name(refund["payee"]),
            }
        if shop_refund is not None:
            text += " " + shop_refund_text(shop_refund)
        if note.strip():
            text += " " + gettext("Why: %(note)s") % {"note": note.strip()}
    if by_buyer:
        notify(order, order.seller, NoticeKind.CANCELLED, text, by=by)
    else:
        notify(order, order.buyer, NoticeKind.CANCELLED, text, by=by)
        if order.seller is not None and order.seller.user_id != getattr(by, "pk", None):
            notify(order, order.seller, NoticeKind.CANCELLED, text, by=by)


@transaction.atomic
def order_notices_seen(*, agent: Agent, order: Order) -> int:
    """The agent opened the order: its notices leave their 待我处理."""
    return OrderNotice.objects.filter(agent=agent, order=order, seen_at__isnull=True).update(seen_at=clock.now())
