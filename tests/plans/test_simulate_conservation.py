"""Conservation is checked every month of every run; the same seed gives the same numbers; money
is rounded in integer fen exactly as Decimal rounds it."""

from __future__ import annotations

import json
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simulate_testkit import EXAMPLE_NAMES, SMALL, example_plan, example_scenario_path, kitchen, scenario

from weishang.plans.simulate import load_scenario, run_simulation
from weishang.plans.simulate.compiled import frac, round_div


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_money_and_units_balance_every_month(name):
    base = load_scenario(example_scenario_path(name))
    sc = base.model_copy(update={"market_size": 6000})
    result = run_simulation(example_plan(name), sc, lint=False)
    cons = result.report["conservation"]
    assert cons["checked_months"] == sc.months
    assert cons["all_balanced"] and cons["failing_months"] == []
    assert all(row["money_balanced"] and row["units_balanced"] for row in result.market.conservation)
    money, units = cons["money"], cons["units"]
    assert Decimal(money["paid_in"]) == Decimal(money["paid_out"]) + Decimal(money["held_by_brand"])
    assert units["shipped_into_channel"] == (
        units["sold_to_customers"]
        + units["used_by_participants"]
        + units["held"]
        + units["stranded"]
        + units["returned_under_buyback"]
    )
    assert units["negative_stock"] == 0
    assert units["gift_packs_bought"] == units["gift_packs_used"]


def test_the_check_notices_a_missing_fen_and_a_missing_unit():
    plan, sc = kitchen()
    result = run_simulation(plan, sc, months=8, lint=False)
    market = result.market
    assert market.check_conservation(8)["money_balanced"]
    market.brand["collected"] += 1  # one fen the orders never paid
    assert not market.check_conservation(8)["money_balanced"]
    market.brand["collected"] -= 1
    agent = int(np.flatnonzero(market.active[: market.n])[0])
    market.stock[agent] += 1  # a unit nobody bought
    check = market.check_conservation(8)
    assert check["money_balanced"] and not check["units_balanced"]
    market.stock[agent] -= 1
    assert market.check_conservation(8)["units_balanced"]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_same_seed_same_numbers(name):
    sc = scenario(SMALL[name])
    first = run_simulation(example_plan(name), sc).public_report()
    second = run_simulation(example_plan(name), sc).public_report()
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    other = run_simulation(example_plan(name), sc, seed=sc.seed + 1).public_report()
    assert other["scenario"]["seed"] == sc.seed + 1
    assert json.dumps(other["monthly"], sort_keys=True) != json.dumps(first["monthly"], sort_keys=True)


def test_months_and_seed_override_the_scenario():
    sc = scenario(SMALL["glow-tiered"])
    result = run_simulation(example_plan("glow-tiered"), sc, months=5, seed=99, lint=False)
    assert result.report["scenario"]["months"] == 5 and result.report["scenario"]["seed"] == 99
    assert len(result.report["monthly"]["month"]) == 5
    assert result.report["conservation"]["checked_months"] == 5


_MODES = {"down": ROUND_DOWN, "half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


@settings(max_examples=300, deadline=None)
@given(
    x=st.integers(min_value=-(10**14), max_value=10**14),
    exponent=st.integers(min_value=0, max_value=5),
    mode=st.sampled_from(sorted(_MODES)),
)
def test_integer_rounding_is_decimal_rounding(x, exponent, mode):
    den = 10**exponent
    expected = int((Decimal(x) / den).quantize(Decimal(1), rounding=_MODES[mode]))
    assert int(round_div(np.array([x], dtype=np.int64), den, mode)[0]) == expected


def test_rates_become_exact_fractions():
    assert frac(Decimal("0.0333")) == (333, 10000)
    assert frac(Decimal("0.30")) == (30, 100)
    assert frac(Decimal("1")) == (1, 1)
    assert frac(Decimal("1E+2")) == (100, 1)
