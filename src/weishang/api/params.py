"""Parameter types shared by the routers.

``Id`` is a database id: 1 up to the largest 64-bit integer, so that an id too large for the
database is a 422 on that parameter rather than an overflow (a 500) in the query. ``Text`` is text a
client sends: no NUL character (PostgreSQL cannot store one) and valid Unicode (no lone surrogate
from a JSON ``"\\ud800"`` escape), so that such input is a 422 on its field. ``key_or_404`` takes a
code in a path (an invite code, an order number, a period) that can only be letters, digits and
dashes: anything else names nothing, and is 404. ``day_start`` turns a date filter into the first
moment of that day; ``Day`` is such a filter, written ``YYYY-MM-DD`` only. ``Money`` is an amount a
client sends (a string such as ``"100.00"``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any

from django.http import Http404
from django.utils import timezone
from ninja import Path
from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

MAX_ID = 2**63 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]

TEXT_PATTERN = r"^[^\x00]*$"
Text = Annotated[str, Field(pattern=TEXT_PATTERN)]
# A region by its GB/T 2260 code (six digits); whether it exists is the service's question (400).
RegionCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", min_length=6, max_length=6, examples=["330106"])]


def key_or_404(value: str, *, max_length: int) -> str:
    """A code from a path, if it can be one (ASCII letters, digits, dashes, at most ``max_length``)."""
    if not (0 < len(value) <= max_length and value.isascii() and value.replace("-", "").isalnum()):
        raise Http404
    return value


# Dates far outside any record would overflow when shifted to UTC: a filter is clamped to these.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9999, 12, 30)


def day_start(day: date) -> datetime:
    """The first moment of ``day`` in the current time zone, for filters such as ``created_after``
    (on or after the day) and ``created_before`` (before the day)."""
    day = min(max(day, FIRST_DAY), LAST_DAY)
    return timezone.make_aware(datetime.combine(day, time.min))


def _iso_day(value):
    """A date filter is a day written ``YYYY-MM-DD`` and nothing else: pydantic alone would also
    take a Unix timestamp (``0`` is 1970-01-01) or a datetime at midnight, which the spec's
    ``format: date`` does not say."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not DAY_PATTERN_RE.match(value):
        raise PydanticCustomError("date_parsing", "Input should be a valid date in the format YYYY-MM-DD")
    return value


DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DAY_PATTERN_RE = re.compile(DAY_PATTERN)
Day = Annotated[
    date, BeforeValidator(_iso_day), WithJsonSchema({"type": "string", "format": "date", "pattern": DAY_PATTERN})
]


# Money a client sends: yuan as a string, up to 11 digits before the point and 2 after (never a
# JSON number: a float cannot hold 0.1). The pattern is both what the spec shows and what the
# server checks, so the two cannot drift apart; anything else is a 422 on the field.
MONEY_PATTERN = r"^[0-9]{1,11}(\.[0-9]{1,2})?$"
Money = Annotated[str, Field(pattern=MONEY_PATTERN, examples=["100.00"]), AfterValidator(Decimal)]


def path_code(max_length: int, description: str) -> Any:
    """A code in a path (see ``key_or_404``), with the pattern the spec shows for it. The view still
    checks it with ``key_or_404``: a value outside the pattern names nothing, and is 404."""
    pattern = rf"^[A-Za-z0-9-]{{1,{max_length}}}$"
    return Annotated[str, WithJsonSchema({"type": "string", "pattern": pattern}), Path(description=description)]


InviteCode = path_code(12, "the shop's invite code")
OrderNumber = path_code(32, "the order number")
Period = path_code(10, "2026-11, 2026-Q4 or 2026")
