"""How the simulator and the linter write figures for people (M7 item 15e): money axes in 万/亿
(Chinese) or k/M (English) instead of matplotlib's "1e8", months of stock to one decimal instead of
"136.361111 个月", and an English summary that reads as a sentence when half the market is never
reached."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lint_testkit import lint, plan
from simulate_testkit import SMALL, example_plan, scenario

from weishang.plans.simulate import run_simulation
from weishang.plans.simulate.text import summary


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (0, "0", "0"),
        (500, "500", "500"),
        (2_500, "2,500", "2.5k"),
        (10_000, "1万", "10k"),
        (15_000, "1.5万", "15k"),
        (1_200_000, "120万", "1.2M"),
        (100_000_000, "1亿", "100M"),
        (250_000_000, "2.5亿", "250M"),
        (-30_000, "−3万", "−30k"),
        (-2_000_000_000, "−20亿", "−2,000M"),
    ],
)
def test_money_axis_ticks_read_in_wan_and_yi_or_k_and_m(value, zh, en):
    from weishang.plans.simulate.charts import money_tick

    assert money_tick(value, "zh") == zh
    assert money_tick(value, "en") == en
    assert "e" not in money_tick(value, "zh") and "e" not in money_tick(value, "en")


def test_the_charts_money_axes_use_the_formatter(tmp_path):
    """With hundreds of millions on the axis, matplotlib alone writes "1e8" above it."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    from weishang.plans.simulate import charts

    result = run_simulation(example_plan("glow-tiered"), scenario(SMALL["glow-tiered"]), months=6, lint=False)
    report = dict(result.report)
    monthly = dict(report["monthly"])
    for key in (
        "cash_collected",
        "brand_cash",
        "participant_purchases",
        "entry_and_upgrade_purchases",
        "retail_to_non_participants",
    ):
        monthly[key] = [str(Decimal(v) * 1_000_000 + 100_000_000) for v in monthly[key]]
    report["monthly"] = monthly
    drawn = {}
    real_savefig = Figure.savefig

    def savefig(fig, path, *args, **kwargs):
        fig.canvas.draw()
        drawn[path.stem] = [
            [t.get_text() for t in ax.yaxis.get_ticklabels()] + [ax.yaxis.get_offset_text().get_text()]
            for ax in fig.axes
        ]
        return real_savefig(fig, path, *args, **kwargs)

    Figure.savefig = savefig
    try:
        charts.write_charts(report, tmp_path)
    finally:
        Figure.savefig = real_savefig
    for name in ("cash_collected", "retail_vs_channel"):
        labels = [t for t in drawn[name][0] if t]
        assert labels, name
        assert not any("e" in t.lower() for t in labels), (name, labels)
        assert any(t.endswith(("亿", "M")) for t in labels), (name, labels)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("136.361111"), "136.4"),
        (3.5, "3.5"),
        (12, "12"),
        (Decimal("4.04"), "4"),
        (1234.56, "1,234.6"),
    ],
)
def test_months_are_written_to_one_decimal(value, text):
    from weishang.plans.lint.base import months

    assert months(value) == text


def test_the_inventory_rule_writes_months_to_one_decimal():
    finding = lint(plan(), "eu", figures={"months_of_stock": "136.361111"}).by_rule("ECON-INV")[0]
    assert "136.4 months" in finding.message_en and "136.4 个月" in finding.message_zh
    assert "136.36" not in finding.message_en + finding.message_zh


def test_the_english_summary_says_when_half_the_market_was_never_reached():
    result = run_simulation(
        example_plan("glow-retail-first"), scenario(SMALL["glow-retail-first"]), months=2, lint=False
    )
    report = result.public_report()
    report["growth"]["saturation_month"] = None
    line = next(ln for ln in summary(report, "en").splitlines() if "half the market" in ln)
    assert line.endswith("half the market never reached") and " : " not in line
    report["growth"]["saturation_month"] = "2027-03"
    assert "half the market reached in 2027-03" in summary(report, "en")
    assert "市场过半：未达到" in summary({**report, "growth": {**report["growth"], "saturation_month": None}}, "zh")
