"""Concurrent ledger writes in real threads and real transactions (SQLite WAL + IMMEDIATE, or
PostgreSQL row locks): no lost update, no double withdrawal, one reversal, one posting per key."""

from __future__ import annotations

import os
import sys

import pytest
from django.db import connection
from ledger_helpers import D, balances

from weishang.core.errors import Conflict
from weishang.ledger import services
from weishang.ledger.models import Account, JournalEntry, Purpose, Withdrawal, WithdrawalStatus
from weishang.ledger.selectors import account_balance, ledger_verify

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "concurrency"))
from threads import run_together  # noqa: E402  tests/concurrency/threads.py

pytestmark = pytest.mark.django_db(transaction=True)
P, S = Purpose, WithdrawalStatus
N = 8


def split(results, error_type):
    ok = [r for r in results if not isinstance(r, Exception)]
    failed = [r for r in results if isinstance(r, Exception)]
    unexpected = [r for r in failed if not isinstance(r, error_type)]
    assert not unexpected, unexpected
    return ok, failed


def test_two_requests_cannot_both_spend_the_same_balance(agent, reward, withdraw):
    reward(agent, "100.00")
    results = run_together(*[lambda: withdraw("60.00") for _ in range(N)])
    ok, failed = split(results, Conflict)
    assert len(ok) == 1 and len(failed) == N - 1
    assert all(e.field == "amount" for e in failed)
    b = balances(agent)
    assert (b.available, b.in_transit) == (D("40.00"), D("60.00"))
    assert Withdrawal.objects.count() == 1
    assert ledger_verify() == []


def test_requests_that_fit_all_succeed_and_the_rest_are_refused(agent, reward, withdraw):
    reward(agent, "100.00")
    results = run_together(*[lambda: withdraw("30.00") for _ in range(N)])
    ok, failed = split(results, Conflict)
    assert len(ok) == 3 and len(failed) == N - 3
    assert (balances(agent).available, balances(agent).in_transit) == (D("10.00"), D("90.00"))
    assert ledger_verify() == []


def test_concurrent_postings_to_one_account_lose_no_update(acct, make_agent):
    agents = [make_agent("vip") for _ in range(N)]
    cash = acct(None, P.BRAND_CASH)
    wallets = [acct(a, P.AGENT_WALLET) for a in agents]

    def topup(wallet):
        return lambda: services.journal_post(lines=[services.debit(cash, "10.01"), services.credit(wallet, "10.01")])

    # every transaction touches brand cash plus its own wallet, in both pk orders: no deadlock either
    split(run_together(*[topup(w) for w in wallets]), Conflict)
    assert account_balance(cash) == D("10.01") * N
    assert all(account_balance(w) == D("10.01") for w in wallets)
    assert ledger_verify() == []


def test_spending_one_wallet_from_many_threads_never_overdraws(acct, agent):
    cash, wallet = acct(None, P.BRAND_CASH), acct(agent, P.AGENT_WALLET)
    services.journal_post(lines=[services.debit(cash, "50.00"), services.credit(wallet, "50.00")])
    fee = acct(None, P.BRAND_FEE_INCOME)
    results = run_together(
        *[
            lambda: services.journal_post(lines=[services.debit(wallet, "20.00"), services.credit(fee, "20.00")])
            for _ in range(N)
        ]
    )
    ok, failed = split(results, Conflict)
    assert len(ok) == 2
    assert account_balance(wallet) == D("10.00")
    assert ledger_verify() == []


def test_an_entry_is_reversed_once_however_many_ask(acct, agent):
    cash, wallet = acct(None, P.BRAND_CASH), acct(agent, P.AGENT_WALLET)
    entry = services.journal_post(lines=[services.debit(cash, "50.00"), services.credit(wallet, "50.00")])
    ok, failed = split(run_together(*[lambda: services.journal_reverse(entry=entry) for _ in range(N)]), Conflict)
    assert len(ok) == 1 and all(e.code == "already_reversed" for e in failed)
    assert JournalEntry.objects.filter(reverses=entry).count() == 1
    assert account_balance(wallet) == 0
    assert ledger_verify() == []


def test_one_key_posts_once_however_many_retries_arrive_together(acct, agent):
    cash, wallet = acct(None, P.BRAND_CASH), acct(agent, P.AGENT_WALLET)
    results = run_together(
        *[
            lambda: services.journal_post(
                lines=[services.debit(cash, "50.00"), services.credit(wallet, "50.00")], idempotency_key="pay:42"
            )
            for _ in range(N)
        ]
    )
    ok, _failed = split(results, ())
    assert len({e.pk for e in ok}) == 1
    assert account_balance(wallet) == D("50.00")
    assert ledger_verify() == []


def test_one_withdrawal_per_key_however_many_retries_arrive_together(agent, reward, withdraw):
    reward(agent, "100.00")
    ok, _failed = split(run_together(*[lambda: withdraw("60.00", idempotency_key="tap-1") for _ in range(N)]), ())
    assert len({w.pk for w in ok}) == 1
    assert (balances(agent).available, balances(agent).in_transit) == (D("40.00"), D("60.00"))


def test_two_finance_clicks_pay_once(agent, reward, withdraw, finance, make_staff):
    reward(agent, "100.00")
    w = withdraw("60.00")
    services.withdrawal_approve(withdrawal=w, by=finance)
    other = make_staff("finance")
    results = run_together(
        *[
            lambda u=u, i=i: services.withdrawal_mark_paid(withdrawal=w, by=u, reference=f"WX{i}")
            for i, u in enumerate([finance, other] * (N // 2))
        ]
    )
    ok, failed = split(results, Conflict)
    assert len(ok) == 1
    w.refresh_from_db()
    assert w.status == S.PAID and account_balance(owner=None, purpose=P.BRAND_CASH) == D("-59.64")
    assert JournalEntry.objects.filter(kind="withdrawal.payout").count() == 1
    assert ledger_verify() == []


def test_reject_and_pay_racing_settle_on_one_outcome(agent, reward, withdraw, finance):
    reward(agent, "100.00")
    w = withdraw("60.00")
    results = run_together(
        lambda: services.withdrawal_reject(withdrawal=w, by=finance, note="no"),
        lambda: services.withdrawal_approve(withdrawal=w, by=finance),
    )
    ok, failed = split(results, Conflict)
    assert len(ok) == 1 and len(failed) == 1
    w.refresh_from_db()
    expected = (D("100.00"), 0) if w.status == S.REJECTED else (D("40.00"), D("60.00"))
    assert (balances(agent).available, balances(agent).in_transit) == expected
    assert ledger_verify() == []


def test_first_use_of_an_account_from_many_threads_opens_one(make_agent):
    agent = make_agent("vip")
    results = run_together(*[lambda: services.account_for(owner=agent, purpose=P.AGENT_WALLET) for _ in range(N)])
    ok, _failed = split(results, ())
    assert len({a.pk for a in ok}) == 1
    assert Account.objects.filter(owner=agent).count() == 1
    connection.close()
