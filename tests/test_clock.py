"""weishang.core.clock: the wall clock unless set; set, it stands still or runs from where it was
put, in every thread of the process; leaving a block (or a test) restores what was before."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from weishang.core import clock

NOON = datetime(2026, 3, 10, 12, 0)  # China time


def test_frozen_stands_still_in_china_time_and_leaving_restores_the_wall_clock():
    assert not clock.is_set()
    with clock.frozen(NOON):
        assert clock.now() == clock.now() == timezone.make_aware(NOON)
        assert clock.localtime().hour == 12
        assert clock.today() == date(2026, 3, 10)
        assert clock.advance(timedelta(hours=12)) == clock.now()
        assert clock.today() == date(2026, 3, 11)  # midnight in China, 16:00 in UTC
    assert not clock.is_set()


def test_a_date_means_its_midnight_and_an_aware_time_keeps_its_zone():
    with clock.frozen(date(2026, 3, 10)):
        assert clock.localtime() == timezone.make_aware(datetime(2026, 3, 10))
    with clock.frozen(datetime(2026, 3, 10, 23, 0, tzinfo=UTC)):
        assert clock.today() == date(2026, 3, 11)


def test_travel_runs_on_from_where_it_was_put():
    with clock.travel(NOON):
        first = clock.now()
        second = clock.now()
        assert timezone.make_aware(NOON) <= first <= second < timezone.make_aware(NOON) + timedelta(minutes=5)
        clock.advance(timedelta(days=1))
        assert clock.today() == date(2026, 3, 11)


def test_blocks_nest_and_each_restores_the_one_before():
    with clock.frozen(NOON):
        with clock.frozen(date(2027, 1, 1)):
            assert clock.today() == date(2027, 1, 1)
        assert clock.now() == timezone.make_aware(NOON)
    assert not clock.is_set()


def test_a_block_left_by_an_exception_restores_the_clock():
    with pytest.raises(ZeroDivisionError), clock.frozen(NOON):
        1 / 0  # noqa: B018
    assert not clock.is_set()


def test_other_threads_see_the_time_set_in_this_one():
    seen = []
    with clock.frozen(NOON):
        worker = threading.Thread(target=lambda: seen.append(clock.now()))
        worker.start()
        worker.join()
    assert seen == [timezone.make_aware(NOON)]


def test_the_wall_clock_cannot_be_advanced():
    with pytest.raises(RuntimeError):
        clock.advance(timedelta(seconds=1))


def test_the_fixture_sets_the_clock_for_the_test(clock):
    assert clock.freeze(NOON) == timezone.make_aware(NOON)
    assert clock.advance(timedelta(seconds=1)) == timezone.make_aware(NOON) + timedelta(seconds=1)
    clock.travel(date(2026, 1, 1))  # on top of the frozen one; both undone at the end
    assert clock.now() >= timezone.make_aware(datetime(2026, 1, 1))
