"""Signing in from the brand's mini-program (M11): the app's ``wx.login`` code, exchanged with
WeChat (code2Session), signs in the account its WeChat is bound to, with a device token as
``POST /auth/login`` gives. A WeChat not bound yet answers 409 ``wechat_not_bound``: the app asks for
the phone and password (or a code texted by ``/auth/wechat/sms-code``) once and calls
``/auth/wechat/bind`` with a fresh ``wx.login`` code (a code works once)."""

# No "from __future__ import annotations": django-ninja reads the views' annotations in its own
# module's namespace when they are wrapped.
from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from weishang.api import services as api_services
from weishang.api.errors import ERRORS
from weishang.api.routes.auth import LoginOut
from weishang.api.throttles import IpThrottle
from weishang.channel.selectors import agent_for_user
from weishang.core.errors import BusinessError, Conflict
from weishang.core.http import client_ip
from weishang.wechat import client, services
from weishang.wechat.models import AppKind

router = Router(tags=["auth"])


class WechatIn(Schema):
    code: str = Field(..., min_length=1, max_length=128, description="the mini-program's wx.login code")
    device: str = Field("", max_length=100, description="a name for this device, shown in the device list")


class WechatBindIn(WechatIn):
    phone: str = Field(..., min_length=1, max_length=40, description="the agent's phone (staff: username)")
    password: str = Field("", max_length=128, description="the account's password, or leave empty and give sms_code")
    sms_code: str = Field("", max_length=6, description="the code texted by POST /auth/wechat/sms-code")


class SmsCodeIn(Schema):
    phone: str = Field(..., min_length=1, max_length=20)


class SmsCodeOut(Schema):
    detail: str


def _wechat_user(code: str) -> client.WechatUser:
    if not settings.WEISHANG_WECHAT.get("ENABLED"):
        raise Http404
    try:
        return client.mini_program_user(code)
    except client.WechatError as exc:
        raise BusinessError(
            _("WeChat sign-in did not work (%(code)s). Try again.") % {"code": exc.code}, field="code", code="wechat"
        ) from None


def _out(token, secret) -> LoginOut:
    agent = agent_for_user(token.user)
    return LoginOut(token=secret, device_id=token.pk, agent_id=agent.pk if agent else None)


@router.post(
    "/wechat",
    response={201: LoginOut, **ERRORS},
    auth=None,
    throttle=[IpThrottle("login")],
    summary="Sign in from the mini-program with a wx.login code",
)
def wechat_login(request, payload: WechatIn):
    wechat = _wechat_user(payload.code)
    identity = services.identity_for(kind=AppKind.MINI, openid=wechat.openid)
    if identity is None or not identity.user.is_active:
        raise Conflict(
            _("This WeChat is not bound to an account yet: sign in once with your phone and password."),
            field="code",
            code="wechat_not_bound",
        )
    services.wechat_signed_in(identity=identity)
    return Status(201, _out(*api_services.token_create(user=identity.user, device=payload.device)))


@router.post(
    "/wechat/bind",
    response={201: LoginOut, **ERRORS},
    auth=None,
    throttle=[IpThrottle("login")],
    summary="Bind the mini-program's WeChat to my account (phone and password, once) and sign in",
)
def wechat_bind(request, payload: WechatBindIn):
    if bool(payload.password) == bool(payload.sms_code):
        raise BusinessError(_("Give your password or the code from the text message."), field="password")
    wechat = _wechat_user(payload.code)
    if payload.sms_code:
        try:
            identity = services.wechat_bind_by_code(
                phone=payload.phone, code=payload.sms_code, wechat=wechat, kind=AppKind.MINI
            )
        except BusinessError as exc:
            if exc.field == "code":  # here "code" is the wx.login code: the texted one is sms_code
                exc.field = "sms_code"
            raise
        return Status(201, _out(*api_services.token_create(user=identity.user, device=payload.device)))
    token, secret = api_services.token_login(
        phone=payload.phone, password=payload.password, device=payload.device, request=request
    )
    try:
        services.wechat_bind(user=token.user, wechat=wechat, kind=AppKind.MINI, how="password")
    except BusinessError:
        api_services.token_revoke(token=token, by=token.user)  # the login stands only with the binding
        raise
    return Status(201, _out(token, secret))


@router.post(
    "/wechat/sms-code",
    response={202: SmsCodeOut, **ERRORS},
    auth=None,
    throttle=[IpThrottle("login")],
    summary="Text a code to bind WeChat with (the same answer whether or not the number has an account)",
)
def wechat_sms_code(request, payload: SmsCodeIn):
    if not settings.WEISHANG_WECHAT.get("ENABLED"):
        raise Http404
    services.wechat_bind_code_send(phone=payload.phone, client_ip=client_ip(request))
    return Status(202, SmsCodeOut(detail=_("If this number has an account, a code is on its way.")))
