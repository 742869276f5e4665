"""Reads compiled once (``weishang.core.prepared``): the same rows and objects as the ORM gives,
the SQL compiled on the first call only, each thread on its own connection, and anything whose
SQL would not stay the same refused before it runs."""

from __future__ import annotations

import threading
from datetime import datetime
from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils.safestring import SafeString

from weishang.channel.models import Agent
from weishang.core.prepared import PreparedQueryError, prepared


@prepared(int)
def agent_with_parents(pk):
    return Agent.objects.select_related("level", "supplier__level", "referrer").filter(pk=pk)


@prepared(str, int)
def agents_by_level(code, rank):
    return Agent.objects.select_related("level").filter(level__code=code, level__rank=rank).order_by("pk")


@pytest.fixture
def chain(make_agent):
    top = make_agent("partner")
    mid = make_agent("city", referrer=top)
    low = make_agent("vip", referrer=mid)
    return top, mid, low


def _shape(agent: Agent) -> tuple:
    supplier = agent.supplier
    return (
        agent.pk,
        agent.invite_code,
        agent.level.code,
        agent.level.entry_amount,
        agent.joined_at,
        supplier and (supplier.pk, supplier.level.code),
        agent.referrer and agent.referrer.real_name,
    )


def test_the_rows_and_their_related_objects_are_the_orms(chain, django_assert_num_queries):
    for agent in chain:
        expected = Agent.objects.select_related("level", "supplier__level", "referrer").get(pk=agent.pk)
        with django_assert_num_queries(1):  # the related objects came with the row
            (found,) = agent_with_parents(agent.pk)
            assert _shape(found) == _shape(expected)
        assert type(found.level.entry_amount) is type(expected.level.entry_amount)
        assert found._state.db == "default" and not found._state.adding
    assert agent_with_parents(10**9) == []
    top, mid, low = chain
    assert [a.pk for a in agents_by_level("city", 4)] == [mid.pk]
    assert agents_by_level("city", 5) == []  # both values reach the statement
    assert [a.pk for a in agents_by_level(SafeString("city"), 4)] == [mid.pk]  # a str from a template
    assert [a.level.code for a in agents_by_level("partner", 1)] == ["partner"]


def test_the_sql_is_compiled_on_the_first_call_only(chain):
    @prepared(int)
    def agent_alone(pk):
        return Agent.objects.select_related("level").filter(pk=pk)

    with mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql) as compiled:
        first = agent_alone(chain[0].pk)
        after_first = compiled.call_count
        with CaptureQueriesContext(connection) as queries:
            second = agent_alone(chain[1].pk)
    assert after_first == 2  # two samples: the statement is the same whatever the values
    assert compiled.call_count == after_first  # the second call compiled nothing
    assert [a.pk for a in first] == [chain[0].pk] and [a.pk for a in second] == [chain[1].pk]
    assert str(chain[1].pk) in queries[0]["sql"]


@pytest.mark.django_db(transaction=True)
def test_each_thread_runs_it_on_its_own_connection(make_agent):
    agents = [make_agent("vip") for _ in range(4)]
    agent_with_parents(agents[0].pk)  # compiled on this thread's connection
    seen: dict[int, tuple] = {}
    errors: list[BaseException] = []

    def read(agent):
        try:
            (found,) = agent_with_parents(agent.pk)
            seen[agent.pk] = (found.invite_code, id(connection.connection))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=read, args=(a,)) for a in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {pk: code for pk, (code, _conn) in seen.items()} == {a.pk: a.invite_code for a in agents}


def test_a_read_whose_sql_would_change_is_refused_before_it_runs(db):
    @prepared(str)
    def by_phone_part(part):
        return Agent.objects.filter(invite_code__contains=part)  # the value is wrapped in %…%

    @prepared(int)
    def ignores_its_value(pk):
        return Agent.objects.filter(pk=1)

    @prepared(str)
    def values_rows(phone):
        return Agent.objects.filter(invite_code=phone).values("pk")

    for read, value in ((by_phone_part, "135"), (ignores_its_value, 1), (values_rows, "135")):
        with pytest.raises(PreparedQueryError):
            read(value)
    with pytest.raises(PreparedQueryError):
        agent_with_parents("1")  # a str where an int was declared
    with pytest.raises(PreparedQueryError):
        agent_with_parents(True)
    with pytest.raises(PreparedQueryError):
        prepared(datetime)


@pytest.mark.skipif(not connection.features.has_select_for_update, reason="SQLite has no row locks")
def test_a_locking_read_outside_a_transaction_is_refused_as_django_refuses_it(chain):
    @prepared(int)
    def locked(pk):
        return Agent.objects.select_for_update(of=("self",)).filter(pk=pk)

    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            assert [a.pk for a in locked(chain[0].pk)] == [chain[0].pk]
        assert "FOR UPDATE" in queries[0]["sql"]
    with pytest.raises(TransactionManagementError):
        with mock.patch.object(connection, "get_autocommit", return_value=True):
            locked(chain[0].pk)
