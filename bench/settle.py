#!/usr/bin/env python
"""Benchmark of the monthly settlement (``rewards.services.settle_period``) on a large month.

Builds, in a fresh database per backend, the 100,000-agent demo channel of ``bench/tree.py``
(``--agents``; ``weishang.demo.services.load_agents`` without its order history; referrer depth
>= 30), activates the plan ``bench/settle-plan.yaml`` (generational referral, retail commission,
monthly differential team ladder) and bulk-inserts completed restock orders, one line each:
``--lines`` (default 1,000,000) in the measured month and a quarter of that in the month before
(the memory comparison). Orders go in with ``executemany`` (SQLite) or ``COPY`` (PostgreSQL),
not through the services; ``completed_at`` is spread over the month in the plan's time zone.

Every measurement then runs in a fresh process on a fresh copy of that database (a file copy on
SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL), so that each ``settle_period`` starts
from the same state (nothing settled, no reward accounts yet) and each process's peak memory
is its own:

- **time** (``--reps``, default 3, per month): the plain aggregate scan
  ``SELECT buyer_id, SUM(total) … GROUP BY buyer_id`` over the month's orders (raw SQL, and the
  same query through the ORM; one warm-up, then ``--scans`` timed, median), then
  ``settle_period`` for the month, timed; ratio = settlement / raw scan, in the same process;
  checks (volume = the scan's sum, the largest team's volume = the closure-table query, lines,
  ledger postings and balances add up);
- **memory** (one per month): ``settle_period`` alone; growth of the process's peak RSS
  (``ru_maxrss``) over its RSS just before;
- **tracemalloc** (one per month): ``settle_period`` under ``tracemalloc``, its peak of Python
  allocations (the run is about 3x slower; its time is not used);
- **phases** (one): where the time goes — exclusive time and SQL statements of each step
  (loading the agents, the GROUP BY queries, the rollup, the engine, storing lines, accounts,
  ledger postings, bulk inserts), by wrapping those functions in this process;
- **profile** (one): ``cProfile`` of ``settle_period``.

Usage::

    .venv/bin/python bench/settle.py                     # SQLite, then PostgreSQL if reachable
    .venv/bin/python bench/settle.py --backend sqlite --agents 20000 --lines 200000
    .venv/bin/python bench/settle.py --smoke             # tiny, one run of each kind (~15 s a backend)

The databases are ``var/bench/settle.sqlite3`` (copies: ``settle-run.sqlite3``) and
``weishang_bench_settle`` (copies: ``weishang_bench_settle_run``) on ``--postgres-url``
(default postgres://postgres@127.0.0.1:5432/, dropped and re-created). Results as JSON in
``var/bench/settle-<backend>.json``, the profile in ``var/bench/settle-<backend>-profile.txt``.
One run at a time: a second one waits for ``var/bench/settle.lock``.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import inspect
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
PLAN_FILE = Path(__file__).resolve().parent / "settle-plan.yaml"
SQLITE_PATH = BENCH_DIR / "settle.sqlite3"
SQLITE_RUN_PATH = BENCH_DIR / "settle-run.sqlite3"
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/")
PG_DB = "weishang_bench_settle"
PG_RUN_DB = "weishang_bench_settle_run"
DEFAULT_AGENTS = 100_000
DEFAULT_LINES = 1_000_000
MIN_DEPTH = 30
SKU_CODE = "GLOW-30ML"
CHUNK = 50_000  # orders generated and inserted per batch

# Targets (the issue's): settlement <= 60 s on SQLite, <= 3x one plain aggregate scan, memory bounded.
TARGET_SQLITE_S = 60.0
TARGET_RATIO = 3.0


def _tree_helpers():
    """bench/tree.py's helpers (database preparation, URL, commit, server version), from its file."""
    spec = importlib.util.spec_from_file_location("bench_tree", Path(__file__).resolve().parent / "tree.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_tree = _tree_helpers()
_pg_url, _commit, _server_version = _tree._pg_url, _tree._commit, _tree._server_version


def _cpu_snapshot() -> tuple[float, float, float]:
    """bench/orders.py's: busy CPU seconds of the machine, of this process (+ reaped children), of PostgreSQL."""
    spec = importlib.util.spec_from_file_location("bench_orders", Path(__file__).resolve().parent / "orders.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._cpu_snapshot()


def _months(today: date) -> tuple[str, str]:
    """(measured month, the month before): the last complete month before ``today``, and its predecessor."""
    first = today.replace(day=1)
    big = (first - timedelta(days=1)).replace(day=1)
    small = (big - timedelta(days=1)).replace(day=1)
    return f"{big:%Y-%m}", f"{small:%Y-%m}"


# ============================================================================================
# Parent: build once per backend, then one fresh copy and one subprocess per measurement.
# ============================================================================================


def _pg_admin(admin_url: str):
    import psycopg

    return psycopg.connect(
        _pg_url("postgres", admin_url).replace("postgres://", "postgresql://", 1), autocommit=True, connect_timeout=5
    )


def _copy_database(backend: str, admin_url: str) -> tuple[str, float]:
    """A fresh copy of the built database for one measurement; (its URL, seconds the copy took)."""
    t0 = time.perf_counter()
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{SQLITE_RUN_PATH}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(SQLITE_PATH, SQLITE_RUN_PATH)  # the build checkpointed its WAL into the file
        url = f"sqlite:///{SQLITE_RUN_PATH}"
    else:
        with _pg_admin(admin_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_RUN_DB}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{PG_RUN_DB}" TEMPLATE "{PG_DB}" STRATEGY FILE_COPY')
        url = _pg_url(PG_RUN_DB, admin_url)
    return url, time.perf_counter() - t0


def _drop_copy(backend: str, admin_url: str) -> None:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{SQLITE_RUN_PATH}{suffix}").unlink(missing_ok=True)
    else:
        with _pg_admin(admin_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_RUN_DB}" WITH (FORCE)')


def _child(args: argparse.Namespace, url: str, role: str, out: Path, **extra) -> dict | None:
    out.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--database-url",
        url,
        "--role",
        role,
        "--json",
        str(out),
        "--agents",
        str(args.agents),
        "--lines",
        str(args.lines),
        "--small-lines",
        str(args.small_lines),
        "--seed",
        str(args.seed),
        "--scans",
        str(args.scans),
    ]
    for key, value in extra.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    rc = subprocess.call(cmd)
    if rc != 0 or not out.exists():
        print(f"   !! {role} {extra} failed (exit code {rc})", flush=True)
        return None
    return json.loads(out.read_text())


def _exclusive() -> int:
    """One run at a time: two runs would rebuild and copy the same databases under each other."""
    import fcntl

    fd = os.open(BENCH_DIR / "settle.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("another bench/settle.py is running (var/bench/settle.lock); waiting for it to finish …", flush=True)
        fcntl.flock(fd, fcntl.LOCK_EX)
    return fd  # held until this process exits


def run_parent(args: argparse.Namespace) -> int:
    backends = ["sqlite", "postgresql"] if args.backend == "all" else [args.backend]
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    _lock = _exclusive()  # noqa: F841 - kept open for the whole run
    big, small = _months(date.today())
    results: dict[str, dict] = {}
    failed = False
    for backend in backends:
        if backend == "sqlite":
            url = _tree._prepare_sqlite(SQLITE_PATH)
        else:
            url, why = _tree._prepare_postgresql(args.postgres_url, PG_DB)
            if url is None:
                print(f"\n== postgresql: skipped, not reachable at {args.postgres_url} ({why})", flush=True)
                failed = failed or args.backend == "postgresql"
                continue
        print(f"\n== {backend}: building {url}", flush=True)
        tmp = BENCH_DIR / f"settle-{backend}-child.json"
        build = _child(args, url, "build", tmp, period=big, small_period=small)
        if build is None:
            failed = True
            continue
        # Which measurements, in which order: the timed runs of both months interleaved, so that a
        # burst of load on the shared machine does not hit one month only.
        plan: list[tuple[str, str]] = []
        for _ in range(args.reps):
            plan += [("time", big), ("time", small)]
        plan += [
            ("memory", big),
            ("memory", small),
            ("tracemalloc", big),
            ("tracemalloc", small),
            ("phases", big),
            ("profile", big),
        ]
        runs = []
        for role, period in plan:
            copy_url, t_copy = _copy_database(backend, args.postgres_url)
            print(f"\n-- {backend}: {role} {period} (fresh copy in {t_copy:.1f} s)", flush=True)
            res = _child(args, copy_url, role, tmp, period=period)
            if res is None:
                failed = True
                continue
            if not res.get("checks_ok", True):
                failed = True
            runs.append(res)
        _drop_copy(backend, args.postgres_url)
        tmp.unlink(missing_ok=True)
        result = _summarise(backend, build, runs, big, small)
        results[backend] = result
        (BENCH_DIR / f"settle-{backend}.json").write_text(json.dumps(result, indent=2, default=str))
        failed = failed or not result["checks_ok"]
    if results:
        _print_summary(results)
    return 1 if failed else 0


def _med(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def _summarise(backend: str, build: dict, runs: list[dict], big: str, small: str) -> dict:
    def of(role: str, period: str) -> list[dict]:
        return [r for r in runs if r["role"] == role and r["period"] == period]

    months = {}
    for period in (big, small):
        timed = of("time", period)
        entry: dict = {"period": period, "lines": build["months"][period]["lines"], "reps": len(timed)}
        if timed:
            entry.update(
                settle_s=[r["settle_s"] for r in timed],
                scan_s=[r["scan_raw_s"] for r in timed],
                scan_orm_s=[r["scan_orm_s"] for r in timed],
                ratio=[r["ratio_raw"] for r in timed],
                ratio_orm=[r["ratio_orm"] for r in timed],
                settle_median_s=_med(timed, "settle_s"),
                scan_median_s=_med(timed, "scan_raw_s"),
                scan_orm_median_s=_med(timed, "scan_orm_s"),
                ratio_median=_med(timed, "ratio_raw"),
                ratio_orm_median=_med(timed, "ratio_orm"),
                settle_cpu_s=[r.get("settle_cpu_s") for r in timed],
                ratio_cpu=[r.get("ratio_cpu") for r in timed],
                ratio_cpu_median=_med(timed, "ratio_cpu"),
                reward_lines=timed[0]["reward_lines"],
                reports=timed[0]["reports"],
                payout=timed[0]["payout"],
                volume=timed[0]["volume"],
                load=[r["load_average"] for r in timed],
                other_cores=[r["other_cores"] for r in timed],
            )
        mem = of("memory", period)
        if mem:
            entry["memory"] = {k: mem[0][k] for k in ("settle_s", "rss_before_mib", "maxrss_mib", "rss_growth_mib")}
        tm = of("tracemalloc", period)
        if tm:
            entry["tracemalloc"] = {k: tm[0][k] for k in ("settle_s", "tracemalloc_peak_mib")}
        months[period] = entry
    phases = next((r for r in runs if r["role"] == "phases"), None)
    profile = next((r for r in runs if r["role"] == "profile"), None)
    b, s = months[big], months[small]
    targets = []
    if b.get("settle_median_s") is not None:
        if backend == "sqlite":
            targets.append(
                {
                    "target": f"settlement <= {TARGET_SQLITE_S:g} s on SQLite",
                    "value": b["settle_median_s"],
                    "unit": " s",
                    "met": b["settle_median_s"] <= TARGET_SQLITE_S,
                }
            )
        targets.append(
            {
                "target": f"settlement <= {TARGET_RATIO:g}x one plain aggregate scan (raw SQL)",
                "value": b["ratio_median"],
                "unit": "x",
                "met": b["ratio_median"] <= TARGET_RATIO,
            }
        )
    # "Bounded": 4x the order lines must not give anywhere near 4x the memory.
    line_growth = b["lines"] / s["lines"] if s["lines"] else 0.0
    for key, what in (("tracemalloc", "tracemalloc_peak_mib"), ("memory", "rss_growth_mib")):
        if key in b and key in s and s[key][what]:
            growth = b[key][what] / s[key][what]
            targets.append(
                {
                    "target": f"memory bounded: {what} at {b['lines']:,} / at {s['lines']:,} order lines "
                    f"(x{line_growth:.0f} lines) < 1.5",
                    "value": growth,
                    "unit": "x",
                    "met": growth < 1.5,
                }
            )
    states = sorted({(r.get("src_tree"), r.get("src_dirty")) for r in [build, *runs]}, key=str)
    return {
        "backend": backend,
        "build": build,
        "months": months,
        "runs": runs,
        "code_states": states,
        "phases": phases["phases"] if phases else None,
        "phases_settle_s": phases["settle_s"] if phases else None,
        "profile_top": profile["profile_top"] if profile else None,
        "targets": targets,
        "checks_ok": all(r.get("checks_ok", True) for r in runs),
    }


def _print_summary(results: dict[str, dict]) -> None:
    print("\n== Summary (medians over the timed runs; each run a fresh process on a fresh copy)")
    for backend, res in results.items():
        bld = res["build"]
        print(
            f"\n{backend} ({bld['server_version']}, commit {bld['commit']}): {bld['agents']:,} agents, depth "
            f"{bld['max_depth']}"
        )
        for period, m in res["months"].items():
            if m.get("settle_median_s") is None:
                continue
            print(
                f"  {period}: {m['lines']:,} order lines -> settle_period {m['settle_median_s']:.2f} s "
                f"(runs {', '.join(f'{x:.2f}' for x in m['settle_s'])}; other processes "
                f"{', '.join(f'{x:.2f}' for x in m['other_cores'])} cores); scan {m['scan_median_s']:.3f} s raw / "
                f"{m['scan_orm_median_s']:.3f} s ORM; ratio {m['ratio_median']:.1f}x raw / "
                f"{m['ratio_orm_median']:.1f}x ORM, {m['ratio_cpu_median'] or 0:.1f}x in CPU time; "
                f"{m['reward_lines']:,} reward lines, {m['reports']:,} reports"
            )
            if "memory" in m:
                print(
                    f"      memory run: peak RSS {m['memory']['maxrss_mib']:.0f} MiB, growth "
                    f"{m['memory']['rss_growth_mib']:.0f} MiB over {m['memory']['rss_before_mib']:.0f} MiB"
                )
            if "tracemalloc" in m:
                print(
                    f"      tracemalloc run: peak {m['tracemalloc']['tracemalloc_peak_mib']:.0f} MiB of Python "
                    f"allocations"
                )
        for t in res["targets"]:
            print(f"  [{'met ' if t['met'] else 'MISS'}] {t['target']}: {t['value']:.2f}{t['unit']}")
        if len(res["code_states"]) > 1 or any(dirty for _c, dirty in res["code_states"]):
            print(
                f"  !! src/ changed during the benchmark or had uncommitted changes (src tree, dirty): "
                f"{res['code_states']}"
            )
        print(f"  checks {'OK' if res['checks_ok'] else 'FAILED'}")


# ============================================================================================
# Child: one process, one database.
# ============================================================================================


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("WEISHANG_VAR", str(BENCH_DIR))
    os.environ["DEBUG"] = "0"  # no query log
    os.environ["WEISHANG_OUTBOX_INLINE"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "weishang.settings")
    src = str(ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    import django

    django.setup()


def _code_state() -> dict:
    """The commit checked out when this process started, its src/ tree (commits that change only
    bench/ or docs/ keep it), and whether src/ had uncommitted changes."""

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(
                ["git", "-C", str(ROOT), *cmd], capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "commit": _commit(),
        "src_tree": git("rev-parse", "--short", "HEAD:src") or "unknown",
        "src_dirty": bool(git("status", "--porcelain", "--", "src")),
    }


def _month_bounds(period: str):
    """[first day 00:00, next month's first day 00:00) in the current (the plan's) time zone."""
    from django.utils import timezone

    year, month = map(int, period.split("-"))
    tz = timezone.get_current_timezone()
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _maxrss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_build(args: argparse.Namespace) -> int:
    _setup_django(args.database_url)

    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Count, Max

    from weishang.catalog.models import SKU
    from weishang.catalog.selectors import level_price
    from weishang.channel.models import Agent, Level, ReferrerLink
    from weishang.core.models import Brand
    from weishang.demo import services as demo_services
    from weishang.rewards.plan_versions import plan_activate, plan_upload
    from weishang.trade.models import Order, OrderKind, OrderLine, OrderStatus

    vendor = connection.vendor
    code = _code_state()
    print(
        f"backend: {vendor} {_server_version(connection)}; commit {code['commit']}"
        f"{' + uncommitted changes in src/' if code['src_dirty'] else ''}; agents {args.agents:,}; "
        f"lines {args.lines:,} in {args.period}, {args.small_lines:,} in {args.small_period}; seed {args.seed}",
        flush=True,
    )
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    if Agent.objects.exists():
        print("the database already holds agents; the benchmark needs a fresh one", file=sys.stderr)
        return 2
    t_migrate = time.perf_counter() - t0

    t0 = time.perf_counter()
    with transaction.atomic():
        # Under UK rules, like tests/rewards: the plan has HIGH findings only (acknowledged below);
        # under Chinese rules the linter refuses its entry orders (CRIT), as it does glow-tiered's.
        Brand.objects.create(name=demo_services.BRAND_NAME, currency="CNY", timezone="Asia/Shanghai", jurisdiction="uk")
        levels = demo_services._catalog()
        demo_services.load_agents(
            n=args.agents, seed=args.seed, levels=levels, wave=10, wave_share=0.8, orders=False
        )  # no order history: the months below are the only orders
    t_load = time.perf_counter() - t0
    max_depth = ReferrerLink.objects.aggregate(d=Max("depth"))["d"] or 0
    if args.agents == DEFAULT_AGENTS and max_depth < MIN_DEPTH:
        raise AssertionError(f"referrer depth {max_depth} < {MIN_DEPTH}")

    # The plan, in force from the first day of the earlier month (validated on upload).
    text = PLAN_FILE.read_text(encoding="utf-8")
    version = plan_upload(text=text, filename=PLAN_FILE.name)
    gate = (
        {"acknowledgement": "bench/settle.py: benchmark data, HIGH findings accepted"}
        if "acknowledgement" in inspect.signature(plan_activate).parameters
        else {}
    )
    plan_activate(version=version, active_from=_month_bounds(args.small_period)[0] - timedelta(days=1), **gate)

    # --- orders: completed restocks, one line of GLOW-30ML each, spread over each month ----------
    sku = SKU.objects.get(code=SKU_CODE)
    level_by_id = {lvl.pk: lvl for lvl in Level.objects.all()}
    price = {pk: level_price(sku=sku, level=lvl) for pk, lvl in level_by_id.items()}
    agents = list(Agent.objects.order_by("pk").values_list("pk", "level_id", "supplier_id"))
    rng = random.Random(args.seed)
    order_fields = [f.column for f in Order._meta.concrete_fields]
    line_fields = [f.column for f in OrderLine._meta.concrete_fields]
    expected = {
        "id",
        "number",
        "kind",
        "buyer_id",
        "customer_id",
        "seller_id",
        "supply_mode",
        "bound_agent_id",
        "target_level_id",
        "status",
        "total",
        "discount",
        "idempotency_key",
        "ship_name",
        "ship_phone",
        "ship_region_id",
        "ship_address",
        "carrier",
        "tracking_number",
        "shipped_at",
        "delivered_at",
        "created_at",
        "submitted_at",
        "paid_at",
        "completed_at",
        "note",
    }
    if set(order_fields) != expected or set(line_fields) != {
        "id",
        "order_id",
        "sku_id",
        "quantity",
        "unit_price",
        "line_total",
        "gift",
    }:
        raise RuntimeError(f"Order/OrderLine columns changed ({order_fields}, {line_fields}): update the bench")
    ops = connection.ops
    next_order = (Order.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    next_line = (OrderLine.objects.aggregate(m=Max("pk"))["m"] or 0) + 1

    def dt(value: datetime):
        return ops.adapt_datetimefield_value(value)

    def money(value: Decimal):
        return ops.adapt_decimalfield_value(value, 12, 2)

    def month_rows(period: str, n: int):
        """(order rows, line rows) in chunks; every order completed within the month. Ids follow
        the completion time, as in a real history (orders are numbered as they come in and complete
        within days), so a month's orders sit together in the table rather than scattered over it."""
        nonlocal next_order, next_line
        start, end = _month_bounds(period)
        span = (end - start).total_seconds()
        offsets = sorted(rng.random() * span for _ in range(n))
        tag = period.replace("-", "")
        done = 0
        while done < n:
            k = min(CHUNK, n - done)
            orders, lines = [], []
            for i, (buyer, level_id, supplier) in enumerate(rng.choices(agents, k=k)):
                qty = level_by_id[level_id].min_restock_qty * rng.randint(1, 3)
                unit = price[level_id]
                total = unit * qty
                completed = start + timedelta(seconds=offsets[done + i])
                paid = completed - timedelta(hours=rng.uniform(1, 48))
                row = {
                    "id": next_order,
                    "number": f"B{tag}{next_order:010d}",
                    "kind": OrderKind.RESTOCK.value,
                    "buyer_id": buyer,
                    "customer_id": None,
                    "seller_id": supplier,
                    "supply_mode": "cloud",
                    "bound_agent_id": None,
                    "target_level_id": None,
                    "status": OrderStatus.COMPLETED.value,
                    "total": money(total),
                    "discount": money(Decimal("0")),
                    "idempotency_key": None,
                    "ship_name": "",
                    "ship_phone": "",
                    "ship_region_id": None,
                    "ship_address": "",
                    "carrier": "",
                    "tracking_number": "",
                    "shipped_at": None,
                    "delivered_at": None,
                    "created_at": dt(paid - timedelta(hours=1)),
                    "submitted_at": dt(paid - timedelta(hours=1)),
                    "paid_at": dt(paid),
                    "completed_at": dt(completed),
                    "note": "",
                }
                orders.append(tuple(row[c] for c in order_fields))
                line = {
                    "id": next_line,
                    "order_id": next_order,
                    "sku_id": sku.pk,
                    "quantity": qty,
                    "unit_price": money(unit),
                    "line_total": money(total),
                    "gift": False,
                }
                lines.append(tuple(line[c] for c in line_fields))
                next_order += 1
                next_line += 1
            done += k
            yield orders, lines

    qn = ops.quote_name

    def insert(table: str, columns: list[str], rows: list[tuple]) -> None:
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {qn(table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN") as cp:
                    for row in rows:
                        cp.write_row(row)
            else:
                cursor.executemany(
                    f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) VALUES "
                    f"({', '.join(['%s'] * len(columns))})",
                    rows,
                )

    months = {}
    t_orders = 0.0
    for period, n in ((args.small_period, args.small_lines), (args.period, args.lines)):
        t0 = time.perf_counter()
        with transaction.atomic():
            for orders, lines in month_rows(period, n):
                insert(Order._meta.db_table, order_fields, orders)
                insert(OrderLine._meta.db_table, line_fields, lines)
        elapsed = time.perf_counter() - t0
        t_orders += elapsed
        months[period] = {"lines": n, "orders": n, "insert_s": elapsed}
        print(
            f"orders: {n:,} completed restock orders of one line in {period}, inserted in {elapsed:.1f} s "
            f"({'COPY' if vendor == 'postgresql' else 'executemany'})",
            flush=True,
        )
    with connection.cursor() as cursor:
        for sql in ops.sequence_reset_sql(no_style(), [Order, OrderLine]):
            cursor.execute(sql)

    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")
        if vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the copies take the main file only
    t_analyze = time.perf_counter() - t0
    for period in months:
        start, end = _month_bounds(period)
        got = Order.objects.filter(status=OrderStatus.COMPLETED, completed_at__gte=start, completed_at__lt=end)
        months[period]["orders_in_db"] = got.count()
        months[period]["buyers"] = got.values("buyer_id").distinct().count()
        assert months[period]["orders_in_db"] == months[period]["orders"], (period, months[period])
    levels_mix = dict(Agent.objects.values_list("level__code").annotate(n=Count("pk")).order_by())
    # The database file built (bench/scale.py builds its own, not SQLITE_PATH).
    size = {"sqlite": Path(connection.settings_dict["NAME"]).stat().st_size if vendor == "sqlite" else None}
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            size["postgresql"] = cursor.fetchone()[0]
    result = {
        "role": "build",
        "backend": vendor,
        "server_version": _server_version(connection),
        **code,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "agents": args.agents,
        "seed": args.seed,
        "max_depth": max_depth,
        "levels": levels_mix,
        "months": months,
        "plan": f"{version}",
        "build_s": {"migrate": t_migrate, "load_agents": t_load, "orders": t_orders, "analyze": t_analyze},
        "db_bytes": size.get(vendor),
    }
    connection.close()
    print(
        f"build: migrate {t_migrate:.1f} s, load_agents {t_load:.1f} s (depth {max_depth}), orders "
        f"{t_orders:.1f} s, {'VACUUM ANALYZE' if vendor == 'postgresql' else 'ANALYZE'} {t_analyze:.1f} s; "
        f"database {(result['db_bytes'] or 0) / 2**20:,.0f} MiB; levels {levels_mix}",
        flush=True,
    )
    Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 0


class _Phases:
    """Exclusive wall time, CPU time of the thread, calls and SQL statements per instrumented
    function (nesting-aware, per thread). Settlement writes its batches on a second thread while
    the engine computes (``weishang.core.db_threads``): that thread's phases are marked
    "[writer]" and overlap the others in time, so the column adds up to more than the run. On
    SQLite a thread's CPU time includes the database's work (same process), on PostgreSQL not the
    server's."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.excl: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: Counter = Counter()
        self.sql_n: Counter = Counter()
        self.sql_s: dict[str, float] = defaultdict(float)

    @property
    def stack(self) -> list[list]:
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        return self._local.stack

    def wrap(self, name, fn):
        phases = self

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            label = name(*a) if callable(name) else name
            if threading.current_thread() is not threading.main_thread():
                label = f"[{threading.current_thread().name}] {label}"
            stack = phases.stack
            stack.append([label, 0.0, 0.0])
            t, c = time.perf_counter(), time.thread_time()
            try:
                return fn(*a, **kw)
            finally:
                elapsed, cpu = time.perf_counter() - t, time.thread_time() - c
                _label, children, children_cpu = stack.pop()
                with phases._lock:
                    phases.excl[label] += elapsed - children
                    phases.cpu[label] += cpu - children_cpu
                    phases.calls[label] += 1
                if stack:
                    stack[-1][1] += elapsed
                    stack[-1][2] += cpu

        return wrapper

    def sql(self, execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            stack = self.stack
            label = stack[-1][0] if stack else "(outside)"
            with self._lock:
                self.sql_n[label] += 1
                self.sql_s[label] += time.perf_counter() - t

    def watch_new_connections(self) -> None:
        """Count the SQL of the connections other threads open, too."""
        from django.db.backends.signals import connection_created

        connection_created.connect(
            lambda sender, connection, **kw: connection.execute_wrappers.append(self.sql), weak=False
        )


def run_measure(args: argparse.Namespace) -> int:
    _setup_django(args.database_url)

    from django.db import connection
    from django.db.models import Sum

    from weishang.channel.models import Agent, ReferrerLink
    from weishang.ledger.models import Account, JournalLine, Purpose
    from weishang.rewards import hierarchy as rewards_hierarchy
    from weishang.rewards import services
    from weishang.rewards.hierarchy import COUNTED
    from weishang.rewards.models import RewardLine, SettlementReport
    from weishang.trade.models import Order
    from weishang.trade.models.orders import VOLUME_KINDS
    from weishang.trade.selectors import team_purchase_volume

    vendor = connection.vendor
    role, period = args.role, args.period
    code = _code_state()
    start, end = _month_bounds(period)
    connection.ensure_connection()
    load_before = os.getloadavg()[0]
    rss_start = _rss_mib()
    result: dict = {
        "role": role,
        "period": period,
        "backend": vendor,
        "load_average": load_before,
        "rss_start_mib": rss_start,
        **code,
    }

    # --- the plain aggregate scan: the same orders, the same filter as the settlement's metric -----
    kinds = [str(k) for k in VOLUME_KINDS]
    statuses = [str(s) for s in COUNTED]
    table, qn = Order._meta.db_table, connection.ops.quote_name
    raw = (
        f"SELECT {qn('buyer_id')}, SUM({qn('total')}) FROM {qn(table)} WHERE {qn('kind')} IN "
        f"({', '.join(['%s'] * len(kinds))}) AND {qn('status')} IN ({', '.join(['%s'] * len(statuses))}) "
        f"AND {qn('completed_at')} >= %s AND {qn('completed_at')} < %s GROUP BY {qn('buyer_id')}"
    )
    raw_params = [
        *kinds,
        *statuses,
        connection.ops.adapt_datetimefield_value(start),
        connection.ops.adapt_datetimefield_value(end),
    ]

    def scan_raw() -> dict:
        with connection.cursor() as cursor:
            cursor.execute(raw, raw_params)
            return dict(cursor.fetchall())

    def scan_orm() -> dict:
        rows = (
            Order.objects.filter(
                kind__in=VOLUME_KINDS, status__in=COUNTED, completed_at__gte=start, completed_at__lt=end
            )
            .values_list("buyer_id")
            .annotate(s=Sum("total"))
            .order_by()
            .values_list("buyer_id", "s")
        )
        return dict(rows)

    def timed(fn, n: int) -> tuple[list[float], list[float], object]:
        fn()  # warm-up: the pages in the cache, as for the settlement that follows
        samples, cpu, out = [], [], None
        for _ in range(n):
            t, c = time.perf_counter(), time.process_time()
            out = fn()
            samples.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        return samples, cpu, out

    scan_total = None
    if role == "time":
        raw_s, raw_cpu, raw_rows = timed(scan_raw, args.scans)
        orm_s, _orm_cpu, orm_rows = timed(scan_orm, args.scans)
        scan_total = sum((Decimal(str(v)) for v in raw_rows.values()), Decimal("0"))
        result.update(
            scan_raw_s=statistics.median(raw_s),
            scan_raw_samples=raw_s,
            scan_orm_s=statistics.median(orm_s),
            scan_orm_samples=orm_s,
            scan_buyers=len(raw_rows),
            scan_raw_cpu_s=statistics.median(raw_cpu),
        )
        print(
            f"   plain scan over {period}: raw SQL {statistics.median(raw_s):.3f} s, ORM "
            f"{statistics.median(orm_s):.3f} s (median of {args.scans}; {len(raw_rows):,} buyers)",
            flush=True,
        )

    # --- settle_period ---------------------------------------------------------------------------
    phases = None
    profiler = None
    if role == "phases":
        from django.db.models.query import QuerySet

        from weishang.core import bulk
        from weishang.ledger import services as ledger
        from weishang.plans import engine as plan_engine

        phases = _Phases()
        phases.watch_new_connections()
        DH = rewards_hierarchy.DatabaseHierarchy
        DH._parent_map = phases.wrap("load all agents (_parent_map)", DH._parent_map)
        DH._grouped = phases.wrap("GROUP BY buyer query (_grouped)", DH._grouped)
        DH._rollup = phases.wrap("team rollup in Python (_rollup)", DH._rollup)
        plan_engine.Engine.process = phases.wrap("engine: compute lines (Engine.process)", plan_engine.Engine.process)
        # Settlement consumes Engine.stream, a generator: each step is timed (the queries it
        # triggers on the first step are timed as their own phases, nested inside).
        next_line = phases.wrap("engine: compute lines (Engine.stream)", next)
        real_stream = plan_engine.Engine.stream

        def timed_stream(self, event, view):
            lines = real_stream(self, event, view)
            while (line := next_line(lines, None)) is not None:
                yield line

        plan_engine.Engine.stream = timed_stream
        services._store_new = phases.wrap("_store_new: classify, build rows", services._store_new)
        ledger.account_for = phases.wrap("ledger.account_for (get_or_create)", ledger.account_for)
        ledger.agent_account_ids = phases.wrap("ledger.agent_account_ids: open accounts", ledger.agent_account_ids)
        ledger.journal_post = phases.wrap("ledger.journal_post: checks, entry row", ledger.journal_post)
        ledger._apply = phases.wrap("ledger._apply: sum per account", ledger._apply)
        ledger._locked_rows = phases.wrap("ledger._locked_rows: lock accounts", ledger._locked_rows)
        ledger._add_to_balances = phases.wrap("ledger._add_to_balances: balance UPDATEs", ledger._add_to_balances)
        bulk.insert_rows = phases.wrap(lambda model, *a: f"insert_rows {model.__name__}", bulk.insert_rows)
        # Commits: on PostgreSQL the deferred foreign-key checks of the batch's rows run here.
        from django.db import connections

        wrapper = type(connections["default"])
        wrapper.commit = phases.wrap("COMMIT (PostgreSQL: deferred FK checks)", wrapper.commit)
        QuerySet.bulk_create = phases.wrap(lambda qs, *a: f"bulk_create {qs.model.__name__}", QuerySet.bulk_create)
        QuerySet.update = phases.wrap(lambda qs, *a: f"update {qs.model.__name__}", QuerySet.update)
    if role == "tracemalloc":
        import tracemalloc

        tracemalloc.start()
        tracemalloc.reset_peak()
    if role == "profile":
        import cProfile

        profiler = cProfile.Profile()

    rss_before = _rss_mib()
    maxrss_before = _maxrss_mib()
    cpu0 = _cpu_snapshot()
    t0, own0 = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    if phases is not None:
        with connection.execute_wrapper(phases.sql):
            run = phases.wrap("settle_period (own code)", services.settle_period)(period=period)
    else:
        run = services.settle_period(period=period)
    if profiler is not None:
        profiler.disable()
    settle_s, settle_cpu_s = time.perf_counter() - t0, time.process_time() - own0
    cpu1 = _cpu_snapshot()
    maxrss_after = _maxrss_mib()
    # Cores other processes kept busy during settle_period (machine busy time minus this process
    # and the PostgreSQL server, whose backends may include other people's test databases).
    result["other_cores"] = max(0.0, ((cpu1[0] - cpu0[0]) - (cpu1[1] - cpu0[1]) - (cpu1[2] - cpu0[2])) / settle_s)
    # Peak RSS of the process minus its RSS just before (a "memory" run does nothing else first).
    result.update(
        settle_s=settle_s,
        settle_cpu_s=settle_cpu_s,
        rss_before_mib=rss_before,
        maxrss_mib=maxrss_after,
        maxrss_before_mib=maxrss_before,
        rss_growth_mib=maxrss_after - rss_before,
    )
    if role == "tracemalloc":
        import tracemalloc

        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["tracemalloc_peak_mib"] = peak / 2**20
    if role == "time":
        result["ratio_raw"] = settle_s / result["scan_raw_s"]
        result["ratio_orm"] = settle_s / result["scan_orm_s"]
        # The same ratio in this process's CPU seconds: steadier when other processes load the
        # machine; on SQLite it includes the database's work, on PostgreSQL not the server's.
        result["ratio_cpu"] = settle_cpu_s / result["scan_raw_cpu_s"] if result["scan_raw_cpu_s"] else None

    # --- checks (untimed) ----------------------------------------------------------------------
    source = f"period:{period}"
    lines = RewardLine.objects.filter(source_event=source)
    n_lines = lines.count()
    paid = lines.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    reports = SettlementReport.objects.filter(run=run)
    n_reports = reports.count()
    checks = {
        "finished": run.finished_at is not None,
        "run.lines = stored lines": run.lines == n_lines,
        "run.total = sum of lines": abs(run.total - paid) < Decimal("0.01"),
    }
    # The ledger: the period's entries balance and credit the agents what the lines say.
    ledger_sum = JournalLine.objects.filter(entry__reference=source).aggregate(s=Sum("amount"))["s"] or 0
    credited = JournalLine.objects.filter(entry__reference=source, amount__lt=0).aggregate(s=Sum("amount"))["s"] or 0
    checks["ledger entries balance"] = abs(Decimal(str(ledger_sum))) < Decimal("0.01")
    checks["ledger credits = lines"] = abs(-Decimal(str(credited)) - paid) < Decimal("0.01")
    # Balances (fresh copy: nothing else was ever posted): agents' available rewards = the lines.
    balances = Account.objects.filter(purpose=Purpose.AGENT_REWARDS_AVAILABLE).aggregate(s=Sum("balance"))["s"] or 0
    checks["agents' available balances = lines"] = abs(Decimal(str(balances)) - paid) < Decimal("0.01")
    # Volume = the plain scan's total (SQLite sums decimals as floats: a few fen of slack there).
    slack = Decimal("1.00") if vendor == "sqlite" else Decimal("0")
    if scan_total is not None:
        checks["run.volume = scan total"] = abs(run.volume - scan_total) <= slack
    # The largest team's volume, from the Python rollup, = the closure-table query.
    top = reports.order_by("-team_purchase", "agent_id").values_list("agent_id", "team_purchase").first()
    if top is not None:
        closure = team_purchase_volume(agent=top[0], start=start, end=end)
        checks["largest team volume = closure query"] = abs(top[1] - closure) <= slack
        result["largest_team"] = {
            "agent": top[0],
            "volume": str(top[1]),
            "members": ReferrerLink.objects.filter(ancestor_id=top[0]).count(),
        }
    checks["a report per agent with volume"] = (
        n_reports == Agent.objects.filter(pk__in=reports.values("agent_id")).count() and n_reports > 0
    )
    result.update(
        reward_lines=n_lines,
        reports=n_reports,
        payout=str(run.total),
        volume=str(run.volume),
        checks=checks,
        checks_ok=all(checks.values()),
    )
    bad = [k for k, v in checks.items() if not v]

    extra = ""
    if role == "time":
        extra = (
            f"; scan raw {result['scan_raw_s']:.3f} s -> ratio {result['ratio_raw']:.1f}x "
            f"(ORM {result['ratio_orm']:.1f}x; CPU {settle_cpu_s:.2f} / {result['scan_raw_cpu_s']:.3f} s = "
            f"{result['ratio_cpu'] or 0:.1f}x)"
        )
    if role == "tracemalloc":
        extra = f"; tracemalloc peak {result['tracemalloc_peak_mib']:.0f} MiB (slows the run)"
    print(
        f"   {role}: settle_period({period}) {settle_s:.2f} s{extra}; peak RSS {maxrss_after:.0f} MiB (growth "
        f"{result['rss_growth_mib']:.0f} MiB over {rss_before:.0f}); {n_lines:,} lines, {n_reports:,} reports, "
        f"paid {run.total} on {run.volume}; load {load_before:.2f}, other processes "
        f"{result['other_cores']:.2f} cores; checks " + ("OK" if not bad else f"FAILED: {bad}"),
        flush=True,
    )

    if phases is not None:
        names = sorted(phases.excl, key=lambda k: -phases.excl[k])
        result["phases"] = [
            {
                "phase": k,
                "calls": phases.calls[k],
                "seconds": phases.excl[k],
                "cpu_s": phases.cpu[k],
                "statements": phases.sql_n[k],
                "sql_s": phases.sql_s[k],
            }
            for k in names
        ]
        total_n = sum(phases.sql_n.values())
        print(
            f"   where the time goes (exclusive wall time, CPU time of this process; SQL statements through "
            f"Django's cursor (COPY not counted) and their time; {total_n:,} statements in all):",
            flush=True,
        )
        for p in result["phases"]:
            print(
                f"     {p['seconds']:8.2f} s {100 * p['seconds'] / settle_s:5.1f} % cpu {p['cpu_s']:6.2f} s  "
                f"{p['phase']:<44} calls {p['calls']:>7,}  SQL {p['statements']:>8,} stmts {p['sql_s']:7.2f} s",
                flush=True,
            )
    if profiler is not None:
        import io
        import pstats

        buf = io.StringIO()
        stats = pstats.Stats(profiler, stream=buf)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        out = BENCH_DIR / f"settle-{vendor}-profile.txt"
        out.write_text(
            f"cProfile of settle_period(period={period!r}), {settle_s:.1f} s under the profiler\n" + buf.getvalue()
        )
        top = []
        for (filename, line, func), (_cc, nc, tt, ct, _callers) in sorted(
            stats.stats.items(), key=lambda kv: -kv[1][3]
        )[:40]:
            top.append(
                {"function": f"{Path(filename).name}:{line}({func})", "calls": nc, "tottime_s": tt, "cumtime_s": ct}
            )
        result["profile_top"] = top
        print(f"   cProfile written to {out}; by cumulative time:", flush=True)
        for t in top[:25]:
            print(f"     {t['cumtime_s']:8.2f} s cum {t['tottime_s']:7.2f} s own  {t['calls']:>9,}  {t['function']}")
    Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    connection.close()
    return 0 if not bad else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=DEFAULT_AGENTS, help="agents to generate (default 100000)")
    parser.add_argument(
        "--lines",
        type=int,
        default=DEFAULT_LINES,
        help="order lines (= orders of one line) in the measured month (default 1000000)",
    )
    parser.add_argument(
        "--small-lines",
        type=int,
        default=None,
        help="order lines in the month before, for the memory comparison (default lines / 4)",
    )
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql", "all"),
        default="all",
        help="which databases to run on (default all; PostgreSQL is skipped if unreachable)",
    )
    parser.add_argument(
        "--postgres-url",
        default=PG_ADMIN_URL,
        help=f"PostgreSQL server ({PG_DB} and {PG_RUN_DB} are dropped and re-created there)",
    )
    parser.add_argument("--reps", type=int, default=3, help="timed settlements per month (default 3)")
    parser.add_argument("--scans", type=int, default=5, help="timed plain scans per timed run (median; default 5)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny run to check the script: 3,000 agents, 20,000 lines, 1 repetition, 2 scans",
    )
    parser.add_argument("--database-url", help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--period", help=argparse.SUPPRESS)
    parser.add_argument("--small-period", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.agents, args.lines, args.reps, args.scans = 3_000, 20_000, 1, 2
        args.small_lines = None
    if args.small_lines is None:
        args.small_lines = max(1, args.lines // 4)
    if args.database_url:
        return run_build(args) if args.role == "build" else run_measure(args)
    return run_parent(args)


if __name__ == "__main__":
    sys.exit(main())
