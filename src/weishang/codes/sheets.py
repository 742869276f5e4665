"""A batch printed: a CSV for the print shop (one row per item code, with its box and lookup
link) and a PDF sheet of QR labels to print on A4 sticker paper, box by box."""

from __future__ import annotations

import csv
import io

import qrcode
from django.utils.translation import gettext as _

from weishang.codes import symbols
from weishang.codes.models import CodeBatch
from weishang.codes.selectors import batch_codes, verify_link
from weishang.core.errors import BusinessError
from weishang.core.fonts import pdf_document

MAX_PDF_ITEMS = 2000  # larger batches go to the print shop as CSV
COLUMNS, ROWS = 5, 8  # labels per A4 page: 38 × 34 mm each
LABEL_W, LABEL_H = 38.0, 34.0
MARGIN_X, MARGIN_Y = 10.0, 12.0
QR_MM = 24.0


def batch_csv(batch: CodeBatch, *, verify_base: str) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese header as Chinese."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("batch"), _("SKU"), _("box code"), _("item code"), _("lookup link")])
    sku = batch.sku.name
    for box, item in batch_codes(batch):
        writer.writerow([batch.number, sku, box, item, verify_link(verify_base, item)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _qr(text: str):
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=4)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image()


def batch_pdf(batch: CodeBatch, *, verify_base: str) -> bytes:
    """Labels, box by box: the box's label first (its code, for the carton), then its items'
    (their QR codes open the public lookup). Each box starts a new page."""
    if batch.items > MAX_PDF_ITEMS:
        raise BusinessError(
            _("A label sheet holds at most %(n)d item codes: download the CSV for the print shop.")
            % {"n": MAX_PDF_ITEMS},
            field="batch",
        )
    pdf = pdf_document()
    pdf.set_auto_page_break(False)
    pdf.set_title(f"{batch.number} {batch.sku.name}")
    by_box: dict[str, list[str]] = {}
    for box, item in batch_codes(batch):
        by_box.setdefault(box, []).append(item)
    for box, items in by_box.items():
        labels = [(box, True)] + [(item, False) for item in items]
        for i, (code, is_box) in enumerate(labels):
            slot = i % (COLUMNS * ROWS)
            if slot == 0:
                pdf.add_page()
                pdf.set_font("cjk", size=9)
                pdf.set_xy(MARGIN_X, 4)
                pdf.cell(text=f"{batch.number} · {batch.sku.name} · {_('box code')} {symbols.grouped(box)}")
            x = MARGIN_X + (slot % COLUMNS) * LABEL_W
            y = MARGIN_Y + (slot // COLUMNS) * LABEL_H
            target = code if is_box else verify_link(verify_base, code)
            pdf.image(_qr(target), x=x + (LABEL_W - QR_MM) / 2, y=y, w=QR_MM, h=QR_MM)
            pdf.set_font("cjk", size=7)
            pdf.set_xy(x, y + QR_MM + 0.5)
            label = (_("BOX") + " " if is_box else "") + symbols.grouped(code)
            pdf.cell(w=LABEL_W, h=4, text=label, align="C")
    return bytes(pdf.output())
