"""``weishang autofinance schedule``: every period and the totals, as a table (Chinese first) or
JSON with stable English keys; bad terms give a message naming the option and exit 1, no traceback."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

import weishang

SRC = Path(weishang.__file__).resolve().parent.parent


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("autofinance", "schedule", *args, stdout=out)
    return out.getvalue()


def cli(*args: str, language: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(SRC),
        "DATABASE_URL": "sqlite:////nonexistent/dir/db.sqlite3",  # the schedule needs no database
        "LANGUAGE": language,
    }
    return subprocess.run(
        [sys.executable, "-m", "weishang.cli", "autofinance", "schedule", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture(autouse=True)
def _chinese_environment(monkeypatch):
    monkeypatch.delenv("LANGUAGE", raising=False)


def test_json_has_every_period_and_the_totals():
    data = json.loads(run("--principal", "100000", "--months", "36", "--rate", "4.75", "--format", "json"))
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
    assert (data["method"], data["principal"], data["months"], data["annual_rate"], data["fees"]) == (
        "equal_instalment",
        "100000.00",
        36,
        "4.7500",
        "0.00",
    )
    assert [p["number"] for p in data["periods"]] == list(range(1, 37))
    assert data["periods"][0] == {
        "number": 1,
        "payment": "2985.88",
        "principal": "2590.05",
        "interest": "395.83",
        "balance": "97409.95",
    }
    assert data["periods"][-1]["balance"] == "0.00"
    assert (data["total_interest"], data["total_paid"], data["apr"]) == ("7491.60", "107491.60", "4.7500")
    money = re.compile(r"^-?\d+\.\d\d$")
    for period in data["periods"]:
        assert all(money.match(period[key]) for key in ("payment", "principal", "interest", "balance"))
    assert sum(Decimal(p["principal"]) for p in data["periods"]) == Decimal("100000.00")


def test_json_of_a_flat_product_with_fees_shows_the_true_apr():
    data = json.loads(
        run(
            "--principal",
            "100000",
            "--months",
            "36",
            "--rate",
            "3",
            "--method",
            "flat",
            "--fees",
            "1500",
            "--format",
            "json",
        )
    )
    assert data["method"] == "flat" and data["fees"] == "1500.00"
    assert data["total_interest"] == "9000.00"
    assert {p["interest"] for p in data["periods"]} == {"250.00"}
    assert Decimal(data["apr"]) > Decimal("5.6814")  # the flat rate's APR without fees, raised by them
    assert re.fullmatch(r"\d+\.\d{4}", data["apr"])


def test_equal_principal_payments_fall():
    data = json.loads(
        run(
            "--principal",
            "100000",
            "--months",
            "36",
            "--rate",
            "2.88",
            "--method",
            "equal_principal",
            "--format",
            "json",
        )
    )
    payments = [Decimal(p["payment"]) for p in data["periods"]]
    assert payments[0] == Decimal("3017.78") and payments[-1] == Decimal("2784.37")
    assert payments == sorted(payments, reverse=True)


def test_the_table_is_in_chinese_by_default():
    table = run("--principal", "100000", "--months", "36", "--rate", "4.75")
    header = next(line for line in table.splitlines() if "月供" in line)
    for word in ("期数", "月供", "本金", "利息", "剩余本金"):
        assert word in header
    assert "等额本息" in table
    first = next(line for line in table.splitlines() if line.split() and line.split()[0] == "1")
    assert first.split() == ["1", "2,985.88", "2,590.05", "395.83", "97,409.95"]
    assert len([line for line in table.splitlines() if re.match(r"^\s*\d+\s", line)]) == 36
    assert re.search(r"利息合计\s+7,491.60", table)
    assert re.search(r"还款合计\s+107,491.60", table)
    assert re.search(r"年化利率.*\s4\.7500%", table)


def test_the_table_is_in_english_when_language_is_en(monkeypatch):
    monkeypatch.setenv("LANGUAGE", "en_US:en")
    table = run("--principal", "100000", "--months", "12", "--rate", "0", "--method", "flat")
    assert re.search(r"No\.\s+Payment\s+Principal\s+Interest\s+Balance", table)
    assert "Flat rate" in table
    assert re.search(r"^\s*12\s+8,333.37\s+8,333.37\s+0.00\s+0.00$", table, re.M)
    assert re.search(r"Total interest\s+0.00", table)
    assert re.search(r"APR \(IRR × 12\)\s+0.0000%", table)
    assert not re.search(r"[\u4e00-\u9fff]", table)


def test_a_whole_rate_reads_as_written(monkeypatch):
    monkeypatch.setenv("LANGUAGE", "en")
    table = run("--principal", "100,000", "--months", "24", "--rate", "12")
    assert table.splitlines()[0] == (
        "Loan 100,000.00 yuan, 24 months, annual rate 12%, Equal instalment, fees 0.00 yuan"
    )
    assert re.search(r"APR \(IRR × 12\)\s+12.0000%", table)


def test_lang_chooses_the_language_over_the_environment(monkeypatch):
    monkeypatch.setenv("LANGUAGE", "en")
    assert "月供" in run("--principal", "50000", "--months", "3", "--rate", "1", "--lang", "zh-hans")


@pytest.mark.parametrize(
    "args,option,chinese",
    [
        (["--principal", "-100000"], "--principal", "贷款本金"),
        (["--principal", "abc"], "--principal", "不是数字"),
        (["--months", "0"], "--months", "1 到 120"),
        (["--months", "121"], "--months", "1 到 120"),
        (["--months", "three"], "--months", "不是数字"),
        (["--rate", "-1"], "--rate", "年利率"),
        (["--rate", "36.5"], "--rate", "年利率"),
        (["--rate", "4,75%"], "--rate", "不是数字"),
        (["--method", "balloon"], "--method", "还款方式"),
        (["--fees", "100000"], "--fees", "手续费"),
    ],
)
def test_bad_terms_give_a_message_naming_the_option(args, option, chinese):
    terms = {"--principal": "100000", "--months": "36", "--rate": "4.75"}
    terms.update(dict(zip(args[::2], args[1::2], strict=True)))
    with pytest.raises(CommandError) as refused:
        run(*[part for pair in terms.items() for part in pair])
    message = str(refused.value)
    assert message.startswith(option + ":")
    assert chinese in message


def test_an_unknown_format_is_refused():
    with pytest.raises(CommandError, match="xml"):
        run("--principal", "100000", "--months", "36", "--rate", "4.75", "--format", "xml")


def test_from_the_command_line_bad_input_exits_1_without_a_traceback():
    done = cli("--principal", "100000", "--months", "0", "--rate", "4.75")
    assert done.returncode == 1
    assert "--months" in done.stderr and "还款期数" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""

    english = cli("--principal", "100000", "--months", "36", "--rate", "x", language="en")
    assert english.returncode == 1
    assert "--rate: annual_rate (annual rate): 'x' is not a number" in english.stderr
    assert "Traceback" not in english.stderr


def test_from_the_command_line_the_schedule_prints_without_a_database():
    done = cli("--principal", "100000", "--months", "36", "--rate", "4.75", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["periods"][0]["payment"] == "2985.88"
