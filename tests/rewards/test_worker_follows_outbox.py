"""With the outbox's consumers off the request path (``WEISHANG_OUTBOX_INLINE=0``, as in production
with workers), a completed order's rewards are written by the worker between its tasks — the same
lines the request would have written itself."""

from __future__ import annotations

import pytest

from weishang.jobs.worker import Worker
from weishang.rewards.models import RewardLine

pytestmark = pytest.mark.django_db(transaction=True)


def _lines(order):
    return sorted(RewardLine.objects.filter(order=order).values_list("rule_id", "beneficiary_id", "amount", "status"))


def test_the_worker_writes_what_the_request_left_to_it(tiered, make_agent, catalog, r, settings):
    sku = catalog.skus["GLOW-30ML"]
    upline = make_agent("general", real_name="总代")
    buyer = make_agent("city", referrer=upline, real_name="市代")
    r.receive(upline, sku, 100)

    settings.WEISHANG_OUTBOX_INLINE = True  # the request does it: what to expect
    expected = _lines(r.complete(buyer, [("GLOW-30ML", 10)]))
    assert expected  # the plan pays on this order

    settings.WEISHANG_OUTBOX_INLINE = False
    order = r.complete(buyer, [("GLOW-30ML", 10)])
    assert not RewardLine.objects.filter(order=order).exists()  # the request left it to a worker
    Worker(worker_id="follower", schedule=False, interval=0.01).run(once=True)
    assert _lines(order) == expected  # the same order, the same lines
    assert r.verify() == []
