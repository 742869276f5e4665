"""The deal's documents as PDF — quote, order, delivery note, credit note — in the reader's
language (Chinese or English: the caller activates it). ``document_pdf`` is a pure builder on
the plain ``Document`` that ``document_for`` gathers; fpdf2 embeds only the glyphs used."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from weishang.b2b.models import CreditNote, Offer, Order, Shipment
from weishang.core.fonts import pdf_document


@dataclass(frozen=True)
class Document:
    title: str
    number: str
    parties: list[tuple[str, str]]  # (label, text)
    facts: list[tuple[str, str]]
    header: list[str]
    rows: list[list[str]]
    totals: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""


def _money(value: Decimal) -> str:
    return f"¥{value:,.2f}"


def _parties(seller, buyer) -> list[tuple[str, str]]:
    def who(account) -> str:
        parts = [account.name, account.contact_name, account.phone, account.address]
        return " · ".join(p for p in parts if p)

    return [(_("Seller"), who(seller)), (pgettext("b2b", "Buyer"), who(buyer))]


def offer_document(offer: Offer) -> Document:
    inquiry = offer.inquiry
    lines = list(offer.lines.select_related("inquiry_line__listing"))
    terms = offer.get_terms_display()
    if offer.deposit_percent and offer.terms == "deposit":
        terms = f"{terms} ({offer.deposit_percent}%)"
    return Document(
        title=_("Quotation") if offer.side == "seller" else _("Counter-offer"),
        number=f"{inquiry.number}-{offer.round}",
        parties=_parties(inquiry.seller, inquiry.buyer),
        facts=[
            (_("Round"), str(offer.round)),
            (_("Payment terms"), terms),
            (_("Delivery date"), f"{offer.delivery_date:%Y-%m-%d}"),
            (_("Valid until"), f"{offer.valid_until:%Y-%m-%d}"),
        ],
        header=[_("Product"), _("Units"), _("Unit price"), _("Amount")],
        rows=[
            [
                line.inquiry_line.listing.title,
                f"{line.quantity} {line.inquiry_line.listing.unit}",
                _money(line.unit_price),
                _money(line.amount),
            ]
            for line in lines
        ],
        totals=[(_("Total"), _money(offer.total))],
        note=offer.note,
    )


def order_document(order: Order) -> Document:
    terms = order.get_terms_display()
    return Document(
        title=_("Purchase contract"),
        number=order.number,
        parties=_parties(order.seller, order.buyer),
        facts=[
            (_("Ordered"), f"{timezone.localtime(order.created_at):%Y-%m-%d}"),
            (_("Payment terms"), terms),
            (_("Due before shipment"), _money(order.deposit_amount)),
            (_("Delivery date"), f"{order.delivery_date:%Y-%m-%d}"),
        ],
        header=[_("Product"), _("Units"), _("Unit price"), _("Amount"), _("Warranty (days)")],
        rows=[
            [
                line.title,
                f"{line.quantity} {line.unit}",
                _money(line.unit_price),
                _money(line.amount),
                str(line.warranty_days),
            ]
            for line in order.lines.all()
        ],
        totals=[(_("Total"), _money(order.total))],
    )


def delivery_document(shipment: Shipment) -> Document:
    order = shipment.order
    return Document(
        title=_("Delivery note"),
        number=shipment.number,
        parties=_parties(order.seller, order.buyer),
        facts=[
            (_("Order"), order.number),
            (_("Shipped"), f"{timezone.localtime(shipment.shipped_at):%Y-%m-%d}"),
            (_("Carrier"), shipment.carrier),
            (_("Tracking number"), shipment.tracking_number),
        ],
        header=[_("Product"), _("Units"), _("Of which replacements")],
        rows=[
            [sl.line.title, f"{sl.quantity} {sl.line.unit}", str(sl.replacement)]
            for sl in shipment.lines.select_related("line")
        ],
    )


def credit_note_document(note: CreditNote) -> Document:
    order, claim = note.order, note.claim
    return Document(
        title=_("Credit note"),
        number=note.number,
        parties=_parties(order.seller, order.buyer),
        facts=[
            (_("Order"), order.number),
            (_("Claim"), claim.number),
            (_("Issued"), f"{timezone.localtime(note.issued_at):%Y-%m-%d}"),
        ],
        header=[_("Product"), _("Units"), _("Reason"), _("Amount")],
        rows=[[claim.line.title, f"{claim.quantity} {claim.line.unit}", claim.reason, _money(note.amount)]],
        totals=[(_("Credited"), _money(note.amount))],
        note=claim.answer,
    )


def document_pdf(doc: Document) -> bytes:
    pdf = pdf_document()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    pdf.cell(0, 11, doc.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", size=10)
    pdf.cell(0, 6, f"{_('No.')} {doc.number}", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    for label, text in doc.parties + doc.facts:
        pdf.multi_cell(0, 6, f"{label}: {text}", new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=WrapMode.CHAR)
    pdf.ln(3)
    pdf.set_font("cjk", size=9)
    with pdf.table(
        text_align="CENTER",
        line_height=6,
        wrapmode=WrapMode.CHAR,
        headings_style=FontFace(family="cjk", emphasis="", fill_color=(230, 230, 235)),
    ) as table:
        head = table.row()
        for cell in doc.header:
            head.cell(cell)
        for values in doc.rows:
            row = table.row()
            for cell in values:
                row.cell(cell)
    pdf.set_font("cjk", size=11)
    pdf.ln(2)
    for label, text in doc.totals:
        pdf.cell(0, 7, f"{label}: {text}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if doc.note:
        pdf.set_font("cjk", size=10)
        pdf.multi_cell(0, 6, f"{_('Note')}: {doc.note}", new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=WrapMode.CHAR)
    return bytes(pdf.output())
