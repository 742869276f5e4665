"""Money: Decimal yuan with two places. One rounding helper; never a float."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MONEY_DIGITS = 14
MONEY_PLACES = 2

ROUNDING = {"down": ROUND_DOWN, "half_up": ROUND_HALF_UP}


def to_money(value: object, *, rounding: str = "half_up") -> Decimal:
    """Return ``value`` as a Decimal rounded to 0.01 yuan.

    Accepts Decimal, int and str. A float is refused: it has already lost the exact amount.
    """
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a str or Decimal")
    if isinstance(value, bool) or value is None:
        raise TypeError(f"not an amount: {value!r}")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    try:
        return amount.quantize(CENT, rounding=ROUNDING[rounding])
    except InvalidOperation as exc:  # too many digits to hold to the fen
        raise ValueError(f"amount out of range: {value!r}") from exc


def amount_input(
    value: object, *, field: str, places: int = 2, maximum: Decimal = Decimal("100000000"), positive: bool = False
) -> Decimal:
    """An amount in yuan someone typed (a form, a command, an API body), or a ``BusinessError`` on
    ``field`` that says what to type: a finite number, 0 or more (more than 0 with ``positive``), at
    most ``maximum``, with at most ``places`` decimals. Never rounds what was typed."""
    from django.utils.translation import gettext as _

    from weishang.core.errors import BusinessError

    wrong = BusinessError(_("Enter an amount in yuan, e.g. 12.50."), field=field)
    if isinstance(value, float | bool) or value is None:
        raise wrong
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise wrong from None
    if not amount.is_finite() or amount < 0 or amount > maximum:
        raise wrong
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        if places == 2:
            raise wrong
        raise BusinessError(_("A unit cost has at most four decimal places."), field=field)
    if positive and amount == 0:
        raise BusinessError(_("Enter an amount more than zero."), field=field)
    return amount
