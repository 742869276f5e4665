"""A meeting for the tests, made through the service."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from tests.leads.helpers import brand_staff
from weishang.meetings import services
from weishang.meetings.models import Meeting, MeetingKind


def china(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


def make_meeting(start: datetime, *, kind=MeetingKind.RECRUITMENT, title="十一月招商会", hours=3, days=30) -> Meeting:
    return services.meeting_create(
        data=services.MeetingInput(
            kind=kind,
            title=title,
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            venue="杭州西湖国宾馆",
            region="330106",
            host_name="主持人李娜",
            closing_name="收单老师王总",
            budget="3000",
            window_days=days,
        ),
        by=brand_staff(),
    )
