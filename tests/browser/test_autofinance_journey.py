"""The car dealer's finance desk, in Chinese (M15): the demo customer 演示客户 刘女士 has chosen a
凯美瑞; the sales consultant quotes three loans side by side; the customer opens the quote's link
(no login), reads every fee and the APR and consents to the captive lender's 36-month 2.88% loan;
the consultant applies with it and uploads the documents; the finance manager submits it, records
the approval, the signed contract and the disbursement; the dealer's finance confirms the funds and
the commission; the consultant hands the car over; the finance manager records registration and
lien and closes the loan. The step log has every step, the reports open, and the books agree."""

from __future__ import annotations

import pytest
from browser_steps import console_log_in, expect, png_file

pytestmark = pytest.mark.browser


def test_a_car_loan_from_quote_to_closed(demo, phone, shot, tmp_path):
    from weishang.autofinance import services
    from weishang.autofinance.demo import DEMO_CUSTOMER_PHONE
    from weishang.autofinance.models import CarSale, Consent, FinanceProduct, LoanApplication, Status
    from weishang.ledger.selectors import ledger_verify

    sale = CarSale.objects.get(customer__phone=DEMO_CUSTOMER_PHONE)
    subsidised = FinanceProduct.objects.get(subsidy_rate="2.88")
    zero = FinanceProduct.objects.get(subsidy_rate="0")
    lease = FinanceProduct.objects.get(lender__kind="leasing")

    consultant = phone()
    console_log_in(consultant, "sales_consultant")
    consultant.goto(f"/console/autofinance/carsale/{sale.pk}/change/")
    expect(consultant.locator("body")).to_contain_text("演示客户 刘女士")
    form = consultant.locator("[data-testid=new-quote]")
    for i, (product, down, months) in enumerate(
        [(subsidised, "60000", "36"), (zero, "80000", "12"), (lease, "40000", "36")]
    ):
        form.locator(f"select[name=product-{i}]").select_option(str(product.pk))
        form.locator(f"input[name=down-{i}]").fill(down)
        form.locator(f"input[name=months-{i}]").fill(months)
    form.locator("button[type=submit]").click()
    quote = consultant.locator("[data-testid=quote]")
    expect(quote).to_be_visible()
    line = sale.quotes.get().lines.get(product=subsidised)
    zero_line = sale.quotes.get().lines.get(product=zero)
    assert zero_line.total_interest == 0 and str(line.customer_rate) == "2.8800"
    expect(quote.locator("[data-col=monthly]").first).to_contain_text(f"¥{line.monthly_payment}")
    shot(consultant, "quote-side-by-side")
    link = consultant.locator("[data-testid=quote-link]").get_attribute("href")

    customer = phone()
    customer.goto(link)
    card = customer.locator(f"section[data-line='{line.pk}']")
    expect(card).to_contain_text(f"¥{line.monthly_payment}")
    expect(card).to_contain_text(f"¥{line.service_fee}")  # every fee is shown
    expect(card.locator("[data-col=apr]")).to_contain_text(f"{line.apr:.2f}%")
    shot(customer, "customer-quote")
    card.locator(f"[data-consent='{line.pk}']").click()
    expect(customer.locator(f"section[data-line='{line.pk}'] [data-testid=consented]")).to_be_visible()
    consent = Consent.objects.get(sale=sale)
    assert (consent.lender, consent.channel) == (subsidised.lender, "link")

    consultant.goto(f"/console/autofinance/carsale/{sale.pk}/change/")
    consultant.locator(f"[data-apply='{line.pk}']").click()
    expect(consultant.locator("[data-testid=application-steps]")).to_be_visible()
    application = LoanApplication.objects.get(sale=sale)
    upload = consultant.locator("[data-testid=documents] form")
    for kind in subsidised.document_list:
        consultant.locator("[data-testid=documents] select[name=kind]").select_option(kind)
        consultant.locator("[data-testid=documents] input[type=file]").set_input_files(
            str(png_file(tmp_path / f"{kind}.png", (300, 200)))
        )
        upload.locator("button[type=submit]").click()
        expect(consultant.locator("[data-testid=documents] [data-doc]")).to_have_count(application.documents.count())
    assert application.documents.count() == len(subsidised.document_list)
    expect(consultant.locator("[data-move=submit]")).to_have_count(0)  # the finance manager's step
    page_url = f"/console/autofinance/loanapplication/{application.pk}/change/"

    manager = phone()
    console_log_in(manager, "finance_manager")
    manager.goto(page_url)
    expect(manager.locator("[data-testid=consent]")).to_be_visible()
    for move, then in [("submit", "approve"), ("approve", "sign"), ("sign", "disburse"), ("disburse", None)]:
        if move == "sign":
            manager.locator("input[name=contract_number]").fill("TFS-2026-000188")
        manager.locator(f"[data-move={move}]").click()
        if then:
            expect(manager.locator(f"[data-move={then}]")).to_be_visible()
    expect(manager.locator("[data-testid=application-steps] [data-move]")).to_have_count(0)

    finance = phone()
    console_log_in(finance, "finance")
    finance.goto(page_url)
    finance.locator("[data-move=confirm_funds]").click()
    expect(finance.locator("[data-testid=commission]")).to_be_visible()
    finance.locator("[data-testid=commission]").click()
    expect(finance.locator("[data-testid=commission]")).to_have_count(0)

    consultant.goto(page_url)
    consultant.locator("[data-move=deliver]").click()
    expect(consultant.locator("[data-testid=application-steps] [data-move]")).to_have_count(0)

    manager.goto(page_url)
    manager.locator("[data-move=register]").click()
    manager.locator("[data-move=close]").click()
    expect(manager.locator("[data-step=close]")).to_be_visible()
    shot(manager, "closed-with-its-step-log")
    application.refresh_from_db()
    sale.refresh_from_db()
    assert application.status == Status.CLOSED and sale.delivered_at is not None
    assert list(application.steps.values_list("move", flat=True)) == [
        "create",
        "submit",
        "approve",
        "sign",
        "disburse",
        "confirm_funds",
        "commission",
        "deliver",
        "register",
        "close",
    ]
    manager.goto("/console/autofinance/loanapplication/report/")
    expect(manager.locator("[data-testid=finance-income]")).to_be_visible()
    shot(manager, "reports")
    assert ledger_verify() == [] and services.autofinance_verify() == []
