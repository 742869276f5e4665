"""The channels a notification goes out by besides the bell: a WeChat template message to the
person's bound 公众号 identity, and a text message to their phone (``core.sms``'s backend). Each
``send`` returns the provider's reference or raises ``ChannelError``."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from weishang.core.sms import SmsError, sms_send
from weishang.notifications.models import Channel, Notification
from weishang.wechat import client as wechat
from weishang.wechat.models import AppKind, WechatIdentity


class ChannelError(Exception):
    pass


def wechat_bound(user_ids) -> set[int]:
    """Which of ``user_ids`` have bound their 公众号 WeChat (one query)."""
    return set(WechatIdentity.objects.filter(user_id__in=user_ids, kind=AppKind.MP).values_list("user_id", flat=True))


def wechat_openid(user_id: int) -> str | None:
    return WechatIdentity.objects.filter(user_id=user_id, kind=AppKind.MP).values_list("openid", flat=True).first()


def _send_wechat(notification: Notification, text: str, link: str) -> str:
    openid = wechat_openid(notification.recipient_id)
    conf = settings.WEISHANG_WECHAT
    if openid is None or not conf.get("ENABLED") or not conf.get("TEMPLATE_ID"):
        raise ChannelError("not bound to WeChat")
    data = {
        conf["TEMPLATE_TEXT_FIELD"]: {"value": text[:20]},  # a template's thing field holds 20 characters
        conf["TEMPLATE_TIME_FIELD"]: {"value": f"{timezone.localtime(notification.created_at):%Y-%m-%d %H:%M}"},
    }
    try:
        return wechat.template_send(openid=openid, template_id=conf["TEMPLATE_ID"], url=link, data=data)
    except wechat.WechatError as exc:
        raise ChannelError(f"WeChat {exc.code}: {exc.message}"[:200]) from None


def _send_sms(notification: Notification, text: str, link: str) -> str:
    try:
        phone = notification.recipient.phone
    except ObjectDoesNotExist:
        phone = ""
    if not phone:
        raise ChannelError("no phone")
    try:
        # The template registered for notices fills one variable, which providers cap at 12 characters.
        return sms_send(phone=phone, purpose="notice", params=(text[:12],), text=text[:70])
    except SmsError as exc:
        raise ChannelError(str(exc)[:200]) from None


SENDERS: dict[str, Callable[[Notification, str, str], str]] = {Channel.WECHAT: _send_wechat, Channel.SMS: _send_sms}
