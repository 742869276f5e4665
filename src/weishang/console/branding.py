"""The console's title and header: the brand's own name (unfold calls these with the request)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from weishang.core.selectors import brand_get


def site_header(request) -> str:
    """The sidebar's title: the brand's name (焕颜 GLOW), not the software's."""
    return brand_get().name


def site_title(request) -> str:
    """The browser tab's title and the sign-in page's "Welcome back to …"."""
    return _("%(brand)s console") % {"brand": brand_get().name}
