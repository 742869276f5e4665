"""Finding local stores: near a point (the consumer's location) or in a chosen district.

Distance is the great-circle distance on a sphere of radius 6,371.0088 km (the haversine
formula), in kilometres. A chosen district has no point of its own (the national region list
carries none): its stores come first, then the rest of its city, then its province, then the
others, each group by distance from the middle of the district's own stores (or of the city's,
or of the province's) — see docs/decisions.md.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from weishang.channel.models import AgentStatus
from weishang.core import clock
from weishang.regions.models import Region
from weishang.stores.models import Store, StoreStatus

EARTH_KM = 6371.0088
MAX_RESULTS = 50


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def is_open(store: Store, at: dt.datetime | None = None) -> bool:
    """Whether the store is open at ``at`` (China time); hours past midnight belong to the day they
    started."""
    local = timezone.localtime(at or clock.now())
    now, today = local.time(), local.weekday()
    if store.opens_at < store.closes_at:
        return store.days[today] == "1" and store.opens_at <= now < store.closes_at
    yesterday = (today - 1) % 7
    return (store.days[today] == "1" and now >= store.opens_at) or (
        store.days[yesterday] == "1" and now < store.closes_at
    )


@dataclass(frozen=True)
class Nearby:
    store: Store
    km: float | None
    open_now: bool


def _listed() -> QuerySet[Store]:
    """Listed stores of the brand and of active agents (a suspended or departed agent's store is
    not offered to consumers, though its owner keeps it)."""
    return (
        Store.objects.filter(status=StoreStatus.LISTED)
        .filter(Q(agent__isnull=True) | Q(agent__status=AgentStatus.ACTIVE))
        .select_related("region", "agent", "agent__level")
        .prefetch_related("photos")
    )


def stores_near(*, latitude: float, longitude: float, limit: int = 20) -> list[Nearby]:
    at = clock.now()
    found = [
        Nearby(s, distance_km(latitude, longitude, float(s.latitude), float(s.longitude)), is_open(s, at))
        for s in _listed()
    ]
    found.sort(key=lambda n: (n.km, n.store.pk))
    return found[: max(1, min(limit, MAX_RESULTS))]


def _middle(stores: list[Store]) -> tuple[float, float] | None:
    if not stores:
        return None
    return (
        sum(float(s.latitude) for s in stores) / len(stores),
        sum(float(s.longitude) for s in stores) / len(stores),
    )


def _prefixes(region: Region) -> list[str]:
    """The region's own code prefix, then its city's, then its province's (finest first)."""
    code = region.code
    if code.endswith("0000"):
        return [code[:2]]
    if code.endswith("00"):
        return [code[:4], code[:2]]
    return [code, code[:4], code[:2]]


def stores_in(*, region: Region, limit: int = 20) -> list[Nearby]:
    at = clock.now()
    stores = list(_listed())
    prefixes = _prefixes(region)

    def tier(store: Store) -> int:
        for i, prefix in enumerate(prefixes):
            if store.region_id.startswith(prefix):
                return i
        return len(prefixes)

    centre = None
    for prefix in prefixes:
        centre = _middle([s for s in stores if s.region_id.startswith(prefix)])
        if centre:
            break
    found = []
    for s in stores:
        km = distance_km(centre[0], centre[1], float(s.latitude), float(s.longitude)) if centre else None
        found.append((tier(s), km if km is not None else 0.0, s.pk, Nearby(s, km, is_open(s, at))))
    found.sort(key=lambda row: row[:3])
    return [row[3] for row in found[: max(1, min(limit, MAX_RESULTS))]]


def store_of(*, agent) -> Store | None:
    return Store.objects.filter(agent_id=getattr(agent, "pk", agent)).prefetch_related("photos").first()
