"""Journey 4, in Chinese on a phone: the 省代 withdraws ¥200 of the rewards the demo plan paid
them, brand finance approves the withdrawal and marks it paid in the console (on a phone too),
and the 省代 sees it paid and their figures move."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from browser_steps import console_log_in, expect, log_in
from django.urls import reverse

from weishang.ledger.models import Withdrawal, WithdrawalStatus
from weishang.rewards.selectors import reward_summary

pytestmark = pytest.mark.browser


def test_withdrawal_approved_and_paid_by_finance(demo, page, phone, shot):
    province = demo.province
    before = reward_summary(agent=province)
    assert before.available == Decimal("1500.00")  # the demo's monthly retail awards, released

    # The 省代 asks for ¥200 to be paid to their WeChat: the plan keeps a 0.6 % fee (¥1.20).
    agent = page  # a phone in Chinese
    log_in(agent, province.phone)
    agent.goto("/m/rewards/")
    expect(agent.get_by_test_id("rewards-available")).to_have_text("¥1500.00")
    shot(agent, "rewards")
    agent.locator("main").get_by_role("link", name="提现", exact=True).first.click()
    expect(agent.get_by_role("heading", name="奖励提现")).to_be_visible()
    form = agent.locator("#withdraw")
    form.get_by_label("金额（元）").fill("200")
    form.get_by_label("收款方式").select_option(label="微信")
    form.get_by_label("收款人姓名").fill(province.real_name)
    form.get_by_label("收款账号（微信号、支付宝账号或银行卡号）").fill("wxid_glow2026")
    shot(agent, "withdraw-form")
    form.get_by_role("button", name="提交提现申请").click()
    message = agent.get_by_role("status")
    expect(message).to_contain_text("金额 ¥200.00；品牌财务打款后，你将收到 ¥198.80。")
    number = re.search(r"提现申请 (\S+) 已提交", message.inner_text()).group(1)
    expect(agent.get_by_test_id("rewards-available")).to_have_text("¥1300.00")
    expect(agent.get_by_test_id("rewards-in-transit")).to_have_text("¥200.00")
    expect(agent.get_by_test_id("withdrawals").locator("li", has_text=number)).to_contain_text("待审核")
    shot(agent, "withdrawal-requested")
    withdrawal = Withdrawal.objects.get(number=number)
    assert (withdrawal.agent, withdrawal.status, withdrawal.amount, withdrawal.fee, withdrawal.net) == (
        province,
        WithdrawalStatus.REQUESTED,
        Decimal("200.00"),
        Decimal("1.20"),
        Decimal("198.80"),
    )

    # Brand finance approves it in the console, pays it, and marks it paid with the transfer reference.
    staff = phone("zh-CN")
    console_log_in(staff, "finance")
    staff.goto(reverse("admin:ledger_withdrawal_changelist"))
    staff.get_by_role("link", name=number, exact=True).click()
    expect(staff.locator("#content")).to_contain_text("待审核")
    shot(staff, "console-withdrawal")
    staff.get_by_text("more_horiz").click()  # on a phone the actions sit behind the "⋯" button
    staff.get_by_role("link", name="通过").click()
    expect(staff.locator("#content")).to_contain_text("¥198.80")
    shot(staff, "console-approve")
    staff.locator("#content").get_by_role("button", name="通过", exact=True).click()
    expect(staff.locator("body")).to_contain_text(f"提现 {number} 已通过，请打款后标记为已打款。")
    expect(staff.locator("#content")).to_contain_text("待打款")
    shot(staff, "console-approved")
    staff.get_by_text("more_horiz").click()
    staff.get_by_role("link", name="标记已打款").click()
    staff.get_by_label("转账流水号").fill("WX20261127000123")
    shot(staff, "console-mark-paid")
    staff.locator("#content").get_by_role("button", name="标记已打款").click()
    expect(staff.locator("body")).to_contain_text(f"提现 {number} 已打款。")
    expect(staff.locator("#content")).to_contain_text("WX20261127000123")
    shot(staff, "console-paid")
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.payout_reference) == (WithdrawalStatus.PAID, "WX20261127000123")

    # The 省代 sees it paid: withdrawn ¥198.80 (what arrived; ¥1.20 fee), nothing in transit, ¥1,300 still available.
    agent.reload()
    expect(agent.get_by_test_id("withdrawals").locator("li", has_text=number)).to_contain_text("已打款")
    expect(agent.get_by_test_id("rewards-in-transit")).to_have_text("¥0.00")
    shot(agent, "withdrawal-paid")
    agent.goto("/m/rewards/")
    expect(agent.get_by_test_id("rewards-withdrawn")).to_have_text("¥198.80")
    expect(agent.get_by_test_id("rewards-withdrawal-fees")).to_have_text("已扣手续费 ¥1.20")
    expect(agent.get_by_test_id("rewards-available")).to_have_text("¥1300.00")
    shot(agent, "rewards-after")
    after = reward_summary(agent=province)
    assert (after.available, after.in_transit, after.withdrawn) == (
        Decimal("1300.00"),
        Decimal("0.00"),
        Decimal("198.80"),
    )
