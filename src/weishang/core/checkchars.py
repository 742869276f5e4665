"""Codes people type from paper: Crockford's base32 (no I, L, O or U: what is read as I or L is 1,
O is 0) with a Luhn mod 32 check character, which catches any one wrong character and most swaps
of two. Used by the security codes and the certificate serials. No Django import."""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
VALUE = {c: i for i, c in enumerate(ALPHABET)}
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})


def check_char(body: str) -> str:
    """Luhn mod 32 over ``body`` (characters of ``ALPHABET``)."""
    factor, total = 2, 0
    for char in reversed(body):
        addend = factor * VALUE[char]
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def checked(body: str) -> bool:
    """Whether the last character of ``body`` is the check character of the rest."""
    return len(body) > 1 and all(c in VALUE for c in body) and check_char(body[:-1]) == body[-1]


def random_chars(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def normalise(text: str) -> str:
    """As typed: upper case, spaces and dashes gone, I/L read as 1 and O as 0."""
    return re.sub(r"[\s\-]", "", text or "").upper().translate(_CONFUSABLE)


def grouped(code: str) -> str:
    """For printing and reading aloud: groups of four."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
