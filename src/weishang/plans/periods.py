"""Settlement periods: calendar month, quarter and year, as inclusive date ranges."""

from __future__ import annotations

import calendar
from datetime import date, datetime

__all__ = ["PERIODS", "period_bounds", "period_label"]

PERIODS = ("month", "quarter", "year")


def period_bounds(period: str, day: date | datetime) -> tuple[date, date]:
    """(first day, last day) of the ``period`` (month | quarter | year) containing ``day``.

    Both ends are inclusive calendar dates; a datetime is taken at its own date (convert it
    to the plan's time zone first).
    """
    if isinstance(day, datetime):
        day = day.date()
    if period == "month":
        start = day.replace(day=1)
        end = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    elif period == "quarter":
        first_month = 3 * ((day.month - 1) // 3) + 1
        start = date(day.year, first_month, 1)
        last_month = first_month + 2
        end = date(day.year, last_month, calendar.monthrange(day.year, last_month)[1])
    elif period == "year":
        start, end = date(day.year, 1, 1), date(day.year, 12, 31)
    else:
        raise ValueError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")
    return start, end


def period_label(period: str, day: date | datetime) -> str:
    """'2025-03', '2025-Q1' or '2025' for the period containing ``day``."""
    start, _ = period_bounds(period, day)
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}"
