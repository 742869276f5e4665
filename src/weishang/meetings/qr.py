"""The door's check-in QR code as a PNG (qrcode + Pillow), for the console and the printed sign."""

from __future__ import annotations

import io

import qrcode


def qr_png(url: str, *, box_size: int = 12) -> bytes:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=2)
    code.add_data(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer)
    return buffer.getvalue()
