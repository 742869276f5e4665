"""``weishang volume process|verify|rebuild``: the team-volume rollup (``trade.volume``).

- ``process``: add the order events not read yet (the outbox follower runs after each commit;
  this catches up after a failure or with ``WEISHANG_OUTBOX_INLINE`` off);
- ``verify``: recompute every agent's own and team volume per month from the orders and the
  referrer tree and list the differences (exit 1 on any); ``--fix`` then rebuilds;
- ``rebuild``: replace the rollup with the recomputed figures (after a bulk load of orders).
"""

import time

from django.core.management.base import BaseCommand, CommandError

from weishang.trade.volume import volume_differences, volume_process, volume_rebuild


class Command(BaseCommand):
    help = "Keep, verify or rebuild the monthly team-volume rollup."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["process", "verify", "rebuild"])
        parser.add_argument("--fix", action="store_true", help="verify: rebuild when a difference is found")

    def handle(self, *args, action: str, fix: bool = False, **options):
        started = time.perf_counter()
        if action == "process":
            read = volume_process()
            self.stdout.write(f"{read} order events added to the team volumes")
            return
        if action == "rebuild":
            rows = volume_rebuild()
            self.stdout.write(f"team volumes rebuilt: {rows} rows in {time.perf_counter() - started:.1f} s")
            return
        volume_process()
        problems = volume_differences()
        for problem in problems[:100]:
            self.stderr.write(problem)
        if len(problems) > 100:
            self.stderr.write(f"… and {len(problems) - 100} more")
        if problems and fix:
            rows = volume_rebuild()
            self.stdout.write(f"{len(problems)} differences; team volumes rebuilt: {rows} rows")
            return
        if problems:
            raise CommandError(f"{len(problems)} team-volume differences")
        self.stdout.write(self.style.SUCCESS("every team volume matches the orders"))
