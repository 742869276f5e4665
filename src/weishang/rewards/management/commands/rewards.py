"""``weishang rewards process|release`` — run the reward engine over the outbox; release frozen
rewards that are due (run both from cron or a worker; each is safe to repeat)."""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.dateparse import parse_datetime


class Command(BaseCommand):
    help = "Reward engine: process outbox events, or release frozen rewards that are due."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["process", "release"])
        parser.add_argument("--now", help="release as of this date-time (default: now)")

    def handle(self, *args, action: str, now: str | None = None, **options):
        from weishang.rewards.services import rewards_process, rewards_release

        if action == "process":
            self.stdout.write(f"{rewards_process()} event(s) handled")
            return
        when = parse_datetime(now) if now else None
        if when is not None and timezone.is_naive(when):
            when = timezone.make_aware(when)
        self.stdout.write(f"{rewards_release(now=when)} reward line(s) released")
