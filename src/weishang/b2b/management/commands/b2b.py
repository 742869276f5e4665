"""``weishang b2b verify``: the brand's receivables and customer advances in the ledger against
its B2B orders (exit 1 on a difference)."""

from django.core.management.base import BaseCommand, CommandError

from weishang.b2b.services import b2b_verify


class Command(BaseCommand):
    help = "B2B trade: verify the brand's receivables and advances against its orders."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action: str, **options):
        problems = b2b_verify()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError("B2B receivables do not match the ledger.")
        self.stdout.write(self.style.SUCCESS("B2B receivables and advances match the ledger."))
