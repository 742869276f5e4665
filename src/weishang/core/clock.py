"""The one clock: what time it is, for every service, selector, model default and transition.

Domain code asks ``clock.now()`` (an aware datetime, as ``django.utils.timezone.now()``) and
``clock.today()`` / ``clock.localtime()`` (the date and time in the current time zone, China time)
instead of the wall clock. Unless something set it, the clock *is* the wall clock:
``django.utils.timezone.now()``.

Setting it (tests; a command that replays a day)::

    with clock.frozen(datetime(2026, 6, 15, 10, 0)):   # stands still at 10:00 China time
        ...
        clock.advance(timedelta(seconds=1))             # moves the set clock on (frozen or running)
    with clock.travel(datetime(2026, 6, 15, 10, 0)):   # starts there and runs with the wall clock
        ...

A naive datetime is read in the current time zone; a date means its midnight. Blocks nest, and
leaving one restores what was set before it. In tests use the ``clock`` fixture
(tests/conftest.py), which undoes whatever the test set, even when it fails.

Threads: the setting is ONE module-level value shared by every thread of the process, on purpose
— not a ``ContextVar``, whose value would not reach the live server's threads (tests/browser) or
the threads the concurrency tests start, and those must see the time the test set. So set it only
where one thing at a time runs in the process (a test, a command), never while serving requests.
pytest-xdist's workers are processes: each has its own clock. A test that starts other processes
(the PostgreSQL race test) does not carry its setting into them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

__all__ = ["advance", "frozen", "is_set", "localtime", "month_range", "now", "today", "travel"]


@dataclass(frozen=True)
class _Setting:
    at: datetime  # what the clock read when set (or last advanced)
    since: float | None  # time.monotonic() then, for a running clock; None: it stands still

    def read(self) -> datetime:
        if self.since is None:
            return self.at
        return self.at + timedelta(seconds=time.monotonic() - self.since)


_setting: _Setting | None = None  # None: the wall clock
_lock = threading.Lock()  # for the writers; readers take the one reference as it is


def now() -> datetime:
    """The current date-time, aware (UTC, as Django's ``timezone.now()``)."""
    setting = _setting
    return timezone.now() if setting is None else setting.read()


def localtime() -> datetime:
    """The current date-time in the current time zone."""
    return timezone.localtime(now())


def today() -> date:
    """The current date in the current time zone."""
    return timezone.localdate(now())


def month_range(label: str) -> tuple[datetime, datetime]:
    """[start, end) of the month ``YYYY-MM`` in the current time zone (China time): the one
    reading of a month that the growth and health reports share. ``ValueError`` for anything else."""
    text = (label or "").strip()
    if len(text) != 7 or text[4] != "-" or not (text[:4].isdigit() and text[5:].isdigit()):
        raise ValueError(label)
    year, month = int(text[:4]), int(text[5:])
    if not (1 <= month <= 12 and 2000 <= year <= 2200):
        raise ValueError(label)
    start = timezone.make_aware(datetime(year, month, 1))
    end = timezone.make_aware(datetime(year + month // 12, month % 12 + 1, 1))
    return start, end


def is_set() -> bool:
    """Whether a test or a command set the clock (False: it is the wall clock)."""
    return _setting is not None


def _aware(at: datetime | date) -> datetime:
    if not isinstance(at, datetime):
        at = datetime(at.year, at.month, at.day)
    return timezone.make_aware(at) if timezone.is_naive(at) else at


@contextmanager
def _set(setting: _Setting) -> Iterator[None]:
    global _setting
    with _lock:
        before, _setting = _setting, setting
    try:
        yield
    finally:
        with _lock:
            _setting = before


@contextmanager
def frozen(at: datetime | date) -> Iterator[None]:
    """The clock stands at ``at`` inside the block (``advance`` moves it)."""
    with _set(_Setting(_aware(at), None)):
        yield


@contextmanager
def travel(to: datetime | date) -> Iterator[None]:
    """The clock reads ``to`` on entering the block and runs on with the wall clock."""
    with _set(_Setting(_aware(to), time.monotonic())):
        yield


def advance(delta: timedelta) -> datetime:
    """Move the set clock on by ``delta`` (frozen or running); returns the new time. The wall
    clock cannot be moved: set the clock first."""
    global _setting
    with _lock:
        setting = _setting
        if setting is None:
            raise RuntimeError("the clock is the wall clock; set it with clock.frozen() or clock.travel() first")
        running = setting.since is not None
        _setting = _Setting(setting.read() + delta, time.monotonic() if running else None)
        return _setting.at
