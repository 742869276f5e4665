"""What a run produces: every metric of compliance-rules.md, the linter's figures, report.json, PNG
charts, a self-contained report.html, the text summary and the progress bar."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal

import pytest
from simulate_testkit import SMALL, example_plan, scenario

from weishang.plans.lint import FIGURES, lint_plan
from weishang.plans.simulate import run_simulation
from weishang.plans.simulate.progress import Progress


@pytest.fixture(scope="module")
def tiered():
    return run_simulation(example_plan("glow-tiered"), scenario(SMALL["glow-tiered"]))


# "What the simulator must report" (reference/compliance-rules.md), metric by metric.
REQUIRED = [
    ("loss", "loss_share"),
    ("loss", "by_cohort"),
    ("loss", "by_depth"),
    ("income", "net"),
    ("income", "earnings"),
    ("funding", "recruitment_funded_share"),
    ("funding", "retail_funded_share"),
    ("consumption", "internal_consumption_ratio"),
    ("qualification", "purchases"),
    ("qualification", "share_of_participant_purchases"),
    ("inventory", "peak_units"),
    ("inventory", "months_of_stock_peak"),
    ("inventory", "stranded_units"),
    ("structure", "max_depth"),
    ("structure", "paid_depth"),
    ("structure", "subtrees_30_members_3_levels"),
    ("structure", "share_of_members_inside"),
    ("growth", "saturation_month"),
    ("growth", "recruits_to_break_even"),
    ("growth", "never_recruited_share"),
    ("attrition", "quit_within_12_months_share"),
    ("attrition", "purchases_by_new_entrants_share"),
    ("surplus", "participant_surplus"),
    ("brand", "payout_ratio"),
    ("monthly", "brand_cash"),
    ("conservation", "money"),
    ("conservation", "units"),
]


def test_every_required_metric_is_reported(tiered):
    report = tiered.public_report()
    for section, key in REQUIRED:
        assert key in report[section], (section, key)
    income = report["income"]
    for key in ("median", "p10", "p90", "p99"):
        assert re.fullmatch(r"-?\d+\.\d\d", income["net"][key])
    assert 0 <= income["earnings"]["gini"] <= 1 and 0 < income["earnings"]["top1_share"] <= 1
    assert income["earnings"]["zero_earners_share"] > 0  # zero earners are counted
    assert [row["group"] for row in report["loss"]["by_depth"]][:2] == ["1", "2"]
    assert report["loss"]["by_cohort"][0]["group"] == "2026-Q1"
    shares = report["funding"]
    total = sum(
        shares[k] for k in ("recruitment_funded_share", "retail_funded_share", "participant_purchase_funded_share")
    )
    assert total == pytest.approx(1, abs=1e-5)
    months = report["monthly"]["month"]
    assert len(months) == 24 and months[0] == "2026-01"
    for series in (
        "cash_collected",
        "brand_cash",
        "channel_inventory",
        "months_of_stock",
        "payout_ratio",
        "internal_consumption_ratio",
        "retail_to_non_participants",
        "participant_purchases",
    ):
        assert len(report["monthly"][series]) == 24, series
    assert set(report["monthly"]["active_by_level"]) == {"partner", "general", "province", "city", "vip"}


def test_money_in_the_report_is_exact_text(tiered):
    report = tiered.public_report()
    brand = report["brand"]
    assert all(re.fullmatch(r"-?\d+\.\d\d", brand[k]) for k in ("collected", "rewards_paid", "cash_at_end"))
    cash = sum((Decimal(v) for v in report["monthly"]["brand_cash_flow"]), Decimal(0))
    assert cash == Decimal(brand["cash_at_end"]) == Decimal(report["monthly"]["brand_cash"][-1])
    assert Decimal(report["funding"]["rewards_total"]) == sum(
        (Decimal(report["funding"][k]) for k in ("recruitment_funded", "retail_funded", "participant_purchase_funded")),
        Decimal(0),
    )


def test_figures_feed_the_linter(tiered):
    figures = tiered.figures()
    assert set(figures) == set(FIGURES)
    assert all(isinstance(v, Decimal) for v in figures.values())
    lint = lint_plan(tiered.plan, "cn", figures=figures)
    assert lint.not_checked == ()
    assert {"CN-CRIM", "ECON-INV"} <= {f.rule for f in lint.findings}
    eu = lint_plan(tiered.plan, "eu", figures=figures)
    assert "EU-14-SIM" in {f.rule for f in eu.findings}
    assert tiered.report["lint"]["jurisdiction"] == "cn"
    assert {f["rule"] for f in tiered.report["lint"]["findings"]} <= {"CN-CRIM", "ECON-LOSS", "ECON-INV"}


def test_the_lawful_plan_has_no_recruitment_funded_rewards():
    result = run_simulation(example_plan("glow-retail-first"), scenario(SMALL["glow-retail-first"]))
    funding = result.report["funding"]
    assert funding["recruitment_funded_share"] == 0 and funding["retail_funded_share"] == 1
    assert result.report["structure"]["paid_depth"] == 0
    assert "EU-14-SIM" not in {f.rule for f in lint_plan(result.plan, "eu", figures=result.figures()).findings}


def test_outputs_written(tmp_path, tiered):
    files = tiered.write(tmp_path)
    names = sorted(p.name for p in files)
    assert names == sorted(
        [
            "report.json",
            "report.html",
            "agents_by_level.png",
            "cash_collected.png",
            "retail_vs_channel.png",
            "channel_inventory.png",
            "income_distribution.png",
        ]
    )
    for png in tmp_path.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["schema"] == "weishang.plan-simulation/1" and "_net" not in report
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == 5
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing fetched from elsewhere
    assert "<style>" in html and "<script" not in html
    assert html.index("方案模拟报告") < html.index("Plan simulation report")  # Chinese first
    assert "净亏损的参与者" in html and "participants with a net loss" in html


def test_out_dir_in_run_simulation(tmp_path):
    result = run_simulation(
        example_plan("glow-social-mall"), scenario(SMALL["glow-social-mall"]), months=4, out_dir=tmp_path / "out"
    )
    assert (tmp_path / "out" / "report.html").exists() and result.out_dir == tmp_path / "out"


def test_summary_text(tiered):
    zh = tiered.summary_text("zh")
    en = tiered.summary_text("en")
    assert "净亏损者占" in zh and "守恒：资金 ✓ 货品 ✓" in zh
    assert "end with a net loss" in en and "conservation: money ✓, units ✓" in en
    both = tiered.summary_text("both")
    assert both.index("净亏损者占") < both.index("end with a net loss")
    assert len(zh.splitlines()) <= 9


def test_progress_bar_only_when_asked_or_on_a_terminal(capsys):
    stream = io.StringIO()
    bar = Progress(3, True, stream=stream)
    for i in range(1, 4):
        bar.update(i)
    bar.close()
    assert "3/3 months" in stream.getvalue() and stream.getvalue().endswith("\n")
    quiet = io.StringIO()
    auto = Progress(3, None, stream=quiet)  # a StringIO is not a terminal
    auto.update(1)
    auto.close()
    assert quiet.getvalue() == ""
    run_simulation(example_plan("glow-retail-first"), scenario(SMALL["glow-retail-first"]), months=2)
    assert capsys.readouterr().err == ""
    run_simulation(example_plan("glow-retail-first"), scenario(SMALL["glow-retail-first"]), months=2, progress=True)
    assert "2/2 months" in capsys.readouterr().err


def test_campaigns_after_a_shortened_run_are_listed():
    sc = scenario(SMALL["glow-tiered"])
    result = run_simulation(example_plan("glow-tiered"), sc, months=1, lint=False)
    assert result.report["scenario"]["campaigns_outside_run"] == [2]
    assert result.report["brand"]["campaigns"] == "0.00"
