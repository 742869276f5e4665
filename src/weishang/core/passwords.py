"""A forgotten password, reset with a code sent by text message to the account's phone.

``password_reset_request`` sends a six-digit code; ``password_reset_confirm`` checks it and sets the
new password. ``password_change`` is the logged-in change (old password, then new).

A new password, either way, ends every other login: sessions, because Django checks each one
against the password's hash; device tokens, through the hooks that other apps install in
``PASSWORD_CHANGED_HOOKS`` when they are ready (the API revokes its tokens), so that core depends
on no app. The request answers the same whether or not the number has an account, and the
limits below hold silently, so the page cannot be used to find out who is registered or to
flood a phone with messages.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import get_user_model, password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.core.lockout import lockout_clear
from weishang.core.models import PasswordResetCode
from weishang.core.selectors import brand_get
from weishang.core.sms import SmsError, sms_send
from weishang.core.validators import normalize_phone, validate_phone

CODE_VALID = timedelta(minutes=10)
RESEND_AFTER = timedelta(seconds=60)
MAX_PER_HOUR = 5
MAX_WRONG = 5
# Requests for codes from one client address an hour, whatever the numbers (a flood of texts to
# many phones costs the brand); counted in the cache, per weishang.core.http.client_ip.
MAX_PER_ADDRESS_PER_HOUR = 20

# Called as hook(user=..., keep=...) in the transaction that sets a new password; ``keep`` is the
# credential making the change (an API device token), which stays logged in. Installed by apps.
PASSWORD_CHANGED_HOOKS: list[Callable[..., object]] = []


def password_set(*, user, new_password: str, keep=None, field: str = "new_password1") -> None:
    """Validate and set ``new_password`` and log every other device out. Runs in the caller's
    transaction (every caller is a service)."""
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise BusinessError(" ".join(exc.messages), field=field) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    for hook in PASSWORD_CHANGED_HOOKS:
        hook(user=user, keep=keep)


@transaction.atomic
def password_change(*, user, old_password: str, new_password: str, keep=None, field: str = "new_password1"):
    """The logged-in change: the old password first. Other sessions and devices are logged out;
    the caller keeps its own session (``update_session_auth_hash``) or token (``keep``)."""
    if not user.check_password(old_password or ""):
        raise BusinessError(
            _("Your old password was entered incorrectly. Please enter it again."), field="old_password"
        )
    password_set(user=user, new_password=new_password, keep=keep, field=field)
    return user


def _hash(user_id: int, code: str) -> str:
    return salted_hmac("weishang.password-reset", f"{user_id}:{code}", algorithm="sha256").hexdigest()


def _clean_phone(phone: str) -> str:
    phone = normalize_phone(phone)
    try:
        validate_phone(phone)
    except ValidationError as exc:
        raise BusinessError(exc.messages[0], field="phone") from exc
    return phone


def _user_by_phone(phone: str):
    return get_user_model().objects.filter(phone=phone, is_active=True).first()


def _address_allows(client_ip: str | None) -> bool:
    if not client_ip:
        return True
    key = f"weishang:password-reset:{client_ip}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count <= MAX_PER_ADDRESS_PER_HOUR


def password_reset_request(*, phone: str, client_ip: str | None = None) -> None:
    """Send a reset code to ``phone`` if it belongs to an active account and the limits allow
    (one code a minute, five an hour per account; twenty requests an hour per client address).
    Earlier unused codes stop working."""
    phone = _clean_phone(phone)
    if not _address_allows(client_ip):
        return
    user = _user_by_phone(phone)
    if user is None:
        return
    now = clock.now()
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        recent = PasswordResetCode.objects.filter(user=user, created_at__gte=now - timedelta(hours=1))
        if recent.filter(created_at__gte=now - RESEND_AFTER).exists() or recent.count() >= MAX_PER_HOUR:
            return
        PasswordResetCode.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
        code = f"{secrets.randbelow(10**6):06d}"
        PasswordResetCode.objects.create(user=user, code_hash=_hash(user.pk, code), expires_at=now + CODE_VALID)
        text = _(
            "【%(brand)s】Your password reset code is %(code)s, valid for %(minutes)d minutes. "
            "If you did not ask for it, ignore this message."
        ) % {"brand": brand_get().name, "code": code, "minutes": CODE_VALID.seconds // 60}
        try:
            sms_send(phone=phone, text=text)
        except SmsError as exc:
            raise BusinessError(_("The text message could not be sent. Try again in a minute."), field="phone") from exc


def password_reset_confirm(*, phone: str, code: str, new_password: str):
    """Set a new password with the latest code sent to ``phone``; returns the user.

    A wrong code counts against the code (five wrong and it is spent); a used, expired or replaced
    code is refused with the same message."""
    phone = _clean_phone(phone)
    code = (code or "").strip()
    wrong = BusinessError(_("The code is wrong or has expired. Ask for a new one if needed."), field="code")
    user = _user_by_phone(phone)
    if user is None:
        raise wrong
    now = clock.now()
    with transaction.atomic():
        current = (
            PasswordResetCode.objects.select_for_update()
            .filter(user=user, used_at__isnull=True, expires_at__gt=now)
            .order_by("-pk")
            .first()
        )
        if current is None or current.attempts >= MAX_WRONG:
            raise wrong
        matches = constant_time_compare(current.code_hash, _hash(user.pk, code))
        if matches:
            password_set(user=user, new_password=new_password)
            current.used_at = now
            current.save(update_fields=["used_at"])
            lockout_clear(user=user)  # the owner proved they hold the phone: the lockout ends
            return user
        PasswordResetCode.objects.filter(pk=current.pk).update(attempts=F("attempts") + 1)
    raise wrong
