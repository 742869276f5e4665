"""Journey, in Chinese (M10, meetings): operations create a meeting in the console; the 联创 login
invites a guest from her phone; the meeting's check-in link (the door's QR code) opens on a
guest's phone with no login; the guest checks in, and a second scan says she is in already; the
console lists her as a guest; operations enter a cost, and the ROI card shows −100%; she then
joins and pays for her first stock (through the services), and the card shows her as an agent
made, the cash collected and the ROI worked out from them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from browser_steps import console_log_in, expect, log_in
from django.utils import timezone

from weishang.channel.models import Level
from weishang.channel.services import agent_create
from weishang.core.models import User
from weishang.leads.services import leads_follow_events
from weishang.meetings.demo import paid_restock
from weishang.meetings.models import Meeting

pytestmark = pytest.mark.browser

GUEST_PHONE = "13977700001"


def test_create_a_meeting_check_a_guest_in_by_the_qr_link_and_see_the_roi(demo, phone, shot):
    staff = phone("zh-CN")
    console_log_in(staff, "operations")
    staff.goto("/console/meetings/meeting/add/")
    start = timezone.localtime() - timedelta(minutes=30)
    end = start + timedelta(hours=3)
    staff.locator("select[name=kind]").select_option("salon")
    staff.locator("input[name=title]").fill("会员沙龙 · 测试")
    staff.locator("input[name=starts_at_0]").fill(start.strftime("%Y-%m-%d"))
    staff.locator("input[name=starts_at_1]").fill(start.strftime("%H:%M:%S"))
    staff.locator("input[name=ends_at_0]").fill(end.strftime("%Y-%m-%d"))
    staff.locator("input[name=ends_at_1]").fill(end.strftime("%H:%M:%S"))
    staff.locator("input[name=venue]").fill("杭州办公室")
    staff.locator("input[name=region_code]").fill("330106")
    staff.locator("input[name=host_name]").fill("主持人李娜")
    staff.locator("input[name=budget]").fill("1500")
    staff.locator("input[name=window_days]").fill("30")
    staff.locator("button[name=_continue]").click()
    meeting = Meeting.objects.get(title="会员沙龙 · 测试")
    expect(staff).to_have_url(re.compile(rf"/console/meetings/meeting/{meeting.pk}/change/"))
    link = staff.get_by_test_id("checkin-link")
    expect(link).to_be_visible()
    checkin_path = link.get_attribute("href")
    assert checkin_path == f"/meet/c/{meeting.checkin_token}/"
    shot(staff, "meeting-created")

    # An agent invites a guest from her phone (我的 → 会议) and sees who she invited.
    agent_phone = phone("zh-CN")
    log_in(agent_phone, demo.partner.phone)
    agent_phone.goto("/m/me/")
    agent_phone.get_by_role("link", name=re.compile(r"^会议")).click()
    card = agent_phone.get_by_test_id("meeting").filter(has_text="会员沙龙 · 测试")
    card.locator("input[name=name]").fill("孙小美")
    card.locator("input[name=phone]").fill("13977700002")
    card.get_by_role("button", name="邀请").click()
    expect(agent_phone.locator(".messages")).to_contain_text("已邀约 孙小美")
    card = agent_phone.get_by_test_id("meeting").filter(has_text="会员沙龙 · 测试")
    expect(card.get_by_test_id("my-invitations")).to_contain_text("孙小美 · 未回复")
    card.get_by_role("link", name="邀请函链接").click()  # the link she sends her guest
    expect(agent_phone.get_by_test_id("rsvp")).to_contain_text("未回复")
    shot(agent_phone, "agent-invited")

    # The guest scans the door's QR code: her phone opens the link, no login.
    guest = phone("zh-CN")
    guest.goto(checkin_path)
    guest.locator("input[name=name]").fill("钱多多")
    guest.locator("input[name=phone]").fill(GUEST_PHONE)
    guest.get_by_role("button", name="签到").click()
    expect(guest.get_by_test_id("checkin-result")).to_contain_text("欢迎您，钱多多：签到成功")
    shot(guest, "checked-in")
    guest.goto(checkin_path)
    guest.locator("input[name=name]").fill("钱多多")
    guest.locator("input[name=phone]").fill(GUEST_PHONE)
    guest.get_by_role("button", name="签到").click()
    expect(guest.get_by_test_id("checkin-result")).to_contain_text("您已经签到过了")

    # The console lists her; the outcome card counts her; a cost gives an ROI.
    staff.reload()
    expect(staff.get_by_text("钱多多").first).to_be_visible()
    expect(staff.get_by_test_id("out-guests")).to_have_text("1")
    expect(staff.get_by_test_id("out-roi")).to_have_text("—")
    staff.goto(f"/console/meetings/meeting/{meeting.pk}/cost/")
    staff.locator("select[name=kind]").select_option("venue")
    staff.locator("input[name=amount]").fill("1000")
    staff.locator("input[name=note]").fill("场地费")
    staff.get_by_role("button", name="添加费用").click()
    expect(staff.get_by_test_id("out-cost")).to_have_text("¥1000.00")
    expect(staff.get_by_test_id("out-roi")).to_have_text("-100%")

    # She joins as a 特约 and pays for 5 units (¥230 each): ¥1,150 collected within the window.
    vip = Level.objects.get(code="vip")
    agent = agent_create(
        phone=GUEST_PHONE, real_name="钱多多", level=vip, referrer=demo.vip, password="x-pass-word-1", entry_paid=True
    )
    leads_follow_events()
    paid_restock(agent, 5, User.objects.get(username="owner"))
    staff.reload()
    expect(staff.get_by_test_id("out-agents")).to_have_text("1 (特约 1)")
    expect(staff.get_by_test_id("out-cash")).to_have_text("¥1150.00")
    expect(staff.get_by_test_id("out-roi")).to_have_text("15%")  # (1,150 − 1,000) ÷ 1,000
    shot(staff, "roi-card")
