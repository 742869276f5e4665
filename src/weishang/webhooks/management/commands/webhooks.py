"""``weishang webhooks deliver [--loop]`` — send the webhook deliveries that are due (after
turning new outbox events into deliveries); ``weishang webhooks dispatch`` only does the latter.
Safe to run from cron and from several workers at once."""

from __future__ import annotations

import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections


class Command(BaseCommand):
    help = "Outbound webhooks: deliver due deliveries (--loop: keep going, as a worker), or only dispatch."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["deliver", "dispatch"])
        parser.add_argument("--loop", action="store_true", help="keep delivering until stopped (Ctrl-C, SIGTERM)")
        parser.add_argument(
            "--interval", type=float, default=5.0, help="seconds to wait when nothing was due (with --loop; default 5)"
        )
        parser.add_argument("--limit", type=int, default=100, help="deliveries per round (default 100)")

    def handle(self, *args, action: str, loop: bool, interval: float, limit: int, **options):
        from weishang.webhooks.services import webhooks_deliver, webhooks_dispatch

        if action == "dispatch":
            self.stdout.write(f"{webhooks_dispatch()} delivery(ies) made")
            return
        stopping = []
        if loop:  # finish the delivery in hand, then stop
            signal.signal(signal.SIGTERM, lambda *_args: stopping.append(True))
        try:
            while not stopping:
                outcomes = webhooks_deliver(limit=limit)
                if outcomes or not loop:
                    summary = ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())) or "nothing due"
                    self.stdout.write(summary)
                if not loop:
                    return
                close_old_connections()
                if sum(outcomes.values()) < limit and not stopping:
                    time.sleep(max(interval, 0.1))
        except KeyboardInterrupt:
            return
