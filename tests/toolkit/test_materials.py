"""The material centre (素材中心, launch toolkit): the brand publishes 朋友圈 texts, pictures and
short videos by product and level; an agent sees those for their level, what is new since their
last visit, copies a text (counted), downloads a file or all of them as a zip (counted); the brand
sees which materials are used most. Bad files are refused; others' materials stay out of reach."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from weishang.catalog.models import Product
from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.core.models import Brand
from weishang.core.roles import role_group_name, roles_sync
from weishang.toolkit import selectors, services
from weishang.toolkit.models import Material, MaterialFile, MaterialUse


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(make_agent, levels):
    Brand.objects.create(name="焕颜 GLOW")
    city = make_agent("city", real_name="市代王芳")
    vip = make_agent("vip", referrer=city, real_name="特约李娜")
    product = Product.objects.create(name="焕颜修护系列")
    return {"city": city, "vip": vip, "product": product, "levels": levels}


def jpeg(name="p.jpg", size=(600, 400)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 220, 210)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def mp4(size: int = 2048) -> SimpleUploadedFile:
    body = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * size
    return SimpleUploadedFile("clip.mp4", body, content_type="video/mp4")


def publish(title, *, level=None, files=(), text="文案", ago=timedelta(0), **fields) -> Material:
    material = Material.objects.create(
        title=title, text=text, min_level=level, published_at=clock.now() - ago, **fields
    )
    for position, upload in enumerate(files):
        services.material_file_add(material=material, upload=upload, position=position)
    return material


def login(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def test_an_agent_sees_what_their_level_may_and_what_is_published(world, clock):
    levels = world["levels"]
    everyone = publish("日常文案")
    city_up = publish("招商文案", level=levels["city"])
    publish("草稿", published=False)
    publish("明天发布", ago=-timedelta(days=1))
    assert list(selectors.materials_for(agent=world["vip"])) == [everyone]
    assert set(selectors.materials_for(agent=world["city"])) == {everyone, city_up}
    page = login(world["vip"]).get("/m/materials/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "日常文案" in page and "招商文案" not in page and "草稿" not in page and "明天发布" not in page
    # Another level's material is not found at all, whatever the action.
    as_vip = login(world["vip"])
    assert as_vip.post(f"/m/materials/{city_up.pk}/copied/").status_code == 404
    assert as_vip.get(f"/m/materials/{city_up.pk}/zip/").status_code == 404


def test_what_is_new_since_the_last_visit(world, clock):
    clock.freeze(clock.now())
    publish("旧素材", ago=timedelta(days=2))
    as_vip = login(world["vip"])
    first = as_vip.get("/m/materials/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert first.count('data-testid="new"') == 1 and "自上次来访后新增 1 条" in first
    clock.advance(timedelta(hours=1))
    again = as_vip.get("/m/materials/").content.decode()
    assert 'data-testid="new"' not in again
    clock.advance(timedelta(hours=1))
    publish("新素材")
    clock.advance(timedelta(minutes=5))
    later = as_vip.get("/m/materials/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert later.count('data-testid="new"') == 1 and "自上次来访后新增 1 条" in later


def test_copy_download_and_zip_are_counted_and_read_back(world):
    material = publish("新品上市", files=[jpeg("a.jpg"), jpeg("b.jpg"), mp4()], text="敏感肌姐妹看过来！")
    as_vip = login(world["vip"])
    page = as_vip.get("/m/materials/").content.decode()
    assert 'id="material-text-' in page and f'data-report="/m/materials/{material.pk}/copied/"' in page
    assert as_vip.get(f"/m/materials/{material.pk}/copied/").status_code == 405
    assert as_vip.post(f"/m/materials/{material.pk}/copied/").status_code == 204

    picture, _second, video = material.files.all()
    thumb = as_vip.get(f"/m/materials/{material.pk}/files/{picture.pk}/thumb/")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    one = as_vip.get(f"/m/materials/{material.pk}/files/{picture.pk}/full/")
    assert one.status_code == 200 and one["Content-Disposition"].startswith("attachment;")
    clip = as_vip.get(f"/m/materials/{material.pk}/files/{video.pk}/full/")
    assert clip["Content-Type"] == "video/mp4" and b"".join(clip.streaming_content)[4:8] == b"ftyp"
    for url in (
        f"/m/materials/{material.pk}/files/{video.pk}/thumb/",
        f"/m/materials/{material.pk}/files/{picture.pk}/huge/",
        f"/m/materials/{material.pk}/files/999999/full/",
    ):
        assert as_vip.get(url).status_code == 404, url

    archive = as_vip.get(f"/m/materials/{material.pk}/zip/")
    assert archive.status_code == 200 and archive["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        names = zipped.namelist()
        assert names == ["01.jpg", "02.jpg", "03.mp4", "文案.txt"]
        assert zipped.read("文案.txt").decode() == "敏感肌姐妹看过来！"
        with Image.open(io.BytesIO(zipped.read("01.jpg"))) as image:
            assert image.size == (600, 400)
    uses = sorted(MaterialUse.objects.filter(material=material).values_list("kind", flat=True))
    assert uses == ["copy", "download", "download", "download_all"]
    assert as_vip.get(f"/m/materials/{publish('只有文案').pk}/zip/").status_code == 404


def test_the_brand_sees_the_most_used_materials(world):
    popular, quiet = publish("热门"), publish("冷门")
    for _ in range(3):
        services.material_used(material=popular, agent=world["vip"], kind="copy")
    services.material_used(material=quiet, agent=world["vip"], kind="download")
    ranked = list(selectors.materials_used_most())
    assert [(m.title, m.copies, m.downloads) for m in ranked] == [("热门", 3, 0), ("冷门", 0, 1)]


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (None, "请选择图片或视频"),
        (SimpleUploadedFile("x.jpg", b"MZ\x90\x00 not a picture", content_type="image/jpeg"), "图片须为"),
        (mp4(size=10 * 1024 * 1024), "视频超过 10 MB"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_kept(world, upload, message, tmp_path):
    material = publish("素材")
    with pytest.raises(BusinessError) as refused:
        services.material_file_add(material=material, upload=upload)
    assert message in str(refused.value.message)
    assert not MaterialFile.objects.exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def _staff(role):
    roles_sync()
    user = get_user_model().objects.create_user(username=f"{role}-m", password="staff-pass-123", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role_group_name(role)))
    client = Client()
    client.force_login(user)
    return client


def _form(upload) -> dict:
    return {
        "title": "双十二活动",
        "kind": "images",
        "text": "全场满 299 减 30",
        "product": "",
        "campaign": "双十二",
        "min_level": "",
        "published": "on",
        "published_at_0": "2026-12-04",
        "published_at_1": "09:00:00",
        "files-TOTAL_FORMS": "1",
        "files-INITIAL_FORMS": "0",
        "files-MIN_NUM_FORMS": "0",
        "files-MAX_NUM_FORMS": "1000",
        "files-0-position": "0",
        "files-0-file": upload,
    }


def test_operations_publish_a_material_with_a_picture_and_finance_cannot(world):
    operations = _staff("operations")
    refused = operations.post("/console/toolkit/material/add/", _form(SimpleUploadedFile("x.jpg", b"nope")))
    assert refused.status_code == 200 and not Material.objects.exists()
    saved = operations.post("/console/toolkit/material/add/", _form(jpeg()))
    assert saved.status_code == 302, saved.content.decode()[:3000]
    material = Material.objects.get()
    assert material.files.get().thumbnail
    listing = operations.get("/console/toolkit/material/").content.decode()
    assert "双十二活动" in listing
    assert _staff("finance").get("/console/toolkit/material/add/").status_code == 403
