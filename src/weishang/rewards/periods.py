"""Settlement period labels: ``2026-11`` (month), ``2026-Q4`` (quarter), ``2026`` (year), read from what
staff type. A period's label is written by ``weishang.plans.period_label``."""

from __future__ import annotations

import re
from datetime import date

from django.utils.translation import gettext as _

from weishang.core.errors import BusinessError
from weishang.plans import Period, period_bounds

_LABEL = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<quarter>[1-4])))?$")


def parse_period(label: str) -> tuple[Period, date, date]:
    """(kind, first day, last day) of a period label; a clear error for anything else."""
    found = _LABEL.match((label or "").strip().upper())
    month = int(found["month"]) if found and found["month"] else None
    if not found or (month is not None and not 1 <= month <= 12):
        raise BusinessError(
            _("“%(label)s” is not a period: write 2026-11 (a month), 2026-Q4 (a quarter) or 2026 (a year).")
            % {"label": label},
            field="period",
        )
    year = int(found["year"])
    kind: Period
    if month is not None:
        kind, day = "month", date(year, month, 1)
    elif found["quarter"]:
        kind, day = "quarter", date(year, 3 * int(found["quarter"]) - 2, 1)
    else:
        kind, day = "year", date(year, 1, 1)
    start, end = period_bounds(kind, day)
    return kind, start, end
