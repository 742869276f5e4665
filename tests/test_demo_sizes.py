"""``weishang demo`` at sizes other than the default, on an empty database (tests/test_demo.py reads
the default demo, loaded once for its module)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.demo_once import run_demo
from weishang.channel.models import Agent


def test_demo_refuses_fewer_than_six_agents(db):
    with pytest.raises(CommandError):
        call_command("demo", agents=5, stdout=StringIO())
    assert Agent.objects.count() == 0


@pytest.mark.parametrize("agents", [6, 20])
def test_demo_small_still_has_a_login_per_level(db, agents):
    run_demo(agents=agents)
    phones = set(Agent.objects.values_list("user__phone", flat=True))
    assert {f"1380000000{rank}" for rank in range(1, 6)} <= phones
