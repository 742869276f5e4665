"""Journey 1, in Chinese on a phone: a newcomer applies through a 市代's invite link, the 市代
approves, the newcomer logs in and places their first order, pays it by transfer with a
screenshot, the 市代 approves the order, confirms the money and fills it from cloud stock, and the
new 特约's stock page shows the units.

Twice: in the demo brand as ``make run`` loads it (the retail-first plan makes entry free, so the
approved newcomer is active at once and the first order is a restock order), and in the demo
brand without a plan, where the 特约 level's ¥298 entry order (授权单) is owed first and paying and
filling it is what makes the newcomer active."""

from __future__ import annotations

import re

import pytest
from browser_steps import expect, log_in, png_file

from weishang.catalog.models import SKU
from weishang.channel.models import Agent, AgentStatus, Application, ApplicationStatus
from weishang.trade.models import LocationKind, Order, OrderKind, OrderStatus, PaymentStatus
from weishang.trade.stock import location_for_agent, on_hand

pytestmark = pytest.mark.browser

NEW_PHONE = "13611112222"
NEW_PASSWORD = "zhou-min-2026"
NEW_NAME = "新人周敏"


@pytest.mark.parametrize("entry_order", [False, True], ids=["demo-free-entry", "entry-order-owed"])
def test_apply_approve_first_order_transfer_fill_and_stock(entry_order, demo_loader, phone, shot, tmp_path):
    demo = demo_loader(plan=not entry_order)
    city = demo.city
    sku = SKU.objects.get(code="GLOW-30ML")
    city_stock_before = on_hand(location=location_for_agent(city, LocationKind.CLOUD), sku=sku)

    # The newcomer opens the 市代's invite link and applies as a 特约.
    newcomer = phone("zh-CN")
    newcomer.goto(f"/join/{city.invite_code}/")
    expect(newcomer.locator("main")).to_contain_text(f"邀请人：{city.real_name}（市代）")
    newcomer.get_by_label("真实姓名", exact=True).fill(NEW_NAME)
    newcomer.get_by_label("手机号", exact=True).fill(NEW_PHONE)
    newcomer.get_by_role("radio", name="特约", exact=True).check()
    newcomer.get_by_label("密码（至少 8 位）", exact=True).fill(NEW_PASSWORD)
    shot(newcomer, "apply-form")
    newcomer.get_by_role("button", name="提交申请").click()
    expect(newcomer.get_by_role("heading", name="申请已提交")).to_be_visible()
    expect(newcomer.locator("main")).to_contain_text(city.real_name)
    shot(newcomer, "applied")
    application = Application.objects.get(phone=NEW_PHONE)
    assert application.status == ApplicationStatus.PENDING
    assert application.approver == city

    # The 市代 approves the application on the phone.
    upline = phone("zh-CN")
    log_in(upline, city.phone)
    upline.goto("/m/applications/")
    card = upline.locator("li.card", has_text=NEW_NAME)
    expect(card).to_contain_text("特约")
    shot(upline, "applications")
    card.get_by_role("button", name="通过", exact=True).click()
    expect(upline.get_by_role("status")).to_contain_text(f"{NEW_NAME} 已加入，等级为特约。")
    expect(upline.locator("li.card", has_text=NEW_NAME)).to_have_count(0)
    shot(upline, "application-approved")
    agent = Agent.objects.select_related("level", "supplier").get(user__phone=NEW_PHONE)
    assert (agent.level.code, agent.supplier) == ("vip", city)
    assert agent.status == (AgentStatus.APPLICANT if entry_order else AgentStatus.ACTIVE)

    # The newcomer logs in and orders 2 units at the 特约 price of ¥230: with an entry order owed
    # (¥298 at least), that is their entry order; in the demo brand, their first restock order.
    log_in(newcomer, NEW_PHONE, NEW_PASSWORD)
    if entry_order:
        expect(newcomer.locator("main")).to_contain_text("您的首批进货（授权单）还有 ¥298.00 未付。")
        shot(newcomer, "home-entry-owed")
        newcomer.locator("main").get_by_role("link", name="下授权单").first.click()
        expect(newcomer.get_by_role("heading", name="授权单")).to_be_visible()
        expect(newcomer.get_by_test_id("entry-due")).to_contain_text("¥298.00")
    else:
        expect(newcomer.locator("main")).not_to_contain_text("未付")
        shot(newcomer, "home")
        newcomer.locator("main").get_by_role("link", name="我要进货").first.click()
        expect(newcomer.get_by_role("heading", name="我要进货")).to_be_visible()
    expect(newcomer.get_by_test_id("seller")).to_contain_text(city.real_name)
    product = newcomer.locator("li.product", has_text="GLOW-30ML")
    expect(product.locator(".price")).to_have_text("¥230.00")
    product.get_by_label("件数").fill("2")
    shot(newcomer, "order-form")
    newcomer.get_by_role("button", name="提交订单").click()
    expect(newcomer.get_by_role("status")).to_contain_text("金额 ¥460.00")
    expect(newcomer.get_by_test_id("status")).to_have_text("已提交")
    number = re.search(r"订单 (\S+) 已提交", newcomer.get_by_role("status").inner_text()).group(1)
    shot(newcomer, "order-submitted")
    order = Order.objects.get(number=number)
    assert (order.buyer, order.seller, str(order.total)) == (agent, city, "460.00")
    assert order.kind == (OrderKind.ENTRY if entry_order else OrderKind.RESTOCK)

    # The 市代 approves the order.
    upline.goto("/m/fill/")
    upline.get_by_role("link", name=re.compile(number)).click()
    expect(upline.get_by_test_id("status")).to_have_text("已提交")
    shot(upline, "order-to-approve")
    upline.get_by_role("button", name="通过", exact=True).click()
    expect(upline.get_by_role("status")).to_contain_text(f"订单 {number} 已通过审核")
    expect(upline.get_by_test_id("status")).to_have_text("待付款")

    # The newcomer pays by transfer and uploads the screenshot.
    newcomer.reload()
    expect(newcomer.get_by_test_id("status")).to_have_text("待付款")
    newcomer.get_by_label("转账截图").set_input_files(png_file(tmp_path / "wechat-transfer.png"))
    shot(newcomer, "pay-by-transfer")
    newcomer.get_by_role("button", name="提交截图").click()
    expect(newcomer.get_by_role("status")).to_contain_text("截图已提交")
    expect(newcomer.locator("main")).to_contain_text("已提交转账，等待确认")
    shot(newcomer, "screenshot-sent")
    payment = order.payments.get()
    assert payment.status == PaymentStatus.PENDING and payment.screenshot.name.endswith(".png")

    # The 市代 sees the screenshot, confirms the money and fills the order from cloud stock.
    upline.reload()
    expect(upline.get_by_role("heading", name="核对转账")).to_be_visible()
    expect(upline.locator("main")).to_contain_text("¥460.00")
    picture = upline.get_by_test_id("screenshot")
    expect(picture).to_have_attribute("src", re.compile(r"\.png$"))
    picture.scroll_into_view_if_needed()
    assert picture.evaluate("img => img.complete && img.naturalWidth") == 120  # the uploaded picture shows
    shot(upline, "check-transfer")
    upline.get_by_role("button", name="确认已收款").click()
    expect(upline.get_by_role("status")).to_contain_text(f"已确认收款：订单 {number} 已付款。")
    expect(upline.get_by_test_id("status")).to_have_text("已付款")
    upline.get_by_role("button", name="从我的库存发货").click()
    expect(upline.get_by_role("status")).to_contain_text(f"订单 {number} 已发货：货已转入下单方的云仓。")
    expect(upline.get_by_test_id("status")).to_have_text("已完成")
    shot(upline, "filled")

    # The new 特约 is active and their cloud stock holds the 2 units.
    newcomer.goto(f"/m/orders/{number}/")
    expect(newcomer.get_by_test_id("status")).to_have_text("已完成")
    newcomer.goto("/m/stock/")
    expect(newcomer.get_by_test_id("on-hand-GLOW-30ML")).to_have_text("2")
    shot(newcomer, "stock")
    newcomer.goto("/m/")
    expect(newcomer.locator("main")).to_contain_text("正常")
    expect(newcomer.locator("main")).not_to_contain_text("未付")
    shot(newcomer, "home-active")

    order.refresh_from_db()
    agent.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert agent.status == AgentStatus.ACTIVE and agent.entry_due == 0
    assert on_hand(location=location_for_agent(agent, LocationKind.CLOUD), sku=sku) == 2
    assert on_hand(location=location_for_agent(city, LocationKind.CLOUD), sku=sku) == city_stock_before - 2
