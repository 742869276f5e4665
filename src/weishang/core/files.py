"""Uploaded pictures: the one check every picture gets (a transfer screenshot, a receiving QR
code, the brand logo) — its size, its pixels and its type, read from the file itself.

``check_screenshot`` raises the services' BusinessError; ``validate_screenshot`` is the same
check for forms (a ValidationError)."""

from __future__ import annotations

import io
import secrets
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from weishang.core.errors import BusinessError

SCREENSHOT_MAX_BYTES = 5 * 1024 * 1024
# Pixels, read from the file's header before anything is decoded: a 100-byte PNG can declare
# 100,000 × 100,000 pixels (a decompression bomb). 40 million is a 48-megapixel phone photo's
# neighbourhood and far above any screenshot, logo or QR code.
SCREENSHOT_MAX_PIXELS = 40_000_000
SCREENSHOT_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
SCREENSHOT_FORMATS = set(SCREENSHOT_EXTENSIONS)


def check_screenshot(screenshot: UploadedFile) -> None:
    """Refuse (BusinessError on ``screenshot``) a missing picture, one over 5 MB or 40 million
    pixels, or one that is not a JPEG, PNG, WebP or GIF; rename an accepted one to a name of our
    making with the type the file really is."""
    if screenshot is None:
        raise BusinessError(_("Attach the transfer screenshot."), field="screenshot")
    if (screenshot.size or 0) > SCREENSHOT_MAX_BYTES:
        raise BusinessError(_("The screenshot is larger than 5 MB."), field="screenshot")
    _check_picture(
        screenshot, field="screenshot", not_a_picture=_("The screenshot must be an image (JPEG, PNG, WebP or GIF).")
    )


def _check_picture(upload: UploadedFile, *, field: str, not_a_picture) -> None:
    """The picture's pixels and type, read from the file; renamed to a name of our making."""
    too_big = BusinessError(
        _("The picture is too large: at most %(megapixels)d million pixels.")
        % {"megapixels": SCREENSHOT_MAX_PIXELS // 1_000_000},
        field=field,
    )
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it; here that is an error too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:  # reads the header only
                if image.width * image.height > SCREENSHOT_MAX_PIXELS:
                    raise too_big
                image.verify()
                fmt = image.format
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise BusinessError(not_a_picture, field=field) from None
    if fmt not in SCREENSHOT_FORMATS:
        raise BusinessError(not_a_picture, field=field)
    upload.seek(0)
    # Stored under a name of our making with the type the file really is, never the sender's name.
    upload.name = f"{secrets.token_hex(16)}.{SCREENSHOT_EXTENSIONS[fmt]}"


DOCUMENT_MAX_BYTES = 10 * 1024 * 1024


def check_picture(upload: UploadedFile | None, *, field: str = "image") -> None:
    """A picture someone uploads to be shown (a product's): as ``check_screenshot`` checks a
    screenshot — at most 5 MB and 40 million pixels, a JPEG, PNG, WebP or GIF read from the file —
    with messages that speak of a picture. Renamed to a name of our making."""
    if upload is None:
        raise BusinessError(_("Choose a picture."), field=field)
    if (upload.size or 0) > SCREENSHOT_MAX_BYTES:
        raise BusinessError(_("The picture is larger than 5 MB."), field=field)
    _check_picture(upload, field=field, not_a_picture=_("The picture must be a JPEG, PNG, WebP or GIF."))


THUMBNAIL_SIZE = (320, 320)


def thumbnail_of(upload) -> ContentFile:
    """A checked picture's thumbnail: a JPEG (a PNG when it has transparency) at most 320 × 320,
    turned upright as the camera recorded it, under a name of our making. Made once, on upload."""
    upload.seek(0)
    with Image.open(upload) as original:
        picture = ImageOps.exif_transpose(original)
        picture.thumbnail(THUMBNAIL_SIZE)
        buffer = io.BytesIO()
        if picture.mode in ("RGBA", "LA", "P"):
            picture.convert("RGBA").save(buffer, "PNG", optimize=True)
            extension = "png"
        else:
            picture.convert("RGB").save(buffer, "JPEG", quality=85, optimize=True)
            extension = "jpg"
    upload.seek(0)
    return ContentFile(buffer.getvalue(), name=f"{secrets.token_hex(16)}.{extension}")


def check_document(upload: UploadedFile | None, *, field: str = "document") -> None:
    """A scanned document (a licence, a report): a picture as ``check_screenshot`` checks it, or a
    PDF (its header and end marker read from the file), at most 10 MB; BusinessError on ``field``
    otherwise. Renamed to a name of our making with the type the file really is."""
    if upload is None:
        raise BusinessError(_("Attach the scan: a picture or a PDF."), field=field)
    size = upload.size or 0
    if size > DOCUMENT_MAX_BYTES:
        raise BusinessError(_("The file is larger than 10 MB."), field=field)
    upload.seek(0)
    if upload.read(5) == b"%PDF-":
        upload.seek(max(size - 2048, 0))
        if b"%%EOF" not in upload.read():
            raise BusinessError(_("The PDF is damaged or incomplete."), field=field)
        upload.seek(0)
        upload.name = f"{secrets.token_hex(16)}.pdf"
        return
    _check_picture(
        upload, field=field, not_a_picture=_("The scan must be a picture (JPEG, PNG, WebP or GIF) or a PDF.")
    )


def validate_screenshot(screenshot: UploadedFile) -> None:
    """For forms: the same check the services make, as a ValidationError."""
    try:
        check_screenshot(screenshot)
    except BusinessError as exc:
        raise ValidationError(str(exc.message)) from exc


# --- pictures sent back ----------------------------------------------------------------------

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


def image_response(field_file, *, cache: str = "private, no-store") -> FileResponse:
    """The stored image as the image it is (whatever its name), never run as a page; 404 when
    there is no file or it is not an image. Private images (transfer screenshots, receiving QR
    codes, a scan) are streamed by views that checked who asks, never linked by their storage
    URL, and not cached; a public one (a product's picture) passes ``cache``."""
    if not field_file:
        raise Http404
    storage, name = field_file.storage, field_file.name
    try:
        with storage.open(name, "rb") as handle, Image.open(handle) as image:
            content_type = IMAGE_TYPES.get(image.format or "")
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        content_type = None
    if content_type is None:
        raise Http404
    response = FileResponse(storage.open(name, "rb"), content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = cache
    return response
