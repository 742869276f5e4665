"""Input checks shared by forms, the API and services."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Mainland China mobile numbers: 11 ASCII digits starting 1[3-9]. (\d would also accept
# full-width and other Unicode digits; those are normalised to ASCII first, see below.)
PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")
# Resident identity card: 17 digits and a check digit (0-9 or X).
ID_NUMBER_RE = re.compile(r"^[0-9]{17}[0-9X]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def to_ascii(value: str) -> str:
    """Full-width characters (１３８, Ｘ, typed on Chinese keyboards) to their ASCII forms."""
    return unicodedata.normalize("NFKC", value or "")


def normalize_phone(value: str) -> str:
    digits = re.sub(r"[\s-]", "", to_ascii(value))
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def validate_phone(value: str) -> None:
    if not PHONE_RE.match(value or ""):
        raise ValidationError(_("Enter an 11-digit mainland mobile number, such as 13800138000."), code="invalid_phone")


def clean_phone(value: str) -> str:
    """A services' phone input, normalized; a bad one is a ``BusinessError`` on the field ``phone``."""
    from weishang.core.errors import BusinessError

    phone = normalize_phone(value or "")
    try:
        validate_phone(phone)
    except ValidationError as exc:
        raise BusinessError(exc.messages[0], field="phone") from exc
    return phone


def id_number_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def validate_id_number(value: str) -> None:
    value = (value or "").upper()
    if not ID_NUMBER_RE.match(value) or id_number_check_digit(value[:17]) != value[17]:
        raise ValidationError(_("Enter a valid 18-character resident ID number."), code="invalid_id_number")


def mask_id_number(value: str) -> str:
    """110101********1234 — enough to recognise, not enough to misuse."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_name(value: str) -> str:
    """A person's name as the public may see it: 王* , 王*芳, 欧阳**锋 (first and last character)."""
    value = (value or "").strip()
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value or "") == 11 else value
