"""Shared fixtures: the five demo levels and a factory for agents made through the services."""

from __future__ import annotations

import itertools
import os
import random
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from weishang.channel import services
from weishang.channel.models import Approver, Level

_phones = itertools.count(1)


@pytest.fixture
def levels(db) -> dict[str, Level]:
    """联创 (rank 1) … 特约 (rank 5), as in the demo brand."""
    spec = [
        ("partner", "联创", 1, "100000", "0.30", 100, Approver.BRAND),
        ("general", "总代", 2, "20000", "0.40", 20, Approver.BRAND),
        ("province", "省代", 3, "6000", "0.50", 10, Approver.SUPPLIER),
        ("city", "市代", 4, "2000", "0.60", 5, Approver.SUPPLIER),
        ("vip", "特约", 5, "298", "0.80", 1, Approver.SUPPLIER),
    ]
    return {
        code: Level.objects.create(
            code=code,
            name=name,
            rank=rank,
            entry_amount=Decimal(entry),
            discount=Decimal(discount),
            min_restock_qty=min_qty,
            approver=approver,
        )
        for code, name, rank, entry, discount, min_qty, approver in spec
    }


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    """Password hashing at test speed (the real hasher is slow by design)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def next_phone() -> str:
    return f"135{next(_phones):08d}"


@pytest.fixture
def make_agent(levels):
    """make_agent("vip", referrer=a) -> an active agent created by channel.services.agent_create."""

    def make(level: str = "vip", *, referrer=None, supplier="auto", password: str = "pass-word-1", **kw):
        return services.agent_create(
            phone=kw.pop("phone", None) or next_phone(),
            real_name=kw.pop("real_name", f"代理{next(_phones)}"),
            level=levels[level],
            referrer=referrer,
            supplier=supplier,
            password=password,
            entry_paid=kw.pop("entry_paid", True),
            **kw,
        )

    return make


@pytest.fixture(autouse=True)
def fresh_cache():
    """Counts kept in Django's cache (rate limits, text messages per address) start at zero in
    each test, as the database does."""
    from django.core.cache import caches

    for each in caches.all():
        each.clear()
    yield
    for each in caches.all():
        each.clear()


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the site's language. A test client's request activates its language in
    the test's thread and nothing switches it back, so after a request in English a later test in
    the same worker read English from code that translates outside a request (which test ran
    before depends on how pytest-xdist shares the tests out)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


class ClockHandle:
    """The ``clock`` fixture: sets weishang.core.clock for one test; the fixture undoes it."""

    def __init__(self, stack: ExitStack):
        self._stack = stack

    def freeze(self, at: datetime | date) -> datetime:
        """The clock stands at ``at`` (a naive date-time is China time) until moved or the test ends."""
        from weishang.core import clock

        self._stack.enter_context(clock.frozen(at))
        return clock.now()

    def travel(self, to: datetime | date) -> datetime:
        """The clock reads ``to`` now and runs on with the wall clock."""
        from weishang.core import clock

        self._stack.enter_context(clock.travel(to))
        return clock.now()

    def advance(self, delta: timedelta) -> datetime:
        from weishang.core import clock

        return clock.advance(delta)

    def now(self) -> datetime:
        from weishang.core import clock

        return clock.now()


@pytest.fixture
def clock():
    """Set the domain's clock for this test: ``clock.freeze(at)``, ``clock.travel(to)``,
    ``clock.advance(delta)``. Whatever the test set is undone at its end, pass or fail (the setting
    is process-wide, so it also reaches the live server's and the concurrency tests' threads)."""
    with ExitStack() as stack:
        yield ClockHandle(stack)


SCHEMATHESIS_SEED = "WEISHANG_SCHEMATHESIS_SEED"


def pytest_configure(config):
    """One seed per run of the suite for the API's contract test (tests/api/test_schemathesis.py),
    drawn here unless given, so that pytest-xdist's workers (started after this, with this
    environment) share it and the summary below can print it."""
    os.environ.setdefault(SCHEMATHESIS_SEED, str(random.SystemRandom().randrange(2**31)))


def pytest_terminal_summary(terminalreporter):
    """The seed at the end of every run that ran the contract test, passed or not (the header is
    hidden under ``-q``)."""
    ran = any(
        "test_schemathesis.py" in getattr(report, "nodeid", "")
        for reports in terminalreporter.stats.values()
        for report in reports
    )
    if ran:
        seed = os.environ[SCHEMATHESIS_SEED]
        terminalreporter.write_line(
            f"schemathesis seed: {seed} ({SCHEMATHESIS_SEED}={seed} sends the API contract test's requests again)"
        )
