"""Journey 2, in English on a phone: the 特约 switches the pages to English with the language
button, orders stock from their 市代, who approves it on the fill page (in Chinese); the 特约 pays
from their wallet, the 市代 fills the order from cloud stock and the 特约 sees it completed, the
units in their stock and their wallet charged."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from browser_steps import expect, log_in

from weishang.catalog.models import SKU
from weishang.trade.models import LocationKind, Order, OrderKind, OrderStatus
from weishang.trade.selectors import wallet_balance
from weishang.trade.stock import location_for_agent, on_hand

pytestmark = pytest.mark.browser


def test_restock_order_approved_paid_from_wallet_and_filled(demo, phone, shot):
    vip, city = demo.vip, demo.city
    sku = SKU.objects.get(code="GLOW-30ML")
    vip_cloud, city_cloud = (location_for_agent(a, LocationKind.CLOUD) for a in (vip, city))
    vip_stock, city_stock = on_hand(location=vip_cloud, sku=sku), on_hand(location=city_cloud, sku=sku)
    wallet = wallet_balance(agent=vip)
    # The demo's shop sales (2 units at ¥298, and the promotions' coupon sales) are in the wallet.
    assert wallet >= Decimal("596.00")

    # The 特约 opens the login page (Chinese, as their phone asks) and switches to English.
    buyer = phone("zh-CN")
    buyer.goto("/m/login/")
    expect(buyer.get_by_role("heading", name="登录")).to_be_visible()
    buyer.get_by_role("button", name="English").click()
    expect(buyer.get_by_role("heading", name="Log in")).to_be_visible()
    expect(buyer.locator("html")).to_have_attribute("lang", "en")
    shot(buyer, "login-in-english")
    log_in(buyer, vip.phone)
    buyer.locator("main").get_by_role("link", name="New restock order").first.click()
    expect(buyer.get_by_role("heading", name="New restock order")).to_be_visible()
    expect(buyer.get_by_test_id("seller")).to_contain_text(f"{city.real_name} · 市代")
    product = buyer.locator("li.product", has_text="GLOW-30ML")
    expect(product.locator(".price")).to_have_text("¥230.00")
    product.get_by_label("Units").fill("2")
    shot(buyer, "restock-form")
    buyer.get_by_role("button", name="Submit order").click()
    message = buyer.get_by_role("status")
    expect(message).to_contain_text("Its total is ¥460.00.")
    number = re.search(r"Order (\S+) submitted", message.inner_text()).group(1)
    expect(buyer.get_by_test_id("status")).to_have_text("Submitted")
    expect(buyer.locator("main")).to_contain_text("Waiting for approval")
    shot(buyer, "submitted")
    order = Order.objects.get(number=number)
    assert (order.kind, order.buyer, order.seller, order.total) == (OrderKind.RESTOCK, vip, city, Decimal("460.00"))

    # The 市代 (in Chinese) finds it on the fill page and approves it.
    upline = phone("zh-CN")
    log_in(upline, city.phone)
    upline.goto("/m/fill/")
    row = upline.get_by_role("link", name=re.compile(number))
    expect(row).to_contain_text("待审核")
    shot(upline, "fill-list")
    row.click()
    expect(upline.get_by_test_id("status")).to_have_text("已提交")
    upline.get_by_role("button", name="通过", exact=True).click()
    expect(upline.get_by_role("status")).to_contain_text(f"订单 {number} 已通过审核")
    expect(upline.get_by_test_id("status")).to_have_text("待付款")
    shot(upline, "approved")

    # The 特约 pays from the wallet.
    buyer.reload()
    expect(buyer.get_by_test_id("status")).to_have_text("Awaiting payment")
    expect(buyer.get_by_test_id("wallet-balance")).to_have_text(f"¥{wallet}")
    shot(buyer, "to-pay")
    buyer.get_by_role("button", name="Pay ¥460.00 from wallet").click()
    expect(buyer.get_by_role("status")).to_contain_text("Paid ¥460.00 from your wallet.")
    expect(buyer.get_by_test_id("status")).to_have_text("Paid")
    expect(buyer.locator("main")).to_contain_text("Waiting to be filled")
    shot(buyer, "paid")

    # The 市代 fills it from cloud stock.
    upline.reload()
    expect(upline.get_by_test_id("status")).to_have_text("已付款")
    upline.get_by_role("button", name="从我的库存发货").click()
    expect(upline.get_by_role("status")).to_contain_text(f"订单 {number} 已发货：货已转入下单方的云仓。")
    expect(upline.get_by_test_id("status")).to_have_text("已完成")
    shot(upline, "filled")

    # The 特约 sees it completed, the units in stock and the wallet charged.
    buyer.reload()
    expect(buyer.get_by_test_id("status")).to_have_text("Completed")
    shot(buyer, "completed")
    buyer.goto("/m/stock/")
    expect(buyer.get_by_role("heading", name="My cloud stock")).to_be_visible()
    expect(buyer.get_by_test_id("on-hand-GLOW-30ML")).to_have_text(str(vip_stock + 2))
    shot(buyer, "stock")
    buyer.goto("/m/wallet/")
    expect(buyer.get_by_test_id("wallet-balance")).to_have_text(f"¥{wallet - Decimal('460.00')}")
    shot(buyer, "wallet")

    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert on_hand(location=vip_cloud, sku=sku) == vip_stock + 2
    assert on_hand(location=city_cloud, sku=sku) == city_stock - 2
    assert wallet_balance(agent=vip) == wallet - Decimal("460.00")
