"""PostgreSQL prepares what a connection runs again (settings.POSTGRES_OPTIONS): after
``WEISHANG_PG_PREPARE_THRESHOLD`` runs of one statement, the server keeps its plan and the next
runs skip parsing and planning. Read from PostgreSQL's own view of the session's prepared
statements, with the ORM's queries as the application sends them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from weishang.channel.models import Level

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements"),
]


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_query_run_again_is_prepared_once_and_answers_with_each_runs_values(levels):
    assert connection.connection.prepare_threshold == 5
    before = [s for s in prepared_statements() if '"channel_level"' in s]
    assert before == []
    seen = []
    for rank in (1, 2, 3, 4, 5, 1, 2, 3):
        seen.append(Level.objects.filter(rank=rank).values_list("code", flat=True).get())
    assert seen == ["partner", "general", "province", "city", "vip", "partner", "general", "province"]
    after = [s for s in prepared_statements() if '"channel_level"' in s]
    assert len(after) == 1
    assert "$1" in after[0]  # the value is a parameter, bound by the server: one plan for every rank


def test_a_value_the_server_binds_keeps_its_type_and_precision(levels):
    """Money goes to the server as a numeric parameter, not as text pasted into the SQL."""
    for _ in range(7):
        Level.objects.filter(code="vip").update(entry_amount=Decimal("298.05"))
    assert Level.objects.get(code="vip").entry_amount == Decimal("298.05")
    assert Level.objects.filter(entry_amount__gt=Decimal("298.049")).filter(code="vip").exists()
