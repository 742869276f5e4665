"""A forgotten password, reset with a code sent by text message to the account's phone.

``password_reset_request`` sends a six-digit code; ``password_reset_confirm`` checks it and sets the
new password. ``password_change`` is the logged-in change (old password, then new).

A new password, either way, ends every other login: sessions, because Django checks each one
against the password's hash; device tokens, through the hooks that other apps install in
``PASSWORD_CHANGED_HOOKS`` when they are ready (the API revokes its tokens), so that core depends
on no app. The request answers the same whether or not the number has an account, and the
limits of ``core.phone_codes`` hold silently, so the page cannot be used to find out who is registered or to
flood a phone with messages.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from weishang.core.errors import BusinessError
from weishang.core.models import PhoneCode
from weishang.core.phone_codes import phone_code_send, phone_code_use

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


def password_reset_request(*, phone: str, client_ip: str | None = None) -> None:
    """Send a reset code to ``phone`` if it belongs to an active account and the limits allow
    (``core.phone_codes``). Earlier unused codes stop working."""
    phone_code_send(phone=phone, purpose=PhoneCode.Purpose.PASSWORD_RESET, client_ip=client_ip)


def password_reset_confirm(*, phone: str, code: str, new_password: str):
    """Set a new password with the latest code sent to ``phone``; returns the user.

    A wrong code counts against the code (five wrong and it is spent); a used, expired or replaced
    code is refused with the same message; a password the validators refuse leaves the code unspent."""

    def reset(user):
        password_set(user=user, new_password=new_password)
        return user

    return phone_code_use(phone=phone, purpose=PhoneCode.Purpose.PASSWORD_RESET, code=code, then=reset)
