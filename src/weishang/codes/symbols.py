"""The codes themselves: random, unguessable, with a check character, read back from what a
person types or a camera scans. No Django import.

An item code is 15 random characters (the first never ``B``) of Crockford's base32 (75 bits) and
a Luhn mod 32 check character (core.checkchars); a box code is ``B``, 14 random characters and its
check character. Spaces and dashes are ignored, and a scanned lookup URL (``…/verify/?code=…``)
gives its code."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs, urlsplit

from weishang.core.checkchars import ALPHABET, VALUE, check_char, checked, grouped, normalise, random_chars

__all__ = ["ALPHABET", "VALUE", "check_char", "grouped", "normalise"]

ITEM_RANDOM = 15
BOX_RANDOM = 14
BOX_PREFIX = "B"
MAX_INPUT = 20000  # characters of pasted codes read at once


def new_item_code() -> str:
    # Never "B" first: that is how a box code starts.
    body = secrets.choice(ALPHABET.replace(BOX_PREFIX, "")) + random_chars(ITEM_RANDOM - 1)
    return body + check_char(body)


def new_box_code() -> str:
    body = BOX_PREFIX + random_chars(BOX_RANDOM)
    return body + check_char(body)


def well_formed(code: str) -> bool:
    """The right length, the alphabet, and a check character that matches."""
    return len(code) == ITEM_RANDOM + 1 and checked(code)


def is_box(code: str) -> bool:
    return code.startswith(BOX_PREFIX) and well_formed(code)


def from_scan(text: str) -> str:
    """A code from one scanned or typed token: a lookup URL's ``code`` parameter, or the token."""
    text = (text or "").strip()
    if "://" in text or text.startswith("/"):
        query = parse_qs(urlsplit(text).query)
        text = (query.get("code") or query.get("q") or [""])[0]
    return normalise(text)


def split_input(text: str) -> list[str]:
    """Codes from pasted or scanned text: one per line, or separated by commas, semicolons or
    spaces between whole codes. Duplicates are kept once, in order."""
    text = (text or "")[:MAX_INPUT]
    tokens = [t for t in re.split(r"[\n\r,;，；\t]+", text) if t.strip()]
    out: list[str] = []
    for token in tokens:
        parts = token.split() if len(normalise(token)) > ITEM_RANDOM + 1 else [token]
        out += [from_scan(p) for p in parts]
    return list(dict.fromkeys(c for c in out if c))
