"""Property: any sequence of balanced postings, reversals and withdrawal steps, accepted or refused,
leaves the ledger verifiably right — every balance equals a naive recomputation, the signed
balances sum to zero, no floored account is below zero, and the services refused exactly what
the rules forbid (a floor broken, an overdrawing withdrawal, a step out of order, a second reversal)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from decimal import ROUND_DOWN, Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from weishang.core.errors import Conflict
from weishang.ledger import services
from weishang.ledger.models import NON_NEGATIVE, NORMAL, Account, Purpose, WithdrawalStatus
from weishang.ledger.selectors import ledger_verify, trial_balance

pytestmark = pytest.mark.django_db
P, S = Purpose, WithdrawalStatus
# Payouts in transit are moved by the withdrawal steps only (verify checks them against the
# open withdrawals), so free postings use the other accounts.
FREE_AGENT_SIDE = (P.AGENT_WALLET, P.AGENT_REWARDS_FROZEN, P.AGENT_REWARDS_AVAILABLE, P.AGENT_DEPOSIT)
BRAND_SIDE = (P.BRAND_CASH, P.BRAND_REWARD_EXPENSE, P.BRAND_FEE_INCOME)
N_AGENTS = 2
N_FREE = N_AGENTS * len(FREE_AGENT_SIDE) + len(BRAND_SIDE)
STEPS = ("approve", "reject", "pay", "fail")
FEE_RATES = (Decimal("0"), Decimal("0.006"), Decimal("0.1"))
CENT = Decimal("0.01")

fen = st.one_of(st.integers(-20_000, -1), st.integers(1, 20_000))
posting = st.tuples(
    st.just("post"),
    st.lists(st.tuples(st.integers(0, N_FREE - 1), fen), min_size=1, max_size=4),
    st.integers(0, N_FREE - 1),
)  # free lines, then the account that balances them
reversal = st.tuples(st.just("reverse"), st.integers(0, 1_000))
withdrawal = st.tuples(
    st.just("withdraw"), st.integers(0, N_AGENTS - 1), st.integers(1, 20_000), st.sampled_from(FEE_RATES)
)
# a request followed at once by the usual steps, so that every outcome is reached often
withdrawal_path = st.tuples(
    st.just("withdraw+"),
    withdrawal,
    st.sampled_from(
        [(), ("approve",), ("approve", "pay"), ("reject",), ("approve", "fail"), ("approve", "pay", "fail")]
    ),
)
step = st.tuples(st.just("step"), st.integers(0, 3), st.sampled_from(STEPS))  # on one of the latest withdrawals
operations = st.lists(
    st.one_of(posting, posting, reversal, withdrawal, withdrawal_path, step), min_size=1, max_size=30
).map(
    lambda ops: [o for op in ops for o in ([op[1]] + [("step", 0, s) for s in op[2]] if op[0] == "withdraw+" else [op])]
)


@pytest.fixture
def world(make_agent, finance):
    agents = [make_agent("vip"), make_agent("city")]
    free = [services.account_for(owner=a, purpose=p) for a in agents for p in FREE_AGENT_SIDE]
    free += [services.account_for(owner=None, purpose=p) for p in BRAND_SIDE]
    return agents, free, finance


def refused_by_a_floor(lines, balance) -> bool:
    """What the rule says: an account whose purpose has a floor, taken down below zero."""
    change, purpose = defaultdict(Decimal), {}
    for account, amount in lines:
        change[account.pk] += amount * NORMAL[account.purpose]
        purpose[account.pk] = account.purpose
    return any(d < 0 and purpose[pk] in NON_NEGATIVE and balance[pk] + d < 0 for pk, d in change.items())


NEXT = {
    ("approve", S.REQUESTED): S.APPROVED,
    ("reject", S.REQUESTED): S.REJECTED,
    ("pay", S.APPROVED): S.PAID,
    ("fail", S.APPROVED): S.FAILED,
}


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_random_postings_reversals_and_withdrawals_keep_the_ledger_right(world, ops):
    agents, free, finance = world
    refs = itertools.count()
    with transaction.atomic():  # a savepoint per example, rolled back at the end
        balance: dict[int, Decimal] = defaultdict(Decimal)  # the naive model, on each normal side
        posted: list[tuple[object, list]] = []  # accepted free entries and their lines
        reversed_: set[int] = set()
        withdrawals: list[list] = []  # [withdrawal, status in the model]

        def acct(owner, purpose):
            return services.account_for(owner=owner, purpose=purpose)

        def book(lines):
            for account, amount in lines:
                balance[account.pk] += amount * NORMAL[account.purpose]

        for agent in agents:  # something to withdraw from the start
            lines = [
                services.debit(acct(None, P.BRAND_REWARD_EXPENSE), "100.00"),
                services.credit(acct(agent, P.AGENT_REWARDS_AVAILABLE), "100.00"),
            ]
            services.journal_post(lines=lines, memo="opening rewards")
            book(lines)

        for op in ops:
            if op[0] == "post":
                _kind, spec, balancing = op
                lines = [(free[i], Decimal(n) / 100) for i, n in spec]
                rest = -sum((v for _a, v in lines), Decimal("0.00"))
                if rest:
                    lines.append((free[balancing], rest))
                if len(lines) < 2:
                    continue
                expect_refusal = refused_by_a_floor(lines, balance)
                try:
                    entry = services.journal_post(lines=lines, memo="random")
                except Conflict:
                    assert expect_refusal, lines
                    event("posting refused by a floor")
                    continue
                assert not expect_refusal, lines
                posted.append((entry, lines))
                book(lines)

            elif op[0] == "reverse":
                if not posted:
                    continue
                entry, lines = posted[op[1] % len(posted)]
                mirrored = [(a, -v) for a, v in lines]
                if entry.pk in reversed_ or entry.reverses_id:
                    with pytest.raises(Conflict):
                        services.journal_reverse(entry=entry)
                    event("second reversal refused")
                    continue
                expect_refusal = refused_by_a_floor(mirrored, balance)
                try:
                    done = services.journal_reverse(entry=entry)
                except Conflict:
                    assert expect_refusal
                    event("reversal refused by a floor")
                    continue
                assert not expect_refusal
                event("reversed")
                reversed_.add(entry.pk)
                posted.append((done, mirrored))
                book(mirrored)

            elif op[0] == "withdraw":
                _kind, i, cents, rate = op
                agent, amount = agents[i], Decimal(cents) / 100
                available, in_transit = acct(agent, P.AGENT_REWARDS_AVAILABLE), acct(agent, P.PAYOUTS_IN_TRANSIT)
                try:
                    w = services.withdrawal_request(
                        agent=agent,
                        amount=amount,
                        method="wechat",
                        account_name="王静",
                        account_no="wx_wang",
                        by=agent.user,
                        fee_rate=rate,
                        minimum=Decimal("0"),
                    )
                except Conflict:
                    assert balance[available.pk] < amount
                    event("withdrawal refused: not enough available")
                    continue
                assert balance[available.pk] >= amount
                assert w.fee == (amount * rate).quantize(CENT, rounding=ROUND_DOWN) and w.net == amount - w.fee
                event("withdrawal requested")
                withdrawals.append([w, S.REQUESTED])
                book([(available, amount), (in_transit, -amount)])

            else:
                if not withdrawals:
                    continue
                _kind, k, name = op
                row = withdrawals[-1 - k % len(withdrawals)]
                w, status = row
                run = {
                    "approve": lambda w=w: services.withdrawal_approve(withdrawal=w, by=finance),
                    "reject": lambda w=w: services.withdrawal_reject(withdrawal=w, by=finance, note="no"),
                    "pay": lambda w=w: services.withdrawal_mark_paid(
                        withdrawal=w, by=finance, reference=f"T{next(refs)}"
                    ),
                    "fail": lambda w=w: services.withdrawal_fail(withdrawal=w, by=finance, note="bounced"),
                }[name]
                target = NEXT.get((name, status))
                if target is None:
                    with pytest.raises(Conflict):
                        run()
                    event("withdrawal step out of order refused")
                    continue
                run()
                event(f"withdrawal {target}")
                row[1] = target
                available = acct(w.agent, P.AGENT_REWARDS_AVAILABLE)
                in_transit = acct(w.agent, P.PAYOUTS_IN_TRANSIT)
                if target in (S.REJECTED, S.FAILED):
                    book([(available, -w.amount), (in_transit, w.amount)])
                elif target == S.PAID:
                    book([(in_transit, w.amount), (acct(None, P.BRAND_CASH), -w.net)])
                    if w.fee:
                        book([(acct(None, P.BRAND_FEE_INCOME), -w.fee)])

        assert ledger_verify() == []
        accounts = list(Account.objects.all())
        cached = {a.pk: a.balance for a in accounts}
        assert cached == {pk: balance[pk] for pk in cached}
        assert sum(a.signed_balance for a in accounts) == 0
        totals = trial_balance()
        assert totals["debits"] == totals["credits"] and totals["signed_balances"] == 0
        assert all(a.balance >= 0 for a in accounts if a.purpose in NON_NEGATIVE)
        transaction.set_rollback(True)
