"""SQLite's writers queue in the application (core.sqlite.base, M13): threads and processes writing one
database file at once all get through — no ``database is locked``, no lost update — and the queue
lets go when a transaction fails, and when the process holding it is killed.

Real processes on a real database file: each test copies the migrated test database and runs
Django in subprocesses against the copy, as the production server's worker processes do."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)

WORKER = textwrap.dedent(
    """
    import sys, threading, time
    import django
    django.setup()
    from django.db import connection, transaction
    from django.db.models import F
    from weishang.core.models import OutboxCursor

    mode, threads, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    errors = []

    def add_one():
        with transaction.atomic():
            cursor = OutboxCursor.objects.get(name="counter")
            time.sleep(0.001)  # work between the read and the write: a lost update would show
            cursor.position += 1
            cursor.save(update_fields=["position"])

    def fail_once():
        with transaction.atomic():
            OutboxCursor.objects.filter(name="counter").update(position=-1_000_000)
            raise RuntimeError("a failed transaction")

    def run():
        try:
            for i in range(rounds):
                if mode == "autocommit":  # one statement, no transaction: a token's "last used", say
                    OutboxCursor.objects.filter(name="counter").update(position=F("position") + 1)
                    continue
                if mode == "failing" and i % 5 == 0:
                    try:
                        fail_once()
                    except RuntimeError:
                        pass
                add_one()
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    if mode == "hold":
        with transaction.atomic():
            OutboxCursor.objects.filter(name="counter").update(position=-1)
            print("holding", flush=True)
            time.sleep(120)
    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print("errors:", errors, flush=True)
    sys.exit(1 if errors else 0)
    """
)


@pytest.fixture
def database_file(tmp_path) -> Path:
    if connection.vendor != "sqlite":
        pytest.skip("the writers' queue is SQLite's")
    from weishang.core.models import OutboxCursor

    OutboxCursor.objects.create(name="counter", position=0)
    path = tmp_path / "writers.sqlite3"
    source = sqlite3.connect(connection.settings_dict["NAME"])
    with sqlite3.connect(path) as target:
        source.backup(target)
    source.close()
    OutboxCursor.objects.filter(name="counter").delete()
    return path


def _start(path: Path, *args: str, queue: bool = True, log: Path | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DATABASE_URL=f"sqlite:///{path}",
        DJANGO_SETTINGS_MODULE="weishang.settings",
        WEISHANG_SQLITE_WRITE_QUEUE="1" if queue else "0",
    )
    if log is not None:
        env["WEISHANG_SQLITE_QUEUE_LOG"] = str(log)
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _counter(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT position FROM core_outboxcursor WHERE name = 'counter'").fetchone()[0]


def _waits_on_flock(pid: int, inode: int) -> bool:
    """/proc/locks lists a process blocked on a lock as ``N: -> FLOCK ADVISORY WRITE <pid> <dev>:<inode> …``."""
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields and "FLOCK" in fields and str(pid) in fields and line.split()[-3].endswith(f":{inode}"):
            return True
    return False


def test_threads_and_processes_all_get_through(database_file):
    workers = [_start(database_file, "plain", "4", "25") for _ in range(3)]
    outputs = [w.communicate(timeout=120) for w in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, (out, err[-2000:])
        assert "errors: []" in out
    assert _counter(database_file) == 3 * 4 * 25
    assert Path(f"{database_file}.writelock").exists()


def test_a_failed_transaction_lets_the_next_writer_in(database_file):
    workers = [_start(database_file, "failing", "3", "20") for _ in range(2)]
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, (out, err[-2000:])
    # Every failed transaction was rolled back; every increment stayed.
    assert _counter(database_file) == 2 * 3 * 20


def test_a_killed_writer_frees_the_queue(database_file):
    holder = _start(database_file, "hold", "0", "0")
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "holding"
    waiting = _start(database_file, "plain", "2", "5")
    # Queued behind the holder on the lock file, in the kernel — not polling in SQLite's busy handler.
    inode = os.stat(f"{database_file}.writelock").st_ino
    deadline = time.monotonic() + 30
    while not _waits_on_flock(waiting.pid, inode):
        assert waiting.poll() is None and time.monotonic() < deadline, "the writer never queued on the lock file"
        time.sleep(0.05)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, (out, err[-2000:])
    # The killed writer's change never happened; the waiting ones all did.
    assert _counter(database_file) == 10


def test_a_write_outside_a_transaction_queues_too(database_file, tmp_path):
    """An autocommit UPDATE takes SQLite's write lock for its statement: it waits its turn on the lock
    file behind a transaction (not in the busy handler), and gets through once the holder is gone.
    With WEISHANG_SQLITE_QUEUE_LOG each turn is written down with its wait and hold."""
    holder = _start(database_file, "hold", "0", "0")
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "holding"
    log = tmp_path / "queue.log"
    waiting = _start(database_file, "autocommit", "2", "10", log=log)
    inode = os.stat(f"{database_file}.writelock").st_ino
    deadline = time.monotonic() + 30
    while not _waits_on_flock(waiting.pid, inode):
        assert waiting.poll() is None and time.monotonic() < deadline, "the autocommit write never queued"
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, (out, err[-2000:])
    assert _counter(database_file) == 20
    turns = [line.split() for line in log.read_text().splitlines()]
    assert len(turns) == 20
    assert all(len(t) == 5 and int(t[0]) == waiting.pid for t in turns)
    # The first turn waited for the holder (at least the 0.3 s above); each held the lock briefly.
    assert max(float(t[1]) for t in turns) >= 300
    assert all(0 <= float(t[2]) < 5_000 for t in turns)
