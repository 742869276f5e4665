"""The pitch deck (招商PPT): a PPTX built from the same plain data as the policy document
(``toolkit.policy.PolicyData``). Every text is an editable text box or table, never a picture of
text; the products' pictures are pictures. Slides: the brand, one per product, the plan (prices by
level, joining, rewards), upgrades and settlement, the qualifications, and what participants earn."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from PIL import Image
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_AUTO_SIZE
from pptx.util import Emu, Inches, Pt

from weishang.toolkit.policy import PolicyData, earnings_lines, earnings_title, price, price_table

FONT = "Noto Sans CJK SC"  # the font the documents use; PowerPoint falls back to a Chinese font without it
ACCENT = RGBColor(0xA0, 0x28, 0x3C)
WIDE = (Inches(13.333), Inches(7.5))  # 16:9
MAX_PICTURES = 3  # a product slide shows its first three pictures


def _text(slide, left, top, width, height, lines: list[str], *, size: int = 18, color=None, bold=False):
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE  # PowerPoint shrinks a long text to its box
    for i, line in enumerate(lines or [""]):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = paragraph.add_run()
        run.text = line
        run.font.size = Pt(size)
        run.font.name = FONT
        run.font.bold = bold
        if color is not None:
            run.font.color.rgb = color
    return box


def _slide(deck, title: str):
    """A blank slide with ``title`` in a text box at the top (named "title" for readers)."""
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    box = _text(slide, Inches(0.6), Inches(0.35), Inches(12.1), Inches(0.9), [title], size=30, color=ACCENT, bold=True)
    box.name = "title"
    return slide


def _table(slide, header: list[str], rows: list[list[str]], top, height, *, size: int = 14, flagged=frozenset()):
    """An editable table; the rows numbered in ``flagged`` (the header is row 0) in red."""
    shape = slide.shapes.add_table(len(rows) + 1, len(header), Inches(0.6), top, Inches(12.1), height)
    table = shape.table
    for r, values in enumerate([header, *rows]):
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            cell.text = value
            for paragraph in cell.text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(size)
                    run.font.name = FONT
                    if r in flagged:
                        run.font.color.rgb = RGBColor(0xBE, 0x14, 0x28)
    return shape


def _fit(picture: bytes, width: int, height: int) -> tuple[Emu, Emu]:
    """The largest size of ``picture`` within ``width`` × ``height``, its proportions kept."""
    with Image.open(io.BytesIO(picture)) as image:
        w, h = image.size
    scale = min(width / w, height / h)
    return Emu(int(w * scale)), Emu(int(h * scale))


def pitch_deck(data: PolicyData) -> bytes:
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDE

    # the brand
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    if data.logo:
        width, height = _fit(data.logo, Inches(6), Inches(2))
        slide.shapes.add_picture(io.BytesIO(data.logo), (WIDE[0] - width) // 2, Inches(0.8), width=width, height=height)
    title = _text(slide, Inches(0.6), Inches(3.0), Inches(12.1), Inches(1.2), [data.brand], size=48, color=ACCENT)
    title.name = "title"
    _text(
        slide,
        Inches(0.6),
        Inches(4.4),
        Inches(12.1),
        Inches(1.5),
        [
            _("Agent recruitment"),
            _("Plan in force: %(plan)s · as of %(date)s") % {"plan": data.plan, "date": data.as_of},
        ],
        size=22,
    )

    # one slide per product
    for product in data.products:
        slide = _slide(deck, product.name)
        pictures = product.pictures[:MAX_PICTURES]
        text_width = Inches(6.2) if pictures else Inches(12.1)
        lines = [product.description] if product.description else []
        lines += ["· " + point for point in product.selling_points]
        lines += [f"{name}: {_('retail')} {price(retail)}" for name, retail in product.skus]
        _text(slide, Inches(0.6), Inches(1.4), text_width, Inches(5.5), lines, size=18)
        slot = Emu(int(Inches(5.6) / len(pictures)))  # the pictures share the right half, one above the other
        for i, picture in enumerate(pictures):
            width, height = _fit(picture, Inches(5.5), slot - Inches(0.1))
            slide.shapes.add_picture(
                io.BytesIO(picture), Inches(7.2), Inches(1.4) + i * slot, width=width, height=height
            )

    # the plan: prices by level, joining, rewards
    slide = _slide(deck, _("The plan: prices by level (yuan per unit)"))
    header, rows = price_table(data)
    _table(slide, header, rows, Inches(1.4), Inches(0.5) * (len(rows) + 1))
    slide = _slide(deck, _("The plan: joining and rewards"))
    _table(
        slide,
        [_("Level"), _("Entry condition"), _("Discount on retail"), _("Minimum units per restock")],
        [[lv.name, lv.entry, lv.discount, lv.min_restock] for lv in data.levels],
        Inches(1.3),
        Inches(0.4) * (len(data.levels) + 1),
        size=12,
    )
    top = Inches(1.5) + Inches(0.4) * (len(data.levels) + 1)
    _text(slide, Inches(0.6), top, Inches(12.1), Inches(7.2) - top, ["· " + line for line in data.rewards], size=16)
    slide = _slide(deck, _("Upgrades, settlement and returns"))
    lines = ["· " + line for line in data.upgrades + data.settlement + data.returns]
    _text(slide, Inches(0.6), Inches(1.4), Inches(12.1), Inches(5.6), lines, size=16)

    # qualifications
    slide = _slide(deck, _("The brand's qualifications"))
    if data.qualifications:
        _table(
            slide,
            [_("Qualification"), _("Number"), _("Issued by"), _("Validity period"), _("Status")],
            [[q.title, q.number or "—", q.issuer or "—", q.valid, q.status] for q in data.qualifications],
            Inches(1.4),
            Inches(0.5) * (len(data.qualifications) + 1),
            flagged={i + 1 for i, q in enumerate(data.qualifications) if q.expired},
        )
    else:
        _text(slide, Inches(0.6), Inches(1.4), Inches(12.1), Inches(1), [_("None.")])

    # earnings
    slide = _slide(deck, earnings_title())
    _text(slide, Inches(0.6), Inches(1.4), Inches(12.1), Inches(5.6), earnings_lines(data.earnings), size=20)

    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()
