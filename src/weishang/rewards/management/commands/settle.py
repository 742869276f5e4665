"""``weishang settle --period 2026-11``: settle a finished period's team ladder and target awards.

Idempotent (a rerun changes nothing) and resumable (killed half-way, the next run finishes)."""

from django.core.management.base import BaseCommand, CommandError

from weishang.core.errors import BusinessError


class Command(BaseCommand):
    help = "Settle the period rules of a finished month (2026-11), quarter (2026-Q4) or year (2026)."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True)

    def handle(self, *args, period: str, **options):
        from weishang.rewards.services import settle_period

        try:
            run = settle_period(period=period)
        except BusinessError as exc:
            raise CommandError(str(exc.message)) from None
        ratio = f"{run.payout_ratio:.1%}" if run.payout_ratio is not None else "n/a"
        self.stdout.write(
            self.style.SUCCESS(
                f"{run.period} settled under {run.plan}: {run.lines} line(s), ¥{run.total} on ¥{run.volume} of "
                f"purchases (payout ratio {ratio})"
            )
        )
