"""From a completed order to frozen rewards, released rewards, refunds and withdrawals — through
the outbox, the engine and the ledger, as an agent and brand finance would see them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from weishang.core.errors import BusinessError, Conflict
from weishang.ledger.models import Purpose
from weishang.ledger.services import withdrawal_approve, withdrawal_mark_paid
from weishang.rewards.models import EventReceipt, RewardLine, RewardStatus
from weishang.rewards.services import reward_withdraw, rewards_release, settle_period
from weishang.trade import services as trade


@pytest.fixture
def chain(tiered, make_agent, catalog, r):
    """省代 P0 supplies three 市代 in a referral line C1 → C2 → C3 (peer referral: same level)."""
    p0 = make_agent("province", real_name="省代周强")
    c1 = make_agent("city", referrer=p0, real_name="市代王芳")
    c2 = make_agent("city", referrer=c1, real_name="市代李娜")
    c3 = make_agent("city", referrer=c2, real_name="市代张伟")
    assert c3.supplier_id == p0.pk
    r.receive(p0, catalog.skus["GLOW-30ML"], 500)
    r.process()  # the agents' joined events: nothing to pay under this plan
    return p0, c1, c2, c3


def test_a_completed_order_freezes_peer_referral_rewards_with_explanations(chain, r):
    p0, c1, c2, c3 = chain
    order = r.complete(c3, [("GLOW-30ML", 10)])  # 10 × ¥170 = ¥1,700
    assert order.total == Decimal("1700.00")
    assert r.process() >= 1
    lines = {(line.beneficiary_id, line.rule_id): line for line in RewardLine.objects.filter(order=order)}
    gen1, gen2 = lines[(c2.pk, "peer-referral")], lines[(c1.pk, "peer-referral")]
    assert (gen1.amount, gen1.generation, gen1.status) == (Decimal("85.00"), 1, RewardStatus.FROZEN)
    assert (gen2.amount, gen2.generation, gen2.status) == (Decimal("34.00"), 2, RewardStatus.FROZEN)
    assert gen1.release_at == order.completed_at + timedelta(days=7)
    assert "1,700" in gen1.explanation_en or "1700" in gen1.explanation_en
    margin = lines[(p0.pk, "margin")]  # the supplier's price differential: 10 × (170 − 140)
    assert (margin.amount, margin.status, margin.entry_id) == (Decimal("300.00"), RewardStatus.RECORDED, None)
    assert r.frozen(c2) == Decimal("85.00") and r.frozen(c1) == Decimal("34.00")
    assert r.available(c2) == 0
    assert r.verify() == []


def test_replaying_the_outbox_pays_nothing_twice(chain, r):
    _p0, c1, c2, c3 = chain
    r.complete(c3, [("GLOW-30ML", 10)])
    r.process()
    assert r.process() == 0
    EventReceipt.objects.all().delete()  # as if the consumer had forgotten everything
    r.process()
    assert RewardLine.objects.filter(rule_id="peer-referral").count() == 2
    assert r.frozen(c2) == Decimal("85.00") and r.frozen(c1) == Decimal("34.00")
    assert r.verify() == []


@pytest.fixture
def finance(django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("finance1", password="pass-word-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="ledger", codename="change_withdrawal"))
    return django_user_model.objects.get(pk=user.pk)


def test_release_after_the_frozen_days_then_withdraw_and_finance_pays(chain, r, finance):
    _p0, c1, c2, c3 = chain
    order = r.complete(c3, [("GLOW-30ML", 20)])  # ¥3,400: C2 earns ¥170
    r.process()
    assert rewards_release(now=order.completed_at + timedelta(days=6)) == 0
    assert rewards_release(now=order.completed_at + timedelta(days=7)) == 2
    assert r.frozen(c2) == 0 and r.available(c2) == Decimal("170.00")
    with pytest.raises(BusinessError) as exc:  # the plan's minimum is ¥100
        reward_withdraw(
            agent=c2, amount="99", method="alipay", account_name="李娜", account_no="13900001111", by=c2.user
        )
    assert exc.value.field == "amount"
    w = reward_withdraw(
        agent=c2, amount="170", method="alipay", account_name="李娜", account_no="13900001111", by=c2.user
    )
    assert (w.fee, w.net) == (Decimal("1.02"), Decimal("168.98"))  # 0.6 %, rounded down
    assert r.available(c2) == 0
    with pytest.raises(Conflict):  # nothing left to withdraw twice
        reward_withdraw(
            agent=c2, amount="100", method="alipay", account_name="李娜", account_no="13900001111", by=c2.user
        )
    withdrawal_approve(withdrawal=w, by=finance)
    withdrawal_mark_paid(withdrawal=w, by=finance, reference="ALI-20261127-1")
    assert r.balance(c2, Purpose.PAYOUTS_IN_TRANSIT) == 0
    assert r.verify() == []


def test_refund_inside_the_window_cancels_the_frozen_rewards(chain, r):
    p0, c1, c2, c3 = chain
    order = r.complete(c3, [("GLOW-30ML", 10)])
    r.process()
    trade.refund_request(order=order, by=c3.user, note="过敏")
    assert rewards_release(now=order.completed_at + timedelta(days=8)) == 0  # a return is being decided
    trade.refund_approve(order=order, by=p0.user)
    r.process()
    statuses = set(RewardLine.objects.filter(order=order, rule_id="peer-referral").values_list("status", flat=True))
    assert statuses == {RewardStatus.CANCELLED}
    assert r.frozen(c2) == 0 and r.frozen(c1) == 0 and r.available(c2) == 0
    assert r.verify() == []


def test_refund_after_withdrawal_leaves_a_debt_netted_against_later_rewards(chain, r):
    p0, _c1, c2, c3 = chain
    first = r.complete(c3, [("GLOW-30ML", 20)])  # C2 earns ¥170
    r.process()
    rewards_release(now=first.completed_at + timedelta(days=7))
    reward_withdraw(agent=c2, amount="170", method="wechat", account_name="李娜", account_no="wxid_lina", by=c2.user)
    trade.refund_request(order=first, by=c3.user, note="退货")
    trade.refund_approve(order=first, by=p0.user)
    r.process()
    assert r.available(c2) == Decimal("-170.00")  # never silently lost
    second = r.complete(c3, [("GLOW-30ML", 40)])  # C2 earns ¥340
    r.process()
    rewards_release(now=second.completed_at + timedelta(days=7))
    assert r.available(c2) == Decimal("170.00")
    assert RewardLine.objects.get(order=first, beneficiary=c2).status == RewardStatus.REVERSED
    assert r.verify() == []


def test_no_plan_in_force_means_no_rewards(make_agent, catalog, r):
    p0 = make_agent("province")
    c1 = make_agent("city", referrer=p0)
    c2 = make_agent("city", referrer=c1)
    r.receive(p0, catalog.skus["GLOW-30ML"], 50)
    r.complete(c2, [("GLOW-30ML", 10)])
    r.process()
    assert not RewardLine.objects.exists()
    assert EventReceipt.objects.filter(outcome="no plan in force").exists()


def test_period_settlement_pays_the_ladder_once_and_reports(chain, r, catalog):
    p0, c1, c2, c3 = chain
    r.receive(p0, catalog.skus["GLOW-30ML"], 2000)
    order = r.complete(c3, [("GLOW-30ML", 700)])  # ¥119,000 in one month: C3's team reaches step 1 (3 %)
    r.process()

    month = timezone.localtime(order.completed_at).date()
    label = f"{month:%Y-%m}"
    with pytest.raises(BusinessError):  # the month is not over
        settle_period(period=label, today=month)
    run = settle_period(period=label, today=month.replace(day=28) + timedelta(days=10))
    again = settle_period(period=label, today=month.replace(day=28) + timedelta(days=10))
    assert again.pk == run.pk and again.finished_at == run.finished_at
    ladder = RewardLine.objects.filter(rule_id="team-ladder")
    # Every team volume is the same ¥119,000 (C3's order): C3 earns 3 %, the others subtract it.
    assert {(line.beneficiary_id, line.amount) for line in ladder} == {(c3.pk, Decimal("3570.00"))}
    assert ladder.get().status == RewardStatus.AVAILABLE
    assert r.available(c3) == Decimal("3570.00")
    assert run.total == Decimal("3570.00") and run.volume == Decimal("119000.00")
    assert run.reports.get(agent=c1).team_purchase == Decimal("119000.00")
    assert r.verify() == []


def test_a_period_is_settled_once_however_it_is_spelled(chain, r, catalog):
    p0, _c1, _c2, c3 = chain
    r.receive(p0, catalog.skus["GLOW-30ML"], 2000)
    order = r.complete(c3, [("GLOW-30ML", 700)])
    r.process()
    day = timezone.localtime(order.completed_at).date()
    later = day.replace(day=28) + timedelta(days=10)
    first = settle_period(period=f"{day:%Y-%m}", today=later)
    again = settle_period(period=f" {day:%Y-%m} ".lower(), today=later)
    assert again.pk == first.pk
    assert RewardLine.objects.filter(rule_id="team-ladder").count() == 1


def test_a_plan_cannot_start_before_rewards_already_paid(chain, r, catalog):
    from weishang.rewards import plan_versions

    p0, _c1, _c2, c3 = chain
    r.receive(p0, catalog.skus["GLOW-30ML"], 50)
    r.complete(c3, [("GLOW-30ML", 10)])
    r.process()
    text = (r.activate.__globals__["EXAMPLES"] / "glow-tiered.yaml").read_text(encoding="utf-8")
    v2 = plan_versions.plan_upload(text=text.replace("version: 1", "version: 2"), filename="glow-tiered.yaml")
    with pytest.raises(Conflict) as exc:
        plan_versions.plan_activate(version=v2, active_from=timezone.now() - timedelta(days=30), acknowledgement="ok")
    assert exc.value.field == "active_from"
    v2.refresh_from_db()
    assert not v2.is_activated
    assert plan_versions.plan_activate(version=v2, acknowledgement="ok").is_activated  # from now on is fine
