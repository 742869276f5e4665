from __future__ import annotations

from django.utils.translation import gettext as _

from weishang.core.models import Brand


def brand_get() -> Brand:
    """The deployment's brand; an unsaved default if none has been set up yet."""
    brand = Brand.objects.order_by("pk").first()
    return brand if brand is not None else Brand(name=_("My brand"))
