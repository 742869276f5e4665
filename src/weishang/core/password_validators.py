"""Django's password validators with our own words (settings.AUTH_PASSWORD_VALIDATORS names these).

Django's stock messages read as a developer wrote them ("This password is entirely numeric.",
"确保该变量至少包含 8 字符"); these say what to do, in the user's language, from our catalog."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self):
        return _("The password needs at least %(min_length)d characters.") % {"min_length": self.min_length}

    def get_help_text(self):
        return _("At least %(min_length)d characters.") % {"min_length": self.min_length}


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    def get_error_message(self):
        return _("This password is too common and easy to guess: choose another.")

    def get_help_text(self):
        return _("Not a commonly used password.")


class NumericPasswordValidator(password_validation.NumericPasswordValidator):
    def get_error_message(self):
        return _("The password cannot be digits only: add letters.")

    def get_help_text(self):
        return _("Not digits only.")


def password_problems(password: str, user=None) -> list[str]:
    """Every message the configured validators have for ``password`` (empty: it is good)."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        return list(exc.messages)
    return []
