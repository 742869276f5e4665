"""settle_period killed half-way, then run again, ends exactly where an uninterrupted run ends.

The period's lines are stored in batches (``rewards.services.BATCH``, set to 1 here so that a small
channel makes several), each batch in its own transaction (its journal entry, then its lines), then
the per-agent reports in batches (``REPORT_BATCH``, 1 here too), then the run is marked finished.
The kill is simulated at each of those places by making the n-th call raise (everything before it
stays written, as after a real kill in autocommit mode; the batch being written is rolled back by
its own transaction). The uninterrupted run is made first on the very same database inside a
transaction that is rolled back, so both start from the same rows. Compared: every ledger account
balance, every journal entry (kind, reference, memo, lines), every reward line (with the entry it
was posted in), the settlement runs and reports. A rerun after completion changes nothing.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction

from weishang.ledger.models import Account, JournalEntry
from weishang.ledger.selectors import ledger_verify
from weishang.plans import period_label
from weishang.rewards import services
from weishang.rewards.models import RewardLine, SettlementReport, SettlementRun
from weishang.rewards.periods import parse_period


class Killed(Exception):
    """The process died here."""


def _period(kind: str, day):
    label = period_label(kind, day)
    _kind, _start, end = parse_period(label)
    return label, end + timedelta(days=1)


def snapshot() -> dict:
    """Everything settlement can write, by natural keys (ids and timestamps differ between runs)."""

    def who(account: Account) -> tuple:
        return account.owner_id or 0, account.purpose  # 0: the brand

    entries = {}
    for entry in JournalEntry.objects.prefetch_related("lines__account"):
        entries[entry.pk] = (
            entry.kind,
            entry.reference,
            entry.memo,
            tuple(sorted((who(line.account), line.amount) for line in entry.lines.all())),
        )
    return {
        "balances": {who(a): a.balance for a in Account.objects.all()},
        "entries": Counter(entries.values()),
        "lines": Counter(
            (
                line.source_event,
                line.rule_id,
                line.beneficiary_id,
                line.generation,
                line.amount,
                line.kind,
                line.status,
                line.period,
                line.payer_id,
                line.order_id,
                line.release_at,
                repr(sorted(line.explanation.items())),
                line.explanation_en,
                line.explanation_zh,
                entries.get(line.entry_id),
                entries.get(line.release_entry_id),
                entries.get(line.reversal_entry_id),
            )
            for line in RewardLine.objects.all()
        ),
        "runs": {
            (run.period, run.plan_id): (run.lines, run.total, run.volume, run.finished_at is not None)
            for run in SettlementRun.objects.all()
        },
        "reports": Counter(
            (rep.run.period, rep.agent_id, rep.personal_purchase, rep.team_purchase, rep.rewards)
            for rep in SettlementReport.objects.select_related("run")
        ),
    }


def kill_on_call(monkeypatch, target, name: str, nth: int, when=lambda *a, **kw: True) -> None:
    """The n-th call of ``target.name`` (among those ``when`` accepts) kills the run instead."""
    real = getattr(target, name)
    calls = itertools.count(1)

    def dying(*args, **kwargs):
        if when(*args, **kwargs) and next(calls) == nth:
            raise Killed(f"killed at call {nth} of {name}")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, dying)


def writing(model):
    """Only calls of ``core.bulk.insert_rows`` that write ``model``'s rows."""
    return lambda written, *a, **kw: written is model


CRASHES = {
    # before the second batch of lines is written (the first is committed)
    "before-second-line-batch": lambda m: kill_on_call(m, services, "_store_new", 2),
    # inside the second batch: its journal entry is posted and the balances changed, its lines
    # are not written (the batch's transaction rolls back)
    "inside-second-line-batch": lambda m: kill_on_call(m, services.bulk, "insert_rows", 2, when=writing(RewardLine)),
    # the lines are all in; the second batch of reports is not
    "between-report-batches": lambda m: kill_on_call(
        m, services.bulk, "insert_rows", 2, when=writing(SettlementReport)
    ),
    # everything is written but the run is not marked finished
    "before-finishing": lambda m: kill_on_call(
        m, SettlementRun, "save", 1, when=lambda self, *a, **kw: "finished_at" in kw.get("update_fields", ())
    ),
}


@pytest.mark.parametrize("kind", ["month", "quarter"])
@pytest.mark.parametrize("crash", list(CRASHES))
def test_a_killed_settlement_rerun_ends_where_an_uninterrupted_one_does(ladder_channel, monkeypatch, kind, crash):
    monkeypatch.setattr(services, "BATCH", 1)
    monkeypatch.setattr(services, "REPORT_BATCH", 1)
    label, today = _period(kind, ladder_channel)
    start = snapshot()

    with transaction.atomic():  # the uninterrupted run, on the same database, then rolled back
        services.settle_period(period=label, today=today)
        expected = snapshot()
        transaction.set_rollback(True)
    assert snapshot() == start
    assert sum(n for key, n in expected["lines"].items() if key[7] == label) == 4  # period lines
    assert [finished for *_f, finished in expected["runs"].values()] == [True]

    with monkeypatch.context() as m:
        CRASHES[crash](m)
        with pytest.raises(Killed):
            services.settle_period(period=label, today=today)
    killed = snapshot()
    assert killed != expected
    assert not any(finished for *_f, finished in killed["runs"].values())
    assert ledger_verify() == []

    run = services.settle_period(period=label, today=today)
    assert run.finished_at is not None
    assert snapshot() == expected
    assert ledger_verify() == []

    again = services.settle_period(period=label, today=today)  # after completion: nothing changes
    assert (again.pk, again.finished_at) == (run.pk, run.finished_at)
    assert snapshot() == expected


def test_the_kill_points_are_reached_in_order(ladder_channel, monkeypatch):
    """Each simulated kill happens where its name says: what was written before it is there."""
    monkeypatch.setattr(services, "BATCH", 1)
    monkeypatch.setattr(services, "REPORT_BATCH", 1)
    label, today = _period("month", ladder_channel)
    written = {}
    for crash in CRASHES:
        with transaction.atomic():
            with monkeypatch.context() as m:
                CRASHES[crash](m)
                with pytest.raises(Killed):
                    services.settle_period(period=label, today=today)
            written[crash] = (
                RewardLine.objects.filter(period=label).count(),
                SettlementReport.objects.filter(run__period=label).count(),
            )
            transaction.set_rollback(True)
    assert written == {
        "before-second-line-batch": (1, 0),
        "inside-second-line-batch": (1, 0),
        "between-report-batches": (4, 1),
        "before-finishing": (4, 6),
    }
    assert not RewardLine.objects.filter(period=label).exists()
