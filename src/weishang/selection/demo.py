"""The demo brand's product selection: the serum it sells (adopted: it is the catalog's 焕颜修护精华),
an enzyme jelly on the shortlist with a photo of its box, and a beauty device turned down on its
price. Written once."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from weishang.catalog.models import SKU
from weishang.selection import services
from weishang.selection.models import Candidate, CandidateStatus, Criterion

# name, category, retail, cost, source, status, {criterion code: score}, note
CANDIDATES = [
    (
        "焕颜修护精华 30ml",
        "护肤",
        "298",
        "42",
        "广州某化妆品 OEM 工厂",
        CandidateStatus.ADOPTED,
        {"audience": 5, "effect": 4, "storage": 5, "shipping": 5, "packaging": 5, "repeat": 4},
        "试用 20 人，两周肤感明显改善；瓶身拍照好看。",
    ),
    (
        "白芸豆酵素果冻",
        "大健康",
        "168",
        "31",
        "浙江某食品厂",
        CandidateStatus.SHORTLISTED,
        {"audience": 5, "effect": 4, "storage": 3, "shipping": 4, "packaging": 4, "repeat": 5},
        "口感好，条装便于携带；保质期 18 个月。",
    ),
    (
        "射频美容仪",
        "美容仪器",
        "1280",
        "420",
        "深圳某电子厂",
        CandidateStatus.REJECTED,
        {"audience": 2, "effect": 3, "storage": 4, "shipping": 2, "packaging": 4, "repeat": 1},
        "价格远超 300 元，代理拿货压力大；不复购。",
    ),
]


def _box_photo(text: str) -> SimpleUploadedFile:
    image = Image.new("RGB", (480, 360), (250, 236, 214))
    draw = ImageDraw.Draw(image)
    draw.rectangle((140, 70, 340, 300), fill=(214, 120, 76))
    draw.text((160, 170), text, fill=(255, 255, 255))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return SimpleUploadedFile("box.png", buf.getvalue(), content_type="image/png")


def selection_demo(*, by=None) -> None:
    if Candidate.objects.exists():
        return
    services.criteria_ensure()
    criteria = {c.code: c for c in Criterion.objects.all()}
    serum = SKU.objects.filter(code="GLOW-30ML").select_related("product").first()
    for name, category, retail, cost, source, status, scores, note in CANDIDATES:
        candidate = services.candidate_save(
            name=name,
            category=category,
            retail_price=Decimal(retail),
            unit_cost=Decimal(cost),
            source=source,
            notes=note,
            by=by,
        )
        services.candidate_score(
            candidate=candidate,
            scores={criteria[code].pk: (score, "") for code, score in scores.items() if code in criteria},
            by=by,
        )
        if status == CandidateStatus.ADOPTED:
            if serum is not None:  # adopted long ago: the catalog's product is the one it became
                Candidate.objects.filter(pk=candidate.pk).update(status=status, product=serum.product)
            continue
        services.candidate_photo_add(candidate=candidate, upload=_box_photo("SAMPLE"), caption="样品包装", by=by)
        services.candidate_set_status(candidate=candidate, status=status, by=by)
