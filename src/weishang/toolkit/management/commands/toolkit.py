"""weishang toolkit policy --out FILE.pdf · weishang toolkit poster --out FILE.png · weishang toolkit
deck --out FILE.pptx: the launch documents generated from the plan in force (toolkit.selectors)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from weishang.core.errors import BusinessError
from weishang.toolkit import selectors

WHAT = {
    "policy": "the policy document (代理政策说明), a PDF",
    "poster": "the price-table poster for 朋友圈, a PNG",
    "deck": "the pitch deck (招商PPT), a PPTX",
}


class Command(BaseCommand):
    help = "Write the documents generated from the plan in force: policy PDF, price poster PNG, pitch deck PPTX."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for kind, what in WHAT.items():
            command = sub.add_parser(kind, help=f"write {what}")
            command.add_argument("--out", required=True, help="the file to write")
            command.add_argument("--lang", choices=["zh-hans", "en"], default="zh-hans", help="the document's language")

    def handle(self, *args, action: str, out: str, lang: str, **options):
        path = Path(out)
        if not path.parent.is_dir():
            raise CommandError(f"{path.parent}: no such directory")
        with translation.override(lang):
            try:
                document = selectors.document_build(action)
            except BusinessError as exc:
                raise CommandError(str(exc.message)) from None
        path.write_bytes(document.content)
        self.stdout.write(f"{path}: {len(document.content):,} bytes")
