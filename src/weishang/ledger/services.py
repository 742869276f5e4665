"""Ledger services: posting and reversing journal entries, and withdrawals (提现).

Every function is one transaction: it checks, then changes, and raises a BusinessError (nothing
changed) when it cannot. The sign convention (debit +, credit −; balances on the normal side) is
in ``ledger.models``.

Posting (``journal_post``)
    The lines must be exact fen amounts, none zero, summing to zero; an account is given as an
    ``Account`` or as its primary key (large postings — settlement, release — pass keys and need
    no model instances). The accounts are locked in primary-key order (``SELECT … FOR UPDATE``;
    on SQLite the IMMEDIATE transaction holds the write lock), which also reads their purposes;
    then the balances change set-wise, ``balance = balance + d`` for all of the entry's accounts
    in one statement (``core.bulk.add_to_column``: ``UPDATE … FROM unnest(…)`` on PostgreSQL, one
    ``executemany`` on SQLite),
    the accounts that must not go below zero in a second one guarded by ``balance >= -d``: the
    change is computed by the database, never read-then-written, so no lost update, and the
    guard is the backstop against an overdraft (the locked balances are checked first, to name
    the account). (The guard allows half a fen of slack because SQLite stores decimals as
    floats, where 0.7 + 0.1 is 0.7999…; balances are whole fen, so on PostgreSQL it is exact.)
    The lines are written without model instances (``core.bulk.insert_rows``). An idempotency key posts
    once; a retry returns the first entry.

Reversing (``journal_reverse``)
    The mirror entry, linked to the original; once per entry, never of a reversal. Entries of a
    withdrawal are reversed only by its own steps, so payouts in transit always equal the open
    withdrawals (``ledger verify`` checks it): nothing else should post to payouts in transit.

The life of a withdrawal
    1. ``withdrawal_request`` (the agent): the amount moves at once from available rewards to
       payouts in transit, so the same money cannot be asked for twice;
    2. ``withdrawal_approve`` or ``withdrawal_reject`` (finance; a rejection reverses the hold);
    3. ``withdrawal_mark_paid`` (finance, with the transfer reference): in transit is cleared,
       brand cash pays the net amount and the fee is booked as brand fee income (the fee never
       leaves the brand's bank, so it is income, not cash out); or ``withdrawal_fail`` when the
       transfer bounced (the hold is reversed: the agent has the money back).
    Finance means staff with ``ledger.change_withdrawal`` (roles owner and finance).
"""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from decimal import ROUND_DOWN, Context, Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from weishang.channel.models import Agent
from weishang.channel.selectors import agent_for_user
from weishang.core import bulk, clock
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.money import CENT, MONEY_DIGITS, MONEY_PLACES
from weishang.core.outbox import outbox_emit
from weishang.core.selectors import unique_row
from weishang.core.text import record_text
from weishang.ledger.models import (
    AGENT_PURPOSES,
    NON_NEGATIVE,
    NORMAL,
    ZERO,
    Account,
    JournalEntry,
    JournalLine,
    Purpose,
    Withdrawal,
    WithdrawalMethod,
    WithdrawalStatus,
    WithdrawalTransition,
)

P = Purpose
W = WithdrawalStatus
MAX_AMOUNT = Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES)  # exclusive: 999,999,999,999.99 is the largest
WITHDRAW_PERM = "ledger.change_withdrawal"
HALF_FEN = Decimal("0.005")
OWNED_KINDS = ("withdrawal.",)  # entries that only their own service may reverse


class UnbalancedEntry(BusinessError):
    code = "unbalanced"


class InsufficientBalance(Conflict):
    """A posting would take an account that must not go negative below zero."""

    code = "insufficient_balance"

    def __init__(self, *, account: Account, balance: Decimal, change: Decimal):
        super().__init__(
            _("%(account)s has ¥%(balance)s; this would take ¥%(wanted)s.")
            % {"account": str(account), "balance": balance, "wanted": -change},
            field="amount",
        )
        self.account, self.balance, self.change = account, balance, change


def _new_number(prefix: str) -> str:
    return f"{prefix}{clock.localtime():%Y%m%d}{secrets.token_hex(5).upper()}"


# --- accounts -------------------------------------------------------------------------------


def account_for(*, owner: Agent | None, purpose: str) -> Account:
    """The account of ``owner`` (an agent, or None for the brand) for ``purpose``, opened on first use.

    Safe under concurrency: two first uses at once open one account (the unique constraints
    decide, ``get_or_create`` returns the winner's row)."""
    if purpose not in Purpose.values:
        raise BusinessError(_("Unknown account purpose %(purpose)r.") % {"purpose": purpose}, field="purpose")
    if (owner is None) == (purpose in AGENT_PURPOSES):
        raise BusinessError(
            _("%(purpose)s is an account of %(whom)s.")
            % {"purpose": purpose, "whom": _("an agent") if owner is None else _("the brand")},
            field="purpose",
        )
    # Read first: an account is opened once and used on every payment after, and a plain read needs
    # no savepoint around it.
    account = unique_row(Account.objects.filter(owner=owner, purpose=purpose))
    if account is not None:
        return account
    with transaction.atomic():
        account, _created = Account.objects.get_or_create(owner=owner, purpose=purpose)
    return account


def agent_account_ids(*, owner_ids: Iterable[int], purpose: str) -> dict[int, int]:
    """Many agents' accounts for one purpose at once (settlement, release, rewards), as
    ``{agent id: account id}``: one read, one insert of the missing ones (``ON CONFLICT DO
    NOTHING``: a concurrent opener wins quietly), one read of those back. No model instances."""
    if purpose not in AGENT_PURPOSES:
        raise BusinessError(_("%(purpose)s is not an agent's account.") % {"purpose": purpose}, field="purpose")
    wanted = sorted(set(owner_ids))
    found = _account_ids(wanted, purpose)
    missing = [owner for owner in wanted if owner not in found]
    if missing:
        now = connection.ops.adapt_datetimefield_value(clock.now())
        bulk.insert_missing(Account, "owner", missing, ("purpose", "balance", "created_at"), (purpose, ZERO, now))
        found.update(_account_ids(missing, purpose))
    return found


def _account_ids(owner_ids: list[int], purpose: str) -> dict[int, int]:
    table, qn = Account._meta.db_table, connection.ops.quote_name
    found: dict[int, int] = {}
    with connection.cursor() as cursor:
        for chunk in bulk.chunks(owner_ids):
            where, params = bulk.column_in("owner_id", list(chunk))
            cursor.execute(
                f"SELECT {qn('owner_id')}, {qn('id')} FROM {qn(table)} WHERE {qn('purpose')} = %s "
                f"AND {qn('owner_id')} IS NOT NULL AND {where}",
                [purpose, *params],
            )
            found.update(cursor.fetchall())
    return found


def debit(account: Account, amount) -> tuple[Account, Decimal]:
    """A debit line: raises an asset or expense (brand cash), lowers what the brand owes (a wallet)."""
    return account, _exact(amount)


def credit(account: Account, amount) -> tuple[Account, Decimal]:
    """A credit line: raises what the brand owes (a wallet, rewards) or its income, lowers brand cash."""
    return account, -_exact(amount)


def _exact(amount, *, field: str = "amount") -> Decimal:
    """``amount`` as a Decimal that is an exact number of fen (no rounding: the caller rounds)."""
    if isinstance(amount, float) or isinstance(amount, bool):
        raise BusinessError(_("Amounts are Decimal or text, never a float."), field=field)
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise BusinessError(_("Enter an amount in yuan."), field=field) from None
    if not value.is_finite():
        raise BusinessError(_("Enter an amount in yuan."), field=field)
    if value != value.quantize(CENT, rounding=ROUND_DOWN):
        raise BusinessError(_("Amounts are in yuan with at most two decimals (fen)."), field=field)
    if abs(value) >= MAX_AMOUNT:
        raise BusinessError(_("That amount is too large."), field=field)
    return value.quantize(CENT)


def lock_accounts(accounts: Iterable[Account | int]) -> dict[int, Account]:
    """Lock the accounts' rows in primary-key order (the one order every writer uses, so two
    transactions never wait on each other in a circle) and return them fresh, by pk."""
    pks = sorted({a.pk if isinstance(a, Account) else a for a in accounts})
    return {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=pks).order_by("pk")}


# --- posting --------------------------------------------------------------------------------


def _clean_lines(lines: Sequence[tuple[Account | int, object]]) -> list[tuple[int, Decimal]]:
    """The lines as (account pk, exact amount), checked: at least two, none zero, summing to zero."""
    if len(lines) < 2:
        raise UnbalancedEntry(_("A journal entry needs at least two lines."), field="lines")
    clean = []
    for account, amount in lines:
        pk = account if type(account) is int else (account.pk if isinstance(account, Account) else None)
        if pk is None:
            raise BusinessError(_("Each line needs a saved account."), field="lines")
        value = _exact(amount)
        if value == 0:
            raise UnbalancedEntry(_("A journal line cannot be zero."), field="lines")
        clean.append((pk, value))
    total = sum((v for _a, v in clean), Decimal("0.00"))
    if total != 0:
        raise UnbalancedEntry(
            _("The lines add up to %(total)s; debits and credits must be equal.") % {"total": total}, field="lines"
        )
    return clean


def _same_lines(entry: JournalEntry, lines: list[tuple[int, Decimal]]) -> bool:
    stored = Counter(entry.lines.values_list("account_id", "amount"))
    return stored == Counter(lines)


_SQLITE_DECIMAL = Context(prec=15)


def _money_value(raw) -> Decimal:
    """A balance as the driver returns it (SQLite: int or float) as exact money."""
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, float):
        return _SQLITE_DECIMAL.create_decimal_from_float(raw).quantize(CENT)
    return Decimal(raw).quantize(CENT)


def _locked_rows(pks: list[int]) -> dict[int, tuple[str, object]]:
    """Lock the accounts' rows in primary-key order (the one order every writer uses) and return
    ``{pk: (purpose, balance as the driver returns it)}``; on SQLite the IMMEDIATE transaction
    already holds the database's write lock."""
    table, qn = Account._meta.db_table, connection.ops.quote_name
    found: dict[int, tuple[str, object]] = {}
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        for chunk in bulk.chunks(pks):
            where, params = bulk.column_in("id", list(chunk))
            cursor.execute(
                f"SELECT {qn('id')}, {qn('purpose')}, {qn('balance')} FROM {qn(table)} WHERE {where} "
                f"ORDER BY {qn('id')}{lock}",
                params,
            )
            found.update((pk, (purpose, balance)) for pk, purpose, balance in cursor.fetchall())
    return found


def _add_to_balances(changes: list[tuple[int, Decimal]], *, floor: bool = False) -> int:
    """``balance = balance + d`` for each (pk, d), set-wise (``core.bulk.add_to_column``); with
    ``floor``, only where the balance stays at or above zero (half a fen of slack for SQLite's
    floats). Returns how many accounts changed."""
    return bulk.add_to_column(Account, "balance", changes, floor=-HALF_FEN if floor else None)


def _apply(lines: list[tuple[int, Decimal]], floors: frozenset[str]) -> None:
    """Change the cached balances: lock the accounts in pk order, then add each account's change
    (on its normal side) set-wise; raise if an account whose purpose is in ``floors`` would go
    below zero."""
    change: dict[int, Decimal] = defaultdict(Decimal)
    for pk, amount in lines:
        change[pk] += amount
    pks = sorted(change)
    locked = _locked_rows(pks)
    if len(locked) != len(pks):
        raise BusinessError(_("Each line needs a saved account."), field="lines")
    plain: list[tuple[int, Decimal]] = []
    guarded: list[tuple[int, Decimal]] = []
    for pk in pks:
        purpose, balance = locked[pk]
        delta = change[pk] * NORMAL[purpose]  # on the account's normal side
        if delta == 0:
            continue
        if delta < 0 and purpose in floors:
            # "balance >= needed", with half a fen to spare for SQLite, which stores decimals as
            # floats (0.7 + 0.1 is 0.7999…); exact on PostgreSQL, where balances are whole fen.
            if _money_value(balance) < -delta - HALF_FEN:
                raise InsufficientBalance(
                    account=Account.objects.get(pk=pk), balance=_money_value(balance), change=delta
                )
            guarded.append((pk, delta))
        else:
            plain.append((pk, delta))
    if guarded and _add_to_balances(guarded, floor=True) != len(guarded):  # the backstop: the rows are locked
        pk, delta = guarded[0]
        account = Account.objects.get(pk=pk)
        raise InsufficientBalance(account=account, balance=account.balance, change=delta)
    if plain:
        _add_to_balances(plain)


@transaction.atomic
def journal_post(
    *,
    lines: Sequence[tuple[Account | int, object]],
    memo: str = "",
    reference: str = "",
    kind: str = "",
    by=None,
    idempotency_key: str | None = None,
    allow_negative: Iterable[str] | None = None,
    require_non_negative: Iterable[str] = (),
    _reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post ``lines`` — (account, amount) pairs, debit positive, credit negative — as one entry.
    An account is an ``Account`` or its primary key.

    Refuses (nothing changed): fewer than two lines, a zero line, an amount that is not an exact
    number of fen, lines that do not sum to zero (UnbalancedEntry), or a posting that would take a
    wallet, frozen rewards, a deposit or payouts in transit below zero (InsufficientBalance), unless
    that purpose is in ``allow_negative``; ``require_non_negative`` adds purposes to that floor for
    this posting (a withdrawal may not overdraw available rewards, a clawback may). Posting with an
    ``idempotency_key`` already used returns the first entry (and refuses, Conflict, if its lines
    differ).
    """
    clean = _clean_lines(lines)
    floors = (NON_NEGATIVE - frozenset(allow_negative or ())) | frozenset(require_non_negative)
    if idempotency_key:
        first = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
        if first is not None:
            return _replayed(first, clean)
    try:
        with transaction.atomic():
            entry = JournalEntry.objects.create(
                number=_new_number("J"),
                kind=kind[:40],
                memo=(memo or "")[:200],
                reference=(reference or "")[:100],
                idempotency_key=idempotency_key or None,
                reverses=_reverses,
                created_by=by,
            )
    except IntegrityError:
        # Another transaction posted the same key (or reversed the same entry) first.
        if idempotency_key:
            first = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
            if first is not None:
                return _replayed(first, clean)
        if _reverses is not None:
            raise _already_reversed(_reverses) from None
        raise
    _apply(clean, floors)
    bulk.insert_rows(JournalLine, ("entry", "account", "amount"), [(entry.pk, pk, v) for pk, v in clean])
    return entry


def _replayed(first: JournalEntry, clean: list[tuple[int, Decimal]]) -> JournalEntry:
    if not _same_lines(first, clean):
        raise Conflict(
            _("The key %(key)s was already used for a different posting (%(number)s).")
            % {"key": first.idempotency_key, "number": first.number},
            field="idempotency_key",
            code="idempotency_mismatch",
        )
    return first


def _already_reversed(entry: JournalEntry) -> Conflict:
    return Conflict(
        _("Entry %(number)s has already been reversed.") % {"number": entry.number},
        field="entry",
        code="already_reversed",
    )


@transaction.atomic
def journal_reverse(
    *, entry: JournalEntry, by=None, memo: str = "", kind: str = "reversal", allow_negative: Iterable[str] | None = None
) -> JournalEntry:
    """Post the mirror of ``entry`` (every line negated), linked to it. An entry is reversed at
    most once, and a reversal is not itself reversed (post the original again instead). The same
    balance floors apply: reversing a top-up that has been spent is refused. A withdrawal's
    entries are reversed only by its own steps (reject, payout failed), never directly."""
    if entry.kind.startswith(OWNED_KINDS):
        raise Conflict(
            _("Entry %(number)s belongs to a withdrawal; reject it or mark its payout failed instead.")
            % {"number": entry.number},
            field="entry",
            code="owned_entry",
        )
    return _reverse(entry=entry, by=by, memo=memo, kind=kind, allow_negative=allow_negative)


def _reverse(*, entry: JournalEntry, by, memo: str, kind: str, allow_negative=None) -> JournalEntry:
    entry = JournalEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.reverses_id is not None:
        raise Conflict(
            _("Entry %(number)s is a reversal; post the original again instead.") % {"number": entry.number},
            field="entry",
            code="is_reversal",
        )
    if JournalEntry.objects.filter(reverses=entry).exists():
        raise _already_reversed(entry)
    lines = [(line.account, -line.amount) for line in entry.lines.select_related("account").order_by("pk")]
    memo = memo or record_text("Reversal of %(number)s") % {"number": entry.number}
    return journal_post(
        lines=lines,
        memo=memo,
        reference=entry.reference,
        kind=kind,
        by=by,
        allow_negative=allow_negative,
        _reverses=entry,
    )


# --- withdrawals ----------------------------------------------------------------------------


def _require_finance(user) -> None:
    if not (getattr(user, "is_active", False) and getattr(user, "is_staff", False) and user.has_perm(WITHDRAW_PERM)):
        raise Forbidden(_("Only brand finance handles withdrawals."))


def _require_note(note: str, message: str) -> str:
    note = (note or "").strip()
    if not note:
        raise BusinessError(message, field="note")
    return note[:300]


def _locked_withdrawal(withdrawal: Withdrawal | int) -> Withdrawal:
    return (
        Withdrawal.objects.select_for_update(of=("self",))
        .select_related("agent", "hold_entry")
        .get(pk=getattr(withdrawal, "pk", withdrawal))
    )


def _transition(withdrawal: Withdrawal, name: str, *, by=None, note: str = "") -> None:
    method = getattr(withdrawal, name)
    if not can_proceed(method):
        raise Conflict(
            _("Withdrawal %(number)s is %(status)s; that cannot be done now.")
            % {"number": withdrawal.number, "status": withdrawal.get_status_display()},
            field="status",
            code="wrong_status",
        )
    old = withdrawal.status
    method()
    withdrawal.note = note[:300] if note else withdrawal.note
    withdrawal.save()
    WithdrawalTransition.objects.create(
        withdrawal=withdrawal, from_status=old, to_status=withdrawal.status, by=by, note=note[:300]
    )
    # The agent is told (notifications): withdrawal.approved / rejected / failed / paid.
    outbox_emit(
        topic=f"withdrawal.{withdrawal.status}",
        key=withdrawal.number,
        payload={
            "agent": withdrawal.agent_id,
            "withdrawal": withdrawal.number,
            "amount": str(withdrawal.amount),
            "net": str(withdrawal.net),
            "note": withdrawal.note or "",
        },
    )


def _positive_money(value, field: str) -> Decimal:
    amount = _exact(value, field=field)
    if amount < 0:
        raise BusinessError(_("Enter an amount of zero or more."), field=field)
    return amount


def _clean_account(method: str, account_name: str, account_no: str, bank_name: str) -> tuple[str, str, str]:
    if method not in WithdrawalMethod.values:
        raise BusinessError(_("Choose WeChat, Alipay or a bank card."), field="method")
    account_name = (account_name or "").strip()
    if not account_name or len(account_name) > 50:
        raise BusinessError(_("Enter the account holder's name."), field="account_name")
    account_no = "".join((account_no or "").split())
    if not account_no or len(account_no) > 40:
        raise BusinessError(_("Enter the account to pay into."), field="account_no")
    bank_name = (bank_name or "").strip()[:50]
    if method == WithdrawalMethod.BANK:
        if not (account_no.isdigit() and 12 <= len(account_no) <= 19):
            raise BusinessError(_("A bank card number has 12 to 19 digits."), field="account_no")
        if not bank_name:
            raise BusinessError(_("Enter the bank's name."), field="bank_name")
    return account_name, account_no, bank_name


@transaction.atomic
def withdrawal_request(
    *,
    agent: Agent,
    amount,
    method: str,
    account_name: str,
    account_no: str,
    by,
    fee_rate: Decimal,
    minimum: Decimal,
    bank_name: str = "",
    idempotency_key: str | None = None,
) -> Withdrawal:
    """The agent asks to be paid ``amount`` of their available rewards.

    The money is held at once (available → payouts in transit), so two requests can never
    spend the same balance: the one that would overdraw gets a Conflict on ``amount``. The fee is
    ``amount × fee_rate`` rounded down to the fen, recorded now and kept by the brand at payout.
    A retry with the same ``idempotency_key`` returns the first withdrawal.
    """
    agent_of_user = agent_for_user(by)
    if agent_of_user is None or agent_of_user.pk != agent.pk:
        raise Forbidden(_("You can only withdraw your own rewards."))
    try:
        if isinstance(fee_rate, float | bool):
            raise InvalidOperation
        fee_rate = Decimal(str(fee_rate))
    except InvalidOperation:
        raise BusinessError(_("The fee rate must be a number."), field="fee_rate") from None
    if not (fee_rate.is_finite() and 0 <= fee_rate < 1 and fee_rate == fee_rate.quantize(Decimal("0.0001"))):
        raise BusinessError(_("The fee rate must be at least 0 and below 1 (four decimals at most)."), field="fee_rate")
    minimum = _positive_money(minimum, "minimum")
    amount = _exact(amount)
    if amount <= 0:
        raise BusinessError(_("Enter an amount above zero."), field="amount")
    if amount < minimum:
        raise BusinessError(_("The smallest withdrawal is ¥%(minimum)s.") % {"minimum": minimum}, field="amount")
    account_name, account_no, bank_name = _clean_account(method, account_name, account_no, bank_name)
    fee = (amount * fee_rate).quantize(CENT, rounding=ROUND_DOWN)
    net = amount - fee

    available = account_for(owner=agent, purpose=P.AGENT_REWARDS_AVAILABLE)
    in_transit = account_for(owner=agent, purpose=P.PAYOUTS_IN_TRANSIT)
    # Lock both now, in pk order: a retry of the same request waits here for the first to commit
    # and then finds it, instead of failing for want of the money the first one holds.
    locked = lock_accounts([available, in_transit])
    if idempotency_key:
        first = Withdrawal.objects.filter(agent=agent, idempotency_key=idempotency_key).first()
        if first is not None:
            if (first.amount, first.method, first.account_no) != (amount, method, account_no):
                raise Conflict(
                    _("This request was already sent with different details (%(number)s).") % {"number": first.number},
                    field="idempotency_key",
                    code="idempotency_mismatch",
                )
            return first
    balance = locked[available.pk].balance
    if balance < amount:
        raise Conflict(
            _("You have ¥%(balance)s available to withdraw; ¥%(amount)s was asked for.")
            % {"balance": max(balance, Decimal("0.00")), "amount": amount},
            field="amount",
            code="insufficient_funds",
        )
    number = _new_number("W")
    # The check above reads a locked row; the guarded update below is the backstop.
    hold = journal_post(
        lines=[debit(available, amount), credit(in_transit, amount)],
        memo=record_text("Withdrawal %(number)s requested") % {"number": number},
        reference=f"withdrawal:{number}",
        kind="withdrawal.hold",
        by=by,
        require_non_negative={P.AGENT_REWARDS_AVAILABLE},
    )
    withdrawal = Withdrawal.objects.create(
        number=number,
        agent=agent,
        amount=amount,
        fee_rate=fee_rate,
        fee=fee,
        net=net,
        method=method,
        account_name=account_name,
        account_no=account_no,
        bank_name=bank_name,
        hold_entry=hold,
        idempotency_key=idempotency_key or None,
    )
    WithdrawalTransition.objects.create(withdrawal=withdrawal, from_status="", to_status=W.REQUESTED, by=by)
    return withdrawal


@transaction.atomic
def withdrawal_approve(*, withdrawal: Withdrawal, by, note: str = "") -> Withdrawal:
    """Finance agrees to pay; the money stays in transit until it is paid (or the payout fails)."""
    _require_finance(by)
    withdrawal = _locked_withdrawal(withdrawal)
    _transition(withdrawal, "approve", by=by, note=(note or "").strip())
    return withdrawal


def _release(withdrawal: Withdrawal, *, by, note: str) -> None:
    """Reverse the hold: the amount goes back from payouts in transit to available rewards."""
    withdrawal.release_entry = _reverse(
        entry=withdrawal.hold_entry,
        by=by,
        kind="withdrawal.release",
        memo=record_text("Withdrawal %(number)s returned") % {"number": withdrawal.number} + f": {note}"[:150],
    )
    withdrawal.save(update_fields=["release_entry"])


@transaction.atomic
def withdrawal_reject(*, withdrawal: Withdrawal, by, note: str) -> Withdrawal:
    """Finance refuses (the agent reads why); the held money is back in available rewards at once."""
    _require_finance(by)
    note = _require_note(note, _("Say why the withdrawal is rejected."))
    withdrawal = _locked_withdrawal(withdrawal)
    _transition(withdrawal, "reject", by=by, note=note)
    _release(withdrawal, by=by, note=note)
    return withdrawal


@transaction.atomic
def withdrawal_fail(*, withdrawal: Withdrawal, by, note: str) -> Withdrawal:
    """The transfer did not go through (wrong account, bounced): the money returns to available."""
    _require_finance(by)
    note = _require_note(note, _("Say why the payout failed."))
    withdrawal = _locked_withdrawal(withdrawal)
    _transition(withdrawal, "fail", by=by, note=note)
    _release(withdrawal, by=by, note=note)
    return withdrawal


@transaction.atomic
def withdrawal_mark_paid(*, withdrawal: Withdrawal, by, reference: str, note: str = "") -> Withdrawal:
    """Finance has sent ``net`` to the agent (``reference``: the transfer id, used once).

    Posts: debit payouts in transit (amount), credit brand cash (net), credit brand fee income (fee).
    """
    _require_finance(by)
    reference = (reference or "").strip()
    if not reference or len(reference) > 64:
        raise BusinessError(_("Enter the transfer reference (up to 64 characters)."), field="reference")
    withdrawal = _locked_withdrawal(withdrawal)
    used = Withdrawal.objects.filter(payout_reference=reference).exclude(pk=withdrawal.pk).first()
    if used is not None:
        raise Conflict(
            _("The transfer %(reference)s already paid withdrawal %(number)s.")
            % {"reference": reference, "number": used.number},
            field="reference",
            code="reference_used",
        )
    _transition(withdrawal, "mark_paid", by=by, note=(note or "").strip())
    in_transit = account_for(owner=withdrawal.agent, purpose=P.PAYOUTS_IN_TRANSIT)
    cash = account_for(owner=None, purpose=P.BRAND_CASH)
    lines = [debit(in_transit, withdrawal.amount), credit(cash, withdrawal.net)]
    if withdrawal.fee:
        lines.append(credit(account_for(owner=None, purpose=P.BRAND_FEE_INCOME), withdrawal.fee))
    withdrawal.payout_entry = journal_post(
        lines=lines,
        memo=record_text("Withdrawal %(number)s paid") % {"number": withdrawal.number},
        reference=f"withdrawal:{withdrawal.number}",
        kind="withdrawal.payout",
        by=by,
    )
    withdrawal.payout_reference = reference
    try:
        with transaction.atomic():
            withdrawal.save(update_fields=["payout_entry", "payout_reference"])
    except IntegrityError:  # the same reference, saved by a concurrent payout of another withdrawal
        raise Conflict(
            _("The transfer %(reference)s already paid another withdrawal.") % {"reference": reference},
            field="reference",
            code="reference_used",
        ) from None
    return withdrawal
