"""The notification centre: an order's steps reach the party who must act (the seller to approve,
confirm and fill; the buyer to pay and receive), an application reaches the inviter and a new
agent their referrer; each once, however often the outbox is read; in the reader's language; the
phone's bell, list and read state; the API; nobody sees anyone else's."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.api.conftest import Api, error_of
from weishang.api.services import token_create
from weishang.catalog.models import SKU, Product
from weishang.channel import services as channel
from weishang.core.models import Brand, SupplyMode
from weishang.notifications.models import Notification
from weishang.notifications.selectors import notification_text, unread_count
from weishang.notifications.services import notifications_follow_events
from weishang.trade import services as trade

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(make_agent):
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    SKU.objects.create(
        product=Product.objects.create(name="焕颜"), code="A", name="修护精华", retail_price=Decimal("100")
    )
    general = make_agent("general", real_name="总代李娜")
    city = make_agent("city", supplier=general, referrer=general, real_name="市代王芳")
    return general, city


def inbox(agent, *, leave_out=("agent_joined",)):
    notifications_follow_events()
    rows = Notification.objects.filter(recipient=agent.user).exclude(kind__in=leave_out)
    return [(n.kind, notification_text(n), n.url) for n in rows]


def screenshot() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (7, 193, 96)).save(buffer, "PNG")
    return SimpleUploadedFile("transfer.png", buffer.getvalue(), content_type="image/png")


def test_an_orders_steps_reach_whoever_must_act_once_each(chain):
    general, city = chain
    order = trade.order_submit(buyer=city, lines=[("A", 5)], by=city.user)
    [(kind, text, url)] = inbox(general)
    assert kind == "order_to_approve" and url == f"/m/fill/{order.number}/"
    assert text == f"市代王芳 提交了进货单 {order.number}（¥300.00），等你审核。"
    trade.order_approve(order=order, by=general.user)
    assert [k for k, _t, _u in inbox(city)] == ["order_approved"]
    trade.payment_submit_transfer(order=order, by=city.user, screenshot=screenshot())
    assert [k for k, _t, _u in inbox(general)] == ["transfer_to_confirm", "order_to_approve"]
    notifications_follow_events()  # read again: nothing twice
    assert Notification.objects.exclude(kind="agent_joined").count() == 3
    assert unread_count(user=general.user) == 3  # and 市代王芳 joining their team


def test_a_new_agent_reaches_their_referrer(chain):
    general, _city = chain
    [(kind, text, url)] = inbox(general, leave_out=())
    assert kind == "agent_joined" and text == "市代王芳 以市代身份加入了你的团队。" and url == "/m/team/"


def test_an_application_reaches_the_inviter(chain):
    general, _city = chain
    application = channel.application_submit(
        invite_code=general.invite_code,
        phone="13911112222",
        real_name="新人赵敏",
        level_code="vip",
        password="pass-word-1",
    )
    [(kind, text, url)] = inbox(general)
    assert kind == "application" and "新人赵敏" in text and "特约" in text and url == "/m/applications/"
    assert application.pk


def test_the_phone_bell_list_and_read_state(chain, client):
    general, city = chain
    other = trade.order_submit(buyer=city, lines=[("A", 5)], by=city.user)
    notifications_follow_events()
    Notification.objects.filter(kind="agent_joined").delete()
    client.force_login(general.user)
    home = client.get("/m/").content.decode()
    assert 'data-testid="bell-count">1<' in home
    page = client.get("/m/notifications/").content.decode()
    assert other.number in page and "新" in page
    mine = Notification.objects.get(recipient=general.user)
    opened = client.get(f"/m/notifications/{mine.pk}/")
    assert opened.status_code == 302 and opened["Location"] == f"/m/fill/{other.number}/"
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    assert 'data-testid="bell-count"' not in client.get("/m/").content.decode()
    client.force_login(city.user)  # someone else's notification is not found, and stays read as it was
    assert client.get(f"/m/notifications/{mine.pk}/").status_code == 404
    assert client.get("/m/notifications/99999999999999/").status_code == 404
    assert client.post("/m/notifications/read-all/").status_code == 302


def test_a_link_that_leaves_the_site_is_not_followed(chain, client):
    general, _city = chain
    hostile = Notification.objects.create(
        recipient=general.user, kind="order_rejected", params={"number": "X"}, url="//evil.example/", event_key="t:1"
    )
    client.force_login(general.user)
    assert client.get(f"/m/notifications/{hostile.pk}/")["Location"] == "/m/notifications/"


def test_the_api_lists_counts_and_marks_read_in_the_clients_language(chain):
    general, city = chain
    order = trade.order_submit(buyer=city, lines=[("A", 5)], by=city.user)
    notifications_follow_events()
    Notification.objects.filter(kind="agent_joined").delete()
    _t, secret = token_create(user=general.user, device="测试手机")
    english = Api(token=secret, language="en")
    listed = english.get("/notifications", {"unread": "true"})
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert row["kind"] == "order_to_approve" and row["read_at"] is None
    assert row["text"] == f"市代王芳 placed a restock order {order.number} (¥300.00): it waits for your approval."
    assert english.get("/notifications/unread").json() == {"unread": 1}
    assert english.post(f"/notifications/{row['id']}/read").json()["read_at"]
    assert english.get("/notifications/unread").json() == {"unread": 0}
    _t, theirs = token_create(user=city.user, device="另一台手机")
    stranger = Api(token=theirs)
    answer = stranger.post(f"/notifications/{row['id']}/read")
    assert answer.status_code == 404 and error_of(answer)
    assert Api(token=theirs).get("/notifications").json()["results"] == []
    for hostile in ("0", "-1", "abc", "1e9"):
        assert stranger.post(f"/notifications/{hostile}/read").status_code in (404, 422)
    assert re.match(r"^\d+$", str(row["id"]))


def test_a_cancelled_order_reaches_the_other_party_with_trades_own_words(chain):
    general, city = chain
    order = trade.order_submit(buyer=city, lines=[("A", 5)], by=city.user)
    trade.order_cancel(order=order, by=city.user, note="买多了")
    kinds = inbox(general)
    assert [kind for kind, _t, _u in kinds] == ["order_notice", "order_to_approve"]
    _kind, text, url = kinds[0]
    assert order.number in text and "买多了" in text and url == f"/m/fill/{order.number}/"
    assert inbox(city) == []  # who cancelled is not told


def test_how_i_am_told_with_quiet_hours(chain, client):
    from weishang.notifications.models import NotificationSettings

    general, _city = chain
    client.force_login(general.user)
    assert client.get("/m/notifications/settings/").status_code == 200
    half = client.post("/m/notifications/settings/", {"sms": "on", "quiet_from": "22:00"})
    assert half.status_code == 400 and "免打扰" not in "" and not NotificationSettings.objects.exists()
    for hostile in ({"quiet_from": "25:99", "quiet_to": "08:00"}, {"quiet_from": "08:00", "quiet_to": "08:00"}):
        assert client.post("/m/notifications/settings/", hostile).status_code == 400
    saved = client.post("/m/notifications/settings/", {"sms": "on", "quiet_from": "22:00", "quiet_to": "08:00"})
    assert saved.status_code == 302
    row = NotificationSettings.objects.get(user=general.user)
    assert (row.wechat, row.sms, str(row.quiet_from), str(row.quiet_to)) == (False, True, "22:00:00", "08:00:00")
