"""The life of an order, stated once.

- **Kinds and statuses** (``OrderKind``, ``OrderStatus``) and the sets of them the rest of the
  system asks about (which count as team volume, which are still open, which are paid).
- **Moves** (``Move``): how the status may change: from which statuses to which, what is stamped.
  ``Workflow.move`` is the only code that changes an order's status (trade.services calls it, and
  writes the OrderTransition row).
- **Waits** (``Wait``): what an order waits for and on whom: the buyer's and the seller's "next
  step" on the phone pages and in the API, the brand's one-sentence "who acts next" in the
  console, the to-do lines on the phone's home page, the console's queues and dashboard figures,
  and "waiting for the brand".
- **Steps** (``Step``): what someone may do to an order now: who (``Actor``), when (``When``),
  its label, the service it calls, the input it needs (``input``, which each face turns into its
  own form) and the message after it. The phone pages' buttons, the API's ``next_actions`` and
  the console's step pages are read from here.

A new status or step is written here (and, for a custom look, in the templates); every surface
derives what it shows from ``current()``. A test can run the whole system on another workflow
with ``using(...)`` (tests/trade/test_workflow.py adds a step and sees it on every surface).

Conditions are written once as data (``When``) and read both ways: ``holds(order)`` for one order
in Python, ``q()`` for a query. Nothing here imports a model at import time: trade.models imports
the kinds and statuses from this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from weishang.core import clock
from weishang.core.errors import Conflict

if TYPE_CHECKING:
    from weishang.trade.models import Order


class OrderKind(models.TextChoices):
    ENTRY = "entry", _("Entry order (授权单)")
    UPGRADE = "upgrade", _("Upgrade order (升级单)")
    RESTOCK = "restock", _("Restock order (进货单)")
    RETAIL = "retail", _("Retail order")
    PICKUP = "pickup", _("Pick-up (提货)")


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    PAID = "paid", _("Paid")
    FULFILLED = "fulfilled", _("Fulfilled")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    REFUND_REQUESTED = "refund_requested", _("Refund requested")
    REFUNDED = "refunded", _("Refunded")


S = OrderStatus
K = OrderKind

# Orders whose amount counts towards team purchase volume (plan-format.md, "Team").
VOLUME_KINDS = (K.ENTRY, K.UPGRADE, K.RESTOCK)
# Orders that are stuck when paid and not filled within the brand's stuck_after_hours (all but
# pick-ups, which are never paid).
STUCK_KINDS = (*VOLUME_KINDS, K.RETAIL)
# Orders not yet completed or closed.
OPEN_STATUSES = (S.SUBMITTED, S.APPROVED, S.AWAITING_PAYMENT, S.PAID, S.FULFILLED)
# Orders that still count (against purchase limits, as a shop's customer): placed, not closed.
LIVE_STATUSES = (*OPEN_STATUSES, S.COMPLETED, S.REFUND_REQUESTED)
# Orders whose money the buyer has paid and not had back.
PAID_STATUSES = (S.PAID, S.FULFILLED, S.COMPLETED, S.REFUND_REQUESTED)
# Orders not filled yet: where they would be filled from is still a question.
FILLABLE_STATUSES = (S.SUBMITTED, S.APPROVED, S.AWAITING_PAYMENT, S.PAID)
# Completed orders whose rewards stand (a return asked for does not take them back until refunded).
COUNTED_STATUSES = (S.COMPLETED, S.REFUND_REQUESTED)


class Actor(StrEnum):
    BUYER = "buyer"  # the agent who bought (a shop's consumer on the shop pages)
    SELLER = "seller"  # the agent who sells; brand staff when the company sells
    BRAND = "brand"  # brand staff in the console, whoever sells
    SYSTEM = "system"  # the server: a payment callback, a timer


# --- conditions -------------------------------------------------------------------------------


def stuck_cutoff() -> datetime:
    """Orders paid at or before this moment and still not filled are stuck."""
    from weishang.core.selectors import brand_get

    return clock.now() - timedelta(hours=brand_get().stuck_after_hours)


def has_pending_payment(order: Order) -> bool:
    """Whether a transfer for ``order`` waits to be confirmed (the trade selectors annotate it)."""
    pending = getattr(order, "has_pending_payment", None)
    if pending is None:
        from weishang.trade.models import PaymentStatus

        pending = order.payments.filter(status=PaymentStatus.PENDING).exists()
    return bool(pending)


def company_sells(order: Order) -> bool:
    """The brand is the seller (a company order; a pick-up has no seller, the warehouse ships it)."""
    return order.seller_id is None and order.kind != K.PICKUP


@dataclass(frozen=True)
class When:
    """Which orders something applies to. Every field narrows; an empty field does not."""

    statuses: tuple[str, ...]
    kinds: tuple[str, ...] = ()  # only these kinds
    not_kinds: tuple[str, ...] = ()
    pending_payment: bool | None = None  # a transfer waits to be confirmed (or not)
    company: bool | None = None  # the company sells (or an agent does)
    stuck: bool = False  # paid and not filled within the brand's stuck_after_hours
    supply_modes: tuple[str, ...] = ()  # only orders filled in these supply modes

    def holds(self, order: Order, *, status: bool = True) -> bool:
        """Whether ``order`` meets the condition (``status=False``: all but its status)."""
        if status and order.status not in self.statuses:
            return False
        if self.kinds and order.kind not in self.kinds:
            return False
        if order.kind in self.not_kinds:
            return False
        if self.supply_modes and order.supply_mode not in self.supply_modes:
            return False
        if self.company is not None and company_sells(order) != self.company:
            return False
        if self.stuck and not (
            order.status == S.PAID
            and order.kind in STUCK_KINDS
            and order.paid_at is not None
            and order.paid_at <= stuck_cutoff()
        ):
            return False
        return self.pending_payment is None or has_pending_payment(order) == self.pending_payment

    def q(self) -> Q:
        """The same condition as a query on orders."""
        q = Q(status__in=self.statuses)
        if self.kinds:
            q &= Q(kind__in=self.kinds)
        if self.not_kinds:
            q &= ~Q(kind__in=self.not_kinds)
        if self.supply_modes:
            q &= Q(supply_mode__in=self.supply_modes)
        if self.company is not None:
            company = Q(seller__isnull=True) & ~Q(kind=K.PICKUP)
            q &= company if self.company else ~company
        if self.stuck:
            q &= Q(status=S.PAID, kind__in=STUCK_KINDS, paid_at__lte=stuck_cutoff())
        if self.pending_payment is not None:
            from django.db.models import Exists, OuterRef

            from weishang.trade.models import Payment, PaymentStatus

            pending = Exists(Payment.objects.filter(order=OuterRef("pk"), status=PaymentStatus.PENDING))
            q &= Q(pending) if self.pending_payment else ~Q(pending)
        return q


def _any_holds(conditions: tuple[When, ...], order: Order, *, status: bool = True) -> bool:
    return any(when.holds(order, status=status) for when in conditions)


def _any_q(conditions: tuple[When, ...]) -> Q:
    return reduce(or_, (when.q() for when in conditions))


# --- moves ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """A change of status the order allows: from ``source`` to ``target``, stamping ``stamp``
    (an ``*_at`` field) with the time; ``kinds``: only orders of these kinds."""

    name: str
    source: tuple[str, ...]
    target: str
    stamp: str | None = None
    kinds: tuple[str, ...] = ()


# --- what an order waits for ------------------------------------------------------------------

Said = Callable[["Order"], str]


def _seller_name(order: Order) -> str | None:
    return order.seller.real_name if order.seller_id else None


def _by_seller(agent_text, company_text) -> Said:
    def said(order: Order) -> str:
        seller = _seller_name(order)
        return str(agent_text) % {"seller": seller} if seller else str(company_text)

    return said


def _text(text) -> Said:
    return lambda order: str(text)


def _transfer_waits(order: Order) -> str:
    from weishang.trade.models import PaymentStatus

    pending = order.payments.filter(status=PaymentStatus.PENDING).select_related("receiver").first()
    who = pending.receiver.real_name if pending and pending.receiver_id else gettext("Brand finance (品牌财务)")
    return gettext("A transfer is waiting for confirmation by %(who)s.") % {"who": who}


def _stuck(order: Order) -> str:
    if order.kind == K.RETAIL:
        return gettext("Stuck: paid and not filled in time. The seller fills it, or the brand refunds it.")
    return gettext("Stuck: paid and not filled in time. The brand fills it, reassigns it to the company or refunds it.")


@dataclass(frozen=True)
class Wait:
    """Something an order waits for, and on whom.

    ``said`` is the console's one sentence (who acts next); ``to_buyer`` / ``to_seller`` are the
    order's next step as its buyer and its seller read it on their lists; ``todo`` is the line on
    the home page of whoever it waits on ("Orders to approve"); ``queue`` names the console's queue
    (and dashboard figure) for it, None if it has none."""

    name: str
    when: tuple[When, ...]
    on: tuple[Actor, ...]
    said: Said
    to_buyer: Any = None
    to_seller: Any = None
    todo: Any = None
    queue: Any = None

    def holds(self, order: Order) -> bool:
        return _any_holds(self.when, order)

    def q(self) -> Q:
        return _any_q(self.when)

    def on_the_brand_q(self) -> Q:
        """Orders in this wait that wait on brand staff: always when it waits on the brand, when
        it waits on the seller only for the company's own orders."""
        if Actor.BRAND in self.on:
            return self.q()
        if Actor.SELLER in self.on:
            return self.q() & When(statuses=tuple(S.values), company=True).q()
        return Q(pk__in=[])


# --- what someone may do ----------------------------------------------------------------------

Run = Callable[["Order", Any, dict], object]


def _services():
    from weishang.trade import services

    return services


def _done(text) -> Callable[[Order], str]:
    return lambda order: str(text) % {"number": order.number}


@dataclass(frozen=True)
class Step:
    """Something ``by`` may do to an order ``when`` it holds.

    ``input`` names what the step asks for; each face has a form per input: ``confirm`` (nothing),
    ``note`` (an optional note), ``reason`` (a required note), ``cancel`` (a confirmed cancel with
    an optional note), ``transfer`` (a screenshot and a reference), ``fill`` (optional carrier and
    tracking number), ``ship`` (carrier and tracking number), ``stuck_fill`` (a reason, optional
    carrier and tracking number). ``run(order, user, data)`` calls the service (None: the step has a
    page of its own, as paying online or deciding a transfer). ``done(order)`` is the message after
    it, given the order the service returned. ``perm``: the console permission it needs (a key of
    the console's ``console_perms``). ``enabled``: a condition on the system, not the order (an
    online payment provider configured)."""

    name: str
    by: tuple[Actor, ...]
    when: tuple[When, ...]
    label: Any
    input: str = "confirm"
    run: Run | None = None
    done: Callable[[Order], str] | None = None
    move: str = ""  # the move it makes (several steps may make the same move)
    perm: str = "order_decide"
    icon: str | None = None
    url_path: str = ""  # in URLs (default: the name with dashes)
    enabled: Callable[[], bool] | None = None

    @property
    def slug(self) -> str:
        return self.url_path or self.name.replace("_", "-")

    def applies(self, order: Order, *, status: bool = True) -> bool:
        if self.enabled is not None and not self.enabled():
            return False
        return _any_holds(self.when, order, status=status)

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for when in self.when for s in when.statuses))

    def brand_is_party(self, order: Order) -> bool:
        """Whether brand staff may take this step on ``order`` (its status aside): steps for the
        brand always, the seller's steps on the company's own orders."""
        if not self.applies(order, status=False):
            return False
        return Actor.BRAND in self.by or (Actor.SELLER in self.by and company_sells(order))


# --- the workflow -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Workflow:
    moves: tuple[Move, ...]
    waits: tuple[Wait, ...]
    steps: tuple[Step, ...]
    _moves: dict[str, Move] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_moves", {move.name: move for move in self.moves})

    def extended(self, *, moves=(), waits=(), steps=()) -> Workflow:
        """This workflow with more moves, waits and steps (a wait or step of the same name replaces
        the old one)."""
        names = {w.name for w in waits}
        step_names = {s.name for s in steps}
        return replace(
            self,
            moves=(*(m for m in self.moves if m.name not in {m.name for m in moves}), *moves),
            waits=(*(w for w in self.waits if w.name not in names), *waits),
            steps=(*(s for s in self.steps if s.name not in step_names), *steps),
        )

    # --- the status ------------------------------------------------------------------------
    def can_move(self, order: Order, name: str) -> bool:
        move = self._moves.get(name)
        return bool(move and order.status in move.source and (not move.kinds or order.kind in move.kinds))

    def move(self, order: Order, name: str) -> str:
        """Move ``order`` by the move ``name`` (in memory; the caller saves it). Returns the old
        status; Conflict (``wrong_status``) if the move does not apply now."""
        if not self.can_move(order, name):
            raise Conflict(
                gettext("Order %(number)s is %(status)s; that cannot be done now.")
                % {"number": order.number, "status": order.get_status_display()},
                field="status",
                code="wrong_status",
            )
        move = self._moves[name]
        old = order.status
        order.status = move.target
        if move.stamp:
            setattr(order, move.stamp, clock.now())
        return old

    # --- steps -----------------------------------------------------------------------------
    def step(self, name: str) -> Step | None:
        return next((step for step in self.steps if step.name == name), None)

    def steps_by(self, actor: Actor) -> list[Step]:
        return [step for step in self.steps if actor in step.by]

    def actions(self, order: Order, actor: Actor) -> set[str]:
        """The names of the steps ``actor`` may take on ``order`` now."""
        return {step.name for step in self.steps_by(actor) if step.applies(order)}

    def console_steps(self) -> list[Step]:
        """The steps brand staff take in the console: the brand's, and the seller's (on the
        company's own orders), that are taken on the order itself."""
        return [s for s in self.steps if s.run is not None and (Actor.BRAND in s.by or Actor.SELLER in s.by)]

    # --- waits -----------------------------------------------------------------------------
    def waits_of(self, order: Order) -> list[Wait]:
        return [wait for wait in self.waits if wait.holds(order)]

    def next_step(self, order: Order, actor: Actor | None = None) -> str:
        """What ``order`` waits for: as its buyer or seller reads it on their list (``actor``), or
        in one sentence for brand staff (``actor`` None)."""
        for wait in self.waits_of(order):
            if actor is None:
                return wait.said(order)
            text = {Actor.BUYER: wait.to_buyer, Actor.SELLER: wait.to_seller}.get(actor)
            if text:
                return str(text)
        return gettext("Nothing more to do.") if actor is None else ""

    def waiting_on(self, actor: Actor) -> Q:
        """Orders that wait on ``actor`` (as their buyer or seller)."""
        waits = [w.q() for w in self.waits if actor in w.on]
        return reduce(or_, waits) if waits else Q(pk__in=[])

    def todo(self, actor: Actor) -> list[tuple[str, Q, Any]]:
        """(name, condition, line) per to-do line of ``actor``'s home page: the waits on them that
        have a line; waits sharing a line are one line."""
        lines: dict[str, tuple[str, Q, Any]] = {}
        for wait in self.waits:
            if actor in wait.on and wait.todo:
                key = str(wait.todo)
                name, q, text = lines.get(key, (wait.name, Q(pk__in=[]), wait.todo))
                lines[key] = (name, q | wait.q(), text)
        return list(lines.values())

    def todo_waits(self, actor: Actor) -> list[tuple[str, tuple[Wait, ...], Any]]:
        """``todo`` with each line's waits instead of its query: (name, waits, line), in the same
        order, for counting grouped orders in Python (``trade.selectors``)."""
        lines: dict[str, tuple[str, tuple[Wait, ...], Any]] = {}
        for wait in self.waits:
            if actor in wait.on and wait.todo:
                key = str(wait.todo)
                name, waits, text = lines.get(key, (wait.name, (), wait.todo))
                lines[key] = (name, (*waits, wait), text)
        return list(lines.values())

    def queues(self) -> dict[str, tuple[Any, Q]]:
        """The console's queues: name -> (label, condition)."""
        return {wait.name: (wait.queue, wait.q()) for wait in self.waits if wait.queue}

    def on_the_brand(self) -> Q:
        """Orders waiting for a step by brand staff."""
        return reduce(or_, (wait.on_the_brand_q() for wait in self.waits))


# --- the order workflow -------------------------------------------------------------------------

MOVES = (
    Move("submit", (S.DRAFT,), S.SUBMITTED, stamp="submitted_at"),
    Move("approve", (S.SUBMITTED,), S.APPROVED),
    Move("reject", (S.SUBMITTED,), S.REJECTED),
    Move("request_payment", (S.APPROVED,), S.AWAITING_PAYMENT),
    Move("mark_paid", (S.AWAITING_PAYMENT,), S.PAID, stamp="paid_at"),
    Move("fulfil", (S.PAID,), S.FULFILLED),
    # A pick-up needs no approval or payment: the units left cloud stock when it was requested.
    Move("ship_pickup", (S.SUBMITTED,), S.FULFILLED, stamp="shipped_at", kinds=(K.PICKUP,)),
    Move("complete", (S.FULFILLED,), S.COMPLETED, stamp="completed_at"),
    Move("cancel", (S.DRAFT, S.SUBMITTED, S.APPROVED, S.AWAITING_PAYMENT, S.PAID), S.CANCELLED),
    Move("request_refund", (S.FULFILLED, S.COMPLETED), S.REFUND_REQUESTED),
    Move("decline_refund", (S.REFUND_REQUESTED,), S.COMPLETED),
    Move("refund", (S.REFUND_REQUESTED,), S.REFUNDED),
)

SUBMITTED = When((S.SUBMITTED,), not_kinds=(K.PICKUP,))
UNPAID = When((S.AWAITING_PAYMENT,), pending_payment=False)
TRANSFER_SENT = When((S.AWAITING_PAYMENT,), pending_payment=True)
PAID = When((S.PAID,))
STUCK = When((S.PAID,), stuck=True)
PICKUP_TO_SHIP = When((S.SUBMITTED,), kinds=(K.PICKUP,))
PICKUP_ON_ITS_WAY = When((S.FULFILLED,), kinds=(K.PICKUP,))
SHOP_ORDER_ON_ITS_WAY = When((S.FULFILLED,), kinds=(K.RETAIL,))
ON_ITS_WAY = When((S.FULFILLED,), not_kinds=(K.PICKUP, K.RETAIL))
RETURN_ASKED = When((S.REFUND_REQUESTED,))

# In order: an order's next step is the first wait it is in that speaks to the reader.
WAITS = (
    Wait(
        "stuck",
        (STUCK,),
        on=(Actor.BRAND,),
        said=_stuck,
        queue=_("Stuck: paid, not filled in time"),
    ),
    Wait(
        "approval",
        (SUBMITTED,),
        on=(Actor.SELLER,),
        said=_by_seller(_("%(seller)s approves or rejects the order."), _("The brand approves or rejects the order.")),
        to_buyer=_("Waiting for approval"),
        to_seller=_("Approve or reject"),
        todo=_("Orders to approve"),
        queue=_("Awaiting approval"),
    ),
    Wait(
        "payment_check",
        (TRANSFER_SENT,),
        on=(Actor.SELLER,),
        said=_transfer_waits,
        to_buyer=_("Transfer sent, waiting for confirmation"),
        to_seller=_("Check the transfer"),
        todo=_("Transfers to confirm"),
        queue=_("Transfer awaiting confirmation"),
    ),
    Wait(
        "unpaid",
        (UNPAID,),
        on=(Actor.BUYER,),
        said=_text(_("Waiting for the buyer to pay.")),
        to_buyer=_("Pay now"),
        to_seller=_("Waiting for the buyer to pay"),
        todo=_("My orders to pay"),
        queue=_("Awaiting the buyer's payment"),
    ),
    Wait(
        "to_fill",
        (PAID,),
        on=(Actor.SELLER,),
        said=_by_seller(_("%(seller)s fills the order from their stock."), _("The company warehouse fills the order.")),
        to_buyer=_("Waiting to be filled"),
        to_seller=_("Fill the order"),
        todo=_("Paid orders to fill"),
        queue=_("Paid, to fill or ship"),
    ),
    Wait(
        "pickups",
        (PICKUP_TO_SHIP,),
        on=(Actor.BRAND,),
        said=_text(_("The warehouse ships the pick-up (carrier and tracking number).")),
        to_buyer=_("Waiting to be shipped"),
        queue=_("Pick-ups to ship"),
    ),
    Wait(
        "pickup_on_its_way",
        (PICKUP_ON_ITS_WAY,),
        on=(Actor.BUYER, Actor.BRAND),
        said=_text(_("On its way: the warehouse or the agent marks it delivered.")),
        to_buyer=_("Confirm receipt"),
        todo=_("My orders to receive"),
    ),
    Wait(
        "shop_delivery",
        (SHOP_ORDER_ON_ITS_WAY,),
        on=(Actor.SELLER,),
        said=_text(_("On its way: the seller (or the brand) marks it delivered.")),
        to_seller=_("Record the delivery"),
        todo=_("Shop deliveries to record"),
    ),
    Wait(
        "receipt",
        (ON_ITS_WAY,),
        on=(Actor.BUYER,),
        said=_text(_("On its way: the buyer confirms receipt.")),
        to_buyer=_("Confirm receipt"),
        to_seller=_("Waiting for the buyer's receipt"),
        todo=_("My orders to receive"),
    ),
    Wait(
        "returns",
        (RETURN_ASKED,),
        on=(Actor.SELLER,),
        said=_by_seller(
            _("%(seller)s approves or declines the return."), _("The brand approves or declines the return.")
        ),
        to_buyer=_("Return waiting for a decision"),
        to_seller=_("Decide on the return"),
        todo=_("Returns to decide"),
        queue=_("Returns to decide"),
    ),
)


def _online_payments() -> bool:
    from weishang.trade.providers.base import online_provider_name

    return online_provider_name() is not None


def _filled(order: Order) -> str:
    if order.status == S.COMPLETED:
        return gettext("Order %(number)s filled: the units are in the buyer's cloud stock.") % {"number": order.number}
    return gettext("Order %(number)s filled and shipped.") % {"number": order.number}


def _receive(order: Order, user, data: dict):
    if order.kind == K.PICKUP:
        return _services().pickup_delivered(order=order, by=user)
    return _services().order_confirm_receipt(order=order, by=user)


def _stuck_refunded(order: Order) -> str:
    if order.kind == K.RETAIL:
        return gettext("Order %(number)s cancelled and refunded.") % {"number": order.number}
    return gettext("Order %(number)s cancelled; the money is back in the buyer's wallet.") % {"number": order.number}


CANCELLABLE = (When((S.SUBMITTED, S.APPROVED, S.PAID), not_kinds=(K.PICKUP,)), UNPAID)

STEPS = (
    # --- the seller decides (brand staff for the company's own orders) ---
    Step(
        "approve",
        by=(Actor.SELLER,),
        when=(SUBMITTED,),
        label=_("Approve"),
        run=lambda o, u, d: _services().order_approve(order=o, by=u),
        done=_done(_("Order %(number)s approved. The buyer can pay now.")),
        move="approve",
        icon="check",
    ),
    Step(
        "reject",
        by=(Actor.SELLER,),
        when=(SUBMITTED,),
        label=_("Reject"),
        input="reason",
        run=lambda o, u, d: _services().order_reject(order=o, by=u, note=d["note"]),
        done=_done(_("Order %(number)s rejected.")),
        move="reject",
        icon="block",
    ),
    # --- the buyer pays, or cancels ---
    Step(
        "pay_transfer",
        by=(Actor.BUYER,),
        when=(UNPAID,),
        label=_("Pay by transfer"),
        input="transfer",
        run=lambda o, u, d: _services().payment_submit_transfer(
            order=o, by=u, screenshot=d["screenshot"], reference=d["reference"]
        ),
        done=_text(_("Screenshot sent. The order is paid once the seller confirms the transfer.")),
    ),
    Step(
        "pay_wallet",
        by=(Actor.BUYER,),
        when=(UNPAID,),
        label=_("Pay from wallet"),
        run=lambda o, u, d: _services().order_pay_from_wallet(order=o, by=u),
        done=lambda o: gettext("Paid ¥%(total)s from your wallet.") % {"total": o.total},
        move="mark_paid",
    ),
    Step(
        "pay_online",
        by=(Actor.BUYER,),
        when=(UNPAID,),
        label=_("Pay online"),
        move="mark_paid",
        enabled=_online_payments,
    ),
    Step(
        "cancel",
        by=(Actor.BUYER,),
        when=CANCELLABLE,
        label=_("Cancel order"),
        input="cancel",
        run=lambda o, u, d: _services().order_cancel(order=o, by=u, note=d["note"]),
        done=_done(_("Order %(number)s is cancelled.")),
        move="cancel",
    ),
    # --- the seller confirms the transfer (on the payment: a page of its own) ---
    Step("payment", by=(Actor.SELLER,), when=(TRANSFER_SENT,), label=_("Check the transfer"), move="mark_paid"),
    # --- filling ---
    Step(
        "fill",
        by=(Actor.SELLER,),
        when=(PAID,),
        label=_("Fill from the company warehouse"),
        input="fill",
        run=lambda o, u, d: _services().order_fill(
            order=o, by=u, carrier=d["carrier"], tracking_number=d["tracking_number"]
        ),
        done=_filled,
        move="fulfil",
        perm="order_handle",
        icon="inventory",
    ),
    # The ways out of a stuck order (paid, not filled within the brand's stuck_after_hours).
    Step(
        "company_fill",
        by=(Actor.BRAND,),
        when=(When((S.PAID,), not_kinds=(K.RETAIL,), stuck=True),),
        label=_("Stuck: the company fills it now"),
        input="stuck_fill",
        run=lambda o, u, d: _services().order_company_fill(
            order=o, by=u, note=d["note"], carrier=d["carrier"], tracking_number=d["tracking_number"]
        ),
        done=_done(_("Order %(number)s filled by the company.")),
        move="fulfil",
        icon="warehouse",
    ),
    Step(
        "reassign",
        by=(Actor.BRAND,),
        when=(When((S.PAID,), not_kinds=(K.RETAIL,), company=False, stuck=True),),
        label=_("Stuck: reassign to the company"),
        input="reason",
        run=lambda o, u, d: _services().order_reassign_to_company(order=o, by=u, note=d["note"]),
        done=_done(_("Order %(number)s is the company's now; fill it from the warehouse.")),
        icon="swap_horiz",
    ),
    Step(
        "stuck_refund",
        by=(Actor.BRAND,),
        when=(STUCK,),
        label=_("Stuck: cancel and refund"),
        input="reason",
        run=lambda o, u, d: _services().order_stuck_refund(order=o, by=u, note=d["note"]),
        done=_stuck_refunded,
        move="cancel",
        icon="currency_exchange",
    ),
    # --- shipping and delivery ---
    Step(
        "ship_pickup",
        by=(Actor.BRAND,),
        when=(PICKUP_TO_SHIP,),
        label=_("Ship pick-up"),
        input="ship",
        run=lambda o, u, d: _services().pickup_ship(
            order=o, by=u, carrier=d["carrier"], tracking_number=d["tracking_number"]
        ),
        done=_done(_("Pick-up %(number)s shipped.")),
        move="ship_pickup",
        perm="order_handle",
        url_path="ship",
        icon="local_shipping",
    ),
    Step(
        "receive",
        by=(Actor.BUYER,),
        when=(PICKUP_ON_ITS_WAY, ON_ITS_WAY),
        label=_("Confirm receipt"),
        run=_receive,
        done=_text(_("Receipt confirmed. The order is completed.")),
        move="complete",
    ),
    Step(
        "pickup_delivered",
        by=(Actor.BRAND,),
        when=(PICKUP_ON_ITS_WAY,),
        label=_("Mark pick-up delivered"),
        run=lambda o, u, d: _services().pickup_delivered(order=o, by=u),
        done=_done(_("Pick-up %(number)s delivered.")),
        move="complete",
        perm="order_handle",
        icon="done_all",
    ),
    Step(
        "delivered",
        by=(Actor.SELLER, Actor.BRAND),
        when=(SHOP_ORDER_ON_ITS_WAY,),
        label=_("Mark retail order delivered"),
        run=lambda o, u, d: _services().order_mark_delivered(order=o, by=u),
        done=_text(_("Delivery recorded. The order is completed.")),
        move="complete",
        perm="order_handle",
        icon="done_all",
    ),
    # --- returns ---
    Step(
        "refund",
        by=(Actor.BUYER,),
        when=(When((S.FULFILLED, S.COMPLETED), not_kinds=(K.PICKUP,)),),
        label=_("Request a refund"),
        input="reason",
        run=lambda o, u, d: _services().refund_request(order=o, by=u, note=d["note"]),
        done=_text(_("Return requested. The seller will decide.")),
        move="request_refund",
    ),
    Step(
        "refund_approve",
        by=(Actor.SELLER,),
        when=(RETURN_ASKED,),
        label=_("Approve return"),
        input="note",
        run=lambda o, u, d: _services().refund_approve(order=o, by=u, note=d["note"]),
        done=_text(_("Return approved: the units came back and the money went to the buyer's wallet.")),
        move="refund",
        icon="undo",
    ),
    Step(
        "refund_decline",
        by=(Actor.SELLER,),
        when=(RETURN_ASKED,),
        label=_("Decline return"),
        input="reason",
        run=lambda o, u, d: _services().refund_decline(order=o, by=u, note=d["note"]),
        done=_text(_("Return declined.")),
        move="decline_refund",
        icon="do_not_disturb",
    ),
)

ORDER_WORKFLOW = Workflow(moves=MOVES, waits=WAITS, steps=STEPS)

_current: Workflow = ORDER_WORKFLOW


def current() -> Workflow:
    """The workflow in force: ``ORDER_WORKFLOW`` with the steps other apps installed (``install``),
    or the one a test runs ``using``."""
    return _current


def install(*, moves=(), waits=(), steps=()) -> Workflow:
    """Add moves, waits and steps to the workflow in force, for good: an app above trade calls it
    once, when Django is ready (the codes app adds its scan this way), so that every face offers
    its steps as they offer trade's own."""
    global _current
    _current = _current.extended(moves=moves, waits=waits, steps=steps)
    return _current


@contextmanager
def using(workflow: Workflow) -> Iterator[Workflow]:
    """Run with ``workflow`` in force (tests: a workflow with a step the real one does not have)."""
    global _current
    previous, _current = _current, workflow
    try:
        yield workflow
    finally:
        _current = previous
