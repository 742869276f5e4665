"""Launch phases and work plans: the writes.

- ``phase_save``: a phase with its dates and targets (staff with ``growth.change_launchphase``).
- ``work_plan_set``: an agent's targets for a month, set by their upline (an agent above them in
  the referrer tree) or the brand (``growth.add_workplan``); this month or a later one, never a
  month gone by. Setting it again replaces the targets and says who set them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from weishang.channel.models import Agent, Level
from weishang.channel.selectors import team_member_ids
from weishang.core import clock
from weishang.core.errors import BusinessError, Forbidden
from weishang.growth.models import LaunchPhase, PhaseKind, PhaseTarget, TargetMetric, WorkPlan

MAX_TARGET = 1_000_000


@transaction.atomic
def phase_save(
    *,
    name: str,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    targets: list[tuple[str, Level | None, Decimal | str | int]],
    by,
    phase: LaunchPhase | None = None,
    note: str = "",
) -> LaunchPhase:
    """Create or change a phase; ``targets`` replace the phase's: (measure, level or None, figure)."""
    if not (getattr(by, "is_staff", False) and by.has_perm("growth.change_launchphase")):
        raise Forbidden(_("You may not plan launch phases."))
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise BusinessError(_("Give the phase a name of at most 60 characters."), field="name")
    if kind not in PhaseKind.values:
        raise BusinessError(_("Choose the kind of phase."), field="kind")
    if ends_on < starts_on:
        raise BusinessError(_("A phase ends on or after the day it starts."), field="ends_on")
    if (ends_on - starts_on).days > 366:
        raise BusinessError(_("A phase lasts at most a year."), field="ends_on")
    clean: list[tuple[str, Level | None, Decimal]] = []
    seen = set()
    for metric, level, figure in targets:
        if metric not in TargetMetric.values:
            raise BusinessError(_("Choose what the target measures."), field="targets")
        if (metric == TargetMetric.AGENTS_AT_LEVEL) != (level is not None):
            raise BusinessError(
                _("A target of agents at a level names the level (and only that one)."), field="targets"
            )
        try:
            value = Decimal(str(figure))
        except (InvalidOperation, ValueError) as exc:
            raise BusinessError(_("A target is a positive number."), field="targets") from exc
        if not value.is_finite() or value <= 0 or value >= Decimal("1e12") or value != value.quantize(Decimal("0.01")):
            raise BusinessError(_("A target is a positive number."), field="targets")
        if metric != TargetMetric.CASH and value != value.to_integral():
            raise BusinessError(_("A count is a whole number."), field="targets")
        key = (metric, getattr(level, "pk", None))
        if key in seen:
            raise BusinessError(_("Each measure has one target."), field="targets")
        seen.add(key)
        clean.append((metric, level, value))
    if phase is None:
        phase = LaunchPhase(created_at=clock.now())
    phase.name, phase.kind, phase.starts_on, phase.ends_on, phase.note = name, kind, starts_on, ends_on, note[:300]
    phase.save()
    phase.targets.all().delete()
    PhaseTarget.objects.bulk_create(
        [PhaseTarget(phase=phase, metric=metric, level=level, target=value) for metric, level, value in clean]
    )
    return phase


def may_set_plan(*, user, agent: Agent) -> bool:
    """The brand (``growth.add_workplan``) or an agent above ``agent`` in the referrer tree."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff:
        return user.has_perm("growth.add_workplan")
    upline = getattr(user, "agent", None)
    if upline is None or upline.pk == agent.pk:
        return False
    return team_member_ids(agent=upline, include_self=False).filter(descendant_id=agent.pk).exists()


@transaction.atomic
def work_plan_set(
    *, agent: Agent, month: str, by, talks: int = 0, meets: int = 0, invites: int = 0, orders: int = 0
) -> WorkPlan:
    if not may_set_plan(user=by, agent=agent):
        raise Forbidden(_("Only the agent's upline or the brand sets their work plan."))
    try:
        start, _end = clock.month_range(month)
    except ValueError as exc:
        raise BusinessError(_("Choose a month such as 2026-11."), field="month") from exc
    if month < f"{clock.today():%Y-%m}":
        raise BusinessError(_("A month gone by cannot be planned."), field="month")
    figures = {"talks": talks, "meets": meets, "invites": invites, "orders": orders}
    for key, value in figures.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_TARGET:
            raise BusinessError(_("A target is a whole number from 0 to 1,000,000."), field=key)
    if not any(figures.values()):
        raise BusinessError(_("Set at least one target."), field="talks")
    plan = WorkPlan.objects.select_for_update().filter(agent=agent, month=month).first()
    if plan is None:
        try:
            with transaction.atomic():
                return WorkPlan.objects.create(agent=agent, month=month, set_by=by, **figures)
        except IntegrityError:
            plan = WorkPlan.objects.select_for_update().get(agent=agent, month=month)
    for key, value in figures.items():
        setattr(plan, key, value)
    plan.set_by, plan.set_at = by, clock.now()
    plan.save()
    return plan
