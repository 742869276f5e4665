"""``weishang api prune`` — delete Idempotency-Key records past their 24 hours (run it daily)."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "REST API housekeeping: prune expired Idempotency-Key records."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["prune"])

    def handle(self, *args, action: str, **options):
        from weishang.api.idempotency import idempotency_prune

        self.stdout.write(f"{idempotency_prune()} idempotency record(s) deleted")
