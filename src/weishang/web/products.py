"""Products as agents and consumers see them: a product's public page (its pictures, selling
points, specification, ingredients and usage, its SKUs at retail price) and its pictures, which
anyone may open (they are what agents post in 朋友圈). Shared in WeChat, a product's page opens as
a card with its name, selling points and first picture."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from weishang.catalog import selectors as catalog
from weishang.catalog.models import ProductImage
from weishang.core.files import image_response
from weishang.core.selectors import brand_get
from weishang.web import wechat_views

# Product pictures are public and change only by being replaced (a new picture, a new name).
PUBLIC_IMAGE_CACHE = "public, max-age=86400"


def with_thumbnails(rows: list[tuple]) -> list[tuple]:
    """Rows whose first item is a SKU, each SKU with its product's ``thumbnail`` (one query)."""
    rows = list(rows)
    catalog.with_thumbnails(row[0] for row in rows)
    return rows


def product_page(request, product_id: int):
    product = catalog.product_for_page(product_id)
    if product is None:
        raise Http404
    points = [line.strip() for line in product.selling_points.splitlines() if line.strip()]
    images = list(product.images.all())
    brand = brand_get()
    card = wechat_views.share_context(
        request,
        title=f"{product.name} · {brand.name}",
        desc="，".join(points[:3]) or product.name,
        image=reverse("web:product_image", args=[images[0].pk, "thumb"]) if images else "",
    )
    return render(
        request, "web/product.html", {"brand": brand, "product": product, "points": points, "images": images, **card}
    )


def product_image(request, image_id: int, size: str):
    image = get_object_or_404(ProductImage.objects.filter(product__active=True), pk=image_id)
    if size not in ("thumb", "full"):
        raise Http404
    return image_response(image.thumbnail if size == "thumb" else image.image, cache=PUBLIC_IMAGE_CACHE)
