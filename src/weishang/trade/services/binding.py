"""A shop customer's binding to an agent: made when a shop order is paid (or, paid on its
seller's word alone, when it is filled), worked out again when one is cancelled or returned."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, F, OuterRef, Subquery

from weishang.core import clock
from weishang.core.models import CustomerBinding
from weishang.core.selectors import brand_get
from weishang.trade.models import (
    Customer,
    Order,
    OrderKind,
    OrderStatus,
    OrderTransition,
    Payment,
    PaymentMethod,
    PaymentStatus,
)


def _bind_customer(customer: Customer, seller_id: int, *, now: datetime) -> None:
    """Bind the consumer to the selling agent as the brand's customer_binding says (in memory:
    the caller saves). ``now`` is when the order was paid."""
    brand = brand_get()
    bound = customer.bound_agent_id
    if brand.customer_binding == CustomerBinding.OVERRIDE:
        rebind = bound != seller_id
    elif brand.customer_binding == CustomerBinding.EXPIRING and bound is not None:
        days = brand.customer_binding_days or 0
        expired = customer.bound_at is None or customer.bound_at + timedelta(days=days) <= now
        rebind = expired  # the same agent selling again renews the binding
    else:
        rebind = bound is None
    if rebind or (brand.customer_binding == CustomerBinding.EXPIRING and bound == seller_id):
        customer.bound_agent_id, customer.bound_at = seller_id, now


def _seller_word() -> Exists:
    """For an order queryset: its payment is a transfer confirmed by the agent who received it
    (the order's seller when it was paid) — paid on the seller's word alone."""
    return Exists(
        Payment.objects.filter(
            order=OuterRef("pk"),
            status=PaymentStatus.CONFIRMED,
            method=PaymentMethod.TRANSFER,
            receiver__isnull=False,
            decided_by=F("receiver__user"),
        )
    )


def binds_when_filled(order: Order) -> bool:
    """A shop order paid by a transfer its own seller confirmed binds its customer when the seller
    fills it (the goods leave their stock for the customer), not at the confirmation: anyone can
    upload a picture for a phone they know and 'confirm' it. A provider's signed notice, or brand
    finance's confirmation, is a payment someone else vouches for: those bind at payment."""
    if order.kind != OrderKind.RETAIL or order.customer_id is None:
        return False
    return Order.objects.filter(pk=order.pk).filter(_seller_word()).exists()


def bind_paid_customer(order: Order) -> None:
    """A shop order is being paid (or, paid on its seller's word, filled): bind its customer by the
    brand's rule (first, expiring, override) under the customer's row lock, and keep on the order
    the binding as it now stands — the agent whose customer this sale is, and who earns its retail
    commission."""
    if order.kind != OrderKind.RETAIL or order.customer_id is None or order.seller_id is None:
        return
    customer = Customer.objects.select_for_update().get(pk=order.customer_id)
    _bind_customer(customer, order.seller_id, now=clock.now())
    customer.save(update_fields=["bound_agent", "bound_at"])
    order.bound_agent_id = customer.bound_agent_id
    order.save(update_fields=["bound_agent"])


# Shop orders that were paid and still stand: they make (and keep) a customer's binding.
_BINDING_STATUSES = (OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.COMPLETED, OrderStatus.REFUND_REQUESTED)


def unbind_undone(order: Order) -> None:
    """A paid shop order was cancelled or returned: it binds nobody any more. The customer's
    binding is worked out again, by the brand's rule, from their paid orders that still stand, in
    the order they bound her (when paid; when filled for one paid on its seller's word, which binds
    nobody while unfilled); orders not yet completed (whose commission is not worked out yet) take
    the binding they would have had."""
    if order.kind != OrderKind.RETAIL or order.customer_id is None or order.paid_at is None:
        return
    customer = Customer.objects.select_for_update().get(pk=order.customer_id)
    customer.bound_agent_id, customer.bound_at = None, None
    filled_at = (
        OrderTransition.objects.filter(order=OuterRef("pk"), to_status=OrderStatus.FULFILLED)
        .order_by("pk")
        .values("at")[:1]
    )
    rows = (
        Order.objects.filter(
            customer_id=customer.pk,
            kind=OrderKind.RETAIL,
            status__in=_BINDING_STATUSES,
            paid_at__isnull=False,
            seller__isnull=False,
        )
        .annotate(seller_word=_seller_word(), filled_at=Subquery(filled_at))
        .values_list("pk", "seller_id", "paid_at", "status", "bound_agent_id", "seller_word", "filled_at")
    )
    standing = sorted(
        ((filled_at if seller_word else paid_at), pk, seller_id, status, snapshot)
        for pk, seller_id, paid_at, status, snapshot, seller_word, filled_at in rows
        if not seller_word or filled_at is not None
    )
    stale: dict[int, int | None] = {}
    for since, pk, seller_id, status, snapshot in standing:
        _bind_customer(customer, seller_id, now=since)  # type: ignore[arg-type]  # both times filtered non-NULL
        if status in (OrderStatus.PAID, OrderStatus.FULFILLED) and snapshot != customer.bound_agent_id:
            stale[pk] = customer.bound_agent_id
    customer.save(update_fields=["bound_agent", "bound_at"])
    # Holding the customer's lock, never wait for another order's: a payment or cancellation of
    # that order holds it and waits for the customer (a deadlock). An order locked right now is
    # being cancelled or filled; its binding is left as it was paid.
    free = Order.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk__in=stale)
    for pk in free.values_list("pk", flat=True):
        Order.objects.filter(pk=pk).update(bound_agent_id=stale[pk])
