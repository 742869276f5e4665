"""Helpers for the B2B tests (imported by name: tests/b2b is on the path)."""

from __future__ import annotations

from datetime import timedelta

from weishang.core import clock


def day(n: int) -> str:
    """The date n days from today, as a form sends it."""
    return f"{clock.today() + timedelta(days=n):%Y-%m-%d}"
