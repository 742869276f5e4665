"""Backup and restore (weishang.core.backup, M13), as an operator runs them: `weishang backup` while the
brand is writing, then `weishang restore` into another database, then the three verifiers on it.
Refusals change nothing; a full disk leaves no archive behind."""

from __future__ import annotations

import errno
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from weishang.core import backup

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
WEISHANG = [sys.executable, "-m", "weishang.cli"]

SEED = textwrap.dedent(
    """
    import django; django.setup()
    from django.db import transaction
    from weishang.core.models import Brand
    from weishang.demo import services as demo
    with transaction.atomic():
        Brand.objects.create(name=demo.BRAND_NAME, currency="CNY", timezone="Asia/Shanghai", jurisdiction="cn")
        demo.load_agents(n=300, seed=3, levels=demo._catalog(), wave=10, wave_share=0.8)
    """
)
# Money and stock moving until told to stop: a unit received, a wallet topped up, each its own
# transaction, as orders and payments would.
WRITER = textwrap.dedent(
    """
    import sys, time, django; django.setup()
    from pathlib import Path
    from django.db import transaction
    from weishang.catalog.models import SKU
    from weishang.channel.models import Agent
    from weishang.ledger import services as ledger
    from weishang.ledger.models import Purpose
    from weishang.trade import stock
    from weishang.trade.models import LocationKind, StockReason
    stop = Path(sys.argv[1])
    sku = SKU.objects.order_by("pk").first()
    agents = list(Agent.objects.order_by("pk")[:50])
    warehouse = stock.location_singleton(LocationKind.WAREHOUSE)
    supplier = stock.location_singleton(LocationKind.SUPPLIER)
    cash = ledger.account_for(owner=None, purpose=Purpose.BRAND_CASH)
    i = 0
    while not stop.exists() and i < 5000:
        with transaction.atomic():
            stock.stock_move(moves=[stock.Move(supplier, warehouse, sku, 1)], reason=StockReason.RECEIPT, note="w")
            wallet = ledger.account_for(owner=agents[i % len(agents)], purpose=Purpose.AGENT_WALLET)
            ledger.journal_post(kind="wallet_topup", memo="w", lines=[ledger.debit(cash, 1), ledger.credit(wallet, 1)])
        i += 1
        print(i, flush=True)
    """
)


def _env(database_url: str, var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "WEISHANG_"))}
    return {
        **env,
        "DATABASE_URL": database_url,
        "WEISHANG_VAR": str(var),
        "DJANGO_SETTINGS_MODULE": "weishang.settings",
    }


def _weishang(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    run = subprocess.run([*WEISHANG, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if check:
        assert run.returncode == 0, run.stdout + run.stderr
    return run


def _copy_test_database(path: Path) -> None:
    """The migrated test database, copied: a fresh, migrated SQLite database in no time."""
    source = sqlite3.connect(connection.settings_dict["NAME"])
    with sqlite3.connect(path) as target:
        source.backup(target)
    source.close()


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        fh = tar.extractfile(backup.MANIFEST)
        assert fh is not None
        return json.loads(fh.read())


def _backup_during_writes_then_restore(source_env: dict, target_env: dict, tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-c", SEED], env=source_env, cwd=ROOT, check=True, timeout=300)
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(stop)], env=source_env, cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None
        while int(writer.stdout.readline() or 0) < 20:  # writing for a while
            assert writer.poll() is None
        made = _weishang(source_env, "backup", "--out", str(tmp_path / "backups"))
        written_during = int(writer.stdout.readline() or 0)
    finally:
        stop.touch()
        writer.communicate(timeout=60)
    assert writer.returncode == 0 and written_during > 20
    archive = next((tmp_path / "backups").glob("weishang-*.tar.gz"))
    assert str(archive) in made.stdout
    manifest = _manifest(archive)
    assert manifest["vendor"] == target_env["VENDOR"] and ["core", "0001_initial"] in manifest["migrations"]

    refused = _weishang(target_env, "restore", str(archive), check=False)
    assert refused.returncode != 0 and "--yes" in refused.stderr
    _weishang(target_env, "restore", str(archive), "--yes")
    for verify in (("ledger", "verify"), ("stock", "verify"), ("tree", "verify")):
        _weishang(target_env, *verify)
    counts = _weishang(
        target_env,
        "shell",
        "-c",
        "import json; from weishang.core.backup import _counts; print(json.dumps(_counts()))",
    )
    # Exactly the moment the backup caught: not the writes that came after it.
    assert json.loads(counts.stdout.strip().splitlines()[-1]) == manifest["counts"]
    assert manifest["counts"]["ledger.JournalEntry"] >= 20


def test_sqlite_backup_during_writes_restores_clean(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's form; the PostgreSQL form runs on PostgreSQL")
    source, target = tmp_path / "source.sqlite3", tmp_path / "target.sqlite3"
    _copy_test_database(source)
    _backup_during_writes_then_restore(
        _env(f"sqlite:///{source}", tmp_path / "var-source"),
        {**_env(f"sqlite:///{target}", tmp_path / "var-target"), "VENDOR": "sqlite"},
        tmp_path,
    )


def test_postgresql_backup_during_writes_restores_clean(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("the suite runs on SQLite; the PostgreSQL form runs when DATABASE_URL is PostgreSQL")
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    names = [f"test_backup_src_{os.getpid()}", f"test_backup_dst_{os.getpid()}"]
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
    try:
        source_env = _env(urlunsplit(parts._replace(path=f"/{names[0]}")), tmp_path / "var-source")
        target_env = {**_env(urlunsplit(parts._replace(path=f"/{names[1]}")), tmp_path / "var-target")}
        _weishang(source_env, "migrate", "-v", "0")
        _backup_during_writes_then_restore(source_env, {**target_env, "VENDOR": "postgresql"}, tmp_path)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- refusals: each changes nothing ----------------------------------------------------------


@pytest.fixture
def made(tmp_path):
    """An archive of a small SQLite database, and another database that a restore would replace."""
    if connection.vendor != "sqlite":
        pytest.skip("shown on SQLite files")
    source, target = tmp_path / "source.sqlite3", tmp_path / "target.sqlite3"
    _copy_test_database(source)
    _copy_test_database(target)
    _weishang(_env(f"sqlite:///{source}", tmp_path / "var-source"), "backup", "--out", str(tmp_path / "b.tar.gz"))
    return tmp_path / "b.tar.gz", _env(f"sqlite:///{target}", tmp_path / "var-target"), target


def _rewrite(archive: Path, out: Path, *, manifest=None, database: bytes | None = None) -> Path:
    with tarfile.open(archive, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar]  # type: ignore[union-attr]
    with tarfile.open(out, "w:gz") as tar:
        for member, body in members:
            if member.name == backup.MANIFEST and manifest is not None:
                body = json.dumps(manifest(json.loads(body))).encode()
            elif member.name.startswith("database.") and database is not None:
                body = database
            member.size = len(body)
            tar.addfile(member, io.BytesIO(body))
    return out


def _refused(env: dict, archive: Path, target: Path, reason: str) -> None:
    before = target.read_bytes()
    run = _weishang(env, "restore", str(archive), "--yes", check=False)
    assert run.returncode != 0 and reason in run.stderr and "nothing was changed" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert target.read_bytes() == before


def test_a_changed_database_in_the_archive_is_refused(made, tmp_path):
    archive, env, target = made
    tampered = _rewrite(archive, tmp_path / "t.tar.gz", database=b"SQLite format 3\x00" + b"\x00" * 4000)
    _refused(env, tampered, target, "checksum mismatch in database.sqlite3")


def test_a_backup_from_newer_code_is_refused(made, tmp_path):
    archive, env, target = made

    def newer(manifest):
        manifest["migrations"].append(["trade", "9999_from_the_future"])
        return manifest

    _refused(
        env, _rewrite(archive, tmp_path / "n.tar.gz", manifest=newer), target, "migration trade.9999_from_the_future"
    )


def test_a_truncated_or_foreign_file_is_refused(made, tmp_path):
    archive, env, target = made
    truncated = tmp_path / "cut.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    _refused(env, truncated, target, "the archive is damaged")
    foreign = tmp_path / "photo.tar.gz"
    foreign.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    _refused(env, foreign, target, "the archive is damaged")


def test_restore_without_yes_says_what_it_would_replace(made):
    archive, env, target = made
    before = target.read_bytes()
    run = _weishang(env, "restore", str(archive), check=False)
    assert run.returncode != 0 and "This replaces the sqlite database" in run.stderr and "--yes" in run.stderr
    assert target.read_bytes() == before


# --- faults while backing up -------------------------------------------------------------------


def test_a_full_disk_leaves_no_archive(tmp_path, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("shown on SQLite")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(tarfile.TarFile, "addfile", full)
    with pytest.raises(backup.BackupError, match="No space left on device"):
        backup.backup_create(out=tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_an_unusable_destination_is_refused(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("shown on SQLite")
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(backup.BackupError, match="cannot create"):
        backup.backup_create(out=tmp_path / "a-file" / "backups")
    started = time.time()
    assert not any(p.stat().st_mtime >= started for p in tmp_path.rglob("*.tar.gz"))
