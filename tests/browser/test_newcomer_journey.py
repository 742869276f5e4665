"""Journey, in Chinese on a phone (M7 items 12, 13 and 14): a newcomer opens a 市代's invite link
that names the 市代 level, finds it chosen with every level's price and conditions beside it,
submits a bad form and sees every problem at once in Chinese, then applies. The 市代 goes through
the five icon tabs, each marked as the current one, finds filling under 进货, scrolls to the end of
a long page without the tab bar covering it, opens 我的 and signs out from there. Every page on the
way, and the console's front page and a list (as the browser draws them, scripts run), shows no
English interface text."""

from __future__ import annotations

import re

import pytest
from browser_steps import console_log_in, expect, log_in
from untranslated import allowed_words, english_runs

from weishang.channel.models import Application

pytestmark = pytest.mark.browser

NEW_PHONE = "13622223333"
TABS = ["首页", "进货", "团队", "奖励", "我的"]


def no_english(page, allow) -> None:
    runs = english_runs(page.content(), allow)
    assert runs == [], f"{page.url}: {runs}"


def test_invite_to_a_level_bad_input_then_tabs_me_and_sign_out(demo, phone, shot):
    city = demo.city
    allow = allowed_words()

    # 12. The invite link names the 市代 level: it is chosen, each level shows its terms.
    newcomer = phone("zh-CN")
    newcomer.goto(f"/join/{city.invite_code}/?level=city")
    expect(newcomer.get_by_role("radio", name="市代", exact=True)).to_be_checked()
    expect(newcomer.get_by_role("radio", name="联创", exact=True)).not_to_be_checked()
    expect(newcomer.get_by_test_id("named-level")).to_contain_text("邀请您以市代身份加入")
    city_card = newcomer.get_by_test_id("level-city")
    expect(city_card).to_contain_text("拿货价")
    expect(city_card).to_contain_text("焕颜修护精华 30ml ¥170.00")
    expect(city_card).to_contain_text("免费加入")  # the retail-first plan in force: free entry
    expect(newcomer.get_by_test_id("level-vip")).to_contain_text("¥230.00")
    no_english(newcomer, allow)
    shot(newcomer, "join-named-level")

    # Bad input: every problem at once, in our Chinese, nothing stored.
    newcomer.get_by_label("手机号", exact=True).fill("12345")
    newcomer.get_by_label("密码（至少 8 位）", exact=True).fill("12345678")
    newcomer.get_by_role("button", name="提交申请").click()
    summary = newcomer.get_by_test_id("error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("请修改以下 4 处问题")
    for text in ("请填写您的真实姓名", "请输入 11 位中国大陆手机号", "这个密码太常见", "密码只包含数字"):
        expect(summary).to_contain_text(text)
    expect(newcomer.locator("main")).not_to_contain_text("确保")
    expect(newcomer.get_by_role("radio", name="市代", exact=True)).to_be_checked()
    no_english(newcomer, allow)
    shot(newcomer, "join-all-errors")
    assert not Application.objects.filter(phone=NEW_PHONE).exists()
    summary.get_by_role("link", name=re.compile("真实姓名")).click()
    expect(newcomer.get_by_label("真实姓名", exact=True)).to_be_in_viewport()

    newcomer.get_by_label("真实姓名", exact=True).fill("新人林晓")
    newcomer.get_by_label("手机号", exact=True).fill(NEW_PHONE)
    newcomer.get_by_label("密码（至少 8 位）", exact=True).fill("lin-xiao-2026")
    newcomer.get_by_role("button", name="提交申请").click()
    expect(newcomer.get_by_role("heading", name="申请已提交")).to_be_visible()
    assert Application.objects.get(phone=NEW_PHONE).level.code == "city"

    # 14. The 市代 goes through the five icon tabs.
    agent = phone("zh-CN")
    log_in(agent, city.phone)
    tabs = agent.get_by_test_id("tabs")
    expect(tabs.get_by_role("link")).to_have_text(TABS)
    for name in TABS:
        tab = tabs.get_by_role("link", name=name, exact=True)
        tab.click()
        expect(tab).to_have_attribute("aria-current", "page")
        box = tab.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, (name, box)
        assert tab.locator("svg").count() == 1
        no_english(agent, allow)
        shot(agent, f"tab-{name}")
        if name == "进货":  # filling is under 进货 for an agent who supplies others
            agent.get_by_test_id("buy-nav").get_by_role("link", name="待发货订单").click()
            expect(agent.get_by_role("heading", name="待发货订单")).to_be_visible()
            expect(tabs.get_by_role("link", name="进货", exact=True)).to_have_attribute("aria-current", "page")

    # The fixed bar never covers the end of a long page.
    agent.goto("/m/team/?show=all")
    agent.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    last = agent.locator("main > *:visible").last
    bottom = last.evaluate("e => e.getBoundingClientRect().bottom")
    bar_top = tabs.evaluate("e => e.getBoundingClientRect().top")
    assert bottom <= bar_top, f"the last element ends at {bottom}px, under the tab bar at {bar_top}px"
    shot(agent, "long-page-bottom")

    # 我的: profile with the phone masked, settings, and signing out.
    tabs.get_by_role("link", name="我的", exact=True).click()
    main = agent.locator("main")
    expect(main.get_by_role("heading", name=city.real_name)).to_be_visible()
    expect(agent.get_by_test_id("phone")).to_have_text(f"{city.phone[:3]}****{city.phone[-4:]}")
    for link in ("我的店铺和顾客", "邀请海报", "库存与提货", "钱包", "升级进度"):
        expect(main.get_by_role("link", name=link)).to_be_visible()
    shot(agent, "me")
    agent.get_by_test_id("sign-out").click()
    expect(agent).to_have_url(re.compile(r"/m/login/"))
    agent.goto("/m/")
    expect(agent).to_have_url(re.compile(r"/m/login/"))

    # 13. The console, as the browser draws it, in Chinese with the brand's name.
    staff = phone("zh-CN")
    console_log_in(staff, "owner")
    expect(staff.locator("#nav-sidebar, aside").first).to_contain_text("焕颜 GLOW")
    no_english(staff, allow)
    staff.goto("/console/channel/agent/")
    expect(staff.get_by_text("筛选").first).to_be_attached()
    no_english(staff, allow)
