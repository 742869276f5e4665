"""Signing in with WeChat on the phone pages (M11): inside WeChat's browser the login page goes
to the 公众号's OAuth by itself (``/wx/login/``); WeChat comes back with a code (``/wx/callback/``);
a WeChat bound to an account signs it in; an unbound one is bound once, after the person proves
the account is theirs with its password (the login lockout applies) or a code texted to its phone
(``/wx/bind/``). 我的 shows
the binding and unbinds it. Phone and password keep working everywhere."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlparse

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from weishang.core.errors import BusinessError
from weishang.core.http import client_ip
from weishang.core.selectors import brand_get
from weishang.web.forms import WechatBindCodeForm, WechatBindForm
from weishang.wechat import client, jssdk, services
from weishang.wechat.models import AppKind


def _backend() -> str:
    """The project's own sign-in backend (phone or username), for a session WeChat opened."""
    return next(b for b in settings.AUTHENTICATION_BACKENDS if "lockout" not in b.lower() and "axes" not in b.lower())


PENDING = "wechat_pending"
# A consumer's 公众号 openid (asked silently by snsapi_base, bound to no account) for paying by JSAPI
# in a shop, and whether it was asked already in this session (asked once, so a refusal never loops).
PAYER_OPENID = "wechat_payer_openid"
PAYER_ASKED = "wechat_payer_asked"


def payer_openid_needed(request) -> bool:
    """Inside WeChat, a visitor whose openid this session has not asked for yet."""
    return enabled() and in_wechat(request) and not request.session.get(PAYER_ASKED)


def payer_openid_url(request) -> str:
    """Where to send the visitor to ask WeChat, silently, who they are, and come back here."""
    return reverse("web:wechat_start") + "?" + urlencode({"payer": "1", "next": request.get_full_path()})


def in_wechat(request) -> bool:
    return "MicroMessenger" in request.headers.get("User-Agent", "")


def enabled() -> bool:
    return bool(settings.WEISHANG_WECHAT.get("ENABLED"))


def share_context(request, *, title: str, desc: str, image: str = "") -> dict:
    """A page's share card for ``web/_share.html``: WeChat's (inside WeChat's browser) and Open Graph."""
    return {
        "share_title": title[:60],
        "share_desc": desc[:120],
        "share_image": request.build_absolute_uri(image) if image else "",
        "share_wechat": enabled() and in_wechat(request),
        "share_js": static("web/share.js"),
    }


def _next(request, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}) and value.startswith("/"):
        return value
    return reverse("web:home")


def wechat_start(request):
    if not enabled():
        raise Http404
    state = secrets.token_urlsafe(16)
    request.session["wechat_state"] = state
    request.session["wechat_next"] = _next(request, request.GET.get("next"))
    payer = request.GET.get("payer") == "1"
    request.session["wechat_payer"] = payer
    if payer:
        request.session[PAYER_ASKED] = True
    scope = "snsapi_userinfo" if request.GET.get("profile") == "1" and not payer else "snsapi_base"
    return redirect(
        client.authorize_url(
            redirect_uri=request.build_absolute_uri(reverse("web:wechat_callback")), state=state, scope=scope
        )
    )


def _failed(request, text: str, status: int = 400):
    return render(request, "web/wechat_failed.html", {"brand": brand_get(), "text": text}, status=status)


def wechat_callback(request):
    if not enabled():
        raise Http404
    expected = request.session.pop("wechat_state", None)
    payer = request.session.pop("wechat_payer", False)
    state, code = request.GET.get("state", ""), request.GET.get("code", "")
    valid = expected and secrets.compare_digest(expected, state) and code and len(code) <= 128
    if payer:  # a shop's consumer: only their openid, for JSAPI; without it they pay by QR code
        target = request.session.pop("wechat_next", reverse("web:home"))
        try:
            if valid:
                request.session[PAYER_OPENID] = client.oauth_user(code).openid
        except client.WechatError:
            pass
        return redirect(target)
    if not valid:
        return _failed(request, _("This WeChat sign-in link is not valid any more. Try again."))
    try:
        wechat = client.oauth_user(code)
    except client.WechatError as exc:
        status = 502 if exc.code == -1 else 400
        return _failed(request, _("WeChat sign-in did not work (%(code)s). Try again.") % {"code": exc.code}, status)
    identity = services.identity_for(kind=AppKind.MP, openid=wechat.openid)
    target = request.session.pop("wechat_next", reverse("web:home"))
    if identity is not None and request.user.is_authenticated and identity.user_id != request.user.pk:
        return _failed(request, _("This WeChat is bound to another account."), 409)
    if identity is not None and identity.user.is_active:
        login(request, identity.user, backend=_backend())
        services.wechat_signed_in(identity=identity)
        return redirect(target)
    if identity is None and request.user.is_authenticated:  # 我的 → bind: the session proves the account
        try:
            services.wechat_bind(user=request.user, wechat=wechat, kind=AppKind.MP, how="session")
        except BusinessError as exc:
            return _failed(request, str(exc.message), exc.status)
        messages.success(request, _("Your WeChat is bound: next time WeChat signs you in."))
        return redirect("web:me")
    if identity is not None:  # bound to an account that is disabled
        return _failed(request, _("The account this WeChat is bound to is disabled."), 403)
    request.session[PENDING] = {**wechat.__dict__, "next": target}
    return redirect("web:wechat_bind")


def _bound(request, user, pending):
    request.session.pop(PENDING, None)
    login(request, user, backend=_backend())
    messages.success(request, _("Your WeChat is bound: next time WeChat signs you in."))
    return redirect(pending.get("next") or "web:home")


def _pending_wechat(pending) -> client.WechatUser:
    return client.WechatUser(**{k: pending[k] for k in ("openid", "unionid", "nickname", "avatar_url")})


def wechat_bind(request):
    """Bind the WeChat just signed in with to the account whose phone and password are given, or
    whose phone received the code texted from this page (``action=send``, then ``action=code``)."""
    pending = request.session.get(PENDING)
    if not enabled() or not pending:
        return redirect("web:login")
    action = request.POST.get("action", "password") if request.method == "POST" else ""
    form = WechatBindForm(request.POST if action == "password" else None)
    code_form = WechatBindCodeForm(request.POST if action in ("send", "code") else None)
    status, code_sent = 200, False
    if action == "password":
        status = 400
        if form.is_valid():
            user = authenticate(request, username=form.cleaned_data["phone"], password=form.cleaned_data["password"])
            if user is None:
                form.add_error(None, _("Phone number and password do not match, or the account is disabled."))
            else:
                try:
                    services.wechat_bind(user=user, wechat=_pending_wechat(pending), kind=AppKind.MP, how="password")
                except BusinessError as exc:
                    form.add_error(None, str(exc.message))
                    status = exc.status
                else:
                    return _bound(request, user, pending)
    elif action in ("send", "code"):
        status = 400
        if code_form.is_valid():
            phone, code = code_form.cleaned_data["phone"], code_form.cleaned_data["code"]
            try:
                if action == "send":
                    services.wechat_bind_code_send(phone=phone, client_ip=client_ip(request))
                    status, code_sent = 200, True
                elif not code:
                    code_form.add_error("code", _("Enter the code from the text message."))
                else:
                    identity = services.wechat_bind_by_code(
                        phone=phone, code=code, wechat=_pending_wechat(pending), kind=AppKind.MP
                    )
                    return _bound(request, identity.user, pending)
            except BusinessError as exc:
                code_form.add_error(exc.field if exc.field in code_form.fields else None, str(exc.message))
                status = exc.status
    return render(
        request,
        "web/wechat_bind.html",
        {
            "brand": brand_get(),
            "form": form,
            "code_form": code_form,
            "code_sent": code_sent,
            "by_code": action in ("send", "code"),
            "pending": pending,
        },
        status=status,
    )


def jssdk_config(request):
    """``wx.config`` for a page of this site (``?url=``, its address without the ``#`` part): the
    signature is made here with the cached jsapi_ticket. Another site's address is refused."""
    if not enabled():
        raise Http404
    url = request.GET.get("url", "").split("#")[0]
    parsed = urlparse(url)
    if len(url) > 500 or parsed.scheme not in ("http", "https") or parsed.netloc != request.get_host():
        return JsonResponse({"error": _("A page of this site is needed.")}, status=400)
    try:
        config = jssdk.page_config(url)
    except client.WechatError as exc:
        return JsonResponse(
            {"error": _("WeChat sign-in did not work (%(code)s). Try again.") % {"code": exc.code}}, status=502
        )
    return JsonResponse({**config, "jsApiList": ["updateAppMessageShareData", "updateTimelineShareData"]})


@login_required
@require_POST
def wechat_unbind(request):
    try:
        services.wechat_unbind(user=request.user, kind=AppKind.MP, by=request.user)
    except BusinessError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("WeChat unbound: sign in with your phone and password."))
    return redirect("web:me")
