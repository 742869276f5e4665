"""The ledger: double-entry accounts, journal entries and their lines; withdrawals (提现).

Sign convention
---------------
A ``JournalLine.amount`` is signed: **positive = debit, negative = credit**. The lines of one
entry sum to exactly zero. Every account has a *normal side* given by its purpose (see
``NORMAL``): debit for what the brand holds or spends (brand cash, reward expense), credit for
what the brand owes (agents' wallets, rewards, deposits, payouts in transit, prizes payable)
and for its income (withdrawal fees).

``Account.balance`` is cached **on the normal side**: ``balance = normal × Σ line amounts``
(``normal`` is +1 for debit-normal, −1 for credit-normal accounts). So the number is the one a
person expects: an agent's wallet of ¥100 has balance 100, brand cash of ¥5,000 has balance
5000. ``Account.signed_balance`` (= balance × normal) is the raw debit-minus-credit figure; it
sums to zero over all accounts, because every entry does.

To credit an agent ¥10 of reward: ``[debit(expense, 10), credit(rewards_available, 10)]``
(``weishang.ledger.services.debit`` / ``credit`` spell the sign).

Accounts
--------
One account per (owner, purpose). An agent has a wallet (货款), frozen and available rewards, a
deposit and payouts in transit (their withdrawals being paid; moved only by the withdrawal
services). The brand (owner empty) has cash, reward expense, prizes payable and withdrawal fee
income, and for its goods (M14) inventory at moving average cost, cost of goods sold, stock count
gains and losses, goods received not yet billed, payables and receivables (one account each: the
purchasing and B2B documents say whose), and opening balances. Wallet, frozen rewards, deposit
and payouts in transit never go below zero; available rewards may (a clawback after a withdrawal
is a debt, repaid by later rewards); the brand's
accounts have no floor (they see only the money that passes through the ledger).

Immutability
------------
Entries and lines are never changed or deleted: a mistake is corrected by a reversal
(``journal_reverse``). The services have no update or delete path; ``save()`` refuses to update
an existing row and ``delete()`` refuses (on the models and their querysets), the console is
read-only, and a database trigger (migration 0002) refuses any ``UPDATE`` of an entry or a line
on both SQLite and PostgreSQL. ``DELETE`` is not refused by the database, so that test
databases can be flushed; every foreign key to an entry or a line protects it, and
``weishang ledger verify`` catches a line removed (or inserted) behind the ORM's back.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from weishang.channel.models import Agent
from weishang.core import clock
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES
from weishang.core.validators import mask_phone

ZERO = Decimal("0.00")
DEBIT, CREDIT = 1, -1


class Purpose(models.TextChoices):
    # An agent's accounts (owner = the agent): what the brand owes them.
    AGENT_WALLET = "agent_wallet", _("Agent wallet (货款)")
    AGENT_REWARDS_FROZEN = "agent_rewards_frozen", _("Rewards, frozen (待结算)")
    AGENT_REWARDS_AVAILABLE = "agent_rewards_available", _("Rewards, available (可提现)")
    AGENT_DEPOSIT = "agent_deposit", _("Deposit (保证金)")
    PAYOUTS_IN_TRANSIT = "payouts_in_transit", _("Withdrawals being paid out (提现中)")
    # The brand's accounts (owner = None).
    BRAND_CASH = "brand_cash", _("Brand cash (品牌资金)")
    BRAND_REWARD_EXPENSE = "brand_reward_expense", _("Reward expense (奖励支出)")
    BRAND_PRIZES_PAYABLE = "brand_prizes_payable", _("Prizes payable (应付奖品)")
    BRAND_FEE_INCOME = "brand_fee_income", _("Withdrawal fee income (提现手续费收入)")
    BRAND_SALES = "brand_sales", _("Sales (销售收入)")
    BRAND_PROMOTION_EXPENSE = "brand_promotion_expense", _("Promotion expense (促销支出)")
    # The brand's goods and its trade with suppliers and businesses (M14: inventory, purchasing, B2B).
    BRAND_INVENTORY = "brand_inventory", _("Inventory (库存商品)")
    BRAND_COST_OF_GOODS_SOLD = "brand_cost_of_goods_sold", _("Cost of goods sold (主营业务成本)")
    BRAND_INVENTORY_ADJUSTMENT = "brand_inventory_adjustment", _("Inventory gains and losses (存货盘盈盘亏)")
    BRAND_GOODS_RECEIVED = "brand_goods_received", _("Goods received, not billed (已收货未开票)")
    BRAND_PAYABLES = "brand_payables", _("Accounts payable (应付账款)")
    BRAND_RECEIVABLES = "brand_receivables", _("Accounts receivable (应收账款)")
    BRAND_OPENING_BALANCE = "brand_opening_balance", _("Opening balances (期初余额)")
    BRAND_CUSTOMER_ADVANCES = "brand_customer_advances", _("Advances from customers (预收账款)")
    # A car dealer's finance desk (M15, autofinance): what lenders and the manufacturer owe it, its
    # finance income, and the interest subsidies it pays.
    BRAND_FINANCE_COMMISSION_RECEIVABLE = "brand_fin_commission_due", _("Finance commission receivable (应收金融佣金)")
    BRAND_FINANCE_COMMISSION_INCOME = "brand_fin_commission_income", _("Finance commission income (金融佣金收入)")
    BRAND_LOAN_SERVICE_FEE_INCOME = "brand_loan_service_fee_income", _("Loan service fee income (贷款服务费收入)")
    BRAND_FINANCE_INCENTIVE_RECEIVABLE = "brand_fin_incentive_due", _("Finance incentive receivable (应收厂家金融奖励)")
    BRAND_FINANCE_INCENTIVE_INCOME = "brand_fin_incentive_income", _("Finance incentive income (厂家金融奖励收入)")
    BRAND_FINANCE_SUBSIDY_EXPENSE = "brand_fin_subsidy_expense", _("Interest subsidy expense (贴息支出)")


P = Purpose
AGENT_PURPOSES = frozenset(
    {P.AGENT_WALLET, P.AGENT_REWARDS_FROZEN, P.AGENT_REWARDS_AVAILABLE, P.AGENT_DEPOSIT, P.PAYOUTS_IN_TRANSIT}
)
BRAND_PURPOSES = frozenset(set(P) - AGENT_PURPOSES)
# +1: the balance grows with debits (assets, expenses); −1: it grows with credits (what is owed, income).
NORMAL: dict[str, int] = {p: CREDIT for p in P} | {
    P.BRAND_CASH: DEBIT,
    P.BRAND_REWARD_EXPENSE: DEBIT,
    P.BRAND_PROMOTION_EXPENSE: DEBIT,
    P.BRAND_INVENTORY: DEBIT,
    P.BRAND_COST_OF_GOODS_SOLD: DEBIT,
    P.BRAND_INVENTORY_ADJUSTMENT: DEBIT,
    P.BRAND_RECEIVABLES: DEBIT,
    P.BRAND_FINANCE_COMMISSION_RECEIVABLE: DEBIT,
    P.BRAND_FINANCE_INCENTIVE_RECEIVABLE: DEBIT,
    P.BRAND_FINANCE_SUBSIDY_EXPENSE: DEBIT,
}
# Balances that a posting may never take below zero (unless the caller names the purpose in
# ``allow_negative``). Available rewards may go negative: a clawback after a withdrawal is kept
# as a debt netted against future rewards, never lost. The brand's accounts are partial views of
# its books (money arrives outside the ledger too), so they have no floor.
NON_NEGATIVE = frozenset({P.AGENT_WALLET, P.AGENT_REWARDS_FROZEN, P.AGENT_DEPOSIT, P.PAYOUTS_IN_TRANSIT})


def _money(verbose_name, **kw) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kw)


class ImmutableRecord(Exception):
    """Raised on an attempt to change or delete a journal entry or line: post a reversal instead."""


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRecord(f"{self.model.__name__} rows are immutable; post a reversal instead")

    def delete(self):
        raise ImmutableRecord(f"{self.model.__name__} rows are immutable; post a reversal instead")

    def bulk_update(self, objs, fields, batch_size=None):
        raise ImmutableRecord(f"{self.model.__name__} rows are immutable; post a reversal instead")


class Immutable(models.Model):
    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecord(f"{type(self).__name__} {self.pk} is immutable; post a reversal instead")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecord(f"{type(self).__name__} {self.pk} is immutable; post a reversal instead")


class Account(models.Model):
    """One account: an agent's (``owner``) or the brand's (``owner`` empty), one per purpose.

    ``balance`` is a cache on the account's normal side (see the module docstring), changed only
    by ``ledger.services.journal_post`` with an F() expression, and checked by ``ledger verify``.
    """

    owner = models.ForeignKey(
        Agent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("owner"),
        help_text=_("Empty = the brand."),
        db_index=False,
    )
    purpose = models.CharField(_("purpose"), max_length=32, choices=Purpose.choices)
    balance = _money(_("balance"), default=ZERO)
    created_at = models.DateTimeField(_("opened"), default=clock.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "purpose"], condition=Q(owner__isnull=False), name="account_one_per_agent_purpose"
            ),
            models.UniqueConstraint(
                fields=["purpose"], condition=Q(owner__isnull=True), name="account_one_per_brand_purpose"
            ),
            models.CheckConstraint(
                condition=Q(owner__isnull=False, purpose__in=sorted(AGENT_PURPOSES))
                | Q(owner__isnull=True, purpose__in=sorted(BRAND_PURPOSES)),
                name="account_owner_matches_purpose",
            ),
        ]

    def __str__(self) -> str:
        who = self.owner.real_name if self.owner_id else _("Brand")
        return f"{who} · {self.get_purpose_display()}"

    @property
    def normal(self) -> int:
        """+1 (debit-normal) or −1 (credit-normal)."""
        return NORMAL[self.purpose]

    @property
    def normal_side(self) -> str:
        return "debit" if self.normal == DEBIT else "credit"

    @property
    def signed_balance(self) -> Decimal:
        """Debits minus credits: the sum of this account's line amounts."""
        return self.balance * self.normal

    @property
    def may_go_negative(self) -> bool:
        return self.purpose not in NON_NEGATIVE


class JournalEntry(Immutable):
    """One posting: lines that sum to zero, who, when, why. Never changed; reversed at most once."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    kind = models.CharField(
        _("kind"),
        max_length=40,
        blank=True,
        help_text=_("What posted it, e.g. withdrawal.hold, reward.accrue, reversal."),
    )
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    reference = models.CharField(
        _("reference"),
        max_length=100,
        blank=True,
        db_index=True,
        help_text=_("What it is about, e.g. order:R2026…, withdrawal:W2026…, reward:42."),
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, null=True, blank=True, unique=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by", verbose_name=_("reverses")
    )
    created_at = models.DateTimeField(_("posted"), default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posted by"),
    )

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        constraints = [models.CheckConstraint(condition=~Q(reverses=F("pk")), name="journalentry_not_own_reversal")]

    def __str__(self) -> str:
        return self.number


class JournalLine(Immutable):
    """One side of an entry: ``amount`` > 0 debits ``account``, < 0 credits it; never zero."""

    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, related_name="lines", verbose_name=_("journal entry")
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="lines", verbose_name=_("account"), db_index=False
    )
    amount = _money(_("amount"), help_text=_("Debit positive, credit negative."))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="journalline_not_zero")]
        indexes = [models.Index(fields=["account", "entry"], name="journalline_account_entry")]

    def __str__(self) -> str:
        return f"{self.account} {self.amount:+}"


# --- withdrawals (提现) -----------------------------------------------------------------------


class WithdrawalMethod(models.TextChoices):
    WECHAT = "wechat", _("WeChat (微信)")
    ALIPAY = "alipay", _("Alipay (支付宝)")
    BANK = "bank", _("Bank card (银行卡)")


class WithdrawalStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested (待审核)")
    APPROVED = "approved", _("Approved, to be paid (待打款)")
    PAID = "paid", _("Paid (已打款)")
    REJECTED = "rejected", _("Rejected (已驳回)")
    FAILED = "failed", _("Payout failed (打款失败)")


W = WithdrawalStatus
# The money is held (in payouts in transit) while a withdrawal is in one of these.
OPEN_WITHDRAWAL = (W.REQUESTED, W.APPROVED)


def mask_account_no(value: str) -> str:
    """6222 **** **** 1234 style: the last four characters, enough to recognise the account."""
    value = value or ""
    if "@" in value:
        name, _at, domain = value.partition("@")
        return f"{name[:1]}***@{domain}"
    if len(value) == 11 and value.isdigit():
        return mask_phone(value)
    if len(value) <= 4:
        return "*" * len(value)
    return "**** " + value[-4:]


class Withdrawal(models.Model):
    """An agent's request to be paid out available rewards. Its money is held in payouts in transit
    from the moment it is requested; status changes only through the transitions below, called
    from ``ledger.services``, each recorded as a WithdrawalTransition (who, when, why)."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="withdrawals", verbose_name=_("agent"))
    amount = _money(_("amount"), help_text=_("Taken from available rewards."))
    fee_rate = models.DecimalField(_("fee rate"), max_digits=5, decimal_places=4, default=ZERO)
    fee = _money(_("fee"), default=ZERO, help_text=_("amount × fee rate, rounded down to the fen; kept by the brand."))
    net = _money(_("paid out"), help_text=_("amount − fee: what the agent receives."))
    method = models.CharField(_("method"), max_length=10, choices=WithdrawalMethod.choices)
    account_name = models.CharField(_("account holder"), max_length=50)
    account_no = models.CharField(_("account"), max_length=40, help_text=_("Card number, Alipay account or WeChat ID."))
    bank_name = models.CharField(_("bank"), max_length=50, blank=True)
    status = FSMField(_("status"), max_length=10, choices=WithdrawalStatus.choices, default=W.REQUESTED)
    note = models.CharField(_("note"), max_length=300, blank=True)
    payout_reference = models.CharField(
        _("payout reference"),
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text=_("The bank or WeChat transfer id; one payout, one withdrawal."),
    )
    hold_entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, related_name="+", verbose_name=_("hold entry")
    )
    release_entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("release entry")
    )
    payout_entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("payout entry")
    )
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(_("requested"), default=clock.now)
    # Every change of a payout (status, reference, note) with who made it: the console's audit history.
    history = HistoricalRecords()

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="withdrawal_amount_positive"),
            # amount = fee + net is set by withdrawal_request; not a CHECK, because SQLite adds
            # decimals as floats (0.20 + 1.81 is not 2.01 there).
            models.CheckConstraint(condition=Q(fee__gte=0) & Q(net__gt=0), name="withdrawal_fee_and_net"),
            models.UniqueConstraint(
                fields=["agent", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="withdrawal_idempotency_per_agent",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="withdrawal_status_created")]

    def __str__(self) -> str:
        return self.number

    @property
    def account_no_masked(self) -> str:
        return mask_account_no(self.account_no)

    # --- transitions: called only from ledger.services -----------------------------------
    @transition(field=status, source=W.REQUESTED, target=W.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=status, source=W.REQUESTED, target=W.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=status, source=W.APPROVED, target=W.PAID)
    def mark_paid(self) -> None:
        pass

    @transition(field=status, source=W.APPROVED, target=W.FAILED)
    def fail(self) -> None:
        pass


class WithdrawalTransition(models.Model):
    """Who moved a withdrawal from one status to another, when and why (immutable)."""

    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(_("from"), max_length=10, choices=WithdrawalStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=10, choices=WithdrawalStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("when"), default=clock.now)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("withdrawal step")
        verbose_name_plural = _("withdrawal steps")
