"""A private PostgreSQL cluster that a test may stop, crash and start (M13 faults).

The shared server (``DATABASE_URL``, 127.0.0.1:5432) serves everyone's tests and must never be
restarted, so a fault test that needs PostgreSQL to go away makes its own cluster: ``initdb`` into
a temporary directory, ``pg_ctl start`` on a free port with the socket in that directory, and
``pg_ctl stop -m immediate`` — the postmaster and its backends killed at once, as a crash or an OOM
kill does, crash recovery from the WAL on the next start — or ``-m fast`` for an orderly restart.

PostgreSQL refuses to run as root: as root (our CI) the cluster belongs to the ``postgres`` user
(``runuser``); as anyone else it belongs to the caller. :func:`unavailable_reason` says why a
machine cannot have one (no ``initdb``, root without a ``postgres`` user or ``runuser``), for a
clear skip on a newcomer's machine.

``fsync=off``: the fault is the database process dying, not the machine losing power, and the OS
page cache survives a killed process, so durability is unchanged for this fault and migrations
run several times faster.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def bin_dir() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: Debian's versioned one (newest), else PATH."""
    versions = [p for p in glob.glob("/usr/lib/postgresql/*/bin") if p.split("/")[-2].isdigit()]
    for candidate in sorted(versions, key=lambda p: int(p.split("/")[-2]), reverse=True):
        if os.access(os.path.join(candidate, "initdb"), os.X_OK) and os.access(
            os.path.join(candidate, "pg_ctl"), os.X_OK
        ):
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    return None


def _run_as() -> list[str] | None:
    """The prefix that runs a command as the cluster's owner ([] for the caller), None if impossible."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    runuser = shutil.which("runuser")
    return [runuser, "-u", "postgres", "--"] if runuser else None


def unavailable_reason() -> str | None:
    if bin_dir() is None:
        return "PostgreSQL's initdb and pg_ctl are not installed (apt install postgresql)"
    if _run_as() is None:
        return "running as root without a 'postgres' user and runuser: initdb cannot run as root"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostgres:
    """One cluster: ``start()``, ``url(name)``, ``create_database(name)``, ``crash()``, ``stop()``,
    ``destroy()``. Use as a context manager to have it destroyed afterwards."""

    def __init__(self) -> None:
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        self.bin = bin_dir()
        self.prefix = _run_as()
        self.dir = Path(tempfile.mkdtemp(prefix="weishang-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = _free_port()
        if self.prefix:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self._as_owner(
            [str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8"],
            "--no-sync",
        )

    def _as_owner(self, command: list[str], *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        run = subprocess.run(
            [*self.prefix, *command, *extra], capture_output=True, text=True, timeout=120, cwd=self.dir
        )
        if check and run.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {run.stdout[-2000:]}{run.stderr[-2000:]}")
        return run

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), *args], check=check)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        self._pg_ctl("-o", options, "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: an orderly shutdown (clients told, connections closed); ``immediate``: every
        server process killed at once, crash recovery on the next start."""
        self._pg_ctl("-m", mode, "-w", "-t", "60", "stop")

    def crash(self) -> None:
        self.stop("immediate")

    def running(self) -> bool:
        return self._pg_ctl("status", check=False).returncode == 0

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def wait_ready(self, timeout: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url(), connect_timeout=2) as conn:
                    conn.execute("select 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            self._pg_ctl("-m", "immediate", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.destroy()
