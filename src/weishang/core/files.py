"""Uploaded pictures: the one check every picture gets (a transfer screenshot, a receiving QR
code, the brand logo) — its size, its pixels and its type, read from the file itself.

``check_screenshot`` raises the services' BusinessError; ``validate_screenshot`` is the same
check for forms (a ValidationError)."""

from __future__ import annotations

import secrets
import warnings

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

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
    too_big = BusinessError(
        _("The picture is too large: at most %(megapixels)d million pixels.")
        % {"megapixels": SCREENSHOT_MAX_PIXELS // 1_000_000},
        field="screenshot",
    )
    try:
        screenshot.seek(0)
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it; here that is an error too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(screenshot) as image:  # reads the header only
                if image.width * image.height > SCREENSHOT_MAX_PIXELS:
                    raise too_big
                image.verify()
                fmt = image.format
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise BusinessError(
            _("The screenshot must be an image (JPEG, PNG, WebP or GIF)."), field="screenshot"
        ) from None
    if fmt not in SCREENSHOT_FORMATS:
        raise BusinessError(_("The screenshot must be an image (JPEG, PNG, WebP or GIF)."), field="screenshot")
    screenshot.seek(0)
    # Stored under a name of our making with the type the file really is, never the sender's name.
    screenshot.name = f"{secrets.token_hex(16)}.{SCREENSHOT_EXTENSIONS[fmt]}"


def validate_screenshot(screenshot: UploadedFile) -> None:
    """For forms: the same check the services make, as a ValidationError."""
    try:
        check_screenshot(screenshot)
    except BusinessError as exc:
        raise ValidationError(str(exc.message)) from exc
