"""The agent's invite poster: a PNG drawn with Pillow, with the invite QR code made by qrcode.

750 × 1334 px (a phone screen at 2×, the size WeChat users save and forward): the brand's name
on a red band, the agent's name and level, one line of invitation, the QR code to
``/join/<invite code>/``, the invite code and "long-press to scan".

Chinese needs a CJK font: ``core.fonts.cjk_font``, the one every picture and PDF uses. Without
one the poster falls back to Pillow's built-in font: the lines are drawn in English and names
keep only their Latin letters, so the poster never shows empty boxes, and the QR code and the
invite code (ASCII) are always there.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont

from weishang.core.fonts import cjk_font, font

WIDTH, HEIGHT = 750, 1334
RED, INK, MUTED, WHITE, PALE = "#c8102e", "#1f2328", "#4b5563", "#ffffff", "#fde7ea"
QR_SIDE = 420  # the QR code's target width in pixels, quiet zone included
QR_TOP = 600
QR_BORDER = 4  # modules of quiet zone, as the QR standard asks
VERSION = "1"  # part of the ETag: bump when the layout changes


@dataclass(frozen=True)
class PosterText:
    """Everything written on the poster, already in the reader's language."""

    brand: str
    name: str
    level: str
    invitation: str  # "诚邀你加入我的团队" …
    scan_hint: str  # "长按识别二维码" …
    code_label: str  # "邀请码"
    invite_code: str
    url: str


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return font(size)


def latin_only(text: str) -> str:
    """What a font without Chinese can draw of ``text``: its ASCII characters, trimmed."""
    return " ".join("".join(ch if ch.isascii() else " " for ch in text).split())


@lru_cache(maxsize=64)
def _qr_rows(url: str) -> tuple[tuple[bool, ...], ...]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QR_BORDER)
    code.add_data(url)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def qr_matrix(url: str) -> list[list[bool]]:
    """The QR code's modules for ``url``, quiet zone included (True = dark)."""
    return [list(row) for row in _qr_rows(url)]


def qr_box(url: str) -> tuple[int, int, int]:
    """(left, top, module size in pixels) of the QR code on the poster."""
    modules = len(qr_matrix(url))
    box = max(QR_SIDE // modules, 1)
    return (WIDTH - box * modules) // 2, QR_TOP, box


def etag(text: PosterText) -> str:
    """Changes whenever anything drawn would change (text, font, layout version)."""
    found = cjk_font()
    parts = [VERSION, str(found), *(getattr(text, f) for f in PosterText.__dataclass_fields__)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _centred(draw: ImageDraw.ImageDraw, y: int, text: str, font, fill: str) -> int:
    """Draw ``text`` centred at height ``y``; return the y below it."""
    if not text:
        return y
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    width = right - left
    while width > WIDTH - 60 and len(text) > 1:  # too long for the poster: clip with an ellipsis
        text = text[:-2] + "…"
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        width = right - left
    draw.text(((WIDTH - width) // 2 - left, y - top), text, font=font, fill=fill)
    return y + (bottom - top)


def render(text: PosterText, *, fallback_text: PosterText | None = None) -> bytes:
    """The poster as PNG bytes. ``fallback_text`` (English) is drawn instead of ``text`` when no
    Chinese font is found."""
    chinese = cjk_font() is not None
    if not chinese and fallback_text is not None:
        text = fallback_text
    if not chinese:
        text = PosterText(**{f: latin_only(getattr(text, f)) for f in PosterText.__dataclass_fields__})
    image = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
    draw = ImageDraw.Draw(image)

    draw.rectangle((0, 0, WIDTH, 300), fill=RED)
    _centred(draw, 110, text.brand, _font(64), WHITE)

    y = _centred(draw, 360, text.name, _font(56), INK)
    level_font = _font(32)
    if text.level:
        left, top, right, bottom = draw.textbbox((0, 0), text.level, font=level_font)
        pill_w, pill_h = right - left + 48, bottom - top + 20
        x0, y0 = (WIDTH - pill_w) // 2, y + 24
        draw.rounded_rectangle((x0, y0, x0 + pill_w, y0 + pill_h), radius=pill_h // 2, fill=PALE)
        draw.text((x0 + 24 - left, y0 + 10 - top), text.level, font=level_font, fill=RED)
    _centred(draw, 520, text.invitation, _font(36), INK)

    left, top, box = qr_box(text.url)
    for row, cells in enumerate(qr_matrix(text.url)):
        for col, dark in enumerate(cells):
            if dark:
                x, y0 = left + col * box, top + row * box
                draw.rectangle((x, y0, x + box - 1, y0 + box - 1), fill=INK)

    y = _centred(draw, QR_TOP + QR_SIDE + 40, text.scan_hint, _font(32), MUTED)
    code_line = f"{text.code_label} {text.invite_code}".strip()
    _centred(draw, y + 30, code_line, _font(40), INK)
    _centred(draw, HEIGHT - 80, text.url, _font(24), MUTED)

    out = io.BytesIO()
    image.save(out, format="PNG")  # zlib's default level: optimize=True takes three times as long for 5 % less
    return out.getvalue()


# --- posters from the brand's templates (M9) ----------------------------------------------------


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """``text`` clipped with an ellipsis to ``width`` pixels."""
    while text and draw.textlength(text, font=font) > width and len(text) > 1:
        text = text[:-2] + "…"
    return text


def render_template(template, *, name: str, level: str, url: str, product_picture=None) -> bytes:
    """A poster from a brand's template (toolkit.PosterTemplate): its background, with the QR code
    to ``url`` (quiet zone included) in the QR box, the agent's ``name`` and ``level`` at their
    places in the template's colour, and ``product_picture`` (a stored file) in its square. Without
    a Chinese font, names keep their Latin letters (as the invite poster does)."""
    with template.background.open("rb") as handle, Image.open(handle) as background:
        image = background.convert("RGB")
    draw = ImageDraw.Draw(image)
    if cjk_font() is None:
        name, level = latin_only(name), latin_only(level)
    rows = qr_matrix(url)
    box = max(template.qr_size // len(rows), 1)
    side = box * len(rows)
    draw.rectangle((template.qr_x, template.qr_y, template.qr_x + side - 1, template.qr_y + side - 1), fill=WHITE)
    for row, cells in enumerate(rows):
        for col, dark in enumerate(cells):
            if dark:
                x, y = template.qr_x + col * box, template.qr_y + row * box
                draw.rectangle((x, y, x + box - 1, y + box - 1), fill=INK)
    room = image.width - 20
    for text, x, y, size in (
        (name, template.name_x, template.name_y, template.name_size),
        (level, template.level_x, template.level_y, template.level_size),
    ):
        if size and text:
            font = _font(size)
            draw.text((x, y), _fit(draw, text, font, room - x), font=font, fill=template.text_colour)
    if product_picture and template.product_size:
        with product_picture.open("rb") as handle, Image.open(handle) as picture:
            square = picture.convert("RGB")
            square.thumbnail((template.product_size, template.product_size))
            image.paste(square, (template.product_x, template.product_y))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
