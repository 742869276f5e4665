"""B2B trade: every change of a deal, one function each (the models' docstring tells the flow).

Who may do what for their company is ``ROLE_CAN``, checked by every service against the acting
person's ``BusinessMember``; a company sees only deals it is a party to (``selectors``).

Money. When the brand is the seller, its ledger follows each order: what the buyer owes for
invoiced goods, less credit notes and payments, is the order's ``net``; a positive net is a
receivable (应收账款), a negative one money received ahead of the goods (预收账款). Each event
(an invoice, a payment, a refund, a credit note) posts one balanced entry: its own account (sales,
cash) against the change of the order's receivable and advance. A refund on a claim takes back the
sale it pays back (cash against sales): the buyer does not owe the refunded goods again. ``b2b_verify`` checks the two
ledger balances against the orders. Trade between two other companies is kept as documents only
(their books are not the brand's). Shipped brand SKUs leave the warehouse through
``trade.stock`` (reason ``b2b``), which inventory values into the cost of goods sold.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from weishang.b2b.models import (
    AccountKind,
    BusinessAccount,
    BusinessMember,
    Claim,
    ClaimKind,
    ClaimPhoto,
    ClaimStatus,
    CreditNote,
    Inquiry,
    InquiryLine,
    InquiryStatus,
    Invoice,
    Listing,
    ListingImage,
    MemberRole,
    Offer,
    OfferLine,
    OfferStatus,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentKind,
    PriceTier,
    Resolution,
    Shipment,
    ShipmentLine,
    Side,
    Terms,
)
from weishang.catalog.models import SKU
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict, Forbidden, NotFound
from weishang.core.files import check_picture
from weishang.core.money import amount_input
from weishang.inventory.selectors import batches_to_return
from weishang.ledger import services as ledger
from weishang.ledger.models import Purpose
from weishang.trade import stock
from weishang.trade.models import LocationKind, StockMove, StockReason

CENT = Decimal("0.01")
MAX_UNITS = 1_000_000
MAX_LINES = 50
MAX_PHOTOS = 6

# What each role may do for its company; an administrator may do everything.
ROLE_CAN: dict[str, frozenset[str]] = {
    "list": frozenset({MemberRole.ADMIN, MemberRole.SALES}),  # listings
    "quote": frozenset({MemberRole.ADMIN, MemberRole.SALES}),  # the seller's offers, and accepting the buyer's
    "ask": frozenset({MemberRole.ADMIN, MemberRole.BUYER}),  # inquiries, the buyer's offers, accepting the seller's
    "ship": frozenset({MemberRole.ADMIN, MemberRole.SALES}),
    "receive": frozenset({MemberRole.ADMIN, MemberRole.BUYER}),
    "claim": frozenset({MemberRole.ADMIN, MemberRole.BUYER}),
    "resolve": frozenset({MemberRole.ADMIN, MemberRole.SALES}),
    "pay": frozenset({MemberRole.ADMIN, MemberRole.FINANCE}),  # recording money received and refunded
}


def member_can(member: BusinessMember | None, action: str) -> bool:
    return bool(member and member.active and member.account.active and member.role in ROLE_CAN[action])


def _require(member: BusinessMember, action: str) -> None:
    if not member_can(member, action):
        raise Forbidden(_("Your role in your company does not allow this."))


def _number(prefix: str) -> str:
    return f"{prefix}{clock.localtime():%Y%m%d}{secrets.token_hex(5).upper()}"


def _units(value: object, *, field: str, minimum: int = 1) -> int:
    text = str(value).strip() if value is not None and not isinstance(value, bool | float) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 7 or not minimum <= int(text) <= MAX_UNITS:
        raise BusinessError(
            _("Enter a whole number of units from %(min)s to %(max)s.") % {"min": minimum, "max": MAX_UNITS},
            field=field,
        )
    return int(text)


def _text(value: object, *, field: str, limit: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if "\x00" in text:
        raise BusinessError(_("This text holds a character that cannot be kept."), field=field)
    if required and not text:
        raise BusinessError(_("This field is required."), field=field)
    if len(text) > limit:
        raise BusinessError(_("At most %(n)s characters.") % {"n": limit}, field=field)
    return text


def _date(value: object, *, field: str, not_before: date | None = None) -> date:
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value or "").strip())
        except ValueError:
            raise BusinessError(_("Enter a date like 2026-12-31."), field=field) from None
    if not_before is not None and day < not_before:
        raise BusinessError(_("This date has passed."), field=field)
    if day > clock.today() + timedelta(days=3 * 365):
        raise BusinessError(_("Choose a date within three years."), field=field)
    return day


def _money(value: object, *, field: str) -> Decimal:
    return amount_input(value, field=field, positive=True)


FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_form_token() -> str:
    """A one-time token for a form that records something: posted twice, it records it once."""
    return secrets.token_urlsafe(24)


def _form_token(value: object) -> str:
    token = str(value or "").strip()
    if token and not FORM_TOKEN.fullmatch(token):
        raise BusinessError(_("This form has expired. Please fill it in again."), field="token")
    return token


# --- accounts (the brand's console) ----------------------------------------------------------------


@transaction.atomic
def account_create(
    *,
    name: str,
    kind: str,
    contact_name: str = "",
    phone: str = "",
    address: str = "",
    tax_id: str = "",
    is_brand: bool = False,
) -> BusinessAccount:
    name = _text(name, field="name", limit=100, required=True)
    if kind not in AccountKind.values:
        raise BusinessError(_("Choose buyer, supplier or both."), field="kind")
    if BusinessAccount.objects.filter(name=name).exists():
        raise Conflict(_("A business account with this name exists."), field="name")
    if is_brand and BusinessAccount.objects.filter(is_brand=True).exists():
        raise Conflict(_("The brand already has its business account."), field="is_brand")
    return BusinessAccount.objects.create(
        name=name,
        kind=kind,
        is_brand=is_brand,
        contact_name=_text(contact_name, field="contact_name", limit=50),
        phone=_text(phone, field="phone", limit=20),
        address=_text(address, field="address", limit=200),
        tax_id=_text(tax_id, field="tax_id", limit=18),
    )


@transaction.atomic
def account_update(
    *, account: BusinessAccount, kind: str, contact_name: str, phone: str, address: str, tax_id: str, active: bool
) -> BusinessAccount:
    """What the brand may change of a company: its kind, contact details, and whether it trades
    (a company switched off keeps its deals; its people no longer reach the B2B pages)."""
    if kind not in AccountKind.values:
        raise BusinessError(_("Choose buyer, supplier or both."), field="kind")
    account.kind = kind
    account.contact_name = _text(contact_name, field="contact_name", limit=50)
    account.phone = _text(phone, field="phone", limit=20)
    account.address = _text(address, field="address", limit=200)
    account.tax_id = _text(tax_id, field="tax_id", limit=18)
    account.active = active
    account.save(update_fields=["kind", "contact_name", "phone", "address", "tax_id", "active"])
    return account


@transaction.atomic
def member_update(*, member: BusinessMember, role: str, active: bool) -> BusinessMember:
    if role not in MemberRole.values:
        raise BusinessError(_("Choose a role."), field="role")
    member.role = role
    member.active = active
    member.save(update_fields=["role", "active"])
    return member


@transaction.atomic
def member_add(*, account: BusinessAccount, username: str, password: str, role: str, name: str = "") -> BusinessMember:
    """A new login acting for ``account`` in ``role`` (the brand's console adds them)."""
    if role not in MemberRole.values:
        raise BusinessError(_("Choose a role."), field="role")
    username = _text(username, field="username", limit=150, required=True)
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise Conflict(_("This user name is taken."), field="username")
    if len(password or "") < 8:
        raise BusinessError(_("A password needs at least 8 characters."), field="password")
    user = User.objects.create_user(
        username=username, password=password, first_name=_text(name, field="name", limit=30)
    )
    return BusinessMember.objects.create(account=account, user=user, role=role)


# --- listings --------------------------------------------------------------------------------------


def _tiers(tiers: Sequence[tuple[object, object]], *, min_quantity: int) -> list[tuple[int, Decimal]]:
    clean: dict[int, Decimal] = {}
    for index, (quantity, price) in enumerate(tiers[:10]):
        if str(quantity or "").strip() == "" and str(price or "").strip() == "":
            continue
        units = _units(quantity, field=f"tier-{index}-quantity")
        if units in clean:
            raise BusinessError(_("Two tiers start at the same quantity."), field=f"tier-{index}-quantity")
        clean[units] = _money(price, field=f"tier-{index}-price")
    if not clean:
        raise BusinessError(_("Give at least one price."), field="tier-0-price")
    ordered = sorted(clean.items())
    if ordered[0][0] > min_quantity:
        raise BusinessError(
            _("The first tier must start at the minimum order quantity or below."), field="tier-0-quantity"
        )
    for (_q1, p1), (_q2, p2) in zip(ordered, ordered[1:], strict=False):
        if p2 > p1:
            raise BusinessError(_("A larger quantity may not cost more per unit."), field="tiers")
    return ordered


@transaction.atomic
def listing_save(
    *,
    member: BusinessMember,
    title: str,
    tiers: Sequence[tuple[object, object]],
    description: str = "",
    unit: str = "件",
    min_quantity: object = 1,
    lead_days: object = 7,
    warranty_days: object = 90,
    sku: SKU | None = None,
    images: Iterable[UploadedFile] = (),
    listing: Listing | None = None,
    version: object = None,
) -> Listing:
    """Create a listing for the member's company, or change ``listing`` (its tiers replaced).

    An edit locks the listing's row and writes only the fields the form holds: two edits at once
    run one after the other (the tiers of one, never a mix of both), and neither writes back what
    it read of the rest (an edit does not undo a listing switched off meanwhile). ``version`` is
    the listing's version the editor's page showed: if another edit was saved since, this one is
    refused (409) rather than written over it unseen — the later of two edits never wins silently."""
    _require(member, "list")
    seller = member.account
    if not seller.sells:
        raise Forbidden(_("Your company is not set up to sell."))
    if listing is not None:
        listing = Listing.objects.select_for_update().filter(pk=listing.pk, seller=seller).first()
        if listing is None:
            raise NotFound(_("No such listing."))
        if version is not None and str(version).strip() != str(listing.version):
            raise Conflict(
                _(
                    "Someone else saved a change to this listing after you opened it. "
                    "Its latest details are shown below: make your change again on them."
                ),
                code="stale_listing",
            )
    if sku is not None and not seller.is_brand:
        raise BusinessError(_("Only the brand's listings ship from its warehouse."), field="sku")
    moq = _units(min_quantity, field="min_quantity")
    lead = _units(lead_days, field="lead_days", minimum=0)
    warranty = _units(warranty_days, field="warranty_days", minimum=0)
    if lead > 365 or warranty > 3650:
        raise BusinessError(_("Lead time is at most a year, warranty at most ten years."), field="lead_days")
    values = {
        "title": _text(title, field="title", limit=100, required=True),
        "description": _text(description, field="description", limit=4000),
        "unit": _text(unit, field="unit", limit=10, required=True),
        "min_quantity": moq,
        "lead_days": lead,
        "warranty_days": warranty,
        "sku": sku,
    }
    clean_tiers = _tiers(tiers, min_quantity=moq)
    uploads = [upload for upload in images if upload][:MAX_PHOTOS]
    for upload in uploads:
        check_picture(upload, field="images")
    if listing is None:
        listing = Listing.objects.create(seller=seller, **values)
    else:
        for key, value in values.items():
            setattr(listing, key, value)
        listing.version += 1
        listing.save(update_fields=[*values, "version"])
        listing.tiers.all().delete()
    PriceTier.objects.bulk_create([PriceTier(listing=listing, min_quantity=q, unit_price=p) for q, p in clean_tiers])
    start = listing.images.count()
    for offset, upload in enumerate(uploads):
        ListingImage.objects.create(listing=listing, file=upload, position=start + offset)
    return listing


@transaction.atomic
def listing_set_active(*, member: BusinessMember, listing: Listing, active: bool) -> Listing:
    _require(member, "list")
    if listing.seller_id != member.account_id:
        raise NotFound(_("No such listing."))
    listing.active = active
    listing.save(update_fields=["active"])
    return listing


def tier_price(listing: Listing, quantity: int) -> Decimal | None:
    """The listing's unit price for ``quantity`` units (the highest tier it reaches)."""
    price = None
    for tier in sorted(listing.tiers.all(), key=lambda t: t.min_quantity):
        if tier.min_quantity <= quantity:
            price = tier.unit_price
    return price


# --- inquiries and offers --------------------------------------------------------------------------


@transaction.atomic
def inquiry_create(
    *,
    member: BusinessMember,
    seller: BusinessAccount,
    lines: Sequence[tuple[Listing, object]],
    wanted_date: object = None,
    note: str = "",
) -> Inquiry:
    """询价: the member's company asks ``seller`` for a price on ``lines`` (listing, units)."""
    _require(member, "ask")
    buyer = member.account
    if buyer.is_brand:
        # The brand's own buying is purchasing's (purchase orders posted to payables), once.
        raise Forbidden(_("The brand buys through purchasing (进货管理), with purchase orders."))
    if not buyer.buys:
        raise Forbidden(_("Your company is not set up to buy."))
    if seller.pk == buyer.pk or not seller.active or not seller.sells:
        raise BusinessError(_("Choose another company's listings."), field="seller")
    clean: list[tuple[Listing, int]] = []
    asked = [(listing, quantity) for listing, quantity in lines if str(quantity or "").strip() not in ("", "0")]
    if len(asked) > MAX_LINES:
        raise BusinessError(_("Ask for at most %(n)s products at once.") % {"n": MAX_LINES}, field="lines")
    for listing, quantity in asked:
        if listing.seller_id != seller.pk or not listing.active:
            raise BusinessError(_("This product is not listed by this seller."), field=f"quantity-{listing.pk}")
        units = _units(quantity, field=f"quantity-{listing.pk}")
        if units < listing.min_quantity:
            raise BusinessError(
                _("The minimum order is %(n)s %(unit)s.") % {"n": listing.min_quantity, "unit": listing.unit},
                field=f"quantity-{listing.pk}",
            )
        clean.append((listing, units))
    if not clean:
        raise BusinessError(_("Ask for at least one product."), field="lines")
    wanted = _date(wanted_date, field="wanted_date", not_before=clock.today()) if wanted_date else None
    inquiry = Inquiry.objects.create(
        number=_number("RFQ"),
        buyer=buyer,
        seller=seller,
        wanted_date=wanted,
        note=_text(note, field="note", limit=500),
        created_by=member.user,
    )
    InquiryLine.objects.bulk_create([InquiryLine(inquiry=inquiry, listing=lst, quantity=q) for lst, q in clean])
    return inquiry


def side_of(member: BusinessMember, inquiry: Inquiry) -> str:
    """The member's side of ``inquiry``; a company not party to it finds no such inquiry."""
    if member.account_id == inquiry.seller_id:
        return Side.SELLER
    if member.account_id == inquiry.buyer_id:
        return Side.BUYER
    raise NotFound(_("No such inquiry."))


def _locked_inquiry(inquiry: Inquiry) -> Inquiry:
    return Inquiry.objects.select_for_update(of=("self",)).select_related("buyer", "seller").get(pk=inquiry.pk)


def _terms(terms: str, deposit_percent: object) -> tuple[str, int]:
    if terms not in Terms.values:
        raise BusinessError(_("Choose the payment terms."), field="terms")
    if terms == Terms.DEPOSIT:
        percent = _units(deposit_percent, field="deposit_percent")
        if not 1 <= percent <= 99:
            raise BusinessError(_("A deposit is 1 to 99 percent of the total."), field="deposit_percent")
        return terms, percent
    return terms, 100 if terms == Terms.PREPAY else 0


@transaction.atomic
def offer_make(
    *,
    member: BusinessMember,
    inquiry: Inquiry,
    lines: dict[int, tuple[object, object]],
    terms: str,
    delivery_date: object,
    valid_until: object,
    deposit_percent: object = 0,
    note: str = "",
) -> Offer:
    """A round of the negotiation: the seller's quote, or a counter-offer from either side.
    ``lines``: {inquiry line id: (units, unit price)}, one for each line of the inquiry. The open
    round before it is superseded, and kept."""
    inquiry = _locked_inquiry(inquiry)
    side = side_of(member, inquiry)
    _require(member, "quote" if side == Side.SELLER else "ask")
    if inquiry.status not in (InquiryStatus.OPEN, InquiryStatus.NEGOTIATING):
        raise Conflict(_("This inquiry is closed."))
    last = inquiry.offers.order_by("-round").first()
    if last is None and side == Side.BUYER:
        raise Conflict(_("Wait for the seller's quote before making a counter-offer."))
    today = clock.today()
    terms, percent = _terms(terms, deposit_percent)
    delivery = _date(delivery_date, field="delivery_date", not_before=today)
    valid = _date(valid_until, field="valid_until", not_before=today)
    inquiry_lines = list(inquiry.lines.select_related("listing"))
    priced: list[tuple[InquiryLine, int, Decimal]] = []
    for line in inquiry_lines:
        quantity, price = lines.get(line.pk, (None, None))
        units = _units(quantity, field=f"quantity-{line.pk}")
        if units < line.listing.min_quantity:
            raise BusinessError(
                _("The minimum order is %(n)s %(unit)s.") % {"n": line.listing.min_quantity, "unit": line.listing.unit},
                field=f"quantity-{line.pk}",
            )
        priced.append((line, units, _money(price, field=f"price-{line.pk}")))
    total = sum((price * units for _line, units, price in priced), Decimal("0"))
    if total > Decimal("100000000"):
        raise BusinessError(_("An offer is at most ¥100,000,000."), field="lines")
    inquiry.offers.filter(status=OfferStatus.OPEN).update(status=OfferStatus.SUPERSEDED)
    offer = Offer.objects.create(
        inquiry=inquiry,
        round=(last.round + 1) if last else 1,
        side=side,
        terms=terms,
        deposit_percent=percent,
        delivery_date=delivery,
        valid_until=valid,
        note=_text(note, field="note", limit=500),
        total=total,
        created_by=member.user,
    )
    OfferLine.objects.bulk_create(
        [OfferLine(offer=offer, inquiry_line=line, quantity=units, unit_price=price) for line, units, price in priced]
    )
    if inquiry.status != InquiryStatus.NEGOTIATING:
        inquiry.status = InquiryStatus.NEGOTIATING
        inquiry.save(update_fields=["status"])
    return offer


@transaction.atomic
def offer_accept(*, member: BusinessMember, offer: Offer) -> Order:
    """The other side accepts the open round: it becomes the order, with its terms."""
    inquiry = _locked_inquiry(offer.inquiry)
    side = side_of(member, inquiry)
    _require(member, "quote" if side == Side.SELLER else "ask")
    offer = Offer.objects.get(pk=offer.pk)
    if offer.status != OfferStatus.OPEN or inquiry.status != InquiryStatus.NEGOTIATING:
        raise Conflict(_("This offer is no longer open."))
    if offer.side == side:
        raise Conflict(_("The other side accepts an offer, not the one who made it."))
    if offer.valid_until < clock.today():
        raise Conflict(_("This offer expired on %(day)s; make a new one.") % {"day": offer.valid_until})
    if side == Side.BUYER and not inquiry.buyer.buys or side == Side.SELLER and not inquiry.seller.sells:
        raise Forbidden(_("Your company is not set up for this."))
    if offer.terms == Terms.PREPAY:
        due = offer.total
    elif offer.terms == Terms.DEPOSIT:
        due = (offer.total * offer.deposit_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        due = Decimal("0")
    order = Order.objects.create(
        number=_number("BO"),
        inquiry=inquiry,
        offer=offer,
        seller=inquiry.seller,
        buyer=inquiry.buyer,
        terms=offer.terms,
        deposit_amount=due,
        total=offer.total,
        delivery_date=offer.delivery_date,
        status=OrderStatus.AWAITING_PAYMENT if due > 0 else OrderStatus.CONFIRMED,
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                listing=line.inquiry_line.listing,
                sku=line.inquiry_line.listing.sku,
                title=line.inquiry_line.listing.title,
                unit=line.inquiry_line.listing.unit,
                quantity=line.quantity,
                unit_price=line.unit_price,
                warranty_days=line.inquiry_line.listing.warranty_days,
            )
            for line in offer.lines.select_related("inquiry_line__listing")
        ]
    )
    Offer.objects.filter(pk=offer.pk).update(status=OfferStatus.ACCEPTED)
    inquiry.status = InquiryStatus.ACCEPTED
    inquiry.save(update_fields=["status"])
    return order


@transaction.atomic
def inquiry_close(*, member: BusinessMember, inquiry: Inquiry) -> Inquiry:
    """The buyer withdraws the inquiry, or the seller declines it; an open round is withdrawn."""
    inquiry = _locked_inquiry(inquiry)
    side = side_of(member, inquiry)
    _require(member, "quote" if side == Side.SELLER else "ask")
    if inquiry.status not in (InquiryStatus.OPEN, InquiryStatus.NEGOTIATING):
        raise Conflict(_("This inquiry is closed."))
    inquiry.offers.filter(status=OfferStatus.OPEN).update(status=OfferStatus.WITHDRAWN)
    inquiry.status = InquiryStatus.DECLINED if side == Side.SELLER else InquiryStatus.WITHDRAWN
    inquiry.save(update_fields=["status"])
    return inquiry


# --- orders: money ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """Where an order's money stands. ``net`` is what the buyer owes for invoiced goods now
    (negative: paid ahead of the goods). A refund is money paid back on a claim: it lowers what
    was paid and, by as much, what is owed (the buyer does not owe the refunded goods again), so
    it leaves ``net`` and ``unpaid`` as they were."""

    total: Decimal
    invoiced: Decimal
    credited: Decimal
    received: Decimal
    refunded: Decimal

    @property
    def paid(self) -> Decimal:
        return self.received - self.refunded

    @property
    def net(self) -> Decimal:
        return self.invoiced - self.credited - self.refunded - self.paid

    @property
    def receivable(self) -> Decimal:
        return max(self.net, Decimal("0"))

    @property
    def advance(self) -> Decimal:
        return max(-self.net, Decimal("0"))

    @property
    def unpaid(self) -> Decimal:
        """What is left to pay on the whole order (its total less credit notes, refunds and payments)."""
        return self.total - self.credited - self.refunded - self.paid


def _sum(queryset, **filters) -> Decimal:
    total = queryset.filter(**filters).aggregate(s=Sum("amount"))["s"] or Decimal("0")
    return Decimal(total).quantize(CENT)  # SQLite's sums come back without their places


def statement(order: Order) -> Statement:
    return Statement(
        total=order.total,
        invoiced=_sum(order.invoices.all()),
        credited=_sum(order.credit_notes.all()),
        received=_sum(order.payments.all(), kind=PaymentKind.RECEIVED),
        refunded=_sum(order.payments.all(), kind=PaymentKind.REFUNDED),
    )


def _post(
    order: Order,
    before: Statement,
    after: Statement,
    *,
    purpose: str,
    amount: Decimal,
    memo: str,
    key: str,
    also: tuple[str, Decimal] | None = None,
):
    """The brand's ledger follows its own sales: ``amount`` on ``purpose`` (debit positive), and
    ``also`` (purpose, amount) if given, against the change of the order's receivable and advance."""
    if not order.seller.is_brand:
        return None
    lines = [(ledger.account_for(owner=None, purpose=purpose), amount)]
    if also is not None:
        lines.append((ledger.account_for(owner=None, purpose=also[0]), also[1]))
    change_r = after.receivable - before.receivable
    change_a = after.advance - before.advance
    if change_r:
        lines.append((ledger.account_for(owner=None, purpose=Purpose.BRAND_RECEIVABLES), change_r))
    if change_a:
        lines.append((ledger.account_for(owner=None, purpose=Purpose.BRAND_CUSTOMER_ADVANCES), -change_a))
    return ledger.journal_post(lines=lines, memo=memo[:200], reference=order.number, kind="b2b", idempotency_key=key)


def _locked_order(order: Order) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("seller", "buyer").get(pk=order.pk)


def _party(member: BusinessMember, order: Order) -> str:
    if member.account_id == order.seller_id:
        return Side.SELLER
    if member.account_id == order.buyer_id:
        return Side.BUYER
    raise NotFound(_("No such order."))


def _settle_status(order: Order) -> None:
    """Completed when everything shipped has been received, nothing is owed to ship, and the
    order is paid; back to shipped or partially shipped otherwise."""
    if order.status in (OrderStatus.CANCELLED, OrderStatus.AWAITING_PAYMENT, OrderStatus.CONFIRMED):
        return
    lines = list(order.lines.all())
    all_out = all(line.to_ship == 0 for line in lines)
    all_in = not order.shipments.filter(received_at__isnull=True).exists()
    status = OrderStatus.PARTIAL if not all_out else OrderStatus.SHIPPED
    if (
        all_out
        and all_in
        and statement(order).unpaid <= 0
        and not order.claims.filter(status=ClaimStatus.OPEN).exists()
    ):
        status = OrderStatus.COMPLETED
    if status != order.status:
        order.status = status
        order.save(update_fields=["status"])


@transaction.atomic
def payment_record(
    *, member: BusinessMember, order: Order, amount: object, reference: str = "", token: str = ""
) -> Payment:
    """The seller records money received from the buyer. An order paying its deposit (or, paid
    before shipment, its total) is confirmed.

    ``token`` is the one-time token the payment form was issued with: the same form posted again
    (a double click, a retried request) records nothing and returns the payment it recorded."""
    order = _locked_order(order)
    if _party(member, order) != Side.SELLER:
        raise Forbidden(_("The seller records the payments it receives."))
    _require(member, "pay")
    token = _form_token(token)
    if token and (first := order.payments.filter(form_token=token).first()) is not None:
        first.replayed = True
        return first
    if order.status == OrderStatus.CANCELLED:
        raise Conflict(_("This order is cancelled."))
    money = _money(amount, field="amount")
    reference = _text(reference, field="reference", limit=60)
    if reference and order.payments.filter(kind=PaymentKind.RECEIVED, reference=reference).exists():
        # the same transfer posted twice (a double click, a retried form)
        raise Conflict(_("A payment with this bank reference is already recorded on this order."), field="reference")
    before = statement(order)
    if money > before.unpaid:
        raise BusinessError(
            _("At most ¥%(amount)s is left to pay on this order.") % {"amount": before.unpaid}, field="amount"
        )
    payment = Payment.objects.create(
        number=_number("BP"),
        order=order,
        kind=PaymentKind.RECEIVED,
        amount=money,
        reference=reference,
        form_token=token or None,
        recorded_by=member.user,
    )
    after = statement(order)
    _post(
        order,
        before,
        after,
        purpose=Purpose.BRAND_CASH,
        amount=money,
        memo=_("B2B payment %(number)s on %(order)s") % {"number": payment.number, "order": order.number},
        key=f"b2b:payment:{payment.number}",
    )
    if order.status == OrderStatus.AWAITING_PAYMENT and after.paid >= order.deposit_amount:
        order.status = OrderStatus.CONFIRMED
        order.save(update_fields=["status"])
    _settle_status(order)
    return payment


# --- orders: goods ---------------------------------------------------------------------------------


@transaction.atomic
def shipment_create(
    *, member: BusinessMember, order: Order, quantities: dict[int, object], carrier: str, tracking_number: str
) -> Shipment:
    """Send goods on an order: ``quantities`` {order line id: units} (partial allowed). Units
    still owed on the order go first, then replacements its claims owe. The ordered units are
    invoiced (due at once, or in 30 days on net 30); the brand's SKUs leave its warehouse."""
    order = _locked_order(order)
    if _party(member, order) != Side.SELLER:
        raise NotFound(_("No such order."))
    _require(member, "ship")
    if order.status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED):
        raise Conflict(
            _("Nothing ships before ¥%(amount)s is received.") % {"amount": order.deposit_amount}
            if order.status == OrderStatus.AWAITING_PAYMENT
            else _("This order is cancelled.")
        )
    carrier = _text(carrier, field="carrier", limit=50, required=True)
    tracking = _text(tracking_number, field="tracking_number", limit=50, required=True)
    if order.shipments.filter(carrier=carrier, tracking_number=tracking).exists():
        # the same parcel sent twice (a double click, a retried form)
        raise Conflict(
            _("A shipment with this tracking number is already recorded on this order."), field="tracking_number"
        )
    lines = {line.pk: line for line in order.lines.select_for_update(of=("self",)).select_related("sku").order_by("pk")}
    sending: list[tuple[OrderLine, int, int]] = []  # line, ordered units, replacement units
    for line_id, raw in quantities.items():
        if str(raw or "").strip() in ("", "0"):
            continue
        line = lines.get(line_id)
        if line is None:
            raise BusinessError(_("This line is not on the order."), field=f"quantity-{line_id}")
        units = _units(raw, field=f"quantity-{line_id}")
        if units > line.to_ship:
            raise BusinessError(
                _("At most %(n)s %(unit)s of this line are left to ship.") % {"n": line.to_ship, "unit": line.unit},
                field=f"quantity-{line_id}",
            )
        ordered = min(units, line.quantity - line.shipped)
        sending.append((line, ordered, units - ordered))
    if not sending:
        raise BusinessError(_("Ship at least one unit."), field="lines")
    shipment = Shipment.objects.create(
        number=_number("BS"), order=order, carrier=carrier, tracking_number=tracking, shipped_by=member.user
    )
    ShipmentLine.objects.bulk_create(
        [ShipmentLine(shipment=shipment, line=line, quantity=o + r, replacement=r) for line, o, r in sending]
    )
    for line, ordered, replacement in sending:
        line.shipped += ordered
        line.replacements_due -= replacement
        line.save(update_fields=["shipped", "replacements_due"])
    if order.seller.is_brand:
        moves = [
            stock.Move(
                stock.location_singleton(LocationKind.WAREHOUSE),
                stock.location_singleton(LocationKind.CUSTOMER),
                line.sku,
                o + r,
            )
            for line, o, r in sending
            if line.sku is not None
        ]
        if moves:
            stock.stock_move(
                moves=moves, reason=StockReason.B2B, by=member.user, note=f"{order.number} {shipment.number}"
            )
    amount = sum((line.unit_price * o for line, o, _r in sending), Decimal("0"))
    if amount > 0:
        before = statement(order)
        due = clock.today() + timedelta(days=30 if order.terms == Terms.NET30 else 0)
        invoice = Invoice.objects.create(
            number=_number("BI"), order=order, shipment=shipment, amount=amount, due_date=due
        )
        _post(
            order,
            before,
            statement(order),
            purpose=Purpose.BRAND_SALES,
            amount=-amount,
            memo=_("B2B invoice %(number)s on %(order)s") % {"number": invoice.number, "order": order.number},
            key=f"b2b:invoice:{invoice.number}",
        )
    if order.status == OrderStatus.CONFIRMED:
        order.status = OrderStatus.PARTIAL
    _settle_status(order)
    order.save(update_fields=["status"])
    return shipment


@transaction.atomic
def shipment_receive(*, member: BusinessMember, shipment: Shipment) -> Shipment:
    order = _locked_order(shipment.order)
    if _party(member, order) != Side.BUYER:
        raise NotFound(_("No such shipment."))
    _require(member, "receive")
    shipment = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if shipment.received_at is not None:
        raise Conflict(
            _("This shipment was received on %(day)s.")
            % {"day": f"{timezone.localdate(shipment.received_at):%Y-%m-%d}"}
        )
    shipment.received_at = clock.now()
    shipment.received_by = member.user
    shipment.save(update_fields=["received_at", "received_by"])
    _settle_status(order)
    return shipment


# --- after-sales -----------------------------------------------------------------------------------


def claimable(line: OrderLine) -> tuple[int, date | None]:
    """Units of ``line`` the buyer may still claim (received, not already claimed, and no more
    than were received within their warranty) and the last day of the warranty of its latest
    receipt (None: nothing received)."""
    received = (
        ShipmentLine.objects.filter(line=line, shipment__received_at__isnull=False).aggregate(s=Sum("quantity"))["s"]
        or 0
    )
    claimed = line.claims.exclude(status=ClaimStatus.REJECTED).aggregate(s=Sum("quantity"))["s"] or 0
    last = (
        Shipment.objects.filter(lines__line=line, received_at__isnull=False)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    until = timezone.localdate(last) + timedelta(days=line.warranty_days) if last else None
    # a later receipt (replacements) does not restart the warranty of the units received before it:
    # no more units are claimed than were received within their warranty
    earliest = clock.today() - timedelta(days=line.warranty_days)
    in_warranty = sum(
        quantity
        for quantity, received_at in ShipmentLine.objects.filter(
            line=line, shipment__received_at__isnull=False
        ).values_list("quantity", "shipment__received_at")
        if timezone.localdate(received_at) >= earliest
    )
    return max(min(received - claimed, in_warranty), 0), until


@transaction.atomic
def claim_open(
    *,
    member: BusinessMember,
    line: OrderLine,
    kind: str,
    quantity: object,
    reason: str,
    photos: Iterable[UploadedFile] = (),
) -> Claim:
    """售后: the buyer claims received units of a line, within its warranty, with photos."""
    order = _locked_order(line.order)
    if _party(member, order) != Side.BUYER:
        raise NotFound(_("No such order."))
    _require(member, "claim")
    if kind not in ClaimKind.values:
        raise BusinessError(_("Choose a return or a quality problem."), field="kind")
    units = _units(quantity, field="quantity")
    left, until = claimable(line)
    if until is None:
        raise Conflict(_("Claims are made on goods received."), field="quantity")
    if clock.today() > until:
        raise Conflict(_("The warranty of this line ended on %(day)s.") % {"day": until}, field="quantity")
    if units > left:
        raise BusinessError(
            _("At most %(n)s %(unit)s can be claimed.") % {"n": left, "unit": line.unit}, field="quantity"
        )
    uploads = [upload for upload in photos if upload][:MAX_PHOTOS]
    for upload in uploads:
        check_picture(upload, field="photos")
    claim = Claim.objects.create(
        number=_number("CL"),
        order=order,
        line=line,
        kind=kind,
        quantity=units,
        reason=_text(reason, field="reason", limit=500, required=True),
        opened_by=member.user,
    )
    for upload in uploads:
        ClaimPhoto.objects.create(claim=claim, file=upload)
    _settle_status(order)
    return claim


@transaction.atomic
def claim_resolve(
    *,
    member: BusinessMember,
    claim: Claim,
    resolution: str,
    amount: object = None,
    answer: str = "",
    restock: bool = False,
) -> Claim:
    """The seller answers a claim: a replacement (the units are owed again on the order), a
    refund of money received, or a credit note off what the buyer owes (``amount`` at most the
    claimed units' value; the value by default). ``restock``: returned brand goods go back into
    its warehouse."""
    order = _locked_order(claim.order)
    if _party(member, order) != Side.SELLER:
        raise NotFound(_("No such claim."))
    _require(member, "resolve")
    claim = Claim.objects.select_for_update(of=("self",)).select_related("line__sku").get(pk=claim.pk)
    if claim.status != ClaimStatus.OPEN:
        raise Conflict(_("This claim was answered."))
    if resolution not in Resolution.values:
        raise BusinessError(_("Choose a replacement, a refund or a credit note."), field="resolution")
    line = claim.line
    value = line.unit_price * claim.quantity
    money = Decimal("0")
    if resolution != Resolution.REPLACEMENT:
        money = value if str(amount or "").strip() == "" else _money(amount, field="amount")
        if money > value:
            raise BusinessError(_("At most ¥%(amount)s, the claimed units' value.") % {"amount": value}, field="amount")
    before = statement(order)
    if resolution == Resolution.REPLACEMENT:
        OrderLine.objects.filter(pk=line.pk).update(replacements_due=line.replacements_due + claim.quantity)
    elif resolution == Resolution.REFUND:
        if money > before.paid:
            raise BusinessError(
                _("Only ¥%(amount)s has been received on this order.") % {"amount": before.paid}, field="amount"
            )
        payment = Payment.objects.create(
            number=_number("BR"),
            order=order,
            kind=PaymentKind.REFUNDED,
            amount=money,
            reference=claim.number,
            recorded_by=member.user,
        )
        _post(
            order,
            before,
            statement(order),
            purpose=Purpose.BRAND_CASH,
            amount=-money,
            also=(Purpose.BRAND_SALES, money),  # the refunded goods' sale is taken back
            memo=_("B2B refund %(number)s on claim %(claim)s") % {"number": payment.number, "claim": claim.number},
            key=f"b2b:refund:{payment.number}",
        )
    else:
        note = CreditNote.objects.create(
            number=_number("CN"), order=order, claim=claim, amount=money, issued_by=member.user
        )
        _post(
            order,
            before,
            statement(order),
            purpose=Purpose.BRAND_SALES,
            amount=money,
            memo=_("Credit note %(number)s on claim %(claim)s") % {"number": note.number, "claim": claim.number},
            key=f"b2b:credit:{note.number}",
        )
    if restock and claim.kind == ClaimKind.RETURN and order.seller.is_brand and line.sku is not None:
        stock.stock_move(
            moves=_return_moves(order, claim, line),
            reason=StockReason.RETURN,
            by=member.user,
            note=f"{order.number} {claim.number}",
        )
    claim.status = ClaimStatus.RESOLVED
    claim.resolution = resolution
    claim.answer = _text(answer, field="answer", limit=500)
    claim.resolved_by = member.user
    claim.resolved_at = clock.now()
    claim.save(update_fields=["status", "resolution", "answer", "resolved_by", "resolved_at"])
    order.refresh_from_db(fields=["status"])
    if resolution == Resolution.REPLACEMENT and order.status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED):
        order.status = OrderStatus.PARTIAL
        order.save(update_fields=["status"])
    _settle_status(order)
    return claim


def _return_moves(order: Order, claim: Claim, line: OrderLine) -> list[stock.Move]:
    """The claimed units coming back into the brand's warehouse, into the batches the line's
    shipments took them from (its SKU kept by batch), so that their expiry and first-expiry-first-out
    stay right: the latest shipped batch first, each no more than the line took from it less what
    earlier returns on the line put back. Units shipped before the SKU was kept by batch go into
    its unbatched batch. A shipment's and a return's stock moves are known by their note (the
    order's number and the shipment's or the claim's)."""
    sku = line.sku
    assert sku is not None
    customer = stock.location_singleton(LocationKind.CUSTOMER)
    warehouse = stock.location_singleton(LocationKind.WAREHOUSE)
    shipped = StockMove.objects.filter(
        reason=StockReason.B2B,
        sku=sku,
        note__in=[
            f"{order.number} {n}" for n in Shipment.objects.filter(lines__line=line).values_list("number", flat=True)
        ],
    )
    returned = StockMove.objects.filter(
        reason=StockReason.RETURN,
        sku=sku,
        note__in=[f"{order.number} {n}" for n in line.claims.exclude(pk=claim.pk).values_list("number", flat=True)],
    )
    moves = [
        stock.Move(customer, warehouse, sku, n, batch_code=batch.code)
        for batch, n in batches_to_return(shipped=shipped, returned=returned, quantity=claim.quantity)
    ]
    left = claim.quantity - sum(m.quantity for m in moves)
    if left:
        moves.append(stock.Move(customer, warehouse, sku, left))
    return moves


@transaction.atomic
def claim_reject(*, member: BusinessMember, claim: Claim, answer: str) -> Claim:
    order = _locked_order(claim.order)
    if _party(member, order) != Side.SELLER:
        raise NotFound(_("No such claim."))
    _require(member, "resolve")
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    if claim.status != ClaimStatus.OPEN:
        raise Conflict(_("This claim was answered."))
    claim.status = ClaimStatus.REJECTED
    claim.answer = _text(answer, field="answer", limit=500, required=True)
    claim.resolved_by = member.user
    claim.resolved_at = clock.now()
    claim.save(update_fields=["status", "answer", "resolved_by", "resolved_at"])
    _settle_status(order)
    return claim


# --- checks ----------------------------------------------------------------------------------------


def b2b_verify() -> list[str]:
    """The brand's receivables and advances in the ledger against its B2B orders' statements.
    Problems, in words (empty: all agrees)."""
    receivable = advance = Decimal("0")
    for order in Order.objects.filter(seller__is_brand=True).iterator():
        money = statement(order)
        receivable += money.receivable
        advance += money.advance
    problems = []
    for purpose, expected in (
        (Purpose.BRAND_RECEIVABLES, receivable),
        (Purpose.BRAND_CUSTOMER_ADVANCES, advance),
    ):
        balance = ledger.account_for(owner=None, purpose=purpose).balance
        if balance != expected:
            problems.append(
                _("%(account)s is ¥%(balance)s in the ledger; the B2B orders say ¥%(expected)s.")
                % {"account": Purpose(purpose).label, "balance": balance, "expected": expected}
            )
    return problems
