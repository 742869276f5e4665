"""``weishang worker``'s loop: enqueue the schedule's due slots, put back dead workers' tasks,
run the next ready task, and between tasks follow the outbox.

While a task runs, a thread beats for the worker every ``lease / 4`` seconds, so a settlement that
takes minutes is never mistaken for a dead worker; a worker silent for a whole lease (killed,
frozen, cut off from the database) loses its task to the next worker that looks. SIGTERM or
Ctrl-C finishes the task in hand and stops; a second one stops at once (the task is then put back
after the lease, as for a kill).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from datetime import timedelta

from django.db import close_old_connections, connection, connections
from django.tasks import TaskContext

from weishang.core.outbox import outbox_consumers_run
from weishang.jobs import services

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        *,
        worker_id: str = "",
        interval: float = 2.0,
        lease: timedelta = timedelta(seconds=60),
        queues: list[str] | None = None,
        schedule: bool = True,
        follow: bool = True,
    ):
        self.worker_id = worker_id or f"w-{uuid.uuid4().hex[:12]}"
        self.interval = interval
        self.lease = lease
        self.queues = queues
        self.schedule = schedule
        self.follow = follow
        self.stopping = threading.Event()
        self.tasks_run = 0
        self.events_followed = 0
        self._last_recover = 0.0
        self._last_beat = 0.0

    # --- signals ---
    def _stop(self, signum, _frame) -> None:
        if self.stopping.is_set():
            log.warning("second %s: stopping now", signal.Signals(signum).name)
            raise SystemExit(1)
        log.info("%s: finishing the task in hand, then stopping", signal.Signals(signum).name)
        self.stopping.set()

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    # --- the loop ---
    def run(self, *, once: bool = False) -> int:
        """Work until stopped; with ``once``, until nothing is ready and the outbox is read.
        Returns how many tasks ran."""
        services.worker_beat(worker_id=self.worker_id)
        log.info(
            "worker %s started (lease %ss, interval %ss)", self.worker_id, self.lease.total_seconds(), self.interval
        )
        try:
            while not self.stopping.is_set():
                if not connection.in_atomic_block:  # (the demo runs it inside its transaction)
                    close_old_connections()  # a connection past its age or broken is reopened
                if self.schedule:
                    services.schedule_enqueue_due()
                if time.monotonic() - self._last_recover >= self.lease.total_seconds() / 4:
                    services.tasks_recover(lease=self.lease)
                    self._last_recover = time.monotonic()
                result = services.task_claim(worker_id=self.worker_id, queues=self.queues)
                if result is not None:
                    self.run_task(result)
                    continue
                followed = outbox_consumers_run() if self.follow else 0
                self.events_followed += followed
                if time.monotonic() - self._last_beat >= self.lease.total_seconds() / 4:
                    services.worker_beat(worker_id=self.worker_id)
                    self._last_beat = time.monotonic()
                if once and not followed:
                    break
                if not followed:
                    self.stopping.wait(self.interval)
        finally:
            services.worker_beat(worker_id=self.worker_id, stopped=True)
        log.info("worker %s stopped after %s task(s)", self.worker_id, self.tasks_run)
        return self.tasks_run

    def run_task(self, result) -> None:
        beating = threading.Event()
        beat = threading.Thread(target=self._beat_while, args=(beating, str(result.id)), daemon=True)
        beat.start()
        log.info("task %s %s: attempt %s", result.id, result.task_path, len(result.worker_ids))
        try:
            task = result.task
            task_result = result.task_result
            if task.takes_context:
                value = task.call(TaskContext(task_result=task_result), *task_result.args, **task_result.kwargs)
            else:
                value = task.call(*task_result.args, **task_result.kwargs)
        except Exception as error:  # recorded with the task; retried after a pause or failed
            log.exception("task %s %s raised", result.id, result.task_path)
            beating.set()
            beat.join()
            services.task_failed(result=result, error=error)
        else:
            beating.set()
            beat.join()
            result.set_successful(value)
            log.info("task %s %s done: %s", result.id, result.task_path, value)
        finally:
            beating.set()
            self.tasks_run += 1
            services.worker_beat(worker_id=self.worker_id)

    def _beat_while(self, done: threading.Event, task_id: str) -> None:
        try:
            while not done.wait(self.lease.total_seconds() / 4):
                try:
                    services.worker_beat(worker_id=self.worker_id, task_id=task_id)
                except Exception:  # a beat missed (the database busy) is made up by the next
                    log.warning("worker %s could not beat", self.worker_id, exc_info=True)
        finally:
            connections.close_all()
