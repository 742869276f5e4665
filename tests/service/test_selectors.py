"""Response-time figures (the docstring's worked example of selectors.response_figures, built) and
the FAQ's suggested answers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from weishang.service.models import AutoReply
from weishang.service.selectors import percentile, response_figures, suggestions
from weishang.service.services import conversation_assign, conversation_reply, conversation_start

pytestmark = pytest.mark.django_db


def test_the_worked_example(seller, staff, clock):
    AutoReply.objects.create(keywords="发货", answer="48 小时内发货。")
    start = clock.freeze(datetime(2026, 11, 2, 9, 0))
    a = conversation_start(agent=seller, name="甲", contact="13912345601", text="你好")
    b = conversation_start(agent=seller, name="乙", contact="13912345602", text="在吗")
    c = conversation_start(agent=seller, name="丙", contact="13912345603", text="什么时候发货")  # auto only
    operations = staff("operations")
    conversation_assign(conversation=b, to=operations, by=staff("owner"))
    clock.advance(timedelta(minutes=10))
    conversation_reply(conversation=a, text="您好", by=seller.user)
    clock.advance(timedelta(minutes=40))
    conversation_reply(conversation=b, text="在的", by=operations)
    clock.freeze(start + timedelta(hours=30))
    overall, per = response_figures(since=start - timedelta(days=1))
    assert (overall.conversations, overall.answered, overall.unanswered_over_24h) == (3, 2, 1)
    assert overall.answered_share == pytest.approx(2 / 3)
    assert (overall.median_minutes, overall.p90_minutes) == (10.0, 50.0)
    seller_row, staff_row = per
    assert seller_row.label == "" and (seller_row.conversations, seller_row.answered) == (2, 1)
    assert seller_row.median_minutes == 10.0 and seller_row.unanswered_over_24h == 1
    assert staff_row.label == operations.username and staff_row.p90_minutes == 50.0
    # a period without them: nothing; c is no longer over 24h when only 20 hours have passed
    empty, rows = response_figures(since=start + timedelta(hours=1))
    assert empty.conversations == 0 and empty.answered_share is None and empty.median_minutes is None and rows == []
    clock.freeze(start + timedelta(hours=20))
    assert response_figures(since=start)[0].unanswered_over_24h == 0
    assert c.first_response_at is None


def test_nearest_rank_percentiles():
    assert percentile([], 0.5) is None
    values = [float(v) for v in range(1, 11)]  # 1..10
    assert percentile(values, 0.5) == 5 and percentile(values, 0.9) == 9 and percentile([7.0], 0.9) == 7


def test_suggestions_are_the_faq_full_text_matches_at_most_three(seller):
    found = suggestions("请问怎么付款？")
    assert [e.question for e in found] == ["怎么付款？"]
    assert suggestions("") == [] and suggestions("'\" OR 1=1 --") == [] and len(suggestions("付款 " * 500)) <= 3
