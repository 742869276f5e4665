"""A lesson's file, checked from its bytes (never its name): MP3 or M4A audio, MP4 video, a PDF; at
most 10 MB (the request limit). Served by a permission-checked view, never by a media URL."""

from __future__ import annotations

import secrets

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from weishang.core.errors import BusinessError

MEDIA_MAX_BYTES = 10 * 1024 * 1024
CONTENT_TYPES = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "mp4": "video/mp4", "pdf": "application/pdf"}


def sniff(head: bytes) -> str | None:
    """The file's type from its first bytes: mp3, m4a, mp4, pdf or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "m4a" if head[8:11] in (b"M4A", b"M4B") else "mp4"
    return None


def lesson_media_check(upload, *, kind: str) -> str:
    """Check an uploaded lesson file for a lesson of ``kind`` (audio, video or slides); rename it to
    a name of our making. Returns its type; BusinessError on ``media`` otherwise."""
    if (upload.size or 0) > MEDIA_MAX_BYTES:
        raise BusinessError(_("The file is larger than 10 MB."), field="media")
    upload.seek(0)
    found = sniff(upload.read(16))
    upload.seek(0)
    wanted = {"audio": ("mp3", "m4a"), "video": ("mp4",), "slides": ("pdf",), "script": ("pdf",)}.get(kind, ())
    if found is None or found not in wanted:
        raise BusinessError(
            _("This lesson takes MP3 or M4A audio, MP4 video or a PDF, as its kind says."), field="media"
        )
    upload.name = f"{secrets.token_hex(16)}.{found}"
    return found


def media_response(field_file) -> FileResponse:
    """The stored file with the type it really is; 404 when there is none."""
    if not field_file:
        raise Http404
    try:
        handle = field_file.storage.open(field_file.name, "rb")
    except OSError:
        raise Http404 from None
    found = sniff(handle.read(16))
    handle.seek(0)
    if found is None:
        handle.close()
        raise Http404
    response = FileResponse(handle, content_type=CONTENT_TYPES[found])
    response["Content-Disposition"] = "inline"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
