"""B2B trade between business accounts (企业账户), separate from agents.

A deal runs: a seller's ``Listing`` (tiered prices by quantity, minimum order, lead time,
warranty) → the buyer's ``Inquiry`` (询价: listings and quantities, a wanted date) → ``Offer``
rounds (报价 and 还价: each a full set of prices, quantities, a delivery date, payment terms and an
expiry; every round kept, a new one supersedes the open one) → the other side accepts the open
offer and it becomes an ``Order`` with its terms → ``Shipment`` (partial allowed; each has its
``Invoice``) → receipt by the buyer → ``Claim`` (售后) on a line within the warranty → a
replacement, a refund or a ``CreditNote``. Money received and paid back are immutable ``Payment``
rows. Statuses move only through ``services``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from weishang.ledger.models import Immutable

MONEY = {"max_digits": 14, "decimal_places": 2}


class AccountKind(models.TextChoices):
    BUYER = "buyer", pgettext_lazy("b2b", "Buyer")
    SUPPLIER = "supplier", pgettext_lazy("b2b", "Supplier")
    BOTH = "both", _("Buyer and supplier")


class BusinessAccount(models.Model):
    """A company trading on the brand's B2B channel. The brand itself is one (``is_brand``): its
    sales are posted to its own ledger; trade between two other companies is kept as documents."""

    name = models.CharField(_("company name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=AccountKind.choices, default=AccountKind.BUYER)
    is_brand = models.BooleanField(_("the brand itself"), default=False)
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    tax_id = models.CharField(_("tax id (统一社会信用代码)"), max_length=18, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("business account")
        verbose_name_plural = _("business accounts")
        ordering = ("name",)
        constraints = [models.UniqueConstraint(fields=["is_brand"], condition=Q(is_brand=True), name="b2b_one_brand")]

    def __str__(self) -> str:
        return self.name

    @property
    def sells(self) -> bool:
        return self.kind in (AccountKind.SUPPLIER, AccountKind.BOTH)

    @property
    def buys(self) -> bool:
        return self.kind in (AccountKind.BUYER, AccountKind.BOTH)


class MemberRole(models.TextChoices):
    """What a person may do for their company (services.ROLE_CAN says it once)."""

    ADMIN = "admin", _("Administrator")
    SALES = "sales", _("Sales")
    BUYER = "buyer", pgettext_lazy("b2b", "Purchasing")
    FINANCE = "finance", _("Finance")


class BusinessMember(models.Model):
    """A person acting for one company. A login belongs to at most one company."""

    account = models.ForeignKey(
        BusinessAccount, on_delete=models.PROTECT, related_name="members", verbose_name=_("business account")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="business_member", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=10, choices=MemberRole.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("business member")
        verbose_name_plural = _("business members")

    def __str__(self) -> str:
        return f"{self.user} · {self.account}"


class Listing(models.Model):
    """What a seller offers: a product with tiered prices (``PriceTier``), a minimum order, a
    lead time and a warranty. The brand's listings name the SKU its warehouse ships."""

    seller = models.ForeignKey(
        BusinessAccount, on_delete=models.PROTECT, related_name="listings", verbose_name=_("seller")
    )
    sku = models.ForeignKey(
        "catalog.SKU", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("SKU")
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    unit = models.CharField(_("unit"), max_length=10, default="件")
    min_quantity = models.PositiveIntegerField(_("minimum order quantity"), default=1)
    lead_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=7)
    warranty_days = models.PositiveSmallIntegerField(_("warranty (days)"), default=90)
    active = models.BooleanField(_("listed"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Raised by each saved edit of the form's fields: an edit made from an older page is refused
    # instead of silently writing over the edit saved since (listing_save).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        ordering = ("seller", "title")

    def __str__(self) -> str:
        return self.title


class PriceTier(models.Model):
    """From ``min_quantity`` units up, each unit costs ``unit_price`` (until the next tier)."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="tiers", verbose_name=_("listing"))
    min_quantity = models.PositiveIntegerField(_("from units"))
    unit_price = models.DecimalField(_("unit price"), **MONEY)

    class Meta:
        verbose_name = _("price tier")
        verbose_name_plural = _("price tiers")
        ordering = ("listing", "min_quantity")
        constraints = [models.UniqueConstraint(fields=["listing", "min_quantity"], name="b2b_tier_once")]


class ListingImage(models.Model):
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="images", verbose_name=_("listing"))
    file = models.FileField(_("picture"), upload_to="b2b/listings/%Y/%m/")
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("listing picture")
        verbose_name_plural = _("listing pictures")
        ordering = ("listing", "position", "pk")


class InquiryStatus(models.TextChoices):
    OPEN = "open", _("Waiting for a quote")
    NEGOTIATING = "negotiating", _("Negotiating")
    ACCEPTED = "accepted", _("Accepted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DECLINED = "declined", _("Declined")


class Inquiry(models.Model):
    """询价: a buyer asks one seller for a price on some of its listings."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    buyer = models.ForeignKey(
        BusinessAccount,
        on_delete=models.PROTECT,
        related_name="inquiries_made",
        verbose_name=pgettext_lazy("b2b", "buyer"),
    )
    seller = models.ForeignKey(
        BusinessAccount, on_delete=models.PROTECT, related_name="inquiries_received", verbose_name=_("seller")
    )
    wanted_date = models.DateField(_("wanted by"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=InquiryStatus.choices, default=InquiryStatus.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("asked by")
    )
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return self.number


class InquiryLine(models.Model):
    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="lines", verbose_name=_("inquiry"))
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="+", verbose_name=_("listing"))
    quantity = models.PositiveIntegerField(_("units"))

    class Meta:
        verbose_name = _("inquiry line")
        verbose_name_plural = _("inquiry lines")
        ordering = ("inquiry", "pk")


class Side(models.TextChoices):
    SELLER = "seller", _("Seller")
    BUYER = "buyer", pgettext_lazy("b2b", "Buyer")


class Terms(models.TextChoices):
    PREPAY = "prepay", _("Payment before shipment")
    DEPOSIT = "deposit", _("Deposit, balance on delivery")
    NET30 = "net30", _("Net 30 days from invoice")


class OfferStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SUPERSEDED = "superseded", _("Superseded by a counter-offer")
    ACCEPTED = "accepted", _("Accepted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Offer(models.Model):
    """One round of the negotiation: the seller's quote (报价) or either side's counter-offer
    (还价), a full set of terms. Only the latest round is open; the other side accepts it."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="offers", verbose_name=_("inquiry"))
    round = models.PositiveSmallIntegerField(_("round"))
    side = models.CharField(pgettext_lazy("b2b", "from"), max_length=6, choices=Side.choices)
    terms = models.CharField(_("payment terms"), max_length=8, choices=Terms.choices)
    deposit_percent = models.PositiveSmallIntegerField(_("deposit (%)"), default=0)
    delivery_date = models.DateField(_("delivery date"))
    valid_until = models.DateField(_("valid until"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    total = models.DecimalField(_("total"), **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("made by")
    )
    created_at = models.DateTimeField(_("made"), auto_now_add=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ("inquiry", "round")
        constraints = [
            models.UniqueConstraint(fields=["inquiry", "round"], name="b2b_offer_round_once"),
            models.UniqueConstraint(
                fields=["inquiry"], condition=Q(status="open"), name="b2b_one_open_offer_per_inquiry"
            ),
        ]


class OfferLine(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="lines", verbose_name=_("offer"))
    inquiry_line = models.ForeignKey(InquiryLine, on_delete=models.PROTECT, related_name="+", verbose_name=_("line"))
    quantity = models.PositiveIntegerField(_("units"))
    unit_price = models.DecimalField(_("unit price"), **MONEY)

    class Meta:
        verbose_name = _("offer line")
        verbose_name_plural = _("offer lines")
        ordering = ("offer", "pk")

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


class OrderStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting", _("Awaiting payment")
    CONFIRMED = "confirmed", _("Confirmed")
    PARTIAL = "partial", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Order(models.Model):
    """A B2B order, made from the accepted offer with its terms. ``deposit_amount`` is what must
    be received before anything ships (the whole total for payment before shipment, 0 for net 30)."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    inquiry = models.OneToOneField(Inquiry, on_delete=models.PROTECT, related_name="order", verbose_name=_("inquiry"))
    offer = models.OneToOneField(Offer, on_delete=models.PROTECT, related_name="order", verbose_name=_("offer"))
    seller = models.ForeignKey(
        BusinessAccount, on_delete=models.PROTECT, related_name="sales_orders", verbose_name=_("seller")
    )
    buyer = models.ForeignKey(
        BusinessAccount,
        on_delete=models.PROTECT,
        related_name="purchase_orders",
        verbose_name=pgettext_lazy("b2b", "buyer"),
    )
    terms = models.CharField(_("payment terms"), max_length=8, choices=Terms.choices)
    deposit_amount = models.DecimalField(_("due before shipment"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    delivery_date = models.DateField(_("delivery date"))
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices)
    created_at = models.DateTimeField(_("ordered"), auto_now_add=True)

    class Meta:
        verbose_name = _("B2B order")
        verbose_name_plural = _("B2B orders")
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines", verbose_name=_("B2B order"))
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="+", verbose_name=_("listing"))
    sku = models.ForeignKey(
        "catalog.SKU", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("SKU")
    )
    title = models.CharField(_("title"), max_length=100)
    unit = models.CharField(_("unit"), max_length=10)
    quantity = models.PositiveIntegerField(_("units"))
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    warranty_days = models.PositiveSmallIntegerField(_("warranty (days)"))
    # units shipped so far, and units a claim resolved by replacement still owes (counters moved
    # only by services, under the order's lock)
    shipped = models.PositiveIntegerField(pgettext_lazy("b2b", "shipped"), default=0)
    replacements_due = models.PositiveIntegerField(_("replacements due"), default=0)

    class Meta:
        verbose_name = _("B2B order line")
        verbose_name_plural = _("B2B order lines")
        ordering = ("order", "pk")

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity

    def __str__(self) -> str:
        return self.title

    @property
    def to_ship(self) -> int:
        return self.quantity - min(self.shipped, self.quantity) + self.replacements_due


class Shipment(models.Model):
    """Goods sent on an order (partial allowed), with the carrier's tracking number; the buyer
    confirms receipt. A shipment of ordered units is invoiced (``Invoice``); replacements are not."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments", verbose_name=_("B2B order"))
    carrier = models.CharField(_("carrier"), max_length=50)
    tracking_number = models.CharField(_("tracking number"), max_length=50)
    shipped_at = models.DateTimeField(_("shipped"), auto_now_add=True)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("shipped by")
    )
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )

    class Meta:
        verbose_name = _("B2B shipment")
        verbose_name_plural = _("B2B shipments")
        ordering = ("order", "pk")

    def __str__(self) -> str:
        return self.number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="lines", verbose_name=_("shipment"))
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines", verbose_name=_("line"))
    quantity = models.PositiveIntegerField(_("units"))
    replacement = models.PositiveIntegerField(_("of which replacements"), default=0)

    class Meta:
        verbose_name = _("B2B shipment line")
        verbose_name_plural = _("B2B shipment lines")
        ordering = ("shipment", "pk")


class Invoice(Immutable):
    """The invoice record of a shipment's ordered units: what the buyer owes for them."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("B2B order"))
    shipment = models.OneToOneField(
        Shipment, on_delete=models.PROTECT, related_name="invoice", verbose_name=_("shipment")
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)
    due_date = models.DateField(_("due"))

    class Meta:
        verbose_name = _("B2B invoice")
        verbose_name_plural = _("B2B invoices")
        ordering = ("order", "pk")


class PaymentKind(models.TextChoices):
    RECEIVED = "received", _("Received from the buyer")
    REFUNDED = "refunded", _("Refunded to the buyer")


class Payment(Immutable):
    """Money on an order, recorded by the seller: received, or paid back on a claim."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments", verbose_name=_("B2B order"))
    kind = models.CharField(_("kind"), max_length=10, choices=PaymentKind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    reference = models.CharField(_("bank reference"), max_length=60, blank=True)
    # the one-time token of the form that recorded it: the same form posted twice (a double
    # click) records one payment, with or without a bank reference
    form_token = models.CharField(_("form token"), max_length=64, null=True, blank=True, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    replayed = False  # not stored: True on the payment ``payment_record`` returns for a form posted again

    class Meta:
        verbose_name = _("B2B payment")
        verbose_name_plural = _("B2B payments")
        ordering = ("order", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "form_token"],
                condition=Q(form_token__isnull=False),
                name="b2b_payment_token_per_order",
            )
        ]


class ClaimKind(models.TextChoices):
    QUALITY = "quality", _("Quality problem")
    RETURN = "return", _("Return")


class ClaimStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")
    REJECTED = "rejected", _("Rejected")


class Resolution(models.TextChoices):
    REPLACEMENT = "replacement", _("Replacement")
    REFUND = "refund", _("Refund")
    CREDIT_NOTE = "credit_note", _("Credit note")


class Claim(models.Model):
    """售后: the buyer's return or quality claim on received units of one line, within its warranty."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="claims", verbose_name=_("B2B order"))
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="claims", verbose_name=_("line"))
    kind = models.CharField(_("kind"), max_length=8, choices=ClaimKind.choices)
    quantity = models.PositiveIntegerField(_("units"))
    reason = models.CharField(_("reason"), max_length=500)
    status = models.CharField(_("status"), max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.OPEN)
    resolution = models.CharField(_("resolution"), max_length=12, choices=Resolution.choices, blank=True)
    answer = models.CharField(_("seller's answer"), max_length=500, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by")
    )
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ("-opened_at", "-pk")

    def __str__(self) -> str:
        return self.number


class ClaimPhoto(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="photos", verbose_name=_("claim"))
    file = models.FileField(_("photo"), upload_to="b2b/claims/%Y/%m/")

    class Meta:
        verbose_name = _("claim photo")
        verbose_name_plural = _("claim photos")
        ordering = ("claim", "pk")


class CreditNote(Immutable):
    """An amount taken off what the buyer owes, issued on a claim."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("B2B order"))
    claim = models.OneToOneField(Claim, on_delete=models.PROTECT, related_name="credit_note", verbose_name=_("claim"))
    amount = models.DecimalField(_("amount"), **MONEY)
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by")
    )

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ("order", "pk")

    def __str__(self) -> str:
        return self.number
