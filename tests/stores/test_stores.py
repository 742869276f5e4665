"""Local stores (M10): an agent sets up their store on the phone; consumers find stores nearest
first from their location (distances checked against an independent computation) or by district;
hours say whether a store is open now; hostile input changes nothing and never errors."""

from __future__ import annotations

import datetime as dt
import io
import math
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from weishang.channel.services import agent_change_status
from weishang.core.errors import BusinessError, Forbidden
from weishang.stores.models import Store, StorePhoto, StoreStatus
from weishang.stores.selectors import is_open, stores_in, stores_near
from weishang.stores.services import store_photo_add, store_save, store_set_status

pytestmark = pytest.mark.django_db

WEST_LAKE = (30.2592, 120.1300)  # a consumer by the West Lake, 杭州


def jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 80, 120)).save(buffer, "JPEG")
    return SimpleUploadedFile("shop.jpg", buffer.getvalue(), content_type="image/jpeg")


def open_store(agent, name, region, lat, lng, **kw):
    return store_save(
        by=agent.user,
        agent=agent,
        name=name,
        region=region,
        address="某路 1 号",
        latitude=lat,
        longitude=lng,
        opens_at=kw.pop("opens_at", dt.time(9)),
        closes_at=kw.pop("closes_at", dt.time(21)),
        **kw,
    )


def km(a, b):
    """Haversine on the IUGG mean radius, written out again here."""
    (la1, lo1), (la2, lo2) = a, b
    h = (
        math.sin(math.radians(la2 - la1) / 2) ** 2
        + math.cos(math.radians(la1)) * math.cos(math.radians(la2)) * math.sin(math.radians(lo2 - lo1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


@pytest.fixture
def three(make_agent):
    xihu = open_store(make_agent("city"), "西湖店", "330106", "30.278211", "120.143658")
    binjiang = open_store(make_agent("city"), "滨江店", "330108", "30.209770", "120.212030")
    jingan = open_store(make_agent("city"), "静安店", "310106", "31.229530", "121.455170")
    return xihu, binjiang, jingan


def test_nearest_first_with_the_distance_a_map_would_give(three):
    xihu, binjiang, jingan = three
    found = stores_near(latitude=WEST_LAKE[0], longitude=WEST_LAKE[1])
    assert [n.store for n in found] == [xihu, binjiang, jingan]
    for n in found:
        expected = km(WEST_LAKE, (float(n.store.latitude), float(n.store.longitude)))
        assert n.km == pytest.approx(expected, rel=1e-9)
    assert found[2].km == pytest.approx(164, abs=3)  # 杭州 to 上海 静安, as the crow flies


def test_a_district_lists_its_own_stores_then_its_city_then_the_rest(three, make_agent):
    xihu, binjiang, jingan = three
    assert [n.store for n in stores_in(region=binjiang.region)] == [binjiang, xihu, jingan]
    assert [n.store for n in stores_in(region=jingan.region)][0] == jingan
    store_set_status(store=xihu, status=StoreStatus.HIDDEN, by=xihu.agent.user)
    assert xihu not in [n.store for n in stores_near(latitude=WEST_LAKE[0], longitude=WEST_LAKE[1])]
    agent_change_status(agent=binjiang.agent, action="suspend", reason="窜货")
    assert [n.store for n in stores_in(region=binjiang.region)] == [jingan]  # a suspended agent's store is not offered


def test_open_now_follows_the_days_and_hours_in_china_time(make_agent):
    night = open_store(
        make_agent("city"),
        "夜宵店",
        "330106",
        "30.27",
        "120.14",
        days="0111111",
        opens_at=dt.time(18),
        closes_at=dt.time(2),
    )
    cst = dt.timezone(dt.timedelta(hours=8))
    assert not is_open(night, datetime(2026, 11, 30, 19, 0, tzinfo=cst))  # a Monday: closed
    assert is_open(night, datetime(2026, 12, 1, 19, 0, tzinfo=cst))  # Tuesday evening
    assert is_open(night, datetime(2026, 12, 2, 1, 30, tzinfo=cst))  # after midnight, Tuesday's hours
    assert not is_open(night, datetime(2026, 12, 1, 1, 30, tzinfo=cst))  # Monday night: closed
    assert not is_open(night, datetime(2026, 12, 1, 12, 0, tzinfo=cst))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"latitude": "999"}, "latitude"),
        ({"longitude": "abc"}, "longitude"),
        ({"latitude": "NaN"}, "latitude"),
        ({"region": "../"}, "region"),
        ({"region": "330100"}, "region"),  # a city: the district is needed
        ({"name": ""}, "name"),
        ({"days": "0000000"}, "days"),
        ({"days": "1111"}, "days"),
        ({"phone": "110"}, "phone"),
        ({"closes_at": dt.time(9)}, "opens_at"),
    ],
)
def test_bad_stores_are_refused(make_agent, change, field):
    agent = make_agent("city")
    args = {"name": "店", "region": "330106", "latitude": "30.1", "longitude": "120.1"} | change
    with pytest.raises(BusinessError) as exc:
        open_store(agent, args.pop("name"), args.pop("region"), args.pop("latitude"), args.pop("longitude"), **args)
    assert exc.value.field == field
    assert Store.objects.count() == 0


def test_only_the_owner_or_the_brand_changes_a_store(three, make_agent):
    xihu = three[0]
    other = make_agent("city")
    with pytest.raises(Forbidden):
        store_save(
            by=other.user,
            store=xihu,
            name="抢来的店",
            region="330106",
            address="x",
            latitude="30",
            longitude="120",
            opens_at=dt.time(9),
            closes_at=dt.time(18),
        )
    with pytest.raises(Forbidden):
        store_photo_add(store=xihu, upload=jpeg(), by=other.user)
    with pytest.raises(BusinessError):
        store_photo_add(store=xihu, upload=SimpleUploadedFile("x.jpg", b"not a picture"), by=xihu.agent.user)
    assert StorePhoto.objects.count() == 0


def test_an_agent_sets_up_their_store_on_the_phone(make_agent):
    agent = make_agent("city")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(agent.user)
    assert "我的门店" in client.get("/m/me/").content.decode()
    form = {
        "name": "王姐的店",
        "region": "330106",
        "address": "文三路 100 号",
        "latitude": "30.278",
        "longitude": "120.143",
        "days": ["0", "1", "2", "3", "4", "5"],
        "opens_at": "09:30",
        "closes_at": "21:00",
        "listed": "on",
        "photo": jpeg(),
    }
    assert client.post("/m/store/", form).status_code == 302
    store = Store.objects.get(agent=agent)
    assert (store.days, store.status, store.photos.count()) == ("1111110", StoreStatus.LISTED, 1)
    bad = client.post("/m/store/", form | {"latitude": "91", "photo": ""})
    assert bad.status_code == 400
    store.refresh_from_db()
    assert str(store.latitude) == "30.278000"


def test_consumers_find_stores_on_the_public_page_and_the_api(three, clock):
    clock.freeze(datetime(2026, 12, 1, 10, 0))
    xihu = three[0]
    store_photo_add(store=xihu, upload=jpeg(), by=xihu.agent.user)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = client.get("/stores/", {"lat": WEST_LAKE[0], "lng": WEST_LAKE[1]}).content.decode()
    assert page.index("西湖店") < page.index("滨江店") < page.index("静安店")
    assert f"/s/{xihu.agent.invite_code}/" in page and "营业中" in page
    by_district = client.get("/stores/", {"region_1": "310000", "region_2": "310100", "region_3": "310106"})
    assert by_district.content.decode().index("静安店") < by_district.content.decode().index("西湖店")
    photo = xihu.photos.get()
    assert client.get(f"/stores/photos/{photo.pk}/thumb/").status_code == 200
    api = client.get("/api/v1/public/stores", {"lat": WEST_LAKE[0], "lng": WEST_LAKE[1], "limit": 2}).json()
    assert [s["name"] for s in api] == ["西湖店", "滨江店"] and api[0]["open_now"] is True
    assert api[0]["shop"].endswith(f"/s/{xihu.agent.invite_code}/")


@pytest.mark.parametrize(
    "query",
    [
        {"lat": "999", "lng": "120"},
        {"lat": "abc", "lng": "120"},
        {"region": "../"},
        {"region": "999999"},
        {"lat": "30"},
        {},
        {"lat": "30", "lng": "120", "limit": "100000"},
    ],
)
def test_hostile_queries_get_a_4xx_with_fields(three, query):
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/api/v1/public/stores", query)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


@pytest.mark.parametrize("query", ["lat=999&lng=1", "lat=abc", "region_1=../", "region=1' or 1=1"])
def test_the_page_answers_hostile_queries_without_an_error(three, query):
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(f"/stores/?{query}")
    assert response.status_code in (200, 400)


def test_a_hidden_stores_photo_is_not_served(three):
    xihu = three[0]
    photo = store_photo_add(store=xihu, upload=jpeg(), by=xihu.agent.user)
    store_set_status(store=xihu, status=StoreStatus.HIDDEN, by=xihu.agent.user)
    assert Client().get(f"/stores/photos/{photo.pk}/full/").status_code == 404
