"""Signing in from the mini-program: a wx.login code for a WeChat bound to an account gives a
device token; an unbound one is 409 until bound once with the phone and password; a bad code,
a wrong password or a WeChat bound elsewhere are field errors and change nothing."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api, error_of
from weishang.api.models import ApiToken
from weishang.core import sms
from weishang.wechat.models import WechatIdentity

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake_wechat(live_server, settings):
    base = f"{live_server.url}/_fake/wechat"
    settings.WEISHANG_WECHAT = {**settings.WEISHANG_WECHAT, "API_BASE": base, "OPEN_BASE": base}


def test_bind_once_then_the_code_signs_in(fake_wechat, make_agent):
    agent = make_agent("city", phone="13912340001", password="pass-word-1")
    api = Api()
    first = api.post("/auth/wechat", {"code": "code:wx-a", "device": "小程序"})
    assert first.status_code == 409 and error_of(first)["code"] == "wechat_not_bound"
    wrong = api.post("/auth/wechat/bind", {"code": "code:wx-a", "phone": "13912340001", "password": "nope"})
    assert wrong.status_code in (400, 401) and not WechatIdentity.objects.exists()
    bound = api.post("/auth/wechat/bind", {"code": "code:wx-a", "phone": "13912340001", "password": "pass-word-1"})
    assert bound.status_code == 201 and bound.json()["agent_id"] == agent.pk
    again = api.post("/auth/wechat", {"code": "code:wx-a", "device": "小程序"})
    assert again.status_code == 201
    me = Api(token=again.json()["token"]).get("/me")
    assert me.status_code == 200


def test_bad_codes_and_a_wechat_bound_elsewhere(fake_wechat, make_agent):
    make_agent("city", phone="13912340002", password="pass-word-1")
    make_agent("city", phone="13912340003", password="pass-word-2")
    api = Api()
    for hostile in ("bad-code", "<script>", "x" * 129, ""):
        answer = api.post("/auth/wechat", {"code": hostile})
        assert answer.status_code in (400, 422), hostile
    api.post("/auth/wechat/bind", {"code": "code:wx-b", "phone": "13912340002", "password": "pass-word-1"})
    tokens = ApiToken.objects.filter(revoked_at__isnull=True).count()
    taken = api.post("/auth/wechat/bind", {"code": "code:wx-b", "phone": "13912340003", "password": "pass-word-2"})
    assert taken.status_code == 409 and error_of(taken)["code"] == "wechat_taken"
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == tokens  # the login did not stand
    assert WechatIdentity.objects.count() == 1


def test_bind_with_a_texted_code(fake_wechat, make_agent, settings):
    settings.WEISHANG_SMS_BACKEND = "weishang.core.sms.LocmemBackend"
    sms.outbox.clear()
    agent = make_agent("city", phone="13912340009", password="pass-word-1")
    api = Api()
    asked = api.post("/auth/wechat/sms-code", {"phone": "13912340009"})
    assert asked.status_code == 202 and "验证码" in asked.json()["detail"]
    assert api.post("/auth/wechat/sms-code", {"phone": "13900000000"}).status_code == 202  # the same answer
    assert api.post("/auth/wechat/sms-code", {"phone": "abc"}).status_code == 400
    [text] = sms.outbox
    both = api.post(
        "/auth/wechat/bind", {"code": "code:wx-c", "phone": "13912340009", "password": "x", "sms_code": "1"}
    )
    neither = api.post("/auth/wechat/bind", {"code": "code:wx-c", "phone": "13912340009"})
    assert both.status_code == 400 and neither.status_code == 400 and "password" in error_of(neither)["fields"]
    wrong = api.post("/auth/wechat/bind", {"code": "code:wx-c", "phone": "13912340009", "sms_code": "99999x"})
    assert wrong.status_code == 400 and list(error_of(wrong)["fields"]) == ["sms_code"]
    assert not WechatIdentity.objects.exists()
    bound = api.post("/auth/wechat/bind", {"code": "code:wx-c", "phone": "13912340009", "sms_code": text.params[0]})
    assert bound.status_code == 201 and bound.json()["agent_id"] == agent.pk
    assert WechatIdentity.objects.get().user == agent.user
    assert ApiToken.objects.filter(user=agent.user).count() == 1
