"""The loan flow: quotes side by side, consent, documents, every step in order by its owner, the
step log, the SLA queue, and the refusals (no consent, a skipped step, the wrong role, bad uploads,
hostile values) — each refusal changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from weishang.autofinance import selectors, services
from weishang.autofinance.models import (
    ApplicationStep,
    Consent,
    ConsentChannel,
    LoanApplication,
    LoanDocument,
    Payment,
    Status,
    mask_id_number,
)
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.ledger.models import ImmutableRecord

from .helpers import D, pdf, png, quoted_application, run, with_documents

pytestmark = pytest.mark.django_db


def test_a_quote_shows_the_products_side_by_side(sale, desk, people):
    """¥200,000 car, ¥60,000 down: ¥140,000 financed.

    - 36 months at the subsidised 2.88% (the lender's rate 6%): ¥4,063.97 a month (the last ¥4,063.94),
      interest ¥6,302.89, service fee ¥1,500 → cost of credit ¥7,802.89; commission 2% = ¥2,800.00;
      the subsidy the manufacturer pays is what the arithmetic says (¥6,413.20).
    - the leasing company's flat 3.5% for 36 months: interest 140,000 × 3.5% × 3 = ¥14,700.00,
      fees ¥800 + ¥2,000; commission 3% = ¥4,200.00."""
    quote = services.quote_create(
        sale=sale,
        lines=[services.Terms(desk["p36"], "60000", 36), services.Terms(desk["flat"], "60000", 36)],
        by=people["consultant"],
    )
    first, second = quote.lines.all()
    assert (first.amount_financed, first.monthly_payment, first.total_interest) == (
        D("140000.00"),
        D("4063.97"),
        D("6302.89"),
    )
    assert (first.customer_rate, first.lender_rate) == (D("2.88"), D("6.00"))
    assert (first.service_fee, first.total_cost, first.commission) == (D("1500.00"), D("7802.89"), D("2800.00"))
    assert (first.subsidy_cost, first.subsidy_payer) == (D("6413.20"), "manufacturer")
    assert first.apr > first.customer_rate  # the fee is inside the APR
    assert first.schedule["periods"][-1]["payment"] == "4063.94"
    assert (second.total_interest, second.lender_fee, second.service_fee) == (D("14700.00"), D("800.00"), D("2000.00"))
    assert second.total_cost == D("17500.00") and second.commission == D("4200.00")
    assert second.apr > D("3.5") * 2 - 1  # a flat rate's true APR is nearly twice the flat rate
    assert len(quote.token) >= 30


def test_a_zero_percent_subsidised_loan_has_equal_payments_and_no_interest(sale, desk):
    quote = services.quote_create(sale=sale, lines=[services.Terms(desk["p12"], "100000", 12)])
    line = quote.lines.get()
    assert line.total_interest == D("0.00") and line.customer_rate == D("0")
    assert {p["interest"] for p in line.schedule["periods"]} == {"0.00"}
    assert line.service_fee == D("1000.00")  # 1% of ¥100,000


@pytest.mark.parametrize(
    ("down", "months", "field"),
    [
        ("10000", 36, "down_payment"),  # below 20%
        ("150000", 36, "down_payment"),  # above 70%
        ("60000", 48, "months"),  # not a term the product offers
        ("60000", "36; DROP TABLE", "months"),
        ("-5", 36, "down_payment"),
        ("1e9", 36, "down_payment"),
        ("NaN", 36, "down_payment"),
        (60000.0, 36, "down_payment"),  # a float is never money
    ],
)
def test_a_quote_outside_the_products_terms_is_refused(sale, desk, down, months, field):
    with pytest.raises(BusinessError) as refused:
        services.quote_create(sale=sale, lines=[services.Terms(desk["p36"], down, months)])
    assert refused.value.field == field
    assert not sale.quotes.exists()


def test_the_flow_from_draft_to_closed_with_its_step_log(sale, desk, people):
    application = quoted_application(sale, desk["p36"], by=people["consultant"])
    sale.refresh_from_db()
    assert sale.payment == Payment.FINANCED
    done = run(application, "close", people)
    assert done.status == Status.CLOSED
    steps = list(ApplicationStep.objects.filter(application=done).values_list("move", "from_status", "to_status"))
    assert steps == [
        ("create", "", "draft"),
        ("submit", "draft", "submitted"),
        ("approve", "submitted", "approved"),
        ("sign", "approved", "signed"),
        ("disburse", "signed", "disbursed"),
        ("confirm_funds", "disbursed", "funded"),
        ("deliver", "funded", "delivered"),
        ("register", "delivered", "registered"),
        ("close", "registered", "closed"),
    ]
    by = dict(ApplicationStep.objects.filter(application=done).values_list("move", "by__username"))
    assert by["confirm_funds"] == "钱财务" and by["deliver"] == "王顾问" and by["submit"] == "赵经理"
    sale.refresh_from_db()
    assert sale.delivered_at is not None
    assert done.consent.channel == ConsentChannel.SIGNATURE


def test_no_submission_without_the_customers_consent_to_that_lender(sale, desk, people):
    application = quoted_application(sale, desk["p36"], consent=False)
    # consent to another lender does not count
    services.consent_record(sale=sale, lender=desk["bank"], channel=ConsentChannel.SIGNATURE, by=people["manager"])
    with pytest.raises(BusinessError) as refused:
        services.application_move(application=application, move="submit", by=people["manager"])
    assert refused.value.field == "consent" and "某某汽车金融" in str(refused.value.message)
    application.refresh_from_db()
    assert application.status == Status.DRAFT and application.submitted_at is None
    assert application.steps.count() == 1


def test_no_submission_without_the_products_documents(sale, desk, people):
    application = quoted_application(sale, desk["p36"], documents=False)
    services.document_add(application=application, kind="id_card", upload=png())
    with pytest.raises(BusinessError) as refused:
        services.application_move(application=application, move="submit", by=people["manager"])
    assert refused.value.field == "documents"
    assert "收入证明" in str(refused.value.message) or "Income proof" in str(refused.value.message)
    application.refresh_from_db()
    assert application.status == Status.DRAFT


@pytest.mark.parametrize("move", ["approve", "sign", "disburse", "confirm_funds", "deliver", "register", "close"])
def test_a_step_cannot_be_skipped(sale, desk, people, move):
    application = quoted_application(sale, desk["p36"])
    with pytest.raises(Conflict):
        services.application_move(application=application, move=move, contract_number="HT-1")
    application.refresh_from_db()
    assert application.status == Status.DRAFT and application.commission_entry is None


def test_a_step_cannot_be_taken_twice(sale, desk, people):
    application = run(quoted_application(sale, desk["p36"]), "disburse")
    with pytest.raises(Conflict):
        services.application_move(application=application, move="disburse")
    assert application.steps.filter(move="disburse").count() == 1


@pytest.mark.parametrize(
    ("move", "role"),
    [("submit", "consultant"), ("approve", "consultant"), ("confirm_funds", "manager"), ("submit", "finance")],
)
def test_the_wrong_role_is_refused(sale, desk, people, move, role):
    application = quoted_application(sale, desk["p36"])
    if move in ("approve", "confirm_funds"):
        application = run(application, {"approve": "submit", "confirm_funds": "disburse"}[move])
    before = application.status
    with pytest.raises(Forbidden):
        services.application_move(application=application, move=move, by=people[role])
    application.refresh_from_db()
    assert application.status == before


def test_a_decline_needs_its_reasons_and_ends_the_application(sale, desk, people):
    application = run(quoted_application(sale, desk["p36"]), "submit")
    with pytest.raises(BusinessError) as refused:
        services.application_move(application=application, move="decline", by=people["manager"], reasons="  ")
    assert refused.value.field == "reasons"
    done = services.application_move(
        application=application, move="decline", by=people["manager"], reasons="征信逾期记录"
    )
    assert (done.status, done.decline_reasons) == (Status.DECLINED, "征信逾期记录")
    sale.refresh_from_db()
    assert sale.payment == Payment.CASH  # no loan left: a cash sale unless another application follows
    with pytest.raises(Conflict):
        services.application_move(application=done, move="sign", contract_number="HT")
    # a new application for the sale may follow a declined one
    quote = services.quote_create(sale=sale, lines=[services.Terms(desk["flat"], "60000", 36)])
    assert services.application_create(line=quote.lines.get()).status == Status.DRAFT
    sale.refresh_from_db()
    assert sale.payment == Payment.FINANCED


def test_approved_with_conditions_then_signed(sale, desk, people):
    application = run(quoted_application(sale, desk["p36"]), "submit")
    done = services.application_move(
        application=application, move="approve_conditions", by=people["manager"], conditions="首付提高至 40%"
    )
    assert done.status == Status.CONDITIONAL and done.conditions == "首付提高至 40%"
    with pytest.raises(BusinessError) as refused:
        services.application_move(application=done, move="sign", by=people["manager"], contract_number="")
    assert refused.value.field == "contract_number"
    signed = services.application_move(application=done, move="sign", by=people["manager"], contract_number="HT-9")
    assert signed.status == Status.SIGNED


def test_one_application_in_progress_per_sale(sale, desk):
    quoted_application(sale, desk["p36"])
    quote = services.quote_create(sale=sale, lines=[services.Terms(desk["flat"], "60000", 36)])
    with pytest.raises(Conflict):
        services.application_create(line=quote.lines.get())
    assert LoanApplication.objects.count() == 1


@pytest.mark.parametrize(
    ("upload", "kind"),
    [
        (SimpleUploadedFile("x.pdf", b"<html><script>alert(1)</script></html>"), "income"),  # not a PDF
        (SimpleUploadedFile("id.png", b"\x89PNG\r\n\x1a\nnot really"), "id_card"),
        (SimpleUploadedFile("s.pdf", b"%PDF-1.4 truncated"), "bank_statement"),  # no end marker
        (None, "id_card"),
        ("png", "passport; rm -rf"),  # an unknown kind
    ],
)
def test_bad_uploads_are_refused(sale, desk, upload, kind):
    application = quoted_application(sale, desk["p36"], documents=False)
    if upload == "png":
        upload = png()
    with pytest.raises(BusinessError):
        services.document_add(application=application, kind=kind, upload=upload)
    assert not LoanDocument.objects.exists()


def test_uploads_are_renamed_to_names_of_our_making(sale, desk):
    application = quoted_application(sale, desk["p36"], documents=False)
    document = services.document_add(application=application, kind="income", upload=pdf("../../etc/passwd.pdf"))
    assert document.file.name.startswith("autofinance/documents/") and "passwd" not in document.file.name


def test_consent_from_staff_needs_its_channel_and_reference(sale, desk, people):
    with pytest.raises(BusinessError):
        services.consent_record(sale=sale, lender=desk["bank"], channel="carrier-pigeon", by=people["manager"])
    with pytest.raises(BusinessError) as refused:
        services.consent_record(sale=sale, lender=desk["bank"], channel=ConsentChannel.SMS, by=people["manager"])
    assert refused.value.field == "reference"
    consent = services.consent_record(
        sale=sale, lender=desk["bank"], channel=ConsentChannel.SMS, reference="SMS-8812", by=people["consultant"]
    )
    assert (consent.channel, consent.recorded_by) == (ConsentChannel.SMS, people["consultant"])
    with pytest.raises(ImmutableRecord):  # the consent is a record: written once
        consent.save()
    with pytest.raises(ImmutableRecord):  # and not through its queryset either
        Consent.objects.filter(pk=consent.pk).update(reference="SMS-0000")
    with pytest.raises(ImmutableRecord):
        Consent.objects.filter(pk=consent.pk).delete()
    with pytest.raises(ImmutableRecord):
        consent.delete()
    assert Consent.objects.get().reference == "SMS-8812"


def test_the_customers_link_records_consent_to_the_lender_of_the_chosen_line(sale, desk, clock):
    at = clock.freeze(datetime(2026, 11, 20, 15, 30))
    quote = services.quote_create(
        sale=sale, lines=[services.Terms(desk["p36"], "60000", 36), services.Terms(desk["flat"], "60000", 36)]
    )
    line = quote.lines.last()
    chosen, consent = services.quote_consent(token=quote.token, line_id=line.pk)
    assert (consent.lender, consent.channel, consent.given_at) == (desk["leasing"], ConsentChannel.LINK, at)
    for token, line_id in [("wrong", line.pk), ("", line.pk), (quote.token, "1 OR 1=1"), (quote.token, 10**12)]:
        with pytest.raises(BusinessError):
            services.quote_consent(token=token, line_id=line_id)
    other = services.quote_create(sale=sale, lines=[services.Terms(desk["p12"], "100000", 12)])
    with pytest.raises(BusinessError):  # a line of another quote
        services.quote_consent(token=quote.token, line_id=other.lines.get().pk)
    assert Consent.objects.count() == 1


def test_the_step_log_is_written_once(sale, desk):
    application = quoted_application(sale, desk["p36"])
    step = application.steps.get()
    with pytest.raises(ImmutableRecord):
        step.save()
    with pytest.raises(ImmutableRecord):
        step.delete()
    with pytest.raises(ImmutableRecord):  # nor through a queryset: an update or a delete in bulk
        ApplicationStep.objects.filter(application=application).update(note="rewritten")
    with pytest.raises(ImmutableRecord):
        application.steps.all().delete()
    with pytest.raises(ImmutableRecord):
        ApplicationStep.objects.bulk_update([step], ["note"])
    assert list(application.steps.values_list("move", "note")) == [("create", "")]


def test_hostile_product_and_customer_values_are_refused(desk):
    bad = [
        {"commission_pct": "5"},
        {"commission_pct": "0.1"},
        {"annual_rate": "-1"},
        {"annual_rate": "abc"},
        {"min_months": "60", "max_months": "12"},
        {"down_min_pct": "80", "down_max_pct": "20"},
        {"subsidy_payer": "dealer", "subsidy_rate": "", "subsidy_terms": "12"},
        {"subsidy_payer": "dealer", "subsidy_rate": "9", "subsidy_terms": "12"},  # above the rate
        {"subsidy_payer": "government"},
        {"required_documents": "id_card,<script>"},
        {"method": "balloon"},
    ]
    base = {
        "lender": desk["bank"],
        "name": "新产品",
        "method": "equal_instalment",
        "annual_rate": "4.5",
        "commission_pct": "1",
    }
    for change in bad:
        with pytest.raises(BusinessError):
            services.product_save(**(base | change))
    with pytest.raises(BusinessError):
        services.customer_save(name="李四", phone="12345")
    with pytest.raises(BusinessError):
        services.customer_save(name="李四", phone="13900000000", id_number="11010119900307ABCD")
    with pytest.raises(BusinessError):
        services.car_save(model="X", price="0")
    with pytest.raises(BusinessError):
        services.car_save(model="X", price="100000", vin="LVSHCAMB1CE0OOOOO")


def test_id_numbers_are_shown_masked(sale):
    assert sale.customer.id_masked == "110***********1234"
    assert mask_id_number("") == ""
    assert "1990" not in str(sale.customer)


def test_the_overdue_queue(sale, desk, people, clock):
    start = clock.freeze(datetime(2026, 11, 2, 9, 0))
    application = run(quoted_application(sale, desk["p36"]), "submit")  # submitted: 24 hours
    clock.freeze(start + timedelta(hours=23))
    assert selectors.overdue() == []
    clock.freeze(start + timedelta(hours=30))
    (late,) = selectors.overdue()
    assert (late.application, late.owner, late.hours_over) == (application, "finance_manager", 6)
    services.sla_set(status=Status.SUBMITTED, hours=48)
    assert selectors.overdue() == []
    with pytest.raises(BusinessError):
        services.sla_set(status=Status.CLOSED, hours=4)
    with pytest.raises(BusinessError):
        services.sla_set(status=Status.SUBMITTED, hours="-3")


def test_a_cash_sale_is_delivered_by_its_own_step(sale, people):
    with pytest.raises(Forbidden):
        services.sale_deliver(sale=sale, by=people["finance"])
    done = services.sale_deliver(sale=sale, by=people["consultant"])
    assert done.delivered_at is not None
    with pytest.raises(Conflict):
        services.sale_deliver(sale=sale)


def test_documents_after_signing_are_refused(sale, desk):
    application = run(quoted_application(sale, desk["p36"]), "sign")
    with pytest.raises(BusinessError):
        with_documents(application)
