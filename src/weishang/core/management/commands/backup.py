"""``weishang backup [--out DIR_OR_FILE]``: one archive of the database and the uploaded files, with a
manifest (weishang.core.backup; docs/operations.md "Backup and restore")."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from weishang.core.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database (SQLite's online backup or pg_dump) and local media into one .tar.gz with a manifest."

    def add_arguments(self, parser):
        parser.add_argument(
            "--out", default=None, help="a directory, or a file name ending .tar.gz (default var/backups/)"
        )

    def handle(self, *args, out: str | None, **options):
        try:
            result = backup_create(out=out)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        counts = ", ".join(f"{k.split('.')[1]} {v:,}" for k, v in result.manifest["counts"].items())
        self.stdout.write(f"{result.path}  ({result.path.stat().st_size:,} bytes; {counts})")
        if result.manifest["media"] != "included":
            self.stdout.write("Media files are in the S3 bucket: back the bucket up by its own means (versioning).")
