"""The machinery of a long, resumable batch job (the monthly settlement): how to make the
database fast for it, so that the job itself says only what to write.

A job runs inside :class:`BatchJob` (a context manager) and writes its batches through the
writers it hands out (:meth:`BatchJob.writer`):

- Python's cyclic garbage collector is paused for the job and enabled again when it ends,
  however it ends (:func:`collector_paused`);
- each writer is a :class:`~weishang.core.db_threads.BatchWriter`: every batch in its own
  transaction, on a writer thread with its own connection on PostgreSQL outside a transaction
  (the server works in processes of its own, so writing overlaps the job's Python work), on the
  caller's thread in order on SQLite or inside a caller's transaction (SQLite works inside this
  process, under the GIL: a thread there only contends with the job);
- each batch's transaction commits without waiting for its WAL flush (PostgreSQL's
  ``SET LOCAL synchronous_commit TO OFF``, :func:`resumable_commit`): a server crash may undo the
  last batches committed, never part of one, and a resumable job writes them again when rerun;
- a writer made with ``checkpoint_once`` turns SQLite's automatic WAL checkpoints off on its
  connection while it writes and checkpoints once at the end, restoring the setting
  (:func:`one_checkpoint`).

Either way each batch is one transaction and the same rows are written.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from django.db import connection

from weishang.core.db_threads import BatchWriter, threads_allowed


class BatchJob:
    """``with BatchJob() as job:`` — the garbage collector paused for the job; ``job.writer(name)``
    for each stream of batches the job writes."""

    def __init__(self) -> None:
        self._paused: AbstractContextManager[None] | None = None
        self.parallel = False

    def __enter__(self) -> BatchJob:
        self._paused = collector_paused()
        self._paused.__enter__()
        # Writer threads only on PostgreSQL, and only where a second connection sees what the
        # caller sees and commits on its own (not inside a transaction).
        self.parallel = connection.vendor == "postgresql" and threads_allowed()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._paused is not None:
            self._paused.__exit__(exc_type, exc, tb)
            self._paused = None

    def writer(self, name: str, *, checkpoint_once: bool = False, depth: int = 4) -> ResumableWriter:
        """A writer of batches (``with job.writer("lines") as w: w.submit(fn, *args)``): each
        ``fn(*args)`` in its own transaction, committed without waiting for its flush; on a writer
        thread when the job allows it. ``checkpoint_once``: SQLite checkpoints its WAL once, when
        the writer is done (see :func:`one_checkpoint`)."""
        around: Callable[[], AbstractContextManager[Any]] = one_checkpoint if checkpoint_once else nullcontext
        return ResumableWriter(parallel=self.parallel, depth=depth, name=name, around=around)


class ResumableWriter(BatchWriter):
    """A :class:`BatchWriter` whose every job's transaction commits without waiting for its WAL
    flush (:func:`resumable_commit`)."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        super().submit(_resumably, fn, *args)


def _resumably(fn: Callable[..., Any], *args: Any) -> None:
    resumable_commit()
    fn(*args)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a batch job runs. A settlement builds a few
    hundred thousand long-lived containers (every agent's parents, children and figures, the
    engine's lines, their rows), which each collection would traverse again: a tenth of the
    run's time. Nothing is kept longer: reference counting frees what the run no longer needs as
    usual (it makes no reference cycles), and the collector, enabled again at the end, takes any
    cycle left behind."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def one_checkpoint() -> Iterator[None]:
    """SQLite: no WAL checkpoint every 1,000 pages while a batch job writes (a settlement writes
    some 50 MB of lines, reports and ledger rows: a dozen checkpoints, each copying pages that the
    next batches change again, each syncing the files twice), one when it is done; the setting is
    restored, also on error. The writing connection only; the checkpoint is part of the job's
    time. PostgreSQL: nothing to do."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        (pages,) = cursor.fetchone()
        cursor.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
            if not connection.in_atomic_block:  # (inside a caller's transaction the next commit checkpoints)
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


def resumable_commit() -> None:
    """This transaction (one batch of a resumable job) commits without waiting for its WAL flush
    (PostgreSQL's ``synchronous_commit = off``, for this transaction only): a server crash may
    undo the last batches committed, never part of one, and the job, resumable, writes them again
    when rerun. The job marks itself finished by an ordinary (synchronous) commit. (SQLite: WAL
    with ``synchronous=NORMAL`` already commits without a sync, with the same guarantee.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
