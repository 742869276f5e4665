"""Five local stores for the demo brand: the 市代 login's in 杭州 (so its shop is one tap away),
three more agents' in 杭州, 上海 and 成都, and the brand's own flagship, each with a photo, the
hours a shop keeps, and one closed on Mondays. Written once."""

from __future__ import annotations

import datetime as dt
import io

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from weishang.channel.models import Agent, AgentStatus
from weishang.stores.models import Store
from weishang.stores.services import store_photo_add, store_save

# (name, district, address, latitude, longitude, days, opens, closes)
STORES = [
    ("焕颜生活馆·西湖店", "330106", "文三路 259 号", "30.278211", "120.143658", "1111111", (9, 30), (21, 0)),
    (
        "焕颜体验店·滨江",
        "330108",
        "江南大道 588 号",
        "30.209770",
        "120.212030",
        "0111111",
        (10, 0),
        (20, 0),
    ),
    ("焕颜美肤·静安", "310106", "南京西路 1266 号", "31.229530", "121.455170", "1111111", (10, 0), (22, 0)),
    ("焕颜·春熙路店", "510104", "春熙路 32 号", "30.656530", "104.081820", "1111111", (10, 0), (22, 30)),
]
FLAGSHIP = ("焕颜品牌旗舰店", "330102", "湖滨路 18 号", "30.257080", "120.163340", "1111111", (9, 0), (21, 30))


def _photo(label: str, hue: tuple[int, int, int]) -> SimpleUploadedFile:
    picture = Image.new("RGB", (480, 360), hue)
    ImageDraw.Draw(picture).rectangle((40, 220, 440, 320), fill=(255, 255, 255))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=80)
    return SimpleUploadedFile(f"{label}.jpg", buffer.getvalue(), content_type="image/jpeg")


def demo_stores(*, login_phone: str) -> None:
    if Store.objects.exists():
        return
    owner = get_user_model().objects.filter(username="owner").first()
    if owner is None:
        return
    login = Agent.objects.filter(user__phone=login_phone).first()
    others = list(
        Agent.objects.filter(status=AgentStatus.ACTIVE, level__rank__lte=4)
        .exclude(user__phone=login_phone)
        .order_by("pk")[:3]
    )
    owners = [login, *others]
    hues = [(214, 92, 120), (120, 160, 214), (90, 170, 130), (230, 170, 80), (150, 110, 200)]
    for i, (spec, agent) in enumerate(zip([*STORES, FLAGSHIP], [*owners[:4], None], strict=False)):
        name, region, address, lat, lng, days, opens, closes = spec
        store = store_save(
            by=owner,
            agent=agent,
            name=name,
            region=region,
            address=address,
            latitude=lat,
            longitude=lng,
            days=days,
            opens_at=dt.time(*opens),
            closes_at=dt.time(*closes),
            phone="0571-88886666" if agent is None else "",
        )
        store_photo_add(store=store, upload=_photo(name, hues[i]), by=owner)
