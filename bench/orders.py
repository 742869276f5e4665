#!/usr/bin/env python
"""Benchmark of restock orders through the service layer, with 1, 2 and 8 concurrent workers.

Builds the same 100,000-agent demo channel as ``bench/tree.py`` (``--agents``; loaded through
``weishang.demo.services.load_agents``, which seeds every agent's cloud stock through completed
historical orders) in a fresh database per backend, with the brand in cloud supply mode. Then,
for each number of workers (1, 2, 8):

- **placed**: ``trade.services.order_submit`` alone — one transaction: lock the buyer, snapshot
  the level price, check the purchase limits, route to the seller, create the order, its line
  and the first transition;
- **completed**: the whole path, four transactions: ``order_submit`` → ``order_approve`` (by the
  seller) → ``order_pay_from_wallet`` (by the buyer; wallets are topped up in bulk first) →
  ``order_fill`` (by the seller; units move from the seller's cloud stock to the buyer's).

Buyers are active agents with a supplier (seeded random sample); a fifth of the completed orders
go to the downlines of the five busiest suppliers, so that workers fill from the same stock at
the same time. Stock is made scarce (half of what is ordered from them) for those five and for a
tenth of the other sellers, so some fills are refused with ``trade.stock.InsufficientStock``; the
others get enough. After each run the script checks, from the database: no oversell (units
filled from a seller <= its stock before the run; no negative level; ``stock_verify()`` empty),
units moved = units of the successful fills, every refusal justified (the seller has fewer units
left than the refused order wanted), and wallets debited exactly once per paid order.

Workers: on SQLite both threads (one Django connection per thread; the GIL serialises the Python
side) and processes (``multiprocessing``, spawn, each ``django.setup()``); on PostgreSQL
processes. Per run: orders per second (timed orders / wall time between the workers' common
start and the last one's end), p50 and p99 latency per order in ms, failures by type, oversell.
Afterwards, the SQL statements of one order (``CaptureQueriesContext``), where the time of an
``order_submit`` goes (SQL / commit / Python) and a cProfile of 300 submits on one worker.

One order is submitted (and rolled back) first: if ``order_submit`` fails on the backend (as it
did on PostgreSQL before commit 46794a8: "FOR UPDATE cannot be applied to the nullable side of an
outer join"), the script says so and stops. On SQLite the writers queue in the application
(``weishang.core.sqlite``: a lock per process, then an ``flock()`` across processes, M13);
``--sqlite-busy-handler`` adds runs of worker processes with that queue turned off
(``WEISHANG_SQLITE_WRITE_QUEUE=0``), waiting in SQLite's polling busy handler as before M13.

Usage::

    .venv/bin/python bench/orders.py                      # SQLite, then PostgreSQL if reachable
    .venv/bin/python bench/orders.py --backend sqlite --agents 20000 --orders 500 --completed 300
    .venv/bin/python bench/orders.py --backend sqlite --sqlite-busy-handler   # also without the queue

The SQLite database is ``var/bench/orders.sqlite3``; the PostgreSQL database
``weishang_bench_orders`` (dropped and re-created) on ``--postgres-url``; neither is shared with
``bench/tree.py``. Results are written as JSON to ``var/bench/orders-<backend>.json`` and the
profile to ``var/bench/orders-<backend>-profile.txt``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
SQLITE_PATH = BENCH_DIR / "orders.sqlite3"
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/")
PG_DB = "weishang_bench_orders"
DEFAULT_AGENTS = 100_000
WORKER_COUNTS = (1, 2, 8)
HOT_SELLERS = 5  # busiest suppliers; HOT_SHARE of the completed orders go to them
HOT_SHARE = 0.2
SCARCE_SHARE = 0.1  # of the other sellers, also given half of what is ordered from them
SKU_CODE = "GLOW-30ML"

TARGET_SQLITE_OPS = 300.0  # orders placed per second on SQLite (the target)


def _tree_helpers():
    """bench/tree.py's small helpers (URL, p99, commit, server version), loaded from its file."""
    spec = importlib.util.spec_from_file_location("bench_tree", Path(__file__).resolve().parent / "tree.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_tree = _tree_helpers()
_pg_url, _p99, _commit, _server_version = _tree._pg_url, _tree._p99, _tree._commit, _tree._server_version


# ============================================================================================
# Parent: a fresh database per backend, the measurements in a subprocess of this script.
# ============================================================================================


def _prepare_sqlite() -> str:
    return _tree._prepare_sqlite(SQLITE_PATH)


def _prepare_postgresql(admin_url: str) -> tuple[str | None, str]:
    return _tree._prepare_postgresql(admin_url, PG_DB)


def run_parent(args: argparse.Namespace) -> int:
    backends = ["sqlite", "postgresql"] if args.backend == "all" else [args.backend]
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    failed = False
    for backend in backends:
        if backend == "sqlite":
            url = _prepare_sqlite()
        else:
            url, why = _prepare_postgresql(args.postgres_url)
            if url is None:
                print(f"\n== postgresql: skipped, not reachable at {args.postgres_url} ({why})", flush=True)
                failed = failed or args.backend == "postgresql"
                continue
        out = BENCH_DIR / f"orders-{backend}.json"
        out.unlink(missing_ok=True)
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--database-url",
            url,
            "--json",
            str(out),
            "--agents",
            str(args.agents),
            "--seed",
            str(args.seed),
            "--orders",
            str(args.orders),
            "--completed",
            str(args.completed),
            "--warmup",
            str(args.warmup),
            "--modes",
            args.modes,
        ] + (["--sqlite-busy-handler"] if args.sqlite_busy_handler else [])
        print(f"\n== {backend}: {url}", flush=True)
        rc = subprocess.call(cmd)
        if rc != 0 or not out.exists():
            print(f"== {backend}: FAILED (exit code {rc})", flush=True)
            failed = True
            continue
        results[backend] = json.loads(out.read_text())
        if not results[backend]["checks_ok"]:
            failed = True
    if results:
        _print_summary(results)
    return 1 if failed else 0


def _print_summary(results: dict[str, dict]) -> None:
    print("\n== Summary: orders per second (p50 / p99 ms per order); 'x' = vs 1 worker in the same run")
    header = f"{'backend':<11}{'workers as':<16}{'mode':<11}" + "".join(
        f"{f'{w} worker(s)':>27}" for w in WORKER_COUNTS
    )
    print(header)
    print("-" * len(header))
    for backend, res in results.items():
        groups: dict[tuple[str, str], dict[int, dict]] = defaultdict(dict)
        for run in res["runs"]:
            groups[(run["kind"], run["mode"])][run["workers"]] = run
        for (kind, mode), by_w in groups.items():
            base = by_w.get(1, {}).get("orders_per_s")
            line = f"{backend:<11}{kind:<16}{mode:<11}"
            for w in WORKER_COUNTS:
                run = by_w.get(w)
                if run is None:
                    line += f"{'-':>27}"
                    continue
                ratio = f" {run['orders_per_s'] / base:.2f}x" if base and w != 1 else ""
                line += f"{run['orders_per_s']:>8.0f}/s ({run['p50_ms']:.1f}/{run['p99_ms']:.0f}){ratio:>7}"
            print(line)
    for backend, res in results.items():
        bad = [
            f"{r['kind']}/{r['mode']}/{r['workers']}: {r['unexpected_failures']}"
            for r in res["runs"]
            if r["unexpected_failures"]
        ]
        print(
            f"{backend}: oversell {res['oversell_total']}; stock_verify problems {len(res['stock_verify'])}; "
            f"checks {'OK' if res['checks_ok'] else 'FAILED'}"
            + (f"; unexpected failures: {'; '.join(bad)}" if bad else "; no unexpected failures")
        )
        for t in res["targets"]:
            print(f"  [{'met ' if t['met'] else 'MISS'}] {t['target']}: {t['value']:.0f}/s")


# ============================================================================================
# Workers: the same code in a thread or in a spawned process.
# ============================================================================================


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("WEISHANG_VAR", str(BENCH_DIR))
    os.environ["DEBUG"] = "0"  # no query log
    os.environ["WEISHANG_OUTBOX_INLINE"] = "0"  # order intake only; rewards are bench/settle.py's
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "weishang.settings")
    src = str(ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    import django

    django.setup()


# --sqlite-busy-handler: worker processes with the application's writers' queue turned off.
QUEUE_ENV = "WEISHANG_SQLITE_WRITE_QUEUE"


def _error_key(step: str, exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    key = f"{step}: {type(exc).__name__}" + (f" ({code})" if isinstance(code, str) and code else "")
    if type(exc).__name__ in ("OperationalError", "DatabaseError", "InternalError", "IntegrityError"):
        key += f": {str(exc).strip().splitlines()[0][:80] if str(exc).strip() else ''}"
    return key


def _worker(spec: dict, barrier) -> dict:
    """Place ``spec["items"]`` one after the other; the first ``warmup`` untimed, before the barrier.

    items: (buyer_id, qty, seller_id) tuples. Returns per-order outcomes and latencies.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection

    from weishang.catalog.models import SKU
    from weishang.channel.models import Agent
    from weishang.trade import services
    from weishang.trade.stock import InsufficientStock

    mode, items, warmup = spec["mode"], spec["items"], spec["warmup"]
    try:
        sku = SKU.objects.get(code=SKU_CODE)
        # What a request would already have loaded: the buyer's agent and login, the seller's login.
        agents = Agent.objects.in_bulk({b for b, _q, _s in items})
        User = get_user_model()
        users = User.objects.in_bulk(
            {a.user_id for a in agents.values()}
            | set(Agent.objects.filter(pk__in={s for _b, _q, s in items}).values_list("user_id", flat=True))
        )
        seller_user = dict(Agent.objects.filter(pk__in={s for _b, _q, s in items}).values_list("pk", "user_id"))

        out = {
            "latency_ms": [],
            "steps_ms": defaultdict(list),
            "outcomes": [],
            "errors": Counter(),
            "start": None,
            "end": None,
        }

        def one(buyer_id: int, qty: int, seller_id: int, timed: bool) -> None:
            buyer = agents[buyer_id]
            by_buyer, by_seller = users[buyer.user_id], users[seller_user[seller_id]]
            steps: dict[str, float] = {}
            order, step, result = None, "submit", "error"
            t_all = time.perf_counter()
            try:
                t = t_all
                order = services.order_submit(buyer=buyer, lines=[(sku, qty)], by=by_buyer)
                steps["submit"] = time.perf_counter() - t
                if mode == "placed":
                    result = "placed"
                else:
                    step, t = "approve", time.perf_counter()
                    services.order_approve(order=order, by=by_seller)
                    steps["approve"] = time.perf_counter() - t
                    step, t = "pay", time.perf_counter()
                    services.order_pay_from_wallet(order=order, by=by_buyer)
                    steps["pay"] = time.perf_counter() - t
                    step, t = "fill", time.perf_counter()
                    try:
                        services.order_fill(order=order, by=by_seller)
                        result = "completed"
                    except InsufficientStock:
                        result = "refused"  # expected for the scarce sellers: the order stays paid
                    steps["fill"] = time.perf_counter() - t
            except Exception as exc:  # noqa: BLE001 - counted and reported
                out["errors"][_error_key(step, exc)] += 1
            elapsed = time.perf_counter() - t_all
            if result != "error" and timed:
                out["latency_ms"].append(elapsed * 1000.0)
                for name, seconds in steps.items():
                    out["steps_ms"][name].append(seconds * 1000.0)
            out["outcomes"].append(
                (
                    buyer_id,
                    qty,
                    seller_id,
                    order.pk if order else None,
                    result,
                    step if result == "error" else None,
                    timed,
                )
            )

        for buyer_id, qty, seller_id in items[:warmup]:
            one(buyer_id, qty, seller_id, timed=False)
        barrier.wait(timeout=300)
        out["start"] = time.monotonic()
        for buyer_id, qty, seller_id in items[warmup:]:
            one(buyer_id, qty, seller_id, timed=True)
        out["end"] = time.monotonic()
        out["steps_ms"] = dict(out["steps_ms"])
        out["errors"] = dict(out["errors"])
        return out
    finally:
        connection.close()


def _process_main(database_url: str, spec: dict, barrier, queue) -> None:
    try:
        _setup_django(database_url)
        queue.put(("ok", _worker(spec, barrier)))
    except BaseException:  # noqa: BLE001 - reported by the parent
        try:
            barrier.abort()
        except Exception:  # noqa: BLE001
            pass
        queue.put(("error", traceback.format_exc()))


def _cpu_snapshot() -> tuple[float, float, float]:
    """(busy CPU seconds of the machine, of this process and its reaped children, of PostgreSQL's
    processes) — to tell how much of the machine something else used during a run."""
    import resource

    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    busy = (sum(fields[:8]) - fields[3] - fields[4]) / tick  # all but idle and iowait
    ours = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        ours += usage.ru_utime + usage.ru_stime
    postgres = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        if comm.startswith("postgres"):  # own time, plus the backends that exited (the postmaster's children)
            postgres += (int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])) / tick
    return busy, ours, postgres


def _run_workers(kind: str, database_url: str, specs: list[dict]) -> list[dict]:
    """Run one spec per worker, in threads or spawned processes; their results in order."""
    n = len(specs)
    if kind == "threads":
        barrier = threading.Barrier(n)
        results: list = [None] * n

        def wrap(i: int) -> None:
            try:
                results[i] = ("ok", _worker(specs[i], barrier))
            except BaseException:  # noqa: BLE001
                barrier.abort()
                results[i] = ("error", traceback.format_exc())

        threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        import multiprocessing

        if kind == "processes-busy":
            os.environ[QUEUE_ENV] = "0"
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(n)
        queue = ctx.Queue()
        procs = [ctx.Process(target=_process_main, args=(database_url, specs[i], barrier, queue)) for i in range(n)]
        for p in procs:
            p.start()
        os.environ.pop(QUEUE_ENV, None)  # the workers have it; this process must not
        results = [queue.get(timeout=1800) for _ in range(n)]  # before join: the queue must drain
        for p in procs:
            p.join()
    errors = [r[1] for r in results if r[0] != "ok"]
    if errors:
        raise RuntimeError("a worker crashed:\n" + "\n".join(errors))
    return [r[1] for r in results]


# ============================================================================================
# Child: one backend, one process (plus the worker processes it spawns).
# ============================================================================================


def run_child(args: argparse.Namespace) -> int:
    _setup_django(args.database_url)

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Count, Sum
    from django.test.utils import CaptureQueriesContext

    from weishang.catalog.models import SKU
    from weishang.catalog.selectors import level_price
    from weishang.channel.models import Agent, AgentStatus, Level
    from weishang.core.models import Brand, SupplyMode
    from weishang.demo import services as demo_services
    from weishang.ledger import services as ledger
    from weishang.ledger.models import Account, Purpose
    from weishang.trade import services, stock
    from weishang.trade.models import (
        Location,
        LocationKind,
        Order,
        OrderStatus,
        StockLevel,
        StockMove,
        StockReason,
    )

    vendor = connection.vendor
    modes = [m for m in args.modes.split(",") if m]
    print(
        f"backend: {vendor} {_server_version(connection)}; commit {_commit()}; agents: {args.agents:,}; "
        f"orders per run: placed {args.orders:,}, completed {args.completed:,} (+{args.warmup} untimed "
        f"warm-up per worker); seed {args.seed}",
        flush=True,
    )

    # --- build ---------------------------------------------------------------------------
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    if Agent.objects.exists():
        print("the database already holds agents; the benchmark needs a fresh one", file=sys.stderr)
        return 2
    t_migrate = time.perf_counter() - t0
    t0 = time.perf_counter()
    with transaction.atomic():
        Brand.objects.create(
            name=demo_services.BRAND_NAME, currency="CNY", timezone="Asia/Shanghai", jurisdiction="cn"
        )  # supply mode: the default, cloud
        levels = demo_services._catalog()
        demo_services.load_agents(n=args.agents, seed=args.seed, levels=levels, wave=10, wave_share=0.8)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")
    t_analyze = time.perf_counter() - t0
    brand = Brand.objects.get()
    assert brand.supply_mode == SupplyMode.CLOUD, brand.supply_mode
    print(
        f"build: migrate {t_migrate:.1f} s, load_agents {t_load:.1f} s, "
        f"{'VACUUM ANALYZE' if vendor == 'postgresql' else 'ANALYZE'} {t_analyze:.1f} s; "
        f"{Order.objects.count():,} historical orders, {StockLevel.objects.count():,} stock levels",
        flush=True,
    )

    # --- does order_submit work on this backend at all? (one order, rolled back) -------------
    sku = SKU.objects.get(code=SKU_CODE)
    probe_buyer = Agent.objects.filter(supplier__isnull=False).select_related("level", "user").order_by("pk").first()

    class _Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            services.order_submit(
                buyer=probe_buyer, lines=[(sku, probe_buyer.level.min_restock_qty)], by=probe_buyer.user
            )
            raise _Rollback
    except _Rollback:
        pass
    except Exception as exc:  # noqa: BLE001 - reported: measuring a service that always fails is pointless
        print(f"\n!! BUG: order_submit fails on {vendor}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1

    # --- who buys, from whom, how much ---------------------------------------------------------
    level_by_id = {lvl.pk: lvl for lvl in Level.objects.all()}
    price = {lvl_id: level_price(sku=sku, level=lvl) for lvl_id, lvl in level_by_id.items()}
    candidates = list(
        Agent.objects.filter(status=AgentStatus.ACTIVE, supplier__isnull=False, supplier__status=AgentStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", "supplier_id", "level_id")
    )
    supplier_of = {pk: sup for pk, sup, _lvl in candidates}
    level_of = {pk: lvl for pk, _sup, lvl in candidates}
    downline = defaultdict(list)
    for pk, sup, _lvl in candidates:
        downline[sup].append(pk)
    hot = sorted(downline, key=lambda s: (-len(downline[s]), s))[:HOT_SELLERS]
    print(
        f"buyers: {len(candidates):,} active agents with an active supplier; busiest suppliers "
        + ", ".join(f"#{s} ({len(downline[s]):,} buyers)" for s in hot),
        flush=True,
    )
    rng = random.Random(args.seed)
    all_buyers = [pk for pk, _s, _l in candidates]
    hot_buyers = [pk for s in hot for pk in downline[s]]

    def quantity(buyer_id: int) -> int:
        return level_by_id[level_of[buyer_id]].min_restock_qty * rng.choice((1, 2))

    def plan_placed(n: int) -> list[tuple[int, int, int]]:
        return [(b, quantity(b), supplier_of[b]) for b in rng.choices(all_buyers, k=n)]

    def plan_completed(n: int) -> list[tuple[int, int, int]]:
        """n orders, HOT_SHARE of them to the hot sellers' downlines; no buyer is also a seller."""
        n_hot = round(n * HOT_SHARE)
        buyers = rng.sample(hot_buyers, min(len(hot_buyers), n_hot * 2))[: n_hot * 2]
        buyers += rng.sample(all_buyers, min(len(all_buyers), (n - n_hot) * 2))
        sellers = {supplier_of[b] for b in buyers}
        hot_set = set(hot)
        pool_hot = [b for b in buyers if supplier_of[b] in hot_set and b not in sellers]
        pool_other = [b for b in buyers if supplier_of[b] not in hot_set and b not in sellers]
        chosen = list(dict.fromkeys(pool_hot[:n_hot] + pool_other))[:n]
        if len(chosen) < n:
            raise RuntimeError(f"only {len(chosen)} buyers for {n} orders: use a larger --agents")
        rng.shuffle(chosen)
        return [(b, quantity(b), supplier_of[b]) for b in chosen]

    cloud_of = {}  # agent id -> cloud Location

    def cloud(agent_ids) -> dict[int, Location]:
        missing = [a for a in agent_ids if a not in cloud_of]
        if missing:
            for loc in Location.objects.filter(kind=LocationKind.CLOUD, agent_id__in=missing):
                cloud_of[loc.agent_id] = loc
        return {a: cloud_of[a] for a in agent_ids}

    def levels_at(agent_ids) -> dict[int, int]:
        locs = cloud(agent_ids)
        by_loc = dict(
            StockLevel.objects.filter(location__in=[loc.pk for loc in locs.values()], sku=sku).values_list(
                "location_id", "quantity"
            )
        )
        return {a: by_loc.get(loc.pk, 0) for a, loc in locs.items()}

    def wallets_of(agent_ids) -> dict[int, object]:
        return dict(
            Account.objects.filter(owner_id__in=agent_ids, purpose=Purpose.AGENT_WALLET).values_list(
                "owner_id", "balance"
            )
        )

    def prepare_completed(plan) -> dict:
        """Scarce stock for the hot sellers and a tenth of the others, enough for the rest;
        every buyer's wallet topped up with what their orders will cost. Through stock_move."""
        demand = Counter()
        cost = defaultdict(lambda: 0)
        for b, q, s in plan:
            demand[s] += q
            cost[b] += price[level_of[b]] * q
        others = sorted(set(demand) - set(hot))
        scarce = set(hot) & set(demand) | set(rng.sample(others, round(len(others) * SCARCE_SHARE)))
        have = levels_at(list(demand))
        warehouse = stock.location_singleton(LocationKind.WAREHOUSE)
        scrap = stock.location_singleton(LocationKind.SCRAP)
        supplier = stock.location_singleton(LocationKind.SUPPLIER)
        ups, downs = [], []
        for s in sorted(demand):
            target = demand[s] // 2 if s in scarce else max(have[s], demand[s])
            if target > have[s]:
                ups.append(stock.Move(warehouse, cloud_of[s], sku, target - have[s]))
            elif target < have[s]:
                downs.append(stock.Move(cloud_of[s], scrap, sku, have[s] - target))
        with transaction.atomic():
            needed = sum(m.quantity for m in ups)
            in_warehouse = stock.on_hand(location=warehouse, sku=sku)
            if needed > in_warehouse:
                stock.stock_move(
                    moves=[stock.Move(supplier, warehouse, sku, needed - in_warehouse)],
                    reason=StockReason.RECEIPT,
                    note="bench",
                )
            if ups:
                stock.stock_move(moves=ups, reason=StockReason.ADJUSTMENT, note="bench")
            if downs:
                stock.stock_move(moves=downs, reason=StockReason.SCRAP, note="bench")
            buyers = sorted(cost)
            # One top-up entry for every buyer: brand cash in, each buyer's wallet (货款) credited.
            cash = ledger.account_for(owner=None, purpose=Purpose.BRAND_CASH)
            owners = Agent.objects.in_bulk(buyers)
            ledger.journal_post(
                kind="wallet_topup",
                memo="bench top-up",
                lines=[
                    ledger.debit(cash, sum(cost.values())),
                    *[
                        ledger.credit(ledger.account_for(owner=owners[b], purpose=Purpose.AGENT_WALLET), cost[b])
                        for b in buyers
                    ],
                ],
            )
        return {
            "stock_before": levels_at(list(demand)),
            "wallets_before": wallets_of(list(cost)),
            "scarce": sorted(scarce),
            "demand": dict(demand),
            "scarce_demand": sum(demand[s] for s in scarce),
            "total_demand": sum(demand.values()),
        }

    def verify_completed(plan, prep, outcomes) -> dict:
        stock_after = levels_at(list(prep["demand"]))
        filled = Counter()
        refused: list[tuple[int, int]] = []
        paid_cost = defaultdict(lambda: 0)
        order_ids = []
        for buyer, qty, seller, order_id, result, failed_step, _timed in outcomes:
            if order_id:
                order_ids.append(order_id)
            if result == "completed":
                filled[seller] += qty
            elif result == "refused":
                refused.append((seller, qty))
            if result in ("completed", "refused") or (result == "error" and failed_step == "fill"):
                paid_cost[buyer] += price[level_of[buyer]] * qty
        before = prep["stock_before"]
        oversell_by_seller = {s: filled[s] - before[s] for s in filled if filled[s] > before[s]}
        level_mismatch = [s for s in prep["demand"] if before[s] - stock_after[s] != filled[s]]
        unjustified = [(s, q) for s, q in refused if stock_after[s] >= q]
        moved = (
            StockMove.objects.filter(reason=StockReason.ORDER_FILL, order_line__order_id__in=order_ids).aggregate(
                n=Sum("quantity")
            )["n"]
            or 0
        )
        statuses = dict(
            Order.objects.filter(pk__in=order_ids)
            .values_list("status")
            .annotate(n=Count("*"))
            .values_list("status", "n")
        )
        wallets_after = wallets_of(list(prep["wallets_before"]))
        wallet_mismatch = [
            b for b, w0 in prep["wallets_before"].items() if w0 - wallets_after.get(b, 0) != paid_cost.get(b, 0)
        ]
        negative_levels = StockLevel.objects.filter(quantity__lt=0).count()
        smallest = {}
        for _b, q, s in plan:
            smallest[s] = min(q, smallest.get(s, q))
        sold_out = [s for s in prep["demand"] if stock_after[s] < smallest[s]]
        return {
            "oversell": sum(oversell_by_seller.values()) + negative_levels,
            "oversell_sellers": len(oversell_by_seller),
            "negative_levels": negative_levels,
            "units_filled": sum(filled.values()),
            "units_moved": moved,
            "fills_ok": sum(1 for o in outcomes if o[4] == "completed"),
            "fills_refused": len(refused),
            "unjustified_refusals": len(unjustified),
            "level_mismatches": len(level_mismatch),
            "wallet_mismatches": len(wallet_mismatch),
            "statuses": statuses,
            "sellers": len(prep["demand"]),
            "scarce_sellers": len(prep["scarce"]),
            "scarce_sold_out": sum(1 for s in prep["scarce"] if s in sold_out),
            "ok": (
                not oversell_by_seller
                and not negative_levels
                and moved == sum(filled.values())
                and not unjustified
                and not level_mismatch
                and not wallet_mismatch
            ),
        }

    def verify_placed(outcomes) -> dict:
        order_ids = [o[3] for o in outcomes if o[3]]
        statuses = dict(
            Order.objects.filter(pk__in=order_ids)
            .values_list("status")
            .annotate(n=Count("*"))
            .values_list("status", "n")
        )
        negative_levels = StockLevel.objects.filter(quantity__lt=0).count()
        placed = sum(1 for o in outcomes if o[4] == "placed")
        return {
            "oversell": negative_levels,
            "negative_levels": negative_levels,
            "statuses": statuses,
            "ok": statuses.get(OrderStatus.SUBMITTED, 0) == placed == len(order_ids) and not negative_levels,
        }

    # --- the runs ------------------------------------------------------------------------
    kinds = ["threads", "processes"] if vendor == "sqlite" else ["processes"]
    if vendor == "sqlite" and args.sqlite_busy_handler:
        kinds.append("processes-busy")
    runs = []
    load_before = os.getloadavg()[0]
    for mode in modes:
        for kind in kinds:
            for workers in WORKER_COUNTS:
                n = args.orders if mode == "placed" else args.completed
                total = n + workers * args.warmup
                plan = plan_placed(total) if mode == "placed" else plan_completed(total)
                prep = prepare_completed(plan) if mode == "completed" else None
                # Warm-up items first in each worker's share, then round-robin.
                warm, timed = plan[: workers * args.warmup], plan[workers * args.warmup :]
                specs = [
                    {
                        "mode": mode,
                        "warmup": args.warmup,
                        "items": warm[w * args.warmup : (w + 1) * args.warmup] + timed[w::workers],
                    }
                    for w in range(workers)
                ]
                load = os.getloadavg()[0]
                cpu0, t_run = _cpu_snapshot(), time.monotonic()
                results = _run_workers(kind, args.database_url, specs)
                cpu1, t_run = _cpu_snapshot(), time.monotonic() - t_run
                # Cores busy with something other than this benchmark (and its PostgreSQL server)
                # while the run went on, worker start-up included: ~0 on a quiet machine.
                other_cores = max(0.0, ((cpu1[0] - cpu0[0]) - (cpu1[1] - cpu0[1]) - (cpu1[2] - cpu0[2])) / t_run)
                wall = max(r["end"] for r in results) - min(r["start"] for r in results)
                latencies = [x for r in results for x in r["latency_ms"]]
                outcomes = [o for r in results for o in r["outcomes"]]
                errors = Counter()
                for r in results:
                    errors.update(r["errors"])
                steps = defaultdict(list)
                for r in results:
                    for name, xs in r["steps_ms"].items():
                        steps[name].extend(xs)
                timed_done = sum(1 for o in outcomes if o[6] and o[4] != "error")
                check = verify_completed(plan, prep, outcomes) if mode == "completed" else verify_placed(outcomes)
                run = {
                    "mode": mode,
                    "kind": kind,
                    "workers": workers,
                    "orders": n,
                    "warmup": workers * args.warmup,
                    "done": timed_done,
                    "wall_s": wall,
                    "orders_per_s": timed_done / wall if wall else 0.0,
                    "completed_per_s": (
                        sum(1 for o in outcomes if o[6] and o[4] == "completed") / wall
                        if wall and mode == "completed"
                        else None
                    ),
                    "p50_ms": statistics.median(latencies) if latencies else 0.0,
                    "p99_ms": _p99(latencies) if latencies else 0.0,
                    "max_ms": max(latencies) if latencies else 0.0,
                    "steps_p50_ms": {k: statistics.median(v) for k, v in steps.items()},
                    "steps_p99_ms": {k: _p99(v) for k, v in steps.items()},
                    "failures": dict(errors),
                    "unexpected_failures": sum(errors.values()),
                    "load_average": load,
                    "other_cores": other_cores,
                    "check": check,
                }
                if prep:
                    run["scarce_demand_units"], run["total_demand_units"] = prep["scarce_demand"], prep["total_demand"]
                runs.append(run)
                _print_run(run)
    load_after = os.getloadavg()[0]

    # --- invariants over the whole database ----------------------------------------------
    t0 = time.perf_counter()
    problems = stock.stock_verify()
    t_verify = time.perf_counter() - t0
    below_zero = [p for p in problems if "below zero" in p]
    oversell_total = sum(r["check"]["oversell"] for r in runs) + len(below_zero)
    checks_ok = all(r["check"]["ok"] for r in runs) and not problems
    print(
        f"\nstock_verify(): {len(problems)} problem(s) ({t_verify:.1f} s); locations whose moves go below zero: "
        f"{len(below_zero)}; oversell over all runs: {oversell_total}; all checks "
        f"{'OK' if checks_ok else 'FAILED'}",
        flush=True,
    )
    for p in problems[:20]:
        print("  ", p)

    # --- where the time goes: statements per order, SQL / commit / Python, cProfile -------------
    profile = _profile(
        args, vendor, plan_completed, prepare_completed, CaptureQueriesContext, connection, services, Agent
    )

    by_key = {(r["kind"], r["mode"], r["workers"]): r for r in runs}
    ratios = {}
    for (kind, mode, w), r in by_key.items():
        base = by_key.get((kind, mode, 1))
        if base and w != 1:
            ratios[f"{kind}/{mode}: {w} vs 1 workers"] = r["orders_per_s"] / base["orders_per_s"]
    if vendor == "sqlite" and ("threads", "placed", 1) in by_key:
        for w in WORKER_COUNTS:
            if ("processes", "placed", w) in by_key:
                ratios[f"placed, {w} worker(s): processes vs threads"] = (
                    by_key[("processes", "placed", w)]["orders_per_s"]
                    / by_key[("threads", "placed", w)]["orders_per_s"]
                )
    for mode in modes:
        for w in WORKER_COUNTS:
            a, b = by_key.get(("processes", mode, w)), by_key.get(("processes-busy", mode, w))
            if a and b:
                ratios[f"{mode}, {w} worker(s): queued vs busy handler"] = a["orders_per_s"] / b["orders_per_s"]
    print("\nratios (same run):")
    for k, v in ratios.items():
        print(f"  {k}: {v:.2f}x")

    targets = []
    if vendor == "sqlite":
        placed = [r for r in runs if r["mode"] == "placed" and r["kind"] in ("threads", "processes")]
        if placed:
            best = max(placed, key=lambda r: r["orders_per_s"])
            targets.append(
                {
                    "target": f"SQLite >= {TARGET_SQLITE_OPS:g} orders placed/s (best: "
                    f"{best['kind']}, {best['workers']} worker(s))",
                    "value": best["orders_per_s"],
                    "met": best["orders_per_s"] >= TARGET_SQLITE_OPS,
                }
            )
            for r in placed:
                targets.append(
                    {
                        "target": f"SQLite >= {TARGET_SQLITE_OPS:g} orders placed/s, {r['kind']}, "
                        f"{r['workers']} worker(s)",
                        "value": r["orders_per_s"],
                        "met": r["orders_per_s"] >= TARGET_SQLITE_OPS,
                    }
                )
    print("\ntargets:")
    for t in targets:
        print(f"  [{'met ' if t['met'] else 'MISS'}] {t['target']}: {t['value']:.0f}/s")
    print(f"1-min load average: {load_before:.2f} before, {load_after:.2f} after the runs")

    result = {
        "backend": vendor,
        "server_version": _server_version(connection),
        "python": platform.python_version(),
        "commit": _commit(),
        "cpus": os.cpu_count(),
        "agents": args.agents,
        "seed": args.seed,
        "build_s": {"migrate": t_migrate, "load_agents": t_load, "analyze": t_analyze},
        "load_average": {"before": load_before, "after": load_after},
        "runs": runs,
        "ratios": ratios,
        "stock_verify": problems,
        "stock_verify_s": t_verify,
        "oversell_total": oversell_total,
        "checks_ok": checks_ok,
        "profile": profile,
        "targets": targets,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 0 if checks_ok else 1


def _print_run(run: dict) -> None:
    steps = ", ".join(f"{k} {v:.2f}" for k, v in run["steps_p50_ms"].items())
    c = run["check"]
    unit = (
        {"threads": "thread", "processes": "process", "processes-busy": "process, busy handler"}[run["kind"]]
        if run["workers"] == 1
        else run["kind"]
    )
    print(
        f"\n[{run['mode']}, {run['workers']} {unit}] "
        f"{run['done']:,} orders in {run['wall_s']:.2f} s = {run['orders_per_s']:.0f} orders/s; "
        f"p50 {run['p50_ms']:.2f} ms, p99 {run['p99_ms']:.2f} ms, max {run['max_ms']:.1f} ms "
        f"(load {run['load_average']:.2f}; other processes used {run['other_cores']:.2f} cores)",
        flush=True,
    )
    if run["mode"] == "completed":
        print(
            f"    steps p50 ms: {steps}; fills {c['fills_ok']:,} ok, {c['fills_refused']:,} refused "
            f"(InsufficientStock; {c['scarce_sellers']} scarce of {c['sellers']:,} sellers, "
            f"{c['scarce_sold_out']} sold out); units filled {c['units_filled']:,} = moved {c['units_moved']:,}; "
            f"unjustified refusals {c['unjustified_refusals']}, level mismatches {c['level_mismatches']}, "
            f"wallet mismatches {c['wallet_mismatches']}",
            flush=True,
        )
    print(
        f"    oversell: {c['oversell']}; statuses: {c['statuses']}; failures: "
        f"{run['failures'] or 'none'}; checks {'OK' if c['ok'] else 'FAILED'}",
        flush=True,
    )


def _profile(
    args, vendor, plan_completed, prepare_completed, CaptureQueriesContext, connection, services, Agent
) -> dict:
    """Statements per step of one order; SQL / commit / Python split of order_submit; cProfile."""
    import cProfile
    import io
    import pstats

    from django.contrib.auth import get_user_model

    from weishang.catalog.models import SKU

    User = get_user_model()
    sku = SKU.objects.get(code=SKU_CODE)
    n_profile = 300
    plan = plan_completed(n_profile + 1)
    prep = prepare_completed(plan)
    scarce = set(prep["scarce"])
    first = next(i for i, (_b, _q, s) in enumerate(plan) if s not in scarce)  # its fill succeeds
    plan.insert(0, plan.pop(first))
    agents = Agent.objects.in_bulk({b for b, _q, _s in plan} | {s for _b, _q, s in plan})
    users = User.objects.in_bulk({a.user_id for a in agents.values()})

    # 1. The SQL statements of one order, step by step.
    buyer_id, qty, seller_id = plan[0]
    buyer, by_buyer, by_seller = agents[buyer_id], users[agents[buyer_id].user_id], users[agents[seller_id].user_id]
    statements = {}
    calls = [
        ("order_submit", lambda o: services.order_submit(buyer=buyer, lines=[(sku, qty)], by=by_buyer)),
        ("order_approve", lambda o: services.order_approve(order=o, by=by_seller)),
        ("order_pay_from_wallet", lambda o: services.order_pay_from_wallet(order=o, by=by_buyer)),
        ("order_fill", lambda o: services.order_fill(order=o, by=by_seller)),
    ]
    order = None
    print("\nSQL statements of one order (CaptureQueriesContext; BEGIN/COMMIT included where Django sends them):")
    for name, call in calls:
        with CaptureQueriesContext(connection) as ctx:
            result = call(order)
        if name == "order_submit":
            order = result
        sqls = [q["sql"] for q in ctx.captured_queries]
        statements[name] = sqls
        print(f"  {name}: {len(sqls)} statements")
        for s in sqls:
            print(f"      {s[:150]}")

    # 2. Where the time of order_submit goes: SQL statements (execute_wrapper), COMMIT, the rest.
    sql_time = [0.0]
    sql_count = [0]

    def timer(execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_time[0] += time.perf_counter() - t
            sql_count[0] += 1

    commit_time = [0.0]
    original_commit = connection._commit

    def timed_commit():
        t = time.perf_counter()
        try:
            return original_commit()
        finally:
            commit_time[0] += time.perf_counter() - t

    items = plan[1:]
    connection._commit = timed_commit
    try:
        with connection.execute_wrapper(timer):
            t0 = time.perf_counter()
            for b, q, _s in items:
                services.order_submit(buyer=agents[b], lines=[(sku, q)], by=users[agents[b].user_id])
            total = time.perf_counter() - t0
    finally:
        del connection._commit  # back to the class's method
    n = len(items)
    split = {
        "orders": n,
        "ms_per_order": total / n * 1000,
        "sql_ms": sql_time[0] / n * 1000,
        "statements_per_order": sql_count[0] / n,
        "commit_ms": commit_time[0] / n * 1000,
    }
    split["python_ms"] = split["ms_per_order"] - split["sql_ms"] - split["commit_ms"]
    print(
        f"\norder_submit, {n} in a row on one connection: {split['ms_per_order']:.2f} ms each = "
        f"SQL {split['sql_ms']:.2f} ms ({split['statements_per_order']:.1f} statements through the cursor) + "
        f"COMMIT {split['commit_ms']:.2f} ms + Python/ORM {split['python_ms']:.2f} ms "
        f"-> {1000 / split['ms_per_order']:.0f} orders/s on one worker",
        flush=True,
    )

    # Round trip of the smallest statement, for scale (PostgreSQL: client and server share the cores).
    with connection.cursor() as cursor:
        for _ in range(50):
            cursor.execute("SELECT 1")
            cursor.fetchone()
        t0 = time.perf_counter()
        for _ in range(2000):
            cursor.execute("SELECT 1")
            cursor.fetchone()
        split["select1_ms"] = (time.perf_counter() - t0) / 2000 * 1000
    print(f"  (one 'SELECT 1' through Django's cursor: {split['select1_ms']:.3f} ms)", flush=True)

    # 3. cProfile of the same number of submits (another plan, same shape).
    plan2 = plan_completed(n_profile)
    prepare_completed(plan2)
    agents2 = Agent.objects.in_bulk({b for b, _q, _s in plan2})
    users2 = User.objects.in_bulk({a.user_id for a in agents2.values()})
    profiler = cProfile.Profile()
    profiler.enable()
    for b, q, _s in plan2:
        services.order_submit(buyer=agents2[b], lines=[(sku, q)], by=users2[agents2[b].user_id])
    profiler.disable()
    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    out = BENCH_DIR / f"orders-{vendor}-profile.txt"
    out.write_text(buf.getvalue())
    print(f"cProfile of {n_profile} order_submit calls written to {out}")
    top = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[
        :12
    ]:
        top.append(
            {
                "function": f"{Path(filename).name}:{line}({func})",
                "calls": nc,
                "tottime_ms_per_order": tt / n_profile * 1000,
                "cumtime_ms_per_order": ct / n_profile * 1000,
            }
        )
    print("  top functions by own time (ms per order):")
    for t in top:
        print(f"    {t['tottime_ms_per_order']:6.3f}  {t['function']} ({t['calls']} calls)")
    return {
        "statements": {k: len(v) for k, v in statements.items()},
        "statement_sql": statements,
        "submit_split": split,
        "top_tottime": top,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=DEFAULT_AGENTS, help="agents to generate (default 100000)")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql", "all"),
        default="all",
        help="which databases to run on (default all; PostgreSQL is skipped if unreachable)",
    )
    parser.add_argument(
        "--postgres-url",
        default=PG_ADMIN_URL,
        help=f"PostgreSQL server (the {PG_DB} database is dropped and re-created there)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--orders", type=int, default=2000, help="timed orders per 'placed' run (default 2000)")
    parser.add_argument(
        "--completed",
        type=int,
        default=1000,
        help="timed orders per 'completed' run (submit, approve, pay, fill; default 1000)",
    )
    parser.add_argument("--warmup", type=int, default=5, help="untimed orders per worker before the timed ones")
    parser.add_argument("--modes", default="placed,completed", help="comma-separated: placed, completed")
    parser.add_argument(
        "--sqlite-busy-handler",
        action="store_true",
        help="also run SQLite worker processes without the writers' queue (SQLite's busy handler, as before M13)",
    )
    parser.add_argument("--database-url", help=argparse.SUPPRESS)  # child mode: one backend, fresh database
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.database_url:
        return run_child(args)
    return run_parent(args)


if __name__ == "__main__":
    sys.exit(main())
