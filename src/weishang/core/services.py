"""Writes to the brand settings (M7 item 3): the one path every change of a setting takes.

Two settings belong to the reward plan: while a plan is in force, who fills restock orders and
the customer binding (mode and days) are the plan's (``rewards.plan_versions.plan_sync`` alone writes
them then; a change is a new plan version, linted and activated through the gate). The
jurisdiction picks the rulebook the gate lints a plan against: only staff holding
``core.change_jurisdiction`` (the owner) change it, and not while a plan is in force or is
activated to start later (the new rulebook takes effect with the next activation, linted against
it). Everything else (name, logo, currency, time zone, shop order expiry) is anyone's with
``core.change_brand``. The console only reflects this, showing those fields read-only.

The core does not import the rewards app: the rewards app installs ``plan_hold`` when ready.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from weishang.core.errors import Conflict, Forbidden
from weishang.core.models import Brand

JURISDICTION_PERMISSION = "core.change_jurisdiction"
# What rewards.plan_versions.plan_sync writes to the brand from the plan in force.
PLAN_BRAND_FIELDS = ("supply_mode", "customer_binding", "customer_binding_days")
PLAN_NOTE = gettext_lazy("Set by the plan in force; to change it, upload a new version")


@dataclass(frozen=True)
class PlanHold:
    """The activated plan that holds the brand settings: ``in_force`` False when it starts later
    (then it holds only the jurisdiction it was linted against)."""

    version_pk: int
    label: str
    in_force: bool


_hold_source: Callable[[], PlanHold | None] | None = None


def set_plan_hold(source: Callable[[], PlanHold | None]) -> None:
    """Installed by the rewards app when it is ready."""
    global _hold_source
    _hold_source = source


def plan_hold() -> PlanHold | None:
    """The plan in force (or, if none, the next one activated to start later), or None."""
    return _hold_source() if _hold_source is not None else None


def can_change_jurisdiction(user) -> bool:
    return user is not None and user.is_active and user.has_perm(JURISDICTION_PERMISSION)


def _label(field: str) -> str:
    found = Brand._meta.get_field(field)
    assert isinstance(found, models.Field)  # a brand setting, not a relation's reverse side
    return str(found.verbose_name)


def brand_readonly_fields(*, user, hold: PlanHold | None) -> list[str]:
    """The brand fields ``user`` may not change now (what the console shows read-only)."""
    fields: list[str] = []
    if hold is not None and hold.in_force:
        fields += PLAN_BRAND_FIELDS
    if hold is not None or not can_change_jurisdiction(user):
        fields.append("jurisdiction")
    return fields


def brand_check(*, brand: Brand, by=None) -> None:
    """Refuse the changes in ``brand`` (compared with the stored row) that ``by`` may not make.
    ``by`` None is the system (a command or the demo)."""
    current = Brand.objects.filter(pk=brand.pk).first() if brand.pk else None
    if current is None:
        return
    changed = [f for f in ("jurisdiction", *PLAN_BRAND_FIELDS) if getattr(current, f) != getattr(brand, f)]
    if not changed:
        return
    if "jurisdiction" in changed and by is not None and not can_change_jurisdiction(by):
        raise Forbidden(
            _("Only the owner may change the jurisdiction: it picks the rules a reward plan is checked against."),
            field="jurisdiction",
            code="jurisdiction_permission",
        )
    hold = plan_hold()
    if hold is None:
        return
    if "jurisdiction" in changed:
        if hold.in_force:
            text = _(
                "The jurisdiction cannot change while a plan is in force (%(plan)s): it was checked against "
                "this one. A new jurisdiction takes effect with the next activation, checked against it."
            )
        else:
            text = _(
                "The jurisdiction cannot change while a plan is activated to start later (%(plan)s): it was "
                "checked against this one. A new jurisdiction takes effect with the next activation, "
                "checked against it."
            )
        raise Conflict(text % {"plan": hold.label}, field="jurisdiction", code="plan_governed")
    if hold.in_force:
        field = changed[0]
        raise Conflict(
            _(
                "%(field)s: set by the plan in force (%(plan)s); to change it, upload a new version of "
                "the plan and activate it."
            )
            % {"field": _label(field), "plan": hold.label},
            field=field,
            code="plan_governed",
        )


@transaction.atomic
def brand_save(*, brand: Brand, by=None) -> Brand:
    """Save the brand settings if ``by`` may make every change in them; the history keeps who."""
    if brand.pk:
        Brand.objects.select_for_update().filter(pk=brand.pk).first()
    brand_check(brand=brand, by=by)
    brand._history_user = by  # type: ignore[attr-defined]  # django-simple-history reads it; unknown to the stubs
    brand.save()
    return brand
