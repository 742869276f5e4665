"""Journey 3, in Chinese on a phone: the 市代 asks for units from their cloud stock to be shipped
to an address (picked province, district, street), the brand's warehouse scans the units'
security codes and ships them from the console (on a phone too) with a tracking number, and the
市代 sees the tracking number and confirms receipt."""

from __future__ import annotations

import re

import pytest
from browser_steps import console_log_in, expect, log_in
from django.urls import reverse

from weishang.catalog.models import SKU
from weishang.trade.models import LocationKind, Order, OrderKind, OrderStatus
from weishang.trade.stock import location_for_agent, on_hand

pytestmark = pytest.mark.browser


def test_pickup_shipped_by_the_warehouse_with_tracking(demo, page, phone, shot):
    city = demo.city
    sku = SKU.objects.get(code="GLOW-30ML")
    cloud = location_for_agent(city, LocationKind.CLOUD)
    held = on_hand(location=cloud, sku=sku)
    assert held >= 3

    # The 市代 asks for 3 units to be shipped to a customer's address.
    agent = page  # a phone in Chinese
    log_in(agent, city.phone)
    agent.goto("/m/stock/")
    expect(agent.get_by_test_id("on-hand-GLOW-30ML")).to_have_text(str(held))
    form = agent.locator("#pickup")
    expect(form.get_by_role("heading", name="提货（寄到指定地址）")).to_be_visible()
    form.get_by_label("商品").select_option(value="GLOW-30ML")
    form.get_by_label("件数").fill("3")
    form.get_by_label("收货人").fill("王芳")
    form.get_by_label("手机号").fill("13912345678")
    # The address is picked: province, then its districts load (上海 has no city level), then typed.
    form.get_by_label("省份").select_option(label="上海市")
    form.get_by_label("城市").select_option(label="徐汇区")
    expect(form.get_by_label("区县")).to_be_hidden()  # nothing finer within 徐汇区
    form.get_by_label("详细地址（街道、门牌号）").fill("漕溪北路 1 号")
    shot(agent, "pickup-form")
    form.get_by_role("button", name="申请提货").click()
    message = agent.get_by_role("status")
    expect(message).to_contain_text("仓库将会发货")
    number = re.search(r"提货单 (\S+) 已提交", message.inner_text()).group(1)
    expect(agent.get_by_test_id("on-hand-GLOW-30ML")).to_have_text(str(held - 3))
    expect(agent.locator("main li", has_text=number)).to_contain_text("已提交")
    shot(agent, "pickup-requested")
    order = Order.objects.get(number=number)
    assert (order.kind, order.buyer, order.status) == (OrderKind.PICKUP, city, OrderStatus.SUBMITTED)
    assert on_hand(location=cloud, sku=sku) == held - 3

    # The warehouse finds the pick-up in the console and ships it.
    staff = phone("zh-CN")
    console_log_in(staff, "warehouse")
    staff.goto(reverse("admin:trade_order_changelist"))
    search = staff.locator("#searchbar")  # the list's search box
    search.fill(number)
    search.press("Enter")
    staff.get_by_role("link", name=number, exact=True).click()
    expect(staff.locator("#content")).to_contain_text("由仓库发出提货")
    shot(staff, "console-pickup")
    # The warehouse scans the security codes of the three units it packs (a hand scanner types
    # one code per line), then ships.
    from django.contrib.auth import get_user_model

    from weishang.codes.models import CodeMove
    from weishang.codes.services import batch_create

    batch = batch_create(sku=sku, boxes=1, per_box=3, by=get_user_model().objects.get(username="owner"))
    codes = list(batch.item_codes.values_list("code", flat=True))
    staff.get_by_text("more_horiz").click()  # on a phone the order's actions sit behind the "⋯" button
    staff.get_by_role("link", name="扫防伪码").click()
    staff.get_by_label("箱码或单品码（扫码枪每行输入一个）").fill("\n".join(codes))
    staff.locator("#content").get_by_role("button", name="扫防伪码").click()
    expect(staff.locator("body")).to_contain_text(f"订单 {number}：3 个码已扫描。")
    assert CodeMove.objects.filter(order__number=number).count() == 3
    staff.get_by_text("more_horiz").click()
    staff.get_by_role("link", name="提货发货").click()
    staff.get_by_label("快递公司").fill("顺丰速运")
    staff.get_by_label("快递单号").fill("SF1234567890")
    shot(staff, "console-ship-form")
    staff.locator("#content").get_by_role("button", name="提货发货").click()
    expect(staff.locator("body")).to_contain_text(f"提货单 {number} 已发货。")
    expect(staff.locator("#content")).to_contain_text("SF1234567890")
    shot(staff, "console-shipped")
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (OrderStatus.FULFILLED, "顺丰速运", "SF1234567890")

    # The 市代 sees the tracking number and, once the parcel arrives, confirms receipt.
    agent.reload()
    expect(agent.locator("main li", has_text=number).get_by_test_id("tracking")).to_have_text("顺丰速运 SF1234567890")
    shot(agent, "stock-tracking")
    agent.get_by_role("link", name=number).click()
    expect(agent.get_by_test_id("status")).to_have_text("已发货")
    expect(agent.get_by_test_id("tracking")).to_have_text("顺丰速运 SF1234567890")
    shot(agent, "pickup-detail")
    agent.get_by_role("button", name="确认收货").click()
    expect(agent.get_by_role("status")).to_contain_text("已确认收货，订单完成。")
    expect(agent.get_by_test_id("status")).to_have_text("已完成")
    shot(agent, "received")
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.delivered_at is not None
