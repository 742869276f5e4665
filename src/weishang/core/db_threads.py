"""Database work on a second thread, for the long batch jobs (monthly settlement).

Settlement alternates Python work (the reward engine, building rows) with database work
(one large ``GROUP BY``, tens of thousands of inserts, commits, the WAL checkpoint). Python's
database drivers release the GIL while the database works, so a second thread with its own
connection can run a long query while the caller does something else, and — on PostgreSQL, whose
server works in processes of its own — write batch *n* while the caller computes batch *n + 1*.
(SQLite works inside this process and takes the GIL back after every row it inserts: a writer
thread there only contends with the caller; see docs/decisions.md.) Each thread has its own
Django connection (Django's connections are per thread); this module opens it, and closes it when
the thread is done.

A second connection cannot see the caller's uncommitted rows, and its writes would not be part
of the caller's transaction. So :func:`threads_allowed` is false inside ``transaction.atomic()``
(and for in-memory SQLite); then everything runs on the caller's thread, in order, exactly as
without this module. Batch jobs are written so that both ways give the same rows.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction


def threads_allowed(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether a second connection would see what the caller sees and commit on its own:
    the caller is in autocommit mode (no ``atomic`` block open) and the database is not an
    in-memory SQLite database (which a second connection would not share)."""
    conn = connections[using]
    if conn.in_atomic_block or not conn.get_autocommit():
        return False
    return not (conn.vendor == "sqlite" and conn.is_in_memory_db())


def _on_own_connection[T](fn: Callable[..., T], *args: Any) -> T:
    try:
        return fn(*args)
    finally:
        connections.close_all()  # this thread's connections only


def in_background[T](fn: Callable[..., T], *args: Any, parallel: bool = True) -> Future[T]:
    """Start ``fn(*args)`` on a thread with its own connection and return its future; with
    ``parallel`` false (see :func:`threads_allowed`), call it now and return a done future."""
    future: Future[T] = Future()
    if not parallel:
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # handed to the caller by future.result(), as from a thread
            future.set_exception(exc)
        return future

    def run() -> None:
        try:
            future.set_result(_on_own_connection(fn, *args))
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, name=f"db:{getattr(fn, '__name__', 'job')}", daemon=True).start()
    return future


class BatchWriter:
    """Runs jobs in the order given, each in its own transaction (``transaction.atomic``), on one
    writer thread with its own connection — or on the caller's thread when ``parallel`` is false.

    ``submit`` waits when ``depth`` jobs are already waiting (memory stays bounded). The first job
    that raises stops the writer: the jobs after it are not run (as after a crash at that point:
    what was committed before stays), and the exception is raised again by the next ``submit`` or
    by leaving the ``with`` block. Leaving the block waits for every job to finish.

    ``around``: a context manager factory entered on the writing thread around all the jobs (for
    settings of the writing connection, e.g. how SQLite checkpoints its WAL).
    """

    _STOP = object()

    def __init__(
        self,
        *,
        parallel: bool,
        depth: int = 4,
        name: str = "writer",
        around: Callable[[], AbstractContextManager] = nullcontext,
    ) -> None:
        self.parallel = parallel
        self._jobs: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._raised = False
        self._thread: threading.Thread | None = None
        self._name = name
        self._around = around
        self._inline: AbstractContextManager | None = None

    def __enter__(self) -> BatchWriter:
        if self.parallel:
            self._thread = threading.Thread(target=self._work, name=f"db:{self._name}", daemon=True)
            self._thread.start()
        else:
            self._inline = self._around()
            self._inline.__enter__()
        return self

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._raise_if_failed()
        if not self.parallel:
            with transaction.atomic():
                fn(*args)
            return
        self._jobs.put((fn, args))

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._thread is not None:
            self._jobs.put(self._STOP)
            self._thread.join()
        if self._inline is not None:
            self._inline.__exit__(exc_type, exc, tb)
        if exc_type is None:
            self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None and not self._raised:
            self._raised = True  # once; the writer keeps skipping what is still queued
            raise self._error

    def _work(self) -> None:
        stopped = False
        try:
            with self._around():
                while (job := self._jobs.get()) is not self._STOP:
                    if self._error is not None:
                        continue  # a job failed: drain the queue without running the rest
                    fn, args = job
                    try:
                        with transaction.atomic():
                            fn(*args)
                    except BaseException as exc:
                        self._error = exc
                stopped = True
        except BaseException as exc:  # from ``around`` itself
            self._error = self._error or exc
            while not stopped:  # let the caller's puts and its join finish
                stopped = self._jobs.get() is self._STOP
        finally:
            connections.close_all()
