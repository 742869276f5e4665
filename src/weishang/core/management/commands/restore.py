"""``weishang restore FILE --yes``: replace the database (and local media) with a backup's, after
checking the whole archive (weishang.core.backup; docs/operations.md "Backup and restore")."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from weishang.core.backup import BackupError, backup_read_manifest, backup_restore, restore_check, restore_describe


class Command(BaseCommand):
    help = "Restore a backup made by `weishang backup`: checks it all first, then replaces the database in one step."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="the .tar.gz written by weishang backup")
        parser.add_argument("--yes", action="store_true", help="replace this database without asking")

    def handle(self, *args, archive: str, yes: bool, **options):
        try:
            manifest = backup_read_manifest(archive)
            restore_check(manifest)
            if not yes:
                raise CommandError(restore_describe(manifest) + " Run again with --yes to do it.")
            backup_restore(archive)
        except BackupError as exc:
            raise CommandError(f"{exc} — nothing was changed.") from None
        self.stdout.write(f"Restored the backup of {manifest['created_at']}; migrations applied.")
