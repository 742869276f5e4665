"""The join form as a newcomer sees it (M7 item 12): the level the invite link names is chosen (the
lowest when it names none, not the top level 联创), each level shows what it costs and asks (from
the plan in force where there is one), and a bad submission lists every problem at once, in our
own Chinese words (no Django stock wording such as "确保该变量至少包含 8 字符")."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.channel.models import Application
from weishang.core.models import Brand

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "plans"
STOCK_WORDING = [
    "确保",
    "该变量",
    "这个字段是必填项",
    "This field",
    "Ensure this value",
    "entirely numeric",
    "too common.",
    "此密码太短",
]


class Radios(HTMLParser):
    def __init__(self):
        super().__init__()
        self.radios: dict[str, bool] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "radio" and a.get("name") == "level":
            self.radios[a["value"]] = "checked" in a


def checked(response) -> list[str]:
    parser = Radios()
    parser.feed(response.content.decode())
    return [code for code, on in parser.radios.items() if on]


def card(response, code: str) -> str:
    """The text of one level's choice on the page."""
    html = response.content.decode()
    match = re.search(rf'<label class="choice[^"]*" data-testid="level-{code}">(.*?)</label>', html, re.S)
    assert match, f"no choice for {code}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


@pytest.fixture
def city(make_agent):
    province = make_agent("province", real_name="省代小张")
    return make_agent("city", referrer=province, real_name="市代小刘")


@pytest.fixture
def serum(levels):
    product = Product.objects.create(name="焕颜修护系列")
    sku = SKU.objects.create(product=product, code="GLOW-30ML", name="焕颜修护精华 30ml", retail_price=Decimal("298"))
    LevelPrice.objects.create(sku=sku, level=levels["vip"], price=Decimal("230"))
    return sku


def test_the_level_the_invite_link_names_is_chosen(client, city):
    response = client.get(f"/join/{city.invite_code}/?level=city")
    assert response.status_code == 200
    assert checked(response) == ["city"]
    assert "邀请您以市代身份加入" in response.content.decode()


@pytest.mark.parametrize("query", ["", "?level=nonsense", "?level="])
def test_without_a_named_level_the_lowest_is_chosen_not_the_top(client, city, query):
    response = client.get(f"/join/{city.invite_code}/{query}")
    assert checked(response) == ["vip"]
    assert checked(client.get(f"/join/{query}")) == ["vip"]


def test_each_level_shows_its_price_and_conditions(client, city, serum):
    response = client.get(f"/join/{city.invite_code}/")
    vip = card(response, "vip")
    assert "特约" in vip and "首批进货（授权单）至少 ¥298.00" in vip
    assert "拿货价" in vip and "焕颜修护精华 30ml ¥230.00" in vip
    assert "每次补货至少" not in vip and "由发货上级审核" in vip  # one unit is no condition worth a line
    partner = card(response, "partner")
    assert "¥100000.00" in partner and "¥89.40" in partner  # 298 × 0.30: no price set for 联创
    assert "每次补货至少 100 件" in partner and "由品牌方审核" in partner


def test_with_a_plan_in_force_the_terms_come_from_the_plan(client, db):
    from weishang.rewards import plan_versions

    Brand.objects.create(name="焕颜 GLOW", jurisdiction="uk")
    product = Product.objects.create(name="焕颜修护系列")
    for code, name, retail in (
        ("GLOW-30ML", "焕颜修护精华 30ml", "298"),
        ("GLOW-50G", "焕颜修护面霜 50g", "198"),
        ("GLOW-MASK5", "焕颜补水面膜 5片装", "99"),
        ("GLOW-GIFT398", "焕颜大礼包", "398"),
    ):
        SKU.objects.create(product=product, code=code, name=name, retail_price=Decimal(retail))
    name = "glow-social-mall.yaml"
    version = plan_versions.plan_upload(text=(EXAMPLES / name).read_text(encoding="utf-8"), filename=name)
    plan_versions.plan_activate(
        version=version, acknowledgement="测试：已知悉 HIGH 风险 / test: HIGH findings accepted"
    )
    response = client.get("/join/")
    assert checked(response) == ["member"]
    member = card(response, "member")
    assert "购买礼包 焕颜大礼包（¥338.30）加入" in member  # 398 × 0.85
    assert "焕颜修护精华 30ml ¥253.30" in member
    assert "免费加入" in card(response, "director")


def test_every_problem_is_listed_at_once_in_chinese(client, city, make_agent):
    taken = make_agent("vip", phone="13911112222")
    response = client.post(
        f"/join/{city.invite_code}/",
        {
            "real_name": "",
            "phone": taken.phone,
            "id_number": "110105194912310021",
            "level": "",
            "password": "12345678",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    summary = re.search(r'data-testid="error-summary">(.*?)</div>', html, re.S).group(1)
    text = re.sub(r"<[^>]+>", "", summary)
    assert "请修改以下 6 处问题" in text
    for expected in (
        "真实姓名：请填写您的真实姓名。",
        "手机号：手机号 13911112222 已注册。",
        "身份证号（选填）：请输入有效的 18 位居民身份证号。",
        "等级：请选择等级。",
        "这个密码太常见，容易被猜到，请换一个。",
        "密码只包含数字，请加上字母。",
    ):
        assert expected in text, expected
    for stock in STOCK_WORDING:
        assert stock not in html, stock
    assert not Application.objects.exists()


def test_a_short_password_is_told_in_our_words(client, levels):
    html = client.post(
        "/join/", {"real_name": "王静", "phone": "13900001111", "level": "vip", "password": "short"}
    ).content.decode()
    assert "密码太短：至少需要 8 个字符。" in html
    for stock in STOCK_WORDING:
        assert stock not in html, stock
    client.cookies["django_language"] = "en"
    html = client.post(
        "/join/", {"real_name": "王静", "phone": "13900001111", "level": "vip", "password": "short"}
    ).content.decode()
    assert "The password needs at least 8 characters." in html and "Please correct 1 problem:" in html


def test_a_good_application_still_goes_through_with_the_named_level(client, city):
    response = client.post(
        f"/join/{city.invite_code}/?level=city",
        {"real_name": "新人小美", "phone": "13912345678", "level": "city", "password": "my-secret-9"},
    )
    assert response.status_code == 200
    assert Application.objects.get().level.code == "city"


def test_the_api_refuses_the_passwords_the_form_refuses(client, levels):
    response = client.post(
        "/api/v1/applications",
        {
            "invite_code": None,
            "phone": "13912345678",
            "real_name": "王静",
            "level": "vip",
            "password": "12345678",
            "id_number": "",
        },
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["password"] and not Application.objects.exists()


def test_the_invite_page_offers_a_link_per_level(client, city):
    client.force_login(city.user)
    html = client.get("/m/invite/").content.decode()
    for code in ("vip", "city"):
        assert f"/join/{city.invite_code}/?level={code}" in html
    assert "?level=province" not in html  # nobody is invited above the inviter's own level
