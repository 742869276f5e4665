"""百问百答: categories, questions and answers (visible by level), and what people searched."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from weishang.core import clock


class FaqCategory(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    position = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("FAQ category")
        verbose_name_plural = _("FAQ categories")

    def __str__(self) -> str:
        return self.name


class FaqEntry(models.Model):
    """A question and its answer. ``min_level``: agents at that level or above see it; empty:
    everyone, the public included. ``terms`` is the segmented text the search index holds (kept
    by ``faq.services``; never typed)."""

    category = models.ForeignKey(
        FaqCategory, on_delete=models.PROTECT, related_name="entries", verbose_name=_("category")
    )
    question = models.CharField(_("question"), max_length=200)
    answer = models.TextField(_("answer"))
    min_level = models.ForeignKey(
        "channel.Level",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("for levels from"),
        help_text=_("Empty: everyone, the public included."),
    )
    published = models.BooleanField(_("published"), default=True)
    position = models.PositiveSmallIntegerField(_("display order"), default=0)
    terms = models.TextField(editable=False, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)

    class Meta:
        ordering = ["category__position", "position", "pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return self.question


class FaqSearch(models.Model):
    """One search: what was asked, how it was segmented, how many answers it found (the brand's
    "most searched" and "searched but not answered")."""

    query = models.CharField(_("search"), max_length=100)
    terms = models.CharField(_("words"), max_length=200, blank=True)
    hits = models.PositiveIntegerField(_("answers found"), default=0)
    at = models.DateTimeField(_("when"), default=clock.now)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("FAQ search")
        verbose_name_plural = _("FAQ searches")
        indexes = [models.Index(fields=["query"], name="faqsearch_query")]

    def __str__(self) -> str:
        return self.query
