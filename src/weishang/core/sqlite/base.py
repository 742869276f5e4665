"""Django's SQLite backend, with two additions.

**The database file's directory** (``var/`` by default) is created the first time a connection opens
the file, instead of when settings are imported: ``make messages``, ``weishang help`` or any import of
the settings leave the working directory as they found it, and ``weishang migrate``, the tests'
per-process databases (``var/test-<pid>.sqlite3``) and the server still find their directory there.

**Writers queue** (``OPTIONS["write_queue"]``, on by default for a database file; M13). Every
transaction here begins ``IMMEDIATE``, taking SQLite's write lock. A connection that finds it taken
sleeps in SQLite's busy handler — 1, 2, 5 … then 100 ms at a time — and is not woken when the lock
is released, while the writer that just committed takes it again at once: throughput falls and
some orders wait for seconds (docs/benchmarks.md, "Orders"). So before ``BEGIN IMMEDIATE`` a
connection queues twice, and SQLite's own lock is then always free:

1. in its process, on a lock per database file (threads wake in turn as it is released; waiting
   longer than the connection's ``timeout`` raises ``database is locked``, as SQLite would);
2. across processes, on an exclusive ``flock()`` of ``<database>.writelock``: the kernel wakes the
   next process when the holder commits, rolls back, closes or dies.

Only one thread of a process ever waits on the file lock, so the cross-process wait cannot be a
thread waiting on its own process. The locks are released after COMMIT or ROLLBACK and on close.
A write statement outside a transaction (autocommit: a token's "last used", a stored API answer, a
session saved) queues the same way for the statement's duration: otherwise it would take SQLite's
lock between two queued transactions, and wait in the busy handler whenever it found it taken.

**Measuring the queue** (``WEISHANG_SQLITE_QUEUE_LOG=<file>``, for benchmarks): each transaction
that went through the queue appends one line, ``pid wait_ms hold_ms hold_cpu_ms request_id``: how
long it waited for its turn, how long it held the write lock (wall clock) and how much of that its
thread ran (``time.thread_time``). ``bench/load.py --queue-log`` reads them back.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
import time
from pathlib import Path

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

_WRITE = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_QUEUE_LOG = os.environ.get("WEISHANG_SQLITE_QUEUE_LOG") or None
_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(path: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(path, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    _queue_path: str | None = None
    _queue_fd: int | None = None
    _queue_held: threading.Lock | None = None
    _queue_times: tuple[float, float, float] | None = None

    def get_connection_params(self):
        kwargs = super().get_connection_params()
        write_queue = kwargs.pop("write_queue", False)
        self._queue_timeout = float(kwargs.get("timeout", 5))
        if write_queue and not self.is_in_memory_db():
            self._queue_path = str(Path(self.settings_dict["NAME"]).resolve()) + ".writelock"
        else:
            self._queue_path = None
        return kwargs

    def create_cursor(self, name=None):
        if self._queue_path is None:
            return super().create_cursor(name)
        queued = self.connection.cursor(factory=_QueuedCursor)
        queued.wrapper = self
        return queued

    def get_new_connection(self, conn_params):
        if not self.is_in_memory_db():
            Path(self.settings_dict["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        return super().get_new_connection(conn_params)

    # --- the writers' queue ------------------------------------------------------------------

    def _queue_enter(self) -> None:
        if self._queue_path is None or self._queue_held is not None:
            return
        in_process = _process_lock(self._queue_path)
        asked = time.perf_counter() if _QUEUE_LOG else 0.0
        if not in_process.acquire(timeout=self._queue_timeout):
            raise OperationalError("database is locked (waited for this process's writers)")
        try:
            if self._queue_fd is None:
                self._queue_fd = os.open(self._queue_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            fcntl.flock(self._queue_fd, fcntl.LOCK_EX)
        except BaseException:
            in_process.release()
            raise
        self._queue_held = in_process
        if _QUEUE_LOG:
            self._queue_times = (asked, time.perf_counter(), time.thread_time())

    def _queue_leave(self) -> None:
        held, self._queue_held = self._queue_held, None
        if held is None:
            return
        left = time.perf_counter() if self._queue_times is not None else 0.0
        try:
            if self._queue_fd is not None:
                fcntl.flock(self._queue_fd, fcntl.LOCK_UN)
        finally:
            held.release()
        if self._queue_times is not None:
            _log_turn(*self._queue_times, left)
            self._queue_times = None

    def _start_transaction_under_autocommit(self):
        self._queue_enter()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._queue_leave()
            raise

    def commit(self):
        try:
            super().commit()
        finally:
            self._queue_leave()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._queue_leave()

    def close(self):
        try:
            super().close()
        finally:
            self._queue_leave()
            if self._queue_fd is not None:
                os.close(self._queue_fd)
                self._queue_fd = None


class _QueuedCursor(base.SQLiteCursorWrapper):
    """Django's SQLite cursor; a write in autocommit mode waits its turn in the writers' queue."""

    wrapper: DatabaseWrapper

    def _alone(self, query) -> bool:
        wrapper = self.wrapper
        return wrapper.autocommit and wrapper._queue_held is None and bool(_WRITE.match(query))

    def execute(self, query, params=None):
        if not self._alone(query):
            return super().execute(query, params)
        self.wrapper._queue_enter()
        try:
            return super().execute(query, params)
        finally:
            self.wrapper._queue_leave()

    def executemany(self, query, param_list):
        if not self._alone(query):
            return super().executemany(query, param_list)
        self.wrapper._queue_enter()
        try:
            return super().executemany(query, param_list)
        finally:
            self.wrapper._queue_leave()


def _log_turn(asked: float, got: float, cpu: float, now: float) -> None:
    """One line of ``WEISHANG_SQLITE_QUEUE_LOG``: this transaction's wait and hold."""
    from weishang.core.requestid import request_id

    cpu_now = time.thread_time()
    line = (
        f"{os.getpid()} {(got - asked) * 1000:.3f} {(now - got) * 1000:.3f} "
        f"{(cpu_now - cpu) * 1000:.3f} {request_id()}\n"
    )
    fd = os.open(_QUEUE_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
