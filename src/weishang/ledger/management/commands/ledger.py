"""``weishang ledger verify``: recompute every balance from the journal and check every entry
(exit 1 with a line per problem; ``ledger ok: N entries, M accounts`` otherwise)."""

from django.core.management.base import BaseCommand, CommandError

from weishang.ledger.selectors import ledger_counts, ledger_verify


class Command(BaseCommand):
    help = "Verify the ledger: cached balances against the journal lines, balanced entries, mirrored reversals."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action: str, **options):
        problems = ledger_verify()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} ledger problems")
        entries, accounts = ledger_counts()
        self.stdout.write(self.style.SUCCESS(f"ledger ok: {entries} entries, {accounts} accounts"))
