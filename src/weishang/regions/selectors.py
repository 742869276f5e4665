"""Reading regions: the picker's choices, a code from outside checked, and whether a place lies
outside an agent's region (channel conflict)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from weishang.core.errors import BusinessError
from weishang.regions.models import Region, RegionKind


def children_of(code: str | None = None) -> list[Region]:
    """The provinces (no code), or the cities and districts directly within a region."""
    if code:
        return list(Region.objects.filter(parent_id=code).order_by("code"))
    return list(Region.objects.filter(kind=RegionKind.PROVINCE).order_by("code"))


def codes_with_children(codes: list[str]) -> set[str]:
    """Which of ``codes`` have regions within them (one query)."""
    return set(Region.objects.filter(parent_id__in=codes).values_list("parent_id", flat=True).distinct())


def region_get(code: str | None) -> Region | None:
    code = (code or "").strip()
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    return Region.objects.filter(code=code).first()


def region_from_input(
    value: object, *, field: str = "region", required: bool = False, finest: bool = False
) -> Region | None:
    """A region chosen from outside (a form or an API body): six digits of a known region, or
    empty when it may be. Anything else is a field error. ``finest``: an address's region must be
    the finest there is (a district, or a city that has none)."""
    if isinstance(value, Region):
        return value
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise BusinessError(_("Choose the province, city and district."), field=field)
        return None
    region = region_get(text)
    if region is None:
        raise BusinessError(_("Choose a region from the list."), field=field)
    if finest and region.kind != RegionKind.DISTRICT and Region.objects.filter(parent=region).exists():
        raise BusinessError(_("Choose the district too."), field=field)
    return region


def region_chain(region: Region | None) -> list[Region]:
    """Province first, down to ``region`` itself: what the picker shows as chosen."""
    chain: list[Region] = []
    while region is not None:
        chain.append(region)
        region = region.parent
    return chain[::-1]


def area_prefix(region: Region) -> str:
    """The code prefix of the area a region stands for when it is an agent's: a province-level
    agent's province, otherwise the city (a district-level region counts by its city)."""
    return region.code[:2] if region.kind == RegionKind.PROVINCE else region.code[:4]


def outside(*, home: Region | None, where: Region | None) -> bool:
    """Whether ``where`` lies outside the area of ``home`` (unknown either way: not outside).
    A place given only as a province lies outside a city's area when it is another province."""
    if home is None or where is None:
        return False
    prefix = area_prefix(home)
    return not where.code.startswith(prefix[: len(area_prefix(where))])
