"""Backup and restore (M13): ``weishang backup`` and ``weishang restore``.

An archive is one ``.tar.gz``:

1. ``manifest.json`` first: when (UTC), the versions of Weishang, Django and Python, the database
   vendor, every applied migration, the row counts of the tables an operator checks (agents,
   orders, journal entries, stock moves …), whether media is inside, and the SHA-256 of every other
   member;
2. ``database.sqlite3`` — SQLite's online backup API, a consistent copy while writers go on — or
   ``database.pgdump`` — ``pg_dump --format=custom``, one consistent snapshot;
3. ``media/…`` — the uploaded files, when they are on this machine's disk (with an S3 bucket the
   bucket is backed up by its own means; the manifest says so).

The archive is written under a temporary name beside its destination and renamed at the end, so a
full disk or a crash never leaves a partial archive that looks whole.

Restore checks everything before it touches anything — the archive reads, the manifest is there,
every checksum matches, the vendor is this database's, every migration in it is known to this
code — and then replaces the database in one step: SQLite's file by a rename, PostgreSQL's schema
in one transaction. Media is swapped the same way. Then ``migrate`` brings an older backup up to
this code.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import django
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

import weishang

MANIFEST = "manifest.json"
FORMAT = 1
# Tables whose rows the manifest counts, to compare after a restore (app_label.Model).
COUNTED = (
    "channel.Agent",
    "trade.Order",
    "trade.OrderLine",
    "trade.StockMove",
    "ledger.JournalEntry",
    "ledger.JournalLine",
    "rewards.RewardLine",
    "core.OutboxEvent",
)


class BackupError(Exception):
    """Why a backup or restore was refused or failed; nothing was changed."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _counts(cursor=None) -> dict[str, int]:
    """Row counts of the COUNTED tables: through ``cursor`` (a DB-API cursor on the dump, or on the
    snapshot it was taken from), or through Django's connection."""
    from django.apps import apps

    counts = {}
    for label in COUNTED:
        table = apps.get_model(label)._meta.db_table
        if cursor is None:
            counts[label] = apps.get_model(label)._default_manager.count()
        else:
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            counts[label] = cursor.fetchone()[0]
    return counts


def _applied_migrations() -> list[list[str]]:
    recorder = MigrationRecorder(connection)
    return sorted([app, name] for app, name in recorder.applied_migrations())


def _media_on_disk() -> bool:
    backend = settings.STORAGES["default"]["BACKEND"]
    return backend == "django.core.files.storage.FileSystemStorage"


def _pg_env_and_args() -> tuple[dict[str, str], list[str]]:
    db = connection.settings_dict
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])  # never on the command line
    args = ["--dbname", str(db["NAME"])]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    return env, args


def _dump_database(workdir: Path) -> tuple[Path, dict[str, int]]:
    """The dump, and the row counts of exactly what it holds."""
    if connection.vendor == "sqlite":
        target = workdir / "database.sqlite3"
        source = sqlite3.connect(str(connection.settings_dict["NAME"]))
        try:
            with contextlib.closing(sqlite3.connect(str(target))) as copy:
                source.backup(copy)  # online: a consistent copy while writers go on
                return target, _counts(copy.cursor())
        finally:
            source.close()
    if connection.vendor == "postgresql":
        target = workdir / "database.pgdump"
        env, args = _pg_env_and_args()
        # pg_dump reads the snapshot this transaction exports, so the counts are of the same moment.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = _counts(cursor)
            run = subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
                + ["--file", str(target), *args],
                env=env,
                capture_output=True,
                text=True,
            )
        if run.returncode != 0:
            raise BackupError(f"pg_dump failed: {run.stderr.strip()[-500:]}")
        return target, counts
    raise BackupError(f"backups of a {connection.vendor} database are not supported")


def _default_destination() -> Path:
    return Path(settings.VAR_DIR) / "backups"


def backup_create(*, out: str | Path | None = None) -> BackupResult:
    """Write an archive of the database (and local media) to ``out`` (a directory or a file name;
    default ``var/backups/``). Raises BackupError with the reason; leaves no partial file."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    destination = Path(out) if out else _default_destination()
    if destination.suffixes[-2:] != [".tar", ".gz"]:
        destination = destination / f"weishang-{stamp}.tar.gz"
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create {destination.parent}: {exc.strerror}") from None
    if not os.access(destination.parent, os.W_OK):
        raise BackupError(f"cannot write to {destination.parent}: permission denied")
    partial = destination.with_name(f".{destination.name}.partial")
    try:
        with tempfile.TemporaryDirectory(prefix=".weishang-backup-", dir=destination.parent) as tmp:
            workdir = Path(tmp)
            dump, counts = _dump_database(workdir)
            media = Path(settings.MEDIA_ROOT)
            members: list[tuple[str, Path]] = [(dump.name, dump)]
            if _media_on_disk() and media.is_dir():
                for path in sorted(p for p in media.rglob("*") if p.is_file()):
                    members.append((f"media/{path.relative_to(media).as_posix()}", path))
            manifest = {
                "format": FORMAT,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "weishang": weishang.__version__,
                "django": django.get_version(),
                "python": platform.python_version(),
                "vendor": connection.vendor,
                "database": dump.name,
                "migrations": _applied_migrations(),
                "counts": counts,
                "media": "included" if _media_on_disk() else "not included: files are in the S3 bucket",
                "sha256": {name: _sha256(path) for name, path in members},
            }
            with tarfile.open(partial, "w:gz") as tar:
                data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime = len(data), int(datetime.now(UTC).timestamp())
                tar.addfile(info, io.BytesIO(data))
                for name, path in members:
                    tar.add(path, arcname=name, recursive=False)
            with partial.open("rb") as fh:
                os.fsync(fh.fileno())
            os.replace(partial, destination)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise BackupError(f"the backup could not be written to {destination.parent}: {reason}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupResult(path=destination, manifest=manifest)


# --- restore ------------------------------------------------------------------------------------


def backup_read_manifest(path: str | Path) -> dict:
    """The archive's manifest, after checking the archive reads and every checksum matches."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        with tarfile.open(path, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST:
                raise BackupError(f"{path}: not a Weishang backup (no {MANIFEST} first)")
            fh = tar.extractfile(first)
            assert fh is not None
            manifest = json.loads(fh.read().decode())
            seen = {}
            for member in tar:
                if not member.isfile() or member.name == MANIFEST:
                    continue
                digest = hashlib.sha256()
                body = tar.extractfile(member)
                assert body is not None
                while block := body.read(1 << 20):
                    digest.update(block)
                seen[member.name] = digest.hexdigest()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise BackupError(f"{path}: the archive is damaged ({exc})") from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{path}: the manifest is not readable") from None
    expected = manifest.get("sha256") or {}
    if set(seen) != set(expected):
        missing = sorted(set(expected) - set(seen)) or sorted(set(seen) - set(expected))
        raise BackupError(f"{path}: the archive's files do not match its manifest ({', '.join(missing[:3])})")
    bad = sorted(name for name, digest in seen.items() if expected[name] != digest)
    if bad:
        raise BackupError(f"{path}: checksum mismatch in {', '.join(bad[:3])}: the archive was changed or damaged")
    return manifest


def restore_check(manifest: dict) -> None:
    """Refuse an archive this database or this code cannot take."""
    if manifest.get("format") != FORMAT:
        raise BackupError(f"archive format {manifest.get('format')!r} is not {FORMAT}")
    if manifest.get("vendor") != connection.vendor:
        raise BackupError(
            f"the backup is of a {manifest.get('vendor')} database; this one is {connection.vendor}: "
            "restore it into the same kind of database"
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [f"{app}.{name}" for app, name in manifest.get("migrations", []) if (app, name) not in known]
    if unknown:
        raise BackupError(
            f"the backup comes from a newer version of Weishang (migration {unknown[0]} is unknown here): "
            "update the code first"
        )


def restore_describe(manifest: dict) -> str:
    counts = ", ".join(f"{k.split('.')[1]} {v:,}" for k, v in manifest.get("counts", {}).items())
    target = connection.settings_dict["NAME"]
    return (
        f"This replaces the {connection.vendor} database {target} (and the media files) with the backup of "
        f"{manifest.get('created_at')} (Weishang {manifest.get('weishang')}: {counts})."
    )


def backup_restore(path: str | Path) -> dict:
    """Replace this database (and local media) with the archive's. Everything is checked first;
    the database is replaced in one step. Returns the manifest."""
    manifest = backup_read_manifest(path)
    restore_check(manifest)
    with tempfile.TemporaryDirectory(prefix=".weishang-restore-") as tmp:
        workdir = Path(tmp)
        with tarfile.open(path, "r:gz") as tar:
            tar.extractall(workdir, filter="data")
        if connection.vendor == "sqlite":
            _restore_sqlite(workdir / manifest["database"])
        else:
            _restore_postgresql(workdir / manifest["database"])
        if manifest.get("media") == "included":
            _restore_media(workdir / "media")
    connections.close_all()
    call_command("migrate", verbosity=0)
    return manifest


def _restore_sqlite(dump: Path) -> None:
    target = Path(connection.settings_dict["NAME"])
    staged = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(dump, staged)
    check = sqlite3.connect(staged)
    # CHECK constraints made by Django may call REGEXP, which Django's connections define.
    check.create_function(
        "REGEXP", 2, lambda pattern, text: text is not None and re.search(pattern, str(text)) is not None
    )
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if result != "ok":
        staged.unlink(missing_ok=True)
        raise BackupError(f"the backup's database fails SQLite's integrity check: {result}")
    connections.close_all()
    # The old database's write-ahead log belongs to the old file: checkpointed away first.
    with contextlib.closing(sqlite3.connect(target)) as old:
        old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(staged, target)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)


def _restore_postgresql(dump: Path) -> None:
    env, args = _pg_env_and_args()
    connections.close_all()
    sql = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--file", "-", str(dump)], capture_output=True)
    if sql.returncode != 0:
        raise BackupError(f"pg_restore could not read the dump: {sql.stderr.decode(errors='replace')[-500:]}")
    script = b"DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n" + sql.stdout
    run = subprocess.run(
        ["psql", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1", "--file", "-", *args],
        input=script,
        env=env,
        capture_output=True,
    )
    if run.returncode != 0:
        raise BackupError(
            "the restore failed and was rolled back; the database is as it was: "
            + run.stderr.decode(errors="replace")[-500:]
        )


def _restore_media(extracted: Path) -> None:
    media = Path(settings.MEDIA_ROOT)
    media.parent.mkdir(parents=True, exist_ok=True)
    staged = media.with_name(f".{media.name}.restoring")
    shutil.rmtree(staged, ignore_errors=True)
    if extracted.is_dir():
        shutil.copytree(extracted, staged)
    else:
        staged.mkdir()
    old = media.with_name(f".{media.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if media.exists():
        os.replace(media, old)
    os.replace(staged, media)
    shutil.rmtree(old, ignore_errors=True)
