"""The fake WeChat server (development, tests and the demo only): the same paths, parameters,
answers and error codes as WeChat's, served by this project under ``/_fake/wechat/`` on loopback.

- ``/connect/oauth2/authorize``: the user "agrees" at once and goes back with a code, as WeChat does
  for snsapi_base; the fake user is ``?fake_user=`` (or the ``fake_wechat_user`` cookie), default
  ``wx-demo-user``.
- ``/sns/oauth2/access_token``: a code works once, for five minutes (40029 invalid code, 40163 code
  been used); a wrong appid or secret is 40125.
- ``/cgi-bin/token`` and ``/cgi-bin/ticket/getticket`` (the JS-SDK's), counting their calls;
- ``/sns/userinfo``; ``/sns/jscode2session`` (a mini-program code is ``code:<fake user>``, anything
  else is 40029).
Codes live in the cache, so the fake is stateless between runs."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from urllib.parse import urlencode, urlparse

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponseRedirect, JsonResponse

CODE_SECONDS = 300
SENT_KEY = "fake-wechat:template-messages"


def _enabled() -> None:
    if not settings.WEISHANG_WECHAT.get("FAKE"):
        raise Http404


def _error(code: int, message: str) -> JsonResponse:
    return JsonResponse({"errcode": code, "errmsg": message})


def openid_for(user: str) -> str:
    """The fake user's openid for this app: stable, like WeChat's (one per user and app)."""
    app = settings.WEISHANG_WECHAT.get("APP_ID", "")
    return "o" + hashlib.sha256(f"{app}:{user}".encode()).hexdigest()[:27]


def authorize(request):
    _enabled()
    redirect_uri = request.GET.get("redirect_uri", "")
    target = urlparse(redirect_uri)
    if request.GET.get("appid") != settings.WEISHANG_WECHAT.get("APP_ID") or target.scheme not in ("http", "https"):
        return _error(10003, "redirect_uri domain or appid mismatch")
    user = (request.GET.get("fake_user") or request.COOKIES.get("fake_wechat_user") or "wx-demo-user")[:40]
    code = secrets.token_urlsafe(16)
    cache.set(
        f"fake-wechat:code:{code}", {"user": user, "scope": request.GET.get("scope", "snsapi_base")}, CODE_SECONDS
    )
    joiner = "&" if target.query else "?"
    return HttpResponseRedirect(
        f"{redirect_uri}{joiner}{urlencode({'code': code, 'state': request.GET.get('state', '')})}"
    )


def access_token(request):
    _enabled()
    conf = settings.WEISHANG_WECHAT
    if request.GET.get("appid") != conf.get("APP_ID") or request.GET.get("secret") != conf.get("APP_SECRET"):
        return _error(40125, "invalid appsecret")
    code = request.GET.get("code", "")
    if cache.get(f"fake-wechat:used:{code}"):
        return _error(40163, "code been used")
    grant = cache.get(f"fake-wechat:code:{code}")
    if grant is None:
        return _error(40029, "invalid code")
    cache.delete(f"fake-wechat:code:{code}")
    cache.set(f"fake-wechat:used:{code}", True, CODE_SECONDS)
    token = secrets.token_urlsafe(24)
    cache.set(f"fake-wechat:token:{token}", grant["user"], 7200)
    return JsonResponse(
        {
            "access_token": token,
            "expires_in": 7200,
            "refresh_token": secrets.token_urlsafe(24),
            "openid": openid_for(grant["user"]),
            "scope": grant["scope"],
            "unionid": "u" + openid_for(grant["user"])[1:],
        }
    )


def userinfo(request):
    _enabled()
    user = cache.get(f"fake-wechat:token:{request.GET.get('access_token', '')}")
    if user is None:
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    return JsonResponse(
        {
            "openid": openid_for(user),
            "nickname": f"微信用户{user[-4:]}",
            "headimgurl": "",
            "unionid": "u" + openid_for(user)[1:],
        }
    )


def jscode2session(request):
    _enabled()
    code = request.GET.get("js_code", "")
    found = re.fullmatch(r"code:([A-Za-z0-9_-]{1,40})", code)
    if found is None:  # the fake's codes are code:<fake user>; anything else is WeChat's invalid code
        return _error(40029, "invalid code")
    user = found.group(1)
    return JsonResponse({"openid": openid_for(user), "session_key": secrets.token_urlsafe(16)})


def token(request):
    """``/cgi-bin/token`` (client_credential): 40125 for a wrong secret."""
    _enabled()
    conf = settings.WEISHANG_WECHAT
    if request.GET.get("appid") != conf.get("APP_ID") or request.GET.get("secret") != conf.get("APP_SECRET"):
        return _error(40125, "invalid appsecret")
    value = secrets.token_urlsafe(24)
    cache.set(f"fake-wechat:app-token:{value}", True, 7200)
    cache.set("fake-wechat:calls:token", (cache.get("fake-wechat:calls:token") or 0) + 1, 7200)
    return JsonResponse({"access_token": value, "expires_in": 7200})


def getticket(request):
    """``/cgi-bin/ticket/getticket?type=jsapi``: 40001 for an access token it did not give."""
    _enabled()
    if not cache.get(f"fake-wechat:app-token:{request.GET.get('access_token', '')}"):
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    cache.set("fake-wechat:calls:ticket", (cache.get("fake-wechat:calls:ticket") or 0) + 1, 7200)
    return JsonResponse(
        {"errcode": 0, "errmsg": "ok", "ticket": "fake-" + secrets.token_urlsafe(24), "expires_in": 7200}
    )


def template_send(request):
    """``/cgi-bin/message/template/send`` (POST JSON): recorded in ``sent_messages()``; 40001 for a
    token it did not give, 40003 for an openid it never made, 40037 for another template id."""
    _enabled()
    if request.method != "POST":
        return _error(43002, "require POST method")
    if not cache.get(f"fake-wechat:app-token:{request.GET.get('access_token', '')}"):
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _error(47001, "data format error")
    if not re.fullmatch(r"o[0-9a-f]{27}", str(body.get("touser", ""))):
        return _error(40003, "invalid openid")
    if body.get("template_id") != settings.WEISHANG_WECHAT.get("TEMPLATE_ID"):
        return _error(40037, "invalid template_id")
    sent = cache.get(SENT_KEY) or []
    sent.append(body)
    cache.set(SENT_KEY, sent[-500:], 86400)
    return JsonResponse({"errcode": 0, "errmsg": "ok", "msgid": 200000 + len(sent)})


def sent_messages() -> list[dict]:
    """The template messages the fake WeChat received (newest last)."""
    return cache.get(SENT_KEY) or []
