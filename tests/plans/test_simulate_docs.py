"""docs/simulator.md explains every scenario key, every report key and every linter figure."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel
from simulate_testkit import SMALL, example_plan, scenario

from weishang.plans.lint import FIGURES
from weishang.plans.simulate import run_simulation
from weishang.plans.simulate import scenario as scenario_module

DOCS = Path(__file__).resolve().parents[2] / "docs" / "simulator.md"


def _documented(text: str, key: str) -> bool:
    """The key appears as a word inside a `code` span."""
    return re.search(r"`[^`\n]*\b" + re.escape(key) + r"\b[^`\n]*`", text) is not None


def test_every_scenario_key_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    keys = set()
    for obj in vars(scenario_module).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == scenario_module.__name__:
            keys |= {field.alias or name for name, field in obj.model_fields.items()}
    assert {
        "market_size",
        "join_probability",
        "entry_level_mix",
        "loss_sensitivity",
        "extra_join_probability",
        "unit_cost",
        "upgrade_reach",
    } <= keys
    assert sorted(k for k in keys if not _documented(text, k)) == []


def test_every_report_key_and_figure_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    report = run_simulation(example_plan("glow-tiered"), scenario(SMALL["glow-tiered"]), months=4).public_report()
    keys = set(report)
    for section, value in report.items():
        if isinstance(value, dict) and section not in ("plan", "scenario", "lint", "figures"):
            keys |= set(value)
    for section in ("income", "conservation", "funding"):
        for key, inner in report[section].items():
            if isinstance(inner, dict) and key not in ("by_rule", "net", "net_money_only"):
                keys |= set(inner)
    keys |= set(report["loss"]["by_cohort"][0]) | set(FIGURES)
    keys -= {f"p{p}" for p in (1, 5, 10, 25, 50, 75, 90, 95, 99)}
    assert sorted(k for k in keys if not _documented(text, k)) == []


def test_every_metric_names_its_source():
    text = DOCS.read_text(encoding="utf-8")
    for source in (
        "AARP",
        "BurnLounge",
        "FTC staff report",
        "Koscot",
        "Vemma",
        "Herbalife",
        "Omnitrition",
        "Amway",
        "公通字〔2013〕37号",
        "花生日记",
        "Bosley & McKeage",
        "arXiv 1904.08136",
        "Stivers, Smith & Jin",
        "直销管理条例 Art. 24",
    ):
        assert source in text, source
