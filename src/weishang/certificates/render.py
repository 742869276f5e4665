"""A certificate drawn: a PNG (Pillow) and a PDF (fpdf2) of the same page, from the brand's
template. The PDF carries the picture and, on top of it, the certificate's words as invisible
text (as a scanned document with OCR does), so the number, name and dates can be searched and
copied. Both are drawn on request from the certificate's own row: nothing is stored."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import date

import qrcode
from fpdf.enums import TextMode
from PIL import Image, ImageDraw, ImageFont, ImageOps

from weishang.core import checkchars
from weishang.core.fonts import font, pdf_document

WIDTH, HEIGHT = 1600, 1131  # A4 landscape at about 137 dpi
MARGIN = 150
RED, GOLD, INK, MUTED, PAPER = "#b3121f", "#b8860b", "#1f2328", "#4b5563", "#fffaf0"


@dataclass(frozen=True)
class CertificateText:
    """Everything on the page, already in the brand's words."""

    brand: str
    title: str
    statement: str
    serial: str
    name: str
    level: str
    region: str
    valid: str  # "2026-12-04 至 2027-12-03"
    issued: str
    labels: tuple[str, str, str, str, str]  # 授权编号, 授权级别, 授权区域, 有效期限, 签发日期
    scan_hint: str
    verify_url: str
    void: str = ""  # "已失效" on a certificate no longer in force


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return font(size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """Lines of ``text`` no wider than ``width``: Chinese breaks between any two characters."""
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=font) > width and line:
            lines.append(line)
            line = char.lstrip() if char == " " else char
        else:
            line += char
    return [*lines, line] if line else lines


def _qr(url: str, side: int) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(url)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB").resize((side, side))


def _seal(brand: str, side: int) -> Image.Image:
    """A red round seal: two rings, a star, the brand's name — drawn when no seal is uploaded."""
    seal = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(seal)
    red = (179, 18, 31, 215)
    draw.ellipse((4, 4, side - 4, side - 4), outline=red, width=10)
    draw.ellipse((22, 22, side - 22, side - 22), outline=red, width=3)
    cx, cy, r = side / 2, side / 2 - 18, side * 0.14
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.4
        points.append((cx + radius * math.sin(i * math.pi / 5), cy - radius * math.cos(i * math.pi / 5)))
    draw.polygon(points, fill=red)
    font = _font(30)
    name = brand[:8]
    width = draw.textlength(name, font=font)
    draw.text(((side - width) / 2, side * 0.62), name, font=font, fill=red)
    return seal


def _background(picture: Image.Image | None) -> Image.Image:
    if picture is not None:
        return ImageOps.fit(picture.convert("RGB"), (WIDTH, HEIGHT))
    page = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(page)
    draw.rectangle((30, 30, WIDTH - 30, HEIGHT - 30), outline=GOLD, width=8)
    draw.rectangle((52, 52, WIDTH - 52, HEIGHT - 52), outline=RED, width=3)
    return page


def draw_png(text: CertificateText, *, background: Image.Image | None = None, seal: Image.Image | None = None) -> bytes:
    page = _background(background)
    draw = ImageDraw.Draw(page)
    title = _font(96)
    width = draw.textlength(text.title, font=title)
    draw.text(((WIDTH - width) / 2, 95), text.title, font=title, fill=RED)
    brand = _font(40)
    width = draw.textlength(text.brand, font=brand)
    draw.text(((WIDTH - width) / 2, 220), text.brand, font=brand, fill=INK)
    body = _font(36)
    y = 310
    for line in _wrap(draw, text.statement, body, WIDTH - 2 * MARGIN)[:6]:
        draw.text((MARGIN, y), line, font=body, fill=INK)
        y += 56
    y += 24
    label, value = _font(32), _font(34)
    rows = zip(text.labels[:4], (checkchars.grouped(text.serial), text.level, text.region, text.valid), strict=True)
    for name, shown in rows:
        draw.text((MARGIN, y), f"{name}：", font=label, fill=MUTED)
        draw.text((MARGIN + 190, y - 1), shown, font=value, fill=INK)
        y += 52
    qr_side = 210
    page.paste(_qr(text.verify_url, qr_side), (MARGIN, HEIGHT - MARGIN - qr_side + 20))
    hint = _font(26)
    draw.text((MARGIN + qr_side + 20, HEIGHT - MARGIN - 20), text.scan_hint, font=hint, fill=MUTED)
    seal_side = 260
    stamp = (seal or _seal(text.brand, seal_side)).convert("RGBA")
    stamp = ImageOps.contain(stamp, (seal_side, seal_side))
    x, y_seal = WIDTH - MARGIN - seal_side - 20, HEIGHT - MARGIN - seal_side + 10
    draw.text((x - 20, y_seal + seal_side // 2 - 60), text.brand, font=_font(32), fill=INK)
    draw.text((x - 20, y_seal + seal_side // 2), f"{text.labels[4]}：{text.issued}", font=_font(28), fill=INK)
    page.paste(stamp, (x + 40, y_seal), stamp)
    if text.void:
        overlay = Image.new("RGBA", page.size, (0, 0, 0, 0))
        mark = ImageDraw.Draw(overlay)
        font = _font(220)
        w = mark.textlength(text.void, font=font)
        mark.text(((WIDTH - w) / 2, HEIGHT / 2 - 140), text.void, font=font, fill=(120, 120, 120, 110))
        page = Image.alpha_composite(page.convert("RGBA"), overlay.rotate(20, center=(WIDTH / 2, HEIGHT / 2)))
    out = io.BytesIO()
    page.convert("RGB").save(out, "PNG", compress_level=6)
    return out.getvalue()


def draw_pdf(text: CertificateText, png: bytes) -> bytes:
    """An A4 landscape page: the certificate's picture, and its words as invisible text."""
    pdf = pdf_document(orientation="landscape")
    pdf.set_title(f"{text.title} {text.serial}")
    pdf.set_author(text.brand)
    pdf.add_page()
    pdf.image(io.BytesIO(png), x=0, y=0, w=297, h=210)
    pdf.text_mode = TextMode.INVISIBLE
    pdf.set_font("cjk", size=10)
    pdf.set_xy(20, 60)
    values = (text.serial, text.level, text.region, text.valid)
    words = [
        text.title,
        text.brand,
        text.statement,
        *(f"{name}：{value}" for name, value in zip(text.labels[:4], values, strict=True)),
        f"{text.labels[4]}：{text.issued}",
        text.name,
        text.void,
    ]
    pdf.multi_cell(w=257, h=6, text="\n".join(w for w in words if w))
    return bytes(pdf.output())


def valid_text(start: date, end: date, joiner: str) -> str:
    return f"{start:%Y-%m-%d} {joiner} {end:%Y-%m-%d}"
