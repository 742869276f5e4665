"""The finance desk's services (see ``autofinance.models``): lenders and products, sales, quotes,
the customer's consent, the application's moves with their step log, documents, the dealer's
finance income in the ledger, and ``autofinance_verify``.

Who may take a step is the move's permission (``models.MOVES``); the console checks it before it
calls, and the services check it again when given the acting user (``by``), so no face can skip it.

Ledger postings (debit +, credit −; all brand accounts):

- at disbursement: finance commission receivable / finance commission income, the commission;
  and when the dealer pays a subsidy: interest subsidy expense / brand cash, the subsidy;
- at the contract's signing: brand cash / loan service fee income, the customer's service fee;
- when the lender pays the commission: brand cash / finance commission receivable;
- a month's penetration incentive: incentive receivable / incentive income; received: cash / receivable.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from weishang.autofinance import arithmetic
from weishang.autofinance.models import (
    DEFAULT_SLA_HOURS,
    FUNDED_STATUSES,
    MOVES,
    ZERO,
    ApplicationStep,
    Car,
    CarSale,
    Consent,
    ConsentChannel,
    Customer,
    DocumentKind,
    FinanceProduct,
    FinanceQuote,
    Lender,
    LenderKind,
    LoanApplication,
    LoanDocument,
    Method,
    Payment,
    PenetrationIncentive,
    QuoteLine,
    ServiceFeeKind,
    Status,
    StepSLA,
    SubsidyPayer,
)
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.files import check_document
from weishang.core.money import amount_input
from weishang.ledger import services as ledger
from weishang.ledger.models import Purpose

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_MONEY = Decimal("100000000")
MAX_QUOTE_LINES = 6


def _number(prefix: str) -> str:
    return f"{prefix}{clock.localtime():%Y%m%d}{secrets.token_hex(3).upper()}"


def _pct(value, *, field: str, low: Decimal = Decimal(0), high: Decimal = Decimal(100)) -> Decimal:
    wrong = BusinessError(_("Enter a percentage from %(low)s to %(high)s.") % {"low": low, "high": high}, field=field)
    if isinstance(value, float | bool) or value is None:
        raise wrong
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (ArithmeticError, ValueError):
        raise wrong from None
    if not number.is_finite() or number < low or number > high or number != number.quantize(Decimal("0.0001")):
        raise wrong
    return number


def _months(value, *, field: str = "months") -> int:
    try:
        months = int(str(value).strip())
    except (ValueError, TypeError):
        months = 0
    if not 1 <= months <= 120:
        raise BusinessError(_("Enter a term of 1 to 120 months."), field=field)
    return months


def _text(value, limit: int) -> str:
    return (str(value or "")).strip()[:limit]


def _require(by, perm: str) -> None:
    """``by`` (when given) must hold ``perm``: the services' own check behind the console's."""
    if by is not None and not by.has_perm(perm):
        raise Forbidden(_("You may not take this step."), field="by")


# --- lenders and products ------------------------------------------------------------------------


@transaction.atomic
def lender_save(*, lender: Lender | None = None, name: str, kind: str, contact: str = "", phone: str = "", active=True):
    name = _text(name, 100)
    if not name:
        raise BusinessError(_("Give the lender a name."), field="name")
    if kind not in LenderKind.values:
        raise BusinessError(_("Choose the lender's kind."), field="kind")
    others = Lender.objects.filter(name=name)
    if lender is not None:
        others = others.exclude(pk=lender.pk)
    if others.exists():
        raise BusinessError(_("There is a lender of that name already."), field="name")
    lender = lender or Lender()
    lender.name, lender.kind = name, kind
    lender.contact, lender.phone, lender.active = _text(contact, 50), _text(phone, 20), bool(active)
    lender.save()
    return lender


def _month_list(text: str, *, field: str) -> str:
    parts = [p.strip() for p in (text or "").replace("，", ",").split(",") if p.strip()]
    months = []
    for part in parts:
        months.append(_months(part, field=field))
    return ",".join(str(m) for m in sorted(set(months)))


@transaction.atomic
def product_save(
    *,
    product: FinanceProduct | None = None,
    lender: Lender,
    name: str,
    method: str,
    annual_rate,
    commission_pct,
    min_months=12,
    max_months=60,
    terms: str = "",
    down_min_pct=Decimal(20),
    down_max_pct=Decimal(80),
    subsidy_rate=None,
    subsidy_terms: str = "",
    subsidy_payer: str = "",
    lender_fee=ZERO,
    service_fee_kind: str = ServiceFeeKind.FIXED,
    service_fee_value=ZERO,
    required_documents: str = "id_card,income,bank_statement",
    active=True,
) -> FinanceProduct:
    """Save a product after checking every figure (a product quoted wrong is a customer misled)."""
    name = _text(name, 100)
    if not name:
        raise BusinessError(_("Give the product a name."), field="name")
    if method not in Method.values:
        raise BusinessError(_("Choose a repayment method."), field="method")
    low, high = _months(min_months, field="min_months"), _months(max_months, field="max_months")
    if low > high:
        raise BusinessError(_("The shortest term is longer than the longest."), field="min_months")
    down_low = _pct(down_min_pct, field="down_min_pct", high=Decimal("99"))
    down_high = _pct(down_max_pct, field="down_max_pct", high=Decimal("99"))
    if down_low > down_high:
        raise BusinessError(_("The least down payment is more than the most."), field="down_min_pct")
    rate = _pct(annual_rate, field="annual_rate", high=Decimal(36))
    commission = _pct(commission_pct, field="commission_pct", low=Decimal("0.5"), high=Decimal(3))
    payer = subsidy_payer or ""
    if payer not in SubsidyPayer.values:
        raise BusinessError(_("Choose who pays the subsidy."), field="subsidy_payer")
    sub_rate = None
    sub_terms = ""
    if payer:
        if subsidy_rate is None or str(subsidy_rate).strip() == "":
            raise BusinessError(_("A subsidy needs the customer's rate."), field="subsidy_rate")
        sub_rate = _pct(subsidy_rate, field="subsidy_rate", high=rate)
        sub_terms = _month_list(subsidy_terms, field="subsidy_terms")
        if not sub_terms:
            raise BusinessError(_("Name the terms the subsidy applies to."), field="subsidy_terms")
    if service_fee_kind not in ServiceFeeKind.values:
        raise BusinessError(_("Choose the kind of loan service fee."), field="service_fee_kind")
    if service_fee_kind == ServiceFeeKind.PERCENT:
        fee_value = _pct(service_fee_value, field="service_fee_value", high=Decimal(10))
    else:
        fee_value = amount_input(service_fee_value, field="service_fee_value", maximum=Decimal(100000))
    docs = [d.strip() for d in (required_documents or "").split(",") if d.strip()]
    if any(d not in DocumentKind.values for d in docs):
        raise BusinessError(_("Unknown document kind."), field="required_documents")
    product = product or FinanceProduct()
    others = FinanceProduct.objects.filter(lender=lender, name=name)
    if product.pk:
        others = others.exclude(pk=product.pk)
    if others.exists():
        raise BusinessError(_("This lender has a product of that name already."), field="name")
    product.lender, product.name, product.method = lender, name, method
    product.min_months, product.max_months, product.terms = low, high, _month_list(terms, field="terms")
    product.annual_rate, product.commission_pct = rate, commission
    product.down_min_pct, product.down_max_pct = down_low, down_high
    product.subsidy_rate, product.subsidy_terms, product.subsidy_payer = sub_rate, sub_terms, payer
    product.lender_fee = amount_input(lender_fee, field="lender_fee", maximum=Decimal(100000))
    product.service_fee_kind, product.service_fee_value = service_fee_kind, fee_value
    product.required_documents = ",".join(dict.fromkeys(docs))
    product.active = bool(active)
    if not product.term_list:
        raise BusinessError(_("The product offers no term between its shortest and longest."), field="terms")
    product.save()
    return product


# --- cars, customers and sales -------------------------------------------------------------------


@transaction.atomic
def car_save(*, car: Car | None = None, model: str, trim: str = "", vin: str = "", price) -> Car:
    model = _text(model, 60)
    if not model:
        raise BusinessError(_("Name the car's model."), field="model")
    vin = _text(vin, 17).upper()
    if vin and (len(vin) != 17 or not vin.isalnum() or set(vin) & set("IOQ")):
        raise BusinessError(_("A VIN is 17 letters and digits (no I, O or Q)."), field="vin")
    car = car or Car()
    car.model, car.trim, car.vin = model, _text(trim, 60), vin
    car.price = amount_input(price, field="price", maximum=MAX_MONEY, positive=True)
    car.save()
    return car


def _id_number(value: str) -> str:
    number = _text(value, 18).upper()
    if number and not (len(number) == 18 and number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        raise BusinessError(_("An ID number is 17 digits and a digit or X."), field="id_number")
    return number


@transaction.atomic
def customer_save(*, customer: Customer | None = None, name: str, phone: str, id_number: str = "") -> Customer:
    name, phone = _text(name, 50), _text(phone, 20)
    if not name:
        raise BusinessError(_("Enter the customer's name."), field="name")
    if not (phone.isdigit() and len(phone) == 11 and phone.startswith("1")):
        raise BusinessError(_("Enter an 11-digit mobile number."), field="phone")
    customer = customer or Customer()
    customer.name, customer.phone, customer.id_number = name, phone, _id_number(id_number)
    customer.save()
    return customer


@transaction.atomic
def sale_create(*, customer: Customer, car: Car, consultant, price=None, payment: str = Payment.CASH) -> CarSale:
    """An order for ``car`` by ``customer``, sold by ``consultant`` (a staff user) at ``price``
    (the list price when empty), for cash or on a loan."""
    if consultant is None or not consultant.is_staff or not consultant.is_active:
        raise BusinessError(_("Choose the sales consultant: a staff member."), field="consultant")
    if payment not in Payment.values:
        raise BusinessError(_("Choose cash or financed."), field="payment")
    amount = car.price if price is None or str(price).strip() == "" else price
    amount = amount_input(amount, field="price", maximum=MAX_MONEY, positive=True)
    return CarSale.objects.create(
        number=_number("CS"), customer=customer, car=car, consultant=consultant, price=amount, payment=payment
    )


@transaction.atomic
def sale_deliver(*, sale: CarSale, by=None) -> CarSale:
    """Hand over a car sold for cash (a financed car is delivered by its application's step)."""
    from weishang.autofinance.models import DELIVER

    _require(by, DELIVER)
    sale = CarSale.objects.select_for_update().get(pk=sale.pk)
    if sale.delivered_at is not None:
        raise Conflict(_("This car was delivered already."), field="sale")
    if sale.payment != Payment.CASH:
        raise BusinessError(_("A financed car is delivered from its loan application."), field="sale")
    sale.delivered_at = clock.now()
    sale.save(update_fields=["delivered_at"])
    return sale


# --- quotes ----------------------------------------------------------------------------------------


def service_fee_of(product: FinanceProduct, amount_financed: Decimal) -> Decimal:
    """The dealer's loan service fee: fixed, or a percent of the amount financed to the fen (half up)."""
    if product.service_fee_kind == ServiceFeeKind.PERCENT:
        return (amount_financed * product.service_fee_value / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    return product.service_fee_value.quantize(CENT)


def commission_of(product: FinanceProduct, amount_financed: Decimal) -> Decimal:
    return (amount_financed * product.commission_pct / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Terms:
    product: FinanceProduct
    down_payment: object
    months: object


def quote_line_figures(*, product: FinanceProduct, price: Decimal, down_payment, months) -> dict:
    """Every figure of one product for a car at ``price``: checked against the product's terms and
    computed by ``autofinance.arithmetic`` (the fees inside the APR)."""
    if not product.active or not product.lender.active:
        raise BusinessError(_("%(product)s is not offered now.") % {"product": product}, field="product")
    down = amount_input(down_payment, field="down_payment", maximum=MAX_MONEY)
    months = _months(months)
    if months not in product.term_list:
        raise BusinessError(
            _("%(product)s lends for %(terms)s months.")
            % {"product": product, "terms": "/".join(str(m) for m in product.term_list)},
            field="months",
        )
    low = (price * product.down_min_pct / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    high = (price * product.down_max_pct / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    if not low <= down <= high:
        raise BusinessError(
            _("%(product)s: the down payment is from ¥%(low)s to ¥%(high)s.")
            % {"product": product, "low": low, "high": high},
            field="down_payment",
        )
    financed = price - down
    if financed <= 0:
        raise BusinessError(_("Nothing is left to finance."), field="down_payment")
    subsidised = months in product.subsidy_term_list
    lender_rate = product.annual_rate
    customer_rate = product.subsidy_rate if subsidised and product.subsidy_rate is not None else lender_rate
    lender_fee = product.lender_fee
    service_fee = service_fee_of(product, financed)
    try:
        plan = arithmetic.schedule(
            principal=financed,
            months=months,
            annual_rate=customer_rate,
            method=product.method,
            fees=lender_fee + service_fee,
        )
        subsidy = ZERO
        if subsidised and customer_rate < lender_rate:
            subsidy = arithmetic.subsidy_cost(
                principal=financed,
                months=months,
                customer_rate=customer_rate,
                lender_rate=lender_rate,
                method=product.method,
            )
    except arithmetic.LoanTermsError as exc:
        raise BusinessError(exc.text(get_language()), field="months") from None
    return {
        "product": product,
        "lender_name": product.lender.name,
        "product_name": product.name,
        "method": product.method,
        "price": price,
        "down_payment": down,
        "amount_financed": financed,
        "months": months,
        "customer_rate": customer_rate,
        "lender_rate": lender_rate,
        "monthly_payment": plan.first_payment,
        "total_interest": plan.total_interest,
        "lender_fee": lender_fee,
        "service_fee": service_fee,
        "total_cost": plan.total_interest + lender_fee + service_fee,
        "total_paid": down + plan.total_paid + lender_fee + service_fee,
        "apr": Decimal(plan.apr).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP),
        "subsidy_cost": subsidy,
        "subsidy_payer": product.subsidy_payer if subsidy > 0 else "",
        "commission": commission_of(product, financed),
        "schedule": plan.as_dict(),
    }


@transaction.atomic
def quote_create(*, sale: CarSale, lines: list[Terms], by=None) -> FinanceQuote:
    """A quote of several products side by side for ``sale`` (each line a snapshot of its figures)."""
    _require(by, "autofinance.add_financequote")
    if not lines:
        raise BusinessError(_("Choose at least one product to quote."), field="lines")
    if len(lines) > MAX_QUOTE_LINES:
        raise BusinessError(_("Quote at most six products at once."), field="lines")
    if sale.delivered_at is not None:
        raise BusinessError(_("This car was delivered already."), field="sale")
    figures = [
        quote_line_figures(product=t.product, price=sale.price, down_payment=t.down_payment, months=t.months)
        for t in lines
    ]
    quote = FinanceQuote.objects.create(sale=sale, created_by=by)
    QuoteLine.objects.bulk_create([QuoteLine(quote=quote, **f) for f in figures])
    return quote


# --- consent ---------------------------------------------------------------------------------------


@transaction.atomic
def consent_record(*, sale: CarSale, lender: Lender, channel: str, reference: str = "", by=None) -> Consent:
    """The customer's consent that their application go to ``lender``: its time and channel. Staff
    record a signature, an SMS code or a WeChat confirmation; the customer's own link records "link"."""
    if channel not in ConsentChannel.values:
        raise BusinessError(_("Choose how the customer consented."), field="channel")
    if by is not None:
        _require(by, "autofinance.add_loanapplication")
    if channel in (ConsentChannel.SMS, ConsentChannel.WECHAT) and not _text(reference, 100):
        raise BusinessError(_("Enter the SMS code's or the WeChat message's reference."), field="reference")
    return Consent.objects.create(
        sale=sale, lender=lender, channel=channel, reference=_text(reference, 100), recorded_by=by
    )


def consent_for(application: LoanApplication) -> Consent | None:
    """The customer's latest consent to the application's lender, if any."""
    return Consent.objects.filter(sale_id=application.sale_id, lender_id=application.lender_id).order_by("-pk").first()


@transaction.atomic
def quote_consent(*, token: str, line_id, channel: str = ConsentChannel.LINK) -> tuple[QuoteLine, Consent]:
    """The customer's consent from the quote's link (no login): the link's secret names the quote,
    ``line_id`` one of its lines; the lender of that line is consented to."""
    quote = FinanceQuote.objects.filter(token=str(token or "")[:64]).first()
    if quote is None or not token:
        raise BusinessError(_("This link is not valid."), field="token")
    try:
        pk = int(str(line_id))
    except (ValueError, TypeError):
        pk = 0
    line = quote.lines.select_related("product__lender").filter(pk=pk).first()
    if line is None:
        raise BusinessError(_("Choose one of the quoted loans."), field="line")
    consent = consent_record(sale=quote.sale, lender=line.product.lender, channel=ConsentChannel.LINK)
    return line, consent


# --- applications ----------------------------------------------------------------------------------


@transaction.atomic
def application_create(*, line: QuoteLine, by=None) -> LoanApplication:
    """A draft application for the quoted terms of ``line``; the sale becomes a financed one."""
    _require(by, "autofinance.add_loanapplication")
    sale = CarSale.objects.select_for_update().get(pk=line.quote.sale_id)
    if sale.delivered_at is not None:
        raise BusinessError(_("This car was delivered already."), field="sale")
    if sale.applications.exclude(status__in=(Status.DECLINED, Status.CANCELLED)).exists():
        raise Conflict(_("This sale has a loan application in progress already."), field="line")
    application = LoanApplication.objects.create(
        number=_number("LA"),
        sale=sale,
        line=line,
        product=line.product,
        lender=line.product.lender,
        amount_financed=line.amount_financed,
        months=line.months,
        commission=line.commission,
        service_fee=line.service_fee,
        subsidy_cost=line.subsidy_cost,
        subsidy_payer=line.subsidy_payer,
        created_by=by,
    )
    ApplicationStep.objects.create(application=application, move="create", to_status=Status.DRAFT, by=by)
    if sale.payment != Payment.FINANCED:
        sale.payment = Payment.FINANCED
        sale.save(update_fields=["payment"])
    return application


@transaction.atomic
def document_add(*, application: LoanApplication, kind: str, upload: UploadedFile | None, by=None) -> LoanDocument:
    """A document for the lender (ID, income proof, bank statements…): a picture or a PDF, checked
    from its bytes (``core.files.check_document``), kept private."""
    _require(by, "autofinance.add_loanapplication")
    if kind not in DocumentKind.values:
        raise BusinessError(_("Choose the document's kind."), field="kind")
    if application.status not in (Status.DRAFT, Status.SUBMITTED, Status.CONDITIONAL):
        raise BusinessError(_("Documents are added before the contract is signed."), field="kind")
    check_document(upload, field="file")
    return LoanDocument.objects.create(application=application, kind=kind, file=upload, uploaded_by=by)


def missing_documents(application: LoanApplication) -> list[str]:
    have = set(application.documents.values_list("kind", flat=True))
    return [kind for kind in application.product.document_list if kind not in have]


def _post(*, lines, memo: str, key: str, by) -> object:
    return ledger.journal_post(lines=lines, memo=memo, reference=key, kind="autofinance", by=by, idempotency_key=key)


def _acc(purpose: str):
    return ledger.account_for(owner=None, purpose=purpose)


def step_words(move: str) -> str:
    return {
        "submit": _("Submit to the lender"),
        "approve": _("Lender approved"),
        "approve_conditions": _("Lender approved with conditions"),
        "decline": _("Lender declined"),
        "sign": _("Contract signed"),
        "disburse": _("Lender disbursed"),
        "confirm_funds": _("Funds received (finance)"),
        "deliver": _("Car delivered"),
        "register": _("Registration and lien done"),
        "close": _("Close"),
        "cancel": _("Cancel"),
    }.get(move, move)


@transaction.atomic
def application_move(*, application: LoanApplication, move: str, by=None, note: str = "", **details) -> LoanApplication:
    """Take step ``move`` on ``application`` (``models.MOVES``): refused unless the application is in
    one of the move's statuses (a step cannot be skipped or taken twice) and ``by`` holds its
    permission; writes the step log and the ledger entries the step brings."""
    if move not in MOVES:
        raise BusinessError(_("There is no such step."), field="move")
    sources, target, perm = MOVES[move]
    _require(by, perm)
    app = (
        LoanApplication.objects.select_for_update(of=("self",)).select_related("sale", "product").get(pk=application.pk)
    )
    if app.status not in sources:
        raise Conflict(
            _("Application %(number)s is %(status)s: “%(step)s” is not its next step.")
            % {"number": app.number, "status": app.get_status_display(), "step": step_words(move)},
            field="move",
        )
    note = _text(note, 500)
    now = clock.now()
    key = f"autofinance:{app.pk}"
    if move == "submit":
        consent = consent_for(app)
        if consent is None:
            raise BusinessError(
                _("The customer has not consented to a submission to %(lender)s: record their consent first.")
                % {"lender": app.lender.name},
                field="consent",
            )
        missing = missing_documents(app)
        if missing:
            raise BusinessError(
                _("Documents missing: %(kinds)s.") % {"kinds": "、".join(str(DocumentKind(k).label) for k in missing)},
                field="documents",
            )
        app.consent, app.submitted_at = consent, now
    elif move == "approve_conditions":
        conditions = _text(details.get("conditions") or note, 2000)
        if not conditions:
            raise BusinessError(_("Write the lender's conditions."), field="conditions")
        app.conditions, app.decided_at = conditions, now
    elif move == "decline":
        reasons = _text(details.get("reasons") or note, 2000)
        if not reasons:
            raise BusinessError(_("Write why the lender declined."), field="reasons")
        app.decline_reasons, app.decided_at = reasons, now
    elif move == "approve":
        app.decided_at = now
    elif move == "sign":
        app.contract_number = _text(details.get("contract_number"), 50)
        if not app.contract_number:
            raise BusinessError(_("Enter the loan contract's number."), field="contract_number")
        app.signed_at = now
        if app.service_fee > 0:
            app.service_fee_entry = _post(
                lines=[
                    ledger.debit(_acc(Purpose.BRAND_CASH), app.service_fee),
                    ledger.credit(_acc(Purpose.BRAND_LOAN_SERVICE_FEE_INCOME), app.service_fee),
                ],
                memo=_("Loan service fee on %(number)s") % {"number": app.number},
                key=f"{key}:service_fee",
                by=by,
            )
    elif move == "disburse":
        app.disbursed_at = now
        app.commission_entry = _post(
            lines=[
                ledger.debit(_acc(Purpose.BRAND_FINANCE_COMMISSION_RECEIVABLE), app.commission),
                ledger.credit(_acc(Purpose.BRAND_FINANCE_COMMISSION_INCOME), app.commission),
            ],
            memo=_("Lender's commission accrued on %(number)s") % {"number": app.number},
            key=f"{key}:commission",
            by=by,
        )
        if app.subsidy_payer == SubsidyPayer.DEALER and app.subsidy_cost > 0:
            app.subsidy_entry = _post(
                lines=[
                    ledger.debit(_acc(Purpose.BRAND_FINANCE_SUBSIDY_EXPENSE), app.subsidy_cost),
                    ledger.credit(_acc(Purpose.BRAND_CASH), app.subsidy_cost),
                ],
                memo=_("Interest subsidy paid by the dealer on %(number)s") % {"number": app.number},
                key=f"{key}:subsidy",
                by=by,
            )
    elif move == "deliver":
        sale = CarSale.objects.select_for_update().get(pk=app.sale_id)
        if sale.delivered_at is None:
            sale.delivered_at = now
            sale.save(update_fields=["delivered_at"])
    elif move == "close":
        app.closed_at = now
    if target in (Status.DECLINED, Status.CANCELLED):
        others = app.sale.applications.exclude(pk=app.pk).exclude(status__in=(Status.DECLINED, Status.CANCELLED))
        if not others.exists():  # no loan left: the sale is a cash sale until another application is drafted
            CarSale.objects.filter(pk=app.sale_id).update(payment=Payment.CASH)
    ApplicationStep.objects.create(
        application=app, move=move, from_status=app.status, to_status=target, by=by, at=now, note=note
    )
    app.status, app.status_since = target, now
    app.save()
    return app


@transaction.atomic
def commission_receive(*, application: LoanApplication, by=None) -> LoanApplication:
    """The lender paid the dealer's commission: brand cash / commission receivable."""
    from weishang.autofinance.models import FUNDS

    _require(by, FUNDS)
    app = LoanApplication.objects.select_for_update(of=("self",)).get(pk=application.pk)
    if app.commission_entry_id is None:
        raise BusinessError(_("The commission is accrued when the lender disburses."), field="application")
    if app.commission_received_entry_id is not None:
        raise Conflict(_("This commission was received already."), field="application")
    app.commission_received_entry = _post(
        lines=[
            ledger.debit(_acc(Purpose.BRAND_CASH), app.commission),
            ledger.credit(_acc(Purpose.BRAND_FINANCE_COMMISSION_RECEIVABLE), app.commission),
        ],
        memo=_("Lender's commission received on %(number)s") % {"number": app.number},
        key=f"autofinance:{app.pk}:commission_received",
        by=by,
    )
    app.save(update_fields=["commission_received_entry"])
    ApplicationStep.objects.create(
        application=app, move="commission", from_status=app.status, to_status=app.status, by=by, note="commission"
    )
    return app


@transaction.atomic
def sla_set(*, status: str, hours) -> StepSLA:
    if status not in DEFAULT_SLA_HOURS:
        raise BusinessError(_("Only a waiting status has an SLA."), field="status")
    try:
        value = int(str(hours).strip())
    except (ValueError, TypeError):
        value = 0
    if not 1 <= value <= 24 * 90:
        raise BusinessError(_("Enter 1 to 2160 hours."), field="hours")
    row, _c = StepSLA.objects.update_or_create(status=status, defaults={"hours": value})
    return row


# --- the manufacturer's incentive ------------------------------------------------------------------


@transaction.atomic
def incentive_accrue(*, month: str, threshold_pct, per_car, by=None) -> PenetrationIncentive:
    """The manufacturer's incentive for ``month`` (YYYY-MM, China time): when the finance
    penetration of the cars delivered that month reaches ``threshold_pct``, ``per_car`` for each
    financed car delivered; posted incentive receivable / incentive income. Once per month."""
    from weishang.autofinance import selectors

    _require(by, "autofinance.add_penetrationincentive")
    try:
        clock.month_range(month)
    except ValueError:
        raise BusinessError(_("Enter the month as YYYY-MM."), field="month") from None
    threshold = _pct(threshold_pct, field="threshold_pct")
    per = amount_input(per_car, field="per_car", maximum=Decimal(1000000))
    if PenetrationIncentive.objects.filter(month=month).exists():
        raise Conflict(_("The incentive for %(month)s is recorded already.") % {"month": month}, field="month")
    row = selectors.penetration_month(month)
    cars, financed = row["cars"], row["financed"]
    reached = cars > 0 and Decimal(financed) * HUNDRED / Decimal(cars) >= threshold
    amount = per * financed if reached else ZERO
    incentive = PenetrationIncentive(
        month=month, threshold_pct=threshold, per_car=per, cars=cars, financed=financed, amount=amount, created_by=by
    )
    if amount > 0:
        incentive.entry = _post(
            lines=[
                ledger.debit(_acc(Purpose.BRAND_FINANCE_INCENTIVE_RECEIVABLE), amount),
                ledger.credit(_acc(Purpose.BRAND_FINANCE_INCENTIVE_INCOME), amount),
            ],
            memo=_("Finance penetration incentive for %(month)s") % {"month": month},
            key=f"autofinance:incentive:{month}",
            by=by,
        )
    incentive.save()
    return incentive


@transaction.atomic
def incentive_receive(*, incentive: PenetrationIncentive, by=None) -> PenetrationIncentive:
    from weishang.autofinance.models import FUNDS

    _require(by, FUNDS)
    row = PenetrationIncentive.objects.select_for_update(of=("self",)).get(pk=incentive.pk)
    if row.entry_id is None:
        raise BusinessError(_("No incentive was earned that month."), field="incentive")
    if row.received_entry_id is not None:
        raise Conflict(_("This incentive was received already."), field="incentive")
    row.received_entry = _post(
        lines=[
            ledger.debit(_acc(Purpose.BRAND_CASH), row.amount),
            ledger.credit(_acc(Purpose.BRAND_FINANCE_INCENTIVE_RECEIVABLE), row.amount),
        ],
        memo=_("Finance penetration incentive for %(month)s received") % {"month": row.month},
        key=f"autofinance:incentive:{row.month}:received",
        by=by,
    )
    row.save(update_fields=["received_entry"])
    return row


# --- verify ----------------------------------------------------------------------------------------


def _balance(purpose: str) -> Decimal:
    from weishang.ledger.models import Account

    account = Account.objects.filter(owner=None, purpose=purpose).first()
    return account.balance if account is not None else ZERO


def autofinance_verify() -> list[str]:
    """The desk's ledger accounts against the applications and incentives; [] when they agree.
    (These accounts are posted by this app alone, so each balance is exactly what it says.)"""
    apps = LoanApplication.objects
    accrued = apps.filter(commission_entry__isnull=False).aggregate(s=Sum("commission"))["s"] or ZERO
    received = apps.filter(commission_received_entry__isnull=False).aggregate(s=Sum("commission"))["s"] or ZERO
    fees = apps.filter(service_fee_entry__isnull=False).aggregate(s=Sum("service_fee"))["s"] or ZERO
    subsidy = apps.filter(subsidy_entry__isnull=False).aggregate(s=Sum("subsidy_cost"))["s"] or ZERO
    earned = PenetrationIncentive.objects.filter(entry__isnull=False).aggregate(s=Sum("amount"))["s"] or ZERO
    paid_in = PenetrationIncentive.objects.filter(received_entry__isnull=False).aggregate(s=Sum("amount"))["s"] or ZERO
    expected = {
        Purpose.BRAND_FINANCE_COMMISSION_INCOME: accrued,
        Purpose.BRAND_FINANCE_COMMISSION_RECEIVABLE: accrued - received,
        Purpose.BRAND_LOAN_SERVICE_FEE_INCOME: fees,
        Purpose.BRAND_FINANCE_SUBSIDY_EXPENSE: subsidy,
        Purpose.BRAND_FINANCE_INCENTIVE_INCOME: earned,
        Purpose.BRAND_FINANCE_INCENTIVE_RECEIVABLE: earned - paid_in,
    }
    problems = []
    for purpose, want in expected.items():
        have = _balance(purpose)
        if have != want:
            problems.append(f"{purpose}: ledger {have}, applications {want}")
    wrong_step = apps.filter(status__in=FUNDED_STATUSES, commission_entry__isnull=True).count()
    if wrong_step:
        problems.append(f"{wrong_step} disbursed application(s) without their commission entry")
    early = apps.exclude(status__in=FUNDED_STATUSES).filter(commission_entry__isnull=False).count()
    if early:
        problems.append(f"{early} application(s) with a commission before disbursement")
    return problems
