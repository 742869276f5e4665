"""`weishang plan …` from a terminal: validate, lint and schema need no database; problems name
the file, line and column; the exit status says whether the plan may go live."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"
WEISHANG = Path(sys.executable).with_name("weishang")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(WEISHANG), "plan", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "sqlite:////nonexistent/dir/db.sqlite3"},
    )


def test_validate_a_good_plan_without_a_database():
    done = run("validate", str(EXAMPLES / "glow-tiered.yaml"))
    assert done.returncode == 0, done.stderr
    assert "glow-tiered v1" in done.stdout and "valid" in done.stdout


def test_validate_names_file_line_column_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: x\nversion: 1\nname: n\nkind: tiered\nlevels:\n  - code: a\n    name: A\n"
        "    entry: {free: true}\n    discount: 1.4\n",
        encoding="utf-8",
    )
    done = run("validate", str(bad))
    assert done.returncode == 1
    assert f"{bad}:9:15: levels[0].discount: 1.4 is above 1" in done.stderr
    assert "Traceback" not in done.stderr


def test_lint_json_blocks_the_tiered_plan_in_china():
    done = run("lint", str(EXAMPLES / "glow-tiered.yaml"), "--jurisdiction", "cn", "--format", "json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["blocking"] is True and report["jurisdiction"] == "cn"
    head = next(f for f in report["findings"] if f["rule"] == "CN-HEAD")
    assert head["severity"] == "CRIT" and head["line"] and head["message_zh"] and head["source"]


def test_lint_lets_the_retail_first_plan_through():
    done = run("lint", str(EXAMPLES / "glow-retail-first.yaml"), "--lang", "en")
    assert done.returncode == 0, done.stdout
    assert "0 CRIT" in done.stdout


def test_schema_is_json_schema_for_every_top_level_key():
    done = run("schema")
    schema = json.loads(done.stdout)
    assert {"levels", "rewards", "upgrades", "settlement", "returns", "supply"} <= set(schema["properties"])


def test_simulate_writes_the_report_and_lint_uses_its_figures(tmp_path):
    out = tmp_path / "sim"
    done = subprocess.run(
        [
            str(WEISHANG),
            "plan",
            "simulate",
            str(EXAMPLES / "glow-retail-first.yaml"),
            "--scenario",
            str(EXAMPLES.parent / "scenarios" / "glow-retail-first.yaml"),
            "--months",
            "6",
            "--out",
            str(out),
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "conservation: money ✓, units ✓" in done.stdout
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["conservation"]["all_balanced"] is True
    assert (out / "report.html").read_text(encoding="utf-8").count("data:image/png;base64") >= 5
    linted = run(
        "lint",
        str(EXAMPLES / "glow-tiered.yaml"),
        "--jurisdiction",
        "cn",
        "--format",
        "json",
        "--simulate",
        str(EXAMPLES.parent / "scenarios" / "glow-tiered.yaml"),
    )
    rules = {f["rule"] for f in json.loads(linted.stdout)["findings"]}
    assert {"CN-CRIM", "ECON-LOSS"} <= rules and linted.returncode == 1


def test_simulate_lays_a_campaign_over_the_months_it_runs(tmp_path):
    out = tmp_path / "sim"
    command = [
        str(WEISHANG),
        "plan",
        "simulate",
        str(EXAMPLES / "glow-retail-first.yaml"),
        "--scenario",
        str(EXAMPLES.parent / "scenarios" / "glow-retail-first.yaml"),
        "--months",
        "3",
        "--out",
        str(out),
        "--campaign",
    ]
    example = (EXAMPLES.parent / "campaigns" / "glow-spring-trip.yaml").read_text(encoding="utf-8")
    campaign = tmp_path / "spring.yaml"  # the example, with a target the scenario's sellers reach
    campaign.write_text(example.replace("threshold: 2980", "threshold: 600"), encoding="utf-8")
    done = subprocess.run(
        [*command, str(campaign)], capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin"}
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert "spring-trip" in report["funding"]["by_rule"] and report["conservation"]["all_balanced"]
    unfit = tmp_path / "unfit.yaml"
    unfit.write_text(example + "  entry: {mayor: 10}\n", encoding="utf-8")
    refused = subprocess.run(
        [*command, str(unfit)], capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin"}
    )
    assert refused.returncode == 2 and "mayor" in refused.stderr
