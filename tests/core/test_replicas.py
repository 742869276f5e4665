"""Read replicas (core.replicas): reports and exports read from a replica, everything else and every
write from the primary. The end-to-end test runs the real command in a process with a primary and a
"replica" that differ by one offer, and reads which one the report saw."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings

from weishang.channel.models import Agent
from weishang.core import clock
from weishang.core.replicas import ReplicaRouter, replica_aliases, replica_reads
from weishang.promotions.models import CouponOffer

TWO_REPLICAS = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "p"},
    "replica1": {"ENGINE": "django.db.backends.sqlite3", "NAME": "r1"},
    "replica2": {"ENGINE": "django.db.backends.sqlite3", "NAME": "r2"},
}


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_reads_go_to_a_replica_only_inside_replica_reads():
    router = ReplicaRouter()
    with override_settings(DATABASES=TWO_REPLICAS):
        assert replica_aliases() == ["replica1", "replica2"]
        assert router.db_for_read(Agent) is None  # the primary
        with replica_reads():
            assert {router.db_for_read(Agent) for _ in range(50)} == {"replica1", "replica2"}
            # Writes never go to a replica, even for an object read from one.
            assert router.db_for_write(Agent) == "default"
        assert router.db_for_read(Agent) is None
        assert router.allow_migrate("replica1", "channel") is False
        assert router.allow_migrate("default", "channel") is None


def test_without_replicas_replica_reads_changes_nothing():
    with replica_reads():
        assert replica_aliases() == []
        assert ReplicaRouter().db_for_read(Agent) is None


def _offer(name: str) -> CouponOffer:
    now = clock.now()
    return CouponOffer.objects.create(
        name=name,
        amount_off=10,
        valid_from=now,
        valid_to=now + timedelta(days=7),
        total_quantity=100,
    )


@pytest.mark.django_db(transaction=True)
def test_the_promotions_report_reads_the_replica(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the routing is the same on every database; shown here on two SQLite files")
    _offer("主库的券")
    primary, replica = tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"
    for path in (primary, replica):
        source = sqlite3.connect(connection.settings_dict["NAME"])
        with sqlite3.connect(path) as target:
            source.backup(target)
        source.close()
    # The replica has one more offer than the primary (a write the primary lost, say).
    with sqlite3.connect(replica) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(promotions_couponoffer)")]
        copied = ", ".join(c for c in columns if c not in {"id", "name"})
        db.execute(
            f"INSERT INTO promotions_couponoffer (name, {copied}) "
            f"SELECT '只在副本的券', {copied} FROM promotions_couponoffer LIMIT 1"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["DATABASE_URL"] = f"sqlite:///{primary}"

    def report(**extra: str) -> set[str]:
        out = subprocess.run(
            [sys.executable, "-m", "weishang.cli", "promotions", "report"],
            env={**env, **extra},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return {row["name"] for row in json.loads(out)}

    assert report() == {"主库的券"}
    assert report(WEISHANG_REPLICA_URLS=f"sqlite:///{replica}") == {"主库的券", "只在副本的券"}
