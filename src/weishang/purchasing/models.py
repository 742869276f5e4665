"""Purchasing (进货管理): suppliers and what they supply, purchase orders, receipts with quality
inspection, supplier bills matched against what was received, and their payments.

A purchase order moves draft → sent → confirmed → partially received → received → closed, or is
cancelled before anything arrives (``PO_MOVES``, taken by ``purchasing.services`` with a guarded
update: two clerks cannot move one order twice). Receiving records, per line, the units accepted and
rejected at inspection with the reason; only accepted units enter the warehouse (a stock move at the
order's unit price, which the inventory's valuation posts against goods received not billed), and
the receipt's freight and duties are spread onto the accepted lines by value as landed costs. A
supplier's bill is matched line by line against what was accepted and not yet billed at the order's
price (three-way match: order, receipt, bill) and posted as goods received not billed against
payables; payments settle it from brand cash.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from weishang.catalog.models import SKU
from weishang.core import clock
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES
from weishang.ledger.models import JournalEntry
from weishang.trade.models import Location

ZERO = Decimal("0.00")


def _money(verbose_name, **kw) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kw)


def _who(verbose_name):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=verbose_name,
    )


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    contact = models.CharField(_("contact person"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    payment_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, help_text=_("Days from the bill to its due date; 0 = on receipt.")
    )
    terms = models.CharField(_("other terms"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("supplier company")
        verbose_name_plural = _("supplier companies")

    def __str__(self) -> str:
        return self.name


class SupplierPrice(models.Model):
    """What a supplier charges for a SKU, how long it takes and the least it sells; its changes are
    kept (the supplier's price history)."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="prices", verbose_name=_("supplier company")
    )
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    unit_price = _money(_("unit price"))
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=7)
    min_quantity = models.PositiveIntegerField(_("minimum order quantity"), default=1)
    history = HistoricalRecords(excluded_fields=["supplier", "sku"])

    class Meta:
        ordering = ["supplier", "sku"]
        verbose_name = _("supplier price")
        verbose_name_plural = _("supplier prices")
        constraints = [
            models.UniqueConstraint(fields=["supplier", "sku"], name="supplierprice_one_per_sku"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="supplierprice_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} · {self.sku.code}: ¥{self.unit_price}"


class POStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent to the supplier")
    CONFIRMED = "confirmed", _("Confirmed by the supplier")
    PARTIAL = "partial", _("Partially received")
    RECEIVED = "received", _("Received")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


S = POStatus
# move name -> (from statuses, to status); receiving moves confirmed/partial to partial/received.
PO_MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "send": ((S.DRAFT,), S.SENT),
    "confirm": ((S.SENT,), S.CONFIRMED),
    "cancel": ((S.DRAFT, S.SENT, S.CONFIRMED), S.CANCELLED),
    "close": ((S.PARTIAL, S.RECEIVED), S.CLOSED),
}
OPEN_STATUSES = (S.SENT, S.CONFIRMED, S.PARTIAL)  # units on order (reorder proposals count them)


class PurchaseOrder(models.Model):
    number = models.CharField(_("number"), max_length=24, unique=True)
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="orders", verbose_name=_("supplier company")
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("deliver to"),
        limit_choices_to={"kind": "warehouse"},
    )
    status = models.CharField(_("status"), max_length=10, choices=POStatus.choices, default=POStatus.DRAFT)
    expected_date = models.DateField(_("expected by"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    created_by = _who(_("created by"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    received_at = models.DateTimeField(_("fully received"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        permissions = [("receive_purchaseorder", _("Can receive a purchase order's goods"))]

    def __str__(self) -> str:
        return self.number

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines.all()), ZERO)


class PurchaseLine(models.Model):
    order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("purchase order")
    )
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    quantity = models.PositiveIntegerField(_("units ordered"))
    unit_price = _money(_("unit price"))
    accepted = models.PositiveIntegerField(_("units accepted"), default=0)
    rejected = models.PositiveIntegerField(_("units rejected"), default=0)
    billed = models.PositiveIntegerField(_("units billed"), default=0)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="purchaseline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="purchaseline_price_not_negative"),
            models.CheckConstraint(condition=Q(accepted__lte=F("quantity")), name="purchaseline_accepted_not_over"),
            models.CheckConstraint(condition=Q(billed__lte=F("accepted")), name="purchaseline_billed_not_over"),
        ]

    def __str__(self) -> str:
        return f"{self.order} · {self.sku.code} × {self.quantity}"

    @property
    def amount(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(Decimal("0.01"))

    @property
    def unbilled(self) -> int:
        """Units accepted that the supplier has not billed yet."""
        return max(0, self.accepted - self.billed)

    @property
    def outstanding(self) -> int:
        """Units still to come: ordered, less accepted (rejected units are to be replaced)."""
        return max(0, self.quantity - self.accepted)


class Receipt(models.Model):
    number = models.CharField(_("number"), max_length=24, unique=True)
    order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("purchase order")
    )
    received_at = models.DateTimeField(_("received"), default=clock.now)
    received_by = _who(_("received by"))
    freight = _money(_("freight"), default=ZERO)
    duties = _money(_("duties"), default=ZERO)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")

    def __str__(self) -> str:
        return self.number


class ReceiptLine(models.Model):
    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines", verbose_name=_("receipt"))
    line = models.ForeignKey(
        PurchaseLine, on_delete=models.PROTECT, related_name="receipt_lines", verbose_name=_("line")
    )
    accepted = models.PositiveIntegerField(_("units accepted"))
    rejected = models.PositiveIntegerField(_("units rejected"), default=0)
    reason = models.CharField(_("why rejected"), max_length=200, blank=True)
    photo = models.FileField(
        _("inspection photo"),
        upload_to="purchasing/inspection/%Y/%m/",
        blank=True,
        help_text=_("Checked from the file; shown only to staff who may see the order."),
    )
    landed_cost = _money(_("landed cost"), default=ZERO)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")

    def __str__(self) -> str:
        return f"{self.receipt} · {self.line.sku.code}: +{self.accepted} / ✗{self.rejected}"


class BillStatus(models.TextChoices):
    POSTED = "posted", _("To pay")
    PARTIAL = "partial", _("Partially paid")
    PAID = "paid", _("Paid")


class SupplierBill(models.Model):
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="bills", verbose_name=_("supplier company")
    )
    order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="bills", verbose_name=_("purchase order")
    )
    number = models.CharField(_("supplier's invoice number"), max_length=40)
    bill_date = models.DateField(_("bill date"))
    due_date = models.DateField(_("due"))
    total = _money(_("total"))
    paid = _money(_("paid"), default=ZERO)
    status = models.CharField(_("status"), max_length=10, choices=BillStatus.choices, default=BillStatus.POSTED)
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="+", verbose_name=_("journal entry"))
    created_at = models.DateTimeField(_("entered"), default=clock.now)
    created_by = _who(_("entered by"))

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("supplier bill")
        verbose_name_plural = _("supplier bills")
        permissions = [("pay_supplierbill", _("Can pay a supplier's bill"))]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "number"], name="supplierbill_number_once"),
            models.CheckConstraint(condition=Q(paid__lte=F("total")) & Q(paid__gte=0), name="supplierbill_paid_within"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} {self.number}"

    @property
    def balance(self) -> Decimal:
        return self.total - self.paid


class BillLine(models.Model):
    bill = models.ForeignKey(
        SupplierBill, on_delete=models.CASCADE, related_name="lines", verbose_name=_("supplier bill")
    )
    line = models.ForeignKey(PurchaseLine, on_delete=models.PROTECT, related_name="bill_lines", verbose_name=_("line"))
    quantity = models.PositiveIntegerField(_("units billed"))
    unit_price = _money(_("unit price"))
    amount = _money(_("amount"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("bill line")
        verbose_name_plural = _("bill lines")


class SupplierPayment(models.Model):
    bill = models.ForeignKey(
        SupplierBill, on_delete=models.PROTECT, related_name="payments", verbose_name=_("supplier bill")
    )
    amount = _money(_("amount"))
    paid_at = models.DateTimeField(_("paid"), default=clock.now)
    reference = models.CharField(_("bank reference"), max_length=60, blank=True)
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="+", verbose_name=_("journal entry"))
    paid_by = _who(_("paid by"))

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("supplier payment")
        verbose_name_plural = _("supplier payments")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="supplierpayment_positive")]

    def __str__(self) -> str:
        return f"{self.bill} ¥{self.amount}"
