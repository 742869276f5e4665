"""Ledger reads: balances, statements with a running balance, withdrawals, and ``ledger_verify``."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from weishang.channel.models import Agent
from weishang.core.money import CENT
from weishang.core.selectors import unique_row
from weishang.ledger.models import (
    AGENT_PURPOSES,
    NORMAL,
    OPEN_WITHDRAWAL,
    Account,
    JournalEntry,
    JournalLine,
    Purpose,
    Withdrawal,
)

ZERO = Decimal("0.00")
HALF_FEN = Decimal("0.005")


def _sum(value) -> Decimal:
    """A database SUM as exact money (SQLite adds decimals as floats; PostgreSQL exactly)."""
    return Decimal(value or 0).quantize(CENT)


def account_balance(
    account: Account | None = None, *, owner: Agent | None = None, purpose: str | None = None
) -> Decimal:
    """The cached balance on the account's normal side (¥100 in a wallet is 100). An account
    that was never opened has 0. Pass ``account`` or ``owner`` and ``purpose``."""
    if account is None:  # one read: the balance of the owner's account, if it was ever opened
        balance = unique_row(Account.objects.filter(owner=owner, purpose=purpose).values_list("balance", flat=True))
        return ZERO if balance is None else balance
    return Account.objects.filter(pk=account.pk).values_list("balance", flat=True).get()


def agent_balances(agent: Agent) -> dict[str, Decimal]:
    """Every balance an agent has, by purpose (0 for accounts not opened yet)."""
    found = dict(Account.objects.filter(owner=agent).values_list("purpose", "balance"))
    return {p: found.get(p, ZERO) for p in Purpose.values if p in AGENT_PURPOSES}


@dataclass(frozen=True)
class StatementRow:
    entry_id: int
    number: str
    created_at: datetime
    kind: str
    memo: str
    reference: str
    change: Decimal  # on the account's normal side: + raises the balance, − lowers it
    balance: Decimal  # running balance after this line
    reversal_of: str | None

    @property
    def order_number(self) -> str | None:
        """The order an entry is about (reference ``order:<number>``), if any."""
        return self.reference.removeprefix("order:") if self.reference.startswith("order:") else None


def account_statement(account: Account, *, limit: int | None = None) -> list[StatementRow]:
    """The account's lines in posting order, each with the balance after it. With ``limit``,
    only the latest ``limit`` rows (the running balance still counts every earlier line)."""
    normal = NORMAL[account.purpose]
    lines = (
        JournalLine.objects.filter(account=account)
        .order_by("entry_id", "pk")
        .values_list(
            "entry_id",
            "entry__number",
            "entry__created_at",
            "entry__kind",
            "entry__memo",
            "entry__reference",
            "amount",
            "entry__reverses__number",
        )
    )
    skip = 0
    opening = ZERO
    if limit is not None:
        total = lines.count()
        skip = max(total - limit, 0)
        if skip:
            cutoff = lines[skip - 1 : skip].get()[0]
            opening = normal * _sum(
                JournalLine.objects.filter(account=account, entry_id__lte=cutoff).aggregate(s=Sum("amount"))["s"]
            )
            lines = lines[skip:]
    rows, running = [], opening
    for entry_id, number, created_at, kind, memo, reference, amount, reversal_of in lines:
        change = normal * amount
        running += change
        rows.append(StatementRow(entry_id, number, created_at, kind, memo, reference, change, running, reversal_of))
    return rows


def trial_balance() -> dict[str, Decimal]:
    """Σ debits and Σ credits over all lines, and Σ signed cached balances (0 when all is right)."""
    debits = _sum(JournalLine.objects.filter(amount__gt=0).aggregate(s=Sum("amount"))["s"])
    credits = -_sum(JournalLine.objects.filter(amount__lt=0).aggregate(s=Sum("amount"))["s"])
    signed = sum((NORMAL[p] * b for p, b in Account.objects.values_list("purpose", "balance")), ZERO)
    return {"debits": debits, "credits": credits, "signed_balances": signed}


def entries_for(reference: str) -> QuerySet[JournalEntry]:
    return JournalEntry.objects.filter(reference=reference).order_by("pk")


# --- withdrawals ----------------------------------------------------------------------------


def withdrawals_for_agent(agent: Agent) -> QuerySet[Withdrawal]:
    return Withdrawal.objects.filter(agent=agent).order_by("-pk")


def withdrawals_waiting() -> QuerySet[Withdrawal]:
    """Finance's queue: requested (to approve or reject) and approved (to pay), oldest first."""
    return (
        Withdrawal.objects.filter(status__in=OPEN_WITHDRAWAL).select_related("agent__user").order_by("created_at", "pk")
    )


# --- verify ---------------------------------------------------------------------------------


def _label(account_id: int, names: dict[int, str]) -> str:
    return names.get(account_id, f"account {account_id}")


def ledger_verify() -> list[str]:
    """Every problem found, one sentence each; empty when the ledger is right.

    Recomputes every cached balance from the lines, checks that every entry has two or more
    lines summing to zero, that every reversal mirrors its original line for line, that the
    signed balances sum to zero, and that each agent's payouts in transit equal their open
    withdrawals (requested or approved).
    """
    problems: list[str] = []
    accounts = list(Account.objects.select_related("owner").order_by("pk"))
    names = {a.pk: f"#{a.pk} {a}" for a in accounts}

    sums = dict(JournalLine.objects.order_by().values("account").annotate(s=Sum("amount")).values_list("account", "s"))
    for account in accounts:
        want = NORMAL[account.purpose] * _sum(sums.get(account.pk))
        if want != account.balance:
            problems.append(
                _("%(account)s: the lines add up to %(want)s, the cached balance says %(have)s")
                % {"account": names[account.pk], "want": want, "have": account.balance}
            )

    # SQLite sums decimals as floats: anything within half a fen of zero is zero (a real
    # difference is at least a fen), and the figure is checked again exactly below.
    suspects = (
        JournalEntry.objects.order_by("pk")
        .annotate(total=Sum("lines__amount"), n=Count("lines"))
        .filter(Q(n__lt=2) | Q(total__gt=HALF_FEN) | Q(total__lt=-HALF_FEN))
    )
    for number, total, n in suspects.values_list("number", "total", "n"):
        if n < 2:
            problems.append(
                _("Entry %(number)s has %(n)d line(s); an entry needs at least two") % {"number": number, "n": n}
            )
        total = Decimal(total or 0).quantize(CENT)
        if total != 0:
            problems.append(
                _("Entry %(number)s does not balance: its lines add up to %(total)s")
                % {"number": number, "total": total}
            )

    reversals = dict(JournalEntry.objects.filter(reverses__isnull=False).values_list("pk", "reverses"))
    if reversals:
        lines: dict[int, Counter] = defaultdict(Counter)
        involved = set(reversals) | set(reversals.values())
        for entry_id, account_id, amount in JournalLine.objects.filter(entry_id__in=involved).values_list(
            "entry_id", "account_id", "amount"
        ):
            lines[entry_id][(account_id, amount)] += 1
        numbers = dict(JournalEntry.objects.filter(pk__in=involved).values_list("pk", "number"))
        for reversal, original in sorted(reversals.items()):
            mirrored = Counter({(a, -v): c for (a, v), c in lines[original].items()})
            if lines[reversal] != mirrored:
                problems.append(
                    _("Entry %(reversal)s does not mirror the entry it reverses, %(original)s")
                    % {"reversal": numbers[reversal], "original": numbers[original]}
                )
            if original in reversals:
                problems.append(
                    _("Entry %(reversal)s reverses a reversal (%(original)s)")
                    % {"reversal": numbers[reversal], "original": numbers[original]}
                )

    signed = sum((NORMAL[a.purpose] * a.balance for a in accounts), ZERO)
    if signed != 0:
        problems.append(
            _("The cached balances do not net to zero (debits minus credits: %(signed)s)") % {"signed": signed}
        )

    held = dict(
        Withdrawal.objects.filter(status__in=OPEN_WITHDRAWAL)
        .order_by()
        .values("agent")
        .annotate(s=Sum("amount"))
        .values_list("agent", "s")
    )
    in_transit = {a.owner_id: a for a in accounts if a.purpose == Purpose.PAYOUTS_IN_TRANSIT}
    for agent_id in sorted(set(held) | set(in_transit)):
        account = in_transit.get(agent_id)
        have = account.balance if account else ZERO
        want = _sum(held.get(agent_id))
        if have != want:
            where = names[account.pk] if account else f"agent {agent_id}"
            problems.append(
                _("%(account)s: open withdrawals total %(want)s, payouts in transit hold %(have)s")
                % {"account": where, "want": want, "have": have}
            )
    return problems


def ledger_counts() -> tuple[int, int]:
    """(entries, accounts)."""
    return JournalEntry.objects.count(), Account.objects.count()
