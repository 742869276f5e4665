from __future__ import annotations

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from weishang.core.models import Brand


def unique_row[M: Model](queryset: QuerySet[M]) -> M | None:
    """The row a lookup by a unique key finds, or None: ``first()`` without its ORDER BY. A unique
    lookup has nothing to order, and compiling an ORDER BY costs Django a hash of every selected
    column (about 0.1 ms for an order with its parties: measured in bench/load_profile.py)."""
    return next(iter(queryset.order_by()[:1]), None)


def brand_get() -> Brand:
    """The deployment's brand; an unsaved default if none has been set up yet."""
    brand = Brand.objects.order_by("pk").first()
    return brand if brand is not None else Brand(name=_("My brand"))
