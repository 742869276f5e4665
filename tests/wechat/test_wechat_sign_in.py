"""Signing in with WeChat against the fake WeChat on loopback (the live server serves it): inside
WeChat's browser the login page goes to WeChat by itself; an unbound WeChat is bound once with the
account's phone and password, and from then on signs it in; the code works once; a forged state,
a wrong password or a WeChat bound elsewhere change nothing; unbinding is audited."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.test import Client

from weishang.core import sms
from weishang.wechat import client as wechat_client
from weishang.wechat.models import BindingAction, WechatBindingEvent, WechatIdentity

pytestmark = pytest.mark.django_db(transaction=True)
WECHAT_UA = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50 NetType/WIFI Language/zh_CN"


@pytest.fixture
def fake_wechat(live_server, settings):
    base = f"{live_server.url}/_fake/wechat"
    settings.WEISHANG_WECHAT = {**settings.WEISHANG_WECHAT, "API_BASE": base, "OPEN_BASE": base}
    return base


def follow_wechat(phone: Client, response, *, user: str = "wx-wang") -> object:
    """The phone goes to WeChat's authorize page (the fake, over HTTP) and back with the code."""
    assert response.status_code == 302
    authorize = response["Location"].split("#")[0]
    assert "/connect/oauth2/authorize?" in authorize and "appid=wxfake0000demo" in authorize
    back = requests.get(authorize + f"&fake_user={user}", allow_redirects=False, timeout=5)
    assert back.status_code == 302
    target = urlparse(back.headers["Location"])
    return phone.get(target.path, parse_qs(target.query) and {k: v[0] for k, v in parse_qs(target.query).items()})


def test_bind_once_then_wechat_signs_in(fake_wechat, make_agent):
    agent = make_agent("city", phone="13912345678", password="pass-word-1")
    phone = Client(HTTP_USER_AGENT=WECHAT_UA)
    to_wechat = phone.get("/m/login/?next=/m/orders/")
    assert to_wechat["Location"].startswith("/wx/login/")
    bind = follow_wechat(phone, phone.get(to_wechat["Location"]))
    assert bind["Location"] == "/wx/bind/"
    wrong = phone.post("/wx/bind/", {"phone": "13912345678", "password": "nope-nope"})
    assert wrong.status_code == 400 and "不匹配" in wrong.content.decode()
    assert not WechatIdentity.objects.exists()
    done = phone.post("/wx/bind/", {"phone": "13912345678", "password": "pass-word-1"})
    assert done.status_code == 302 and done["Location"] == "/m/orders/"
    identity = WechatIdentity.objects.get()
    assert identity.user == agent.user and identity.openid.startswith("o")
    assert WechatBindingEvent.objects.get().action == BindingAction.BOUND

    again = Client(HTTP_USER_AGENT=WECHAT_UA)  # another day: WeChat signs her in, no password
    landed = follow_wechat(again, again.get(again.get("/m/login/")["Location"]))
    assert landed.status_code == 302 and landed["Location"] == "/m/"
    assert again.get("/m/").status_code == 200

    assert again.post("/m/wechat/unbind/").status_code == 302
    assert not WechatIdentity.objects.exists()
    assert [e.action for e in WechatBindingEvent.objects.order_by("pk")] == ["bound", "unbound"]


def test_a_forged_state_or_a_used_code_changes_nothing(fake_wechat, make_agent):
    phone = Client(HTTP_USER_AGENT=WECHAT_UA)
    start = phone.get("/wx/login/")
    authorize = start["Location"].split("#")[0]
    back = urlparse(requests.get(authorize, allow_redirects=False, timeout=5).headers["Location"])
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    forged = phone.get("/wx/callback/", {**query, "state": "forged"})
    assert forged.status_code == 400 and "不再有效" in forged.content.decode()
    with pytest.raises(wechat_client.WechatError) as exc:
        wechat_client.oauth_user("not-a-code")
    assert exc.value.code == 40029
    for hostile in ("", "x" * 500, "<script>", "' OR 1=1"):
        assert phone.get("/wx/callback/", {"code": hostile, "state": "s"}).status_code == 400
    assert not WechatIdentity.objects.exists()


def test_a_wechat_bound_to_one_account_is_not_bound_to_another(fake_wechat, make_agent):
    make_agent("city", phone="13900000011", password="pass-word-1")
    make_agent("city", phone="13900000022", password="pass-word-2")
    first = Client(HTTP_USER_AGENT=WECHAT_UA)
    follow_wechat(first, first.get("/wx/login/"), user="wx-same")
    first.post("/wx/bind/", {"phone": "13900000011", "password": "pass-word-1"})
    other = Client()
    other.login(username="13900000022", password="pass-word-2")
    refused = follow_wechat(other, other.get("/wx/login/"), user="wx-same")
    assert refused.status_code == 409 and "另一个账号" in refused.content.decode()
    assert WechatIdentity.objects.count() == 1


def test_mini_program_code2session_against_the_fake(fake_wechat):
    user = wechat_client.mini_program_user("code:wx-li")
    assert user.openid.startswith("o")
    with pytest.raises(wechat_client.WechatError) as exc:
        wechat_client.mini_program_user("bad-code")
    assert exc.value.code == 40029


def test_the_share_card_signature_is_wechats(fake_wechat, make_agent, live_server):
    """WeChat's documented example signs as WeChat says; the page's config verifies with the ticket
    the fake gave, asked once and cached; another site's address is refused."""
    import hashlib

    from django.core.cache import caches

    from weishang.wechat import jssdk

    assert (
        jssdk.signature(
            ticket="sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
            nonce="Wm3WZYTPz0wzccnW",
            timestamp=1414587457,
            url="http://mp.weixin.qq.com?params=value",
        )
        == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
    )
    agent = make_agent("city")
    host = live_server.url.split("//")[1]
    phone = Client(HTTP_USER_AGENT=WECHAT_UA, HTTP_HOST=host)
    page = phone.get(f"/join/{agent.invite_code}/")
    assert 'id="share-card"' in page.content.decode() and "邀请你加入" in page.content.decode()
    url = f"http://{host}/join/{agent.invite_code}/"
    first = phone.get("/wx/jssdk/", {"url": url + "#wechat_redirect"}).json()
    second = phone.get("/wx/jssdk/", {"url": url}).json()
    ticket = wechat_client.jsapi_ticket()
    plain = f"jsapi_ticket={ticket}&noncestr={first['nonceStr']}&timestamp={first['timestamp']}&url={url}"
    assert first["signature"] == hashlib.sha1(plain.encode()).hexdigest() and first["appId"] == "wxfake0000demo"
    assert second["nonceStr"] != first["nonceStr"]
    cache = caches["default"]  # the fake WeChat counts its calls there
    assert cache.get("fake-wechat:calls:ticket") == 1 and cache.get("fake-wechat:calls:token") == 1
    for hostile in ("https://evil.example/join/", "javascript:alert(1)", "", "http://" + host + "/" + "x" * 600):
        assert phone.get("/wx/jssdk/", {"url": hostile}).status_code == 400
    outside = Client(HTTP_HOST=host).get(f"/join/{agent.invite_code}/").content.decode()
    assert 'id="share-card"' not in outside and 'property="og:title"' in outside


def test_inside_wechat_a_bound_agent_pays_by_jsapi_and_the_dev_cashier_completes_it(fake_wechat, make_agent):
    from decimal import Decimal

    from weishang.catalog.models import SKU, Product
    from weishang.core.models import Brand, SupplyMode
    from weishang.trade import services as trade
    from weishang.trade.models import OrderStatus
    from weishang.wechat.client import WechatUser
    from weishang.wechat.fake import openid_for
    from weishang.wechat.models import AppKind
    from weishang.wechat.services import wechat_bind

    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.COMPANY)
    SKU.objects.create(
        product=Product.objects.create(name="焕颜"), code="A", name="修护精华", retail_price=Decimal("100")
    )
    agent = make_agent("city", phone="13912340009", password="pass-word-1")
    order = trade.order_submit(buyer=agent, lines=[("A", 5)], by=agent.user)
    trade.order_approve(order=order, by=get_boss())
    phone = Client(HTTP_USER_AGENT=WECHAT_UA)
    phone.login(username="13912340009", password="pass-word-1")
    qr = phone.post(f"/m/orders/{order.number}/pay-online/")
    assert qr.status_code == 200 and "识别" in qr.content.decode()  # not bound yet: the QR code
    wechat_bind(user=agent.user, wechat=WechatUser(openid=openid_for("wx-pay")), kind=AppKind.MP, how="password")
    page = phone.post(f"/m/orders/{order.number}/pay-online/").content.decode()
    assert "getBrandWCPayRequest" not in page and f"prepay_id=fake-{order.number}" in page
    cashier = re.search(r'data-testid="dev-cashier" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    done = phone.post(cashier)
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def get_boss():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser(username="boss", password="pass-word-1", phone="13000000009")


def test_bind_by_a_code_texted_to_the_phone(fake_wechat, make_agent, settings):
    settings.WEISHANG_SMS_BACKEND = "weishang.core.sms.LocmemBackend"
    sms.outbox.clear()
    agent = make_agent("city", phone="13912345679", password="pass-word-1")
    phone = Client(HTTP_USER_AGENT=WECHAT_UA)
    assert follow_wechat(phone, phone.get("/wx/login/"), user="wx-code")["Location"] == "/wx/bind/"
    page = phone.get("/wx/bind/").content.decode()
    assert "短信验证码" in page and "获取验证码" in page
    stranger = phone.post("/wx/bind/", {"action": "send", "phone": "13900000000"})
    assert stranger.status_code == 200 and "验证码已发送" in stranger.content.decode() and sms.outbox == []
    bad = phone.post("/wx/bind/", {"action": "send", "phone": "12345"})
    assert bad.status_code == 400 and sms.outbox == []
    sent = phone.post("/wx/bind/", {"action": "send", "phone": "13912345679"})
    assert sent.status_code == 200 and "验证码已发送" in sent.content.decode()
    [text] = sms.outbox
    assert text.purpose == "wechat_bind" and "绑定微信" in text.text
    code = text.params[0]
    wrong = phone.post(
        "/wx/bind/", {"action": "code", "phone": "13912345679", "code": "000000" if code != "000000" else "111111"}
    )
    assert wrong.status_code == 400 and "验证码错误" in wrong.content.decode()
    for hostile in ("", "12345", "<scr>", "1234567"):
        answer = phone.post("/wx/bind/", {"action": "code", "phone": "13912345679", "code": hostile})
        assert answer.status_code == 400
    assert not WechatIdentity.objects.exists()
    done = phone.post("/wx/bind/", {"action": "code", "phone": "13912345679", "code": code})
    assert done.status_code == 302
    identity = WechatIdentity.objects.get()
    assert identity.user == agent.user and WechatBindingEvent.objects.get().how == "sms"
    assert phone.get("/m/").status_code == 200

    # The code is spent: another WeChat cannot bind with it.
    other = Client(HTTP_USER_AGENT=WECHAT_UA)
    follow_wechat(other, other.get("/wx/login/"), user="wx-thief")
    reused = other.post("/wx/bind/", {"action": "code", "phone": "13912345679", "code": code})
    assert reused.status_code == 400 and WechatIdentity.objects.count() == 1


def test_inside_wechat_a_shops_consumer_pays_by_jsapi_with_the_openid_wechat_gave(fake_wechat, make_agent, monkeypatch):
    """No account and no binding: opening the order inside WeChat asks WeChat who they are
    (snsapi_base, silently, once per visit), and the pay button opens JSAPI with that openid."""
    from decimal import Decimal

    from weishang.catalog.models import SKU, Product
    from weishang.core.models import Brand, SupplyMode
    from weishang.trade import services as trade
    from weishang.trade.models import OrderStatus
    from weishang.trade.providers.fake import FakeProvider
    from weishang.wechat.fake import openid_for

    payers = []
    create = FakeProvider.create_payment
    monkeypatch.setattr(
        FakeProvider,
        "create_payment",
        lambda self, request, **kw: payers.append(request.payer_openid) or create(self, request, **kw),
    )
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    SKU.objects.create(
        product=Product.objects.create(name="焕颜"), code="A", name="修护精华", retail_price=Decimal("99")
    )
    seller = make_agent("vip", real_name="特约李娜")
    order = trade.retail_order_submit(seller=seller, name="张三", phone="13900000077", address="杭州", lines=[("A", 1)])
    page_url = f"/s/{seller.invite_code}/o/{order.number}/?phone=13900000077"
    consumer = Client(HTTP_USER_AGENT=WECHAT_UA)
    asked = consumer.get(page_url)
    assert asked.status_code == 302 and asked["Location"].startswith("/wx/login/?payer=1")
    back = follow_wechat(consumer, consumer.get(asked["Location"]), user="wx-consumer")
    assert back.status_code == 302 and back["Location"] == page_url
    assert consumer.get(page_url).status_code == 200  # asked once: no second trip
    assert not WechatIdentity.objects.exists()  # nobody was bound or signed in
    assert "_auth_user_id" not in consumer.session

    sheet = consumer.post(f"/s/{seller.invite_code}/o/{order.number}/pay-online/?phone=13900000077")
    page = sheet.content.decode()
    assert sheet.status_code == 200 and f"prepay_id=fake-{order.number}" in page
    assert payers == [openid_for("wx-consumer")]
    cashier = re.search(r'data-testid="dev-cashier" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert consumer.post(cashier).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID

    outside = Client()  # outside WeChat: no trip to WeChat
    assert outside.get(page_url).status_code == 200
    second = trade.retail_order_submit(
        seller=seller, name="李四", phone="13900000078", address="杭州", lines=[("A", 1)]
    )
    second_url = f"/s/{seller.invite_code}/o/{second.number}/?phone=13900000078"
    refused = Client(HTTP_USER_AGENT=WECHAT_UA)  # WeChat's code does not work: back, and the QR code
    trip = refused.get(refused.get(second_url)["Location"])
    state = parse_qs(urlparse(trip["Location"]).query)["state"][0]
    assert refused.get("/wx/callback/", {"code": "forged", "state": state})["Location"] == second_url
    assert refused.get(second_url).status_code == 200  # asked once: no loop
    qr = refused.post(f"/s/{seller.invite_code}/o/{second.number}/pay-online/?phone=13900000078")
    assert qr.status_code == 200 and "<svg" in qr.content.decode()
    assert payers == [openid_for("wx-consumer"), None]  # the QR code (Native) needs no openid
