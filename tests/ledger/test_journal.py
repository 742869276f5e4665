"""The journal: balanced postings only, balances on each account's normal side, immutable entries,
idempotency keys, reversals (once), balance floors, statements, and ``ledger verify``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import translation
from ledger_helpers import D

from weishang.core.errors import BusinessError, Conflict
from weishang.ledger import selectors, services
from weishang.ledger.models import Account, ImmutableRecord, JournalEntry, JournalLine, Purpose
from weishang.ledger.selectors import account_balance, account_statement, ledger_verify
from weishang.ledger.services import InsufficientBalance, UnbalancedEntry, credit, debit, journal_post, journal_reverse

pytestmark = pytest.mark.django_db
P = Purpose


def topup(acct, agent, amount, **kw):
    """The agent paid the brand: brand cash up, the agent's wallet up."""
    return journal_post(
        lines=[debit(acct(None, P.BRAND_CASH), D(amount)), credit(acct(agent, P.AGENT_WALLET), D(amount))],
        memo="top-up",
        reference="payment:1",
        kind="wallet.topup",
        **kw,
    )


def spend(acct, agent, amount, **kw):
    """The agent pays an order from the wallet (the sale is booked as brand fee income here, for brevity)."""
    return journal_post(
        lines=[debit(acct(agent, P.AGENT_WALLET), D(amount)), credit(acct(None, P.BRAND_FEE_INCOME), D(amount))],
        memo="order",
        **kw,
    )


def snapshot():
    return (
        sorted(Account.objects.values_list("pk", "balance")),
        JournalEntry.objects.count(),
        JournalLine.objects.count(),
    )


# --- posting --------------------------------------------------------------------------------


def test_a_balanced_posting_moves_both_balances_the_way_a_person_reads_them(acct, agent, make_staff):
    clerk = make_staff("finance")
    entry = topup(acct, agent, "100.00", by=clerk)
    # brand cash is debit-normal, the wallet credit-normal: both read +100
    assert account_balance(acct(None, P.BRAND_CASH)) == D("100.00")
    assert account_balance(owner=agent, purpose=P.AGENT_WALLET) == D("100.00")
    assert sorted(entry.lines.values_list("account__purpose", "amount")) == [
        (P.AGENT_WALLET, D("-100.00")),
        (P.BRAND_CASH, D("100.00")),
    ]
    assert (entry.memo, entry.reference, entry.kind, entry.created_by) == ("top-up", "payment:1", "wallet.topup", clerk)
    assert entry.number.startswith("J") and entry.created_at
    spend(acct, agent, "30.50")
    assert account_balance(owner=agent, purpose=P.AGENT_WALLET) == D("69.50")
    assert selectors.trial_balance() == {"debits": D("130.50"), "credits": D("130.50"), "signed_balances": 0}
    assert ledger_verify() == []


def test_three_way_entry_with_repeated_account(acct, agent):
    cash, wallet, fee = acct(None, P.BRAND_CASH), acct(agent, P.AGENT_WALLET), acct(None, P.BRAND_FEE_INCOME)
    journal_post(lines=[debit(cash, "10.00"), debit(cash, "5.00"), credit(wallet, "14.00"), credit(fee, "1.00")])
    assert (account_balance(cash), account_balance(wallet), account_balance(fee)) == (D(15), D(14), D(1))
    assert ledger_verify() == []


@pytest.mark.parametrize(
    "lines, field",
    [
        (lambda c, w: [debit(c, "10.00"), credit(w, "9.99")], "lines"),  # off by a fen
        (lambda c, w: [debit(c, "10.00")], "lines"),  # one line
        (lambda c, w: [], "lines"),
        (lambda c, w: [debit(c, "10.00"), credit(w, "10.00"), (w, D("0"))], "lines"),  # a zero line
    ],
)
def test_unbalanced_or_degenerate_postings_change_nothing(acct, agent, lines, field):
    cash, wallet = acct(None, P.BRAND_CASH), acct(agent, P.AGENT_WALLET)
    before = snapshot()
    with pytest.raises(UnbalancedEntry) as err:
        journal_post(lines=lines(cash, wallet))
    assert err.value.field == field
    assert snapshot() == before


@pytest.mark.parametrize("amount", ["10.005", 10.0, "ten", "NaN", "Infinity", "1000000000000.00", None, True])
def test_amounts_must_be_exact_fen_and_never_float(acct, agent, amount):
    cash, wallet = acct(None, P.BRAND_CASH), acct(agent, P.AGENT_WALLET)
    before = snapshot()
    with pytest.raises(BusinessError) as err:
        journal_post(lines=[(cash, amount), (wallet, amount)])
    assert err.value.field == "amount"
    assert snapshot() == before


def test_account_for_opens_one_account_per_owner_and_purpose(agent, make_agent):
    a = services.account_for(owner=agent, purpose=P.AGENT_WALLET)
    assert services.account_for(owner=agent, purpose=P.AGENT_WALLET) == a
    assert services.account_for(owner=make_agent("vip"), purpose=P.AGENT_WALLET) != a
    brand = services.account_for(owner=None, purpose=P.BRAND_CASH)
    assert services.account_for(owner=None, purpose=P.BRAND_CASH) == brand
    assert (a.normal_side, brand.normal_side) == ("credit", "debit")
    with pytest.raises(BusinessError):
        services.account_for(owner=None, purpose=P.AGENT_WALLET)  # a wallet belongs to an agent
    with pytest.raises(BusinessError):
        services.account_for(owner=agent, purpose=P.BRAND_CASH)
    with pytest.raises(BusinessError):
        services.account_for(owner=agent, purpose="pocket_money")
    assert Account.objects.count() == 2 + 1


# --- immutability ---------------------------------------------------------------------------


def test_entries_and_lines_cannot_be_changed_or_deleted(acct, agent):
    entry = topup(acct, agent, "50.00")
    line = entry.lines.first()
    entry.memo = "edited"
    with pytest.raises(ImmutableRecord):
        entry.save()
    line.amount = D("1.00")
    with pytest.raises(ImmutableRecord):
        line.save()
    for attempt in (
        entry.delete,
        line.delete,
        JournalEntry.objects.all().delete,
        JournalLine.objects.all().delete,
        lambda: JournalLine.objects.filter(pk=line.pk).update(amount=D("1.00")),
        lambda: JournalEntry.objects.update(memo="x"),
    ):
        with pytest.raises(ImmutableRecord):
            attempt()
    # nor behind the ORM's back: the database refuses an UPDATE
    for sql in (
        "UPDATE ledger_journalline SET amount = 1 WHERE id = %s",
        "UPDATE ledger_journalentry SET memo = 'x' WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [line.pk if "line" in sql else entry.pk])
    entry.refresh_from_db()
    assert entry.memo == "top-up" and sorted(entry.lines.values_list("amount", flat=True)) == [D(-50), D(50)]
    assert ledger_verify() == []


# --- idempotency ----------------------------------------------------------------------------


def test_the_same_idempotency_key_posts_once(acct, agent):
    first = topup(acct, agent, "80.00", idempotency_key="payment:77")
    again = topup(acct, agent, "80.00", idempotency_key="payment:77")
    assert again.pk == first.pk
    assert JournalEntry.objects.count() == 1
    assert account_balance(owner=agent, purpose=P.AGENT_WALLET) == D("80.00")
    before = snapshot()
    with pytest.raises(Conflict) as err:  # the key reused for something else is a bug, not a retry
        topup(acct, agent, "81.00", idempotency_key="payment:77")
    assert err.value.field == "idempotency_key"
    assert snapshot() == before


# --- reversals ------------------------------------------------------------------------------


def test_reversal_mirrors_the_entry_once(acct, agent, finance):
    entry = topup(acct, agent, "100.00")
    reversal = journal_reverse(entry=entry, by=finance, memo="wrong agent")
    assert reversal.reverses == entry and entry.reversed_by == reversal
    assert sorted(reversal.lines.values_list("account_id", "amount")) == sorted(
        (a, -v) for a, v in entry.lines.values_list("account_id", "amount")
    )
    assert (reversal.memo, reversal.reference, reversal.created_by) == ("wrong agent", entry.reference, finance)
    assert account_balance(owner=agent, purpose=P.AGENT_WALLET) == 0
    assert account_balance(owner=None, purpose=P.BRAND_CASH) == 0
    before = snapshot()
    with pytest.raises(Conflict) as err:
        journal_reverse(entry=entry, by=finance)
    assert err.value.code == "already_reversed"
    with pytest.raises(Conflict) as err:
        journal_reverse(entry=reversal, by=finance)
    assert err.value.code == "is_reversal"
    assert snapshot() == before
    assert ledger_verify() == []


def test_a_spent_top_up_cannot_be_reversed_into_a_negative_wallet(acct, agent):
    entry = topup(acct, agent, "100.00")
    spend(acct, agent, "60.00")
    before = snapshot()
    with pytest.raises(InsufficientBalance) as err:
        journal_reverse(entry=entry)
    assert err.value.account.purpose == P.AGENT_WALLET and err.value.balance == D("40.00")
    assert snapshot() == before
    assert not JournalEntry.objects.filter(reverses=entry).exists()


# --- balance floors -------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", [P.AGENT_WALLET, P.AGENT_REWARDS_FROZEN, P.AGENT_DEPOSIT, P.PAYOUTS_IN_TRANSIT])
def test_agent_money_that_must_not_go_negative_never_does(acct, agent, purpose):
    held = acct(agent, purpose)
    expense = acct(None, P.BRAND_REWARD_EXPENSE)
    journal_post(lines=[debit(expense, "20.00"), credit(held, "20.00")])
    before = snapshot()
    with pytest.raises(InsufficientBalance) as err:
        journal_post(lines=[debit(held, "20.01"), credit(expense, "20.01")])
    assert err.value.field == "amount" and err.value.status == 409
    assert snapshot() == before
    journal_post(lines=[debit(held, "20.00"), credit(expense, "20.00")])  # exactly all of it is fine
    assert account_balance(held) == 0


def test_available_rewards_may_go_negative_so_a_clawback_is_never_lost(acct, agent, reward):
    """Reward paid, withdrawn, then its order refunded: the clawback leaves a debt that the next
    rewards pay off (anchors: 'clawback capped at balance')."""
    available = acct(agent, P.AGENT_REWARDS_AVAILABLE)
    expense = acct(None, P.BRAND_REWARD_EXPENSE)
    accrual = reward(agent, "50.00")
    journal_post(lines=[debit(available, "50.00"), credit(acct(None, P.BRAND_CASH), "50.00")])  # paid out
    journal_reverse(entry=accrual, memo="order refunded")
    assert account_balance(available) == D("-50.00")
    reward(agent, "30.00")
    assert account_balance(available) == D("-20.00")
    assert account_balance(expense) == D("30.00")
    assert ledger_verify() == []


def test_allow_negative_lifts_a_floor_for_one_posting_and_brand_accounts_have_none(acct, agent):
    wallet, cash = acct(agent, P.AGENT_WALLET), acct(None, P.BRAND_CASH)
    with pytest.raises(InsufficientBalance):
        journal_post(lines=[debit(wallet, "5.00"), credit(cash, "5.00")])
    journal_post(lines=[debit(wallet, "5.00"), credit(cash, "5.00")], allow_negative={P.AGENT_WALLET})
    assert (account_balance(wallet), account_balance(cash)) == (D("-5.00"), D("-5.00"))
    # still below zero: taking more is refused again without the exemption
    with pytest.raises(InsufficientBalance):
        journal_post(lines=[debit(wallet, "1.00"), credit(cash, "1.00")])
    assert ledger_verify() == []


# --- large postings (settlement, release): accounts by key, balances changed set-wise ----------


def test_a_posting_can_name_accounts_by_key_and_credit_many_at_once(acct, make_agent):
    """Settlement posts one entry per batch: the brand's expense against many agents' rewards,
    the accounts given by their keys, opened in bulk."""
    agents = [make_agent("vip") for _ in range(12)]
    ids = services.agent_account_ids(owner_ids=[a.pk for a in agents], purpose=P.AGENT_REWARDS_AVAILABLE)
    assert sorted(ids) == sorted(a.pk for a in agents)
    assert services.agent_account_ids(owner_ids=[a.pk for a in agents], purpose=P.AGENT_REWARDS_AVAILABLE) == ids
    expense = acct(None, P.BRAND_REWARD_EXPENSE)
    amounts = {a.pk: D(f"{i + 1}.{i:02d}") for i, a in enumerate(agents)}
    total = sum(amounts.values())
    entry = journal_post(
        lines=[(expense.pk, total), *((ids[pk], -amount) for pk, amount in amounts.items())],
        kind="reward",
        reference="period:test",
        memo="rewards",
    )
    assert entry.lines.count() == 13
    assert {a.pk: account_balance(owner=a, purpose=P.AGENT_REWARDS_AVAILABLE) for a in agents} == amounts
    assert account_balance(expense) == total
    # an agent credited twice in one entry gets both
    journal_post(lines=[(expense.pk, D("3.00")), (ids[agents[0].pk], D("-1.00")), (ids[agents[0].pk], D("-2.00"))])
    assert account_balance(owner=agents[0], purpose=P.AGENT_REWARDS_AVAILABLE) == amounts[agents[0].pk] + 3
    assert ledger_verify() == []


def test_one_short_floored_account_in_a_large_posting_refuses_all_of_it(acct, make_agent):
    """Release moves many frozen balances at once; if one of them does not hold the amount,
    the error names it and nothing at all changes."""
    agents = [make_agent("vip") for _ in range(6)]
    expense = acct(None, P.BRAND_REWARD_EXPENSE)
    frozen = {a.pk: acct(a, P.AGENT_REWARDS_FROZEN) for a in agents}
    available = {a.pk: acct(a, P.AGENT_REWARDS_AVAILABLE) for a in agents}
    journal_post(lines=[debit(expense, "60.00"), *(credit(frozen[a.pk], "10.00") for a in agents)])
    short = agents[3]
    release = []
    for a in agents:
        amount = D("10.50") if a == short else D("10.00")
        release += [(frozen[a.pk].pk, amount), (available[a.pk].pk, -amount)]
    before = snapshot()
    with pytest.raises(InsufficientBalance) as err:
        journal_post(lines=release, kind="reward_release")
    assert (err.value.account.pk, err.value.balance, err.value.change) == (frozen[short.pk].pk, D("10.00"), D("-10.50"))
    assert str(short.real_name) in str(err.value)
    assert snapshot() == before
    release = [(pk, D("10.00") if amount > 0 else D("-10.00")) for pk, amount in release]
    journal_post(lines=release, kind="reward_release")
    assert all(account_balance(frozen[a.pk]) == 0 and account_balance(available[a.pk]) == D("10.00") for a in agents)
    assert ledger_verify() == []


def test_a_line_on_an_account_that_does_not_exist_is_refused(acct):
    cash = acct(None, P.BRAND_CASH)
    missing = (Account.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    before = snapshot()
    for lines in (
        [(cash.pk, D("1.00")), (missing, D("-1.00"))],
        [(cash, D("1.00")), ("1", D("-1.00"))],
        [(cash, D("1.00")), (Account(purpose=P.BRAND_SALES), D("-1.00"))],
    ):
        with pytest.raises(BusinessError) as err:
            journal_post(lines=lines)
        assert err.value.field == "lines"
    assert snapshot() == before


# --- statements -----------------------------------------------------------------------------


def test_statement_shows_each_change_and_the_running_balance(acct, agent):
    wallet = acct(agent, P.AGENT_WALLET)
    topup(acct, agent, "100.00")
    spend(acct, agent, "30.00")
    t = topup(acct, agent, "5.50")
    journal_reverse(entry=t)
    rows = account_statement(wallet)
    assert [(r.change, r.balance) for r in rows] == [
        (D("100.00"), D("100.00")),
        (D("-30.00"), D("70.00")),
        (D("5.50"), D("75.50")),
        (D("-5.50"), D("70.00")),
    ]
    assert rows[-1].reversal_of == t.number and rows[-1].balance == account_balance(wallet)
    latest = account_statement(wallet, limit=2)
    assert [(r.change, r.balance) for r in latest] == [(D("5.50"), D("75.50")), (D("-5.50"), D("70.00"))]
    assert account_statement(acct(agent, P.AGENT_DEPOSIT)) == []


def test_agent_balances_lists_every_purpose(acct, agent, reward):
    reward(agent, "12.00")
    reward(agent, "3.00", purpose=P.AGENT_REWARDS_FROZEN)
    assert selectors.agent_balances(agent) == {
        P.AGENT_WALLET: 0,
        P.AGENT_REWARDS_FROZEN: D(3),
        P.AGENT_REWARDS_AVAILABLE: D(12),
        P.AGENT_DEPOSIT: 0,
        P.PAYOUTS_IN_TRANSIT: 0,
    }


# --- verify ---------------------------------------------------------------------------------


def test_verify_finds_a_tampered_cached_balance(acct, agent, capsys):
    topup(acct, agent, "100.00")
    call_command("ledger", "verify")
    assert "ledger ok: 1 entries, 2 accounts" in capsys.readouterr().out
    wallet = acct(agent, P.AGENT_WALLET)
    Account.objects.filter(pk=wallet.pk).update(balance=D("1000.00"))  # a SET balance = … somewhere
    problems = ledger_verify()
    assert any(f"#{wallet.pk}" in p and "100.00" in p and "1000.00" in p for p in problems), problems
    with pytest.raises(CommandError) as err:
        call_command("ledger", "verify")
    assert err.value.returncode == 1
    assert f"#{wallet.pk}" in capsys.readouterr().err


def test_verify_finds_an_unbalanced_entry_inserted_behind_the_orms_back(acct, agent):
    good = topup(acct, agent, "100.00")
    cash = acct(None, P.BRAND_CASH)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_journalentry (number, kind, memo, reference, created_at) "
            "VALUES ('JBAD', '', 'sneaky', '', %s)",
            [good.created_at],
        )
        cursor.execute("SELECT id FROM ledger_journalentry WHERE number = 'JBAD'")
        bad_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO ledger_journalline (entry_id, account_id, amount) VALUES (%s, %s, 70)", [bad_id, cash.pk]
        )
        cursor.execute("UPDATE ledger_account SET balance = balance + 70 WHERE id = %s", [cash.pk])
    with translation.override("en"):
        problems = ledger_verify()
    assert any("JBAD" in p and "1 line" in p for p in problems), problems
    assert any("JBAD" in p and "does not balance" in p and "70.00" in p for p in problems), problems
    assert any("net to zero" in p and "70.00" in p for p in problems), problems
    assert not any(f"#{cash.pk}" in p for p in problems)  # its cache was kept in step, the entry is the fault


def test_verify_finds_a_reversal_that_does_not_mirror(acct, agent):
    entry = topup(acct, agent, "100.00")
    journal_reverse(entry=entry)
    with connection.cursor() as cursor:  # swap in a different line pair behind the ORM's back
        reversal = entry.reversed_by
        wallet, fee = acct(agent, P.AGENT_WALLET), acct(None, P.BRAND_FEE_INCOME)
        cursor.execute(
            "INSERT INTO ledger_journalline (entry_id, account_id, amount) VALUES (%s, %s, 1)", [reversal.pk, wallet.pk]
        )
        cursor.execute(
            "INSERT INTO ledger_journalline (entry_id, account_id, amount) VALUES (%s, %s, -1)", [reversal.pk, fee.pk]
        )
        cursor.execute("UPDATE ledger_account SET balance = balance - 1 WHERE id = %s", [wallet.pk])
        cursor.execute("UPDATE ledger_account SET balance = balance + 1 WHERE id = %s", [fee.pk])
    with translation.override("en"):
        problems = ledger_verify()
    assert problems == [f"Entry {reversal.number} does not mirror the entry it reverses, {entry.number}"]


def test_verify_is_clean_on_an_empty_ledger(capsys):
    assert ledger_verify() == []
    call_command("ledger", "verify")
    assert "ledger ok: 0 entries, 0 accounts" in capsys.readouterr().out


def test_a_decimal_with_trailing_zeros_or_int_is_the_same_amount(acct, agent):
    wallet, cash = acct(agent, P.AGENT_WALLET), acct(None, P.BRAND_CASH)
    journal_post(lines=[(cash, 10), (wallet, Decimal("-10.000"))])
    assert account_balance(wallet) == D("10.00")


def test_a_balance_built_from_odd_fen_can_be_spent_to_the_last_fen(acct, agent):
    """0.7 + 0.1 is 0.7999… in binary floating point (SQLite's arithmetic): the floor must still
    let the agent spend exactly 0.80, and not a fen more."""
    for amount in ("0.70", "0.10"):
        topup(acct, agent, amount)
    with pytest.raises(InsufficientBalance):
        spend(acct, agent, "0.81")
    spend(acct, agent, "0.80")
    assert account_balance(owner=agent, purpose=P.AGENT_WALLET) == 0
    assert ledger_verify() == []
