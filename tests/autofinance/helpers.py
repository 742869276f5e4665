"""The finance desk tests' helpers: uploads, a quoted application, running the flow."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from weishang.autofinance import services
from weishang.autofinance.models import MOVES, ConsentChannel

D = Decimal


def png(name: str = "id.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf(name: str = "statement.pdf") -> SimpleUploadedFile:
    body = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def with_documents(application, by=None):
    for kind in application.product.document_list:
        services.document_add(application=application, kind=kind, upload=png() if kind == "id_card" else pdf(), by=by)
    return application


def quoted_application(sale, product, *, down="60000", months=36, by=None, consent=True, documents=True):
    """A draft application on ``product``'s quoted terms, with the customer's consent and documents."""
    quote = services.quote_create(sale=sale, lines=[services.Terms(product, down, months)], by=by)
    application = services.application_create(line=quote.lines.get(), by=by)
    if consent:
        services.consent_record(sale=sale, lender=product.lender, channel=ConsentChannel.SIGNATURE, by=by)
    if documents:
        with_documents(application, by=by)
    return application


RUN = ["submit", "approve", "sign", "disburse", "confirm_funds", "deliver", "register", "close"]


def run(application, until: str, people=None):
    """Take ``application`` from where it is through the steps up to and including ``until``, each by its owner."""
    owner = {
        "confirm_funds": "finance",
        "deliver": "consultant",
    }
    for move in RUN:
        if application.status not in MOVES[move][0]:
            continue  # taken already
        by = people[owner.get(move, "manager")] if people else None
        extra = {"contract_number": f"HT-{application.pk}"} if move == "sign" else {}
        application = services.application_move(application=application, move=move, by=by, **extra)
        if move == until:
            break
    return application
