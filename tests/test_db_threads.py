"""weishang.core.db_threads: a second connection only outside transactions; jobs in order, each
in its own transaction; the first failure stops the rest and reaches the caller."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction

from weishang.catalog.models import Product
from weishang.core.db_threads import BatchWriter, in_background, threads_allowed


class Boom(Exception):
    pass


def _product(name: str) -> None:
    Product.objects.create(name=name)


def _names() -> list[str]:
    return sorted(Product.objects.values_list("name", flat=True))


@pytest.mark.django_db
def test_no_second_connection_inside_a_transaction():
    assert not threads_allowed()  # the test runs inside atomic(): another connection would not see its rows
    seen = []
    with BatchWriter(parallel=threads_allowed()) as writer:
        writer.submit(lambda: seen.append(threading.current_thread()))
    assert seen == [threading.main_thread()]
    assert in_background(threading.current_thread, parallel=False).result() is threading.main_thread()


@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_commits_each_job_in_order():
    assert threads_allowed()
    threads = []

    def job(name):
        threads.append(threading.current_thread())
        _product(name)

    with BatchWriter(parallel=True, depth=1) as writer:
        for name in ("a", "b", "c"):
            writer.submit(job, name)
    assert _names() == ["a", "b", "c"]
    assert len(set(threads)) == 1 and threads[0] is not threading.main_thread()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("parallel", [True, False])
def test_a_failed_job_is_rolled_back_and_stops_the_rest(parallel):
    def half_then_fail():
        _product("half")
        raise Boom

    with pytest.raises(Boom):
        with BatchWriter(parallel=parallel) as writer:
            writer.submit(_product, "first")
            writer.submit(half_then_fail)
            for i in range(10):  # queued or refused: none of them runs
                writer.submit(_product, f"later-{i}")
    assert _names() == ["first"]  # committed before the failure; "half" rolled back; nothing after


@pytest.mark.django_db(transaction=True)
def test_a_background_query_sees_committed_rows_and_returns_its_error():
    _product("visible")
    assert in_background(_names).result() == ["visible"]
    with pytest.raises(Boom):
        in_background(lambda: (_ for _ in ()).throw(Boom)).result()


@pytest.mark.django_db(transaction=True)
def test_inside_atomic_in_a_transactional_test_nothing_leaves_the_thread():
    with transaction.atomic():
        assert not threads_allowed()
