"""``weishang purchasing``: purchasing's books.

- ``verify``: the suppliers' open bill balances (total − paid) against the ledger's brand payables
  (exit 1 on a difference). Landed costs are paid in cash with the receipt, so payables hold the
  suppliers' bills alone;
- ``owed``: what the brand still owes each supplier.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from weishang.purchasing import selectors
from weishang.purchasing.models import Supplier


class Command(BaseCommand):
    help = "Purchasing: verify the bills against the ledger's payables; what is owed to each supplier."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "owed"])

    def handle(self, *args, action: str, **options):
        if action == "verify":
            problems = selectors.payables_verify()
            for problem in problems:
                self.stderr.write(problem)
            if problems:
                raise CommandError(f"{len(problems)} payables differences")
            self.stdout.write(self.style.SUCCESS("the suppliers' bills match the ledger's payables"))
            return
        for supplier in Supplier.objects.order_by("pk"):
            self.stdout.write(f"{supplier.name}  ¥{selectors.owed_to(supplier)}")
