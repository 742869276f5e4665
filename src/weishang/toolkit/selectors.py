"""What the launch toolkit shows (reads only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from weishang.core import clock
from weishang.toolkit.models import Material, MaterialUseKind, PosterTemplate, Qualification

# A qualification that ends within this many days is flagged "expires soon" (to renew it in time).
EXPIRES_SOON_DAYS = 30


@dataclass(frozen=True)
class Validity:
    code: str  # valid | expires_soon | expired | not_yet
    label: object


VALID = Validity("valid", _("Valid"))
EXPIRES_SOON = Validity("expires_soon", _("Expires soon"))
EXPIRED = Validity("expired", _("Expired"))
NOT_YET = Validity("not_yet", _("Not yet valid"))


def qualification_validity(qualification: Qualification, *, today: date | None = None) -> Validity:
    """Whether the qualification holds today: expired (past ``valid_until``), expires soon (within
    30 days), not yet valid (before ``valid_from``) or valid. One without an end date stays valid."""
    today = today or clock.today()
    if qualification.valid_from and today < qualification.valid_from:
        return NOT_YET
    if qualification.valid_until is None:
        return VALID
    if qualification.valid_until < today:
        return EXPIRED
    if qualification.valid_until <= today + timedelta(days=EXPIRES_SOON_DAYS):
        return EXPIRES_SOON
    return VALID


def public_qualifications() -> QuerySet[Qualification]:
    """The qualifications shown publicly (the brand page, the pitch deck, the policy document), in
    the brand's order. Expired ones are included: the pages flag them."""
    return Qualification.objects.filter(public=True).order_by("position", "pk")


def with_validity(qualifications, *, today: date | None = None) -> list[Qualification]:
    """Each qualification with ``validity`` set (one clock read for the list)."""
    today = today or clock.today()
    rows = list(qualifications)
    for row in rows:
        row.validity = qualification_validity(row, today=today)
    return rows


# --- the material centre ----------------------------------------------------------------------


def materials_for(*, agent, product_id: int | None = None) -> QuerySet[Material]:
    """The published materials ``agent`` may see (their level at or above each one's
    ``min_level``), newest first, with their files; ``product_id`` narrows to one product's."""
    rank = agent.level.rank
    rows = (
        Material.objects.filter(published=True, published_at__lte=clock.now())
        .filter(Q(min_level__isnull=True) | Q(min_level__rank__gte=rank))
        .select_related("product")
        .prefetch_related("files")
    )
    return rows.filter(product_id=product_id) if product_id else rows


def material_for(*, agent, material_id: int) -> Material | None:
    """One material ``agent`` may see, or None (whether it exists or not)."""
    return materials_for(agent=agent).filter(pk=material_id).first()


def materials_used_most(limit: int = 10) -> QuerySet[Material]:
    """Materials by how often agents used them: ``copies``, ``downloads`` and ``uses`` (all)."""
    return (
        Material.objects.annotate(
            copies=Count("uses", filter=Q(uses__kind=MaterialUseKind.COPY)),
            downloads=Count("uses", filter=~Q(uses__kind=MaterialUseKind.COPY)),
            used=Count("uses"),
        )
        .filter(used__gt=0)
        .order_by("-used", "-pk")[:limit]
    )


def poster_templates():
    """The poster templates the brand offers agents, in its order."""
    return PosterTemplate.objects.filter(active=True).order_by("position", "pk")
