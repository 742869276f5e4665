"""Journey, in Chinese on a phone (M10, growth on the phone): a consumer by the West Lake opens
附近门店, lets the page use her location, sees the 市代's store nearest first with its distance and
hours, and goes on to its shop; then, without a location, picks 上海 静安区 and sees that district's
store first. The 市代 logs in, adds a lead she met at a salon, records a follow-up that invites
her, and sees the lead under 已邀约; her work plan for the month counts the invitation."""

from __future__ import annotations

import pytest
from browser_steps import expect, log_in

from weishang.leads.models import Lead, LeadStage

pytestmark = pytest.mark.browser

WEST_LAKE = {"latitude": 30.2592, "longitude": 120.1300}


def test_nearby_stores_and_an_agents_leads(demo, phone, shot):
    consumer = phone("zh-CN")
    consumer.context.grant_permissions(["geolocation"])
    consumer.context.set_geolocation(WEST_LAKE)
    consumer.goto("/stores/")
    consumer.get_by_test_id("use-location").click()
    stores = consumer.get_by_test_id("store")
    expect(stores.first).to_contain_text("焕颜生活馆·西湖店")
    expect(stores.first.get_by_test_id("distance")).to_contain_text("公里")
    expect(stores).to_have_count(5)
    shot(consumer, "stores-near-me")
    stores.first.get_by_test_id("store-shop").click()
    expect(consumer.get_by_text(demo.city.real_name).first).to_be_visible()
    shot(consumer, "store-shop")

    # Without a location: choose 上海 → 静安区 with the picker (a municipality's districts come
    # straight after it).
    other = phone("zh-CN")
    other.goto("/stores/")
    other.locator("select[name=region_1]").select_option("310000")
    other.locator("select[name=region_2]").select_option("310106")
    other.get_by_role("button", name="查找门店").click()
    expect(other.get_by_test_id("store").first).to_contain_text("焕颜美肤·静安")

    agent = phone("zh-CN")
    log_in(agent, demo.city.phone)
    agent.get_by_test_id("leads-link").click()
    agent.get_by_text("添加意向客户").click()
    adding = agent.get_by_test_id("lead-new")
    adding.get_by_label("姓名", exact=True).fill("沙龙认识的周敏")
    adding.get_by_label("手机号", exact=True).fill("13712345678")
    adding.get_by_label("认识渠道").select_option("meeting")
    adding.get_by_role("button", name="保存").click()
    expect(agent.get_by_test_id("stage")).to_have_text("新线索")
    agent.get_by_label("沟通内容").fill("加了微信，约了周六的招商会")
    agent.get_by_label("阶段").select_option("invited")
    agent.get_by_role("button", name="保存跟进").click()
    expect(agent.get_by_test_id("stage")).to_have_text("已邀约")
    expect(agent.get_by_test_id("history")).to_contain_text("约了周六的招商会")
    shot(agent, "lead-followed-up")
    assert Lead.objects.get(phone="13712345678").stage == LeadStage.INVITED
    agent.goto("/m/leads/?stage=invited")
    expect(agent.get_by_test_id("leads")).to_contain_text("沙龙认识的周敏")
