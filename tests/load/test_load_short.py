"""The load test's short form (bench/load.py, M13): the production server (gunicorn) on loopback,
clients placing and completing orders and reading pages through HTTP for a few seconds, then the
outbox drained by the consumers' commands (the server runs with it deferred, as with a worker), then the
database checked. What must hold under load: no 5xx, every order the server said it made exists
once, every fill it confirmed completed, no stock below zero, `ledger verify` and `stock verify`
clean. Throughput is measured by the benchmark itself, never asserted here.

On SQLite always; on PostgreSQL when the suite runs on it (its own database, dropped after)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(database_url: str, out: Path) -> dict:
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load.py"),
            *("--database-url", database_url, "--json", str(out)),
            *("--agents", "400", "--duration", "5", "--clients", "6", "--workers", "2", "--threads", "3"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))},
    )
    assert out.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(out.read_text())
    result["output"] = run.stdout
    return result


def _assert_sound(result: dict) -> None:
    placed, completed = (next(r for r in result["runs"] if r["mode"] == mode) for mode in ("placed", "completed"))
    assert placed["created"] > 0 and completed["completed"] > 0, result["output"]
    for run in result["runs"]:
        assert run["server_errors"] == 0, run["endpoints"]
    pages = {name: e for name, e in completed["endpoints"].items() if name.startswith("GET /m/")}
    assert pages and all(set(e["statuses"]) == {"200"} for e in pages.values()), pages
    check = result["check"]
    assert check["missing"] == check["duplicates"] == check["said_twice"] == 0, check
    assert check["said_completed_not_completed"] == 0 and check["negative_stock_levels"] == 0, check
    assert all(v["ok"] for v in check["verify"].values()), check["verify"]
    assert result["checks_ok"]
    # The server ran with the outbox deferred (as with workers); `weishang worker --once` handled the
    # orders' events before the checks, and the rewards' ledger entries were verified with the rest.
    assert result["outbox"] == "deferred" and result["drained"]["outbox events"] > 0, result["drained"]


@pytest.mark.db_independent  # its own SQLite file, whatever the suite runs on
def test_short_load_on_sqlite(tmp_path):
    _assert_sound(_run(f"sqlite:///{tmp_path / 'load.sqlite3'}", tmp_path / "load.json"))


def test_short_load_on_postgresql(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("the suite runs on SQLite; the PostgreSQL form runs when DATABASE_URL is PostgreSQL")
    import psycopg

    name = f"test_load_{os.getpid()}"
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        _assert_sound(_run(urlunsplit(parts._replace(path=f"/{name}")), tmp_path / "load.json"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
