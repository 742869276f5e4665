"""The car loan desk's arithmetic: repayment schedules, the true APR, the cost of a subsidy.

**Pure Python, no Django import** (like ``weishang.plans``): the desk's services, pages and the
``weishang autofinance schedule`` command call it; it knows nothing of the database.

Conventions
-----------
- Money is ``Decimal`` yuan, rounded ROUND_HALF_UP to the fen (0.01) the way a bank's schedule is:
  every period's figures are rounded, and the **last period absorbs the difference** so that the
  principal repaid is exactly the principal lent (and, for a flat-rate product, the interest paid is
  exactly the interest stated).
- Rates are annual percentages (``Decimal("2.88")`` is 2.88 % a year); the monthly rate is
  annual / 12 / 100. The payment and the APR are computed in a 50-digit decimal context.
- The APR is the internal rate of return of the cash flows, annualised by the number of periods a
  year (monthly IRR × 12): the rate ``r`` solving ``received = Σ payment_k / (1 + r)^k``, where
  ``received`` is the principal less the fees paid up front. It is the method the People's Bank of
  China requires for showing a loan's annualised rate (PBoC announcement [2021] No. 3) and the
  actuarial method of the US Regulation Z. It is solved (safeguarded Newton on a bracket), not
  approximated.

Worked examples (each checked against the closed form by hand, and in the tests):

>>> schedule(principal=Decimal("100000"), months=36, annual_rate=Decimal("4.75")).first_payment
Decimal('2985.88')

   100,000 yuan over 36 months at 4.75 %: r = 0.0475 / 12 = 0.00395833…, (1 + r)^36 = 1.15284…,
   payment = 100000 × r × 1.15284 / 0.15284 = 2,985.878… → **2,985.88** a month, what a bank's
   calculator shows; the first month's interest is 100000 × r = 395.83, its principal 2,590.05;
   the 36th payment, 2,985.80, repays the 2,974.03 left; total interest 7,491.60.

>>> s = schedule(principal=Decimal("100000"), months=36, annual_rate=Decimal("2.88"), method="equal_principal")
>>> s.periods[0].payment, s.periods[-1].payment, s.total_interest
(Decimal('3017.78'), Decimal('2784.37'), Decimal('4440.00'))

   Equal principal: 100000 / 36 = 2,777.78 a month (the last month 2,777.70); interest on the
   balance at 0.24 % a month: the first month 240.00, the last 2,777.70 × 0.0024 = 6.67, a payment of 2,784.37;
   total interest 240 × (36 + 35 + … + 1) / 36 = 4,440.00.

>>> f = schedule(principal=Decimal("100000"), months=36, annual_rate=Decimal("3"), method="flat")
>>> f.first_payment, f.total_interest, f.apr
(Decimal('3027.78'), Decimal('9000.00'), Decimal('5.6814'))

   Flat 3 % a year: interest 100000 × 3 % × 3 years = 9,000.00, spread evenly: 250.00 a month on top
   of 2,777.78 of principal. Because the interest is charged on the whole principal though half of
   it is repaid on average, the true APR is 5.6814 %, about 1.89 × the flat rate.

>>> subsidy_cost(principal=Decimal("100000"), months=12, customer_rate=Decimal("0"), lender_rate=Decimal("6.5"))
Decimal('3433.61')

   0 % for 12 months (8,333.33 a month, the last 8,333.37) while the lender's rate is 6.5 %: the
   customer's payments are worth 96,566.39 today at 6.5 % (Σ payment / (1 + 0.065/12)^k), so whoever
   pays the subsidy (the manufacturer) hands the lender 100,000 − 96,566.39 = **3,433.61** at disbursement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from functools import cached_property
from typing import Any

__all__ = [
    "METHODS",
    "LoanTermsError",
    "Period",
    "Schedule",
    "apr",
    "present_value",
    "schedule",
    "subsidy_cost",
]

METHODS = ("equal_instalment", "equal_principal", "flat")

FEN = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")  # rates and the APR: percent with four decimals
ZERO = Decimal("0")
MIN_PRINCIPAL = Decimal("1000")  # below this the fen rounding of 120 periods could overtake the loan
MAX_PRINCIPAL = Decimal("100000000")  # 1亿: every total still fits DecimalField(max_digits=14, decimal_places=2)
MAX_MONTHS = 120
MAX_RATE = Decimal("36")
THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
PRECISION = 50  # digits of the local decimal context for the payment, present values and the IRR

# The field names and how a person calls them, for the messages.
LABELS = {
    "principal": ("principal", "贷款本金"),
    "months": ("months", "还款期数"),
    "annual_rate": ("annual rate", "年利率"),
    "customer_rate": ("customer's rate", "客户利率"),
    "lender_rate": ("lender's rate", "资金方利率"),
    "fees": ("fees", "手续费"),
    "method": ("method", "还款方式"),
    "received": ("amount received", "实际到手金额"),
    "payments": ("payments", "还款额"),
    "periods_per_year": ("periods a year", "每年期数"),
}


class LoanTermsError(ValueError):
    """Loan terms the arithmetic refuses. ``field`` is the argument at fault (``principal``,
    ``months``, ``annual_rate``, ``fees``, ``method`` …); ``message`` says why in English and
    ``message_zh`` in Chinese, both naming the field. ``str(error)`` is the English message."""

    def __init__(self, field: str, message: str, message_zh: str):
        self.field = field
        self.message = message
        self.message_zh = message_zh
        super().__init__(message)

    def text(self, language: str | None = None) -> str:
        """The message in ``language`` (a Django language code): Chinese unless it is English."""
        return self.message if (language or "").lower().startswith("en") else self.message_zh


def _refuse(field: str, english: str, chinese: str) -> LoanTermsError:
    label_en, label_zh = LABELS.get(field, (field, field))
    named = field if label_en == field else f"{field} ({label_en})"
    return LoanTermsError(field, f"{named}: {english}", f"{label_zh}（{field}）：{chinese}")


# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------


def _number(value: object, field: str) -> Decimal:
    """A finite Decimal from a Decimal, an int or a str; never from a float (already inexact)."""
    if isinstance(value, float):
        raise _refuse(field, "give it as a Decimal or a string, not a float", "须以十进制数或文字给出，不能是浮点数")
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise _refuse(field, f"{value!r} is not a number", f"“{value!r}”不是数字")
    try:
        text = str(value).strip()
        if THOUSANDS.fullmatch(text):  # 100,000.00 as written on a contract; "4,75" is refused, not read as 475
            text = text.replace(",", "")
        number = value if isinstance(value, Decimal) else Decimal(text)
    except InvalidOperation:
        raise _refuse(field, f"{value!r} is not a number", f"“{value}”不是数字") from None
    if not number.is_finite():
        raise _refuse(field, f"{value!r} is not a number", f"“{value}”不是数字")
    return number


def _places(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _money(value: object, field: str, *, minimum: Decimal, maximum: Decimal) -> Decimal:
    amount = _number(value, field)
    if amount < minimum or amount > maximum:
        raise _refuse(
            field,
            f"{amount} yuan is outside {minimum:,} to {maximum:,} yuan",
            f"{amount} 元超出范围，须在 {minimum:,} 到 {maximum:,} 元之间",
        )
    if _places(amount.normalize()) > 2:
        raise _refuse(field, f"{amount} has more decimals than the fen (0.01)", f"{amount} 的小数位超过了分（0.01）")
    return amount.quantize(FEN)


def _months(value: object, field: str = "months") -> int:
    number = _number(value, field)
    if not 1 <= number <= MAX_MONTHS:  # before int(): "1e999999999" is never turned into a billion digits
        raise _refuse(
            field,
            f"{number} is outside 1 to {MAX_MONTHS} months",
            f"{number} 超出范围，须在 1 到 {MAX_MONTHS} 个月之间",
        )
    if number != number.to_integral_value():
        raise _refuse(field, f"{number} is not a whole number of months", f"{number} 不是整数个月")
    return int(number)


def _rate(value: object, field: str) -> Decimal:
    rate = _number(value, field)
    if rate < 0 or rate > MAX_RATE:
        raise _refuse(
            field,
            f"{rate}% is outside 0% to {MAX_RATE}% a year",
            f"{rate}% 超出范围，须在每年 0% 到 {MAX_RATE}% 之间",
        )
    if _places(rate.normalize()) > 4:
        raise _refuse(field, f"{rate}% has more than four decimals", f"{rate}% 的小数超过四位")
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()  # 12, not 1.2E+1


def _method(value: object) -> str:
    if value not in METHODS:
        choices = ", ".join(METHODS)
        raise _refuse("method", f"{value!r} is not one of {choices}", f"“{value}”不是可选的方式（{choices}）")
    return str(value)


def _fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def _even_share(total: Decimal, parts: int) -> Decimal:
    """``total / parts`` to the fen, for every part but the last (which takes what is left): rounded
    half up as a bank does, unless that would leave the last part below zero."""
    share = _fen(total / parts)
    if share * (parts - 1) > total:
        share = (total / parts).quantize(FEN, rounding=ROUND_DOWN)
    return share


# ---------------------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One month of a schedule: ``number`` from 1; ``balance`` is the principal still owed after it."""

    number: int
    payment: Decimal
    principal: Decimal
    interest: Decimal
    balance: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "payment": _text(self.payment),
            "principal": _text(self.principal),
            "interest": _text(self.interest),
            "balance": _text(self.balance),
        }


@dataclass(frozen=True)
class Schedule:
    """A loan's repayment schedule. ``annual_rate`` is the product's stated rate (for ``flat``, the
    flat rate); ``fees`` are paid up front, out of the principal, and count in ``apr``."""

    method: str
    principal: Decimal
    months: int
    annual_rate: Decimal
    fees: Decimal
    periods: tuple[Period, ...]

    @property
    def total_interest(self) -> Decimal:
        return sum((p.interest for p in self.periods), ZERO).quantize(FEN)

    @property
    def total_paid(self) -> Decimal:
        """Every payment added up (principal and interest; the fees are not in it)."""
        return sum((p.payment for p in self.periods), ZERO).quantize(FEN)

    @property
    def total_cost(self) -> Decimal:
        """What the loan costs the customer in all: the payments and the fees."""
        return (self.total_paid + self.fees).quantize(FEN)

    @property
    def first_payment(self) -> Decimal:
        return self.periods[0].payment

    @cached_property
    def apr(self) -> Decimal:
        """The true annual rate in percent with four decimals: the monthly IRR of receiving the
        principal less the fees and paying the schedule, times 12."""
        return apr(received=self.principal - self.fees, payments=[p.payment for p in self.periods])

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape (stable English keys; money as strings with two decimals, rates as percent
        strings with four)."""
        return {
            "method": self.method,
            "principal": _text(self.principal),
            "months": self.months,
            "annual_rate": _percent_text(self.annual_rate),
            "fees": _text(self.fees),
            "periods": [p.as_dict() for p in self.periods],
            "total_interest": _text(self.total_interest),
            "total_paid": _text(self.total_paid),
            "apr": _percent_text(self.apr),
        }


def _text(amount: Decimal) -> str:
    return str(amount.quantize(FEN))


def _percent_text(rate: Decimal) -> str:
    return str(rate.quantize(RATE_PLACES))


def _monthly(annual_rate: Decimal) -> Decimal:
    return annual_rate / 12 / 100


def _instalment_payment(*, principal: Decimal, months: int, annual_rate: Decimal) -> Decimal:
    """The equal instalment (等额本息) to the fen: P·r·(1+r)^n / ((1+r)^n − 1), or P / n at 0 %."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        r = _monthly(annual_rate)
        if r == 0:
            return _fen(principal / months)
        growth = (1 + r) ** months
        return _fen(principal * r * growth / (growth - 1))


def schedule(
    *,
    principal: Decimal | int | str,
    months: int | str,
    annual_rate: Decimal | int | str,
    method: str = "equal_instalment",
    fees: Decimal | int | str = Decimal("0"),
) -> Schedule:
    """The repayment schedule of ``principal`` yuan over ``months`` at ``annual_rate`` percent a year.

    - ``equal_instalment`` (等额本息): the same payment every month (the closed form, to the fen);
      each month's interest is the balance × the monthly rate, to the fen, and the rest of the
      payment repays principal; the last month repays the balance left, so its payment differs by
      the fen rounding.
    - ``equal_principal`` (等额本金): the principal / n every month (to the fen, the last month what
      is left) plus the interest on the balance; payments fall month by month.
    - ``flat`` (平息, 等本等息): interest = principal × the flat rate × years, to the fen, spread
      evenly over the months with the principal; the last month takes both remainders.

    ``fees`` (paid up front, 0 to less than the principal) change no payment; they count in the APR.
    Raises ``LoanTermsError`` naming the field when a term is out of range.
    """
    method = _method(method)
    principal = _money(principal, "principal", minimum=MIN_PRINCIPAL, maximum=MAX_PRINCIPAL)
    months = _months(months)
    annual_rate = _rate(annual_rate, "annual_rate")
    fees = _money(fees, "fees", minimum=ZERO, maximum=MAX_PRINCIPAL)
    if fees >= principal:
        raise _refuse(
            "fees", f"{fees} yuan is not less than the principal {principal}", f"{fees} 元须少于贷款本金 {principal} 元"
        )

    with localcontext() as ctx:
        ctx.prec = PRECISION
        r = _monthly(annual_rate)
        if method == "equal_instalment":
            periods = _equal_instalment(
                principal, months, r, _instalment_payment(principal=principal, months=months, annual_rate=annual_rate)
            )
        elif method == "equal_principal":
            periods = _equal_principal(principal, months, r)
        else:
            periods = _flat(principal, months, annual_rate)
    for period in periods:  # cannot happen within the limits above; a schedule is never wrong silently
        if period.principal < 0 or period.interest < 0 or period.balance < 0:
            raise _refuse(
                "principal", "too small for this term to be repaid to the fen", "对这个期限而言太小，无法按分还清"
            )
    return Schedule(
        method=method, principal=principal, months=months, annual_rate=annual_rate, fees=fees, periods=periods
    )


def _equal_instalment(principal: Decimal, months: int, r: Decimal, payment: Decimal) -> tuple[Period, ...]:
    periods = []
    balance = principal
    for number in range(1, months + 1):
        interest = _fen(balance * r)
        repaid = payment - interest if number < months else balance
        balance -= repaid
        periods.append(Period(number, repaid + interest, repaid, interest, balance))
    return tuple(periods)


def _equal_principal(principal: Decimal, months: int, r: Decimal) -> tuple[Period, ...]:
    share = _even_share(principal, months)
    periods = []
    balance = principal
    for number in range(1, months + 1):
        interest = _fen(balance * r)
        repaid = share if number < months else balance
        balance -= repaid
        periods.append(Period(number, repaid + interest, repaid, interest, balance))
    return tuple(periods)


def _flat(principal: Decimal, months: int, annual_rate: Decimal) -> tuple[Period, ...]:
    total_interest = _fen(principal * annual_rate / 100 * months / 12)
    share = _even_share(principal, months)
    interest_share = _even_share(total_interest, months)
    periods = []
    balance = principal
    for number in range(1, months + 1):
        last = number == months
        repaid = balance if last else share
        interest = total_interest - interest_share * (months - 1) if last else interest_share
        balance -= repaid
        periods.append(Period(number, repaid + interest, repaid, interest, balance))
    return tuple(periods)


# ---------------------------------------------------------------------------------------
# APR and present values
# ---------------------------------------------------------------------------------------


def _present_value(payments: Sequence[Decimal], rate: Decimal) -> tuple[Decimal, Decimal]:
    """Σ p_k (1+rate)^-k and its derivative in ``rate``, by Horner's rule in v = 1/(1+rate)."""
    v = 1 / (1 + rate)
    value = ZERO
    slope = ZERO  # d/dv of Σ p_k v^k
    for payment in reversed(payments):
        slope = slope * v + value
        value = value * v + payment
    value *= v  # the first payment is one period away
    slope = slope * v + value / v  # d/dv of v·Q(v) = Q + v·Q'
    return value, -slope * v * v  # dv/drate = −v²


def _irr(received: Decimal, payments: Sequence[Decimal]) -> Decimal:
    """The periodic rate r with Σ p_k/(1+r)^k = received (to about 40 digits)."""
    total = sum(payments, ZERO)
    if total == received:
        return ZERO
    # The present value falls as the rate rises: bracket the root, then safeguarded Newton.
    if total > received:
        low, high = ZERO, Decimal(1)
        while _present_value(payments, high)[0] > received:
            low, high = high, high * 2
    else:
        low, high = Decimal("-0.5"), ZERO
        while _present_value(payments, low)[0] < received:
            high, low = low, (low - 1) / 2  # halfway to −1, where the present value grows without bound
    rate = (low + high) / 2
    tolerance = Decimal("1e-40")
    for _ in range(400):
        value, slope = _present_value(payments, rate)
        gap = value - received
        if gap == 0:
            return rate
        if gap > 0:
            low = rate
        else:
            high = rate
        step = rate - gap / slope if slope else low - 1
        nxt = step if low < step < high else (low + high) / 2
        if abs(nxt - rate) < tolerance or high - low < tolerance:
            return nxt
        rate = nxt
    return rate  # pragma: no cover - the bracket halves at worst, 400 times is far beyond 40 digits


def apr(*, received: Decimal, payments: Sequence[Decimal], periods_per_year: int = 12) -> Decimal:
    """The annual percentage rate (percent, four decimals) of receiving ``received`` now and paying
    ``payments`` at the end of each period: the periodic IRR × ``periods_per_year`` × 100.

    >>> apr(received=Decimal("100000"), payments=[Decimal("2985.88")] * 35 + [Decimal("2985.80")])
    Decimal('4.7500')
    """
    received = _number(received, "received")
    if received <= 0:
        raise _refuse("received", f"{received} yuan is not more than 0", f"{received} 元须大于 0")
    if isinstance(periods_per_year, bool) or not isinstance(periods_per_year, int) or periods_per_year < 1:
        raise _refuse(
            "periods_per_year",
            f"{periods_per_year!r} is not a whole number from 1",
            f"“{periods_per_year}”须为不小于 1 的整数",
        )
    flows = [_number(payment, "payments") for payment in payments]
    if not flows or any(p < 0 for p in flows) or not any(flows):
        raise _refuse(
            "payments",
            "give one or more payments of 0 or more, not all 0",
            "须有一笔或多笔不小于 0 的还款，且不能全为 0",
        )
    with localcontext() as ctx:
        ctx.prec = PRECISION
        rate = _irr(received, flows) * periods_per_year * 100
        return rate.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def present_value(*, payments: Sequence[Decimal], annual_rate: Decimal) -> Decimal:
    """What monthly ``payments`` (the first a month from now) are worth today at ``annual_rate``
    percent a year, to the fen."""
    rate = _rate(annual_rate, "annual_rate")
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return _fen(_present_value([_number(p, "payments") for p in payments], _monthly(rate))[0])


def subsidy_cost(
    *,
    principal: Decimal | int | str,
    months: int | str,
    customer_rate: Decimal | int | str,
    lender_rate: Decimal | int | str,
    method: str = "equal_instalment",
) -> Decimal:
    """What a subsidised rate costs whoever pays for it (the manufacturer, the dealer): the amount
    handed to the lender at disbursement so that the lender earns ``lender_rate`` while the customer
    pays the schedule at ``customer_rate`` — the principal less the present value, at the lender's
    rate, of the customer's payments, to the fen.

    0.00 when an equal instalment or equal principal schedule is at the lender's own rate: the lender
    then earns its rate by the schedule's own arithmetic (the present value would differ from the
    principal only by the fen rounding of the months, a few fen either way). Negative when the
    customer pays more than the lender's rate (any flat rate at or above it does): the lender earns
    more than its rate and the difference is a rate spread to share, not a cost.
    """
    lender_rate = _rate(lender_rate, "lender_rate")
    try:
        customer = schedule(principal=principal, months=months, annual_rate=customer_rate, method=method)
    except LoanTermsError as exc:
        if exc.field != "annual_rate":
            raise
        raise _refuse("customer_rate", exc.message.split(": ", 1)[1], exc.message_zh.split("）：", 1)[1]) from None
    if customer.method != "flat" and customer.annual_rate == lender_rate:
        return ZERO.quantize(FEN)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        value = _present_value([p.payment for p in customer.periods], _monthly(lender_rate))[0]
        return _fen(customer.principal - value)
