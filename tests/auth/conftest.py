"""Fixtures for the sign-in safety tests (M7): SMS codes kept in memory, counts in a fresh cache."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db.models import F

from weishang.core import sms


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    settings.WEISHANG_SMS_BACKEND = "weishang.core.sms.LocmemBackend"
    sms.outbox.clear()
    for each in caches.all():
        each.clear()
    yield sms.outbox
    sms.outbox.clear()
    for each in caches.all():
        each.clear()


@pytest.fixture
def time_passes():
    """time_passes(minutes=16): every recorded login failure becomes that much older (axes reads
    their time from the database), so the cool-off is tested without sleeping."""
    from axes.models import AccessAttempt

    def travel(**delta):
        AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(**delta))

    return travel
