"""Posters from the brand's templates (launch toolkit): the brand sets a background and where the
QR code, the agent's name and level and a product's picture go; an agent picks one on the phone and
gets a PNG with their own QR code (to their shop or their invite page), name and level in Chinese
glyphs (not empty boxes). A template whose boxes run off its background is refused with a clear
message; roles without the permission cannot manage templates."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from weishang.catalog import services as catalog
from weishang.catalog.models import Product
from weishang.core.errors import BusinessError
from weishang.core.models import Brand
from weishang.core.roles import role_group_name, roles_sync
from weishang.toolkit import services
from weishang.toolkit.models import PosterTemplate
from weishang.web import poster


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png(size=(750, 1334), colour=(250, 240, 230), name="bg.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def template(**fields) -> PosterTemplate:
    values = dict(
        name="小店海报",
        target="shop",
        qr_x=165,
        qr_y=700,
        qr_size=420,
        name_x=60,
        name_y=420,
        name_size=56,
        level_x=60,
        level_y=500,
        level_size=36,
        text_colour="#1f2328",
    )
    values.update(fields)
    background = values.pop("background", png())
    return services.poster_template_save(template=PosterTemplate(**values), background=background)


@pytest.fixture
def world(make_agent):
    Brand.objects.create(name="焕颜 GLOW")
    city = make_agent("city", real_name="市代王芳")
    return {"city": city}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"qr_x": 500}, "qr_size", "超出了背景图（750 × 1334 像素）"),
        ({"name_y": 1320}, "name_size", "超出了背景图"),
        ({"text_colour": "red"}, "text_colour", "六位十六进制"),
        ({"qr_size": 40}, "qr_size", "至少 80 像素"),
        ({"name": "  "}, "name", "起个名字"),
        ({"background": png(size=(3200, 100))}, "background", "超过 3000 像素"),
        ({"background": SimpleUploadedFile("x.png", b"<svg onload=alert(1)>")}, "background", "图片须为"),
        ({"background": None}, "background", "请选择背景图"),
    ],
)
def test_a_template_that_cannot_work_is_refused_on_its_field(world, fields, field, message):
    with pytest.raises(BusinessError) as refused:
        template(**fields)
    assert refused.value.field == field and message in str(refused.value.message)
    assert not PosterTemplate.objects.exists()


def _qr_matches(image: Image.Image, url: str, left: int, top: int, size: int) -> bool:
    rows = poster.qr_matrix(url)
    box = size // len(rows)
    for row, cells in enumerate(rows):
        for col, dark in enumerate(cells):
            pixel = image.getpixel((left + col * box + box // 2, top + row * box + box // 2))
            if (sum(pixel[:3]) < 200) != dark:
                return False
    return True


def test_an_agent_gets_their_poster_with_their_qr_code_name_and_picture(world):
    assert poster.cjk_font() is not None  # fonts-noto-cjk: scripts/ensure-chromium installs it
    product = Product.objects.create(name="焕颜修护系列")
    catalog.product_image_add(product=product, upload=png(size=(400, 400), colour=(10, 120, 200), name="p.png"))
    shop = template(product=product, product_x=470, product_y=380, product_size=220)
    client = Client()
    client.force_login(world["city"].user)
    listing = client.get("/m/posters/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "小店海报" in listing and f'href="/m/posters/{shop.pk}.png"' in listing and 'href="/m/poster.png"' in listing

    answer = client.get(f"/m/posters/{shop.pk}.png")
    assert answer.status_code == 200 and answer["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(answer.content)).convert("RGB")
    assert image.size == (750, 1334)
    url = f"http://testserver/s/{world['city'].invite_code}/"
    assert _qr_matches(image, url, 165, 700, 420)
    assert not _qr_matches(image, f"http://testserver/join/{world['city'].invite_code}/", 165, 700, 420)
    assert image.getpixel((470 + 110, 380 + 110)) == (10, 120, 200)  # the product's picture
    assert image.getpixel((740, 1320)) == (250, 240, 230)  # the background around them


def test_the_name_is_drawn_in_chinese_glyphs_not_boxes(world):
    shop = template()
    crop = (60, 420, 60 + 4 * 56, 420 + 80)
    drawn = {}
    for name in ("王芳", "李娜"):
        body = poster.render_template(shop, name=name, level="市代", url="http://testserver/s/X/")
        drawn[name] = Image.open(io.BytesIO(body)).convert("L").crop(crop).tobytes()
    # A font without Chinese draws both names as the same boxes; real glyphs differ, and ink is there.
    assert drawn["王芳"] != drawn["李娜"]
    assert min(drawn["王芳"]) < 100


def test_other_templates_are_out_of_reach(world):
    hidden = template(active=False)
    client = Client()
    client.force_login(world["city"].user)
    for url in (f"/m/posters/{hidden.pk}.png", "/m/posters/999999.png", f"/m/posters/{hidden.pk}/background/"):
        assert client.get(url).status_code == 404, url
    assert Client().get(f"/m/posters/{hidden.pk}.png").status_code == 302  # to the login page


def _staff(role):
    roles_sync()
    user = get_user_model().objects.create_user(username=f"{role}-p", password="staff-pass-123", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role_group_name(role)))
    client = Client()
    client.force_login(user)
    return client


def _form(**overrides) -> dict:
    data = {
        "name": "双十二海报",
        "target": "invite",
        "background": png(),
        "qr_x": "165",
        "qr_y": "700",
        "qr_size": "420",
        "name_x": "60",
        "name_y": "420",
        "name_size": "56",
        "level_x": "60",
        "level_y": "500",
        "level_size": "36",
        "text_colour": "#1f2328",
        "product": "",
        "product_x": "0",
        "product_y": "0",
        "product_size": "0",
        "active": "on",
        "position": "0",
    }
    data.update(overrides)
    return data


def test_the_owner_designs_a_template_and_a_box_off_the_background_is_refused(world, tmp_path):
    owner = _staff("owner")
    refused = owner.post("/console/toolkit/postertemplate/add/", _form(qr_x="600"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 200 and "超出了背景图" in refused.content.decode()
    assert not PosterTemplate.objects.exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    saved = owner.post("/console/toolkit/postertemplate/add/", _form())
    assert saved.status_code == 302
    made = PosterTemplate.objects.get()
    assert (made.width, made.height, made.name) == (750, 1334, "双十二海报")
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1
    assert _staff("finance").get("/console/toolkit/postertemplate/add/").status_code == 403
