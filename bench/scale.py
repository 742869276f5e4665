#!/usr/bin/env python
"""A million agents (M13): the tree's team questions, the monthly team-volume rollup, the month's
settlement and one order's cost, at ``--agents`` (100,000 and 1,000,000), and how each grows.

Per size, in a fresh database, built as ``bench/settle.py`` builds (its ``run_build``: the demo
channel of ``weishang.demo.services.load_agents`` without order history, referrer depth >= 30,
the plan ``bench/settle-plan.yaml`` in force, then ``--lines-per-agent`` × agents completed
restock orders of one line each in the last complete month, by ``COPY`` on PostgreSQL or
``executemany`` on SQLite — 10,000,000 order lines at 1,000,000 agents), then in the same process:

- the rollup: ``trade.volume.volume_rebuild`` (what ``weishang volume rebuild`` runs after a
  bulk load: the orders carry no events) and ``volume_differences`` (``weishang volume verify``);
- subjects: the root with the largest team, the agent whose team is closest to 1,000 members,
  200 random ("typical") agents, the deepest agent;
- median of N: team size (``channel.selectors.team_size``), team volume of the month
  (``trade.selectors.team_purchase_volume`` on the whole month: the rollup), the same for the
  month less its first day (not whole months: the direct query over the closure table, as before),
  the chain above (``channel.selectors.chain_above``) of typical agents and of the deepest;
- one order's cost: ``--orders`` restocks by typical agents, submit → approve → pay from the
  wallet → fill, each step a transaction, with the outbox's consumers run after each commit as
  in production (the rollup's follower, the reward engine, the others); the follower's own time
  is timed apart;
- the month's settlement: ``rewards.services.settle_period`` once (it reads every order of the
  month: the team ladder of the plan).

Usage::

    .venv/bin/python bench/scale.py --agents 100000              # PostgreSQL
    .venv/bin/python bench/scale.py --agents 1000000             # about an hour on 2 shared cores
    .venv/bin/python bench/scale.py --report                     # the growth table from the saved runs
    .venv/bin/python bench/scale.py --agents 3000 --smoke        # seconds: checks the script

Databases ``weishang_scale_<agents>`` on ``--postgres-url`` (dropped and re-created) or
``var/bench/scale-<agents>.sqlite3``; results ``var/bench/scale-<backend>-<agents>.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/")

TARGET_TYPICAL_MS = 5.0  # a typical agent's team volume
TARGET_ROOT_MS = 100.0  # the root's team volume at 1M agents
TARGET_SETTLE_S = 600.0  # the month's settlement


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).resolve().parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _out(backend: str, agents: int) -> Path:
    return BENCH_DIR / f"scale-{backend}-{agents}.json"


# ============================================================================================
# Parent
# ============================================================================================


def run_parent(args: argparse.Namespace) -> int:
    tree = _load("tree")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    failed = False
    for n in args.agents:
        if args.backend == "sqlite":
            url = tree._prepare_sqlite(BENCH_DIR / f"scale-{n}.sqlite3")
        else:
            url, why = tree._prepare_postgresql(args.postgres_url, f"weishang_scale_{n}")
            if url is None:
                print(f"postgresql not reachable: {why}", flush=True)
                return 1
        out = _out(args.backend, n)
        out.unlink(missing_ok=True)
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--database-url",
            url,
            "--json",
            str(out),
            "--agents",
            str(n),
            "--lines-per-agent",
            str(args.lines_per_agent),
            "--orders",
            str(args.orders),
            "--seed",
            str(args.seed),
            "--scale",
            str(args.scale),
        ]
        print(f"\n== {args.backend}, {n:,} agents: {url}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"== {n:,} agents: exit {rc} after {time.perf_counter() - t0:.0f} s", flush=True)
        failed = failed or rc != 0 or not out.exists()
        if args.drop and args.backend == "postgresql":
            with _load("settle")._pg_admin(args.postgres_url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "weishang_scale_{n}" WITH (FORCE)')
    report(args.backend)
    return 1 if failed else 0


def report(backend: str) -> None:
    runs = sorted(
        (json.loads(p.read_text()) for p in BENCH_DIR.glob(f"scale-{backend}-*.json")), key=lambda r: r["agents"]
    )
    runs = [r for r in runs if r.get("complete")] or runs
    if not runs:
        print(f"no saved runs for {backend}")
        return
    print(f"\n== {backend}: medians; growth = last / first ({' → '.join(f'{r["agents"]:,}' for r in runs)} agents)")
    names: list[str] = []
    for r in runs:
        names += [k for k in r["figures"] if k not in names]
    header = f"{'figure':<44}" + "".join(f"{r['agents']:>14,}" for r in runs) + f"{'growth':>9}"
    print(header)
    print("-" * len(header))
    for name in names:
        values = [r["figures"].get(name) for r in runs]
        cells = "".join(
            f"{v:>14.3f}" if isinstance(v, float) else f"{v:>14,}" if isinstance(v, int) else f"{'-':>14}"
            for v in values
        )
        growth = f"{values[-1] / values[0]:>8.1f}x" if all(values) and len(values) > 1 else f"{'-':>9}"
        print(f"{name:<44}{cells}{growth}")
    for r in runs:
        missed = [t for t in r.get("targets", []) if not t["met"]]
        print(
            f"{r['agents']:,} agents: {len(r.get('targets', [])) - len(missed)}/{len(r.get('targets', []))} targets met"
            + (f"; missed: {'; '.join(t['target'] for t in missed)}" if missed else "")
        )


# ============================================================================================
# Child: one size, one backend, one process.
# ============================================================================================


def run_child(args: argparse.Namespace) -> int:
    settle = _load("settle")
    tree_bench = _load("tree")
    big, small = settle._months(date.today())
    build_json = Path(args.json).with_suffix(".build.json")
    lines = args.agents * args.lines_per_agent
    build_args = argparse.Namespace(
        database_url=args.database_url,
        agents=args.agents,
        seed=args.seed,
        period=big,
        small_period=small,
        lines=lines,
        small_lines=0,
        json=str(build_json),
    )
    if args.reuse:  # measure a database an earlier run built (its build figures given by hand)
        settle._setup_django(args.database_url)
        build = {"build_s": dict(args.build_s or {}), "db_bytes": None}
        t_build = sum(build["build_s"].values()) or None
    else:
        t_build = time.perf_counter()
        if settle.run_build(build_args) != 0:
            return 2
        t_build = time.perf_counter() - t_build
        build = json.loads(build_json.read_text())
        build_json.unlink(missing_ok=True)

    from django.conf import settings
    from django.db import connection, transaction
    from django.db.models import Max

    from weishang.catalog.models import SKU
    from weishang.catalog.selectors import level_price
    from weishang.channel.models import Agent, ReferrerLink
    from weishang.channel.selectors import chain_above, team_size
    from weishang.ledger import services as ledger
    from weishang.ledger.models import Purpose
    from weishang.rewards.services import settle_period
    from weishang.trade import services as trade_services
    from weishang.trade import stock, volume
    from weishang.trade.models import LocationKind, Order, StockReason, TeamVolume
    from weishang.trade.selectors import team_purchase_volume

    settings.WEISHANG_OUTBOX_INLINE = True  # the one-order runs: consumers after each commit, as in production
    vendor = connection.vendor
    scale = args.scale
    rng = random.Random(args.seed)
    figures: dict[str, float | int] = {}
    result: dict = {
        "backend": vendor,
        "server_version": tree_bench._server_version(connection),
        "commit": tree_bench._commit(),
        "cpus": os.cpu_count(),
        "agents": args.agents,
        "lines": lines,
        "period": big,
        "build": build,
        "figures": figures,
        "complete": False,
    }

    def save() -> None:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))

    def reps(n: int) -> int:
        return max(3, round(n * scale))

    def measure(fn, n: int, warmup: int = 2) -> float:
        for i in range(warmup):
            fn(i)
        samples = []
        for i in range(n):
            t0 = time.perf_counter()
            fn(i)
            samples.append((time.perf_counter() - t0) * 1000)
        return statistics.median(samples)

    if vendor == "postgresql":  # sorts and hashes of 10M rows in memory, not on disk (this session only)
        with connection.cursor() as cursor:
            cursor.execute(f"SET work_mem = '{args.work_mem}'")
            if build.get("db_bytes") is None:
                cursor.execute("SELECT pg_database_size(current_database())")
                build["db_bytes"] = cursor.fetchone()[0]
    figures["build: whole (s)"] = t_build
    figures["build: load_agents (s)"] = build["build_s"].get("load_agents")
    figures["build: orders COPY (s)"] = build["build_s"].get("orders")
    figures["build: VACUUM ANALYZE (s)"] = build["build_s"].get("analyze")
    figures["database (MiB)"] = round((build.get("db_bytes") or 0) / 2**20)

    # --- the rollup ----------------------------------------------------------------------------
    t0 = time.perf_counter()
    rows = volume.volume_rebuild()
    figures["rollup: rebuild (s)"] = time.perf_counter() - t0
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(TeamVolume._meta.db_table)}")
    t0 = time.perf_counter()
    differences = volume.volume_differences()
    figures["rollup: verify (s)"] = time.perf_counter() - t0
    assert differences == [], differences[:5]
    figures["rollup rows"] = rows
    referrer_links = ReferrerLink.objects.count()
    figures["referrer links"] = referrer_links
    print(
        f"rollup: {rows:,} rows rebuilt in {figures['rollup: rebuild (s)']:.1f} s, verified in "
        f"{figures['rollup: verify (s)']:.1f} s; {referrer_links:,} referrer links",
        flush=True,
    )
    save()

    # --- subjects --------------------------------------------------------------------------------
    t0 = time.perf_counter()
    roots = list(Agent.objects.filter(referrer__isnull=True).values_list("pk", flat=True))
    root = max(roots, key=lambda pk: (team_size(agent=pk), -pk))
    # Agents whose team is close to 1,000: the candidates are the direct referrals of agents at
    # depth <= 6 (large teams sit high in the tree), sized one by one.
    near: list[tuple[int, int]] = []
    frontier = [root]
    for _ in range(8):
        below = list(Agent.objects.filter(referrer_id__in=frontier).values_list("pk", flat=True)[:5000])
        near += [(pk, team_size(agent=pk)) for pk in below[:400]]
        frontier = below
        if not below:
            break
    k_agent, k_size = min(near, key=lambda row: (abs(row[1] - 1000), row[0]))
    deepest, depth = ReferrerLink.objects.order_by("-depth").values_list("descendant_id", "depth").first()
    max_id = Agent.objects.aggregate(m=Max("pk"))["m"]
    typical = rng.sample(range(1, max_id + 1), 400)
    typical = list(Agent.objects.filter(pk__in=typical).values_list("pk", flat=True))[:200]
    sizes = sorted(team_size(agent=pk) for pk in typical)
    root_size = team_size(agent=root)
    result["subjects"] = {
        "root": {"id": root, "team": root_size},
        "k": {"id": k_agent, "team": k_size},
        "typical": {"n": len(typical), "team_median": statistics.median(sizes), "team_max": sizes[-1]},
        "deepest": {"id": deepest, "depth": depth},
    }
    figures["root's team"] = root_size
    figures["max referrer depth"] = depth
    print(f"subjects in {time.perf_counter() - t0:.1f} s: {result['subjects']}", flush=True)

    # --- the team questions --------------------------------------------------------------------------
    start, end = settle._month_bounds(big)
    # Not whole months (the month less its first day): the direct query over the closure table.
    last30 = start + timedelta(days=1)
    for pk in (root, k_agent, typical[0]):  # the rollup and the orders agree
        assert team_purchase_volume(agent=pk, start=start, end=end) == team_purchase_volume(
            agent=pk, start=start, end=end - timedelta(microseconds=1)
        ), pk
    for label, pk, n in (("root", root, reps(20)), ("~1,000", k_agent, reps(100))):
        figures[f"team size: {label} (ms)"] = measure(lambda i, pk=pk: team_size(agent=pk), n)
        figures[f"team volume month, rollup: {label} (ms)"] = measure(
            lambda i, pk=pk: team_purchase_volume(agent=pk, start=start, end=end), n
        )
        figures[f"team volume month-1d, orders: {label} (ms)"] = measure(
            lambda i, pk=pk: team_purchase_volume(agent=pk, start=last30, end=end), max(3, n // 4), warmup=1
        )
    n = reps(1000)
    figures["team size: typical (ms)"] = measure(lambda i: team_size(agent=typical[i % len(typical)]), n)
    figures["team volume month, rollup: typical (ms)"] = measure(
        lambda i: team_purchase_volume(agent=typical[i % len(typical)], start=start, end=end), n
    )
    figures["team volume month-1d, orders: typical (ms)"] = measure(
        lambda i: team_purchase_volume(agent=typical[i % len(typical)], start=last30, end=end), n
    )
    figures["chain above: typical (ms)"] = measure(lambda i: chain_above(agent=typical[i % len(typical)]), n)
    figures["chain above: deepest (ms)"] = measure(lambda i: chain_above(agent=deepest), reps(300))
    for name, value in figures.items():
        if name.endswith("(ms)"):
            print(f"  {name:<44} {value:9.2f}", flush=True)
    save()

    # --- one order: submit → approve → pay → fill, consumers after each commit ---------------------------
    sku = SKU.objects.get(code=settle.SKU_CODE)
    buyers = list(
        Agent.objects.filter(pk__in=typical, supplier__isnull=False)
        .select_related("level", "user", "supplier__user")
        .order_by("pk")[: args.orders + 2]
    )
    warehouse = stock.location_singleton(LocationKind.WAREHOUSE)
    with transaction.atomic():
        need = {}
        for b in buyers:
            need[b.supplier_id] = need.get(b.supplier_id, 0) + b.level.min_restock_qty
        stock.stock_move(
            moves=[stock.Move(stock.location_singleton(LocationKind.SUPPLIER), warehouse, sku, sum(need.values()))],
            reason=StockReason.RECEIPT,
            note="bench",
        )
        stock.stock_move(
            moves=[
                stock.Move(warehouse, stock.location_for_agent(Agent.objects.get(pk=s), LocationKind.CLOUD), sku, q)
                for s, q in sorted(need.items())
            ],
            reason=StockReason.ADJUSTMENT,
            note="bench",
        )
        cash = ledger.account_for(owner=None, purpose=Purpose.BRAND_CASH)
        cost = {b.pk: level_price(sku=sku, level=b.level) * b.level.min_restock_qty for b in buyers}
        ledger.journal_post(
            kind="wallet_topup",
            memo="bench top-up",
            lines=[
                ledger.debit(cash, sum(cost.values())),
                *[ledger.credit(ledger.account_for(owner=b, purpose=Purpose.AGENT_WALLET), cost[b.pk]) for b in buyers],
            ],
        )
    follower_ms: list[float] = []
    original = volume.volume_process_inline

    def timed_follower() -> int:
        t = time.perf_counter()
        try:
            return original()
        finally:
            follower_ms.append((time.perf_counter() - t) * 1000)

    from weishang.core import outbox

    outbox._subscribers[outbox._subscribers.index(original)] = timed_follower
    month = volume.month_of(time_now())
    order_ms = []
    for i, b in enumerate(buyers):
        before = team_purchase_volume(agent=root, start=volume.month_start(month), end=_month_end(volume, month))
        t = time.perf_counter()
        order = trade_services.order_submit(buyer=b, lines=[(sku, b.level.min_restock_qty)], by=b.user)
        trade_services.order_approve(order=order, by=b.supplier.user)
        trade_services.order_pay_from_wallet(order=order, by=b.user)
        trade_services.order_fill(order=order, by=b.supplier.user)
        if i >= 2:  # two warm-up orders
            order_ms.append((time.perf_counter() - t) * 1000)
        order.refresh_from_db()
        after = team_purchase_volume(agent=root, start=volume.month_start(month), end=_month_end(volume, month))
        assert order.status == "completed", order.status
        in_root_team = ReferrerLink.objects.filter(ancestor_id=root, descendant_id=b.pk).exists()
        assert after - before == (order.total if in_root_team else 0), (before, after, order.total)
    figures["one order submit→fill (ms)"] = statistics.median(order_ms)
    figures["  of which the rollup follower (ms)"] = statistics.median(follower_ms[8:] or follower_ms)
    print(
        f"one order: {figures['one order submit→fill (ms)']:.1f} ms median of {len(order_ms)}; the follower "
        f"{figures['  of which the rollup follower (ms)']:.2f} ms per commit",
        flush=True,
    )
    save()

    # --- the month's settlement ------------------------------------------------------------------------
    t0 = time.perf_counter()
    run = settle_period(period=big)
    figures["settlement of the month (s)"] = time.perf_counter() - t0
    result["settlement"] = {
        "run": str(run),
        "orders_in_month": Order.objects.filter(completed_at__gte=start, completed_at__lt=end).count(),
    }
    print(f"settlement of {big}: {figures['settlement of the month (s)']:.1f} s", flush=True)

    targets = [
        ("typical team volume <= 5 ms", figures["team volume month, rollup: typical (ms)"], TARGET_TYPICAL_MS),
        ("root team volume <= 100 ms", figures["team volume month, rollup: root (ms)"], TARGET_ROOT_MS),
        ("settlement <= 10 min", figures["settlement of the month (s)"], TARGET_SETTLE_S),
    ]
    result["targets"] = [{"target": t, "value": v, "met": v <= limit} for t, v, limit in targets]
    result["complete"] = True
    result["load_average"] = os.getloadavg()[0]
    save()
    for t in result["targets"]:
        print(f"  [{'met ' if t['met'] else 'MISS'}] {t['target']}: {t['value']:.2f}")
    return 0


def time_now():
    from weishang.core import clock

    return clock.now()


def _month_end(volume, month: str):
    return (volume.month_start(month) + timedelta(days=32)).replace(day=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, nargs="+", default=[100_000], help="sizes, one run each")
    parser.add_argument("--lines-per-agent", type=int, default=10, help="order lines in the month per agent")
    parser.add_argument("--orders", type=int, default=20, help="timed single orders (after two warm-ups)")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres-url", default=PG_ADMIN_URL)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the repetition counts")
    parser.add_argument("--drop", action="store_true", help="drop each PostgreSQL database after its run")
    parser.add_argument("--smoke", action="store_true", help="few repetitions and orders (with a small --agents)")
    parser.add_argument("--report", action="store_true", help="only print the growth table of the saved runs")
    parser.add_argument("--work-mem", default="256MB", help="PostgreSQL work_mem of the measuring session")
    parser.add_argument(
        "--reuse", action="store_true", help="with --database-url: measure an already built database, no build"
    )
    parser.add_argument(
        "--build-s", type=json.loads, help="with --reuse: the build's figures, JSON {load_agents, orders, analyze}"
    )
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.scale, args.orders = 0.05, 4
    if args.report:
        report(args.backend)
        return 0
    if args.database_url:
        args.agents = args.agents[0]
        return run_child(args)
    return run_parent(args)


if __name__ == "__main__":
    sys.exit(main())
