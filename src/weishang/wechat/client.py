"""A thin client of the WeChat HTTP API this app uses: the 公众号's web OAuth (code → openid, the
user's name and picture) and the mini-program's code2Session. Written here rather than taken from
wechatpy (last release 2021, see docs/decisions.md): four GET calls and their error codes.

Every answer is JSON; an error is ``{"errcode": n, "errmsg": "..."}`` and becomes ``WechatError``.
The base URLs come from settings, so tests and the demo point them at the fake (``fake.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.cache import caches

TIMEOUT = 5


class WechatError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class WechatUser:
    openid: str
    unionid: str = ""
    nickname: str = ""
    avatar_url: str = ""


def _conf() -> dict:
    return settings.WEISHANG_WECHAT


def _get(path: str, params: dict) -> dict:
    try:
        answer = requests.get(f"{_conf()['API_BASE'].rstrip('/')}{path}", params=params, timeout=TIMEOUT)
        body = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise WechatError(-1, f"WeChat did not answer: {exc.__class__.__name__}") from None
    if not isinstance(body, dict):
        raise WechatError(-1, "WeChat's answer is not an object")
    if body.get("errcode"):
        raise WechatError(int(body["errcode"]), str(body.get("errmsg", "")))
    return body


def authorize_url(*, redirect_uri: str, state: str, scope: str = "snsapi_base") -> str:
    """Where the phone is sent to sign in with WeChat (it comes back to ``redirect_uri`` with a code)."""
    query = urlencode(
        {
            "appid": _conf()["APP_ID"],
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": state,
        }
    )
    return f"{_conf()['OPEN_BASE'].rstrip('/')}/connect/oauth2/authorize?{query}#wechat_redirect"


def oauth_user(code: str) -> WechatUser:
    """The code WeChat gave the phone, exchanged for the user's openid (and, with snsapi_userinfo,
    their nickname and picture)."""
    conf = _conf()
    token = _get(
        "/sns/oauth2/access_token",
        {"appid": conf["APP_ID"], "secret": conf["APP_SECRET"], "code": code, "grant_type": "authorization_code"},
    )
    user = WechatUser(openid=str(token["openid"]), unionid=str(token.get("unionid", "")))
    if "snsapi_userinfo" in str(token.get("scope", "")):
        info = _get("/sns/userinfo", {"access_token": token["access_token"], "openid": user.openid, "lang": "zh_CN"})
        user = WechatUser(
            openid=user.openid,
            unionid=str(info.get("unionid", user.unionid)),
            nickname=str(info.get("nickname", ""))[:64],
            avatar_url=str(info.get("headimgurl", ""))[:300],
        )
    return user


def mini_program_user(js_code: str) -> WechatUser:
    """The mini-program's wx.login code, exchanged for the user's openid (code2Session)."""
    conf = _conf()
    body = _get(
        "/sns/jscode2session",
        {
            "appid": conf["MINI_APP_ID"] or conf["APP_ID"],
            "secret": conf["MINI_APP_SECRET"] or conf["APP_SECRET"],
            "js_code": js_code,
            "grant_type": "authorization_code",
        },
    )
    return WechatUser(openid=str(body["openid"]), unionid=str(body.get("unionid", "")))


def access_token() -> str:
    """The 公众号's access token (client_credential), cached until a little before it expires."""
    conf = _conf()
    key = f"wechat:access_token:{conf['APP_ID']}"
    token = caches["shared"].get(key)
    if token is None:
        body = _get(
            "/cgi-bin/token", {"grant_type": "client_credential", "appid": conf["APP_ID"], "secret": conf["APP_SECRET"]}
        )
        token = str(body["access_token"])
        caches["shared"].set(key, token, max(int(body.get("expires_in", 7200)) - 300, 60))
    return token


def jsapi_ticket() -> str:
    """The JS-SDK ticket, cached until a little before it expires (WeChat limits how often it is asked)."""
    key = f"wechat:jsapi_ticket:{_conf()['APP_ID']}"
    ticket = caches["shared"].get(key)
    if ticket is None:
        body = _get("/cgi-bin/ticket/getticket", {"access_token": access_token(), "type": "jsapi"})
        ticket = str(body["ticket"])
        caches["shared"].set(key, ticket, max(int(body.get("expires_in", 7200)) - 300, 60))
    return ticket


def template_send(*, openid: str, template_id: str, url: str, data: dict) -> str:
    """A template message to a user of the 公众号; returns WeChat's msgid."""
    try:
        answer = requests.post(
            f"{_conf()['API_BASE'].rstrip('/')}/cgi-bin/message/template/send",
            params={"access_token": access_token()},
            json={"touser": openid, "template_id": template_id, "url": url, "data": data},
            timeout=TIMEOUT,
        )
        body = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise WechatError(-1, f"WeChat did not answer: {exc.__class__.__name__}") from None
    if not isinstance(body, dict) or body.get("errcode"):
        raise WechatError(int(body.get("errcode", -1)) if isinstance(body, dict) else -1, str(body))
    return str(body.get("msgid", ""))
