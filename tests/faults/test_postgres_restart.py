"""PostgreSQL restarts during the load (M13 faults): clients retry with their Idempotency-Key, no
order is lost or duplicated, and the server carries on without being restarted itself.

A private cluster (tests/faults/private_postgres.py — the shared server is never touched), the
production server (gunicorn) against it, client threads taking orders through the whole path
(tests/faults/pg_restart_driver.py, with bench/load.py's channel and client). In the middle
PostgreSQL is killed at once (``pg_ctl stop -m immediate``: every backend gone, the transactions
in flight cut off, crash recovery on the start), stays away a moment and comes back.

What must hold: the server never answers a 500 — while the database is away it answers 503 with
the error envelope and Retry-After, and the clients' retries go through once it is back; every
order a client was told was made exists once, and no order exists that no client was told about
(a retry with the same key gets the first answer, never a second order, nor a key stuck "in
progress"); `ledger verify` and `stock verify` clean, no stock below zero; orders are taken again
after the restart by the same server process.

The answer of a request whose work committed must commit with it, or a retry finds the key
"in progress" for ever (the work done, its answer lost) — the one-transaction Idempotency-Key of
branch m13-load on PostgreSQL (src/weishang/api/idempotency.py). Runs wherever PostgreSQL's initdb
and pg_ctl are installed (our CI); skipped elsewhere."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.faults import private_postgres

# About 40 s: its own cluster, migrations, gunicorn and the load, whatever the suite runs on.
pytestmark = [pytest.mark.slow, pytest.mark.db_independent]

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("pg_restart_driver.py")


@pytest.fixture
def postgres_to_restart():
    """A private PostgreSQL cluster the test may crash and start (destroyed afterwards)."""
    reason = private_postgres.unavailable_reason()
    if reason:
        pytest.skip(f"no private PostgreSQL cluster: {reason}")
    with private_postgres.PrivatePostgres() as cluster:
        yield cluster


def test_postgres_restart_during_load_loses_and_duplicates_nothing(postgres_to_restart, tmp_path):
    cluster = postgres_to_restart
    url = cluster.create_database("weishang_restart")
    driver = subprocess.Popen(
        [sys.executable, str(DRIVER), "--database-url", url, "--var", str(tmp_path / "var")],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "WEISHANG_"))},
        start_new_session=True,  # its gunicorn with it, if the test has to kill it
    )
    stderr: list[str] = []
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: stderr.extend(driver.stderr), daemon=True).start()
    threading.Thread(target=lambda: [lines.put(line) for line in driver.stdout], daemon=True).start()

    def line(timeout: float) -> str:  # the driver's next line, or "" if it is silent that long
        try:
            return lines.get(timeout=timeout)
        except queue.Empty:
            return ""

    out = ""
    try:
        assert line(180).strip() == "ready", "".join(stderr)[-3000:]
        time.sleep(2.0)  # orders flowing
        cluster.crash()  # every PostgreSQL process killed at once
        time.sleep(1.5)  # the database away
        cluster.start()  # crash recovery, then accepting connections
        driver.stdin.write("restarted\n")
        driver.stdin.flush()
        time.sleep(4.0)  # orders flowing again
        driver.stdin.write("finish\n")
        driver.stdin.flush()
        out = line(180)
        driver.wait(timeout=60)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
    assert out, "".join(stderr)[-3000:]
    (tmp_path / "result.json").write_text(out)  # for a look after a failure
    result = json.loads(out)
    report = {k: result[k] for k in ("server_errors", "statuses", "answered", "problems", "server_log")}

    # The outage was seen, and answered as "try again later", never as a server error.
    assert result["unavailable"] > 0, report
    assert result["problems"] == [], report
    assert all(int(status) < 500 for counts in result["final"].values() for status in counts), report
    # The same server process took orders again once PostgreSQL was back.
    assert result["server_alive"] and result["ok_after_restart"] > 0, report
    # Every order a client was told about exists once, and only those.
    check = result["check"]
    assert result["created"] and len(set(result["created"])) == len(result["created"]), report
    assert check["missing"] == check["duplicates"] == check["said_twice"] == 0, check
    assert result["unanswered_orders"] == [], report
    assert sorted(result["created"]) == result["new_orders"], report
    assert result["stuck_keys"] == 0, report
    assert result["answered"].keys() == {"201"}, report  # every order asked for was made, and said so
    assert check["said_completed_not_completed"] == 0 and check["negative_stock_levels"] == 0, check
    assert all(v["ok"] for v in check["verify"].values()), check["verify"]
