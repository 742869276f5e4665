"""Journey, in Chinese (M10, live campaigns): the owner writes a campaign of three seats in the
console (its file), reads the linter's findings and schedules it; the 市代 login takes part from
her order form and her order ships the gift at ¥0; a second seat goes; the 特约 login opens her
order form with one seat left, another agent takes it first, and her order is refused with the
campaign full — nothing is ordered; the console's report shows the three seats taken."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from browser_steps import console_log_in, expect, log_in

from weishang.campaigns import services as campaigns
from weishang.campaigns.models import Campaign
from weishang.core import clock
from weishang.trade.models import Order

pytestmark = pytest.mark.browser


def campaign_file() -> str:
    today = clock.today()
    return (
        f"id: three-seats\nname: 三人团\nstarts: {today}\nends: {today + timedelta(days=7)}\n"
        "seats: 3\nbudget: 900\noffers:\n"
        "  gift: {sku: GLOW-MASK5, qty: 1, min_amount: 500, kinds: [restock], cost: 30}\n"
    )


def order_with_campaign(page, units: int) -> None:
    page.goto("/m/order/")
    page.locator("li.product", has_text="GLOW-30ML").get_by_label("件数").fill(str(units))
    page.get_by_test_id("campaign-choice").get_by_label("三人团").check()
    page.get_by_role("button", name="提交订单").click()
    page.wait_for_load_state()
    if page.get_by_test_id("availability").count():  # her supplier is short now: she orders anyway
        expect(page.get_by_test_id("campaign-choice").get_by_label("三人团")).to_be_checked()
        page.get_by_test_id("availability").get_by_role("button").click()


def test_run_a_campaign_of_three_seats_and_see_the_fourth_refused(demo, phone, shot):
    owner = phone("zh-CN")
    console_log_in(owner, "owner")
    owner.goto("/console/campaigns/campaign/add/")
    owner.locator("textarea[name=overlay]").fill(campaign_file())
    owner.locator("button[name=_continue]").click()
    campaign = Campaign.objects.get(code="three-seats")
    expect(owner).to_have_url(re.compile(rf"/console/campaigns/campaign/{campaign.pk}/change/"))
    expect(owner.get_by_test_id("campaign-lint")).to_contain_text("合规检查结果")
    owner.get_by_text("more_horiz").click()  # on a phone the actions sit behind the "⋯" button
    owner.get_by_role("link", name="排期上线").click()
    owner.locator("#content").get_by_role("button", name="排期上线").click()
    expect(owner.locator("body")).to_contain_text("已排期：活动将在设定日期内进行。")
    shot(owner, "campaign-scheduled")

    # The 市代 login sees the offer with its seats left, takes part, and her order ships the gift.
    city = phone("zh-CN")
    log_in(city, demo.city.phone)
    city.goto("/m/order/")
    expect(city.get_by_test_id("seats-left-three-seats")).to_contain_text("剩余 3 个名额")
    order_with_campaign(city, 3)
    expect(city.locator("table.lines")).to_contain_text("焕颜补水面膜")
    expect(city.get_by_test_id("gift-line")).to_contain_text("赠品")
    shot(city, "order-with-gift")

    campaigns.campaign_order_submit(
        campaign="three-seats", buyer=demo.province, lines=[("GLOW-30ML", 5)], by=demo.province.user
    )

    # The 特约 login reads one seat left; before she submits, another agent takes it.
    vip = phone("zh-CN")
    log_in(vip, demo.vip.phone)
    vip.goto("/m/order/")
    expect(vip.get_by_test_id("seats-left-three-seats")).to_contain_text("剩余 1 个名额")
    vip.locator("li.product", has_text="GLOW-30ML").get_by_label("件数").fill("3")
    vip.get_by_test_id("campaign-choice").get_by_label("三人团").check()
    campaigns.campaign_order_submit(
        campaign="three-seats", buyer=demo.general, lines=[("GLOW-30ML", 5)], by=demo.general.user
    )
    orders_before = Order.objects.filter(buyer=demo.vip).count()
    vip.get_by_role("button", name="提交订单").click()
    expect(vip.get_by_role("alert")).to_contain_text("三人团名额已满")
    expect(vip.get_by_test_id("seats-left-three-seats")).to_contain_text("已满")
    assert Order.objects.filter(buyer=demo.vip).count() == orders_before  # nothing was ordered
    shot(vip, "fourth-refused")

    owner.goto(f"/console/campaigns/campaign/{campaign.pk}/change/")
    expect(owner.get_by_test_id("rep-seats")).to_contain_text("3")
    expect(owner.get_by_test_id("rep-seats")).to_contain_text("剩余 0 个名额")
    shot(owner, "campaign-report")
