"""The demo dealer's finance desk: lenders of each kind, the subsidised products, sales over recent
months in every state, reports with numbers, the demo customer ready, and the ledger right."""

from __future__ import annotations

from decimal import Decimal

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
