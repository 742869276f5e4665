"""The policy document (代理政策说明, a PDF) and the price-table poster (a PNG for 朋友圈): pure
builders from plain data (``PolicyData``), which ``toolkit.selectors.documents_data`` gathers from
the plan in force, the catalog, the levels, the qualifications and the simulator.

Chinese needs a CJK font: Noto Sans CJK's Simplified-Chinese face (the one the agents' posters use,
``web.poster.FONT_CANDIDATES``; toolkit sits below the faces, so the path is named here again).
fpdf2 embeds only the glyphs used (a subset), so a document stays small.

Every income figure is shown with the simulator's median net income and share of participants with
a net loss beside it, never a best case alone (CN-CLAIM, US-EARN: docs/decisions.md).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace
from PIL import Image, ImageDraw, ImageFont

from weishang.core.errors import BusinessError
from weishang.core.fonts import cjk_font

# Noto Sans CJK (Debian's fonts-noto-cjk); face 2 of the collection is Simplified Chinese.


@dataclass(frozen=True)
class PriceRow:
    """One SKU's prices: retail and each level's purchase price (in ``PolicyData.level_names``' order)."""

    product: str
    sku: str
    name: str
    retail: Decimal
    prices: list[Decimal]


@dataclass(frozen=True)
class LevelTerms:
    """How one level is joined and restocked, in words."""

    name: str
    entry: str
    discount: str
    min_restock: str


@dataclass(frozen=True)
class QualificationRow:
    title: str
    kind: str
    number: str
    issuer: str
    valid: str  # "2025-01-01 至 2027-12-31" or "长期有效"
    status: str  # the validity's label (有效 / 即将到期 / 已过期 / 尚未生效)
    expired: bool


@dataclass(frozen=True)
class Earnings:
    """What the simulator says a participant earns under the plan (net income: rewards and retail
    margin less purchases and costs), for the earnings section."""

    scenario: str
    months: int
    participants: int
    median_net: Decimal
    loss_share: float  # 0..1
    p75_net: Decimal
    p90_net: Decimal
    median_loss: Decimal  # the median loss of those who lose money


@dataclass(frozen=True)
class ProductSheet:
    """A product for the pitch deck: its words and its pictures (PNG or JPEG bytes)."""

    name: str
    description: str
    selling_points: list[str]
    skus: list[tuple[str, Decimal]]  # (name, retail price)
    pictures: list[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class PolicyData:
    brand: str
    plan: str  # the plan's name and version, e.g. 焕颜 零售优先制度（v1）
    as_of: str  # the date the document was made, YYYY-MM-DD
    level_names: list[str]  # highest first
    prices: list[PriceRow]
    levels: list[LevelTerms]
    rewards: list[str]
    upgrades: list[str]
    settlement: list[str]
    returns: list[str]
    qualifications: list[QualificationRow]
    earnings: Earnings
    products: list[ProductSheet] = field(default_factory=list)
    logo: bytes | None = None


def font_path() -> tuple[str, int]:
    """(path, face index) of the Chinese font every picture and PDF uses (``core.fonts``)."""
    found = cjk_font()
    if found is None:
        raise BusinessError(
            _("No Chinese font is installed (Noto Sans CJK): the documents cannot be drawn."), code="no_font"
        )
    return found


# --- words shared by the PDF and the deck ------------------------------------------------------


def money(value: Decimal) -> str:
    """¥1,234.50 (a minus sign before the yuan sign for a loss)."""
    sign = "−" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"


def price(value: Decimal) -> str:
    """A price cell: 80.00."""
    return f"{value:.2f}"


def percent(share: float) -> str:
    """0.395894 → 39.6% (as the simulator's summary prints it)."""
    return f"{share * 100:.1f}%"


def earnings_title() -> str:
    return _("What participants earn (simulated, not promised)")


def earnings_lines(earnings: Earnings) -> list[str]:
    """The earnings section: the typical result first, the loss share beside it, and an example of
    a good result only with both (never a best case alone)."""
    figures = {
        "scenario": earnings.scenario,
        "months": earnings.months,
        "people": f"{earnings.participants:,}",
        "median": money(earnings.median_net),
        "loss": percent(earnings.loss_share),
        "p75": money(earnings.p75_net),
        "p90": money(earnings.p90_net),
        "median_loss": money(earnings.median_loss),
    }
    return [
        _(
            "The brand simulated this plan in the market scenario “%(scenario)s”: %(people)s participants "
            "over %(months)s months."
        )
        % figures,
        _("Median net income: %(median)s (half of the participants earn less).") % figures,
        _("Share of participants with a net loss: %(loss)s (their median loss: %(median_loss)s).") % figures,
        _(
            "For example, one participant in four nets at least %(p75)s and one in ten at least %(p90)s; in the "
            "same simulation the median net income is %(median)s and %(loss)s of participants lose money."
        )
        % figures,
        _(
            "Net income is rewards and retail margin less what a participant paid for goods and costs. These are "
            "simulated figures, not a promise: what you earn depends on what you sell to customers."
        ),
    ]


# --- the PDF -----------------------------------------------------------------------------------


class _Document(FPDF):
    def __init__(self, data: PolicyData):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.data = data
        path, face = font_path()
        self.add_font("noto", fname=path, collection_font_number=face)
        self.set_font("noto", size=10)
        self.set_auto_page_break(auto=True, margin=16)
        self.set_margins(16, 16, 16)
        self.set_title(f"{data.brand} {_('Agent policy')}")
        self.set_creator("Weishang")
        # Chinese breaks between any two characters; other languages between words.
        self.wrap = WrapMode.CHAR if (get_language() or "zh").startswith("zh") else WrapMode.WORD

    def footer(self):
        self.set_y(-12)
        self.set_font("noto", size=8)
        self.set_text_color(120)
        self.cell(0, 6, f"{self.data.brand} · {self.data.plan} · {self.data.as_of} · {self.page_no()}", align="C")
        self.set_text_color(0)


def _heading(pdf: _Document, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("noto", size=14)
    pdf.set_text_color(160, 40, 60)
    pdf.cell(0, 9, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0)
    pdf.set_font("noto", size=10)


def _paragraphs(pdf: _Document, lines: list[str], *, bullet: str = "· ") -> None:
    if not lines:
        pdf.multi_cell(0, 6, _("None."), new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=pdf.wrap)
    for line in lines:
        pdf.multi_cell(0, 6, bullet + line, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=pdf.wrap)


def _table(
    pdf: _Document,
    header: list[str],
    rows: list[list[str]],
    *,
    widths: tuple[float, ...] | None = None,
    flagged: set[int] | None = None,
) -> None:
    """A table, the header shaded; rows whose index is in ``flagged`` in red (an expired qualification)."""
    pdf.set_font("noto", size=9)
    with pdf.table(
        col_widths=widths,
        text_align="CENTER",
        line_height=6,
        wrapmode=pdf.wrap,
        headings_style=FontFace(family="noto", emphasis="", fill_color=(240, 214, 218)),
    ) as table:
        head = table.row()
        for cell in header:
            head.cell(cell)
        for index, values in enumerate(rows):
            row = table.row()
            style = FontFace(color=(190, 20, 40)) if flagged and index in flagged else None
            for cell in values:
                row.cell(cell, style=style)
    pdf.set_font("noto", size=10)


def price_table(data: PolicyData) -> tuple[list[str], list[list[str]]]:
    """The price table's header and rows, as the PDF, the poster and the deck show them."""
    header = [_("Product"), _("Retail"), *data.level_names]
    rows = [[row.name, price(row.retail), *(price(p) for p in row.prices)] for row in data.prices]
    return header, rows


def policy_pdf(data: PolicyData) -> bytes:
    """The policy document: price table by level, entry conditions, reward rules, upgrades,
    settlement and returns, the brand's qualifications and the earnings section."""
    pdf = _Document(data)
    pdf.add_page()
    pdf.set_font("noto", size=20)
    pdf.cell(0, 12, f"{data.brand} {_('Agent policy')}", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("noto", size=10)
    pdf.cell(
        0,
        6,
        _("Plan in force: %(plan)s · as of %(date)s") % {"plan": data.plan, "date": data.as_of},
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )

    _heading(pdf, _("1. Prices by level (yuan per unit)"))
    header, rows = price_table(data)
    _table(pdf, header, rows, widths=(3, *([1] * (len(header) - 1))))

    _heading(pdf, _("2. Levels and how to join"))
    _table(
        pdf,
        [_("Level"), _("Entry condition"), _("Discount on retail"), _("Minimum units per restock")],
        [[lv.name, lv.entry, lv.discount, lv.min_restock] for lv in data.levels],
        widths=(1, 2, 1, 1),
    )

    _heading(pdf, _("3. Rewards"))
    _paragraphs(pdf, data.rewards)

    _heading(pdf, _("4. Upgrades"))
    _paragraphs(pdf, data.upgrades)

    _heading(pdf, _("5. Settlement and returns"))
    _paragraphs(pdf, data.settlement + data.returns)

    _heading(pdf, _("6. The brand's qualifications"))
    if data.qualifications:
        _table(
            pdf,
            [_("Qualification"), _("Number"), _("Issued by"), _("Validity period"), _("Status")],
            [[q.title, q.number or "—", q.issuer or "—", q.valid, q.status] for q in data.qualifications],
            widths=(3, 3, 3, 4, 1.5),
            flagged={i for i, q in enumerate(data.qualifications) if q.expired},
        )
    else:
        _paragraphs(pdf, [])

    _heading(pdf, _("7. %(title)s") % {"title": earnings_title()})
    _paragraphs(pdf, earnings_lines(data.earnings))
    return bytes(pdf.output())


# --- the price-table poster --------------------------------------------------------------------

POSTER_WIDTH = 1080
POSTER_MARGIN = 60


def price_poster(data: PolicyData) -> bytes:
    """The price table as a 1080-pixel-wide PNG for 朋友圈: the brand, the plan, one row per SKU."""
    path, face = font_path()

    def font(size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(path, size, index=face)

    header, rows = price_table(data)
    title_font, head_font, cell_font, small = font(56), font(30), font(28), font(24)
    inner = POSTER_WIDTH - 2 * POSTER_MARGIN
    first = int(inner * 0.34)
    other = (inner - first) / max(len(header) - 1, 1)
    row_h = 64
    top = 260
    height = top + row_h * (len(rows) + 1) + 160
    image = Image.new("RGB", (POSTER_WIDTH, height), (255, 250, 246))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, POSTER_WIDTH, 200), fill=(160, 40, 60))
    draw.text((POSTER_WIDTH // 2, 80), data.brand, font=title_font, fill="white", anchor="mm")
    draw.text((POSTER_WIDTH // 2, 150), _("Agent price table"), font=head_font, fill="white", anchor="mm")
    draw.text((POSTER_MARGIN, 225), data.plan, font=small, fill=(90, 90, 90), anchor="lm")

    def cells_x(index: int) -> tuple[float, float]:
        if index == 0:
            return POSTER_MARGIN, POSTER_MARGIN + first
        left = POSTER_MARGIN + first + (index - 1) * other
        return left, left + other

    for r, values in enumerate([header, *rows]):
        y = top + r * row_h
        fill = (240, 214, 218) if r == 0 else ((255, 255, 255) if r % 2 else (250, 240, 240))
        draw.rectangle((POSTER_MARGIN, y, POSTER_WIDTH - POSTER_MARGIN, y + row_h), fill=fill, outline=(220, 200, 200))
        for c, text in enumerate(values):
            left, right = cells_x(c)
            face_font = head_font if r == 0 else cell_font
            text = _fit(draw, text, face_font, right - left - 12)
            draw.text(((left + right) / 2, y + row_h / 2), text, font=face_font, fill=(40, 40, 40), anchor="mm")
    note = _("Prices in yuan per unit, as of %(date)s; the brand's policy document has the full terms.") % {
        "date": data.as_of
    }
    draw.text((POSTER_WIDTH // 2, height - 90), note, font=small, fill=(90, 90, 90), anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """``text`` cut to ``width`` pixels (with an ellipsis)."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
