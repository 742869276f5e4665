"""What settlement writes, checked against what the engine computed: settlement stores its lines,
journal lines and reports without model instances (``core.bulk.insert_rows``) and changes balances
set-wise, so these tests read everything back through the ORM, as the pages and ``ledger verify``
do. Batches of two lines and four reports here, so that a small channel makes several."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from weishang.channel.models import Agent
from weishang.core import clock
from weishang.ledger.models import Account, JournalEntry, JournalLine, Purpose
from weishang.ledger.selectors import ledger_verify
from weishang.plans import Engine, PeriodClosed, period_label
from weishang.rewards import services
from weishang.rewards.hierarchy import DatabaseHierarchy, day_range
from weishang.rewards.models import RewardLine, RewardStatus, SettlementReport
from weishang.rewards.periods import parse_period
from weishang.rewards.plan_versions import plan_in_force, plan_of
from weishang.trade.selectors import team_purchase_volume

P = Purpose


def _engine_lines(label: str):
    """The lines the engine computes for the period, from a fresh view (nothing written)."""
    kind, start, end = parse_period(label)
    version = plan_in_force(timezone.make_aware(datetime.combine(end, datetime.max.time())))
    event = PeriodClosed(event_id=f"period:{label}", period=kind, start=start, end=end)
    return version, Engine(plan_of(version)).process(event, DatabaseHierarchy())


@pytest.mark.parametrize("kind", ["month", "quarter"])
def test_settlement_stores_exactly_the_engines_lines_and_posts_them(ladder_channel, monkeypatch, kind):
    monkeypatch.setattr(services, "BATCH", 2)
    monkeypatch.setattr(services, "REPORT_BATCH", 4)
    label = period_label(kind, ladder_channel)
    _kind, start, end = parse_period(label)
    version, computed = _engine_lines(label)
    assert len(computed) == 4  # four ladder lines in the month; four trip prizes in the quarter
    before = clock.now()
    expense = Account.objects.get(owner=None, purpose=P.BRAND_REWARD_EXPENSE)  # the orders' referral rewards

    run = services.settle_period(period=label, today=end + timedelta(days=1))

    stored = {
        (line.rule_id, line.beneficiary_id, line.generation): line
        for line in RewardLine.objects.filter(source_event=f"period:{label}").select_related("entry")
    }
    assert set(stored) == {(line.rule_id, line.beneficiary, line.generation) for line in computed}
    for line in computed:
        row = stored[(line.rule_id, line.beneficiary, line.generation)]
        # The explanation (names in Chinese included) and both sentences read back as computed.
        assert (row.amount, row.kind, row.explanation, row.explanation_zh, row.explanation_en) == (
            line.amount,
            line.kind,
            line.explanation,
            line.explanation_zh,
            line.explanation_en,
        )
        assert (row.plan_id, row.period, row.payer_id, row.order_id, row.release_at) == (
            version.pk,
            label,
            None,
            None,
            None,
        )
        # ladder money is available at once; a trip is awarded (the brand owes the prize)
        assert row.status == (RewardStatus.AVAILABLE if line.kind == "reward" else RewardStatus.AWARDED)
        assert before <= row.created_at <= clock.now()
        assert row.entry.kind == "reward" and row.entry.reference == f"period:{label}"
        credited = (
            Account.objects.get(owner=row.beneficiary_id, purpose=P.AGENT_REWARDS_AVAILABLE)
            if line.kind == "reward"
            else Account.objects.get(owner=None, purpose=P.BRAND_PRIZES_PAYABLE)
        )
        assert JournalLine.objects.filter(entry=row.entry, account=credited, amount=-row.amount).exists()

    # One entry per batch of two lines, each balanced; balances are the lines' sums.
    entries = JournalEntry.objects.filter(reference=f"period:{label}")
    assert entries.count() == 2
    assert all(entry.lines.aggregate(s=Sum("amount"))["s"] == 0 for entry in entries)
    total = sum(line.amount for line in computed)
    assert Account.objects.get(pk=expense.pk).balance == expense.balance + total
    per_agent = defaultdict(Decimal)
    for line in computed:
        per_agent[line.beneficiary] += line.amount
    if kind == "month":
        assert {a.owner_id: a.balance for a in Account.objects.filter(purpose=P.AGENT_REWARDS_AVAILABLE)} == per_agent
    else:
        assert Account.objects.get(owner=None, purpose=P.BRAND_PRIZES_PAYABLE).balance == total
    assert ledger_verify() == []

    # The reports: one per agent, the figures the ladder used and what each was paid.
    reports = {rep.agent_id: rep for rep in SettlementReport.objects.filter(run=run)}
    assert set(reports) == set(Agent.objects.values_list("pk", flat=True))
    since, until = day_range(start, end)
    for agent_id, rep in reports.items():
        assert rep.team_purchase == team_purchase_volume(agent=agent_id, start=since, end=until)
        assert rep.rewards == per_agent.get(agent_id, 0)
    assert sum(rep.personal_purchase for rep in reports.values()) == run.volume
    assert (run.lines, run.total) == (4, total)


def test_a_rerun_after_the_reports_were_half_written_adds_only_the_missing_ones(ladder_channel, monkeypatch):
    monkeypatch.setattr(services, "REPORT_BATCH", 4)
    label = period_label("month", ladder_channel)
    _kind, _start, end = parse_period(label)
    real = services.bulk.insert_rows
    calls = {"reports": 0}

    def dying_after_first_report_batch(model, *args, **kwargs):
        if model is SettlementReport:
            calls["reports"] += 1
            if calls["reports"] == 2:
                raise RuntimeError("killed")
        return real(model, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(services.bulk, "insert_rows", dying_after_first_report_batch)
        with pytest.raises(RuntimeError):
            services.settle_period(period=label, today=end + timedelta(days=1))
    assert SettlementReport.objects.filter(run__period=label).count() == 4
    run = services.settle_period(period=label, today=end + timedelta(days=1))
    assert run.finished_at is not None
    assert sorted(SettlementReport.objects.filter(run=run).values_list("agent_id", flat=True)) == sorted(
        Agent.objects.values_list("pk", flat=True)
    )
    assert ledger_verify() == []
