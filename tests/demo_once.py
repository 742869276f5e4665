"""The demo brand loaded once per test module, not once per test.

Loading the demo takes 4–5 s on SQLite and about 10 s on PostgreSQL; a module of twenty tests
that only read it paid that twenty times. :func:`module_demo` makes a module-scoped fixture that
loads it once inside a transaction of its own. Each test's ``db`` fixture then runs in a savepoint
inside that transaction (as Django's ``TestCase`` runs its tests inside ``setUpTestData``'s), so
what a test writes is rolled back after it, and the whole demo is rolled back after the module:
the next module starts from the empty database, as before. Import it as
``from tests.demo_once import module_demo``::

    demo_module = module_demo(lambda: demo_load(agents=60))

    @pytest.fixture
    def demo(demo_module, db):
        return demo_module

Only for modules whose tests use the ``db`` fixture: a ``transactional_db`` test empties the tables
and would take the demo with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings

from weishang.core import clock


def run_demo(agents: int = 60) -> str:
    """``weishang demo --agents N`` as a newcomer runs it; what it printed."""
    out = StringIO()
    call_command("demo", agents=agents, stdout=out)
    return out.getvalue()


def module_demo(load: Callable[[], Any], *, at: datetime | None = None):
    """A module-scoped fixture: ``load()``'s result, with what it wrote visible to every test of
    the module. ``at``: the domain's clock reads ``at`` (and runs on) while it loads."""

    @pytest.fixture(scope="module")
    def demo_module(django_db_setup, django_db_blocker):
        # The tests' hasher (tests/conftest.py, fast_hasher), so that their logins check these users.
        fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
            try:
                with fast:
                    if at is None:
                        loaded = load()
                    else:
                        with clock.travel(at):
                            loaded = load()
                yield loaded
            finally:
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)

    return demo_module
