"""The launch toolkit's changes: the brand's qualifications (the console calls these)."""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image

from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.core.files import check_document, check_picture, thumbnail_of
from weishang.toolkit.models import (
    HEX_COLOUR,
    Material,
    MaterialFile,
    MaterialUse,
    MaterialUseKind,
    MaterialVisit,
    PosterTemplate,
    Qualification,
    QualificationKind,
)


def _clean(value: str, field: str, *, max_length: int, required: bool = False) -> str:
    text = (value or "").strip()
    if "\x00" in text:
        raise BusinessError(_("This text contains a character that cannot be stored."), field=field)
    if required and not text:
        raise BusinessError(_("This field is required."), field=field)
    if len(text) > max_length:
        raise BusinessError(_("At most %(n)d characters.") % {"n": max_length}, field=field)
    return text


def qualification_check(
    *, kind: str, valid_from: date | None, valid_until: date | None, document: UploadedFile | None, new: bool
) -> None:
    """What a qualification must be, saving nothing (the console's form asks it too): a kind we
    know, dates in order, and a scan checked from the file — required when it is ``new``."""
    if kind not in QualificationKind.values:
        raise BusinessError(_("Choose the kind of qualification."), field="kind")
    if valid_from and valid_until and valid_until < valid_from:
        raise BusinessError(_("It cannot end before it starts."), field="valid_until")
    if new or document is not None:
        check_document(document)


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
    qualification_check(
        kind=kind, valid_from=valid_from, valid_until=valid_until, document=document, new=qualification is None
    )
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


# --- the material centre ----------------------------------------------------------------------

VIDEO_MAX_BYTES = 10 * 1024 * 1024  # the request limit (core.request_limits) is 10 MB too


def _is_mp4(upload) -> bool:
    """An MP4 or MOV read from the file: its first box is ``ftyp`` (bytes 4–8)."""
    upload.seek(0)
    head = upload.read(12)
    upload.seek(0)
    return len(head) == 12 and head[4:8] == b"ftyp"


def material_file_check(upload) -> bool:
    """Check a material's file from its bytes: a picture as every picture is checked, or an MP4 or
    MOV video (its ``ftyp`` box) of at most 10 MB. Returns whether it is a video; renames it to a
    name of our making. BusinessError on ``file`` otherwise."""
    if upload is None:
        raise BusinessError(_("Choose a picture or a video."), field="file")
    if _is_mp4(upload):
        if (upload.size or 0) > VIDEO_MAX_BYTES:
            raise BusinessError(_("The video is larger than 10 MB."), field="file")
        upload.name = f"{secrets.token_hex(16)}.mp4"
        return True
    check_picture(upload, field="file")
    return False


@transaction.atomic
def material_file_add(*, material: Material, upload, position: int = 0) -> MaterialFile:
    """Add a picture or a short video to ``material`` (``material_file_check``); a picture's
    thumbnail is made now, once."""
    row = MaterialFile(material=material, position=max(0, int(position or 0)))
    row.is_video = material_file_check(upload)
    if not row.is_video:
        row.thumbnail = thumbnail_of(upload)
    row.file = upload
    row.save()
    return row


def material_file_delete(*, row: MaterialFile) -> None:
    """Remove a file of a material and its stored files."""
    stored = [(f.storage, f.name) for f in (row.file, row.thumbnail) if f and f.name]
    with transaction.atomic():
        row.delete()
    for storage, name in stored:
        if name:
            storage.delete(name)


def material_used(*, material: Material, agent, kind: str) -> MaterialUse:
    """Record that ``agent`` copied or downloaded ``material`` (the brand's "used most")."""
    if kind not in MaterialUseKind.values:
        raise BusinessError(_("Unknown use."), field="kind")
    return MaterialUse.objects.create(material=material, agent=agent, kind=kind)


def materials_seen(*, agent) -> datetime | None:
    """The agent opens the material centre now: returns when they last did (None the first time),
    so the page can mark what is new since, and remembers now."""
    visit, created = MaterialVisit.objects.get_or_create(agent=agent)
    previous = None if created else visit.seen_at
    visit.seen_at = clock.now()
    visit.save(update_fields=["seen_at"])
    return previous


# --- poster templates -------------------------------------------------------------------------

POSTER_MAX_SIDE = 3000  # pixels: a phone-screen poster at 2× is 750 × 1334


def _inside(template: PosterTemplate, left: int, top: int, size: int, field: str) -> None:
    if size and (left + size > template.width or top + size > template.height):
        raise BusinessError(
            _("This box runs off the background (%(w)d × %(h)d pixels).") % {"w": template.width, "h": template.height},
            field=field,
        )


def poster_template_check(*, template: PosterTemplate, background=None) -> None:
    """Check a poster template the console filled in, saving nothing: a new background is checked
    as every picture is (at most 3,000 pixels a side; ``template`` takes it and its size); the QR
    code, the name, the level and the product picture must lie on the background; the colour is
    #rrggbb. BusinessError on the field."""
    if background is not None:
        check_picture(background, field="background")
        with Image.open(background) as picture:
            width, height = picture.size
        background.seek(0)
        if max(width, height) > POSTER_MAX_SIDE:
            raise BusinessError(_("The background is larger than 3,000 pixels a side."), field="background")
        template.background, template.width, template.height = background, width, height
    elif not template.background:
        raise BusinessError(_("Choose a background picture."), field="background")
    if not re.match(HEX_COLOUR, template.text_colour or ""):
        raise BusinessError(_("Write the colour as # and six hex digits, for example #1f2328."), field="text_colour")
    if template.qr_size < 80:
        raise BusinessError(_("The QR code must be at least 80 pixels to be scanned."), field="qr_size")
    _inside(template, template.qr_x, template.qr_y, template.qr_size, "qr_size")
    _inside(template, template.name_x, template.name_y, template.name_size, "name_size")
    _inside(template, template.level_x, template.level_y, template.level_size, "level_size")
    _inside(template, template.product_x, template.product_y, template.product_size, "product_size")
    template.name = (template.name or "").strip()
    if not template.name or "\x00" in template.name:
        raise BusinessError(_("Give the template a name."), field="name")


@transaction.atomic
def poster_template_save(*, template: PosterTemplate, background=None) -> PosterTemplate:
    """Check (``poster_template_check``) and save a poster template."""
    poster_template_check(template=template, background=background)
    template.save()
    return template
