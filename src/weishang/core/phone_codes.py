"""One-time codes sent by text message to an account's phone, for a purpose: resetting a
forgotten password, binding a WeChat to the account.

``phone_code_send`` sends a six-digit code; ``phone_code_use`` checks it and, in the same
transaction, does what the code was for. The request answers the same whether or not the number
has an account, and the limits hold silently (one code a minute and five an hour per account and
purpose; twenty requests an hour per client address), so the page cannot be used to find out who
is registered or to flood a phone with messages.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import transaction
from django.db.models import F
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.core.lockout import lockout_clear
from weishang.core.models import PhoneCode
from weishang.core.sms import SmsError, sms_send
from weishang.core.validators import clean_phone

CODE_VALID = timedelta(minutes=10)
RESEND_AFTER = timedelta(seconds=60)
MAX_PER_HOUR = 5
MAX_WRONG = 5
# Requests for codes from one client address an hour, whatever the numbers (a flood of texts to
# many phones costs the brand); counted in the cache, per weishang.core.http.client_ip.
MAX_PER_ADDRESS_PER_HOUR = 20


def _hash(user_id: int, code: str, purpose: str) -> str:
    salt = "weishang.password-reset" if purpose == PhoneCode.Purpose.PASSWORD_RESET else f"weishang.{purpose}"
    return salted_hmac(salt, f"{user_id}:{code}", algorithm="sha256").hexdigest()


def _user_by_phone(phone: str):
    return get_user_model().objects.filter(phone=phone, is_active=True).first()


def _address_allows(client_ip: str | None) -> bool:
    if not client_ip:
        return True
    key = f"weishang:password-reset:{client_ip}"
    caches["shared"].add(key, 0, timeout=3600)
    try:
        count = caches["shared"].incr(key)
    except ValueError:  # expired between add and incr
        caches["shared"].set(key, 1, timeout=3600)
        count = 1
    return count <= MAX_PER_ADDRESS_PER_HOUR


def _text(purpose: str, *, brand: str, code: str, minutes: int) -> str:
    if purpose == PhoneCode.Purpose.WECHAT_BIND:
        return _(
            "【%(brand)s】Your code to bind WeChat to your account is %(code)s, valid for %(minutes)d minutes. "
            "Do not tell anyone."
        ) % {"brand": brand, "code": code, "minutes": minutes}
    return _(
        "【%(brand)s】Your password reset code is %(code)s, valid for %(minutes)d minutes. "
        "If you did not ask for it, ignore this message."
    ) % {"brand": brand, "code": code, "minutes": minutes}


def phone_code_send(*, phone: str, purpose: str, client_ip: str | None = None) -> None:
    """Send a ``purpose`` code to ``phone`` if it belongs to an active account and the limits
    allow. Earlier unused codes of the purpose stop working."""
    from weishang.core.selectors import brand_get

    phone = clean_phone(phone)
    if not _address_allows(client_ip):
        return
    user = _user_by_phone(phone)
    if user is None:
        return
    now = clock.now()
    minutes = CODE_VALID.seconds // 60
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        recent = PhoneCode.objects.filter(user=user, purpose=purpose, created_at__gte=now - timedelta(hours=1))
        if recent.filter(created_at__gte=now - RESEND_AFTER).exists() or recent.count() >= MAX_PER_HOUR:
            return
        PhoneCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )
        code = f"{secrets.randbelow(10**6):06d}"
        PhoneCode.objects.create(
            user=user, purpose=purpose, code_hash=_hash(user.pk, code, purpose), expires_at=now + CODE_VALID
        )
        text = _text(purpose, brand=brand_get().name, code=code, minutes=minutes)
        try:
            sms_send(phone=phone, purpose=purpose, params=(code, str(minutes)), text=text)
        except SmsError as exc:
            raise BusinessError(_("The text message could not be sent. Try again in a minute."), field="phone") from exc


def phone_code_use[T](*, phone: str, purpose: str, code: str, then: Callable[..., T]) -> T:
    """Check ``code`` against the latest ``purpose`` code sent to ``phone`` and, when it matches,
    call ``then(user)`` in the same transaction and spend the code; returns what ``then`` returns.

    A wrong code counts against the code (five wrong and it is spent); a used, expired or replaced
    code is refused with the same message. If ``then`` raises, the code is not spent."""
    phone = clean_phone(phone)
    code = (code or "").strip()
    wrong = BusinessError(_("The code is wrong or has expired. Ask for a new one if needed."), field="code")
    user = _user_by_phone(phone)
    if user is None:
        raise wrong
    now = clock.now()
    with transaction.atomic():
        current = (
            PhoneCode.objects.select_for_update()
            .filter(user=user, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .order_by("-pk")
            .first()
        )
        if current is None or current.attempts >= MAX_WRONG:
            raise wrong
        if constant_time_compare(current.code_hash, _hash(user.pk, code, purpose)):
            result = then(user)
            current.used_at = now
            current.save(update_fields=["used_at"])
            lockout_clear(user=user)  # the owner proved they hold the phone: the lockout ends
            return result
        PhoneCode.objects.filter(pk=current.pk).update(attempts=F("attempts") + 1)
    raise wrong
