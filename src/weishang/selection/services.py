"""Product selection (选品): candidates, their scores and photos, and adopting one into the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from weishang.catalog.models import SKU, Product
from weishang.catalog.services import product_image_add
from weishang.core.errors import BusinessError, Conflict
from weishang.core.files import check_picture, thumbnail_of
from weishang.core.money import amount_input
from weishang.selection.models import Candidate, CandidatePhoto, CandidateStatus, Criterion, Rule, Score

MAX_PHOTOS = 9


def criteria_ensure() -> int:
    """The source's criteria when the brand has none (a new database: the migration adds them; a
    flushed one, or a brand that removed them all, gets them back on first use). Returns how many
    were added."""
    from weishang.selection.defaults import DEFAULTS

    if Criterion.objects.exists():
        return 0
    Criterion.objects.bulk_create(
        [
            Criterion(code=code, name=name, help_text=help_text, weight=Decimal(weight), rule=rule, position=i)
            for i, (code, name, help_text, weight, rule) in enumerate(DEFAULTS)
        ],
        ignore_conflicts=True,
    )
    return len(DEFAULTS)


PRICE_LIMIT = Decimal("300")


def rule_score(rule: str, candidate: Candidate) -> int | None:
    """A criterion scored from the candidate's figures: None while the figure is missing.

    - price: at most ¥300 → 5 (the source: 300块钱以内), ≤ 350 → 4, ≤ 400 → 3, ≤ 500 → 2, above → 1;
    - margin ((retail − cost) / retail): ≥ 70 % → 5, ≥ 60 % → 4, ≥ 50 % → 3, ≥ 40 % → 2, below → 1.
    """
    price = candidate.retail_price
    if rule == Rule.PRICE:
        if price is None:
            return None
        for limit, score in ((300, 5), (350, 4), (400, 3), (500, 2)):
            if price <= limit:
                return score
        return 1
    if rule == Rule.MARGIN:
        if price is None or candidate.unit_cost is None or price <= 0:
            return None
        margin = (price - candidate.unit_cost) / price
        for bound, points in ((Decimal("0.7"), 5), (Decimal("0.6"), 4), (Decimal("0.5"), 3), (Decimal("0.4"), 2)):
            if margin >= bound:
                return points
        return 1
    return None


@dataclass(frozen=True)
class Row:
    criterion: Criterion
    score: int | None
    note: str
    automatic: bool


@dataclass(frozen=True)
class Scorecard:
    rows: list[Row]
    total: Decimal | None  # out of 100, None while nothing weighted is scored
    scored: int
    weighted: int


def scorecard(candidate: Candidate, *, criteria: list[Criterion] | None = None, scores=None) -> Scorecard:
    """Each criterion's score and the weighted total out of 100 (Σ weight × score / Σ weight × 20,
    over the criteria with a weight and a score, to one decimal)."""
    criteria = criteria if criteria is not None else list(Criterion.objects.all())
    given = scores if scores is not None else {s.criterion_id: s for s in candidate.scores.all()}
    rows, points, weights, scored = [], Decimal(0), Decimal(0), 0
    for criterion in criteria:
        if criterion.rule:
            score, note, automatic = rule_score(criterion.rule, candidate), "", True
        else:
            found = given.get(criterion.pk)
            score, note, automatic = (found.score, found.note, False) if found else (None, "", False)
        rows.append(Row(criterion=criterion, score=score, note=note, automatic=automatic))
        if score is not None and criterion.weight > 0:
            points += criterion.weight * score
            weights += criterion.weight
            scored += 1
    total = None
    if weights:
        total = (points / weights * 20).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Scorecard(rows=rows, total=total, scored=scored, weighted=sum(1 for c in criteria if c.weight > 0))


def _money(value, *, field: str) -> Decimal | None:
    """A candidate's figure in yuan, or None when left empty."""
    if value is None or str(value).strip() == "":
        return None
    return amount_input(value, field=field, maximum=Decimal("1000000"))


@transaction.atomic
def candidate_save(
    *,
    candidate: Candidate | None = None,
    name: str,
    category: str = "",
    description: str = "",
    retail_price=None,
    unit_cost=None,
    source: str = "",
    notes: str = "",
    by=None,
) -> Candidate:
    name = (name or "").strip()
    if not name:
        raise BusinessError(_("Give the candidate a name."), field="name")
    if candidate is not None and candidate.status == CandidateStatus.ADOPTED:
        raise Conflict(_("An adopted candidate is the catalog's now: change the product there."), field="name")
    candidate = candidate or Candidate(created_by=by)
    candidate.name = name[:100]
    candidate.category = (category or "").strip()[:40]
    candidate.description = (description or "").strip()[:5000]
    candidate.retail_price = _money(retail_price, field="retail_price")
    candidate.unit_cost = _money(unit_cost, field="unit_cost")
    candidate.source = (source or "").strip()[:100]
    candidate.notes = (notes or "").strip()[:5000]
    candidate.save()
    return candidate


@transaction.atomic
def candidate_score(*, candidate: Candidate, scores: dict[int, tuple[object, str]], by=None) -> int:
    """Score a candidate by hand: ``{criterion id: (1–5 or empty to clear, note)}``. Criteria scored
    from the candidate's figures cannot be scored by hand. All or nothing; returns the scores kept."""
    criteria = {c.pk: c for c in Criterion.objects.filter(pk__in=list(scores))}
    clean: dict[int, tuple[int | None, str]] = {}
    for criterion_id, (raw, note) in scores.items():
        criterion = criteria.get(criterion_id)
        if criterion is None:
            raise BusinessError(_("There is no such criterion."), field="criterion")
        if criterion.rule:
            raise BusinessError(
                _("%(name)s is scored from the candidate's figures.") % {"name": criterion.name}, field="score"
            )
        if raw is None or str(raw).strip() == "":
            clean[criterion_id] = (None, "")
            continue
        try:
            given = int(str(raw).strip())
        except ValueError:
            given = 0
        if not 1 <= given <= 5:
            raise BusinessError(_("%(name)s: score 1 to 5.") % {"name": criterion.name}, field="score")
        clean[criterion_id] = (given, (note or "").strip()[:200])
    kept = 0
    for criterion_id, (value, note) in clean.items():
        if value is None:
            Score.objects.filter(candidate=candidate, criterion_id=criterion_id).delete()
            continue
        Score.objects.update_or_create(
            candidate=candidate, criterion_id=criterion_id, defaults={"score": value, "note": note}
        )
        kept += 1
    return kept


@transaction.atomic
def candidate_photo_add(*, candidate: Candidate, upload, caption: str = "", by=None) -> CandidatePhoto:
    """A photo of the sample or its packaging, checked from the file; at most nine."""
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    count = candidate.photos.count()
    if count >= MAX_PHOTOS:
        raise BusinessError(_("A candidate has at most nine photos."), field="photo")
    check_picture(upload, field="photo")
    photo = CandidatePhoto(candidate=candidate, position=count, caption=(caption or "").strip()[:100])
    photo.thumbnail = thumbnail_of(upload)
    photo.image = upload
    photo.save()
    return photo


@transaction.atomic
def candidate_set_status(*, candidate: Candidate, status: str, by=None) -> Candidate:
    """Shortlist, reject or reconsider a candidate (adopting is ``candidate_adopt``)."""
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if status not in {CandidateStatus.CONSIDERING, CandidateStatus.SHORTLISTED, CandidateStatus.REJECTED}:
        raise BusinessError(_("Choose considering, shortlisted or rejected."), field="status")
    if candidate.status == CandidateStatus.ADOPTED:
        raise Conflict(_("The candidate was adopted into the catalog."), field="status")
    candidate.status = status
    candidate.save(update_fields=["status"])
    return candidate


@transaction.atomic
def candidate_adopt(*, candidate: Candidate, sku_code: str, by=None) -> Product:
    """Make the candidate a catalog product, with its photos as the product's pictures and one SKU
    at the planned retail price (level prices are set on the price grid afterwards)."""
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status == CandidateStatus.ADOPTED:
        raise Conflict(_("The candidate was adopted into the catalog."), field="status")
    code = (sku_code or "").strip().upper()
    if not code or len(code) > 40 or not all(ch.isalnum() or ch in "-_" for ch in code) or not code.isascii():
        raise BusinessError(_("Enter a SKU code of letters, digits and dashes, e.g. GLOW-30ML."), field="sku_code")
    if SKU.objects.filter(code=code).exists():
        raise BusinessError(_("The SKU code %(code)s is taken.") % {"code": code}, field="sku_code")
    if candidate.retail_price is None:
        raise BusinessError(_("Set the planned retail price first: the SKU is sold at it."), field="retail_price")
    product = Product.objects.create(name=candidate.name, description=candidate.description)
    SKU.objects.create(product=product, code=code, name=candidate.name[:100], retail_price=candidate.retail_price)
    for photo in candidate.photos.all():
        with photo.image.open("rb") as f:
            content = ContentFile(f.read(), name=(photo.image.name or "photo").rsplit("/", 1)[-1])
        product_image_add(product=product, upload=content, caption=photo.caption, position=photo.position)
    candidate.status, candidate.product = CandidateStatus.ADOPTED, product
    candidate.save(update_fields=["status", "product"])
    return product
