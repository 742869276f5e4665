"""The engine's text helpers: money, names fitted into a sentence, ladder steps.

``_fit`` and the ladder's step search work out their answer (lengths added up, a binary
search) instead of trying every candidate: they are checked here against the plain way.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weishang.plans.engine import MAX_SENTENCE, _fit, _money, _money_text, _name_list, _step_finder, _yuan
from weishang.plans.schema import LadderStep, TeamVolumeReward

D = Decimal


# --- money ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        ("3000", "CNY", "¥3,000.00"),
        ("3000.0", "CNY", "¥3,000.00"),
        ("3000.000", "CNY", "¥3,000.00"),
        ("1E+3", "CNY", "¥1,000.00"),
        ("5.005", "CNY", "¥5.005"),
        ("5.0050", "CNY", "¥5.005"),
        ("0.001", "CNY", "¥0.001"),
        ("0", "CNY", "¥0.00"),
        ("-0", "CNY", "¥0.00"),
        ("-0.00", "CNY", "¥0.00"),
        ("-10", "CNY", "−¥10.00"),
        ("-1234.5678", "CNY", "−¥1,234.5678"),
        ("1234567890123.45", "USD", "$1,234,567,890,123.45"),
        ("2.5", "EUR", "€2.50"),
        ("2.5", "GBP", "£2.50"),
        ("2.5", "JPY", "JPY 2.50"),
        ("1E+25", "CNY", "¥10,000,000,000,000,000,000,000,000.00"),  # 28 digits in cents: the most there is room for
    ],
)
def test_money(value, currency, text):
    assert _money(D(value), currency) == text
    assert _money_text(D(value), {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£"}.get(currency, f"{currency} ")) == text


def test_money_rounds_to_the_context_like_decimal_arithmetic():
    # 32 digits: abs() rounds to 28 first, so a figure a hair above 1 reads as 1.00
    assert _money(D("1.0000000000000000000000000000001")) == "¥1.00"
    for too_long in ("123456789012345678901234567890.12", "1.5E+26"):  # more than 28 digits in cents
        with pytest.raises(InvalidOperation):
            _money(D(too_long))
    with localcontext() as ctx:
        ctx.prec = 40
        assert _money(D("1.0000000000000000000000000000001")) == "¥1.0000000000000000000000000000001"


@pytest.mark.parametrize(
    ("value", "text"),
    [("3000", "3000.00"), ("1E+3", "1000.00"), ("5.005", "5.005"), ("0", "0.00"), ("-2.5", "-2.50"), ("1.50", "1.50")],
)
def test_yuan(value, text):
    assert _yuan(D(value)) == text


# --- names in a sentence --------------------------------------------------------------------------


def _fit_by_trying(before: str, names: list[str], sep: str, after: str) -> str:
    """The plain way: build the sentence with all names, one fewer, … none; the first that fits."""
    for shown in range(len(names), -1, -1):
        text = before + _name_list(names, sep, shown) + after
        if len(text) <= MAX_SENTENCE:
            return text
    text = before + _name_list(names, sep, 0) + after
    return text[: MAX_SENTENCE - 1] + "…"


@given(
    before=st.integers(0, 320),
    after=st.integers(0, 320),
    names=st.lists(st.integers(0, 40), max_size=90),
    sep=st.sampled_from([", ", "、", ""]),
)
def test_fit_keeps_the_most_names_that_fit(before, after, names, sep):
    words = [f"{i % 10}" * width for i, width in enumerate(names)]  # empty names too
    assert _fit("b" * before, words, sep, "a" * after) == _fit_by_trying("b" * before, words, sep, "a" * after)


def test_fit_examples():
    names = ["王芳", "李伟", "张娜"]
    assert _fit("¥1 − ", names, "、", " 的下级团队") == "¥1 − 王芳、李伟、张娜 的下级团队"
    assert _fit("x" * 290, names * 3, ", ", "") == "x" * 290 + "王芳, 李伟, …"  # 10 characters of room
    assert _fit("x" * 299, names, ", ", "") == "x" * 299 + "…"  # only '…' fits
    assert _fit("x" * 300, names, ", ", "y") == "x" * 299 + "…"  # not even that: clipped
    assert _fit("x" * 310, [], ", ", "") == "x" * 299 + "…"


# --- ladder steps ---------------------------------------------------------------------------------


def _ladder(froms: list[int]) -> TeamVolumeReward:
    # model_construct: a ladder the schema would refuse (not rising) must still be answered like step_for
    steps = [LadderStep.model_construct(from_=D(f), rate=D(i) / 100) for i, f in enumerate(froms)]
    return TeamVolumeReward.model_construct(ladder=steps)


def _step_by_scanning(rule: TeamVolumeReward, volume: Decimal) -> int:
    found = -1
    for i, step in enumerate(rule.ladder):
        if step.from_ <= volume:
            found = i
    return found


@given(
    froms=st.lists(st.integers(0, 60), min_size=1, max_size=6),
    sort=st.booleans(),
    volume=st.decimals(min_value=-5, max_value=70, places=3),
)
def test_step_for_and_the_binary_search_agree_with_a_scan(froms, sort, volume):
    rule = _ladder(sorted(froms) if sort else froms)
    expected = _step_by_scanning(rule, volume)
    found = rule.step_for(volume)
    assert (found[0] if found else -1) == expected
    assert found is None or found[1] is rule.ladder[expected]
    assert _step_finder(rule)(volume) == expected
