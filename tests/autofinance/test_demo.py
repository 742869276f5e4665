"""The demo dealer's finance desk: lenders of each kind, the subsidised products, sales over recent
months in every state, reports with numbers, the demo customer ready, and the ledger right."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.contrib.auth import get_user_model

from weishang.autofinance import selectors, services
from weishang.autofinance.demo import DEMO_CUSTOMER_PHONE, autofinance_demo
from weishang.autofinance.models import CarSale, FinanceProduct, Lender, LoanApplication, Status
from weishang.demo.services import STAFF_PASSWORD, _staff
from weishang.ledger.selectors import ledger_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(db):
    _staff()
    autofinance_demo(password=STAFF_PASSWORD)
    autofinance_demo(password=STAFF_PASSWORD)  # a second run adds nothing


def test_the_demo_desk(loaded):
    assert sorted(Lender.objects.values_list("kind", flat=True)) == ["bank", "captive", "leasing"]
    rates = {(p.subsidy_rate, p.subsidy_terms) for p in FinanceProduct.objects.all()}
    assert (Decimal("0"), "12") in rates and (Decimal("2.88"), "36") in rates
    assert FinanceProduct.objects.count() == 6
    assert CarSale.objects.count() == 31
    statuses = set(LoanApplication.objects.values_list("status", flat=True))
    assert {Status.CLOSED, Status.DECLINED, Status.SUBMITTED, Status.DISBURSED, Status.DELIVERED} <= statuses
    months = selectors.recent_months(6)
    assert sum(r["cars"] for r in selectors.penetration_by_month(months)) >= 20
    assert any(r["financed"] for r in selectors.penetration_by_month(months))
    assert len(selectors.penetration_by_consultant(months)) == 3
    assert len(selectors.lender_approvals(months)) == 3
    assert sum(r["total"] for r in selectors.finance_income(months)) > 0
    assert selectors.overdue()  # the queue has something to show
    demo_sale = CarSale.objects.get(customer__phone=DEMO_CUSTOMER_PHONE)
    assert not demo_sale.quotes.exists() and demo_sale.delivered_at is None
    assert ledger_verify() == [] and services.autofinance_verify() == []


def test_the_finance_manager_logs_in(loaded, client):
    user = get_user_model().objects.get(username="finance_manager")
    assert user.check_password(STAFF_PASSWORD) and user.is_staff
    assert client.login(username="finance_manager", password=STAFF_PASSWORD)
    assert client.get("/console/autofinance/loanapplication/").status_code == 200
    assert client.get("/console/autofinance/loanapplication/report/").status_code == 200


def test_the_reports_are_right_on_the_demo_data(loaded):
    """Recounted here from the rows themselves, not through the selectors: a car counts in the
    China-time month it was delivered and is financed when its sale is; the income the report shows
    over every month of the demo is what the ledger's three income accounts hold."""
    from collections import Counter
    from zoneinfo import ZoneInfo

    from weishang.autofinance.models import Payment
    from weishang.ledger.models import Account, Purpose

    china = ZoneInfo("Asia/Shanghai")
    months = selectors.recent_months(12)  # the demo's sales go back five months
    cars, financed = Counter(), Counter()
    by_consultant: dict[int, list[int]] = {}
    for sale in CarSale.objects.exclude(delivered_at=None):
        month = sale.delivered_at.astimezone(china).strftime("%Y-%m")
        assert month in months
        is_financed = sale.payment == Payment.FINANCED
        cars[month] += 1
        financed[month] += is_financed
        row = by_consultant.setdefault(sale.consultant_id, [0, 0])
        row[0] += 1
        row[1] += is_financed
    report = {r["month"]: r for r in selectors.penetration_by_month(months)}
    for month in months:
        assert (report[month]["cars"], report[month]["financed"]) == (cars[month], financed[month]), month
        if cars[month]:
            expected = (Decimal(financed[month]) * 100 / cars[month]).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            assert report[month]["rate"] == expected, month
    assert sum(cars.values()) >= 20 and 0 < sum(financed.values()) < sum(cars.values())
    consultants = {r["consultant_id"]: [r["cars"], r["financed"]] for r in selectors.penetration_by_consultant(months)}
    assert consultants == by_consultant

    income = selectors.finance_income(months)
    books = {
        p: sum(Account.objects.filter(purpose=p).values_list("balance", flat=True), Decimal("0"))
        for p in (
            Purpose.BRAND_FINANCE_COMMISSION_INCOME,
            Purpose.BRAND_LOAN_SERVICE_FEE_INCOME,
            Purpose.BRAND_FINANCE_INCENTIVE_INCOME,
        )
    }
    assert sum(r["commission"] for r in income) == books[Purpose.BRAND_FINANCE_COMMISSION_INCOME] > 0
    assert sum(r["service_fees"] for r in income) == books[Purpose.BRAND_LOAN_SERVICE_FEE_INCOME] > 0
    assert sum(r["incentive"] for r in income) == books[Purpose.BRAND_FINANCE_INCENTIVE_INCOME]
    for r in income:
        if r["cars"]:
            assert r["per_car"] == (r["total"] / r["cars"]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
