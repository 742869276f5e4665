"""Private images (transfer screenshots, receiving QR codes) streamed from storage by views that
have checked who asks first. They are never linked by their storage URL: in production media is
not served publicly, and a screenshot or a QR code shows a bank account."""

from __future__ import annotations

from django.http import FileResponse, Http404
from PIL import Image, UnidentifiedImageError

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


def image_response(field_file) -> FileResponse:
    """The stored image as the image it is (whatever its name), never run as a page; 404 when
    there is no file or it is not an image."""
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
    response["Cache-Control"] = "private, no-store"
    return response
