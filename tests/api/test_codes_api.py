"""Security codes through the API (M9): the seller scans what they send out with an order
(``POST /fills/{number}/codes``), and a consumer checks a code without logging in
(``GET /public/verify/code``): genuine or not, how often checked, supplied to which level and
region — no name, no phone. Hostile input is a 4xx on its field and changes nothing."""

from __future__ import annotations

import pytest
from codes.test_codes import paid_restock, world  # noqa: F401 - the fixture, reused (tests/ is on sys.path)

from weishang.api.services import token_create
from weishang.codes import symbols
from weishang.codes.models import ChannelConflict, CodeCheck, CodeMove

from .conftest import error_of
from .test_orders import Checked

pytestmark = pytest.mark.django_db


def client(agent=None, **kw) -> Checked:
    return Checked(token=token_create(user=agent.user)[1] if agent else None, **kw)


def test_the_seller_scans_a_box_and_a_consumer_in_chengdu_checks_one_of_its_codes(world):  # noqa: F811
    order = paid_restock(world, 5)
    seller = client(world["city"])
    listed = seller.get(f"/fills/{order.number}").json()
    assert "scan_codes" in listed["next_actions"]
    box = world["batch"].box_codes.first()
    scanned = seller.post(f"/fills/{order.number}/codes", {"codes": [symbols.grouped(box.code).lower()]})
    assert scanned.status_code == 200, scanned.content
    assert CodeMove.objects.filter(order=order).count() == 5

    code = box.items.first().code
    public = client()
    first = public.get("/public/verify/code", {"code": code, "region": "330106"}).json()
    assert first["genuine"] and first["checks"] == 1 and not first["copy_warning"]
    assert (first["supplied_level"], first["supplied_region"]) == ("特约", "浙江省 杭州市 西湖区")
    body = public.get("/public/verify/code", {"code": f"https://x.example/verify/?code={code}", "region": "510104"})
    assert body.json()["checks"] == 2
    assert world["vip"].real_name not in body.content.decode() and world["vip"].phone not in body.content.decode()
    assert ChannelConflict.objects.get().where_id == "510104"

    fake = public.get("/public/verify/code", {"code": symbols.new_item_code()}).json()
    assert not fake["genuine"] and fake["well_formed"] and fake["supplied_level"] == ""


@pytest.mark.parametrize(
    "params, status, field",
    [
        ({}, 422, "code"),
        ({"code": ""}, 422, "code"),
        ({"code": "A" * 201}, 422, "code"),
        ({"code": "ABC\x00DEF"}, 422, "code"),
        ({"code": "ABCD", "region": "成都"}, 422, "region"),
        ({"code": "ABCD", "region": "999999"}, 400, "region"),
        ({"code": "   "}, 400, "code"),
    ],
)
def test_a_bad_check_is_a_4xx_on_its_field(world, params, status, field):  # noqa: F811
    before = CodeCheck.objects.count()
    response = client().get("/public/verify/code", params)
    assert response.status_code == status, response.content
    assert field in error_of(response)["fields"]
    assert CodeCheck.objects.count() == before


def test_checks_are_rate_limited_per_address(world, settings):  # noqa: F811
    settings.WEISHANG_API_RATES = {"public": "3/m"}
    public = client(ip="10.9.9.9")
    answers = [public.get("/public/verify/code", {"code": "ABCD"}).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert client(ip="10.9.9.10").get("/public/verify/code", {"code": "ABCD"}).status_code == 200


@pytest.mark.parametrize(
    "codes, status",
    [([], 422), (["x" * 201], 422), (["A\x00"], 422), ("ABC", 422), (["ZZZZ-ZZZZ-ZZZZ-ZZZZ"], 400)],
)
def test_a_bad_scan_changes_nothing(world, codes, status):  # noqa: F811
    order = paid_restock(world, 2)
    response = client(world["city"]).post(f"/fills/{order.number}/codes", {"codes": codes})
    assert response.status_code == status, response.content
    assert any(name.split(".")[0] == "codes" for name in error_of(response)["fields"])
    assert not CodeMove.objects.exists()


def test_only_the_seller_scans(world, make_agent):  # noqa: F811
    order = paid_restock(world, 2)
    code = world["batch"].item_codes.first().code
    assert client(make_agent("city")).post(f"/fills/{order.number}/codes", {"codes": [code]}).status_code == 404
    assert client(world["vip"]).post(f"/fills/{order.number}/codes", {"codes": [code]}).status_code == 404
    assert client().post(f"/fills/{order.number}/codes", {"codes": [code]}).status_code == 401
    assert not CodeMove.objects.exists()
