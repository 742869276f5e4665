#!/usr/bin/env python
"""Backup and restore timed (M13): ``weishang backup`` and ``weishang restore --yes`` of the demo
brand (``weishang demo``: about 2,000 agents and 3,000 orders) on SQLite and on PostgreSQL, as the
operator runs them (whole commands, Django's start included). Prints the median of ``--runs`` and
the archive's size.

Usage::

    .venv/bin/python bench/backup.py                 # SQLite, then PostgreSQL if reachable
    .venv/bin/python bench/backup.py --backend sqlite --runs 5

Databases: ``var/bench/backup/backup.sqlite3`` (and ``restored.sqlite3``); PostgreSQL
``weishang_bench_backup`` and ``weishang_bench_restore`` (dropped and re-created).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench" / "backup"
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/")
WEISHANG = [sys.executable, "-m", "weishang.cli"]


def _env(url: str, var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "WEISHANG_"))}
    return {**env, "DATABASE_URL": url, "WEISHANG_VAR": str(var)}


def _timed(env: dict, *args: str) -> float:
    t = time.perf_counter()
    subprocess.run([*WEISHANG, *args], env=env, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t


def _psql(sql: str) -> None:
    subprocess.run(["psql", PG_ADMIN_URL + "postgres", "-qc", sql], check=True, capture_output=True)


def bench(backend: str, runs: int) -> dict | None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        for name in ("backup.sqlite3", "restored.sqlite3"):
            for suffix in ("", "-wal", "-shm", ".writelock"):
                Path(f"{BENCH_DIR / name}{suffix}").unlink(missing_ok=True)
        source_url, target_url = (
            f"sqlite:///{BENCH_DIR / 'backup.sqlite3'}",
            f"sqlite:///{BENCH_DIR / 'restored.sqlite3'}",
        )
    else:
        if (
            shutil.which("psql") is None
            or subprocess.run(["psql", PG_ADMIN_URL + "postgres", "-c", "select 1"], capture_output=True).returncode
        ):
            print("PostgreSQL not reachable: skipped")
            return None
        for name in ("weishang_bench_backup", "weishang_bench_restore"):
            _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            _psql(f"CREATE DATABASE {name}")
        source_url, target_url = PG_ADMIN_URL + "weishang_bench_backup", PG_ADMIN_URL + "weishang_bench_restore"
    source, target = (
        _env(source_url, BENCH_DIR / f"var-{backend}"),
        _env(target_url, BENCH_DIR / f"var-{backend}-restored"),
    )
    t = time.perf_counter()
    subprocess.run([*WEISHANG, "migrate", "-v", "0"], env=source, cwd=ROOT, check=True)
    subprocess.run([*WEISHANG, "demo"], env=source, cwd=ROOT, check=True, capture_output=True)
    print(f"{backend}: demo brand built in {time.perf_counter() - t:.0f} s", flush=True)
    out = BENCH_DIR / f"{backend}.tar.gz"
    backups = [_timed(source, "backup", "--out", str(out)) for _ in range(runs)]
    restores = [_timed(target, "restore", str(out), "--yes") for _ in range(runs)]
    verify = _timed(target, "ledger", "verify")
    result = {
        "backend": backend,
        "backup_s": statistics.median(backups),
        "restore_s": statistics.median(restores),
        "archive_bytes": out.stat().st_size,
        "ledger_verify_s": verify,
    }
    print(
        f"{backend}: backup {result['backup_s']:.2f} s, restore {result['restore_s']:.2f} s (medians of {runs}, "
        f"whole commands); archive {result['archive_bytes'] / 1e6:.1f} MB; ledger verify after restore {verify:.2f} s",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        bench(backend, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
