"""``weishang stock verify``: recompute every on-hand figure from the stock moves (exit 1 on a difference)."""

from django.core.management.base import BaseCommand, CommandError

from weishang.trade.stock import stock_verify


class Command(BaseCommand):
    help = "Verify cached stock levels against the stock moves."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action: str, **options):
        problems = stock_verify()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} stock differences")
        self.stdout.write(self.style.SUCCESS("every stock level matches its moves"))
