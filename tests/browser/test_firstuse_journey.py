"""Journey (M7 items 9, 10, 11): a first order that its supplier cannot fill, carried to a filled
order by clicking. The 市代 adds a WeChat QR code as a way to be paid; the 特约 orders more than
the 市代 holds and is told so before submitting (and who upstream has it); the 市代 approves; the
特约 sees the 市代's QR code, the amount and the order number to quote on the pay page, transfers
and uploads the screenshot; the 市代 confirms it but cannot fill. The order sits paid past the
brand's hours and shows in the console's stuck queue, where operations has the company fill it
from the warehouse: the 特约 sees it completed and the units in cloud stock. Then a second order,
paid from the wallet, is cancelled through its confirmation page, which says who pays back what;
the 市代 finds it in their 待我处理 until they open it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from browser_steps import console_log_in, expect, log_in, png_file
from django.utils import timezone

from weishang.catalog.models import SKU
from weishang.ledger.selectors import ledger_verify
from weishang.trade.models import LocationKind, Order, OrderStatus, ReceivingAccount
from weishang.trade.selectors import wallet_balance
from weishang.trade.stock import location_for_agent, on_hand, stock_verify

pytestmark = pytest.mark.browser


def test_an_order_the_seller_lacks_reaches_filled_and_a_cancel_is_confirmed(demo, phone, shot, tmp_path):
    vip, city = demo.vip, demo.city
    sku = SKU.objects.get(code="GLOW-30ML")
    vip_cloud = location_for_agent(vip, LocationKind.CLOUD)
    city_held = on_hand(location=location_for_agent(city, LocationKind.CLOUD), sku=sku)
    vip_held = on_hand(location=vip_cloud, sku=sku)
    want = city_held + 3

    # The 市代 adds a WeChat QR code from the wallet page's link.
    upline = phone("zh-CN")
    log_in(upline, city.phone)
    upline.goto("/m/wallet/")
    upline.get_by_test_id("payment-methods-link").click()
    expect(upline.get_by_role("heading", name="我的收款方式")).to_be_visible()
    upline.get_by_label("类型").select_option("wechat")
    upline.get_by_label("户名").fill(city.real_name)
    upline.get_by_label("收款码（微信、支付宝）").set_input_files(str(png_file(tmp_path / "wechat-qr.png")))
    upline.get_by_role("button", name="添加", exact=True).click()
    expect(upline.get_by_role("status")).to_contain_text("收款方式已添加")
    shot(upline, "receiving-accounts")
    account = ReceivingAccount.objects.filter(agent=city).latest("pk")  # the demo gave the 市代 two already

    # The 特约 orders more than the 市代 holds: told before the order exists.
    buyer = phone("zh-CN")
    log_in(buyer, vip.phone)
    buyer.goto("/m/order/")
    product = buyer.locator("li.product", has_text="GLOW-30ML")
    product.get_by_label("件数").fill(str(want))
    buyer.get_by_role("button", name="提交订单").click()
    availability = buyer.get_by_test_id("availability-GLOW-30ML")
    expect(availability).to_contain_text("还差 3 件。")
    expect(availability).to_contain_text("公司仓有货。")
    expect(buyer.get_by_test_id("availability")).to_contain_text("你的上级目前无法全部供货")
    assert not Order.objects.filter(buyer=vip, status=OrderStatus.SUBMITTED).exists()
    shot(buyer, "availability-before-submitting")
    buyer.get_by_role("button", name="仍然提交").click()
    message = buyer.get_by_role("status")
    expect(message).to_contain_text("已提交")
    number = re.search(r"订单 (\S+) 已提交", message.inner_text()).group(1)
    order = Order.objects.get(number=number)
    assert order.seller == city

    # The 市代 approves it.
    upline.goto(f"/m/fill/{number}/")
    upline.get_by_role("button", name="通过", exact=True).click()
    expect(upline.get_by_test_id("status")).to_have_text("待付款")

    # The 特约's pay page: whom to pay, the amount, the number to quote, the QR code.
    buyer.reload()
    expect(buyer.get_by_test_id("pay-amount")).to_have_text(f"¥{order.total}")
    expect(buyer.get_by_test_id("pay-note")).to_have_text(number)
    qr = buyer.locator(f'[data-testid="receiving-qr"][src="/m/receiving/{account.pk}/qr/"]')  # the one just added
    expect(qr).to_be_visible()
    assert buyer.evaluate("img => img.naturalWidth", qr.element_handle()) > 0  # the image loads for the buyer
    expect(buyer.get_by_test_id("pay-to")).to_contain_text(city.real_name)
    shot(buyer, "pay-page")
    buyer.get_by_label("转账截图").set_input_files(str(png_file(tmp_path / "transfer.png")))
    buyer.get_by_label("转账流水号（选填）").fill(number)
    buyer.get_by_role("button", name="提交截图").click()
    expect(buyer.get_by_role("status")).to_contain_text("截图")

    # The 市代 sees the screenshot, confirms the money, and cannot fill.
    upline.reload()
    expect(upline.get_by_test_id("screenshot")).to_be_visible()
    upline.get_by_role("button", name="确认已收款").click()
    expect(upline.get_by_test_id("status")).to_have_text("已付款")
    upline.get_by_role("button", name="从我的库存发货").click()
    expect(upline.locator("main")).to_contain_text("库存不足")
    shot(upline, "cannot-fill")

    # Two days pass: the paid order is stuck.
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(hours=49))

    # Operations finds it in the console's stuck queue and has the company fill it.
    staff = phone("zh-CN")
    console_log_in(staff, "operations")
    stuck_row = staff.locator("[data-metric=orders_waiting] tr", has_text="卡单：已付款，超时未发货")
    expect(stuck_row.get_by_role("link")).to_have_text("1")
    stuck_row.get_by_role("link").click()
    staff.get_by_role("link", name=number, exact=True).click()
    expect(staff.locator("#content")).to_contain_text("卡单")
    shot(staff, "console-stuck-order")
    staff.get_by_text("more_horiz").click()
    staff.get_by_role("link", name="卡单：公司立即代发").click()
    expect(staff.get_by_test_id("availability")).to_contain_text("库存充足")
    staff.get_by_label("原因").fill("市代无货，公司代发")
    shot(staff, "console-company-fill")
    staff.locator("#content").get_by_role("button", name="卡单：公司立即代发").click()
    expect(staff.locator("body")).to_contain_text(f"订单 {number} 已由公司发货。")
    shot(staff, "console-filled")

    # The 特约 sees it completed, the units in cloud stock, and the notice of who filled it.
    buyer.goto("/m/")
    expect(buyer.get_by_test_id("notice").first).to_contain_text("公司已从")
    buyer.get_by_test_id("notice").first.get_by_role("link").click()
    expect(buyer.get_by_test_id("status")).to_have_text("已完成")
    shot(buyer, "completed")
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.seller is None
    assert on_hand(location=vip_cloud, sku=sku) == vip_held + want

    # A second order, paid from the wallet, is cancelled: a confirmation first, saying who pays back what.
    wallet = wallet_balance(agent=vip)
    buyer.goto("/m/order/")
    buyer.locator("li.product", has_text="GLOW-30ML").get_by_label("件数").fill("1")
    buyer.get_by_role("button", name="提交订单").click()
    second = re.search(r"订单 (\S+) 已提交", buyer.get_by_role("status").inner_text()).group(1)
    upline.goto(f"/m/fill/{second}/")
    upline.get_by_role("button", name="通过", exact=True).click()
    expect(upline.get_by_test_id("status")).to_have_text("待付款")
    buyer.reload()
    price = Order.objects.get(number=second).total
    buyer.get_by_role("button", name=f"用钱包支付 ¥{price}").click()
    expect(buyer.get_by_test_id("status")).to_have_text("已付款")
    buyer.get_by_role("link", name="取消订单…").click()
    effect = buyer.get_by_test_id("cancel-effect")
    expect(effect).to_contain_text(f"¥{price} 将退回你的货款钱包，由 {city.real_name} 的钱包扣回。")
    shot(buyer, "cancel-confirmation")
    assert Order.objects.get(number=second).status == OrderStatus.PAID  # nothing happened yet
    buyer.get_by_label("原因（选填，对方会看到）").fill("买多了")
    buyer.get_by_role("button", name="确认取消订单").click()
    expect(buyer.get_by_test_id("status")).to_have_text("已取消")
    assert wallet_balance(agent=vip) == wallet

    # The 市代 finds it in 待我处理 until they open it.
    upline.goto("/m/")
    notice = upline.get_by_test_id("notice").filter(has_text=second)
    expect(notice).to_contain_text(f"¥{price} 已从 {city.real_name} 的钱包退回 {vip.real_name} 的钱包")
    shot(upline, "waiting-for-me-notice")
    notice.get_by_role("link").click()
    expect(upline.get_by_test_id("status")).to_have_text("已取消")
    upline.goto("/m/")
    expect(upline.get_by_test_id("notice").filter(has_text=second)).to_have_count(0)

    assert ledger_verify() == [] and stock_verify() == []
    assert account.qr_image.url not in buyer.content()
