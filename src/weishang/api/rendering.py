"""How the API writes JSON: django-ninja's renderer, with every time in the deployment's time zone
(``TIME_ZONE``, China time for a Chinese brand) and its offset — ``2026-11-27T15:04:05+08:00`` —
as docs/api.md says, rather than the UTC the database hands back. The instant is the same; a person
reading an order's time in a log or an ERP sees the time of day the brand works in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder


class LocalTimeEncoder(NinjaJSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, datetime) and timezone.is_aware(o):
            return timezone.localtime(o).isoformat(timespec="seconds")
        return super().default(o)


class LocalTimeRenderer(JSONRenderer):
    encoder_class = LocalTimeEncoder
