"""Product selection (选品): candidates scored against weighted criteria.

The source's criteria for a product a micro-business can sell: a price under 300 yuan, a target
group of young women with modest incomes, a visible effect, easy to store and to ship, packaging
that photographs well — and, for the brand's sake, the margin and repeat purchases. Each criterion
has a weight the brand sets (0 switches it off). Two are scored from the candidate's own figures
(``rule``: its retail price, its margin); the others by the people who tried it, 1–5. The weighted
score is Σ weight × score / Σ weight over the criteria scored, shown out of 100.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from weishang.catalog.models import Product
from weishang.core import clock
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES


class Rule(models.TextChoices):
    MANUAL = "", _("Scored by hand (1–5)")
    PRICE = "price", _("From the retail price (under 300 yuan scores 5)")
    MARGIN = "margin", _("From the margin (70% or more scores 5)")


class Criterion(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60)
    help_text = models.CharField(_("what to look for"), max_length=200, blank=True)
    weight = models.DecimalField(
        _("weight"), max_digits=4, decimal_places=1, default=Decimal("1.0"), help_text=_("0 to 10; 0 switches it off.")
    )
    rule = models.CharField(_("scored"), max_length=10, choices=Rule.choices, blank=True, default="")
    position = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("selection criterion")
        verbose_name_plural = _("selection criteria")
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=0) & Q(weight__lte=10), name="criterion_weight_0_to_10")
        ]

    def __str__(self) -> str:
        return self.name


class CandidateStatus(models.TextChoices):
    CONSIDERING = "considering", _("Considering")
    SHORTLISTED = "shortlisted", _("Shortlisted")
    ADOPTED = "adopted", _("Adopted")
    REJECTED = "rejected", _("Rejected")


def _money(verbose_name, **kw) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kw)


class Candidate(models.Model):
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=40, blank=True, help_text=_("e.g. skincare, health"))
    description = models.TextField(_("description"), blank=True)
    retail_price = _money(_("planned retail price"), null=True, blank=True)
    unit_cost = _money(_("expected unit cost"), null=True, blank=True, help_text=_("What the factory charges."))
    source = models.CharField(_("factory or supplier"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=CandidateStatus.choices, default=CandidateStatus.CONSIDERING
    )
    product = models.OneToOneField(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="selection_candidate",
        verbose_name=_("catalog product"),
    )
    created_at = models.DateTimeField(_("created"), default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("candidate product")
        verbose_name_plural = _("candidate products")
        constraints = [
            models.CheckConstraint(
                condition=Q(retail_price__gte=0) | Q(retail_price__isnull=True), name="candidate_price_ok"
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0) | Q(unit_cost__isnull=True), name="candidate_cost_ok"),
        ]

    def __str__(self) -> str:
        return self.name


class Score(models.Model):
    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, related_name="scores", verbose_name=_("candidate")
    )
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="+", verbose_name=_("criterion"))
    score = models.PositiveSmallIntegerField(_("score (1–5)"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(fields=["candidate", "criterion"], name="score_one_per_criterion"),
            models.CheckConstraint(condition=Q(score__gte=1) & Q(score__lte=5), name="score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.candidate} · {self.criterion}: {self.score}"


class CandidatePhoto(models.Model):
    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, related_name="photos", verbose_name=_("candidate")
    )
    image = models.FileField(_("picture"), upload_to="selection/")
    thumbnail = models.FileField(_("thumbnail"), upload_to="selection/thumbs/", editable=False)
    caption = models.CharField(_("caption"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("candidate photo")
        verbose_name_plural = _("candidate photos")

    def __str__(self) -> str:
        return self.caption or f"{self.candidate} #{self.position}"
