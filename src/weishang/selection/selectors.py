"""Reads of product selection: the candidates ranked by their weighted score."""

from __future__ import annotations

from weishang.selection.models import Candidate, Criterion, Score
from weishang.selection.services import Scorecard, scorecard


def ranked(*, status: str | None = None) -> list[tuple[Candidate, Scorecard]]:
    """Every candidate (or those with ``status``) with its scorecard, the best first (unscored last)."""
    criteria = list(Criterion.objects.all())
    candidates = list(Candidate.objects.filter(**({"status": status} if status else {})).order_by("pk"))
    scores: dict[int, dict[int, Score]] = {}
    for s in Score.objects.filter(candidate__in=candidates):
        scores.setdefault(s.candidate_id, {})[s.criterion_id] = s
    cards = [(c, scorecard(c, criteria=criteria, scores=scores.get(c.pk, {}))) for c in candidates]
    cards.sort(key=lambda pair: (pair[1].total is None, -(pair[1].total or 0), pair[0].pk))
    return cards
