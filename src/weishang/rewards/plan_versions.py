"""Plan versions: upload, activate from a date, and sync the plan in force to the catalog.

The plan file is the truth for levels, level prices, the supply mode and customer binding once
a version is activated: ``plan_sync`` writes them to the catalog and the brand settings (each
change kept in the price and level history).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from weishang.catalog.models import SKU, LevelPrice
from weishang.catalog.services import PlanGovernance
from weishang.channel.models import Agent, Approver, Level
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict
from weishang.core.models import Brand, CustomerBinding, SupplyMode
from weishang.core.money import to_money
from weishang.plans import Plan, PlanError, PlanIssue, parse_plan
from weishang.plans.campaign import CampaignOverlay, apply_overlay
from weishang.rewards.labels import severity_label, value_text
from weishang.rewards.models import PlanAcknowledgement, PlanVersion
from weishang.trade.models import Order

log = logging.getLogger(__name__)


class PlanBlocked(Conflict):
    """The linter found CRIT findings for the brand's jurisdiction: the plan never goes live."""

    code = "plan_blocked"

    def __init__(self, message, findings):
        self.findings = findings
        super().__init__(message, field="plan")


class PlanInvalid(BusinessError):
    """The plan file does not validate; ``issues`` say where and why (file, line, column, key path)."""

    code = "plan_invalid"

    def __init__(self, issues: list[PlanIssue]):
        self.issues = issues
        super().__init__("; ".join(str(issue) for issue in issues[:5]), field="source")


def plan_parse(*, text: str, filename: str = "plan.yaml") -> Plan:
    try:
        return parse_plan(text, filename or "plan.yaml")
    except PlanError as exc:
        raise PlanInvalid(exc.issues) from None


@lru_cache(maxsize=16)
def _parsed(sha256: str, text: str, filename: str) -> Plan:
    return parse_plan(text, filename)


def plan_of(version: PlanVersion) -> Plan:
    """The parsed plan of a stored version (parsed once per process)."""
    return _parsed(version.sha256, version.source, version.filename or f"{version.plan_id}.yaml")


@transaction.atomic
def plan_upload(*, text: str, filename: str = "", by=None) -> PlanVersion:
    """Store a plan file as a new version. The same file again returns the stored version; a
    different file under an activated (plan id, version) is refused: edits make a new version."""
    plan = plan_parse(text=text, filename=filename)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    existing = PlanVersion.objects.select_for_update().filter(plan_id=plan.id, version=plan.version).first()
    if existing is not None:
        if existing.sha256 == digest:
            return existing
        if existing.is_activated:
            raise Conflict(
                _(
                    "%(plan)s version %(version)s is activated and cannot change; give the edited file "
                    "a new version number."
                )
                % {"plan": plan.id, "version": plan.version},
                field="version",
                code="plan_immutable",
            )
        existing.source, existing.sha256, existing.filename = text, digest, filename[:200]
        existing.name, existing.kind, existing.jurisdiction = plan.name[:120], plan.kind, plan.jurisdiction
        existing.uploaded_by, existing.uploaded_at = by, clock.now()
        existing.save()
        return existing
    return PlanVersion.objects.create(
        plan_id=plan.id,
        version=plan.version,
        name=plan.name[:120],
        kind=plan.kind,
        jurisdiction=plan.jurisdiction,
        source=text,
        sha256=digest,
        filename=filename[:200],
        uploaded_by=by,
    )


def _check_catalog(plan: Plan) -> None:
    """Refuse, before anything changes, a plan the catalog and the agents cannot follow."""
    codes = set(plan.level_codes)
    held = set(Agent.objects.values_list("level__code", flat=True).distinct())
    for level in Level.objects.exclude(code__in=codes):
        if level.code in held or Order.objects.filter(target_level=level).exists():
            raise Conflict(
                _(
                    "Level %(level)s is held by agents but is not in the plan; keep it in the plan or "
                    "move its agents first."
                )
                % {"level": level.name},
                field="levels",
                code="level_in_use",
            )
    ranks = {level.code: i for i, level in enumerate(plan.levels)}
    current = [
        code for code in Level.objects.order_by("rank").values_list("code", flat=True) if code in ranks and code in held
    ]
    if current != sorted(current, key=ranks.__getitem__):
        raise Conflict(
            _("The plan changes the order of levels that agents hold (%(levels)s); that would break who supplies whom.")
            % {"levels": ", ".join(current)},
            field="levels",
            code="level_order",
        )
    skus = set(SKU.objects.values_list("code", flat=True))
    missing = sorted(
        set(plan.prices) - skus
        | {lv.entry.gift_pack for lv in plan.levels if lv.entry.gift_pack and lv.entry.gift_pack not in skus}
    )
    if missing:
        raise Conflict(
            _("The plan names products the catalog does not have: %(codes)s. Add them first.")
            % {"codes": ", ".join(missing)},
            field="prices",
            code="unknown_sku",
        )


def _entry_amount(plan: Plan, level) -> Decimal:
    """What the entry order must come to: the first-order amount, or the gift pack at the level's
    own price (what buying it costs at that level), or nothing."""
    if level.entry.first_order_amount is not None:
        return to_money(level.entry.first_order_amount)
    if level.entry.gift_pack:
        sku = SKU.objects.get(code=level.entry.gift_pack)
        return to_money(plan.price(sku.code, level.code, sku.retail_price))
    return Decimal("0.00")


@transaction.atomic
def plan_sync(*, version: PlanVersion) -> None:
    """Write the plan's levels, prices, supply mode and customer binding to the catalog and brand."""
    plan = plan_of(version)
    _check_catalog(plan)
    Level.objects.exclude(code__in=plan.level_codes).delete()
    by_code = {level.code: level for level in Level.objects.all()}
    for level in by_code.values():  # park the ranks: the unique rank would clash mid-way
        level.rank = 1000 + level.pk
        level.save(update_fields=["rank"])
    for rank, spec in enumerate(plan.levels, start=1):
        level = by_code.get(spec.code) or Level(
            code=spec.code, approver=Approver.BRAND if rank <= 2 else Approver.SUPPLIER
        )
        level.name, level.rank, level.discount = spec.name, rank, spec.discount
        level.entry_amount, level.min_restock_qty = _entry_amount(plan, spec), spec.min_restock_qty
        level.save()
        by_code[spec.code] = level
    keep = Q(pk__in=[])
    for sku_code, prices in plan.prices.items():
        sku = SKU.objects.get(code=sku_code)
        if "retail" in prices and sku.retail_price != prices["retail"]:
            sku.retail_price = to_money(prices["retail"])
            sku.save(update_fields=["retail_price"])
        for level_code, price in prices.items():
            if level_code == "retail":
                continue
            row, _created = LevelPrice.objects.update_or_create(
                sku=sku, level=by_code[level_code], defaults={"price": to_money(price)}
            )
            keep |= Q(pk=row.pk)
    LevelPrice.objects.exclude(keep).delete()  # everything else is retail × the level's discount
    brand = Brand.objects.order_by("pk").first()
    if brand is not None:
        brand.supply_mode = SupplyMode(plan.supply)  # the plan's words are the brand setting's values
        brand.customer_binding = CustomerBinding(plan.customer_binding.mode)
        brand.customer_binding_days = plan.customer_binding.days
        brand.save(update_fields=["supply_mode", "customer_binding", "customer_binding_days"])
    PlanVersion.objects.filter(pk=version.pk).update(synced_at=clock.now())


def brand_jurisdiction(plan: Plan) -> str:
    """The rulebook a plan is held to: the brand's jurisdiction (the plan's own key if no brand)."""
    brand = Brand.objects.order_by("pk").first()
    return brand.jurisdiction if brand is not None and brand.jurisdiction else plan.jurisdiction


def plan_lint_report(version: PlanVersion):
    """The linter's report on a stored version for the brand's jurisdiction."""
    from weishang.plans.lint import lint_plan

    plan = plan_of(version)
    jurisdiction = brand_jurisdiction(plan)
    return lint_plan(plan, "all" if jurisdiction == "none" else jurisdiction)


def _gate(version: PlanVersion, plan: Plan, acknowledgement: str) -> list:
    """Refuse a plan with CRIT findings; require an acknowledgement for HIGH ones (returned)."""
    if plan.jurisdiction == "none" or brand_jurisdiction(plan) == "none":
        raise Conflict(
            _("A plan with jurisdiction “none” is a sandbox: it can be simulated but never activated."),
            field="jurisdiction",
            code="sandbox_plan",
        )
    report = plan_lint_report(version)
    crit = [f for f in report.findings if f.severity == "CRIT"]
    if crit:
        rules = ", ".join(sorted({f.rule for f in crit}))
        raise PlanBlocked(
            _(
                "The linter finds %(n)d %(severity)s finding(s) for %(where)s (%(rules)s): this plan "
                "cannot go live. Its report says what triggered each one and what a lawful alternative "
                "looks like."
            )
            % {
                "n": len(crit),
                "severity": severity_label("CRIT"),
                "where": value_text("jurisdiction", report.jurisdiction),
                "rules": rules,
            },
            crit,
        )
    high = [f for f in report.findings if f.severity == "HIGH"]
    if high and not (acknowledgement or "").strip():
        rules = ", ".join(sorted({f.rule for f in high}))
        raise Conflict(
            _(
                "The linter finds %(n)d %(severity)s finding(s) (%(rules)s). Activating needs an "
                "acknowledgement: write who decided to accept the risk and why."
            )
            % {"n": len(high), "severity": severity_label("HIGH"), "rules": rules},
            field="acknowledgement",
            code="acknowledgement_required",
        )
    return high


@transaction.atomic
def plan_activate(
    *, version: PlanVersion, by=None, active_from: datetime | None = None, acknowledgement: str = ""
) -> PlanVersion:
    """Put a version in force from ``active_from`` (default now). From then on it is immutable and
    its levels and prices are the catalog's (synced now if it starts now, else when it starts).

    The linter is the gate: a CRIT finding for the brand's jurisdiction refuses it; HIGH findings
    need an ``acknowledgement``, kept with who and when as a PlanAcknowledgement."""
    version = PlanVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_activated:
        raise Conflict(
            _("%(plan)s is already activated (from %(when)s).")
            % {"plan": version, "when": f"{timezone.localtime(version.active_from):%Y-%m-%d %H:%M}"},
            field="version",
            code="already_active",
        )
    plan = plan_of(version)
    accepted = _gate(version, plan, acknowledgement)
    _check_catalog(plan)
    now = clock.now()
    if active_from is not None and active_from < now:
        _check_backdating(active_from)
    version.active_from = active_from or now
    version.activated_by, version.activated_at = by, now
    version.save(update_fields=["active_from", "activated_by", "activated_at"])
    if accepted:
        PlanAcknowledgement.objects.create(
            version=version,
            jurisdiction=brand_jurisdiction(plan),
            by=by,
            text=acknowledgement.strip(),
            findings=[f.as_dict() for f in accepted],
        )
    if version.active_from <= now:
        plan_sync(version=version)
    return version


def _check_backdating(start: datetime) -> None:
    """A plan may start in the past only where nothing has been paid since under another plan."""
    from weishang.rewards.models import RewardLine, SettlementRun
    from weishang.rewards.periods import parse_period

    settled = [run.period for run in SettlementRun.objects.all() if parse_period(run.period)[2] >= start.date()]
    if settled or RewardLine.objects.filter(created_at__gte=start).exists():
        raise Conflict(
            _(
                "Rewards have already been paid after %(when)s (settled: %(periods)s); a plan cannot start "
                "before them. Choose a later start."
            )
            % {"when": f"{timezone.localtime(start):%Y-%m-%d %H:%M}", "periods": ", ".join(sorted(settled)) or "—"},
            field="active_from",
            code="backdated",
        )


# The campaigns running at a moment, as overlays on the plan (installed by ``weishang.campaigns``,
# which rewards does not import): ``overlays(start, end)`` → the overlays running on any day of
# [start, end].
_overlays: Callable[[date, date], list[CampaignOverlay]] | None = None


def set_plan_overlays(overlays: Callable[[date, date], list[CampaignOverlay]] | None) -> None:
    global _overlays
    _overlays = overlays


def plan_effective(version: PlanVersion, start: date, end: date | None = None) -> Plan:
    """The plan ``version`` with the campaigns running between ``start`` and ``end`` laid over it
    (their extra reward rules and reduced thresholds; ``plans.campaign.apply_overlay``)."""
    plan = plan_of(version)
    for overlay in _overlays(start, end or start) if _overlays is not None else []:
        try:
            plan = apply_overlay(plan, overlay)
        except ValueError:  # checked when the campaign was scheduled; a later plan may not fit it
            log.warning("campaign %s does not fit plan %s; left out", overlay.id, version)
    return plan


def plan_in_force(at: datetime | None = None) -> PlanVersion | None:
    """The activated version with the latest start at or before ``at`` (default now)."""
    return (
        PlanVersion.objects.filter(activated_at__isnull=False, active_from__lte=at or clock.now())
        .order_by("-active_from", "-activated_at")
        .first()
    )


def plan_governance() -> PlanGovernance | None:
    """What the plan in force decides in the catalog (installed into ``catalog.services``, whose
    writes refuse it): every level field ``plan_sync`` writes, the whole price grid, and the
    retail price of the SKUs the plan writes one for or sells as a level's gift pack."""
    version = plan_in_force()
    if version is None:
        return None
    try:
        plan = plan_of(version)
    except PlanError:  # stored under an older schema: it still governs the levels and the grid
        return PlanGovernance(version_pk=version.pk, label=str(version), skus=frozenset())
    skus = {code for code, row in plan.prices.items() if "retail" in row}
    skus |= {level.entry.gift_pack for level in plan.levels if level.entry.gift_pack}
    return PlanGovernance(version_pk=version.pk, label=str(version), skus=frozenset(skus))


def plan_brand_hold():
    """What holds the brand settings (installed into ``core.services``): the plan in force, or
    the next version activated to start later (it holds the jurisdiction it was linted against)."""
    from weishang.core.services import PlanHold

    version = plan_in_force()
    if version is not None:
        return PlanHold(version_pk=version.pk, label=str(version), in_force=True)
    version = (
        PlanVersion.objects.filter(activated_at__isnull=False, active_from__gt=clock.now())
        .order_by("active_from")
        .first()
    )
    if version is not None:
        return PlanHold(version_pk=version.pk, label=str(version), in_force=False)
    return None


def plan_sync_due(now: datetime | None = None) -> PlanVersion | None:
    """Sync the version in force if its start has come and it has not been synced yet."""
    version = plan_in_force(now)
    if version is not None and version.synced_at is None:
        plan_sync(version=version)
        return version
    return None


def plan_upgrade_ceiling(agent: Agent) -> Level | None | bool:
    """The highest level the plan in force lets ``agent`` upgrade to (``False``: none yet; ``None``:
    no plan in force). Installed as trade's upgrade policy, so upgrade orders follow the plan."""
    from weishang.plans import Engine
    from weishang.rewards.hierarchy import DatabaseHierarchy

    version = plan_in_force()
    if version is None:
        return None
    decision = Engine(plan_of(version)).upgrade_for(agent.pk, DatabaseHierarchy(), at=clock.now())
    if decision is None:
        return False
    return Level.objects.filter(code=decision.to_level).first() or False
