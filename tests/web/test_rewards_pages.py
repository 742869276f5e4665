"""The agent's rewards pages, as a newcomer walks through them in a browser: an order completes,
frozen rewards appear with their explanation, they are released, the agent withdraws and brand
finance pays; every bad withdrawal input is shown next to its field, answers 4xx and changes
nothing; nobody sees another agent's lines."""

from __future__ import annotations

import importlib.util
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils.html import escape

from weishang.ledger.models import Account, Withdrawal
from weishang.ledger.services import withdrawal_approve, withdrawal_mark_paid, withdrawal_reject
from weishang.rewards.models import RewardLine, RewardStatus
from weishang.rewards.services import reward_withdraw, rewards_release
from weishang.trade import services as trade

# The reward fixtures (demo catalog, the tiered plan activated, order short-hands) live with the
# rewards tests; load them here under their own module name.
_spec = importlib.util.spec_from_file_location(
    "rewards_conftest", Path(__file__).resolve().parents[1] / "rewards" / "conftest.py"
)
_rewards = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rewards)
catalog, tiered, r = _rewards.catalog, _rewards.tiered, _rewards.r

PASSWORD = "pass-word-1"


def login(agent, *, language: str | None = None) -> Client:
    client = Client()
    assert client.login(username=agent.phone, password=PASSWORD)
    if language:
        client.cookies["django_language"] = language
    return client


def html(response) -> str:
    return response.content.decode()


def token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', html(response)).group(1)


def field_errors(response, name: str) -> list[str]:
    """The error messages shown right after the input named ``name`` (before the next field)."""
    text = html(response)
    start = text.index(f'name="{name}"')
    end = min(i for i in (text.find("<label>", start), text.find("</form>", start)) if i != -1)
    return [unescape(e) for e in re.findall(r'<p class="error" role="alert">([^<]*)</p>', text[start:end])]


def form_errors(response) -> list[str]:
    return [unescape(e) for e in re.findall(r'<p class="error" role="alert">([^<]*)</p>', html(response))]


def snapshot() -> dict:
    """What a refused withdrawal must leave as it was."""
    return {
        "withdrawals": sorted(Withdrawal.objects.values_list("pk", "status", "amount")),
        "balances": sorted(Account.objects.values_list("pk", "balance")),
    }


@pytest.fixture
def chain(tiered, make_agent, catalog, r):
    """省代 周强 supplies three 市代 in a referral line 王芳 → 李娜 → 张伟 (peer referral rewards:
    5 % to the referrer, 2 % to the one above)."""
    p0 = make_agent("province", real_name="省代周强")
    c1 = make_agent("city", referrer=p0, real_name="市代王芳")
    c2 = make_agent("city", referrer=c1, real_name="市代李娜")
    c3 = make_agent("city", referrer=c2, real_name="市代张伟")
    r.receive(p0, catalog.skus["GLOW-30ML"], 500)
    r.process()
    return p0, c1, c2, c3


@pytest.fixture
def released(chain, r):
    """张伟 orders 20 × ¥170 = ¥3,400: 李娜 earns ¥170 (5 %), 王芳 ¥68 (2 %); released after 7 days."""
    _p0, _c1, _c2, c3 = chain
    order = r.complete(c3, [("GLOW-30ML", 20)])
    r.process()
    assert rewards_release(now=order.completed_at + timedelta(days=7)) == 2
    return order


@pytest.fixture
def finance(django_user_model):
    user = django_user_model.objects.create_user("finance1", password="pass-word-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="ledger", codename="change_withdrawal"))
    return django_user_model.objects.get(pk=user.pk)


# --- lines with their explanations ------------------------------------------------------------


def test_frozen_rewards_appear_with_their_explanation_after_an_order_completes(chain, r):
    p0, c1, c2, c3 = chain
    client = login(c2)
    page = client.get("/m/rewards/")
    assert page.status_code == 200
    assert "¥0.00" in html(page) and 'data-testid="reward-line"' not in html(page)

    order = r.complete(c3, [("GLOW-30ML", 20)])
    assert r.process() >= 1
    line = RewardLine.objects.get(order=order, beneficiary=c2)
    assert (line.amount, line.status) == (Decimal("170.00"), RewardStatus.FROZEN)

    text = html(client.get("/m/rewards/"))
    assert re.search(r'data-testid="rewards-frozen">¥170\.00<', text)
    assert re.search(r'data-testid="rewards-available">¥0\.00<', text)
    assert text.count('data-testid="reward-line"') == 1
    assert "+¥170.00" in text and "平级推荐奖" in text and order.number in text
    assert line.explanation_zh and escape(line.explanation_zh) in text  # Chinese by default
    assert escape(line.explanation_en) not in text
    assert "¥100.00" in text and "0.6%" in text  # the plan's minimum and fee

    english = html(login(c2, language="en").get("/m/rewards/"))
    assert line.explanation_en and escape(line.explanation_en) in english
    assert escape(line.explanation_zh) not in english
    assert "Frozen" in english and "My rewards" in english

    # 王芳, two generations up, sees her 2 % and only that.
    theirs = html(login(c1).get("/m/rewards/"))
    assert "+¥68.00" in theirs and "+¥170.00" not in theirs


def test_margin_is_shown_apart_as_my_margin(chain, r):
    p0, _c1, _c2, c3 = chain
    order = r.complete(c3, [("GLOW-30ML", 10)])  # the supplier's differential: 10 × (170 − 140)
    r.process()
    margin = RewardLine.objects.get(order=order, beneficiary=p0, kind="margin")
    client = login(p0, language="en")
    main = html(client.get("/m/rewards/"))
    assert 'data-testid="reward-line"' not in main and escape(margin.explanation_en) not in main
    assert re.search(r'data-testid="rewards-frozen">¥0\.00<', main)
    mine = html(client.get("/m/rewards/?show=margin"))
    assert mine.count('data-testid="reward-line"') == 1
    assert "+¥300.00" in mine and escape(margin.explanation_en) in mine
    assert "¥300.00 in all" in mine and "the brand pays nothing" in mine


def test_lines_are_newest_first_thirty_a_page(chain, r):
    _p0, _c1, c2, c3 = chain
    orders = [r.complete(c3, [("GLOW-30ML", 5)]) for _ in range(31)]
    r.process()
    client = login(c2)
    first = html(client.get("/m/rewards/"))
    assert first.count('data-testid="reward-line"') == 30
    assert orders[-1].number in first and orders[0].number not in first
    assert first.index(orders[-1].number) < first.index(orders[-2].number)
    assert "?page=2" in first
    second = html(client.get("/m/rewards/?page=2"))
    assert second.count('data-testid="reward-line"') == 1 and orders[0].number in second
    assert client.get("/m/rewards/?page=x").status_code == 200


# --- withdrawing ------------------------------------------------------------------------------


def test_release_withdraw_and_finance_pays(chain, released, finance, r):
    _p0, _c1, c2, _c3 = chain
    client = login(c2, language="en")
    text = html(client.get("/m/rewards/"))
    assert re.search(r'data-testid="rewards-available">¥170\.00<', text)
    assert re.search(r'data-testid="rewards-frozen">¥0\.00<', text) and "Available" in text

    page = client.get("/m/rewards/withdraw/")
    assert page.status_code == 200 and "Smallest withdrawal ¥100.00; fee 0.6%" in html(page)
    data = {
        "token": token(page),
        "amount": "170",
        "method": "alipay",
        "account_name": "李娜",
        "account_no": "13900001111",
        "bank_name": "",
    }
    response = client.post("/m/rewards/withdraw/", data)
    assert response.status_code == 302 and response["Location"] == "/m/rewards/withdraw/"
    withdrawal = Withdrawal.objects.get(agent=c2)
    assert (withdrawal.amount, withdrawal.fee, withdrawal.net) == (
        Decimal("170.00"),
        Decimal("1.02"),
        Decimal("168.98"),
    )
    assert client.post("/m/rewards/withdraw/", data).status_code == 302  # a double tap: the same request
    assert Withdrawal.objects.filter(agent=c2).count() == 1

    text = html(client.get("/m/rewards/withdraw/"))
    assert withdrawal.number in text and "Requested" in text and "¥168.98" in text
    assert "13900001111" not in text  # the account is masked
    assert re.search(r'data-testid="rewards-available">¥0\.00<', text)
    assert re.search(r'data-testid="rewards-in-transit">¥170\.00<', text)

    withdrawal_approve(withdrawal=withdrawal, by=finance)
    withdrawal_mark_paid(withdrawal=withdrawal, by=finance, reference="ALI-1")
    text = html(client.get("/m/rewards/"))
    assert re.search(r'data-testid="rewards-withdrawn">¥168\.98<', text)  # what arrived: 170 less the fee
    assert re.search(r'data-testid="rewards-in-transit">¥0\.00<', text)
    assert "Paid" in html(client.get("/m/rewards/withdraw/"))
    assert r.verify() == []


BAD = {
    "below the minimum": ({"amount": "99"}, "amount", 400, "smallest withdrawal is ¥100"),
    "more than available": ({"amount": "171"}, "amount", 409, "¥170.00 available"),
    "not a number": ({"amount": "abc"}, "amount", 400, "Enter a number"),
    "too many decimals": ({"amount": "100.001"}, "amount", 400, "2 decimal places"),
    "zero": ({"amount": "0"}, "amount", 400, "above zero"),
    "missing account": ({"account_no": ""}, "account_no", 400, "required"),
    "missing holder": ({"account_name": "  "}, "account_name", 400, "required"),
    "unknown method": ({"method": "paypal"}, "method", 400, "Select a valid choice"),
    "bank card without its bank": (
        {"method": "bank", "account_no": "6222020200112233445"},
        "bank_name",
        400,
        "bank's name",
    ),
    "bank card number too short": (
        {"method": "bank", "account_no": "62220", "bank_name": "工商银行"},
        "account_no",
        400,
        "12 to 19 digits",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_withdrawals_are_refused_next_to_the_field_and_change_nothing(chain, released, case):
    _p0, _c1, c2, _c3 = chain
    change, field, status, message = BAD[case]
    client = login(c2, language="en")
    page = client.get("/m/rewards/withdraw/")
    before = snapshot()
    data = {
        "token": token(page),
        "amount": "150",
        "method": "alipay",
        "account_name": "李娜",
        "account_no": "13900001111",
        "bank_name": "",
        **change,
    }
    response = client.post("/m/rewards/withdraw/", data)
    assert response.status_code == status
    errors = field_errors(response, field)
    assert any(message in e for e in errors), (errors, form_errors(response))
    assert snapshot() == before
    assert 'name="amount"' in html(response)  # the form is shown again, filled in


def test_errors_are_in_the_users_language(chain, released):
    _p0, _c1, c2, _c3 = chain
    client = login(c2)  # Chinese by default
    page = client.get("/m/rewards/withdraw/")
    response = client.post(
        "/m/rewards/withdraw/",
        {"token": token(page), "amount": "abc", "method": "alipay", "account_name": "李娜", "account_no": ""},
    )
    assert response.status_code == 400
    assert any("数字" in e for e in field_errors(response, "amount"))
    assert any("必填" in e for e in field_errors(response, "account_no"))
    assert Withdrawal.objects.count() == 0


def test_withdraw_form_without_its_token_is_refused(chain, released):
    _p0, _c1, c2, _c3 = chain
    before = snapshot()
    response = login(c2, language="en").post(
        "/m/rewards/withdraw/",
        {"amount": "150", "method": "alipay", "account_name": "李娜", "account_no": "13900001111"},
    )
    assert response.status_code == 400 and "expired" in html(response)
    assert snapshot() == before


def test_a_debt_after_a_refund_is_shown_as_a_debt_to_be_netted(chain, released, r):
    p0, _c1, c2, c3 = chain
    reward_withdraw(agent=c2, amount="170", method="wechat", account_name="李娜", account_no="wxid_lina", by=c2.user)
    trade.refund_request(order=released, by=c3.user, note="退货")
    trade.refund_approve(order=released, by=p0.user)
    r.process()
    assert r.available(c2) == Decimal("-170.00")
    client = login(c2, language="en")
    text = html(client.get("/m/rewards/"))
    assert re.search(r'data-testid="rewards-available">¥-170\.00<', text)
    assert 'data-testid="rewards-debt"' in text and "You owe ¥170.00" in text and "netted" in text
    assert "Reversed" in text  # the line taken back says so
    page = client.get("/m/rewards/withdraw/")
    assert "You owe ¥170.00" in html(page)
    response = client.post(
        "/m/rewards/withdraw/",
        {"token": token(page), "amount": "100", "method": "wechat", "account_name": "李娜", "account_no": "wxid_lina"},
    )
    assert response.status_code == 409
    assert any("¥0.00 available" in e for e in field_errors(response, "amount"))


# --- figures that mislead (M7, item 15a) ------------------------------------------------------


def api_rewards(agent) -> dict:
    """The API's reward summary, as the agent's app reads it."""
    from weishang.api.services import token_create

    _token, secret = token_create(user=agent.user, device="测试手机")
    response = Client().get("/api/v1/rewards", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    return response.json()


def test_after_a_refund_my_margin_no_longer_counts_the_refunded_order(chain, r):
    p0, _c1, _c2, c3 = chain
    kept = r.complete(c3, [("GLOW-30ML", 10)])  # the supplier's differential: 10 × (170 − 140) = 300
    returned = r.complete(c3, [("GLOW-30ML", 5)])  # 5 × 30 = 150, then returned
    r.process()
    trade.refund_request(order=returned, by=c3.user, note="退货")
    trade.refund_approve(order=returned, by=p0.user)
    r.process()
    assert RewardLine.objects.get(order=returned, kind="margin").status == RewardStatus.CANCELLED
    assert RewardLine.objects.get(order=kept, kind="margin").status == RewardStatus.RECORDED

    client = login(p0, language="en")
    rewards_page = html(client.get("/m/rewards/?show=margin"))
    assert "¥300.00 in all" in rewards_page and "¥450.00" not in rewards_page
    home = html(client.get("/m/"))
    assert re.search(r'data-testid="rewards-margin">¥300\.00<', home), home
    assert api_rewards(p0)["margin"] == "300.00"


def test_withdrawn_is_what_arrived_and_the_fee_is_shown_apart(chain, released, finance, r):
    _p0, _c1, c2, _c3 = chain
    withdrawal = reward_withdraw(
        agent=c2, amount="170", method="alipay", account_name="李娜", account_no="13900001111", by=c2.user
    )
    withdrawal_approve(withdrawal=withdrawal, by=finance)
    withdrawal_mark_paid(withdrawal=withdrawal, by=finance, reference="ALI-1")
    text = html(login(c2).get("/m/rewards/"))  # Chinese by default: 已提现（已到账）
    assert re.search(r'data-testid="rewards-withdrawn">¥168\.98<', text)  # 170 − 0.6 % fee
    assert re.search(r'data-testid="rewards-withdrawal-fees">[^<]*¥1\.02', text)
    assert "¥170.00" not in re.search(r'data-testid="rewards-withdrawn">[^<]*<', text).group(0)
    figures = api_rewards(c2)
    assert (figures["withdrawn"], figures["withdrawal_fees"]) == ("168.98", "1.02")


# --- only one's own ---------------------------------------------------------------------------


def test_an_agent_never_sees_another_agents_lines_or_withdrawals(chain, released, make_agent):
    _p0, c1, c2, c3 = chain
    w = reward_withdraw(
        agent=c2, amount="150", method="alipay", account_name="李娜", account_no="13900001111", by=c2.user
    )
    line = RewardLine.objects.get(order=released, beneficiary=c2)
    for other in (c3, make_agent("vip", real_name="陌生人")):
        client = login(other)
        text = html(client.get("/m/rewards/")) + html(client.get("/m/rewards/?show=margin"))
        assert escape(line.explanation_zh) not in text and "+¥170.00" not in text and released.number not in text
        assert 'data-testid="reward-line"' not in text
        text = html(client.get("/m/rewards/withdraw/"))
        assert w.number not in text and "¥150.00" not in text
    text = html(login(c1).get("/m/rewards/"))
    assert "+¥68.00" in text and escape(line.explanation_zh) not in text
    # The form cannot be pointed at someone else: the page always acts for the logged-in agent.
    client = login(c3, language="en")
    page = client.get("/m/rewards/withdraw/")
    response = client.post(
        "/m/rewards/withdraw/",
        {
            "token": token(page),
            "amount": "100",
            "method": "alipay",
            "account_name": "x",
            "account_no": "x1",
            "agent": c2.pk,
        },
    )
    assert response.status_code == 409
    assert Withdrawal.objects.filter(agent=c3).count() == 0 and Withdrawal.objects.count() == 1


def test_rewards_pages_are_for_agents_only(client, chain, django_user_model):
    for path in ("/m/rewards/", "/m/rewards/withdraw/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/m/login/")
    client.force_login(django_user_model.objects.create_user(username="someone", password="some-pass-1"))
    for path in ("/m/rewards/", "/m/rewards/withdraw/"):
        assert client.get(path).status_code == 404
    assert client.post("/m/rewards/withdraw/", {"amount": "100"}).status_code == 404
    staff = django_user_model.objects.create_user(username="staff", password="some-pass-1", is_staff=True)
    client.force_login(staff)
    assert client.get("/m/rewards/").status_code == 404


def test_home_links_to_the_rewards_page(chain):
    text = html(login(chain[2]).get("/m/"))
    assert 'href="/m/rewards/"' in text


def test_without_a_plan_in_force_there_is_no_minimum_and_no_fee(make_agent, levels):
    agent = make_agent("vip")
    page = login(agent, language="en").get("/m/rewards/withdraw/")
    assert page.status_code == 200
    assert "No plan is in force: no minimum and no fee" in html(page)
    assert "Smallest withdrawal" not in html(page)


# --- what the agent is told ---------------------------------------------------------------------


def test_the_agent_is_told_when_rewards_become_available_and_when_a_withdrawal_is_paid_or_rejected(
    chain, released, finance
):
    from weishang.notifications.models import Notification
    from weishang.notifications.selectors import notification_text
    from weishang.notifications.services import notifications_follow_events

    _p0, c1, c2, _c3 = chain

    def told(agent) -> list[tuple[str, str, str]]:
        notifications_follow_events()
        kinds = ("rewards_released", "withdrawal_paid", "withdrawal_rejected", "withdrawal_failed")
        rows = Notification.objects.filter(recipient=agent.user, kind__in=kinds).order_by("pk")
        return [(n.kind, notification_text(n), n.url) for n in rows]

    assert told(c2) == [("rewards_released", "你有 ¥170.00 奖励已解冻，可以提现了。", "/m/rewards/")]
    assert told(c1) == [("rewards_released", "你有 ¥68.00 奖励已解冻，可以提现了。", "/m/rewards/")]
    details = {"method": "alipay", "account_name": "李娜", "account_no": "13800138000", "by": c2.user}
    refused = reward_withdraw(agent=c2, amount=Decimal("170"), **details)
    withdrawal_reject(withdrawal=refused, by=finance, note="收款账号与实名不符")
    rejected = (
        "withdrawal_rejected",
        f"提现 {refused.number} 被驳回：收款账号与实名不符。款项已退回你的奖励。",
        "/m/rewards/",
    )
    assert told(c2)[1:] == [rejected]
    paid = reward_withdraw(agent=c2, amount=Decimal("170"), **details)
    withdrawal_approve(withdrawal=paid, by=finance)
    withdrawal_mark_paid(withdrawal=paid, by=finance, reference="ALI-9")
    done = ("withdrawal_paid", f"提现 {paid.number} 已打款：¥168.98 正在转入你的账户。", "/m/rewards/")
    assert told(c2)[1:] == [rejected, done]
    notifications_follow_events()  # read again: nothing twice
    assert len(told(c2)) == 3 and len(told(c1)) == 1
