"""The demo's meetings: three held meetings with check-ins and outcomes, one of them the source's
"60 agents, one private meeting, 9M+ yuan" at a tenth of the scale (6 agents, ¥900,000+), the
figures read back from the orders independently of the outcome selector."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from tests.test_demo import run_demo
from weishang.leads.models import Lead
from weishang.meetings import selectors
from weishang.meetings.models import Meeting, MeetingKind, MeetingStatus
from weishang.trade import workflow
from weishang.trade.models import Order, OrderKind

pytestmark = pytest.mark.django_db


def test_the_demo_has_three_held_meetings_and_the_private_board_meeting_brings_900k():
    run_demo(agents=120)
    held = Meeting.objects.filter(status=MeetingStatus.HELD)
    assert held.count() == 3
    for meeting in held:
        out = selectors.meeting_outcome(meeting)
        assert out.guests > 0 and out.cost > 0 and out.roi is not None
    board = Meeting.objects.get(kind=MeetingKind.PRIVATE_BOARD)
    out = selectors.meeting_outcome(board)
    assert (out.guests >= 7, out.agents_made, out.agents_by_level) == (True, 6, [("联创", 6)])
    made = list(
        Lead.objects.filter(
            agent__isnull=False, phone__in=board.invitations.filter(checked_in_at__isnull=False).values("lead__phone")
        ).values_list("agent_id", flat=True)
    )
    members = list(board.invitations.filter(agent__isnull=False).values_list("agent_id", flat=True))
    end = board.starts_at + timedelta(days=board.window_days)
    paid = Order.objects.filter(
        buyer_id__in=made + members,
        kind__in=(OrderKind.ENTRY, OrderKind.UPGRADE, OrderKind.RESTOCK),
        status__in=workflow.PAID_STATUSES,
        paid_at__gte=board.starts_at,
        paid_at__lt=end,
    ).aggregate(s=Sum("total"))["s"]
    assert out.cash == paid >= Decimal("900000")
    assert out.cost == Decimal("59000.00")
    assert out.roi == ((out.cash - out.cost) / out.cost).quantize(Decimal("0.0001"))
    assert Meeting.objects.filter(status=MeetingStatus.SCHEDULED, invitations__rsvp="yes").exists()
