"""Template filters of the growth pages (team, customers)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from weishang.core.money import to_money
from weishang.core.validators import mask_phone as _mask_phone

register = template.Library()


@register.filter
def mask_phone(value: str) -> str:
    """138****0006: enough to recognise someone, not enough to call a stranger's customers."""
    return _mask_phone(value or "")


@register.filter
def money(value) -> str:
    """A database sum as yuan with two places ('1200.00'): SQLite hands sums back unrounded."""
    if value is None or value == "":
        return "0.00"
    return str(to_money(Decimal(str(value))))
