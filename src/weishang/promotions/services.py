"""Coupons and flash sales: creating and pausing them, claiming and giving coupons, pricing a
shop order (``shop_pricing``, handed to ``trade.services.retail_order_submit``), and following
the order afterwards (``redemptions_sync``: a cancelled order gives its coupon, units and budget
back; a paid order's brand-funded discount is paid to the seller through the ledger, reversed on
refund).

Nothing oversells: every counter moves by one guarded UPDATE (``claimed < total_quantity``,
``sold + n <= quantity``, ``spent + d <= budget``, a coupon ``claimed → used``) inside the order's
transaction, in a fixed order (flash sales by id, the coupon, its offer), and one customer's
checkouts are already serialised on their row by trade."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from weishang.catalog.models import SKU
from weishang.channel.models import Agent
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict, NotFound
from weishang.core.money import CENT, to_money
from weishang.core.outbox import outbox_follow
from weishang.core.text import record_text
from weishang.core.validators import normalize_phone, validate_phone
from weishang.ledger import services as ledger
from weishang.ledger.models import JournalEntry, Purpose
from weishang.promotions.models import (
    Coupon,
    CouponOffer,
    CouponStatus,
    DiscountKind,
    FlashSale,
    FundedBy,
    PromotionStatus,
    Redemption,
    RedemptionStatus,
)
from weishang.trade import services as trade_services
from weishang.trade.models import Customer, Order, OrderStatus
from weishang.trade.services import RetailPrices

ZERO = Decimal("0")
# A coupon never takes an order to ¥0: a payment needs an amount (a ¥0.01 order is the floor).
LEAST_TOTAL = CENT
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone
PAID_STATUSES = (OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.COMPLETED, OrderStatus.REFUND_REQUESTED)
GIVEN_BACK_STATUSES = (OrderStatus.CANCELLED, OrderStatus.REJECTED)
COUNTING = (RedemptionStatus.OPEN, RedemptionStatus.PAID)


# --- creating -------------------------------------------------------------------------------


def _money_field(value, field: str, *, allow_zero: bool = False) -> Decimal:
    try:
        amount = to_money(value if not isinstance(value, float) else str(value))
    except (TypeError, ValueError):
        raise BusinessError(_("Enter an amount in yuan, such as 10 or 9.90."), field=field) from None
    if amount < 0 or (amount == 0 and not allow_zero):
        raise BusinessError(_("The amount must be more than ¥0."), field=field)
    return amount


def _dates(start: datetime, end: datetime, fields: tuple[str, str]) -> None:
    if start is None or end is None:
        raise BusinessError(_("Enter both times."), field=fields[0] if start is None else fields[1])
    if end <= start:
        raise BusinessError(_("The end must be after the start."), field=fields[1])


def _positive(value, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BusinessError(_("Enter a whole number."), field=field) from None
    if number < 1:
        raise BusinessError(_("Enter at least 1."), field=field)
    return number


@transaction.atomic
def coupon_offer_create(
    *,
    by,
    name: str,
    kind: str,
    valid_from: datetime,
    valid_to: datetime,
    total_quantity: int,
    amount_off=None,
    percent_off=None,
    max_discount=None,
    min_spend=ZERO,
    per_customer: int = 1,
    funded_by: str = FundedBy.BRAND,
    agent: Agent | None = None,
    budget=None,
    skus: Iterable[SKU] = (),
) -> CouponOffer:
    """A coupon offer. An agent's own offer (``agent``) is funded by that agent and valid in
    their shop only; a brand offer is funded by the brand and valid in every shop."""
    if not (name or "").strip():
        raise BusinessError(_("Give the offer a name."), field="name")
    if kind == DiscountKind.AMOUNT:
        amount_off, percent_off, max_discount = _money_field(amount_off, "amount_off"), None, None
    elif kind == DiscountKind.PERCENT:
        try:
            percent_off = int(percent_off)
        except (TypeError, ValueError):
            raise BusinessError(_("Enter a whole percentage from 1 to 100."), field="percent_off") from None
        if not 1 <= percent_off <= 100:
            raise BusinessError(_("Enter a whole percentage from 1 to 100."), field="percent_off")
        amount_off = None
        max_discount = None if max_discount in (None, "") else _money_field(max_discount, "max_discount")
    else:
        raise BusinessError(_("Choose amount off or percent off."), field="kind")
    min_spend = _money_field(min_spend or ZERO, "min_spend", allow_zero=True)
    budget = None if budget in (None, "") else _money_field(budget, "budget")
    _dates(valid_from, valid_to, ("valid_from", "valid_to"))
    if funded_by not in FundedBy.values:
        raise BusinessError(_("Choose who funds the discount."), field="funded_by")
    if (funded_by == FundedBy.SELLER) != (agent is not None):
        raise BusinessError(
            _("A coupon funded by the seller is an agent's own, for their shop: choose the agent."), field="agent"
        )
    offer = CouponOffer.objects.create(
        name=name.strip()[:60],
        kind=kind,
        amount_off=amount_off,
        percent_off=percent_off,
        max_discount=max_discount,
        min_spend=min_spend,
        valid_from=valid_from,
        valid_to=valid_to,
        total_quantity=_positive(total_quantity, "total_quantity"),
        per_customer=_positive(per_customer, "per_customer"),
        funded_by=funded_by,
        agent=agent,
        budget=budget,
        created_by=by,
    )
    offer.skus.set(list(skus))
    return offer


@transaction.atomic
def flash_sale_create(
    *,
    by,
    name: str,
    sku: SKU,
    price,
    starts_at: datetime,
    ends_at: datetime,
    quantity: int,
    per_customer: int = 1,
    funded_by: str = FundedBy.BRAND,
) -> FlashSale:
    """A SKU at a special retail price between two times, ``quantity`` units in all."""
    if not (name or "").strip():
        raise BusinessError(_("Give the flash sale a name."), field="name")
    price = _money_field(price, "price")
    if price >= sku.retail_price:
        raise BusinessError(
            _("The flash price must be below the retail price ¥%(price)s.") % {"price": sku.retail_price},
            field="price",
        )
    _dates(starts_at, ends_at, ("starts_at", "ends_at"))
    if funded_by not in FundedBy.values:
        raise BusinessError(_("Choose who funds the discount."), field="funded_by")
    return FlashSale.objects.create(
        name=name.strip()[:60],
        sku=sku,
        price=price,
        starts_at=starts_at,
        ends_at=ends_at,
        quantity=_positive(quantity, "quantity"),
        per_customer=_positive(per_customer, "per_customer"),
        funded_by=funded_by,
        created_by=by,
    )


@transaction.atomic
def promotion_set_status(*, promotion: CouponOffer | FlashSale, status: str, by) -> CouponOffer | FlashSale:
    """Pause or resume an offer or a flash sale (coupons already claimed stay, but cannot be used
    while it is paused)."""
    if status not in PromotionStatus.values:
        raise BusinessError(_("Choose running or paused."), field="status")
    type(promotion).objects.filter(pk=promotion.pk).update(status=status)
    promotion.refresh_from_db()
    return promotion


# --- claiming -------------------------------------------------------------------------------


def _customer(phone: str, name: str = "") -> Customer:
    phone = normalize_phone(phone)
    try:
        validate_phone(phone)
    except ValidationError:
        raise BusinessError(_("Enter a valid mobile phone number."), field="phone") from None
    try:
        with transaction.atomic():
            Customer.objects.get_or_create(phone=phone, defaults={"name": (name or phone).strip()[:50]})
    except IntegrityError:
        pass
    return Customer.objects.select_for_update().get(phone=phone)


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(10))


def offer_check_live(offer: CouponOffer, *, now: datetime, field: str = "coupon") -> None:
    if offer.status != PromotionStatus.ACTIVE:
        raise Conflict(_("This coupon is paused."), field=field)
    if now < offer.valid_from:
        raise Conflict(_("This coupon is not valid yet."), field=field)
    if now >= offer.valid_to:
        raise Conflict(_("This coupon has expired."), field=field)


@transaction.atomic
def coupon_claim(
    *, offer: CouponOffer | int, phone: str, name: str = "", seller: Agent | None = None, by=None
) -> Coupon:
    """A customer claims a coupon in ``seller``'s shop (or the brand or the seller gives one,
    ``by``). One guarded UPDATE takes it from the offer's quantity: never more than it has."""
    offer_pk = offer.pk if isinstance(offer, CouponOffer) else offer
    found = CouponOffer.objects.filter(pk=offer_pk).first()
    if found is None:
        raise NotFound(_("There is no such coupon."), field="offer")
    offer = found
    if offer.agent_id is not None and seller is not None and offer.agent_id != seller.pk:
        raise NotFound(_("There is no such coupon."), field="offer")
    now = clock.now()
    offer_check_live(offer, now=now, field="offer")
    customer = _customer(phone, name)  # serialises one customer's claims: the per-customer limit holds
    held = Coupon.objects.filter(offer=offer, customer=customer).count()
    if held >= offer.per_customer:
        raise Conflict(
            _("You already have this coupon (at most %(n)d per customer).") % {"n": offer.per_customer},
            field="offer",
        )
    taken = CouponOffer.objects.filter(pk=offer.pk, claimed__lt=F("total_quantity")).update(claimed=F("claimed") + 1)
    if not taken:
        raise Conflict(_("All of these coupons have been claimed."), field="offer")
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Coupon.objects.create(offer=offer, customer=customer, code=_new_code(), given_by=by)
        except IntegrityError:  # the same code drawn twice: draw again
            continue
    raise Conflict(_("Please try again."), field="offer")


# --- the arithmetic -------------------------------------------------------------------------


def coupon_discount(*, offer: CouponOffer, lines: Iterable[tuple[SKU, int, Decimal]]) -> Decimal:
    """What ``offer`` takes off ``lines`` ((SKU, units, unit price)): computed on the lines it
    applies to, rounded once to the fen (half up), at most the cap and never more than those
    lines nor below zero. Raises when the minimum spend is not reached."""
    eligible_pks = set(offer.skus.values_list("pk", flat=True))
    base = sum(
        (price * qty for sku, qty, price in lines if not eligible_pks or sku.pk in eligible_pks),
        Decimal("0"),
    )
    if base <= 0:
        raise BusinessError(_("This coupon does not apply to these products."), field="coupon")
    if base < offer.min_spend:
        raise BusinessError(
            _("This coupon needs a spend of ¥%(min)s on the products it applies to; this order has ¥%(base)s.")
            % {"min": offer.min_spend, "base": to_money(base)},
            field="coupon",
        )
    if offer.kind == DiscountKind.PERCENT:
        off = to_money(base * Decimal(offer.percent_off or 0) / Decimal(100))
        if offer.max_discount is not None:
            off = min(off, offer.max_discount)
    else:
        off = offer.amount_off or ZERO
    return max(min(off, to_money(base)), ZERO)


# --- pricing a shop order -------------------------------------------------------------------


def live_flash_sale(sku: SKU, *, now: datetime) -> FlashSale | None:
    """The flash sale running now on ``sku``, sold out or not: while it runs, the SKU sells at the
    flash price or not at all (a buyer who saw the flash price is never charged retail instead)."""
    return (
        FlashSale.objects.filter(sku=sku, status=PromotionStatus.ACTIVE, starts_at__lte=now, ends_at__gt=now)
        .order_by("price", "pk")
        .first()
    )


def _flash_units_bought(flash: FlashSale, customer: Customer) -> int:
    return (
        Redemption.objects.filter(flash_sale=flash, customer=customer, status__in=COUNTING).aggregate(n=Sum("units"))[
            "n"
        ]
        or 0
    )


def shop_pricing(*, coupon_code: str = "", now: datetime | None = None):
    """The pricing ``retail_order_submit`` calls: flash sales live now on the order's SKUs, and
    the customer's coupon ``coupon_code`` (empty: none). Refusals say which field."""
    code = (coupon_code or "").strip().upper()

    def price(*, customer: Customer, seller: Agent, lines: list[tuple[SKU, int]]) -> RetailPrices:
        at = now or clock.now()
        unit_prices: dict[int, Decimal] = {}
        taken: list[tuple[FlashSale, int, Decimal]] = []
        for sku, qty in sorted(lines, key=lambda line: line[0].pk):
            flash = live_flash_sale(sku, now=at)
            if flash is None:
                continue
            bought = _flash_units_bought(flash, customer)
            if bought + qty > flash.per_customer:
                raise Conflict(
                    _("%(name)s at the flash price: at most %(n)d per customer; you have %(bought)d.")
                    % {"name": sku.name, "n": flash.per_customer, "bought": bought},
                    field="lines",
                )
            moved = FlashSale.objects.filter(pk=flash.pk, sold__lte=F("quantity") - qty).update(sold=F("sold") + qty)
            if not moved:
                left = FlashSale.objects.filter(pk=flash.pk).values_list("quantity", "sold").first()
                raise Conflict(
                    _("%(name)s at the flash price: only %(n)d left.")
                    % {"name": sku.name, "n": max(left[0] - left[1], 0) if left else 0},
                    field="lines",
                )
            unit_prices[sku.pk] = flash.price
            taken.append((flash, qty, (sku.retail_price - flash.price) * qty))
        coupon = None
        discount = ZERO
        if code:
            coupon = Coupon.objects.select_related("offer").filter(code=code, customer=customer).first()
            if coupon is None:
                raise NotFound(_("No such coupon for this phone number."), field="coupon")
            if coupon.status != CouponStatus.CLAIMED:
                raise Conflict(_("This coupon has been used."), field="coupon")
            offer = coupon.offer
            offer_check_live(offer, now=at)
            if offer.agent is not None and offer.agent_id != seller.pk:
                raise BusinessError(
                    _("This coupon is for %(name)s's shop only.") % {"name": offer.agent.real_name}, field="coupon"
                )
            priced = [(sku, qty, unit_prices.get(sku.pk, sku.retail_price)) for sku, qty in lines]
            subtotal = sum((p * q for _s, q, p in priced), Decimal("0"))
            discount = min(coupon_discount(offer=offer, lines=priced), subtotal - LEAST_TOTAL)
            if discount <= 0:
                raise BusinessError(_("This coupon takes nothing off this order."), field="coupon")
            used = Coupon.objects.filter(pk=coupon.pk, status=CouponStatus.CLAIMED).update(
                status=CouponStatus.USED, used_at=clock.now()
            )
            if not used:
                raise Conflict(_("This coupon has been used."), field="coupon")
            # The budget never changes once set: compare in Python-computed Decimal, not by
            # arithmetic in the database (SQLite would do it in floating point).
            within = CouponOffer.objects.filter(pk=offer.pk)
            if offer.budget is not None:
                within = within.filter(spent__lte=offer.budget - discount)
            if not within.update(spent=F("spent") + discount):
                raise Conflict(_("This offer's budget has been used up."), field="coupon")

        def placed(order: Order) -> None:
            rows = [
                Redemption(
                    order=order,
                    customer=customer,
                    flash_sale=flash,
                    units=qty,
                    amount=cost,
                    funded_by=flash.funded_by,
                )
                for flash, qty, cost in taken
            ]
            if coupon is not None:
                Coupon.objects.filter(pk=coupon.pk).update(order=order)
                rows.append(
                    Redemption(
                        order=order,
                        customer=customer,
                        coupon=coupon,
                        offer=coupon.offer,
                        units=sum(q for _s, q in lines),
                        amount=order.discount,
                        funded_by=coupon.offer.funded_by,
                    )
                )
            Redemption.objects.bulk_create(rows)

        return RetailPrices(unit_prices=unit_prices, discount=discount, placed=placed)

    return price


# --- following the order --------------------------------------------------------------------

_SUBSIDY = gettext_noop("Promotion discount paid by the brand")
_SUBSIDY_BACK = gettext_noop("Promotion discount taken back (order refunded or cancelled)")


def _subsidy(redemption: Redemption, order: Order, *, back: bool) -> None:
    """A brand-funded discount is the brand's to pay: the seller's wallet gets it from the
    promotion expense account when the order is paid, and gives it back on a refund."""
    if redemption.funded_by != FundedBy.BRAND or order.seller_id is None or redemption.amount <= 0:
        return
    seller_wallet = ledger.account_for(owner=order.seller, purpose=Purpose.AGENT_WALLET)
    expense = ledger.account_for(owner=None, purpose=Purpose.BRAND_PROMOTION_EXPENSE)
    if not back:
        lines = [ledger.debit(expense, redemption.amount), ledger.credit(seller_wallet, redemption.amount)]
    else:
        if not ledger_key_used(f"promotion:{redemption.pk}"):
            return
        lines = [ledger.debit(seller_wallet, redemption.amount), ledger.credit(expense, redemption.amount)]
    ledger.journal_post(
        lines=lines,
        kind="promotion_back" if back else "promotion",
        idempotency_key=f"promotion-back:{redemption.pk}" if back else f"promotion:{redemption.pk}",
        reference=f"order:{order.number}",
        memo=record_text(_SUBSIDY_BACK if back else _SUBSIDY),
        allow_negative={Purpose.AGENT_WALLET} if back else None,
    )


def ledger_key_used(key: str) -> bool:
    return JournalEntry.objects.filter(idempotency_key=key).exists()


def _give_back(redemption: Redemption, *, units: bool) -> None:
    if redemption.offer_id is not None:
        CouponOffer.objects.filter(pk=redemption.offer_id).update(spent=F("spent") - redemption.amount)
    if units and redemption.coupon_id is not None:
        Coupon.objects.filter(pk=redemption.coupon_id, status=CouponStatus.USED).update(
            status=CouponStatus.CLAIMED, used_at=None, order=None
        )
    if units and redemption.flash_sale_id is not None:
        FlashSale.objects.filter(pk=redemption.flash_sale_id).update(sold=F("sold") - redemption.units)


@transaction.atomic
def redemptions_sync(*, orders: Iterable[str] | None = None) -> int:
    """Bring the redemptions of ``orders`` (numbers; None: every one not settled) in line with
    their order: paid → the brand's share is paid to the seller; cancelled (or expired unpaid) →
    the coupon goes back to the customer, the flash units and the budget to the promotion;
    refunded after completion → the brand's payment and the budget come back, the coupon does not.
    Idempotent; returns how many redemptions changed."""
    pending = Redemption.objects.filter(status__in=COUNTING)
    if orders is not None:
        pending = pending.filter(order__number__in=list(orders))
    order_pks = sorted(set(pending.values_list("order_id", flat=True)))
    changed = 0
    for order in Order.objects.select_for_update().filter(pk__in=order_pks).order_by("pk"):
        for redemption in Redemption.objects.select_for_update().filter(order=order, status__in=COUNTING):
            new = None
            if order.status in GIVEN_BACK_STATUSES:
                if redemption.status == RedemptionStatus.PAID:
                    _subsidy(redemption, order, back=True)
                _give_back(redemption, units=True)
                new = RedemptionStatus.RETURNED
            elif order.status == OrderStatus.REFUNDED:
                _subsidy(redemption, order, back=True)
                _give_back(redemption, units=False)
                new = RedemptionStatus.REFUNDED
            elif order.status in PAID_STATUSES and redemption.status == RedemptionStatus.OPEN:
                _subsidy(redemption, order, back=False)
                new = RedemptionStatus.PAID
            if new is not None:
                Redemption.objects.filter(pk=redemption.pk).update(status=new, settled_at=clock.now())
                changed += 1
    return changed


FOLLOWED_TOPICS = ("order.paid", "order.cancelled", "order.refunded", "order.rejected", "order.completed")


def _handle(events) -> None:
    redemptions_sync(orders={event.payload.get("order") for event in events if event.payload.get("order")})


def promotions_follow_events() -> int:
    """The outbox consumer: orders paid, cancelled or refunded since the last run. An event read
    out of order is healed by ``redemptions_sync()`` with no orders (``weishang promotions sync``)."""
    return outbox_follow("promotions", FOLLOWED_TOPICS, _handle)


def shop_order_place(
    *,
    seller: Agent,
    name: str,
    phone: str,
    address: str,
    lines,
    region=None,
    idempotency_key: str | None = None,
    coupon_code: str = "",
) -> Order:
    """A shop order with the promotions applied: the flash sales live now and the customer's
    coupon (``coupon_code``), in the order's one transaction (``trade.services.retail_order_submit``)."""
    return trade_services.retail_order_submit(
        seller=seller,
        name=name,
        phone=phone,
        address=address,
        lines=lines,
        region=region,
        idempotency_key=idempotency_key,
        pricing=shop_pricing(coupon_code=coupon_code),
    )
