"""Journey, in Chinese (M11, inside WeChat): the 特约 login opens the phone pages in WeChat's
browser; the login page sends her to WeChat (the fake, on the live server) and back; she binds her
phone once with her password and lands signed in; she orders from her 市代, who finds it under the
bell (消息通知) and opens it on the fill page; she signs out, opens the pages again and WeChat
signs her in with no password."""

from __future__ import annotations

import re

import pytest
from browser_steps import PASSWORD, expect, log_in

from weishang.notifications.services import notifications_follow_events
from weishang.wechat.models import WechatIdentity

pytestmark = pytest.mark.browser
WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.50(0x1800323a) NetType/WIFI Language/zh_CN"
)


def test_sign_in_with_wechat_bind_once_and_the_upline_is_notified(demo, phone, shot, settings, live_server):
    base = f"{live_server.url}/_fake/wechat"
    settings.WEISHANG_WECHAT = {**settings.WEISHANG_WECHAT, "API_BASE": base, "OPEN_BASE": base}
    vip = phone("zh-CN", user_agent=WECHAT_UA)
    vip.goto("/m/")
    expect(vip).to_have_url(re.compile(r"/wx/bind/(#.*)?$"))  # to WeChat and back: a WeChat not bound yet
    expect(vip.get_by_role("heading", name="绑定微信")).to_be_visible()
    vip.get_by_label("手机号或用户名").fill(demo.vip.phone)
    vip.get_by_label("密码").fill(PASSWORD)
    shot(vip, "bind")
    vip.get_by_role("button", name="绑定并登录").click()
    expect(vip.get_by_role("status")).to_contain_text("微信已绑定")
    assert WechatIdentity.objects.get().user == demo.vip.user

    # She orders one serum from her 市代.
    vip.goto("/m/order/")
    vip.locator("li.product", has_text="GLOW-30ML").get_by_label("件数").fill("1")
    vip.get_by_role("button", name="提交订单").click()
    expect(vip.get_by_role("status")).to_contain_text("已提交")
    notifications_follow_events()  # the live server's thread ran it after the commit; once more is a no-op

    upline = phone("zh-CN")
    log_in(upline, demo.city.phone)
    bell = upline.get_by_test_id("bell")
    expect(upline.get_by_test_id("bell-count")).to_be_visible()
    bell.click()
    item = upline.get_by_test_id("notification").filter(has_text=demo.vip.real_name).first
    expect(item).to_contain_text("提交了进货单")
    shot(upline, "notifications")
    item.get_by_role("link").click()
    expect(upline).to_have_url(re.compile(r"/m/fill/[^/]+/$"))

    # Signed out, she opens the pages again inside WeChat: WeChat signs her in.
    vip.goto("/m/me/")
    vip.get_by_test_id("sign-out").click()
    vip.goto("/m/")
    expect(vip).to_have_url(re.compile(r"/m/(#.*)?$"))
    expect(vip.get_by_test_id("tabs")).to_be_visible()
    shot(vip, "signed-in-by-wechat")
