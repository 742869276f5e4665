"""Products and materials open as share cards: a product's public page carries its name, selling
points and first picture; an agent shares a material every level may see as their own link, which
opens for anyone (its text, pictures, the agent's shop) with the same card, while a material kept
for some levels, an unpublished one, or a link of a suspended agent opens nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from tests.toolkit.test_materials import jpeg, mp4, publish
from weishang.catalog import services as catalog_services
from weishang.catalog.models import Product
from weishang.core.models import Brand
from weishang.toolkit.models import Material

WECHAT_UA = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50 NetType/WIFI Language/zh_CN"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def card(html: str) -> dict:
    found = re.search(
        r'<script id="share-card"[^>]*data-title="([^"]*)" data-desc="([^"]*)" data-image="([^"]*)"', html
    )
    return dict(zip(("title", "desc", "image"), found.groups(), strict=True)) if found else {}


def test_a_products_page_is_a_card_with_its_picture(make_agent):
    Brand.objects.create(name="焕颜 GLOW")
    product = Product.objects.create(name="焕颜修护精华", selling_points="修护屏障\n温和不刺激\n28天见效\n第四点")
    catalog_services.product_image_add(product=product, upload=jpeg(), caption="")
    page = Client(HTTP_USER_AGENT=WECHAT_UA).get(f"/p/{product.pk}/").content.decode()
    shown = card(page)
    assert shown["title"] == "焕颜修护精华 · 焕颜 GLOW" and shown["desc"] == "修护屏障，温和不刺激，28天见效"
    assert shown["image"].startswith("http://testserver/p/images/") and shown["image"].endswith("/thumb/")
    assert Client().get(shown["image"].removeprefix("http://testserver")).status_code == 200
    elsewhere = Client().get(f"/p/{product.pk}/").content.decode()
    assert card(elsewhere) == {} and 'og:title" content="焕颜修护精华 · 焕颜 GLOW"' in elsewhere


def test_an_agent_shares_a_material_for_everyone_and_not_one_kept_for_levels(make_agent, levels, clock):
    Brand.objects.create(name="焕颜 GLOW")
    city = make_agent("city", real_name="市代王芳")
    product = Product.objects.create(name="焕颜修护系列")
    post = publish("双十二囤货", text="修护精华买二送一\n今晚八点开抢", files=[jpeg(), mp4()], product=product)
    inside = publish("市代内部政策", level=levels["city"], text="内部价")
    later = publish("明天发", ago=timedelta(days=-1))

    agent = Client()
    agent.force_login(city.user)
    materials = agent.get("/m/materials/").content.decode()
    assert f"/s/{city.invite_code}/post/{post.pk}/" in materials
    assert f"/s/{city.invite_code}/post/{inside.pk}/" not in materials

    friend = Client(HTTP_USER_AGENT=WECHAT_UA)
    page = friend.get(f"/s/{city.invite_code}/post/{post.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "今晚八点开抢" in html and "市代王芳" in html
    assert f'href="/s/{city.invite_code}/"' in html and f'href="/p/{product.pk}/"' in html
    shown = card(html)
    assert shown["title"] == "双十二囤货" and shown["desc"].startswith("修护精华买二送一")
    picture, video = Material.objects.get(pk=post.pk).files.order_by("position")
    assert shown["image"].endswith(f"/s/{city.invite_code}/post/{post.pk}/files/{picture.pk}/thumb/")
    assert friend.get(shown["image"].removeprefix("http://testserver")).status_code == 200
    full = friend.get(f"/s/{city.invite_code}/post/{post.pk}/files/{video.pk}/full/")
    assert full.status_code == 200 and full["Content-Type"] == "video/mp4"

    for path in (
        f"/s/{city.invite_code}/post/{inside.pk}/",  # kept for 市代 and above
        f"/s/{city.invite_code}/post/{later.pk}/",  # not published yet
        f"/s/{city.invite_code}/post/{inside.pk}/files/{picture.pk}/thumb/",  # another material's file
        f"/s/{city.invite_code}/post/{post.pk}/files/{picture.pk}/huge/",
        f"/s/NOSUCHCODE/post/{post.pk}/",
        f"/s/{city.invite_code}/post/99999999/",
    ):
        assert friend.get(path).status_code == 404, path
    city.status = "suspended"
    city.save(update_fields=["status"])
    assert friend.get(f"/s/{city.invite_code}/post/{post.pk}/").status_code == 404
