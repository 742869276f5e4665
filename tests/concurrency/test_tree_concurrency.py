"""Concurrent writers of the tree: moves that would only make a cycle together, and joins under
an agent whose team is being moved. Real threads, real transactions, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from threads import run_together  # tests/concurrency/threads.py

from weishang.channel import selectors, services, tree
from weishang.channel.models import Agent, AgentTrail
from weishang.channel.tree import Relation
from weishang.core.errors import BusinessError

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_moves_that_together_would_make_a_cycle(make_agent):
    root = make_agent("partner")
    a = make_agent("vip", referrer=root)
    b = make_agent("vip", referrer=root)
    a_child = make_agent("vip", referrer=a)
    b_child = make_agent("vip", referrer=b)

    results = run_together(
        lambda: services.agent_move(
            agent=Agent.objects.get(pk=a.pk),
            relation=Relation.REFERRER,
            new_parent=Agent.objects.get(pk=b_child.pk),
            reason="t1",
        ),
        lambda: services.agent_move(
            agent=Agent.objects.get(pk=b.pk),
            relation=Relation.REFERRER,
            new_parent=Agent.objects.get(pk=a_child.pk),
            reason="t2",
        ),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], BusinessError) and errors[0].code == "cycle"
    assert tree.verify(Relation.REFERRER) == []
    # Every agent still reaches the root: no cycle was built.
    for agent in (a, b, a_child, b_child):
        assert root.pk in [x.pk for x in selectors.chain_above(agent=agent)]
    assert AgentTrail.objects.filter(kind="referrer").count() == 1


def test_join_under_a_team_that_is_being_moved(make_agent):
    root1 = make_agent("partner")
    root2 = make_agent("partner")
    leader = make_agent("city", referrer=root1)
    member = make_agent("vip", referrer=leader)

    results = run_together(
        lambda: services.agent_move(
            agent=Agent.objects.get(pk=leader.pk),
            relation=Relation.REFERRER,
            new_parent=Agent.objects.get(pk=root2.pk),
            reason="move",
        ),
        lambda: make_agent("vip", referrer=Agent.objects.get(pk=member.pk)),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    newcomer = results[1]
    assert [x.pk for x in selectors.chain_above(agent=newcomer)] == [member.pk, leader.pk, root2.pk]
    assert selectors.team_size(agent=root1) == 1
    assert selectors.team_size(agent=root2) == 4
    assert tree.verify(Relation.REFERRER) == [] and tree.verify(Relation.SUPPLIER) == []
