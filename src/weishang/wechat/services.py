"""Binding a WeChat identity to an account (once, after the person proved the account is theirs
with its password or an SMS code), signing in with it, and unbinding; every bind and unbind is
written to ``WechatBindingEvent``."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from weishang.core import clock
from weishang.core.errors import Conflict, NotFound
from weishang.core.models import PhoneCode
from weishang.core.phone_codes import phone_code_send, phone_code_use
from weishang.wechat.client import WechatUser
from weishang.wechat.models import BindingAction, WechatBindingEvent, WechatIdentity


def identity_for(*, kind: str, openid: str) -> WechatIdentity | None:
    return WechatIdentity.objects.select_related("user").filter(kind=kind, openid=openid).first()


@transaction.atomic
def wechat_bind(*, user, wechat: WechatUser, kind: str, how: str, by=None) -> WechatIdentity:
    """Bind ``wechat`` to ``user``. A WeChat already bound to another account, or an account
    already bound to another WeChat, is refused (unbind first)."""
    taken = identity_for(kind=kind, openid=wechat.openid)
    if taken is not None and taken.user_id != user.pk:
        raise Conflict(_("This WeChat is bound to another account."), field="wechat", code="wechat_taken")
    if taken is not None:
        return taken
    if WechatIdentity.objects.filter(user=user, kind=kind).exists():
        raise Conflict(
            _("Your account is bound to another WeChat: unbind it first."), field="wechat", code="wechat_bound"
        )
    try:
        with transaction.atomic():
            identity = WechatIdentity.objects.create(
                user=user,
                kind=kind,
                openid=wechat.openid,
                unionid=wechat.unionid,
                nickname=wechat.nickname,
                avatar_url=wechat.avatar_url,
                last_sign_in_at=clock.now(),
            )
    except IntegrityError:  # the same WeChat, bound a moment ago by a second tap
        raise Conflict(_("This WeChat is bound to another account."), field="wechat", code="wechat_taken") from None
    WechatBindingEvent.objects.create(
        user=user, kind=kind, openid=wechat.openid, action=BindingAction.BOUND, how=how, by=by or user
    )
    return identity


@transaction.atomic
def wechat_signed_in(*, identity: WechatIdentity) -> None:
    WechatIdentity.objects.filter(pk=identity.pk).update(last_sign_in_at=clock.now())


@transaction.atomic
def wechat_unbind(*, user, kind: str, by) -> None:
    identity = WechatIdentity.objects.select_for_update().filter(user=user, kind=kind).first()
    if identity is None:
        raise NotFound(_("Your account is not bound to WeChat."), field="wechat")
    WechatBindingEvent.objects.create(
        user=user, kind=kind, openid=identity.openid, action=BindingAction.UNBOUND, how="", by=by
    )
    identity.delete()


def wechat_bind_code_send(*, phone: str, client_ip: str | None = None) -> None:
    """Text a code to the account with this phone, to bind a WeChat with (no password needed).
    Answers the same whether or not the number has an account."""
    phone_code_send(phone=phone, purpose=PhoneCode.Purpose.WECHAT_BIND, client_ip=client_ip)


def wechat_bind_by_code(*, phone: str, code: str, wechat: WechatUser, kind: str) -> WechatIdentity:
    """Bind ``wechat`` to the account whose phone received ``code``; the code is spent only if the
    binding is made."""

    def bind(user) -> WechatIdentity:
        return wechat_bind(user=user, wechat=wechat, kind=kind, how="sms")

    return phone_code_use(phone=phone, purpose=PhoneCode.Purpose.WECHAT_BIND, code=code, then=bind)
