"""The launch toolkit's changes: the brand's qualifications (the console calls these)."""

from __future__ import annotations

from datetime import date

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from weishang.core.errors import BusinessError
from weishang.core.files import check_document
from weishang.toolkit.models import Qualification, QualificationKind


def _clean(value: str, field: str, *, max_length: int, required: bool = False) -> str:
    text = (value or "").strip()
    if "\x00" in text:
        raise BusinessError(_("This text contains a character that cannot be stored."), field=field)
    if required and not text:
        raise BusinessError(_("This field is required."), field=field)
    if len(text) > max_length:
        raise BusinessError(_("At most %(n)d characters.") % {"n": max_length}, field=field)
    return text


@transaction.atomic
def qualification_save(
    *,
    qualification: Qualification | None = None,
    kind: str,
    title: str,
    number: str = "",
    issuer: str = "",
    valid_from: date | None = None,
    valid_until: date | None = None,
    document: UploadedFile | None = None,
    public: bool = True,
    position: int = 0,
) -> Qualification:
    """Add a qualification (``qualification`` None: its scan is required) or change one (a new scan
    replaces the old one). The scan is checked from the file itself (``core.files.check_document``);
    the validity dates must be in order."""
    if kind not in QualificationKind.values:
        raise BusinessError(_("Choose the kind of qualification."), field="kind")
    if valid_from and valid_until and valid_until < valid_from:
        raise BusinessError(_("It cannot end before it starts."), field="valid_until")
    if qualification is None or document is not None:
        check_document(document)
    row = qualification or Qualification()
    row.kind = kind
    row.title = _clean(title, "title", max_length=100, required=True)
    row.number = _clean(number, "number", max_length=64)
    row.issuer = _clean(issuer, "issuer", max_length=100)
    row.valid_from, row.valid_until = valid_from, valid_until
    row.public, row.position = bool(public), max(0, int(position))
    if document is not None:
        row.document = document
    row.save()
    return row
