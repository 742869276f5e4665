"""``weishang worker``: run background jobs — the schedule (jobs/schedule.py), tasks enqueued by
the app, and the outbox's consumers. Run one or more beside the web processes (docs/operations.md)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from weishang.jobs.worker import Worker


class Command(BaseCommand):
    help = "Run background jobs: the periodic schedule, enqueued tasks and the outbox's consumers."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run what is ready now, then exit (cron, tests)")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds to wait when idle (default 2)")
        parser.add_argument(
            "--lease", type=float, default=60.0, help="seconds a silent worker keeps its task (default 60)"
        )
        parser.add_argument("--queue", action="append", help="only these queues (default: all)")
        parser.add_argument("--no-schedule", action="store_true", help="do not enqueue the periodic jobs")
        parser.add_argument("--no-follow", action="store_true", help="do not follow the outbox between tasks")
        parser.add_argument("--worker-id", default="", help="a name unique among the workers (default: random)")

    def handle(self, *args, once, interval, lease, queue, no_schedule, no_follow, worker_id, **options):
        if not (0 < interval <= 3600) or not (5 <= lease <= 86400):
            raise CommandError("--interval must be in (0, 3600] and --lease in [5, 86400] seconds")
        if options["verbosity"] >= 1 and not logging.getLogger("weishang").handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        worker = Worker(
            worker_id=worker_id[:64],
            interval=interval,
            lease=timedelta(seconds=lease),
            queues=queue,
            schedule=not no_schedule,
            follow=not no_follow,
        )
        if not once:
            worker.install_signals()
        try:
            ran = worker.run(once=once)
        finally:
            connections.close_all()
        self.stdout.write(f"{ran} task(s) run, {worker.events_followed} outbox event(s) handled")
