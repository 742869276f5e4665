"""``weishang orders expire`` — cancel shop orders left unpaid longer than the brand's limit
(``Brand.retail_unpaid_hours``, 24 by default), as the system. Part of the periodic run (cron,
every few minutes, beside ``weishang rewards process|release``); safe to repeat and to run while
payments arrive: each order is checked again under its lock, and a paid order is never cancelled."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime


class Command(BaseCommand):
    help = "Orders: cancel shop orders not paid within the brand's time limit."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["expire"])
        parser.add_argument("--now", help="expire as of this date-time (default: now)")

    def handle(self, *args, action: str, now: str | None = None, **options):
        from weishang.trade.services import retail_orders_expire

        when = parse_datetime(now) if now else None
        if now and when is None:
            raise CommandError(f"--now {now!r} is not a date-time (e.g. 2026-12-04T08:00)")
        if when is not None and timezone.is_naive(when):
            when = timezone.make_aware(when)
        self.stdout.write(f"{retail_orders_expire(now=when)} unpaid shop order(s) expired")
