"""The codes themselves: random, unguessable, with a check character, read back from what a
person types or a camera scans. No Django import.

An item code is 15 random characters (the first never ``B``) of Crockford's base32 (75 bits) and a Luhn mod 32 check
character; a box code is ``B`` and 14 random characters and its check character. Crockford's
alphabet leaves out I, L, O and U, so what is read as I or L is 1 and O is 0; spaces and dashes
are ignored, and a scanned lookup URL (``…/verify/?code=…``) gives its code."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs, urlsplit

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
VALUE = {c: i for i, c in enumerate(ALPHABET)}
ITEM_RANDOM = 15
BOX_RANDOM = 14
BOX_PREFIX = "B"
MAX_INPUT = 20000  # characters of pasted codes read at once
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})


def check_char(body: str) -> str:
    """Luhn mod 32 over ``body``: catches any one wrong character and most swaps of two."""
    factor, total = 2, 0
    for char in reversed(body):
        addend = factor * VALUE[char]
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def _random(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def new_item_code() -> str:
    # Never "B" first: that is how a box code starts.
    body = secrets.choice(ALPHABET.replace(BOX_PREFIX, "")) + _random(ITEM_RANDOM - 1)
    return body + check_char(body)


def new_box_code() -> str:
    body = BOX_PREFIX + _random(BOX_RANDOM)
    return body + check_char(body)


def normalise(text: str) -> str:
    """One code as typed: upper case, spaces and dashes gone, I/L read as 1 and O as 0."""
    return re.sub(r"[\s\-]", "", text or "").upper().translate(_CONFUSABLE)


def well_formed(code: str) -> bool:
    """The right length, the alphabet, and a check character that matches."""
    if len(code) != ITEM_RANDOM + 1 or any(c not in VALUE for c in code):
        return False
    return check_char(code[:-1]) == code[-1]


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


def grouped(code: str) -> str:
    """For printing and reading aloud: groups of four."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
