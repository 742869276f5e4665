"""A follow-up reminder with an offset PostgreSQL cannot store (-16:16) or past the calendar's end
is a field error, never a database failure (found by the API contract test on PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from weishang.core.errors import BusinessError
from weishang.leads.services import _reminder

pytestmark = pytest.mark.django_db


def test_a_reminder_is_stored_in_utc_whatever_its_offset():
    far = dt.datetime(6621, 1, 30, 0, 15, 58, tzinfo=dt.timezone(-dt.timedelta(hours=16, minutes=16)))
    assert _reminder(far) == far and _reminder(far).utcoffset() == dt.timedelta(0)


def test_a_reminder_past_the_calendars_end_is_a_field_error():
    end = dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.timezone(-dt.timedelta(hours=10)))
    with pytest.raises(BusinessError) as error:
        _reminder(end)
    assert error.value.field == "remind_at"
