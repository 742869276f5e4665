"""Uploads cannot exhaust the server: a body over the limit is refused from its Content-Length
before it is read (413: a clear page on the phone, the error envelope from the API), and a small
picture that declares huge dimensions (a decompression bomb) is refused with a clear message on
the screenshot field, without decoding it."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from weishang.api.services import token_create
from weishang.core import files
from weishang.core.errors import BusinessError
from weishang.trade.models import Payment

BOUNDARY = "----weishang-test-boundary"
MB = 1024 * 1024


def multipart(size: int) -> bytes:
    """A real multipart/form-data body carrying a ``size``-byte screenshot."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="reference"\r\n\r\nT1\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="screenshot"; filename="big.png"\r\n'
        f"Content-Type: image/png\r\n\r\n"
    ).encode()
    return head + b"\x89PNG" + b"\0" * (size - 4) + f"\r\n--{BOUNDARY}--\r\n".encode()


class CountingInput(io.BytesIO):
    """The request body as the server hands it to Django, counting what is read."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.read_bytes = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.read_bytes += len(chunk)
        return chunk

    def readline(self, size=-1):
        line = super().readline(size)
        self.read_bytes += len(line)
        return line


def post_body(client: Client, path: str, body: bytes, **headers) -> tuple:
    stream = CountingInput(body)
    response = client.generic(
        "POST",
        path,
        b"",
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers=headers,
        **{"wsgi.input": stream, "CONTENT_LENGTH": str(len(body))},
    )
    return response, stream


def png_declaring(width: int, height: int) -> bytes:
    """A valid, tiny PNG whose header says ``width`` × ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    )


def picture(data: bytes, name: str = "transfer.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


@pytest.fixture
def agent(make_agent):
    return make_agent("vip", real_name="王静", password="pass-word-1")


# --- the body: refused from its Content-Length, unread --------------------------------------


def test_an_oversized_upload_on_a_phone_page_is_refused_unread_with_a_chinese_message(agent):
    client = Client()
    client.force_login(agent.user)
    body = multipart(11 * MB)  # over the 10 MB limit
    response, stream = post_body(
        client, "/m/orders/R20260101000001/pay-transfer/", body, referer="http://testserver/m/orders/R20260101000001/"
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "上传的文件太大：最多 10 MB" in page and 'href="http://testserver/m/orders/R20260101000001/"' in page
    assert stream.read_bytes == 0  # not one byte of the 11 MB was read
    assert not Payment.objects.exists()


def test_an_oversized_upload_to_the_api_is_413_in_the_error_envelope(agent):
    _token, secret = token_create(user=agent.user, device="测试手机")
    client = Client()
    response, stream = post_body(
        client,
        "/api/v1/orders/R20260101000001/transfer",
        multipart(11 * MB),
        authorization=f"Bearer {secret}",
        accept_language="en",
    )
    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "too_large",
            "fields": {},
            "message": (
                "The upload is too large: at most 10 MB. Choose a smaller picture (a screenshot is usually well "
                "under 5 MB)."
            ),
        }
    }
    assert stream.read_bytes == 0


def test_a_body_under_the_limit_reaches_the_page(agent):
    """The same request, smaller: the page itself answers (this order does not exist: 404)."""
    client = Client()
    client.force_login(agent.user)
    response, stream = post_body(client, "/m/orders/R20260101000001/pay-transfer/", multipart(MB))
    assert response.status_code == 404


def test_the_limit_is_a_setting(agent, settings):
    settings.WEISHANG_UPLOAD_MAX_BYTES = 2 * MB
    client = Client()
    client.force_login(agent.user)
    response, _stream = post_body(client, "/m/orders/R20260101000001/pay-transfer/", multipart(3 * MB))
    assert response.status_code == 413


# --- the pixels: a decompression bomb is a clear field error ------------------------------------


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (12_000, 12_000), (8_000, 6_000)])
def test_a_small_png_declaring_huge_dimensions_is_refused_clearly(db, width, height):
    data = png_declaring(width, height)
    assert len(data) < 200  # a tiny file...
    with pytest.raises(BusinessError) as refused:
        files.check_screenshot(picture(data))
    assert refused.value.field == "screenshot"
    assert "40" in str(refused.value.message) and "像素" in str(refused.value.message)


def test_the_form_check_says_it_too(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        files.validate_screenshot(picture(png_declaring(100_000, 100_000)))
    assert "像素" in str(refused.value)


def test_an_ordinary_screenshot_still_passes(db):
    buffer = io.BytesIO()
    Image.new("RGB", (1290, 2796), "white").save(buffer, "PNG")  # a phone screenshot
    upload = picture(buffer.getvalue())
    files.check_screenshot(upload)
    assert upload.name.endswith(".png")


def test_the_phone_page_shows_the_pixel_message_on_the_field(agent):
    from weishang.web.trade_forms import TransferForm

    form = TransferForm(data={"reference": ""}, files={"screenshot": picture(png_declaring(100_000, 100_000))})
    assert not form.is_valid()
    assert "像素" in " ".join(form.errors["screenshot"])


def test_the_brand_logo_goes_through_the_same_picture_check(db):
    from django.forms.models import model_to_dict

    from weishang.core.admin import BrandForm
    from weishang.core.models import Brand

    brand = Brand.objects.create(name="测试品牌")
    data = {k: v for k, v in model_to_dict(brand).items() if v is not None and k != "logo"}
    bomb = BrandForm(data=data, files={"logo": picture(png_declaring(100_000, 100_000), "logo.png")}, instance=brand)
    assert not bomb.is_valid() and "像素" in " ".join(bomb.errors["logo"])
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), "red").save(buffer, "PNG")
    fine = BrandForm(data=data, files={"logo": picture(buffer.getvalue(), "logo.png")}, instance=brand)
    assert "logo" not in fine.errors
