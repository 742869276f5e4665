"""Bulk actions on console lists: the same service as the single-object page, run for each
selected row in its own transaction, so that one refusal changes nothing for that row and
nothing for the others. The page then says how many succeeded and why the others did not;
nothing a row does can turn into a server error."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib import messages
from django.db import transaction
from django.utils.translation import gettext

from weishang.core.errors import BusinessError

logger = logging.getLogger(__name__)
SHOWN_FAILURES = 10


@dataclass
class Outcome:
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (row, why)


def run_each(rows: Iterable, run: Callable[[object], object], *, name: Callable[[object], str]) -> Outcome:
    """``run(row)`` for each row, each in its own transaction; a BusinessError is the row's
    reason, anything else is logged and reported as unexpected."""
    outcome = Outcome()
    for row in rows:
        try:
            with transaction.atomic():
                run(row)
        except BusinessError as exc:
            outcome.failed.append((name(row), str(exc.message)))
        except Exception:  # one row's fault must not stop the others or the page
            logger.exception("bulk action failed on %r", row)
            outcome.failed.append((name(row), gettext("an unexpected error (it has been logged)")))
        else:
            outcome.done.append(name(row))
    return outcome


def report(request, outcome: Outcome, *, done: Callable[[int], str], failed: Callable[[int], str]) -> None:
    """One success message (``done(n)``) and one warning (``failed(n)``) followed by the rows that
    failed and why (the first ten)."""
    if outcome.done:
        messages.success(request, done(len(outcome.done)))
    if outcome.failed:
        n = len(outcome.failed)
        reasons = "; ".join(f"{row}: {why}" for row, why in outcome.failed[:SHOWN_FAILURES])
        if n > SHOWN_FAILURES:
            reasons += "; " + gettext("and %(n)d more") % {"n": n - SHOWN_FAILURES}
        messages.warning(request, f"{failed(n)} {reasons}")
