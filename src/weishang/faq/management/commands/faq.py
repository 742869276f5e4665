"""weishang faq search QUERY [--format json|text] · weishang faq import FILE (.md or .xlsx) ·
weishang faq top: the brand's questions and answers from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from weishang.faq import selectors, services


class Command(BaseCommand):
    help = "Search, import or rank the FAQ (百问百答)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        find = sub.add_parser("search", help="the public questions holding every word of QUERY")
        find.add_argument("query")
        find.add_argument("--format", choices=["text", "json"], default="text")
        load = sub.add_parser("import", help="add the questions of a Markdown (.md) or Excel (.xlsx) file")
        load.add_argument("file")
        sub.add_parser("top", help="the most searched queries")

    def handle(self, *args, action, **options):
        if action == "search":
            found = services.faq_search_logged(options["query"])
            if options["format"] == "json":
                rows = [{"category": e.category.name, "question": e.question, "answer": e.answer} for e in found]
                self.stdout.write(json.dumps({"query": options["query"], "results": rows}, ensure_ascii=False))
            else:
                for entry in found:
                    self.stdout.write(f"[{entry.category.name}] {entry.question}\n  {entry.answer}\n")
                if not found:
                    self.stdout.write("(no answer)")
        elif action == "import":
            path = Path(options["file"])
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            try:
                if path.suffix.lower() == ".xlsx":
                    with path.open("rb") as handle:
                        rows = services.parse_xlsx(handle)
                else:
                    rows = services.parse_markdown(path.read_text(encoding="utf-8"))
                count = services.faq_import(rows)
            except services.ImportFailed as exc:
                raise CommandError("\n".join([str(exc.message), *exc.problems])) from exc
            self.stdout.write(f"{count} question(s) imported.")
        else:
            for row in selectors.most_searched():
                self.stdout.write(f"{row['times']:5d}  {row['query']}")
