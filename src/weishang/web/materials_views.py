"""The material centre (素材中心) on the phone: the brand's 朋友圈 texts, pictures and videos, by
product, as the agent's level may see them. The agent copies a text in one tap, downloads a file
or all of a material's files as one zip, and sees what is new since their last visit. Each copy
and download is recorded (the brand sees what is used most).

A material every level may see can also be shared outside the channel: the agent's link
``/s/<invite code>/post/<id>/`` opens it for anyone, as a WeChat share card, with the way to the
agent's shop (``shared_post``); a material kept for some levels stays inside."""

from __future__ import annotations

import io
import zipfile

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from weishang.catalog.selectors import products_on_sale
from weishang.channel import selectors as channel_selectors
from weishang.channel.models import AgentStatus
from weishang.core.files import image_response
from weishang.core.selectors import brand_get
from weishang.toolkit import selectors, services
from weishang.toolkit.models import MaterialUseKind
from weishang.web import wechat_views
from weishang.web.agents import current_agent


def _product_id(request) -> int | None:
    text = request.GET.get("product", "")
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) < 10 else None


@login_required
def materials(request):
    me = current_agent(request)
    product_id = _product_id(request)
    rows = list(selectors.materials_for(agent=me, product_id=product_id)[:50])
    last_seen = services.materials_seen(agent=me)
    for row in rows:
        row.is_new = last_seen is None or row.published_at > last_seen
    return render(
        request,
        "web/materials.html",
        {
            "brand": brand_get(),
            "me": me,
            "materials": rows,
            "new_count": sum(row.is_new for row in rows),
            "products": products_on_sale(),
            "product_id": product_id,
        },
    )


def _material(request, material_id: int):
    me = current_agent(request)
    material = selectors.material_for(agent=me, material_id=material_id)
    if material is None:
        raise Http404
    return me, material


@login_required
@require_POST
def material_copied(request, material_id: int):
    """The copy button tells the server it copied the text (for the brand's counts); 204."""
    me, material = _material(request, material_id)
    services.material_used(material=material, agent=me, kind=MaterialUseKind.COPY)
    return HttpResponse(status=204)


@login_required
def material_file(request, material_id: int, file_id: int, size: str = "full"):
    """One file of a material: its thumbnail (to show) or the file itself (a download, counted)."""
    me, material = _material(request, material_id)
    row = next((f for f in material.files.all() if f.pk == file_id), None)
    if row is None or size not in ("thumb", "full") or (size == "thumb" and not row.thumbnail):
        raise Http404
    if size == "thumb":
        return image_response(row.thumbnail, cache="private, max-age=3600")
    services.material_used(material=material, agent=me, kind=MaterialUseKind.DOWNLOAD)
    if row.is_video:
        response = FileResponse(row.file.open("rb"), content_type="video/mp4")
    else:
        response = image_response(row.file, cache="private, max-age=3600")
    extension = row.file.name.rsplit(".", 1)[-1]
    response["Content-Disposition"] = f'attachment; filename="material-{material.pk}-{row.position + 1}.{extension}"'
    return response


@login_required
def material_zip(request, material_id: int):
    """All of a material's files, and its text, as one zip (counted as one download)."""
    me, material = _material(request, material_id)
    files = list(material.files.all())
    if not files:
        raise Http404
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number, row in enumerate(files, start=1):
            with row.file.open("rb") as handle:
                archive.writestr(f"{number:02d}.{row.file.name.rsplit('.', 1)[-1]}", handle.read())
        if material.text:
            archive.writestr("文案.txt", material.text)
    services.material_used(material=material, agent=me, kind=MaterialUseKind.DOWNLOAD_ALL)
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="material-{material.pk}.zip"'
    return response


def _shared(code: str, material_id: int):
    seller = channel_selectors.agent_by_invite_code(code)
    material = selectors.material_public(material_id=material_id)
    if seller is None or seller.status != AgentStatus.ACTIVE or material is None:
        raise Http404
    return seller, material


def shared_post(request, code: str, material_id: int):
    """A material an agent shared: its text and pictures for anyone, and the agent's shop."""
    seller, material = _shared(code, material_id)
    files = list(material.files.all())
    picture = next((f for f in files if not f.is_video and f.thumbnail), None)
    card = wechat_views.share_context(
        request,
        title=material.title,
        desc=material.text[:120] or _("From %(name)s's shop") % {"name": seller.real_name},
        image=reverse("web:shared_post_file", args=[code, material.pk, picture.pk, "thumb"]) if picture else "",
    )
    return render(
        request,
        "web/shared_post.html",
        {"brand": brand_get(), "seller": seller, "material": material, "files": files, "code": code, **card},
    )


def shared_post_file(request, code: str, material_id: int, file_id: int, size: str):
    """A picture (or its thumbnail) or video of a shared material, for anyone."""
    seller, material = _shared(code, material_id)
    row = next((f for f in material.files.all() if f.pk == file_id), None)
    if row is None or size not in ("thumb", "full") or (size == "thumb" and not row.thumbnail):
        raise Http404
    if size == "full" and row.is_video:
        return FileResponse(row.file.open("rb"), content_type="video/mp4")
    return image_response(row.thumbnail if size == "thumb" else row.file, cache="public, max-age=3600")
