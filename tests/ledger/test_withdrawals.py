"""Withdrawals (提现): the money is held the moment the agent asks, finance approves and pays (or
rejects / records a failed transfer, which gives the money back), and the books always agree."""

from __future__ import annotations

import pytest
from django.urls import reverse
from ledger_helpers import D, balances

from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.ledger import services
from weishang.ledger.models import (
    Account,
    JournalEntry,
    Purpose,
    Withdrawal,
    WithdrawalStatus,
    WithdrawalTransition,
    mask_account_no,
)
from weishang.ledger.selectors import account_balance, ledger_verify, withdrawals_waiting

pytestmark = pytest.mark.django_db
P, S = Purpose, WithdrawalStatus


def snapshot():
    return (
        sorted(Account.objects.values_list("pk", "balance")),
        JournalEntry.objects.count(),
        Withdrawal.objects.count(),
        WithdrawalTransition.objects.count(),
    )


def steps(withdrawal):
    return list(withdrawal.transitions.values_list("from_status", "to_status", "by__username", "note"))


def brand(purpose):
    return account_balance(owner=None, purpose=purpose)


# --- request --------------------------------------------------------------------------------


def test_request_holds_the_money_at_once_and_records_the_fee(agent, reward, withdraw):
    reward(agent, "100.00")
    w = withdraw("60.00")
    assert (w.status, w.amount, w.fee_rate, w.fee, w.net) == (
        S.REQUESTED,
        D("60.00"),
        D("0.006"),
        D("0.36"),
        D("59.64"),
    )
    assert w.number.startswith("W") and (w.method, w.account_name) == ("alipay", "王静")
    b = balances(agent)
    assert (b.available, b.in_transit) == (D("40.00"), D("60.00"))
    assert w.hold_entry.reference == f"withdrawal:{w.number}"
    assert steps(w) == [("", S.REQUESTED, agent.user.username, "")]
    assert list(withdrawals_waiting()) == [w]
    assert ledger_verify() == []


def test_fee_is_rounded_down_to_the_fen(agent, reward, withdraw):
    reward(agent, "100.00")
    w = withdraw("33.33")  # 33.33 × 0.006 = 0.19998 → 0.19
    assert (w.fee, w.net) == (D("0.19"), D("33.14"))
    w = withdraw("10.00", fee_rate=D("0"))
    assert (w.fee, w.net) == (D("0.00"), D("10.00"))


@pytest.mark.parametrize(
    "amount, field, code",
    [
        ("0", "amount", "invalid"),
        ("-5", "amount", "invalid"),
        ("9.99", "amount", "invalid"),  # below ¥10 minimum
        ("abc", "amount", "invalid"),
        ("", "amount", "invalid"),
        ("10.001", "amount", "invalid"),
        ("100.01", "amount", "insufficient_funds"),  # more than available
    ],
)
def test_bad_amounts_are_refused_and_nothing_changes(agent, reward, withdraw, amount, field, code):
    reward(agent, "100.00")
    before = snapshot()
    with pytest.raises(BusinessError) as err:
        withdraw(amount)
    assert (err.value.field, err.value.code) == (field, code)
    assert snapshot() == before
    assert balances(agent).available == D("100.00")


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"method": "paypal"}, "method"),
        ({"account_name": "  "}, "account_name"),
        ({"account_no": ""}, "account_no"),
        ({"method": "bank", "account_no": "6222 0200", "bank_name": "工商银行"}, "account_no"),
        ({"method": "bank", "account_no": "6222020012345678"}, "bank_name"),
        ({"fee_rate": D("1")}, "fee_rate"),
        ({"fee_rate": 0.006}, "fee_rate"),
        ({"minimum": "-1"}, "minimum"),
    ],
)
def test_bad_payout_details_are_refused(agent, reward, withdraw, changes, field):
    reward(agent, "100.00")
    before = snapshot()
    with pytest.raises(BusinessError) as err:
        withdraw("50.00", **changes)
    assert err.value.field == field
    assert snapshot() == before


def test_only_the_agent_asks_for_their_own_money(agent, make_agent, reward, withdraw, finance):
    reward(agent, "100.00")
    for someone in (make_agent("vip").user, finance, None):
        with pytest.raises(Forbidden):
            withdraw("50.00", by=someone)
    assert balances(agent).available == D("100.00") and not Withdrawal.objects.exists()


def test_a_second_request_cannot_spend_money_already_held(agent, reward, withdraw):
    reward(agent, "100.00")
    withdraw("70.00")
    with pytest.raises(Conflict) as err:
        withdraw("40.00")
    assert err.value.field == "amount" and "30.00" in str(err.value)  # what is left is said
    withdraw("30.00")
    assert (balances(agent).available, balances(agent).in_transit) == (0, D("100.00"))


def test_frozen_rewards_cannot_be_withdrawn(agent, reward, withdraw):
    reward(agent, "100.00", purpose=P.AGENT_REWARDS_FROZEN)
    with pytest.raises(Conflict):
        withdraw("10.00")


def test_a_debt_from_a_clawback_blocks_withdrawals_until_it_is_paid_off(agent, reward, withdraw):
    accrual = reward(agent, "50.00")
    withdraw("50.00")
    services.journal_reverse(entry=accrual, memo="order refunded")  # clawback after the withdrawal
    assert balances(agent).available == D("-50.00")
    with pytest.raises(Conflict):
        withdraw("10.00")
    reward(agent, "80.00")
    assert balances(agent).available == D("30.00")
    assert withdraw("30.00").amount == D("30.00")
    assert ledger_verify() == []


def test_a_retry_with_the_same_key_returns_the_first_request(agent, reward, withdraw):
    reward(agent, "100.00")
    first = withdraw("60.00", idempotency_key="form-1")
    again = withdraw("60.00", idempotency_key="form-1")
    assert again == first and Withdrawal.objects.count() == 1
    assert balances(agent).available == D("40.00")
    with pytest.raises(Conflict) as err:
        withdraw("10.00", idempotency_key="form-1")
    assert err.value.field == "idempotency_key" and Withdrawal.objects.count() == 1


# --- finance decisions ----------------------------------------------------------------------


def test_approve_then_pay_pays_net_and_keeps_the_fee(agent, reward, withdraw, finance):
    reward(agent, "100.00")
    w = withdraw("60.00")
    services.withdrawal_approve(withdrawal=w, by=finance)
    w.refresh_from_db()
    assert w.status == S.APPROVED and balances(agent).in_transit == D("60.00")
    services.withdrawal_mark_paid(withdrawal=w, by=finance, reference="WX20261126001")
    w.refresh_from_db()
    assert (w.status, w.payout_reference) == (S.PAID, "WX20261126001")
    b = balances(agent)
    assert (b.available, b.in_transit) == (D("40.00"), 0)
    assert brand(P.BRAND_CASH) == D("-59.64")  # the net left the brand's bank
    assert brand(P.BRAND_FEE_INCOME) == D("0.36")
    assert sorted(w.payout_entry.lines.values_list("account__purpose", "amount")) == [
        (P.BRAND_CASH, D("-59.64")),
        (P.BRAND_FEE_INCOME, D("-0.36")),
        (P.PAYOUTS_IN_TRANSIT, D("60.00")),
    ]
    assert [s[:3] for s in steps(w)] == [
        ("", S.REQUESTED, agent.user.username),
        (S.REQUESTED, S.APPROVED, finance.username),
        (S.APPROVED, S.PAID, finance.username),
    ]
    assert list(withdrawals_waiting()) == []
    assert ledger_verify() == []


def test_a_free_withdrawal_posts_no_fee_line(agent, reward, withdraw, finance):
    reward(agent, "20.00")
    w = withdraw("20.00", fee_rate=D("0"))
    services.withdrawal_approve(withdrawal=w, by=finance)
    w = services.withdrawal_mark_paid(withdrawal=w, by=finance, reference="T1")
    assert w.payout_entry.lines.count() == 2 and brand(P.BRAND_CASH) == D("-20.00")


def test_reject_needs_a_reason_and_gives_the_money_back(agent, reward, withdraw, finance):
    reward(agent, "100.00")
    w = withdraw("60.00")
    before = snapshot()
    with pytest.raises(BusinessError) as err:
        services.withdrawal_reject(withdrawal=w, by=finance, note="  ")
    assert err.value.field == "note" and snapshot() == before
    services.withdrawal_reject(withdrawal=w, by=finance, note="收款账户姓名不符")
    w.refresh_from_db()
    assert (w.status, w.note) == (S.REJECTED, "收款账户姓名不符")
    assert (balances(agent).available, balances(agent).in_transit) == (D("100.00"), 0)
    assert w.release_entry.reverses == w.hold_entry
    assert steps(w)[-1] == (S.REQUESTED, S.REJECTED, finance.username, "收款账户姓名不符")
    assert ledger_verify() == []


def test_a_failed_transfer_gives_the_money_back(agent, reward, withdraw, finance):
    reward(agent, "100.00")
    w = withdraw("60.00")
    services.withdrawal_approve(withdrawal=w, by=finance)
    services.withdrawal_fail(withdrawal=w, by=finance, note="银行退回：卡号错误")
    w.refresh_from_db()
    assert w.status == S.FAILED and balances(agent).available == D("100.00")
    assert brand(P.BRAND_CASH) == 0
    assert ledger_verify() == []


@pytest.mark.parametrize(
    "status_path, step",
    [
        ([], "mark_paid"),
        ([], "fail"),  # not approved yet
        (["approve"], "approve"),
        (["approve"], "reject"),  # already approved
        (["reject"], "approve"),
        (["reject"], "reject"),
        (["approve", "mark_paid"], "fail"),
        (["approve", "mark_paid"], "mark_paid"),
        (["approve", "fail"], "mark_paid"),
    ],
)
def test_steps_out_of_order_are_refused(agent, reward, withdraw, finance, status_path, step):
    reward(agent, "100.00")
    w = withdraw("60.00")
    run = {
        "approve": lambda: services.withdrawal_approve(withdrawal=w, by=finance),
        "reject": lambda: services.withdrawal_reject(withdrawal=w, by=finance, note="no"),
        "mark_paid": lambda: services.withdrawal_mark_paid(withdrawal=w, by=finance, reference=f"R{len(steps(w))}"),
        "fail": lambda: services.withdrawal_fail(withdrawal=w, by=finance, note="bounced"),
    }
    for name in status_path:
        run[name]()
    before = snapshot()
    with pytest.raises(Conflict) as err:
        run[step]()
    assert err.value.code == "wrong_status"
    assert snapshot() == before
    assert ledger_verify() == []


def test_only_finance_decides(agent, reward, withdraw, make_staff):
    reward(agent, "100.00")
    w = withdraw("60.00")
    for user in (agent.user, make_staff("operations"), make_staff("warehouse"), make_staff("finance", is_staff=False)):
        with pytest.raises(Forbidden):
            services.withdrawal_approve(withdrawal=w, by=user)
        with pytest.raises(Forbidden):
            services.withdrawal_reject(withdrawal=w, by=user, note="x")
    owner = make_staff("owner")
    services.withdrawal_approve(withdrawal=w, by=owner)
    w.refresh_from_db()
    assert w.status == S.APPROVED


def test_one_transfer_reference_pays_one_withdrawal(agent, reward, withdraw, finance):
    reward(agent, "100.00")
    a, b = withdraw("30.00"), withdraw("30.00")
    for w in (a, b):
        services.withdrawal_approve(withdrawal=w, by=finance)
    services.withdrawal_mark_paid(withdrawal=a, by=finance, reference="WX-1")
    before = snapshot()
    with pytest.raises(Conflict) as err:
        services.withdrawal_mark_paid(withdrawal=b, by=finance, reference="WX-1")
    assert err.value.field == "reference" and snapshot() == before
    with pytest.raises(BusinessError) as err:
        services.withdrawal_mark_paid(withdrawal=b, by=finance, reference=" ")
    assert err.value.field == "reference"


def test_a_withdrawals_entries_are_reversed_only_by_its_own_steps(agent, reward, withdraw, finance):
    reward(agent, "100.00")
    w = withdraw("60.00")
    before = snapshot()
    with pytest.raises(Conflict) as err:
        services.journal_reverse(entry=w.hold_entry, by=finance)
    assert err.value.code == "owned_entry" and snapshot() == before


def test_verify_notices_a_withdrawal_whose_money_is_not_held(agent, reward, withdraw):
    reward(agent, "100.00")
    w = withdraw("60.00")
    Withdrawal.objects.filter(pk=w.pk).update(status=S.REJECTED)  # status set without the reversal
    problems = ledger_verify()
    assert len(problems) == 1 and "60.00" in problems[0] and "0.00" in problems[0]


def test_account_numbers_are_masked_for_display():
    assert mask_account_no("6222020012345678") == "**** 5678"
    assert mask_account_no("13800138000") == "138****8000"
    assert mask_account_no("wangjing@example.com") == "w***@example.com"
    assert mask_account_no("abc") == "***"


# --- console --------------------------------------------------------------------------------


def test_finance_pays_a_withdrawal_in_the_console(client, agent, reward, withdraw, finance):
    reward(agent, "100.00")
    w = withdraw("60.00", method="bank", account_no="6222020012345678", bank_name="工商银行")
    client.force_login(finance)
    page = client.get(reverse("admin:ledger_withdrawal_changelist")).content.decode()
    assert w.number in page and "**** 5678" in page and "6222020012345678" not in page
    detail = client.get(reverse("admin:ledger_withdrawal_change", args=[w.pk])).content.decode()
    assert reverse("admin:ledger_withdrawal_approve", args=[w.pk]) in detail
    assert reverse("admin:ledger_withdrawal_mark_paid", args=[w.pk]) not in detail  # not approved yet
    response = client.post(reverse("admin:ledger_withdrawal_approve", args=[w.pk]), {"note": ""})
    assert response.status_code == 302
    response = client.post(reverse("admin:ledger_withdrawal_mark_paid", args=[w.pk]), {"reference": ""})
    assert response.status_code == 400  # the transfer reference is required
    response = client.post(reverse("admin:ledger_withdrawal_mark_paid", args=[w.pk]), {"reference": "ICBC-778"})
    assert response.status_code == 302
    w.refresh_from_db()
    assert (w.status, w.payout_reference) == (S.PAID, "ICBC-778")
    assert client.get(reverse("admin:ledger_journalentry_change", args=[w.payout_entry_id])).status_code == 200
    account = Account.objects.get(owner=agent, purpose=P.AGENT_REWARDS_AVAILABLE)
    page = client.get(reverse("admin:ledger_account_change", args=[account.pk])).content.decode()
    assert "40.00" in page and w.hold_entry.number in page  # the statement
    entries = client.get(reverse("admin:ledger_journalentry_changelist") + f"?lines__account={account.pk}")
    assert entries.status_code == 200
    listed = entries.content.decode()
    assert w.hold_entry.number in listed and w.payout_entry.number not in listed  # only this account's
    assert client.get(reverse("admin:ledger_account_changelist")).status_code == 200
    verify = client.get(reverse("admin:ledger_journalentry_verify_ledger")).content.decode()
    assert 'data-testid="ledger-clean"' in verify


def test_the_console_offers_no_edits_and_others_cannot_decide(client, agent, reward, withdraw, finance, make_staff):
    reward(agent, "100.00")
    w = withdraw("60.00")
    client.force_login(finance)
    for name in ("account", "journalentry", "withdrawal"):
        assert client.get(reverse(f"admin:ledger_{name}_add")).status_code == 403
    entry = w.hold_entry
    response = client.post(reverse("admin:ledger_journalentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 403 and JournalEntry.objects.filter(pk=entry.pk).exists()
    client.force_login(make_staff("operations"))
    response = client.post(reverse("admin:ledger_withdrawal_reject", args=[w.pk]), {"note": "no"})
    assert response.status_code == 403
    w.refresh_from_db()
    assert w.status == S.REQUESTED
