#!/usr/bin/env python
"""Benchmark of the plan simulator (``weishang plan simulate``): 100,000 and 1,000,000 agents × 36 months.

The plan is ``examples/plans/glow-tiered.yaml`` — the heaviest example: entry orders filled by
uplines from cloud stock, peer referral over two generations, a monthly differential team ladder,
a quarterly trip, upgrades by purchases, 推三升一 and team volume, top-ups, a 90% buyback on exit.
The scenario is ``examples/scenarios/glow-tiered.yaml`` scaled: ``market_size`` = N, founders
N/40,000 联创 and N/10,000 总代, ``join_probability`` 0.08, so that nearly everyone reachable has
joined by month 36 (the script prints how many did).

Each measurement runs in a fresh process (``--child``), so that its peak memory is its own:

- **simulate**: ``run_simulation(plan, scenario)`` — the 36 months, the report (every metric,
  the monthly series, the conservation checks) and the linter's figure rules; timed with
  ``perf_counter``;
- **write**: then ``result.write(dir)`` — report.json, the five PNG charts, report.html;
- **peak memory**: the process's peak RSS (``ru_maxrss``) at the end, and its RSS after the
  imports (the baseline).

Usage::

    .venv/bin/python bench/simulate.py                    # 100k and 1M, 3 runs each (~2 minutes)
    .venv/bin/python bench/simulate.py --sizes 100000 --reps 5
    .venv/bin/python bench/simulate.py --smoke            # 20,000 agents, one run

Results as JSON in ``var/bench/simulate.json``. Exits non-zero if a target is missed or a run is
not balanced (money and units are checked every month of every run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "examples" / "plans" / "glow-tiered.yaml"
SCENARIO = ROOT / "examples" / "scenarios" / "glow-tiered.yaml"
OUT = ROOT / "var" / "bench" / "simulate.json"
TARGETS = {100_000: 10.0, 1_000_000: 120.0}  # seconds on a 2-core machine (the issue's)


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child(size: int, seed: int) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from weishang.plans import load_plan
    from weishang.plans.simulate import load_scenario, run_simulation

    baseline = _rss_mb()
    plan = load_plan(PLAN)
    base = load_scenario(SCENARIO)
    scenario = base.model_copy(
        update={
            "market_size": size,
            "founders": {"partner": max(1, size // 40_000), "general": max(4, size // 10_000)},
            "recruitment": base.recruitment.model_copy(update={"join_probability": Decimal("0.08")}),
        }
    )
    started = time.perf_counter()
    result = run_simulation(plan, scenario, seed=seed)
    simulate_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result.write(tmp)
        write_s = time.perf_counter() - started
    report = result.report
    return {
        "size": size,
        "seed": seed,
        "months": report["scenario"]["months"],
        "simulate_s": round(simulate_s, 3),
        "write_s": round(write_s, 3),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "baseline_mb": round(baseline, 1),
        "ever_joined": report["participants"]["ever_joined"],
        "active_at_end": report["participants"]["active_at_end"],
        "max_depth": report["structure"]["max_depth"],
        "balanced": report["conservation"]["all_balanced"],
        "loss_share": report["loss"]["loss_share"],
    }


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import matplotlib
    import numpy

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "matplotlib": matplotlib.__version__,
        "platform": platform.platform(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="market sizes (agents), comma-separated")
    parser.add_argument("--reps", type=int, default=3, help="runs per size, each in a fresh process")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="20,000 agents, one run")
    parser.add_argument("--child", nargs=2, type=int, metavar=("SIZE", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    sizes = [20_000] if args.smoke else [int(s) for s in args.sizes.split(",")]
    reps = 1 if args.smoke else args.reps
    info = machine()
    print(
        f"machine: {info['cpu']} · {info['cores']} cores · {info['memory_gib']} GiB · Python {info['python']} · "
        f"numpy {info['numpy']}"
    )
    results, ok = [], True
    for size in sizes:
        runs = []
        for rep in range(reps):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(size), str(args.seed + rep)],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                print(out.stderr, file=sys.stderr)
                return 1
            run = json.loads(out.stdout.strip().splitlines()[-1])
            runs.append(run)
            print(
                f"  {size:>9,} agents  run {rep + 1}: simulate {run['simulate_s']:6.2f} s"
                f"  write {run['write_s']:5.2f} s  peak {run['peak_mb']:7.1f} MB  joined {run['ever_joined']:,}"
                f"  active {run['active_at_end']:,}  balanced {run['balanced']}"
            )
        median = statistics.median(r["simulate_s"] for r in runs)
        target = TARGETS.get(size)
        met = target is None or median <= target
        ok &= met and all(r["balanced"] for r in runs)
        summary = {
            "size": size,
            "runs": runs,
            "median_simulate_s": round(median, 3),
            "median_write_s": round(statistics.median(r["write_s"] for r in runs), 3),
            "median_peak_mb": round(statistics.median(r["peak_mb"] for r in runs), 1),
            "target_s": target,
            "ratio_to_target": round(median / target, 3) if target else None,
            "met": met,
            "seconds_per_million_agent_months": round(median / (size * runs[0]["months"]) * 1e6, 3),
        }
        results.append(summary)
        print(
            f"{size:>11,} × {runs[0]['months']} months: median {median:.2f} s"
            + (
                f" (target {target:.0f} s, {median / target:.2f}× of it: {'met' if met else 'MISSED'})"
                if target
                else ""
            )
            + f", peak {summary['median_peak_mb']:.0f} MB, write {summary['median_write_s']:.2f} s"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"machine": info, "results": results}, indent=2) + "\n", encoding="utf-8")
    print(f"results: {OUT.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
