"""The finance desk's console pages and the customer's quote page: who may open and do what, the
quote side by side, the step buttons, private documents, the queue and the reports."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse

from weishang.autofinance import services
from weishang.autofinance.models import Consent, ConsentChannel, LoanApplication, Status

from .helpers import pdf, quoted_application, run

pytestmark = pytest.mark.django_db
PASSWORD = "staff-pass-123"


def client_of(client, user):
    client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_the_login(client, sale):
    for name, args in [
        ("admin:autofinance_carsale_changelist", []),
        ("admin:autofinance_carsale_change", [sale.pk]),
        ("admin:autofinance_loanapplication_queue", []),
        ("admin:autofinance_loanapplication_report", []),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_a_consultant_sees_their_own_sales_only(client, sale, people, staff):
    other = staff("sales_consultant", "李顾问")
    page = client_of(client, other).get(reverse("admin:autofinance_carsale_change", args=[sale.pk]))
    assert page.status_code in (302, 404)
    assert sale.number not in client.get(reverse("admin:autofinance_carsale_changelist")).content.decode()
    client.force_login(people["consultant"])
    page = client.get(reverse("admin:autofinance_carsale_change", args=[sale.pk]))
    assert page.status_code == 200 and sale.number in page.content.decode()
    # nor may the other consultant quote on it
    response = client_of(client, other).post(reverse("admin:autofinance_carsale_quote", args=[sale.pk]), {})
    assert response.status_code == 404
    assert not sale.quotes.exists()


def test_the_consultant_quotes_side_by_side_records_consent_and_applies(client, sale, desk, people):
    c = client_of(client, people["consultant"])
    url = reverse("admin:autofinance_carsale_quote", args=[sale.pk])
    response = c.post(
        url,
        {
            "product-0": desk["p36"].pk,
            "down-0": "60000",
            "months-0": "36",
            "product-1": desk["flat"].pk,
            "down-1": "60000",
            "months-1": "36",
        },
    )
    assert response.status_code == 302
    page = c.get(reverse("admin:autofinance_carsale_change", args=[sale.pk])).content.decode()
    assert "¥4063.97" in page and "¥14700.00" in page and "/f/" in page
    # a hostile product id changes nothing
    c.post(url, {"product-0": "99999999", "down-0": "1", "months-0": "36"})
    c.post(url, {"product-0": "1; DROP TABLE", "down-0": "1", "months-0": "36"})
    assert sale.quotes.count() == 1
    c.post(
        reverse("admin:autofinance_carsale_consent", args=[sale.pk]),
        {"lender": desk["captive"].pk, "channel": "link", "reference": ""},
    )
    assert not Consent.objects.exists()  # "link" is the customer's own
    c.post(
        reverse("admin:autofinance_carsale_consent", args=[sale.pk]),
        {"lender": desk["captive"].pk, "channel": "signature"},
    )
    assert Consent.objects.get().recorded_by == people["consultant"]
    line = sale.quotes.get().lines.first()
    response = c.post(reverse("admin:autofinance_carsale_apply", args=[sale.pk]), {"line": line.pk})
    application = LoanApplication.objects.get()
    assert response["Location"] == reverse("admin:autofinance_loanapplication_change", args=[application.pk])
    # the consultant may not submit: the finance manager's step
    response = c.post(reverse("admin:autofinance_loanapplication_step", args=[application.pk]), {"move": "submit"})
    assert response.status_code == 403
    application.refresh_from_db()
    assert application.status == Status.DRAFT


def test_the_application_page_takes_its_steps_and_refuses_with_a_message(client, sale, desk, people):
    application = quoted_application(sale, desk["p36"], documents=False)
    c = client_of(client, people["manager"])
    step = reverse("admin:autofinance_loanapplication_step", args=[application.pk])
    page = c.post(step, {"move": "submit"}, follow=True)
    assert page.status_code == 200
    application.refresh_from_db()
    assert application.status == Status.DRAFT  # documents missing: refused with a message
    assert any("收入证明" in str(m) or "Income proof" in str(m) for m in page.context["messages"])
    upload = reverse("admin:autofinance_loanapplication_document", args=[application.pk])
    for kind in ("id_card", "income", "bank_statement"):
        c.post(upload, {"kind": kind, "file": pdf()})
    assert application.documents.count() == 3
    c.post(step, {"move": "submit"})
    c.post(step, {"move": "approve"})
    c.post(step, {"move": "sign", "contract_number": "HT-2026-001"})
    c.post(step, {"move": "no-such-move"})
    application.refresh_from_db()
    assert (application.status, application.contract_number) == (Status.SIGNED, "HT-2026-001")
    page = c.get(reverse("admin:autofinance_loanapplication_change", args=[application.pk])).content.decode()
    assert 'data-move="disburse"' in page and 'data-step="sign"' in page


def test_documents_are_served_only_through_the_checked_view(client, sale, desk, people, staff):
    application = quoted_application(sale, desk["p36"])
    document = application.documents.get(kind="income")
    url = reverse("admin:autofinance_loanapplication_file", args=[application.pk]) + f"?doc={document.pk}"
    response = client_of(client, people["manager"]).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(staff("sales_consultant", "李顾问"))  # not their sale
    assert client.get(url).status_code in (403, 404)
    client.force_login(staff("warehouse"))
    assert client.get(url).status_code in (302, 403)
    client.logout()
    assert client.get(url).status_code == 302
    client.force_login(people["manager"])
    other = reverse("admin:autofinance_loanapplication_file", args=[application.pk]) + "?doc=abc"
    assert client.get(other).status_code == 302  # no such document named: back to the application
    missing = reverse("admin:autofinance_loanapplication_file", args=[application.pk]) + "?doc=99999999"
    assert client.get(missing).status_code == 404


def test_the_customers_quote_page_and_consent(client, sale, desk, clock):
    at = clock.freeze(datetime(2026, 11, 20, 15, 30))
    quote = services.quote_create(
        sale=sale, lines=[services.Terms(desk["p36"], "60000", 36), services.Terms(desk["flat"], "60000", 36)]
    )
    url = reverse("web:finance_quote", args=[quote.token])
    page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "private, no-store"
    assert "¥4063.97" in text and "¥1500.00" in text and "¥800.00" in text  # the payment and every fee
    assert "110101199003071234" not in text
    line = quote.lines.last()
    response = client.post(url, {"line": line.pk})
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert (consent.lender, consent.channel, consent.given_at) == (desk["leasing"], ConsentChannel.LINK, at)
    assert 'data-testid="consented"' in client.get(url).content.decode()
    assert client.post(url, {"line": "x"}).status_code == 400
    assert client.get(reverse("web:finance_quote", args=["not-the-token"])).status_code == 404
    assert Consent.objects.count() == 1


def test_the_queue_and_the_reports_open_for_the_finance_manager(client, sale, desk, people, clock):
    start = clock.freeze(datetime(2026, 11, 2, 9, 0))
    application = run(quoted_application(sale, desk["p36"]), "submit")
    clock.freeze(start + timedelta(hours=30))
    c = client_of(client, people["manager"])
    page = c.get(reverse("admin:autofinance_loanapplication_queue")).content.decode()
    assert application.number in page
    report = c.get(reverse("admin:autofinance_loanapplication_report"))
    assert report.status_code == 200 and b"finance-income" in report.content
    client.force_login(people["consultant"])
    assert client.get(reverse("admin:autofinance_loanapplication_report")).status_code == 403


def test_finance_confirms_funds_and_the_commission(client, sale, desk, people):
    application = run(quoted_application(sale, desk["p36"]), "disburse")
    c = client_of(client, people["finance"])
    c.post(reverse("admin:autofinance_loanapplication_step", args=[application.pk]), {"move": "confirm_funds"})
    c.post(reverse("admin:autofinance_loanapplication_commission", args=[application.pk]))
    application.refresh_from_db()
    assert application.status == Status.FUNDED and application.commission_received_entry is not None
    # finance may not take the lender's steps
    response = c.post(reverse("admin:autofinance_loanapplication_step", args=[application.pk]), {"move": "close"})
    assert response.status_code == 403


def test_the_finance_manager_ticks_a_products_required_documents(client, desk, people):
    from weishang.autofinance.models import FinanceProduct

    c = client_of(client, people["manager"])
    url = reverse("admin:autofinance_financeproduct_add")
    page = c.get(url).content.decode()
    assert 'name="required_documents" value="licence"' in page  # a box per kind, not codes to type
    form = {
        "lender": desk["bank"].pk,
        "name": "工行信用卡分期 24 期",
        "method": "equal_instalment",
        "min_months": "12",
        "max_months": "36",
        "terms": "",
        "annual_rate": "4.5",
        "down_min_pct": "20",
        "down_max_pct": "80",
        "subsidy_rate": "",
        "subsidy_terms": "",
        "subsidy_payer": "",
        "lender_fee": "0",
        "service_fee_kind": "fixed",
        "service_fee_value": "0",
        "commission_pct": "1",
        "active": "on",
    }
    hostile = c.post(url, form | {"required_documents": ["id_card", "<script>"]})
    assert hostile.status_code == 200 and not FinanceProduct.objects.filter(name=form["name"]).exists()
    response = c.post(url, form | {"required_documents": ["id_card", "licence"]})
    assert response.status_code == 302, response.content.decode()[:2000]
    product = FinanceProduct.objects.get(name=form["name"])
    assert product.document_list == ["id_card", "licence"]
    change = c.get(reverse("admin:autofinance_financeproduct_change", args=[product.pk])).content.decode()
    boxes = {
        re.search(r'value="([^"]+)"', tag).group(1): bool(re.search(r"\schecked[\s>=/]", tag))
        for tag in re.findall(r'<input[^>]*name="required_documents"[^>]*>', change)
    }
    assert boxes == {"id_card": True, "income": False, "bank_statement": False, "licence": True, "other": False}
