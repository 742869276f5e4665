"""The shop: a consumer orders from an agent's shop link at retail price and pays by transfer
or WeChat Pay; an unpaid shop order expires (``weishang orders expire``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from weishang.channel.models import Agent, AgentStatus
from weishang.core import clock
from weishang.core.errors import BusinessError, NotFound
from weishang.core.selectors import brand_get
from weishang.core.text import record_text
from weishang.core.validators import normalize_phone, validate_phone
from weishang.regions.models import Region
from weishang.regions.selectors import region_from_input
from weishang.trade.models import (
    Customer,
    Order,
    OrderKind,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
)
from weishang.trade.services.common import (
    emit,
    locked_order,
    new_number,
    transition,
)
from weishang.trade.services.orders import cancel_locked, clean_lines
from weishang.trade.services.payments import transfer_create

# --- retail ---------------------------------------------------------------------------------


@dataclass
class RetailPrices:
    """What a promotion makes of a shop order (the promotions app computes it; trade knows no
    promotion): each SKU's unit price where it is not the retail price (a flash sale), a discount
    off the lines (a coupon), and ``placed``, called with the order in the same transaction so the
    promotion can record what it gave."""

    unit_prices: dict[int, Decimal] = dataclass_field(default_factory=dict)
    discount: Decimal = Decimal("0")
    placed: Callable[[Order], object] | None = None


# A promotion's pricing: called under the customer's lock, after a retried submission has been
# answered with its first order, with the customer and the (SKU, units) lines; it may refuse
# (BusinessError) and its changes roll back with the order's.
RetailPricing = Callable[..., RetailPrices]


@transaction.atomic
def retail_order_submit(
    *,
    seller: Agent,
    name: str,
    phone: str,
    address: str,
    lines,
    region: Region | str | None = None,
    idempotency_key: str | None = None,
    pricing: RetailPricing | None = None,
) -> Order:
    """A consumer orders from an agent's shop link at retail price. ``region`` is the address's
    province, city and district (a GB/T 2260 code; the shop page's picker requires it, API
    clients of M6 may leave it out) and ``address`` the street within it. ``pricing`` (the
    promotions app's) may lower unit prices and take a discount off the lines: never below
    zero, never above retail, and the order always comes to more than ¥0."""
    seller = Agent.objects.select_related("level").get(pk=seller.pk)
    if seller.status != AgentStatus.ACTIVE:
        raise BusinessError(_("This shop is closed."), field="shop")
    phone = normalize_phone(phone)
    try:
        validate_phone(phone)
    except ValidationError as exc:
        raise BusinessError(exc.messages[0], field="phone") from None
    for field, value in (("name", name), ("address", address)):
        if not (value or "").strip():
            raise BusinessError(_("Enter your name and address."), field=field)
    region = region_from_input(region, finest=True)
    merged = clean_lines(lines)
    try:
        with transaction.atomic():
            Customer.objects.get_or_create(phone=phone, defaults={"name": name.strip()[:50]})
    except IntegrityError:
        pass  # created by a concurrent order from the same phone
    # One consumer's submissions are serialised on their row, so a double tap makes one order.
    customer = Customer.objects.select_for_update().get(phone=phone)
    key = f"{phone}:{idempotency_key}" if idempotency_key else None
    if key:
        first = Order.objects.filter(customer=customer, idempotency_key=key).first()
        if first is not None:
            return first
    # No binding here: an unpaid order binds nobody (``bind_paid_customer``, when it is paid).
    prices = (
        pricing(customer=customer, seller=seller, lines=list(merged.values()))
        if pricing is not None
        else RetailPrices()
    )
    priced = [
        (sku, qty, min(max(prices.unit_prices.get(sku.pk, sku.retail_price), Decimal("0")), sku.retail_price))
        for sku, qty in merged.values()
    ]
    subtotal = sum((price * qty for _sku, qty, price in priced), Decimal("0"))
    discount = min(max(prices.discount, Decimal("0")), subtotal)
    total = subtotal - discount
    if total <= 0:
        raise BusinessError(_("An order must come to more than ¥0."), field="lines")
    order = Order.objects.create(
        number=new_number(OrderKind.RETAIL),
        kind=OrderKind.RETAIL,
        customer=customer,
        seller=seller,
        supply_mode=brand_get().supply_mode,
        total=total,
        discount=discount,
        idempotency_key=key,
        ship_name=name.strip()[:50],
        ship_phone=phone,
        ship_region=region,
        ship_address=address.strip()[:200],
    )
    if region is not None and customer.region_id != region.pk:
        customer.region = region
        customer.save(update_fields=["region"])
    OrderLine.objects.bulk_create(
        [
            OrderLine(order=order, sku=sku, quantity=qty, unit_price=price, line_total=price * qty)
            for sku, qty, price in priced
        ]
    )
    if prices.placed is not None:
        prices.placed(order)
    transition(order, "submit")
    emit(order, "order.submitted")
    transition(order, "approve", note=record_text(gettext_noop("Retail order: no approval needed.")))
    transition(order, "request_payment")
    emit(order, "order.approved")
    return order


@transaction.atomic
def retail_payment_submit(*, order: Order, phone: str, screenshot: UploadedFile, reference: str = "") -> Payment:
    """The consumer (identified by the phone on the order) sends the transfer screenshot."""
    order = locked_order(order)
    if order.kind != OrderKind.RETAIL or order.customer is None or order.customer.phone != normalize_phone(phone):
        raise NotFound(_("No such order for this phone number."), field="phone")
    return transfer_create(order, screenshot=screenshot, reference=reference)


# The job waits this long past an unpaid shop order's deadline before cancelling it: the provider
# takes no money after the deadline (time_expire), and a payment made just before it has time to
# be notified and credited instead of being refused on a cancelled order.
EXPIRY_GRACE = timedelta(minutes=15)


def _expiry_cutoff(now: datetime) -> tuple[datetime, int]:
    hours = brand_get().retail_unpaid_hours
    return now - timedelta(hours=hours) - EXPIRY_GRACE, hours


def _expired_unpaid(queryset: QuerySet[Order], cutoff: datetime) -> QuerySet[Order]:
    """Shop orders waiting for payment, unpaid since before ``cutoff``: placed before it, with no
    transfer waiting for confirmation, and no transfer rejected after it (a rejection gives the
    consumer the brand's time again to pay)."""
    return (
        queryset.filter(kind=OrderKind.RETAIL, status=OrderStatus.AWAITING_PAYMENT, submitted_at__lte=cutoff)
        .exclude(payments__status=PaymentStatus.PENDING)
        .exclude(payments__decided_at__gt=cutoff)
    )


@transaction.atomic
def retail_order_expire_one(*, order: Order | int, now: datetime) -> bool:
    """Cancel one unpaid shop order whose time ran out, as the system. Under the order's lock the
    conditions are checked again, so a payment that arrived meanwhile wins: a paid order, or one
    with a transfer waiting, is never cancelled here."""
    cutoff, hours = _expiry_cutoff(now)
    order = locked_order(order)
    if not _expired_unpaid(Order.objects.filter(pk=order.pk), cutoff).exists():
        return False
    cancel_locked(
        order, by=None, note=record_text(gettext_noop("Not paid within %(hours)d hours: expired")) % {"hours": hours}
    )
    return True


def retail_orders_expire(*, now: datetime | None = None) -> int:
    """The periodic job (``weishang orders expire``): cancel every shop order left unpaid longer
    than the brand's ``retail_unpaid_hours``; each in its own transaction. Returns how many."""
    now = now or clock.now()
    cutoff, _hours = _expiry_cutoff(now)
    candidates = list(_expired_unpaid(Order.objects.all(), cutoff).order_by("pk").values_list("pk", flat=True))
    return sum(retail_order_expire_one(order=pk, now=now) for pk in candidates)
