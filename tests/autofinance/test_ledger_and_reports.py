"""The dealer's finance income in the ledger, worked out by hand, and the reports on a small
dataset computed by hand; ``ledger verify`` and ``autofinance_verify`` hold throughout."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from weishang.autofinance import selectors, services
from weishang.autofinance.models import ConsentChannel, PenetrationIncentive
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.ledger.models import Account, Purpose
from weishang.ledger.selectors import ledger_verify

from .helpers import D, quoted_application, run

pytestmark = pytest.mark.django_db
P = Purpose


def balance(purpose) -> Decimal:
    account = Account.objects.filter(owner__isnull=True, purpose=purpose).first()
    return account.balance if account else D("0.00")


def present_value(payments: list[Decimal], annual_rate: Decimal) -> Decimal:
    """Σ payment_k / (1 + r)^k at the monthly rate r = annual / 1200 (written here, apart from the app)."""
    r = annual_rate / Decimal(1200)
    return sum((p / (1 + r) ** (k + 1) for k, p in enumerate(payments)), Decimal(0))


def new_sale(desk, people, *, price="200000", consultant=None, customer="张三"):
    car = services.car_save(model="凯美瑞", price=price)
    person = services.customer_save(name=customer, phone="13800138000")
    return services.sale_create(customer=person, car=car, consultant=consultant or people["consultant"])


def test_the_postings_worked_out_by_hand(sale, desk, people, clock):
    """Two financed cars and one cash car delivered in November 2026.

    A — the captive lender's 36 months at 2.88% (the manufacturer pays the subsidy), ¥140,000 financed:
        signed: cash / service fee income ¥1,500.00;
        disbursed: commission receivable / commission income 2% × 140,000 = ¥2,800.00 (no dealer subsidy);
        commission received: cash / commission receivable ¥2,800.00.
    B — the bank's 0% for 12 months (the dealer pays the subsidy), ¥100,000 financed:
        signed: cash / service fee income 1% × 100,000 = ¥1,000.00;
        disbursed: commission receivable / commission income 1.5% × 100,000 = ¥1,500.00, and
        subsidy expense / cash S, where S = 100,000 − PV at 4.5% of the customer's payments
        (11 × ¥8,333.33 and ¥8,333.37), to the fen.
    Incentive for 2026-11: 2 of 3 delivered cars financed = 66.7% ≥ 50% → 2 × ¥500 = ¥1,000.00.

    Balances: service fee income 2,500.00; commission income 4,300.00; commission receivable 1,500.00
    (B's not yet paid); incentive income and receivable 1,000.00; subsidy expense S;
    cash 1,500 + 1,000 + 2,800 − S."""
    clock.freeze(datetime(2026, 11, 10, 10, 0))
    a = run(quoted_application(sale, desk["p36"]), "close", people)
    sale_b = new_sale(desk, people, price="150000", customer="李四")
    b = run(quoted_application(sale_b, desk["p12"], down="50000", months=12), "deliver", people)
    services.sale_deliver(sale=new_sale(desk, people, customer="王五"), by=people["consultant"])
    assert a.subsidy_payer == "manufacturer" and a.subsidy_entry is None
    services.commission_receive(application=a, by=people["finance"])

    s = (D("100000") - present_value([D("8333.33")] * 11 + [D("8333.37")], D("4.5"))).quantize(D("0.01"))
    assert b.subsidy_cost == s and b.subsidy_payer == "dealer"
    incentive = services.incentive_accrue(month="2026-11", threshold_pct="50", per_car="500", by=people["manager"])
    assert (incentive.cars, incentive.financed, incentive.amount) == (3, 2, D("1000.00"))

    assert balance(P.BRAND_LOAN_SERVICE_FEE_INCOME) == D("2500.00")
    assert balance(P.BRAND_FINANCE_COMMISSION_INCOME) == D("4300.00")
    assert balance(P.BRAND_FINANCE_COMMISSION_RECEIVABLE) == D("1500.00")
    assert balance(P.BRAND_FINANCE_INCENTIVE_INCOME) == D("1000.00")
    assert balance(P.BRAND_FINANCE_INCENTIVE_RECEIVABLE) == D("1000.00")
    assert balance(P.BRAND_FINANCE_SUBSIDY_EXPENSE) == s
    assert balance(P.BRAND_CASH) == D("1500") + D("1000") + D("2800") - s
    assert ledger_verify() == [] and services.autofinance_verify() == []

    services.incentive_receive(incentive=incentive, by=people["finance"])
    services.commission_receive(application=b, by=people["finance"])
    assert balance(P.BRAND_FINANCE_COMMISSION_RECEIVABLE) == D("0.00")
    assert balance(P.BRAND_FINANCE_INCENTIVE_RECEIVABLE) == D("0.00")
    assert ledger_verify() == [] and services.autofinance_verify() == []

    # finance income per car in November: (4,300 + 2,500 + 1,000) / 3 cars = 2,600.00; per financed car 3,900.00
    (row,) = selectors.finance_income(["2026-11"])
    assert (row["commission"], row["service_fees"], row["incentive"], row["total"]) == (
        D("4300.00"),
        D("2500.00"),
        D("1000.00"),
        D("7800.00"),
    )
    assert (row["cars"], row["per_car"], row["per_financed_car"]) == (3, D("2600.00"), D("3900.00"))


def test_money_is_received_once_and_only_when_owed(sale, desk, people):
    application = run(quoted_application(sale, desk["p36"]), "sign", people)
    with pytest.raises(BusinessError):  # not yet accrued
        services.commission_receive(application=application, by=people["finance"])
    application = (
        run(application, "disburse", people)
        if False
        else services.application_move(application=application, move="disburse", by=people["manager"])
    )
    with pytest.raises(Forbidden):
        services.commission_receive(application=application, by=people["consultant"])
    services.commission_receive(application=application, by=people["finance"])
    with pytest.raises(Conflict):
        services.commission_receive(application=application, by=people["finance"])
    assert balance(P.BRAND_CASH) == D("1500.00") + D("2800.00")
    assert services.autofinance_verify() == []


def test_an_incentive_is_recorded_once_and_nothing_below_the_threshold(sale, desk, people, clock):
    clock.freeze(datetime(2026, 10, 5, 10, 0))
    services.sale_deliver(sale=sale, by=people["consultant"])  # 1 car, cash: 0% financed
    below = services.incentive_accrue(month="2026-10", threshold_pct="30", per_car="500")
    assert (below.amount, below.entry) == (D("0.00"), None)
    with pytest.raises(Conflict):
        services.incentive_accrue(month="2026-10", threshold_pct="30", per_car="500")
    with pytest.raises(BusinessError):
        services.incentive_receive(incentive=below)
    for month in ["2026-13", "26-10", "'; --", ""]:
        with pytest.raises(BusinessError):
            services.incentive_accrue(month=month, threshold_pct="30", per_car="500")
    with pytest.raises(BusinessError):
        services.incentive_accrue(month="2026-09", threshold_pct="130", per_car="500")
    assert PenetrationIncentive.objects.count() == 1
    assert services.autofinance_verify() == []


def test_verify_finds_a_posting_the_applications_do_not_explain(sale, desk, people):
    from weishang.ledger import services as ledger

    run(quoted_application(sale, desk["p36"]), "disburse", people)
    assert services.autofinance_verify() == []
    ledger.journal_post(
        lines=[
            ledger.debit(ledger.account_for(owner=None, purpose=P.BRAND_CASH), D("10")),
            ledger.credit(ledger.account_for(owner=None, purpose=P.BRAND_FINANCE_COMMISSION_INCOME), D("10")),
        ],
        memo="stray",
    )
    (problem,) = services.autofinance_verify()
    assert "brand_fin_commission_income" in problem and "2810.00" in problem


def test_the_reports_on_a_small_dataset(desk, people, staff, clock):
    """October 2026: 2 cars delivered (王 1 financed, 李 1 cash) → 50.0%.
    November 2026: 3 delivered (王 2 financed, 李 1 cash) → 66.7%.
    By consultant over both months: 王 3 cars, 3 financed → 100.0%; 李 2 cars, 0 financed → 0.0%.
    Lenders (applications submitted in the two months):
    captive: 3 submitted — approved after 4 h and 10 h, declined after 6 h → 66.7%, median 6.0 h;
    bank: 1 submitted, waiting → no rate yet."""
    wang, li = people["consultant"], staff("sales_consultant", "李顾问")

    def financed(at, consultant, hours_to_decision=2, decline=False, deliver=True, product="p36"):
        clock.freeze(at)
        sale = new_sale(desk, people, consultant=consultant)
        months = 12 if product == "p12" else 36
        application = run(quoted_application(sale, desk[product], months=months), "submit")
        if not deliver and hours_to_decision is None:
            return application
        clock.freeze(at + timedelta(hours=hours_to_decision))
        if decline:
            return services.application_move(application=application, move="decline", reasons="收入不足")
        application = services.application_move(application=application, move="approve")
        if deliver:
            run(application, "deliver")
        return application

    def cash(at, consultant):
        clock.freeze(at)
        services.sale_deliver(sale=new_sale(desk, people, consultant=consultant))

    financed(datetime(2026, 10, 8, 10), wang, hours_to_decision=4)
    cash(datetime(2026, 10, 20, 10), li)
    financed(datetime(2026, 11, 3, 10), wang, hours_to_decision=10)
    cash(datetime(2026, 11, 4, 10), li)
    financed(datetime(2026, 11, 6, 10), wang, product="p12")  # the bank approves in 2 h, delivered
    financed(datetime(2026, 11, 9, 10), wang, hours_to_decision=6, decline=True)
    financed(datetime(2026, 11, 12, 10), wang, hours_to_decision=None, deliver=False, product="p12")
    # the bank's approved one (p12) was submitted too: the bank has 2 submitted, 1 approved, 1 waiting.
    months = ["2026-10", "2026-11"]

    by_month = selectors.penetration_by_month(months)
    assert [(r["month"], r["cars"], r["financed"], r["rate"]) for r in by_month] == [
        ("2026-10", 2, 1, D("50.0")),
        ("2026-11", 3, 2, D("66.7")),
    ]
    by_consultant = selectors.penetration_by_consultant(months)
    assert [(r["name"], r["cars"], r["financed"], r["rate"]) for r in by_consultant] == [
        ("王顾问", 3, 3, D("100.0")),
        ("李顾问", 2, 0, D("0.0")),
    ]
    lenders = {r["lender"]: r for r in selectors.lender_approvals(months)}
    captive = lenders["某某汽车金融"]
    assert (captive["submitted"], captive["approved"], captive["declined"]) == (3, 2, 1)
    assert (captive["rate"], captive["median_hours"]) == (D("66.7"), D("6.0"))
    bank = lenders["招商银行信用卡分期"]
    assert (bank["submitted"], bank["approved"], bank["waiting"], bank["rate"]) == (2, 1, 1, D("100.0"))
    assert ledger_verify() == [] and services.autofinance_verify() == []


def test_consent_recorded_in_person_counts_for_that_lender_only(sale, desk, people):
    application = quoted_application(sale, desk["p36"], consent=False)
    services.consent_record(sale=sale, lender=desk["captive"], channel=ConsentChannel.WECHAT, reference="wx-1")
    done = services.application_move(application=application, move="submit")
    assert done.consent.channel == ConsentChannel.WECHAT
