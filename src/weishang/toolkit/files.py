"""A qualification's scan as the file it is: a picture or a PDF, read from the file itself (never
its name), never run as a page."""

from __future__ import annotations

from django.http import FileResponse, Http404

from weishang.core.files import image_response


def document_response(field_file) -> FileResponse:
    """The stored scan: a PDF shown inline as a PDF, a picture as ``core.files.image_response``
    serves it; 404 when there is no file or it is neither."""
    if not field_file:
        raise Http404
    storage, name = field_file.storage, field_file.name
    try:
        with storage.open(name, "rb") as handle:
            is_pdf = handle.read(5) == b"%PDF-"
    except OSError:
        raise Http404 from None
    if not is_pdf:
        return image_response(field_file)
    response = FileResponse(storage.open(name, "rb"), content_type="application/pdf")
    response["Content-Disposition"] = "inline"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response
