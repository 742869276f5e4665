"""A product's content (launch toolkit, M9): selling points, specification, ingredients, usage and
ordered pictures whose thumbnails are made once, on upload. Agents see the thumbnails when they
order and consumers in the shop; anyone opens the product's page and its pictures. Bad pictures
are refused with a clear message and leave nothing behind; only roles with the permission add
pictures in the console."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from weishang.catalog import selectors, services
from weishang.catalog.models import SKU, Product, ProductImage
from weishang.core.errors import BusinessError
from weishang.core.models import Brand, SupplyMode
from weishang.core.roles import role_group_name, roles_sync


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def product(db):
    Brand.objects.create(name="焕颜 GLOW", supply_mode=SupplyMode.CLOUD)
    product = Product.objects.create(
        name="焕颜修护系列",
        selling_points="积雪草修护\n无香精\n\n",
        specification="精华 30ml",
        ingredients="积雪草提取物",
        usage="洁面后使用",
        description="<script>alert(1)</script>\n第二段",
    )
    SKU.objects.create(product=product, code="GLOW-30", name="焕颜精华 30ml", retail_price=Decimal("100"))
    return product


def photo(size=(1200, 900), *, fmt="JPEG", name="photo.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (180, 210, 190)).save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def stored(tmp_path) -> list[str]:
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())


def test_a_picture_gets_its_thumbnail_once_on_upload(product):
    image = services.product_image_add(product=product, upload=photo(), caption="正面")
    with image.thumbnail.open("rb") as handle, Image.open(handle) as thumb:
        assert max(thumb.size) == 320 and thumb.format == "JPEG"
    with image.image.open("rb") as handle, Image.open(handle) as full:
        assert full.size == (1200, 900)
    assert image.image.name.startswith("products/") and "photo" not in image.image.name


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (None, "请选择图片"),
        (SimpleUploadedFile("x.jpg", b"<html>not a picture</html>", content_type="image/jpeg"), "图片须为 JPEG"),
        (SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"0" * (5 * 1024 * 1024), content_type="image/jpeg"), "超过 5 MB"),
    ],
)
def test_a_bad_picture_is_refused_and_leaves_nothing(product, upload, message, tmp_path):
    with pytest.raises(BusinessError) as refused:
        services.product_image_add(product=product, upload=upload)
    assert message in str(refused.value.message)
    assert not ProductImage.objects.exists() and stored(tmp_path) == []


def test_deleting_a_picture_removes_its_files(product, tmp_path):
    image = services.product_image_add(product=product, upload=photo())
    assert len(stored(tmp_path)) == 2
    services.product_image_delete(image=image)
    assert stored(tmp_path) == [] and not ProductImage.objects.exists()


def test_thumbnails_for_a_list_cost_one_query(product):
    services.product_image_add(product=product, upload=photo(), position=1)
    first = services.product_image_add(product=product, upload=photo(), position=0)
    skus = list(SKU.objects.all())
    with CaptureQueriesContext(connection) as queries:
        selectors.with_thumbnails(skus)
    assert len(queries) == 1 and skus[0].thumbnail == first


def test_the_product_page_shows_its_content_escaped_and_its_pictures(product, client):
    image = services.product_image_add(product=product, upload=photo(), caption="正面")
    page = client.get(f"/p/{product.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    text = page.content.decode()
    assert "<li>积雪草修护</li>" in text and "<li>无香精</li>" in text and "<li></li>" not in text
    assert "&lt;script&gt;" in text and "<script>alert(1)" not in text
    assert "精华 30ml" in text and "积雪草提取物" in text and "洁面后使用" in text and "¥100.00" in text
    assert f'src="/p/images/{image.pk}/thumb/"' in text
    thumb = client.get(f"/p/images/{image.pk}/thumb/")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert thumb["Cache-Control"].startswith("public")
    for url in (f"/p/images/{image.pk}/huge/", "/p/images/999999/thumb/", "/p/99999999/", "/p/abc/"):
        assert client.get(url).status_code == 404, url
    product.active = False
    product.save()
    assert client.get(f"/p/{product.pk}/").status_code == 404
    assert client.get(f"/p/images/{image.pk}/thumb/").status_code == 404


def test_the_shop_and_the_order_form_show_thumbnails(product, make_agent):
    image = services.product_image_add(product=product, upload=photo())
    city = make_agent("city", real_name="市代王芳")
    vip = make_agent("vip", referrer=city, real_name="特约李娜")
    shop = Client().get(f"/s/{city.invite_code}/").content.decode()
    assert f'src="/p/images/{image.pk}/thumb/"' in shop and f'href="/p/{product.pk}/"' in shop
    client = Client()
    client.force_login(vip.user)
    order_form = client.get("/m/order/").content.decode()
    assert f'src="/p/images/{image.pk}/thumb/"' in order_form


def _staff(role):
    roles_sync()
    user = get_user_model().objects.create_user(username=f"{role}-u", password="staff-pass-123", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role_group_name(role)))
    client = Client()
    client.force_login(user)
    return client


def _change_form(product, upload) -> dict:
    return {
        "name": product.name,
        "active": "on",
        "selling_points": "卖点一",
        "description": "",
        "specification": "",
        "ingredients": "",
        "usage": "",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "images-0-caption": "主图",
        "images-0-position": "0",
        "images-0-image": upload,
        "skus-TOTAL_FORMS": "1",
        "skus-INITIAL_FORMS": "1",
        "skus-MIN_NUM_FORMS": "0",
        "skus-MAX_NUM_FORMS": "1000",
        **{f"skus-0-{k}": v for k, v in _sku_fields(product).items()},
    }


def _sku_fields(product) -> dict:
    sku = product.skus.get()
    return {
        "id": sku.pk,
        "product": product.pk,
        "code": sku.code,
        "name": sku.name,
        "barcode": sku.barcode,
        "retail_price": sku.retail_price,
        "weight_grams": sku.weight_grams,
        "active": "on",
        "min_order_qty": sku.min_order_qty,
        "max_per_order": "",
        "max_per_day": "",
        "max_per_week": "",
        "max_per_month": "",
    }


def test_operations_add_a_picture_in_the_console_and_a_bad_one_is_refused(product):
    operations = _staff("operations")
    url = f"/console/catalog/product/{product.pk}/change/"
    refused = operations.post(
        url, _change_form(product, SimpleUploadedFile("x.jpg", b"GIF89a-not", content_type="image/jpeg"))
    )
    assert refused.status_code == 200 and "图片须为 JPEG" in refused.content.decode()
    assert not ProductImage.objects.exists()
    saved = operations.post(url, _change_form(product, photo()))
    assert saved.status_code == 302, saved.content.decode()[:2000]
    image = ProductImage.objects.get()
    assert image.caption == "主图" and image.thumbnail
    assert "卖点一" == Product.objects.get(pk=product.pk).selling_points


def test_finance_cannot_add_pictures(product):
    finance = _staff("finance")
    response = finance.post(f"/console/catalog/product/{product.pk}/change/", _change_form(product, photo()))
    assert response.status_code == 403
    assert not ProductImage.objects.exists()
