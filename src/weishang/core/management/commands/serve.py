"""``weishang serve``: serve Weishang.

- Without ``--prod`` (``make run``): Django's development server on 127.0.0.1:8000, no reloader,
  and one ``weishang worker`` beside it (the periodic jobs and the outbox's follow-up work),
  stopped with the server (``--no-worker``: none). In production the workers are their own
  service (docs/operations.md).
- ``--prod``: gunicorn, the production WSGI server (docs/decisions.md says why gunicorn): the
  system checks first (serving refuses to start on an error), ``collectstatic`` (WhiteNoise then
  serves the compressed, content-named files), then gunicorn replaces this process, so that a
  process manager's signals reach it: ``--workers`` processes (default: two per core) of
  ``--threads`` threads each, requests over ``--timeout`` seconds ended, each worker replaced after
  about 2,000 requests, the access log on standard output with each request's id.
"""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms id=%({x-request-id}o)s'


def gunicorn_argv(*, addr: str, workers: int, threads: int, timeout: int) -> list[str]:
    """The gunicorn command line ``serve --prod`` runs."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "weishang.wsgi:application",
        "--bind",
        addr,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--timeout",
        str(timeout),
        "--graceful-timeout",
        "30",
        "--max-requests",
        "2000",
        "--max-requests-jitter",
        "200",
        "--access-logfile",
        "-",
        "--access-logformat",
        ACCESS_LOG_FORMAT,
        "--forwarded-allow-ips",
        os.environ.get("WEISHANG_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        # gunicorn's control socket beside the data, not one per machine in the home directory.
        "--control-socket",
        str(settings.VAR_DIR / "gunicorn.ctl"),
    ]


class Command(BaseCommand):
    help = "Serve Weishang: the development server, or with --prod the production server (gunicorn)."
    requires_system_checks: list[str] = []  # --prod runs them itself, with the deploy checks

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="HOST:PORT (default 127.0.0.1:8000)")
        parser.add_argument("--reload", action="store_true", help="restart when code changes (development)")
        parser.add_argument("--prod", action="store_true", help="serve with gunicorn, as in production")
        parser.add_argument("--workers", type=int, default=0, help="worker processes (default: two per core)")
        parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
        parser.add_argument("--timeout", type=int, default=30, help="seconds a request may take (default 30)")
        parser.add_argument(
            "--no-worker", action="store_true", help="development: do not start a background worker beside the server"
        )

    def handle(self, *args, addr: str, reload: bool, prod: bool, workers: int, threads: int, timeout: int, **options):
        if not prod:
            self.check(display_num_errors=False)
            self.stdout.write(
                f"Weishang on http://{addr}/  —  agents: /m/  ·  console: /console/  ·  API: /api/v1/docs"
            )
            worker = None if options.get("no_worker") else _start_worker()
            try:
                call_command("runserver", addr, use_reloader=reload, insecure_serving=True)
            finally:
                if worker is not None:
                    worker.terminate()  # SIGTERM: it finishes the task in hand, then stops
                    try:
                        worker.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        worker.kill()
            return
        if min(threads, timeout) < 1 or workers < 0:
            raise CommandError("--workers, --threads and --timeout must be positive.")
        if not _importable("gunicorn"):
            raise CommandError("gunicorn is not installed: run `make setup`.")
        self.check(include_deployment_checks=not settings.DEBUG, display_num_errors=True)
        call_command("collectstatic", interactive=False, verbosity=0)
        workers = workers or max(2, 2 * (os.cpu_count() or 1))
        self.stdout.write(f"Weishang (gunicorn, {workers}×{threads}) on http://{addr}/  —  health: /healthz, /readyz")
        self.stdout.flush()
        argv = gunicorn_argv(addr=addr, workers=workers, threads=threads, timeout=timeout)
        os.execv(argv[0], argv)


def _start_worker() -> subprocess.Popen:
    """``weishang worker`` as a child of the development server, its output on the server's."""
    return subprocess.Popen([sys.executable, "-m", "weishang.cli", "worker", "--worker-id", f"dev-{os.getpid()}"])


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
