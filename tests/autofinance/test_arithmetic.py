"""The car loan desk's arithmetic (M15), checked against worked examples and against a separate
computation written here: the closed-form payment in exact fractions, the bank's rounding done by
hand, and the APR found as a root of the present-value polynomial (numpy.roots), not by the
module's own Newton search."""

from __future__ import annotations

import ast
import doctest
import json
import os
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from weishang.autofinance import arithmetic
from weishang.autofinance.arithmetic import METHODS, LoanTermsError, apr, schedule, subsidy_cost

D = Decimal
CASES = [  # principal, months, annual rate in percent
    ("100000", 36, "4.75"),
    ("100000", 36, "2.88"),
    ("200000", 60, "4.9"),
    ("100000", 12, "6.5"),
    ("150000", 24, "3.85"),
    ("86800", 48, "7.99"),
    ("300000", 120, "12"),
    ("50000", 6, "0.5"),
]


# ---------------------------------------------------------------------------------------
# The separate computation
# ---------------------------------------------------------------------------------------


def fen(x: Fraction) -> Decimal:
    """Round an exact fraction half up to the fen."""
    return (D(x.numerator) / D(x.denominator)).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def closed_form_payment(principal: str, months: int, rate: str) -> Decimal:
    """A = P·r·(1+r)^n / ((1+r)^n − 1), r = rate / 1200, exactly in fractions, then to the fen."""
    r = Fraction(rate) / 1200
    if r == 0:
        return fen(Fraction(principal) / months)
    growth = (1 + r) ** months
    return fen(Fraction(principal) * r * growth / (growth - 1))


def irr_percent(received: Decimal, payments: list[Decimal]) -> float:
    """The annual IRR in percent from the real root v in (0, 1.5) of Σ p_k v^k − received."""
    coefficients = [float(p) for p in reversed(payments)] + [-float(received)]
    roots = [root.real for root in np.roots(coefficients) if abs(root.imag) < 1e-9 and 0 < root.real < 1.5]
    assert len(roots) == 1, roots
    return (1 / roots[0] - 1) * 1200


def present_value(payments: list[Decimal], rate: str) -> Fraction:
    r = Fraction(rate) / 1200
    return sum((Fraction(p) / (1 + r) ** k for k, p in enumerate(payments, start=1)), Fraction(0))


# ---------------------------------------------------------------------------------------
# Worked examples (what a bank's calculator shows)
# ---------------------------------------------------------------------------------------


def test_100000_over_36_months_at_4_75_is_2985_88_a_month():
    loan = schedule(principal=D("100000"), months=36, annual_rate=D("4.75"))
    first, last = loan.periods[0], loan.periods[-1]
    assert (first.payment, first.interest, first.principal, first.balance) == (
        D("2985.88"),
        D("395.83"),
        D("2590.05"),
        D("97409.95"),
    )
    assert all(p.payment == D("2985.88") for p in loan.periods[:-1])
    assert (last.payment, last.principal, last.interest, last.balance) == (D("2985.80"), D("2974.03"), D("11.77"), 0)
    assert loan.total_interest == D("7491.60")
    assert loan.total_paid == D("107491.60") == loan.principal + loan.total_interest
    assert loan.apr == D("4.7500")


def test_equal_principal_100000_over_36_months_at_2_88():
    loan = schedule(principal=D("100000"), months=36, annual_rate=D("2.88"), method="equal_principal")
    assert [p.principal for p in loan.periods] == [D("2777.78")] * 35 + [D("2777.70")]
    assert loan.periods[0].interest == D("240.00")  # 100000 × 0.24 %
    assert loan.periods[1].interest == D("233.33")  # 97222.22 × 0.24 % = 233.333…
    assert loan.periods[-1].payment == D("2784.37")  # 2777.70 + 6.67
    assert loan.total_interest == D("4440.00")
    payments = [p.payment for p in loan.periods]
    assert payments == sorted(payments, reverse=True)  # falling month by month


def test_flat_3_percent_over_36_months():
    loan = schedule(principal=D("100000"), months=36, annual_rate=D("3"), method="flat")
    assert loan.total_interest == D("9000.00")  # 100000 × 3 % × 3 years
    assert [p.interest for p in loan.periods] == [D("250.00")] * 36
    assert [p.payment for p in loan.periods] == [D("3027.78")] * 35 + [D("3027.70")]
    assert [p.balance for p in loan.periods][:2] == [D("97222.22"), D("94444.44")]


# ---------------------------------------------------------------------------------------
# Against the separate computation, for several rates and terms, to the fen
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("principal,months,rate", CASES)
def test_equal_instalment_matches_the_closed_form_and_the_banks_rounding(principal, months, rate):
    loan = schedule(principal=D(principal), months=months, annual_rate=D(rate))
    payment = closed_form_payment(principal, months, rate)
    r = Fraction(rate) / 1200
    balance = D(principal)
    for period in loan.periods:
        interest = fen(Fraction(balance) * r)
        repaid = payment - interest if period.number < months else balance
        balance -= repaid
        assert (period.payment, period.principal, period.interest, period.balance) == (
            repaid + interest,
            repaid,
            interest,
            balance,
        ), period.number
    assert balance == 0
    assert [p.number for p in loan.periods] == list(range(1, months + 1))
    assert sum(p.principal for p in loan.periods) == D(principal)
    # the last instalment absorbs the rounding: within a fen a month of the others
    assert abs(loan.periods[-1].payment - payment) <= D("0.01") * months
    assert loan.total_interest == sum(p.payment for p in loan.periods) - D(principal)


@pytest.mark.parametrize("principal,months,rate", CASES)
def test_equal_principal_matches_a_separate_computation(principal, months, rate):
    loan = schedule(principal=D(principal), months=months, annual_rate=D(rate), method="equal_principal")
    share = fen(Fraction(principal) / months)
    r = Fraction(rate) / 1200
    for k, period in enumerate(loan.periods, start=1):
        owed_before = D(principal) - share * (k - 1)
        expected_principal = share if k < months else owed_before
        assert period.principal == expected_principal
        assert period.interest == fen(Fraction(owed_before) * r)
        assert period.payment == period.principal + period.interest
        assert period.balance == owed_before - expected_principal
    assert loan.periods[-1].balance == 0
    # Σ interest ≈ P·r·(n+1)/2 (the closed form without rounding), within half a fen a month
    exact = Fraction(principal) * r * (months + 1) / 2
    assert abs(Fraction(loan.total_interest) - exact) <= Fraction(months, 200) + abs(
        Fraction(D(principal) - share * months) * r * months
    )


@pytest.mark.parametrize("principal,months,rate", CASES)
def test_flat_interest_is_principal_times_rate_times_years_spread_evenly(principal, months, rate):
    loan = schedule(principal=D(principal), months=months, annual_rate=D(rate), method="flat")
    total = fen(Fraction(principal) * Fraction(rate) / 100 * months / 12)
    assert loan.total_interest == total
    assert sum(p.principal for p in loan.periods) == D(principal)
    each = fen(Fraction(total) / months)
    assert [p.interest for p in loan.periods[:-1]] == [each] * (months - 1)
    assert loan.periods[-1].interest == total - each * (months - 1)
    assert len({p.payment for p in loan.periods[:-1]}) == 1


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("principal,months", [("100000", 12), ("36000", 36), ("128888", 24)])
def test_a_0_percent_subsidised_product_has_equal_payments_and_no_interest(method, principal, months):
    loan = schedule(principal=D(principal), months=months, annual_rate=D("0"), method=method)
    assert loan.total_interest == 0 and all(p.interest == 0 for p in loan.periods)
    assert loan.total_paid == D(principal)
    share = fen(Fraction(principal) / months)
    assert [p.payment for p in loan.periods[:-1]] == [share] * (months - 1)
    assert loan.periods[-1].payment == D(principal) - share * (months - 1)
    assert loan.apr == D("0.0000")


def test_100000_at_0_percent_for_12_months():
    loan = schedule(principal=D("100000"), months=12, annual_rate=D("0"))
    assert [p.payment for p in loan.periods] == [D("8333.33")] * 11 + [D("8333.37")]


# ---------------------------------------------------------------------------------------
# APR
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["equal_instalment", "equal_principal"])
@pytest.mark.parametrize("principal,months,rate", [case for case in CASES if case[1] >= 12])
def test_the_apr_of_a_fee_free_loan_is_its_nominal_rate(method, principal, months, rate):
    loan = schedule(principal=D(principal), months=months, annual_rate=D(rate), method=method)
    assert loan.apr == D(rate).quantize(D("0.0001"))


@pytest.mark.parametrize("method", ["equal_instalment", "equal_principal"])
def test_the_apr_is_that_of_the_rounded_payments(method):
    """The APR is the IRR of what is really paid: each month's interest rounded to the fen moves it
    from the nominal rate by less than 0.0001 %, and on a short loan that can show in the 4th decimal
    (50,000 yuan over 6 months at 0.5 %: 0.4999 %)."""
    loan = schedule(principal=D("50000"), months=6, annual_rate=D("0.5"), method=method)
    assert abs(loan.apr - D("0.5")) <= D("0.0001")
    assert abs(float(loan.apr) - irr_percent(D("50000"), [p.payment for p in loan.periods])) < 0.00005


@pytest.mark.parametrize("principal,months,rate", CASES)
def test_fees_raise_the_apr_as_the_irr_of_what_was_received(principal, months, rate):
    fees = fen(Fraction(principal) * Fraction(3, 100))
    loan = schedule(principal=D(principal), months=months, annual_rate=D(rate), fees=fees)
    plain = schedule(principal=D(principal), months=months, annual_rate=D(rate))
    assert loan.periods == plain.periods  # fees change no payment
    assert loan.apr > plain.apr
    assert loan.total_cost == loan.total_paid + fees
    independent = irr_percent(D(principal) - fees, [p.payment for p in loan.periods])
    assert abs(float(loan.apr) - independent) < 0.0001


def test_flat_3_percent_over_36_months_has_an_apr_near_1_9_times_the_flat_rate():
    loan = schedule(principal=D("100000"), months=36, annual_rate=D("3"), method="flat")
    independent = irr_percent(D("100000"), [p.payment for p in loan.periods])
    assert abs(float(loan.apr) - independent) < 0.00005
    assert loan.apr == D("5.6814")
    assert D("1.8") < loan.apr / D("3") < D("1.9")


@pytest.mark.parametrize("principal,months,rate", CASES)
def test_the_flat_rate_apr_is_solved_not_approximated(principal, months, rate):
    loan = schedule(principal=D(principal), months=months, annual_rate=D(rate), method="flat", fees=D("500"))
    independent = irr_percent(D(principal) - D("500"), [p.payment for p in loan.periods])
    assert abs(float(loan.apr) - independent) < 0.00005


def test_0_percent_without_fees_has_apr_0_and_with_fees_above_0():
    assert apr(received=D("36000"), payments=[D("1000")] * 36) == D("0.0000")
    with_fees = schedule(principal=D("36000"), months=36, annual_rate=D("0"), fees=D("1000"))
    assert with_fees.apr == D(str(round(irr_percent(D("35000"), [D("1000")] * 36), 4)))
    assert with_fees.apr > D("1")


def test_apr_below_zero_when_less_is_paid_back_than_received():
    assert apr(received=D("1000"), payments=[D("400"), D("500")]) == D(
        str(round(irr_percent(D("1000"), [D("400"), D("500")]), 4))
    )
    assert apr(received=D("1000"), payments=[D("400"), D("500")]) < 0


def test_apr_of_a_year_at_12_percent_paid_once_a_year():
    assert apr(received=D("100"), payments=[D("112")], periods_per_year=1) == D("12.0000")


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"received": D("0"), "payments": [D("1")]}, "received"),
        ({"received": D("10"), "payments": []}, "payments"),
        ({"received": D("10"), "payments": [D("5"), D("-1")]}, "payments"),
        ({"received": D("10"), "payments": [D("0")]}, "payments"),
        ({"received": D("10"), "payments": [D("11")], "periods_per_year": 0}, "periods_per_year"),
    ],
)
def test_apr_refuses_what_has_no_rate(kwargs, field):
    with pytest.raises(LoanTermsError) as refused:
        apr(**kwargs)
    assert refused.value.field == field


# ---------------------------------------------------------------------------------------
# Subsidies
# ---------------------------------------------------------------------------------------


def test_a_0_percent_12_month_subsidy_against_a_6_5_percent_lender():
    cost = subsidy_cost(principal=D("100000"), months=12, customer_rate=D("0"), lender_rate=D("6.5"))
    payments = [D("8333.33")] * 11 + [D("8333.37")]
    assert cost == fen(100000 - present_value(payments, "6.5")) == D("3433.61")


@pytest.mark.parametrize(
    "principal,months,customer,lender,method",
    [
        ("100000", 36, "2.88", "6.5", "equal_instalment"),
        ("200000", 24, "0", "5.8", "equal_instalment"),
        ("150000", 36, "1.99", "6.5", "equal_principal"),
        ("120000", 12, "0", "7.2", "flat"),
    ],
)
def test_the_subsidy_is_the_principal_less_the_present_value_at_the_lenders_rate(
    principal, months, customer, lender, method
):
    cost = subsidy_cost(
        principal=D(principal), months=months, customer_rate=D(customer), lender_rate=D(lender), method=method
    )
    loan = schedule(principal=D(principal), months=months, annual_rate=D(customer), method=method)
    assert cost == fen(Fraction(principal) - present_value([p.payment for p in loan.periods], lender))
    assert cost > 0
    # handing the lender the subsidy at disbursement makes its return the lender's rate
    lender_return = irr_percent(D(principal) - cost, [p.payment for p in loan.periods])
    assert abs(lender_return - float(lender)) < 0.001


def test_a_36_month_2_88_percent_subsidy_costs_more_than_a_12_month_0_percent_one():
    long = subsidy_cost(principal=D("100000"), months=36, customer_rate=D("2.88"), lender_rate=D("6.5"))
    short = subsidy_cost(principal=D("100000"), months=12, customer_rate=D("0"), lender_rate=D("6.5"))
    assert long > short


@pytest.mark.parametrize("method", ["equal_instalment", "equal_principal"])
def test_no_subsidy_when_the_rates_are_equal_and_a_spread_when_the_customer_pays_more(method):
    terms = {"principal": D("100000"), "months": 36, "lender_rate": D("6.5"), "method": method}
    assert subsidy_cost(customer_rate=D("6.5"), **terms) == D("0.00")
    above = subsidy_cost(customer_rate=D("8"), **terms)
    loan = schedule(principal=D("100000"), months=36, annual_rate=D("8"), method=method)
    assert above == fen(100000 - present_value([p.payment for p in loan.periods], "6.5")) < 0


def test_a_flat_rate_equal_to_the_lenders_rate_is_no_subsidy_but_a_spread():
    # flat 6.5 % is an APR of about 12 %: the lender earns far more than 6.5 %
    spread = subsidy_cost(principal=D("100000"), months=36, customer_rate=D("6.5"), lender_rate=D("6.5"), method="flat")
    assert spread < D("-8000")


def test_a_bad_customer_rate_is_named_as_such():
    with pytest.raises(LoanTermsError) as refused:
        subsidy_cost(principal=D("100000"), months=12, customer_rate=D("-1"), lender_rate=D("6.5"))
    assert refused.value.field == "customer_rate"
    assert "customer_rate" in refused.value.message and "客户利率" in refused.value.message_zh
    with pytest.raises(LoanTermsError) as refused:
        subsidy_cost(principal=D("100000"), months=12, customer_rate=D("0"), lender_rate=D("40"))
    assert refused.value.field == "lender_rate"


# ---------------------------------------------------------------------------------------
# Inputs refused, the JSON shape, purity
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change,field,chinese",
    [
        ({"principal": D("-100000")}, "principal", "贷款本金"),
        ({"principal": D("0")}, "principal", "贷款本金"),
        ({"principal": D("999.99")}, "principal", "贷款本金"),
        ({"principal": D("100000.001")}, "principal", "贷款本金"),
        ({"principal": "ten thousand"}, "principal", "贷款本金"),
        ({"principal": 100000.0}, "principal", "贷款本金"),
        ({"months": 0}, "months", "还款期数"),
        ({"months": 121}, "months", "还款期数"),
        ({"months": "12.5"}, "months", "还款期数"),
        ({"months": "twelve"}, "months", "还款期数"),
        ({"months": "1e999999999"}, "months", "还款期数"),
        ({"principal": "1e999999999"}, "principal", "贷款本金"),
        ({"annual_rate": D("-0.01")}, "annual_rate", "年利率"),
        ({"annual_rate": D("36.01")}, "annual_rate", "年利率"),
        ({"annual_rate": D("NaN")}, "annual_rate", "年利率"),
        ({"annual_rate": D("4.12345")}, "annual_rate", "年利率"),
        ({"annual_rate": "0,5"}, "annual_rate", "年利率"),  # not read as 5 %
        ({"method": "balloon"}, "method", "还款方式"),
        ({"fees": D("-1")}, "fees", "手续费"),
        ({"fees": D("100000")}, "fees", "手续费"),
    ],
)
def test_bad_terms_are_refused_naming_the_field(change, field, chinese):
    terms = {"principal": D("100000"), "months": 36, "annual_rate": D("4.75"), **change}
    with pytest.raises(LoanTermsError) as refused:
        schedule(**terms)
    error = refused.value
    assert isinstance(error, ValueError)
    assert error.field == field
    assert error.message.startswith(field) and str(error) == error.message
    assert chinese in error.message_zh and f"（{field}）" in error.message_zh
    assert error.text("zh-hans") == error.message_zh and error.text("en") == error.message


def test_terms_as_text_read_as_written():
    loan = schedule(principal="100,000.00", months="36", annual_rate="12")
    assert (loan.principal, loan.months, str(loan.annual_rate)) == (D("100000.00"), 36, "12")
    assert loan.first_payment == closed_form_payment("100000", 36, "12")


def test_present_value_is_what_the_lender_pays_for_the_customers_payments():
    loan = schedule(principal=D("100000"), months=36, annual_rate=D("2.88"))
    worth = arithmetic.present_value(payments=[p.payment for p in loan.periods], annual_rate=D("6.5"))
    assert worth == fen(present_value([p.payment for p in loan.periods], "6.5"))
    assert worth == D("100000") - subsidy_cost(
        principal=D("100000"), months=36, customer_rate=D("2.88"), lender_rate=D("6.5")
    )


def test_the_limits_themselves_are_accepted():
    assert len(schedule(principal=D("1000"), months=120, annual_rate=D("36")).periods) == 120
    assert len(schedule(principal="100000000", months="1", annual_rate="0", method="flat").periods) == 1


@pytest.mark.parametrize("method", METHODS)
def test_no_period_goes_below_zero_at_the_edges(method):
    for principal, months, rate in [("1000", 120, "36"), ("1000", 120, "0.0001"), ("1000.01", 119, "35.9999")]:
        loan = schedule(principal=D(principal), months=months, annual_rate=D(rate), method=method)
        assert all(p.principal >= 0 and p.interest >= 0 and p.balance >= 0 for p in loan.periods)
        assert sum(p.principal for p in loan.periods) == D(principal)
        assert loan.periods[-1].balance == 0


def test_as_dict_has_the_stable_json_shape():
    loan = schedule(principal=D("100000"), months=36, annual_rate=D("2.88"), fees=D("1500"))
    data = json.loads(json.dumps(loan.as_dict()))
    assert list(data) == [
        "method",
        "principal",
        "months",
        "annual_rate",
        "fees",
        "periods",
        "total_interest",
        "total_paid",
        "apr",
    ]
    assert data["principal"] == "100000.00" and data["fees"] == "1500.00" and data["months"] == 36
    assert data["annual_rate"] == "2.8800"
    assert list(data["periods"][0]) == ["number", "payment", "principal", "interest", "balance"]
    assert data["periods"][0] == {
        "number": 1,
        "payment": "2902.84",
        "principal": "2662.84",
        "interest": "240.00",
        "balance": "97337.16",
    }
    assert data["periods"][-1]["balance"] == "0.00"
    assert data["apr"] == str(loan.apr) and len(data["apr"].split(".")[1]) == 4 and loan.apr > D("2.88")
    assert D(data["total_paid"]) == D("100000") + D(data["total_interest"])


def test_the_docstring_examples_hold():
    failed, attempted = doctest.testmod(arithmetic)
    assert attempted >= 6 and failed == 0


def test_the_arithmetic_imports_no_django():
    source = Path(arithmetic.__file__)
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            assert not any(n.startswith(("django", "weishang")) for n in names), names
    code = (
        "import json, sys\nimport weishang.autofinance.arithmetic\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'django')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(source.parents[2])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
