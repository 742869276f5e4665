"""The invite poster (/m/poster.png) and its page (/m/invite/): a real PNG of the poster's size,
drawn server-side, whose QR code is exactly the code of the agent's invite link; cached with an
ETag; only an active agent has one; without a Chinese font it still draws, in English."""

from __future__ import annotations

import io
import re

import pytest
import qrcode
from django.test import Client
from django.urls import reverse
from PIL import Image

from weishang.channel import services as channel
from weishang.core import fonts
from weishang.core.models import Brand
from weishang.web import poster

PASSWORD = "pass-word-1"


def login(agent, *, language: str | None = None) -> Client:
    client = Client()
    assert client.login(username=agent.phone, password=PASSWORD)
    if language:
        client.cookies["django_language"] = language
    return client


@pytest.fixture
def agent(make_agent):
    Brand.objects.create(name="焕颜 GLOW")
    return make_agent("city", real_name="市代王芳")


@pytest.fixture
def no_cjk_font(monkeypatch):
    """A fresh machine without fonts-noto-cjk (or any other Chinese font)."""
    monkeypatch.setattr(fonts, "FONT_CANDIDATES", ())
    monkeypatch.delenv("WEISHANG_POSTER_FONT", raising=False)
    poster.cjk_font.cache_clear()
    yield
    poster.cjk_font.cache_clear()


def expected_matrix(url: str) -> list[list[bool]]:
    """The QR code of ``url`` as the qrcode library makes it, quiet zone included."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code.get_matrix()


def find_qr(image: Image.Image) -> tuple[int, int, int]:
    """(left, top, module size) of the QR code, found from its top-left finder pattern: a run of
    7 dark modules whose middle row reads dark, light, 3 dark, light, dark (1:1:3:1:1), scanning
    the poster below the brand's red band."""
    rgb = image.convert("RGB")
    width, height = rgb.size

    def dark(x: int, y: int) -> bool:
        return max(rgb.getpixel((x, y))) < 100

    def finder_at(x: int, y: int, box: int) -> bool:
        middle = y + 3 * box + box // 2
        reads = [dark(x + i * box + box // 2, middle) for i in range(7)]
        column = [dark(x + box // 2, y + i * box + box // 2) for i in range(7)]
        return reads == [True, False, True, True, True, False, True] and all(column)

    for y in range(300, height - 60):
        x = 0
        while x < width:
            if dark(x, y):
                run = 0
                while x + run < width and dark(x + run, y):
                    run += 1
                box = run // 7
                if box >= 2 and run % 7 == 0 and finder_at(x, y, box):
                    return x - 4 * box, y - 4 * box, box  # 4 modules of quiet zone
                x += run
            x += 1
    raise AssertionError("no QR code on the poster")


def decode_modules(image: Image.Image, modules: int) -> list[list[bool]]:
    """Read the QR code's modules off the image: the colour at each module's centre."""
    left, top, box = find_qr(image)
    gray = image.convert("L")
    return [
        [gray.getpixel((left + col * box + box // 2, top + row * box + box // 2)) < 128 for col in range(modules)]
        for row in range(modules)
    ]


def test_the_poster_is_a_png_of_the_posters_size_with_the_invite_qr_code(agent):
    response = login(agent).get(reverse("web:poster"))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.size == (750, 1334)
    url = f"http://testserver/join/{agent.invite_code}/"
    matrix = expected_matrix(url)
    assert decode_modules(image, len(matrix)) == matrix  # module for module, the code of the invite link
    # Another agent's link makes another code: the comparison above can tell them apart.
    assert expected_matrix("http://testserver/join/ZZZZZZZZ/") != matrix


def drawn(**changes) -> Image.Image:
    text = poster.PosterText(
        brand="焕颜",
        name="王芳",
        level="市代",
        invitation="诚邀你加入",
        scan_hint="长按识别",
        code_label="邀请码",
        invite_code="ABCD1234",
        url="http://testserver/join/ABCD1234/",
    )
    return Image.open(io.BytesIO(poster.render(poster.PosterText(**{**text.__dict__, **changes})))).convert("RGB")


def differs(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> bool:
    return a.crop(box).tobytes() != b.crop(box).tobytes()


def test_the_poster_draws_chinese_with_the_cjk_font(agent):
    assert poster.cjk_font() is not None  # fonts-noto-cjk on this machine
    full = drawn()
    assert full.getpixel((10, 10)) == (200, 16, 46)  # the brand's red band
    assert differs(full, drawn(brand=""), (0, 0, 750, 300))  # the brand's Chinese name is drawn on it
    assert differs(full, drawn(name=""), (0, 320, 750, 440))  # and the agent's name below
    assert differs(full, drawn(level="省代"), (0, 400, 750, 500))  # and the level


def test_the_poster_is_cached_with_an_etag(agent):
    client = login(agent)
    first = client.get(reverse("web:poster"))
    assert "private" in first["Cache-Control"] and "max-age=3600" in first["Cache-Control"]
    tag = first["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', tag)
    again = client.get(reverse("web:poster"), headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == tag
    # A change to what is drawn (the level) changes the tag; an old copy is not reused.
    from weishang.channel.models import Level

    channel.agent_change_level(agent=agent, level=Level.objects.get(code="province"), reason="test")
    changed = client.get(reverse("web:poster"), headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed["ETag"] != tag
    # The language is drawn too.
    client.cookies["django_language"] = "en"
    assert client.get(reverse("web:poster"))["ETag"] != changed["ETag"]


def test_only_an_active_agent_has_a_poster(agent, make_agent, client, django_user_model):
    client_of_agent = login(agent)
    assert client_of_agent.get(reverse("web:poster")).status_code == 200
    channel.agent_change_status(agent=agent, action="suspend", reason="test")
    assert client_of_agent.get(reverse("web:poster")).status_code == 404
    assert client_of_agent.get(reverse("web:invite")).status_code == 404
    applicant = make_agent("vip", entry_paid=False)
    assert applicant.status == "applicant"
    assert login(applicant).get(reverse("web:poster")).status_code == 404
    assert login(applicant).get(reverse("web:invite")).status_code == 404
    staff = django_user_model.objects.create_user("ops1", password=PASSWORD, is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("web:poster")).status_code == 404  # staff are not agents
    anonymous = Client().get(reverse("web:poster"))
    assert anonymous.status_code == 302 and "/m/login/" in anonymous["Location"]


def test_a_machine_without_a_chinese_font_still_makes_the_poster(agent, no_cjk_font):
    assert poster.cjk_font() is None
    response = login(agent).get(reverse("web:poster"))
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (750, 1334)
    matrix = expected_matrix(f"http://testserver/join/{agent.invite_code}/")
    assert decode_modules(image, len(matrix)) == matrix
    # Chinese the font cannot draw is left out, never drawn as empty boxes; Latin letters stay.
    assert not differs(drawn(), drawn(brand="", name=""), (0, 0, 750, 440))
    assert differs(drawn(brand="焕颜 GLOW"), drawn(brand="焕颜"), (0, 0, 750, 300))
    assert poster.latin_only("焕颜 GLOW") == "GLOW" and poster.latin_only("王芳") == ""


def test_the_invite_page_shows_the_poster_with_save_and_share_steps(agent):
    text = login(agent, language="en").get(reverse("web:invite")).content.decode()
    assert f'<img src="{reverse("web:poster")}"' in text and 'alt="Invite poster of 市代王芳 (市代)' in text
    assert f'download="invite-{agent.invite_code}.png"' in text
    assert "press and hold the poster" in text
    assert f'value="http://testserver/join/{agent.invite_code}/"' in text and '<label for="invite-link">' in text
    assert 'data-copy="#invite-link"' in text and "/static/web/copy.js" in text


def test_the_invite_page_is_chinese_by_default(agent):
    text = login(agent).get(reverse("web:invite")).content.decode()
    assert 'lang="zh-hans"' in text and "邀请码" in text
    text = login(agent, language="en").get(reverse("web:invite")).content.decode()
    assert 'lang="en"' in text and "Invite poster" in text and "Save and share" in text
