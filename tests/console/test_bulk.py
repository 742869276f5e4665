"""Bulk approve on the console lists: each selected application or withdrawal goes through the
same service as its own page, in its own transaction; the page says how many were approved and
why the others were not, and never fails as a whole."""

from __future__ import annotations

import pytest
from console_helpers import give_rewards, withdraw
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from weishang.channel import services as channel
from weishang.channel.models import Application, ApplicationStatus
from weishang.ledger import services as ledger
from weishang.ledger.models import Withdrawal, WithdrawalStatus, WithdrawalTransition

APPLICATIONS = reverse("admin:channel_application_changelist")
WITHDRAWALS = reverse("admin:ledger_withdrawal_changelist")


@pytest.fixture(autouse=True)
def english(client):
    client.cookies["django_language"] = "en"


def apply(phone: str, name: str, level: str = "general") -> Application:
    return channel.application_submit(
        invite_code=None, phone=phone, real_name=name, level_code=level, password="pass-word-1"
    )


def act(client, url: str, action: str, rows) -> list[str]:
    response = client.post(url, {"action": action, "_selected_action": [r.pk for r in rows]}, follow=True)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def status(model, row) -> str:
    return model.objects.get(pk=row.pk).status


# --- applications ---------------------------------------------------------------------------


def test_bulk_approve_applications_says_which_were_not_approved_and_why(client, owner, levels, make_agent):
    first, second = apply("13600000001", "王静"), apply("13600000002", "李娜")
    decided, taken = apply("13600000003", "陈芳"), apply("13600000004", "赵敏")
    channel.application_reject(application=decided, by=owner, note="资料不全")
    make_agent("vip", phone="13600000004")  # someone registered the phone in the meantime
    client.force_login(owner)
    messages = act(client, APPLICATIONS, "approve_selected", [first, second, decided, taken])
    assert "2 applications approved." in messages
    warning = next(m for m in messages if m.startswith("2 applications were not approved:"))
    assert "陈芳 (13600000003): This application has already been decided" in warning
    assert "赵敏 (13600000004): The phone number 13600000004 is already registered." in warning
    assert [status(Application, a) for a in (first, second, decided, taken)] == [
        ApplicationStatus.APPROVED,
        ApplicationStatus.APPROVED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.PENDING,
    ]
    assert Application.objects.get(pk=first.pk).agent.level == levels["general"]


def test_one_unexpected_failure_does_not_stop_the_others(client, owner, levels, monkeypatch, caplog):
    good, bad, also_good = apply("13600000011", "王静"), apply("13600000012", "李娜"), apply("13600000013", "陈芳")
    real = channel.application_approve

    def flaky(*, application, by, note=""):
        if application.pk == bad.pk:
            raise RuntimeError("disk full")
        return real(application=application, by=by, note=note)

    monkeypatch.setattr(channel, "application_approve", flaky)
    client.force_login(owner)
    messages = act(client, APPLICATIONS, "approve_selected", [good, bad, also_good])
    assert "2 applications approved." in messages
    assert any("李娜 (13600000012): an unexpected error (it has been logged)" in m for m in messages)
    assert "disk full" in caplog.text
    assert status(Application, bad) == ApplicationStatus.PENDING


def test_bulk_reject_applications(client, owner, levels):
    one, two = apply("13600000021", "王静"), apply("13600000022", "李娜")
    client.force_login(owner)
    assert "2 applications rejected." in act(client, APPLICATIONS, "reject_selected", [one, two])
    assert Application.objects.get(pk=one.pk).decision_note == "Rejected in the console"


# --- withdrawals ----------------------------------------------------------------------------


def test_finance_bulk_approves_withdrawals(client, finance, owner, make_agent):
    agents = [make_agent("vip", real_name=name) for name in ("王静", "李娜", "陈芳")]
    for agent in agents:
        give_rewards(agent, "200.00")
    one, two, refused = (withdraw(agent, "100.00") for agent in agents)
    ledger.withdrawal_reject(withdrawal=refused, by=finance, note="账户名不符")
    client.force_login(finance)
    messages = act(client, WITHDRAWALS, "approve_selected", [one, two, refused])
    assert "2 withdrawals approved; pay them, then mark them paid." in messages
    warning = next(m for m in messages if m.startswith("1 withdrawal was not approved:"))
    assert f"{refused.number} 陈芳 ¥100.00: Withdrawal {refused.number} is Rejected (已驳回)" in warning
    assert [status(Withdrawal, w) for w in (one, two, refused)] == [
        WithdrawalStatus.APPROVED,
        WithdrawalStatus.APPROVED,
        WithdrawalStatus.REJECTED,
    ]
    steps = WithdrawalTransition.objects.filter(withdrawal__in=[one, two], to_status=WithdrawalStatus.APPROVED)
    assert {step.by for step in steps} == {finance}


def test_the_action_is_offered_only_to_who_may_decide(client, make_agent):
    viewer = get_user_model().objects.create_user(username="auditor", password="pass-word-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_withdrawal"))
    agent = make_agent("vip")
    give_rewards(agent, "100.00")
    waiting = withdraw(agent, "50.00")
    client.force_login(viewer)
    page = client.get(WITHDRAWALS)
    assert page.status_code == 200 and "approve_selected" not in page.content.decode()
    client.post(WITHDRAWALS, {"action": "approve_selected", "_selected_action": [waiting.pk]})
    assert status(Withdrawal, waiting) == WithdrawalStatus.REQUESTED
