"""The car dealer's finance desk (汽车金融, M15).

A 4S dealer sells cars for cash or on a consumer loan. The lenders are of three kinds — the
manufacturer's captive finance company (主机厂金融), banks (银行) and leasing companies (融资租赁) —
and each offers products: a repayment method, the terms it lends for, a nominal annual rate, a
down-payment range, perhaps an interest subsidy (贴息: a lower rate for the customer on some terms,
the difference paid to the lender by the manufacturer or by the dealer), fees, and a commission it
pays the dealer on the amount financed.

A car sale (``CarSale``) is quoted with several products side by side (``FinanceQuote`` and its
``QuoteLine`` snapshots: every figure the customer is shown, computed once by
``autofinance.arithmetic``); the customer reads the quote on a secret link and consents to each
lender's submission (``Consent``: time and channel). A ``LoanApplication`` then moves through
``MOVES`` only in ``autofinance.services`` (one guarded move on the locked row); every move writes
an immutable ``ApplicationStep`` (who, when, from, to, note). Each waiting status has an owner (a
staff role) and an SLA in hours (``StepSLA``, with defaults in ``DEFAULT_SLA_HOURS``).

The dealer's finance income goes to the ledger: the commission accrued at disbursement and
received later, the loan service fee paid by the customer, the manufacturer's finance-penetration
incentive (``PenetrationIncentive``), and the subsidy when the dealer pays it.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from weishang.core import clock
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES
from weishang.ledger.models import Immutable, JournalEntry

ZERO = Decimal("0.00")


def _money(verbose_name, **kw) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kw)


def _pct(verbose_name, **kw) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=7, decimal_places=4, **kw)


def _who(verbose_name):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=verbose_name,
    )


def _entry(verbose_name):
    return models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=verbose_name
    )


def _token() -> str:
    return secrets.token_urlsafe(24)


# --- lenders and products ------------------------------------------------------------------------


class LenderKind(models.TextChoices):
    CAPTIVE = "captive", _("Captive finance company (主机厂金融)")
    BANK = "bank", _("Bank (银行)")
    LEASING = "leasing", _("Leasing company (融资租赁)")


class Lender(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=LenderKind.choices)
    contact = models.CharField(_("contact person"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("lender")
        verbose_name_plural = _("lenders")

    def __str__(self) -> str:
        return self.name


class Method(models.TextChoices):
    EQUAL_INSTALMENT = "equal_instalment", _("Equal instalments (等额本息)")
    EQUAL_PRINCIPAL = "equal_principal", _("Equal principal (等额本金)")
    FLAT = "flat", _("Flat rate (固定费率)")


class SubsidyPayer(models.TextChoices):
    NONE = "", _("No subsidy")
    MANUFACTURER = "manufacturer", _("Manufacturer (主机厂)")
    DEALER = "dealer", _("Dealer (经销商)")


class ServiceFeeKind(models.TextChoices):
    FIXED = "fixed", _("Fixed amount")
    PERCENT = "percent", _("Percent of the amount financed")


class DocumentKind(models.TextChoices):
    ID_CARD = "id_card", _("ID card (身份证)")
    INCOME = "income", _("Income proof (收入证明)")
    BANK_STATEMENT = "bank_statement", _("Bank statements (银行流水)")
    LICENCE = "licence", _("Driving licence (驾驶证)")
    OTHER = "other", _("Other")


class FinanceProduct(models.Model):
    lender = models.ForeignKey(Lender, on_delete=models.PROTECT, related_name="products", verbose_name=_("lender"))
    name = models.CharField(_("name"), max_length=100)
    method = models.CharField(_("repayment method"), max_length=20, choices=Method.choices)
    min_months = models.PositiveSmallIntegerField(_("shortest term (months)"), default=12)
    max_months = models.PositiveSmallIntegerField(_("longest term (months)"), default=60)
    terms = models.CharField(
        _("terms offered (months)"),
        max_length=60,
        blank=True,
        help_text=_("Comma-separated, e.g. 12,24,36; empty: every term from the shortest to the longest."),
    )
    annual_rate = _pct(
        _("nominal annual rate (percent)"), help_text=_("For a flat-rate product: its flat annual rate.")
    )
    down_min_pct = _pct(_("least down payment (percent)"), default=Decimal("20"))
    down_max_pct = _pct(_("most down payment (percent)"), default=Decimal("80"))
    subsidy_rate = _pct(
        _("subsidised customer rate (percent)"),
        null=True,
        blank=True,
        help_text=_("e.g. 0 for an interest-free offer; empty: none."),
    )
    subsidy_terms = models.CharField(
        _("subsidised terms (months)"), max_length=60, blank=True, help_text=_("Comma-separated, e.g. 12 or 36.")
    )
    subsidy_payer = models.CharField(
        _("subsidy paid by"), max_length=12, choices=SubsidyPayer.choices, default=SubsidyPayer.NONE, blank=True
    )
    lender_fee = _money(_("lender's fee"), default=ZERO, help_text=_("A fixed fee the lender charges the customer."))
    service_fee_kind = models.CharField(
        _("loan service fee kind"), max_length=8, choices=ServiceFeeKind.choices, default=ServiceFeeKind.FIXED
    )
    service_fee_value = models.DecimalField(
        _("loan service fee"),
        max_digits=14,
        decimal_places=4,
        default=ZERO,
        help_text=_("The dealer's fee to the customer: yuan, or a percent of the amount financed."),
    )
    commission_pct = _pct(_("commission to the dealer (percent)"), help_text=_("Of the amount financed, 0.5 to 3."))
    required_documents = models.CharField(
        _("required documents"),
        max_length=100,
        default="id_card,income,bank_statement",
        help_text=_("Comma-separated kinds: id_card, income, bank_statement, licence, other."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["lender__name", "name"]
        verbose_name = _("finance product")
        verbose_name_plural = _("finance products")
        constraints = [
            models.UniqueConstraint(fields=["lender", "name"], name="financeproduct_one_name_per_lender"),
            models.CheckConstraint(
                condition=Q(commission_pct__gte=Decimal("0.5"), commission_pct__lte=Decimal("3")),
                name="financeproduct_commission_in_range",
            ),
            models.CheckConstraint(
                condition=Q(down_min_pct__gte=0, down_min_pct__lte=F("down_max_pct"), down_max_pct__lt=100),
                name="financeproduct_down_payment_range",
            ),
            models.CheckConstraint(condition=Q(annual_rate__gte=0), name="financeproduct_rate_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.lender.name} · {self.name}"

    @staticmethod
    def _months(text: str) -> list[int]:
        return sorted({int(part) for part in (text or "").replace("，", ",").split(",") if part.strip().isdigit()})

    @property
    def term_list(self) -> list[int]:
        listed = self._months(self.terms)
        if listed:
            return [m for m in listed if self.min_months <= m <= self.max_months]
        return [m for m in range(self.min_months, self.max_months + 1) if m % 12 == 0]

    @property
    def subsidy_term_list(self) -> list[int]:
        return self._months(self.subsidy_terms) if self.subsidy_rate is not None and self.subsidy_payer else []

    @property
    def document_list(self) -> list[str]:
        return [kind for kind in (self.required_documents or "").split(",") if kind.strip() in DocumentKind.values]


# --- cars, customers, sales ----------------------------------------------------------------------


class Car(models.Model):
    model = models.CharField(_("model"), max_length=60)
    trim = models.CharField(_("trim"), max_length=60, blank=True)
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    price = _money(_("list price"))

    class Meta:
        ordering = ["model", "trim"]
        verbose_name = _("car")
        verbose_name_plural = _("cars")

    def __str__(self) -> str:
        return f"{self.model} {self.trim}".strip()


def mask_id_number(number: str) -> str:
    """An ID number as displays show it: the first 3 and last 4 characters, the rest starred."""
    number = number or ""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20)
    id_number = models.CharField(
        _("ID number"), max_length=18, blank=True, help_text=_("Kept for the lender; shown masked.")
    )
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("finance customer")
        verbose_name_plural = _("finance customers")

    def __str__(self) -> str:
        return f"{self.name} ({self.phone[:3]}****{self.phone[-4:]})" if len(self.phone) >= 7 else self.name

    @property
    def id_masked(self) -> str:
        return mask_id_number(self.id_number)


class Payment(models.TextChoices):
    CASH = "cash", _("Cash (全款)")
    FINANCED = "financed", _("Financed (贷款)")


class CarSale(models.Model):
    number = models.CharField(_("number"), max_length=24, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="sales", verbose_name=_("customer"))
    car = models.ForeignKey(Car, on_delete=models.PROTECT, related_name="sales", verbose_name=_("car"))
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("sales consultant")
    )
    price = _money(_("sale price"))
    payment = models.CharField(_("payment"), max_length=8, choices=Payment.choices, default=Payment.CASH)
    created_at = models.DateTimeField(_("ordered"), default=clock.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("car sale")
        verbose_name_plural = _("car sales")
        constraints = [models.CheckConstraint(condition=Q(price__gt=0), name="carsale_price_positive")]

    def __str__(self) -> str:
        return f"{self.number} · {self.customer.name} · {self.car}"


# --- quotes and consent --------------------------------------------------------------------------


class FinanceQuote(models.Model):
    """Products side by side for one sale; the customer reads it at ``/f/<token>/``."""

    sale = models.ForeignKey(CarSale, on_delete=models.CASCADE, related_name="quotes", verbose_name=_("car sale"))
    token = models.CharField(_("link token"), max_length=64, unique=True, default=_token, editable=False)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    created_by = _who(_("created by"))

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("finance quote")
        verbose_name_plural = _("finance quotes")

    def __str__(self) -> str:
        return f"{self.sale.number} · #{self.pk}"


class QuoteLine(models.Model):
    """One product's figures for the sale, as computed when quoted (a snapshot: a later change of
    the product does not change what the customer was shown)."""

    quote = models.ForeignKey(FinanceQuote, on_delete=models.CASCADE, related_name="lines", verbose_name=_("quote"))
    product = models.ForeignKey(FinanceProduct, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    lender_name = models.CharField(_("lender"), max_length=100)
    product_name = models.CharField(_("product"), max_length=100)
    method = models.CharField(_("repayment method"), max_length=20, choices=Method.choices)
    price = _money(_("car price"))
    down_payment = _money(_("down payment"))
    amount_financed = _money(_("amount financed"))
    months = models.PositiveSmallIntegerField(_("months"))
    customer_rate = _pct(_("customer's annual rate (percent)"))
    lender_rate = _pct(_("lender's annual rate (percent)"))
    monthly_payment = _money(_("first monthly payment"))
    total_interest = _money(_("total interest"))
    lender_fee = _money(_("lender's fee"))
    service_fee = _money(_("loan service fee"))
    total_cost = _money(_("total cost of credit"))
    total_paid = _money(_("total paid"))
    apr = _pct(_("APR incl. fees (percent)"))
    subsidy_cost = _money(_("subsidy"), default=ZERO)
    subsidy_payer = models.CharField(
        _("subsidy paid by"), max_length=12, choices=SubsidyPayer.choices, default=SubsidyPayer.NONE, blank=True
    )
    commission = _money(_("commission to the dealer"))
    schedule = models.JSONField(_("schedule"), default=dict)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")

    def __str__(self) -> str:
        return f"{self.lender_name} · {self.product_name} · {self.months}"


class ConsentChannel(models.TextChoices):
    SIGNATURE = "signature", _("Signed in person (当面签字)")
    SMS = "sms", _("SMS code (短信验证码)")
    WECHAT = "wechat", _("WeChat (微信)")
    LINK = "link", _("Quote link (报价链接)")


class Consent(Immutable):
    """The customer's consent that the dealer submit their application to ``lender``: when and how."""

    sale = models.ForeignKey(CarSale, on_delete=models.PROTECT, related_name="consents", verbose_name=_("car sale"))
    lender = models.ForeignKey(Lender, on_delete=models.PROTECT, related_name="+", verbose_name=_("lender"))
    channel = models.CharField(_("channel"), max_length=10, choices=ConsentChannel.choices)
    given_at = models.DateTimeField(_("given"), default=clock.now)
    reference = models.CharField(_("reference"), max_length=100, blank=True, help_text=_("The SMS code's id, …"))
    recorded_by = _who(_("recorded by"))

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("customer consent")
        verbose_name_plural = _("customer consents")

    def __str__(self) -> str:
        return f"{self.sale.number} → {self.lender.name} ({self.get_channel_display()})"


# --- applications --------------------------------------------------------------------------------


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted to the lender")
    APPROVED = "approved", _("Approved")
    CONDITIONAL = "conditional", _("Approved with conditions")
    DECLINED = "declined", _("Declined")
    SIGNED = "signed", _("Contract signed")
    DISBURSED = "disbursed", _("Disbursed to the dealer")
    FUNDED = "funded", _("Funds confirmed")
    DELIVERED = "delivered", _("Car delivered")
    REGISTERED = "registered", _("Registration and lien done (上牌抵押)")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


S = Status
# move -> (from statuses, to status, the permission it needs)
PROCESS = "autofinance.process_loanapplication"  # the finance manager's steps
FUNDS = "autofinance.confirm_funds"  # the dealer's finance (财务)
DELIVER = "autofinance.deliver_car"  # the consultant hands the car over
MOVES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "submit": ((S.DRAFT,), S.SUBMITTED, PROCESS),
    "approve": ((S.SUBMITTED,), S.APPROVED, PROCESS),
    "approve_conditions": ((S.SUBMITTED,), S.CONDITIONAL, PROCESS),
    "decline": ((S.SUBMITTED,), S.DECLINED, PROCESS),
    "sign": ((S.APPROVED, S.CONDITIONAL), S.SIGNED, PROCESS),
    "disburse": ((S.SIGNED,), S.DISBURSED, PROCESS),
    "confirm_funds": ((S.DISBURSED,), S.FUNDED, FUNDS),
    "deliver": ((S.FUNDED,), S.DELIVERED, DELIVER),
    "register": ((S.DELIVERED,), S.REGISTERED, PROCESS),
    "close": ((S.REGISTERED,), S.CLOSED, PROCESS),
    "cancel": ((S.DRAFT, S.SUBMITTED, S.APPROVED, S.CONDITIONAL), S.CANCELLED, PROCESS),
}
# A waiting status -> the role that owns its next step.
OWNERS: dict[str, str] = {
    S.DRAFT: "sales_consultant",
    S.SUBMITTED: "finance_manager",
    S.APPROVED: "finance_manager",
    S.CONDITIONAL: "finance_manager",
    S.SIGNED: "finance_manager",
    S.DISBURSED: "finance",
    S.FUNDED: "sales_consultant",
    S.DELIVERED: "finance_manager",
    S.REGISTERED: "finance_manager",
}
DEFAULT_SLA_HOURS: dict[str, int] = {
    S.DRAFT: 48,
    S.SUBMITTED: 24,
    S.APPROVED: 72,
    S.CONDITIONAL: 72,
    S.SIGNED: 48,
    S.DISBURSED: 24,
    S.FUNDED: 72,
    S.DELIVERED: 240,
    S.REGISTERED: 48,
}
ENDED = (S.DECLINED, S.CLOSED, S.CANCELLED)
FUNDED_STATUSES = (S.DISBURSED, S.FUNDED, S.DELIVERED, S.REGISTERED, S.CLOSED)  # the commission is accrued


class StepSLA(models.Model):
    """How many hours a waiting status may last before the application is overdue."""

    status = models.CharField(_("status"), max_length=12, choices=Status.choices, unique=True)
    hours = models.PositiveIntegerField(_("hours"))

    class Meta:
        ordering = ["status"]
        verbose_name = _("step SLA")
        verbose_name_plural = _("step SLAs")

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.hours} h"


class LoanApplication(models.Model):
    number = models.CharField(_("number"), max_length=24, unique=True)
    sale = models.ForeignKey(CarSale, on_delete=models.PROTECT, related_name="applications", verbose_name=_("car sale"))
    line = models.ForeignKey(
        QuoteLine, on_delete=models.PROTECT, related_name="applications", verbose_name=_("quoted terms")
    )
    product = models.ForeignKey(FinanceProduct, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    lender = models.ForeignKey(Lender, on_delete=models.PROTECT, related_name="applications", verbose_name=_("lender"))
    amount_financed = _money(_("amount financed"))
    months = models.PositiveSmallIntegerField(_("months"))
    commission = _money(_("commission to the dealer"))
    service_fee = _money(_("loan service fee"))
    subsidy_cost = _money(_("subsidy"), default=ZERO)
    subsidy_payer = models.CharField(
        _("subsidy paid by"), max_length=12, choices=SubsidyPayer.choices, default=SubsidyPayer.NONE, blank=True
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    status_since = models.DateTimeField(_("in this status since"), default=clock.now)
    consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("consent")
    )
    conditions = models.TextField(_("lender's conditions"), blank=True)
    decline_reasons = models.TextField(_("reasons declined"), blank=True)
    contract_number = models.CharField(_("loan contract number"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    created_by = _who(_("created by"))
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    disbursed_at = models.DateTimeField(_("disbursed"), null=True, blank=True)
    signed_at = models.DateTimeField(_("contract signed"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    commission_entry = _entry(_("commission accrued"))
    commission_received_entry = _entry(_("commission received"))
    service_fee_entry = _entry(_("service fee received"))
    subsidy_entry = _entry(_("subsidy paid"))

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("loan application")
        verbose_name_plural = _("loan applications")
        permissions = [
            ("process_loanapplication", _("Can take a loan application's finance steps")),
            ("confirm_funds", _("Can confirm a lender's funds and commission received")),
            ("deliver_car", _("Can hand over a financed car")),
            ("view_finance_report", _("Can see the finance desk's reports")),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.lender.name}"


class ApplicationStep(Immutable):
    """A move of an application (the audit): who, when, from, to, note."""

    application = models.ForeignKey(
        LoanApplication, on_delete=models.PROTECT, related_name="steps", verbose_name=_("loan application")
    )
    move = models.CharField(_("step"), max_length=20)
    from_status = models.CharField(_("from"), max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=Status.choices)
    by = _who(_("by"))
    at = models.DateTimeField(_("at"), default=clock.now)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("application step")
        verbose_name_plural = _("application steps")

    def __str__(self) -> str:
        return f"{self.application.number}: {self.from_status or '—'} → {self.to_status}"


class LoanDocument(models.Model):
    application = models.ForeignKey(
        LoanApplication, on_delete=models.PROTECT, related_name="documents", verbose_name=_("loan application")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=DocumentKind.choices)
    file = models.FileField(
        _("file"),
        upload_to="autofinance/documents/%Y/%m/",
        help_text=_("A picture or a PDF, checked from the file; shown only to staff who may see the application."),
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=clock.now)
    uploaded_by = _who(_("uploaded by"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("loan document")
        verbose_name_plural = _("loan documents")

    def __str__(self) -> str:
        return f"{self.application.number} · {self.get_kind_display()}"


class PenetrationIncentive(models.Model):
    """The manufacturer's incentive for a month's finance penetration: when the share of delivered
    cars that were financed reaches ``threshold_pct``, ``per_car`` for each financed car delivered."""

    month = models.CharField(_("month"), max_length=7, unique=True, help_text="YYYY-MM")
    threshold_pct = _pct(_("penetration needed (percent)"))
    per_car = _money(_("per financed car"))
    cars = models.PositiveIntegerField(_("cars delivered"))
    financed = models.PositiveIntegerField(_("financed cars delivered"))
    amount = _money(_("incentive"))
    entry = _entry(_("accrued"))
    received_entry = _entry(_("received"))
    created_at = models.DateTimeField(_("created"), default=clock.now)
    created_by = _who(_("created by"))

    class Meta:
        ordering = ["-month"]
        verbose_name = _("penetration incentive")
        verbose_name_plural = _("penetration incentives")

    def __str__(self) -> str:
        return f"{self.month}: ¥{self.amount}"
