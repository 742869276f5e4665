"""Local stores (M10): the consumers' nearby lookup (``stores.selectors``), public, no login,
rate-limited per IP — by a point (the phone's location) or by a district."""

# No "from __future__ import annotations": django-ninja reads the views' annotations in its own
# module's namespace when they are wrapped.
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from weishang.api.errors import ERRORS
from weishang.api.params import RegionCode
from weishang.api.throttles import IpThrottle
from weishang.core.errors import BusinessError
from weishang.regions import selectors as regions
from weishang.stores import selectors

router = Router(tags=["public"])


class StoresQuery(Schema):
    lat: float | None = Field(None, ge=-90, le=90, description="latitude of the point to start from (WGS-84)")
    lng: float | None = Field(None, ge=-180, le=180, description="longitude of the point")
    region: RegionCode | None = Field(None, description="or a district, city or province (GB/T 2260 code)")
    limit: int = Field(20, ge=1, le=selectors.MAX_RESULTS)


class StoreOut(Schema):
    id: int
    name: str
    region: str = Field(..., description="the district's full name")
    address: str
    latitude: float
    longitude: float
    phone: str
    distance_km: float | None = Field(..., description="from the point, or from the middle of the chosen area")
    open_now: bool
    hours: str = Field(..., description="opening time–closing time, China time")
    days: str = Field(..., description="Monday to Sunday, 1 open, 0 closed")
    shop: str | None = Field(..., description="the owner's shop page, if an agent's store")


@router.get(
    "/public/stores",
    response={200: list[StoreOut], **ERRORS},
    summary="Local stores near a point or in an area",
    auth=None,
    throttle=[IpThrottle("public")],
)
def stores_nearby(request, query: Query[StoresQuery]):
    """Nearest first from ``lat``/``lng``; or, for ``region``, its own stores first, then the rest
    of its city and province. One of the two is needed (a 400 says so)."""
    if query.lat is not None and query.lng is not None:
        found = selectors.stores_near(latitude=query.lat, longitude=query.lng, limit=query.limit)
    elif query.region is not None:
        region = regions.region_get(query.region)
        if region is None:
            raise BusinessError(_("Choose a region from the list."), field="region")
        found = selectors.stores_in(region=region, limit=query.limit)
    else:
        raise BusinessError(_("Give a point (lat and lng) or a region."), field="lat")
    return [
        StoreOut(
            id=n.store.pk,
            name=n.store.name,
            region=n.store.region.full_name,
            address=n.store.address,
            latitude=float(n.store.latitude),
            longitude=float(n.store.longitude),
            phone=n.store.phone,
            distance_km=None if n.km is None else round(n.km, 2),
            open_now=n.open_now,
            hours=f"{n.store.opens_at:%H:%M}–{n.store.closes_at:%H:%M}",
            days=n.store.days,
            shop=request.build_absolute_uri(reverse("web:shop", args=[n.store.agent.invite_code]))
            if n.store.agent
            else None,
        )
        for n in found
    ]
