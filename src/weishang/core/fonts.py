"""The one Chinese font every picture and PDF is drawn with (posters, certificates, QR sheets,
the policy document): the first of ``FONT_CANDIDATES`` that exists and really draws Chinese (Noto
Sans CJK from Debian's fonts-noto-cjk, which scripts/ensure-chromium installs; WenQuanYi, Droid
Sans Fallback, the macOS and Windows system fonts), or the file named by ``WEISHANG_POSTER_FONT``.
No font ships with the repository (a CJK font is 10–20 MB). See docs/decisions.md.

``pdf_document`` gives an fpdf2 document with that font registered as ``cjk``: fpdf2 embeds only
the glyphs used (a page of Chinese is tens of kilobytes) and reads the OpenType (CFF) outlines
Noto CJK has, which reportlab cannot."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)


def _glyph(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    image = Image.new("L", (48, 48))
    ImageDraw.Draw(image).text((4, 4), char, font=font, fill=255)
    return image.tobytes()


def _draws_chinese(font: ImageFont.FreeTypeFont) -> bool:
    """True if the font has glyphs for Chinese: two different characters draw differently (a font
    without them draws both as the same 'missing glyph' box, or nothing)."""
    try:
        first, second = _glyph(font, "中"), _glyph(font, "国")
    except OSError:
        return False
    return first != second and any(first) and any(second)


def _open_cjk(path: str) -> tuple[str, int] | None:
    """(path, face index) of a Simplified-Chinese face in ``path``, or None."""
    if not Path(path).is_file():
        return None
    faces = []
    for index in range(16):  # a .ttc holds several faces: prefer the SC one
        try:
            font = ImageFont.truetype(path, 24, index=index)
        except OSError:
            break
        faces.append((index, " ".join(font.getname())))
        if not path.lower().endswith(".ttc"):
            break
    faces.sort(key=lambda face: (" SC" not in face[1] and "GB" not in face[1], face[0]))
    for index, _name in faces:
        if _draws_chinese(ImageFont.truetype(path, 24, index=index)):
            return path, index
    return None


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, int] | None:
    """The Chinese-capable font the poster uses: (path, face index), or None (Pillow's own font)."""
    wanted = os.environ.get("WEISHANG_POSTER_FONT", "").strip()
    for path in ((wanted,) if wanted else ()) + FONT_CANDIDATES:
        found = _open_cjk(path)
        if found is not None:
            return found
    return None


@lru_cache(maxsize=16)
def _font_at(found: tuple[str, int] | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if found is not None:
        return ImageFont.truetype(found[0], size, index=found[1])
    return ImageFont.load_default(size=size)


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The Chinese font at ``size`` pixels for Pillow (Pillow's own font when there is none)."""
    return _font_at(cjk_font(), size)


class NoChineseFont(RuntimeError):
    """No font on this machine draws Chinese (apt-get install fonts-noto-cjk)."""


def pdf_document(*, orientation: str = "portrait") -> FPDF:
    """An A4 fpdf2 document with the Chinese font registered as ``cjk`` (regular only)."""
    found = cjk_font()
    if found is None:
        raise NoChineseFont("no CJK font: apt-get install fonts-noto-cjk (or set WEISHANG_POSTER_FONT)")
    pdf = FPDF(orientation=orientation, unit="mm", format="A4")
    pdf.add_font("cjk", fname=found[0], collection_font_number=found[1])
    pdf.set_font("cjk", size=11)
    return pdf
