"""What the launch toolkit shows (reads only)."""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.db.models import Count, Q, QuerySet
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from PIL import Image

from weishang.catalog.models import Product
from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.rewards import labels
from weishang.toolkit.models import Material, MaterialUseKind, PosterTemplate, Qualification
from weishang.toolkit.policy import Earnings, LevelTerms, PolicyData, PriceRow, ProductSheet, QualificationRow

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


def material_public(*, material_id: int) -> Material | None:
    """A published material every level may see, which an agent may share outside the channel
    (a friend opens it from their link), or None. A material kept for some levels stays inside."""
    return (
        Material.objects.filter(published=True, published_at__lte=clock.now(), min_level__isnull=True, pk=material_id)
        .prefetch_related("files")
        .first()
    )


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


# --- the documents generated from the plan in force (M9): policy PDF, price poster, pitch deck --

# Where a plan's market scenario is looked for (the simulator needs one for the earnings section):
# a file named like the plan's uploaded file, or like its id, in WEISHANG_SCENARIOS (a directory),
# else in the repository's examples/scenarios (the demo's plan has its scenario there).
# docs/decisions.md, "The documents' earnings section".
EXAMPLE_SCENARIOS = Path(__file__).resolve().parents[3] / "examples" / "scenarios"
PICTURE_SIDE = 1200  # pictures put in the deck are scaled to at most this many pixels a side


def scenario_dirs() -> list[Path]:
    wanted = os.environ.get("WEISHANG_SCENARIOS", "").strip()
    return [Path(wanted)] if wanted else [EXAMPLE_SCENARIOS]


def scenario_for(version) -> Path | None:
    """The scenario file of a plan version: ``<file name>.yaml`` or ``<plan id>.yaml`` in the
    scenario directory, or None."""
    names = [Path(version.filename).stem if version.filename else "", version.plan_id]
    for directory in scenario_dirs():
        for name in names:
            if name and (directory / f"{name}.yaml").is_file():
                return directory / f"{name}.yaml"
    return None


@lru_cache(maxsize=8)
def _simulated(sha256: str, scenario: str, scenario_sha256: str, source: str, filename: str) -> Earnings:
    from weishang.plans.loader import parse_plan
    from weishang.plans.simulate import run_simulation

    result = run_simulation(parse_plan(source, filename), scenario, lint=False)
    report = result.report
    net = report["income"]["net"]
    return Earnings(
        scenario=report["scenario"]["name"],
        months=int(report["scenario"]["months"]),
        participants=int(report["participants"]["ever_joined"]),
        median_net=Decimal(net["median"]),
        loss_share=float(report["loss"]["loss_share"]),
        p75_net=Decimal(net["p75"]),
        p90_net=Decimal(net["p90"]),
        median_loss=Decimal(report["loss"]["median_loss_of_losers"] or "0"),
    )


def plan_earnings(version) -> Earnings:
    """The simulator's figures for the plan version in its scenario (run once per plan and scenario
    file in a process). Raises BusinessError without a scenario or when it does not fit the plan."""
    path = scenario_for(version)
    if path is None:
        raise _no_scenario(version)
    try:
        return _simulated(
            version.sha256,
            str(path),
            hashlib.sha256(path.read_bytes()).hexdigest(),
            version.source,
            version.filename or "plan.yaml",
        )
    except ValueError as exc:  # PlanError, ScenarioError: the scenario's problems, in both languages
        chinese = get_language().startswith("zh")
        issues = getattr(exc, "issues", None) or []
        problem = "；".join((i.message_zh if chinese and i.message_zh else i.message) for i in issues) or str(exc)
        raise BusinessError(
            _("The market scenario %(file)s does not fit the plan in force: %(problem)s")
            % {"file": path.name, "problem": problem},
            code="bad_scenario",
        ) from None


def _picture(file) -> bytes | None:
    """A stored picture as PNG or JPEG bytes at most PICTURE_SIDE pixels a side (None if unreadable)."""
    try:
        with file.open("rb") as handle:
            image = Image.open(io.BytesIO(handle.read()))
            image.load()
    except (OSError, ValueError):
        return None
    image.thumbnail((PICTURE_SIDE, PICTURE_SIDE))
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P"):
        image.convert("RGBA").save(out, format="PNG")
    else:
        image.convert("RGB").save(out, format="JPEG", quality=85)
    return out.getvalue()


def _validity_text(row: Qualification) -> str:
    """长期有效, 2027-12-31 到期, or 2025-01-01 — 2027-12-31."""
    if row.valid_until is None:
        return gettext("No end date")
    if row.valid_from is None:
        return gettext("until %(date)s") % {"date": f"{row.valid_until:%Y-%m-%d}"}
    return f"{row.valid_from:%Y-%m-%d} — {row.valid_until:%Y-%m-%d}"


def _no_plan() -> BusinessError:
    return BusinessError(
        _("No plan is in force: activate a plan first, the documents are generated from it."), code="no_plan"
    )


def _no_scenario(version) -> BusinessError:
    return BusinessError(
        _(
            "The plan in force (%(plan)s) has no market scenario, so its earnings cannot be simulated: put "
            "%(file)s in the scenario directory (WEISHANG_SCENARIOS)."
        )
        % {"plan": str(version), "file": f"{version.plan_id}.yaml"},
        code="no_scenario",
    )


def documents_blocker() -> str:
    """Why the documents cannot be made now (no plan in force, no scenario for it), or "" — read
    without running the simulator, for the console page to say before anyone clicks."""
    from weishang.rewards.plan_versions import plan_in_force

    version = plan_in_force()
    if version is None:
        return str(_no_plan().message)
    if scenario_for(version) is None:
        return str(_no_scenario(version).message)
    return ""


def documents_data(*, pictures: bool = True) -> PolicyData:
    """Everything the policy document, the price poster and the pitch deck show, from the plan in
    force (its rules in words and its simulated earnings), the catalog (products, SKUs, the level
    price grid), the levels, the public qualifications and the brand. Raises BusinessError when no
    plan is in force. ``pictures``: read the products' pictures and the logo (the deck only)."""
    from weishang.catalog.selectors import price_grid
    from weishang.core.selectors import brand_get
    from weishang.rewards.plan_versions import plan_in_force, plan_of
    from weishang.toolkit import plan_words

    version = plan_in_force()
    if version is None:
        raise _no_plan()
    plan = plan_of(version)
    earnings = plan_earnings(version)
    specs = {lv.code: lv for lv in plan.levels}
    levels, grid = price_grid()
    grid = [(sku, cells) for sku, cells in grid if sku.active and sku.product.active]
    prices = [
        PriceRow(
            product=sku.product.name,
            sku=sku.code,
            name=sku.name,
            retail=sku.retail_price,
            prices=[effective for _level, _set, effective in cells],
        )
        for sku, cells in grid
    ]
    terms = []
    for level in levels:
        spec = specs.get(level.code)
        if spec is not None:
            entry = labels.entry_text(spec.entry)
        elif level.entry_amount:
            entry = f"{labels.key_label('first_order_amount')} {plan_words.yuan(level.entry_amount)}"
        else:
            entry = labels.key_label("free")
        terms.append(
            LevelTerms(
                name=level.name,
                entry=entry,
                discount=f"× {level.discount:.2f}",
                min_restock=gettext("No minimum")
                if not level.min_restock_qty
                else gettext("%(n)s units") % {"n": level.min_restock_qty},
            )
        )
    today = clock.today()
    qualifications = [
        QualificationRow(
            title=row.title,
            kind=str(row.get_kind_display()),
            number=row.number,
            issuer=row.issuer,
            valid=_validity_text(row),
            status=str(row.validity.label),
            expired=row.validity is EXPIRED,
        )
        for row in with_validity(public_qualifications(), today=today)
    ]
    products = []
    on_sale = {sku.product_id for sku, _cells in grid}
    for product in Product.objects.filter(pk__in=on_sale).order_by("name", "pk").prefetch_related("images", "skus"):
        products.append(
            ProductSheet(
                name=product.name,
                description=product.description,
                selling_points=[line.strip() for line in product.selling_points.splitlines() if line.strip()],
                skus=[(sku.name, sku.retail_price) for sku in product.skus.all() if sku.active],
                pictures=[p for p in (_picture(i.image) for i in product.images.all()) if p] if pictures else [],
            )
        )
    brand = brand_get()
    return PolicyData(
        brand=brand.name,
        plan=f"{plan.name}（v{plan.version}）",
        as_of=f"{today:%Y-%m-%d}",
        level_names=[level.name for level in levels],
        prices=prices,
        levels=terms,
        rewards=plan_words.reward_texts(plan) or [gettext("The plan pays no rewards.")],
        upgrades=plan_words.upgrade_texts(plan),
        settlement=plan_words.settlement_texts(plan),
        returns=plan_words.return_texts(plan),
        qualifications=qualifications,
        earnings=earnings,
        products=products,
        logo=_picture(brand.logo) if pictures and brand.pk and brand.logo else None,
    )


@dataclass(frozen=True)
class Document:
    filename: str
    content_type: str
    content: bytes


DOCUMENT_KINDS = ("policy", "poster", "deck")


def document_build(kind: str) -> Document:
    """One of the documents (``policy``: the PDF, ``poster``: the price-table PNG, ``deck``: the
    PPTX), built now from the plan in force. Raises BusinessError without one (or its scenario)."""
    from weishang.toolkit.deck import pitch_deck
    from weishang.toolkit.policy import policy_pdf, price_poster

    if kind not in DOCUMENT_KINDS:
        raise BusinessError(_("Unknown document."), code="unknown_document")
    data = documents_data(pictures=kind == "deck")
    if kind == "policy":
        name, content_type, content = gettext("Agent policy"), "application/pdf", policy_pdf(data)
        extension = "pdf"
    elif kind == "poster":
        name, content_type, content = gettext("Price table"), "image/png", price_poster(data)
        extension = "png"
    else:
        name, extension = gettext("Pitch deck"), "pptx"
        content_type = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        content = pitch_deck(data)
    return Document(f"{data.brand}-{name}-{data.as_of}.{extension}".replace(" ", ""), content_type, content)
