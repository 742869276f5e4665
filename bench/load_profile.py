#!/usr/bin/env python
"""Where one request of the load test (``bench/load.py``) spends its time: the same data, the same
requests, run in process through Django's test client with the production settings, so that each
endpoint's CPU time and SQL statements can be counted (no HTTP server, no other process).

For each endpoint of the completed path (``POST /orders``, approve, pay, fill) and the phone pages
(``/m/``, ``/m/team/``, ``/m/rewards/``), and the floor under every API request (``GET
/api/v1/notifications/unread``, as ``bench/load.py --floor``): the median CPU ms per request (``time.process_time``),
the statements per request and the write transactions among them, and on SQLite the CPU spent
holding the database's write lock (the serial part of the request under load). ``--profile ENDPOINT`` prints
cProfile's top functions for that endpoint. Usage::

    .venv/bin/python bench/load_profile.py                       # SQLite, outbox deferred
    .venv/bin/python bench/load_profile.py --outbox inline --profile "POST /orders"
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench' / 'load' / 'profile.sqlite3'}")
    parser.add_argument("--outbox", choices=("inline", "deferred"), default="deferred")
    parser.add_argument("--agents", type=int, default=400)
    parser.add_argument("--orders", type=int, default=60, help="completed paths measured (after 10 warm-ups)")
    parser.add_argument("--profile", default="", help="print cProfile's top functions for this endpoint")
    parser.add_argument("--json", default="")
    parser.add_argument("--data-out", default="", help="write the clients' data (tokens) here")
    parser.add_argument("--sql", default="", help="print the statements of this endpoint's last request")
    parser.add_argument("--profile-out", default="", help="with --profile: also write cProfile's stats to this file")
    args = parser.parse_args(argv)

    import load

    var_dir = ROOT / "var" / "bench" / "load" / "profile"
    var_dir.mkdir(parents=True, exist_ok=True)
    if args.database_url.startswith("sqlite:///"):
        path = Path(args.database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm", ".writelock"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        from common import reset_postgres

        reset_postgres(args.database_url)
    env = load.server_env(args.database_url, var_dir, secrets.token_urlsafe(50))
    env["WEISHANG_OUTBOX_INLINE"] = "1" if args.outbox == "inline" else "0"
    os.environ.clear()
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "weishang.settings"
    # SQLite: each write transaction's hold of the write lock (core.sqlite's queue log), per request.
    queue_log = var_dir / "profile-queue.log"
    queue_log.unlink(missing_ok=True)
    if args.database_url.startswith("sqlite"):
        os.environ["WEISHANG_SQLITE_QUEUE_LOG"] = str(queue_log)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # as serve --prod does
    data = load.prepare(agents=args.agents, seed=7, scarce_share=0.0)
    if args.data_out:
        Path(args.data_out).write_text(json.dumps(data))
    client = Client(HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="127.0.0.1")
    cpu: dict[str, list[float]] = defaultdict(list)
    statements: dict[str, list[int]] = defaultdict(list)
    writes: dict[str, list[int]] = defaultdict(list)
    locked: dict[str, list[float]] = defaultdict(list)
    profiler = cProfile.Profile()
    last_sql: list[str] = []

    def call(name: str, method: str, path: str, *, measure: bool, body=None, headers=None, cookie=None):
        headers = {k.upper().replace("-", "_"): v for k, v in (headers or {}).items()}
        extra = {f"HTTP_{k}": v for k, v in headers.items()}
        if cookie:
            client.cookies["sessionid"] = cookie
        else:
            client.cookies.pop("sessionid", None)
        kwargs = {"content_type": "application/json", "data": json.dumps(body)} if body is not None else {}
        connection.queries_log.clear()
        log_from = queue_log.stat().st_size if queue_log.exists() else 0
        with CaptureQueriesContext(connection) as queries:
            if measure and name == args.profile:
                profiler.enable()
            t = time.process_time()
            response = getattr(client, method.lower())(path, **kwargs, **extra)
            spent = (time.process_time() - t) * 1000
            if measure and name == args.profile:
                profiler.disable()
        if measure:
            cpu[name].append(spent)
            statements[name].append(len(queries))
            writes[name].append(sum(1 for q in queries if q["sql"].upper().startswith(("BEGIN", "SAVEPOINT"))))
            if queue_log.exists():
                with queue_log.open("rb") as log:
                    log.seek(log_from)
                    locked[name].append(sum(float(line.split()[3]) for line in log.read().decode().splitlines()))
            if name == args.sql:
                last_sql[:] = [q["sql"] for q in queries]
        return response

    buyers = data["buyers"]
    for i in range(10 + args.orders):
        measure = i >= 10
        buyer = buyers[i % len(buyers)]
        seller = data["sellers"][str(buyer["seller"])]
        auth = {"Authorization": f"Bearer {buyer['token']}"}
        sauth = {"Authorization": f"Bearer {seller['token']}"}
        body = {"lines": [{"sku": data["sku"], "quantity": buyer["quantity"]}]}
        r = call(
            "POST /orders",
            "POST",
            "/api/v1/orders",
            measure=measure,
            body=body,
            headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 201, r.content
        number = r.json()["number"]
        r = call("POST /fills/{n}/approve", "POST", f"/api/v1/fills/{number}/approve", measure=measure, headers=sauth)
        assert r.status_code == 200, r.content
        r = call(
            "POST /orders/{n}/pay",
            "POST",
            f"/api/v1/orders/{number}/pay",
            measure=measure,
            body={"method": "wallet"},
            headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 200, r.content
        r = call(
            "POST /fills/{n}/fill",
            "POST",
            f"/api/v1/fills/{number}/fill",
            measure=measure,
            body={},
            headers={**sauth, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 200, r.content
        for name, path in (("GET /m/", "/m/"), ("GET /m/team/", "/m/team/"), ("GET /m/rewards/", "/m/rewards/")):
            r = call(name, "GET", path, measure=measure, cookie=seller["session"])
            assert r.status_code == 200, (path, r.status_code)
        # The floor under every API request (bench/load.py --floor): the cheapest authenticated read.
        r = call("GET /notifications/unread", "GET", "/api/v1/notifications/unread", measure=measure, headers=auth)
        assert r.status_code == 200, r.content
    print(f"{connection.vendor}, outbox {args.outbox}, {args.orders} completed paths, in process")
    print(f"  {'endpoint':<26}{'CPU ms p50':>11}{'statements':>11}{'transactions':>13}{'in write lock, CPU ms':>23}")
    out = {}
    for name in cpu:
        row = {
            "cpu_ms": statistics.median(cpu[name]),
            "statements": statistics.median(statements[name]),
            "transactions": statistics.median(writes[name]),
            "locked_cpu_ms": statistics.median(locked[name]) if locked[name] else 0.0,
        }
        out[name] = row
        print(
            f"  {name:<26}{row['cpu_ms']:>11.1f}{row['statements']:>11.0f}{row['transactions']:>13.0f}"
            f"{row['locked_cpu_ms']:>23.2f}"
        )
    if args.profile:
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text).sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
        stats.print_stats(int(os.environ.get("PROFILE_LINES", "45")))
        print(text.getvalue())
        if args.profile_out:
            profiler.dump_stats(args.profile_out)
    for sql in last_sql:
        print("   ", sql[:230])
    if args.json:
        Path(args.json).write_text(json.dumps({"backend": connection.vendor, "outbox": args.outbox, "endpoints": out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
