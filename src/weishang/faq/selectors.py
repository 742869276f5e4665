"""What the FAQ shows: entries a reader may see, searched; the most searched questions."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from weishang.faq import search
from weishang.faq.models import FaqCategory, FaqEntry, FaqSearch


def visible_entries(*, agent=None) -> QuerySet[FaqEntry]:
    """Published entries ``agent`` may see (their level at or above each one's ``min_level``);
    without an agent, the public ones only."""
    entries = FaqEntry.objects.filter(published=True).select_related("category")
    if agent is None:
        return entries.filter(min_level__isnull=True)
    return entries.filter(Q(min_level__isnull=True) | Q(min_level__rank__gte=agent.level.rank))


def faq_search(query: str, *, agent=None, limit: int = 20) -> list[FaqEntry]:
    """The entries that hold every word of ``query``, best first, as ``agent`` may see them."""
    found = search.words(query)
    ids = search.ranked_ids(found, limit * 4)
    if not ids:
        return []
    allowed = {entry.pk: entry for entry in visible_entries(agent=agent).filter(pk__in=ids)}
    return [allowed[i] for i in ids if i in allowed][:limit]


def categories_with_entries(*, agent=None) -> list[tuple[FaqCategory, list[FaqEntry]]]:
    by_category: dict[int, list[FaqEntry]] = {}
    for entry in visible_entries(agent=agent):
        by_category.setdefault(entry.category_id, []).append(entry)
    return [(c, by_category[c.pk]) for c in FaqCategory.objects.filter(pk__in=by_category)]


def most_searched(limit: int = 10):
    """The searches asked most: (query, times, answers found the last time)."""
    return FaqSearch.objects.values("query").annotate(times=Count("pk")).order_by("-times", "query")[:limit]
