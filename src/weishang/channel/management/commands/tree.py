"""``weishang tree verify`` checks both tree indexes against the parent keys (exit 1 on any
difference); ``weishang tree rebuild`` recomputes them."""

from django.core.management.base import BaseCommand, CommandError

from weishang.channel import tree
from weishang.channel.tree import Relation


class Command(BaseCommand):
    help = "Verify or rebuild the supplier and referrer tree indexes."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "rebuild"])

    def handle(self, *args, action: str, **options):
        if action == "rebuild":
            for relation in Relation:
                try:
                    n = tree.rebuild(relation)
                except tree.CycleError as exc:
                    raise CommandError(f"{relation}: cannot rebuild, the parent keys hold a cycle ({exc})") from exc
                self.stdout.write(f"{relation}: {n} links")
            return
        problems = [p for relation in Relation for p in tree.verify(relation)]
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError("the tree indexes do not match the parent keys; run `weishang tree rebuild`")
        self.stdout.write(self.style.SUCCESS("supplier and referrer trees: every link matches the parent keys"))
