"""Notifications go out as WeChat template messages to a bound WeChat (the fake records them) and
as text messages to those who asked, outside their quiet hours; a failure is retried later and
given up in the end; nothing of it is in the order's transaction."""

from __future__ import annotations

import time as pytime
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from weishang.catalog.models import SKU, Product
from weishang.core import clock, sms
from weishang.core.fake_sms import FakeTencentSms
from weishang.core.models import Brand, SupplyMode
from weishang.notifications.models import Delivery, DeliveryStatus, Notification, NotificationSettings
from weishang.notifications.services import RETRY_MINUTES, deliveries_send, notifications_follow_events
from weishang.trade import services as trade
from weishang.wechat import fake
from weishang.wechat.client import WechatUser
from weishang.wechat.fake import openid_for
from weishang.wechat.models import AppKind
from weishang.wechat.services import wechat_bind

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(live_server, settings, make_agent):
    base = f"{live_server.url}/_fake/wechat"
    settings.WEISHANG_WECHAT = {**settings.WEISHANG_WECHAT, "API_BASE": base, "OPEN_BASE": base}
    settings.WEISHANG_SMS_BACKEND = "weishang.core.sms.LocmemBackend"
    sms.outbox.clear()
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    SKU.objects.create(
        product=Product.objects.create(name="焕颜"), code="A", name="修护精华", retail_price=Decimal("100")
    )
    general = make_agent("general", real_name="总代李娜", phone="13900000101")
    city = make_agent("city", supplier=general, real_name="市代王芳")
    return general, city


def test_a_bound_upline_gets_a_template_message_when_the_downline_orders(world):
    general, city = world
    wechat_bind(user=general.user, wechat=WechatUser(openid=openid_for("wx-li")), kind=AppKind.MP, how="password")
    NotificationSettings.objects.create(user=general.user, sms=True)
    order = trade.order_submit(buyer=city, lines=[("A", 5)], by=city.user)
    notifications_follow_events()
    deliveries = {d.channel: d for d in Delivery.objects.filter(notification__kind="order_to_approve")}
    assert {c: d.status for c, d in deliveries.items()} == {"wechat": "sent", "sms": "sent"}
    [message] = [m for m in fake.sent_messages() if m["touser"] == openid_for("wx-li")]
    assert message["template_id"] == "fake-todo-template" and message["url"].endswith(f"/m/fill/{order.number}/")
    assert message["data"]["thing1"]["value"] == f"市代王芳 提交了进货单 {order.number}"[:20]  # a thing holds 20
    assert [s.phone for s in sms.outbox] == ["13900000101"] and order.number in sms.outbox[0].text


def test_quiet_hours_hold_a_message_until_they_end(world, clock):
    general, city = world
    clock.freeze(timezone.make_aware(timezone.datetime(2026, 12, 7, 23, 30)))
    NotificationSettings.objects.create(
        user=general.user, wechat=False, sms=True, quiet_from=time(22), quiet_to=time(8)
    )
    trade.order_submit(buyer=city, lines=[("A", 5)], by=city.user)
    notifications_follow_events()
    delivery = Delivery.objects.get(notification__kind="order_to_approve")
    assert delivery.status == DeliveryStatus.PENDING and sms.outbox == []
    assert timezone.localtime(delivery.next_attempt_at).hour == 8
    assert deliveries_send(now=delivery.next_attempt_at + timedelta(minutes=1)) == 1
    assert len(sms.outbox) == 1


def test_a_failure_is_retried_later_then_given_up(world, settings):
    general, city = world
    wechat_bind(user=general.user, wechat=WechatUser(openid="not-an-openid"), kind=AppKind.MP, how="password")
    trade.order_submit(buyer=city, lines=[("A", 5)], by=city.user)
    notifications_follow_events()
    delivery = Delivery.objects.get(channel="wechat", notification__kind="order_to_approve")
    assert delivery.status == DeliveryStatus.PENDING and "40003" in delivery.last_error and delivery.attempts == 1
    at = delivery.next_attempt_at
    for minutes in RETRY_MINUTES[1:]:
        deliveries_send(now=at)
        delivery.refresh_from_db()
        assert delivery.next_attempt_at == at + timedelta(minutes=minutes)
        at = delivery.next_attempt_at
    deliveries_send(now=at)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == len(RETRY_MINUTES) + 1
    assert clock.now()  # the order itself went through untouched


def test_a_text_refused_by_tencent_is_retried_and_goes_out_as_the_notice_template(world, settings):
    general, city = world
    fake_tencent = FakeTencentSms()
    with fake_tencent.serve() as endpoint:
        settings.WEISHANG_SMS_BACKEND = "weishang.core.sms_tencent.TencentSmsBackend"
        settings.WEISHANG_SMS_TENCENT = fake_tencent.settings(endpoint)
        NotificationSettings.objects.create(user=general.user, wechat=False, sms=True)
        fake_tencent._last_sent["+8613900000101"] = pytime.time()  # texted a moment ago: Tencent's 30 s limit
        order = trade.order_submit(buyer=city, lines=[("A", 5)], by=city.user)
        notifications_follow_events()
        delivery = Delivery.objects.get(notification__kind="order_to_approve")
        assert delivery.status == DeliveryStatus.PENDING and "PhoneNumberThirtySecondLimit" in delivery.last_error
        fake_tencent._last_sent.clear()
        assert deliveries_send(now=delivery.next_attempt_at) == 1
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SENT and delivery.reference.startswith("2645:")
        [message] = fake_tencent.messages
        assert message["phone"] == "+8613900000101" and message["template"] == "1000003"
        assert message["params"] == [f"市代王芳 提交了进货单 {order.number}"[:12]]


def test_right_after_an_order_only_its_own_messages_are_tried_not_the_backlog(world):
    general, city = world
    NotificationSettings.objects.create(user=general.user, wechat=False, sms=True)
    first = trade.order_submit(buyer=city, lines=[("A", 5)], by=city.user)
    notifications_follow_events()
    Delivery.objects.all().delete()  # as if it had not gone out: a backlog of one due delivery
    sms.outbox.clear()
    backlog = Delivery.objects.create(
        notification=Notification.objects.get(event_key__contains=first.number, kind="order_to_approve"),
        channel="sms",
        next_attempt_at=clock.now() - timedelta(hours=1),
    )
    second = trade.order_submit(buyer=city, lines=[("A", 6)], by=city.user)
    notifications_follow_events()
    assert [m.text for m in sms.outbox if second.number in m.text] and not [
        m for m in sms.outbox if first.number in m.text
    ]
    backlog.refresh_from_db()
    assert backlog.status == DeliveryStatus.PENDING  # the command's, not the order's request
    assert deliveries_send() == 1 and any(first.number in m.text for m in sms.outbox)
