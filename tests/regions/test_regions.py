"""Regions (M9): provinces, cities and districts by their national codes (GB/T 2260), loaded
from the data file; the address picker (with and without JavaScript), the public API it reads,
an agent's region changed only through its audited path, and "outside the agent's area"."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from weishang.channel import services as channel_services
from weishang.channel.models import AgentTrail, Application, TrailKind
from weishang.core.errors import BusinessError
from weishang.regions import selectors
from weishang.regions.load import region_rows
from weishang.regions.models import Region
from weishang.regions.services import regions_load

pytestmark = pytest.mark.django_db


def test_the_national_list_is_loaded_with_its_tree_and_full_names():
    assert Region.objects.count() == len(region_rows()) > 3000
    west_lake = Region.objects.get(code="330106")
    assert (west_lake.name, west_lake.kind, west_lake.full_name) == ("西湖区", "district", "浙江省 杭州市 西湖区")
    assert [r.name for r in selectors.region_chain(west_lake)] == ["浙江省", "杭州市", "西湖区"]
    assert Region.objects.get(code="510100").full_name == "四川省 成都市"
    # A municipality's districts sit directly under it; a city without districts is a leaf.
    assert Region.objects.get(code="110105").full_name == "北京市 朝阳区"
    assert Region.objects.get(code="441900").full_name == "广东省 东莞市"
    assert not selectors.children_of("441900")
    provinces = [r.name for r in selectors.children_of()]
    assert {"北京市", "浙江省", "四川省", "新疆维吾尔自治区"} <= set(provinces) and len(provinces) >= 31


def test_loading_again_changes_nothing_and_restores_a_flushed_table():
    assert regions_load() == 0
    Region.objects.filter(kind="district").delete()
    assert regions_load() > 2000
    assert Region.objects.filter(code="330106").exists()


def test_a_region_from_outside_is_checked():
    assert selectors.region_from_input("330106").name == "西湖区"
    assert selectors.region_from_input(" ") is None
    for bad in ("999999", "33010", "33o106", "３３０１０６", "330106'--", "\x00"):
        with pytest.raises(BusinessError) as caught:
            selectors.region_from_input(bad)
        assert caught.value.field == "region"
    with pytest.raises(BusinessError, match="区县"):
        selectors.region_from_input("330100", finest=True)  # 杭州市 has districts
    assert selectors.region_from_input("441900", finest=True).name == "东莞市"


@pytest.mark.parametrize(
    "home, where, outside",
    [
        ("330100", "510104", True),  # an agent of 杭州, a place in 成都
        ("330100", "330106", False),  # 杭州 and its 西湖区
        ("330106", "330102", False),  # a district-level agent counts by their city
        ("330106", "330200", True),  # 宁波 is another city of 浙江
        ("330000", "330206", False),  # a province-level agent: all of 浙江
        ("330000", "510100", True),
        ("330100", "330000", False),  # only the province known: not outside it
        ("330100", "510000", True),
    ],
)
def test_outside_an_agents_area(home, where, outside):
    assert selectors.outside(home=Region.objects.get(pk=home), where=Region.objects.get(pk=where)) is outside


def test_the_picker_api_lists_provinces_then_the_regions_within():
    api = Client()
    provinces = api.get("/api/v1/public/regions").json()
    zhejiang = next(r for r in provinces if r["code"] == "330000")
    assert zhejiang == {
        "code": "330000",
        "name": "浙江省",
        "full_name": "浙江省",
        "kind": "province",
        "has_children": True,
    }
    cities = api.get("/api/v1/public/regions", {"parent": "330000"}).json()
    assert [c["name"] for c in cities][:2] == ["杭州市", "宁波市"]
    districts = api.get("/api/v1/public/regions", {"parent": "330100"}).json()
    assert "西湖区" in [d["name"] for d in districts] and not any(d["has_children"] for d in districts)
    assert api.get("/api/v1/public/regions", {"parent": "999999"}).status_code == 404
    for hostile in ("33", "330100' OR 1=1", "%00", "３３００００"):
        answer = api.get("/api/v1/public/regions", {"parent": hostile})
        assert answer.status_code == 422 and answer.json()["error"]["fields"], hostile


def test_join_form_keeps_the_applicants_region_through_approval(make_agent):
    city = make_agent("city")
    client = Client()
    page = client.get(f"/join/{city.invite_code}/").content.decode()
    assert 'name="region_1"' in page and "浙江省" in page
    response = client.post(
        f"/join/{city.invite_code}/",
        {
            "real_name": "王芳",
            "phone": "13700001111",
            "level": "vip",
            "password": "Glow-2026-spring",
            "region_1": "510000",
            "region_2": "510100",
        },
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    application = Application.objects.get(phone="13700001111")
    assert application.region.full_name == "四川省 成都市"
    agent = channel_services.application_approve(application=application, by=city.user)
    assert agent.region_id == "510100"


def test_without_javascript_each_submit_opens_the_next_choice(make_agent):
    """The picker's selects are plain form fields: a province sent alone comes back with its
    cities to choose from; a city left over after the province changed is dropped."""
    from weishang.web.regions import RegionField, _consistent

    assert _consistent(["330000", "330100", "330106"]) == "330106"
    assert _consistent(["510000", "330100", "330106"]) == "510000"  # the province changed
    assert _consistent(["110000", "110105", ""]) == "110105"
    assert _consistent(["x", "330100"]) == ""

    field = RegionField()
    html = field.widget.render("region", "330100")
    selects = re.findall(r'<select name="(region_\d)"[^>]*>', html)
    assert selects == ["region_1", "region_2", "region_3"]
    assert re.search(r'<option value="330100" selected>杭州市</option>', html)
    assert '<option value="330106">西湖区</option>' in html


def test_an_agents_region_changes_only_through_its_trail(make_agent, django_user_model):
    agent = make_agent("city")
    owner = django_user_model.objects.create_superuser(username="owner", password="x", phone="13000000009")
    channel_services.agent_set_region(agent=agent, region="330100", by=owner, reason="授权杭州")
    agent.refresh_from_db()
    assert agent.region.name == "杭州市"
    row = AgentTrail.objects.get(agent=agent, kind=TrailKind.REGION)
    assert (row.old_value, row.new_value, row.changed_by, row.reason) == ("", "浙江省 杭州市", owner, "授权杭州")
    with pytest.raises(BusinessError):
        channel_services.agent_set_region(agent=agent, region="000000", by=owner)
    agent.refresh_from_db()
    assert agent.region_id == "330100" and AgentTrail.objects.filter(kind=TrailKind.REGION).count() == 1


def test_the_console_sets_a_region_for_staff_who_may_move_agents(make_agent, django_user_model):
    agent = make_agent("city")
    owner = django_user_model.objects.create_superuser(username="owner", password="x", phone="13000000009")
    console = Client()
    console.force_login(owner)
    url = f"/console/channel/agent/{agent.pk}/relations/"
    response = console.post(url, {"action": "region", "region": "510100", "reason": "调往成都"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.region_id == "510100"
    bad = console.post(url, {"action": "region", "region": "51010x", "reason": "x"})
    assert bad.status_code == 400
    agent.refresh_from_db()
    assert agent.region_id == "510100"
