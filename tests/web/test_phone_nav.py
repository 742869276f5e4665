"""The phone pages' navigation (M7 item 14): four or five icon tabs (首页 · 进货 · 团队 · 奖励 · 我的)
shown by what the agent can do, signing out and settings under 我的, no filling for an agent who
sells to nobody, and every phone page within two taps of the tab bar."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from weishang.catalog.models import SKU, Product
from weishang.core.models import Brand

PASSWORD = "pass-word-1"


class Links(HTMLParser):
    """The tab bar (label, href, current, has an icon) and every link and form on the page."""

    def __init__(self):
        super().__init__()
        self.tabs: list[dict] = []
        self.links: set[str] = set()
        self.forms: list[tuple[str, str]] = []
        self._in_tabs = False
        self._tab = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "nav" and a.get("class") == "tabs":
            self._in_tabs = True
        elif tag == "a" and a.get("href"):
            self.links.add(a["href"].split("?")[0].split("#")[0])
            if self._in_tabs:
                self._tab = {"href": a["href"], "current": a.get("aria-current") == "page", "label": "", "icon": False}
        elif tag == "svg" and self._tab is not None:
            self._tab["icon"] = a.get("aria-hidden") == "true"
        elif tag == "form":
            self.forms.append(((a.get("method") or "get").lower(), a.get("action") or ""))

    def handle_endtag(self, tag):
        if tag == "a" and self._tab is not None:
            self._tab["label"] = self._tab["label"].strip()
            self.tabs.append(self._tab)
            self._tab = None
        elif tag == "nav" and self._in_tabs:
            self._in_tabs = False

    def handle_data(self, data):
        if self._tab is not None:
            self._tab["label"] += data


def parse(response) -> Links:
    parser = Links()
    parser.feed(response.content.decode())
    return parser


def login(agent) -> Client:
    client = Client()
    assert client.login(username=agent.phone, password=PASSWORD)
    return client


@pytest.fixture
def world(make_agent):
    Brand.objects.create(name="测试品牌")
    SKU.objects.create(
        product=Product.objects.create(name="焕颜精华"), code="GLOW-30", name="焕颜精华 30ml", retail_price=100
    )
    city = make_agent("city", real_name="市代王芳")
    vip = make_agent("vip", referrer=city, real_name="特约李娜")
    return {"city": city, "vip": vip}


def tab_labels(client, url="/m/") -> list[str]:
    return [t["label"] for t in parse(client.get(url)).tabs]


def test_five_icon_tabs_and_no_sign_out_in_the_bar(world):
    page = parse(login(world["city"]).get("/m/"))
    assert [t["label"] for t in page.tabs] == ["首页", "进货", "团队", "奖励", "我的"]
    assert all(t["icon"] for t in page.tabs)
    assert [t["label"] for t in page.tabs if t["current"]] == ["首页"]
    html = login(world["city"]).get("/m/").content.decode()
    nav = re.search(r'<nav class="tabs".*?</nav>', html, re.S).group(0)
    assert "退出登录" not in nav and "<form" not in nav


def test_a_vip_with_no_team_sees_no_filling(world):
    vip = world["vip"]
    client = login(vip)
    for url in ("/m/", "/m/orders/", "/m/stock/"):
        assert reverse("web:fill") not in parse(client.get(url)).links, url
    assert "发货" not in "".join(tab_labels(client))
    # The 市代 who supplies the 特约 has filling under 进货.
    assert reverse("web:fill") in parse(login(world["city"]).get("/m/orders/")).links


def test_an_applicant_with_no_team_has_no_team_tab(make_agent, world):
    applicant = make_agent("vip", referrer=world["city"], entry_paid=False)
    assert applicant.status == "applicant"
    assert tab_labels(login(applicant)) == ["首页", "进货", "奖励", "我的"]


@pytest.mark.parametrize(
    ("url", "tab"),
    [
        ("/m/orders/", "进货"),
        ("/m/order/", "进货"),
        ("/m/stock/", "进货"),
        ("/m/fill/", "进货"),
        ("/m/team/", "团队"),
        ("/m/applications/", "团队"),
        ("/m/rewards/", "奖励"),
        ("/m/rewards/withdraw/", "奖励"),
        ("/m/me/", "我的"),
        ("/m/wallet/", "我的"),
        ("/m/progress/", "我的"),
        ("/m/customers/", "我的"),
    ],
)
def test_the_current_tab_is_marked(world, url, tab):
    page = parse(login(world["city"]).get(url))
    assert [t["label"] for t in page.tabs if t["current"]] == [tab]


def test_the_me_page(world):
    city = world["city"]
    response = login(city).get("/m/me/")
    assert response.status_code == 200
    html = response.content.decode()
    page = parse(response)
    assert city.real_name in html and "市代" in html
    assert city.phone[:3] + "****" + city.phone[-4:] in html and city.phone not in html
    for name in ("web:customers", "web:invite", "web:stock", "web:wallet", "web:upgrade_progress"):
        assert reverse(name) in page.links, name
    assert ("post", reverse("web:logout")) in page.forms
    assert ("post", reverse("set_language")) in page.forms
    assert 'value="en"' in html and 'value="zh-hans"' in html
    assert Client().get("/m/me/").status_code == 302  # signed-in agents only


def test_signing_out_from_the_me_page(world):
    client = login(world["vip"])
    assert client.post(reverse("web:logout")).status_code == 302
    assert client.get("/m/me/").status_code == 302


def _agent_pages() -> list[str]:
    """Every phone page without parameters in the URL (the resolver's list, so pages added later
    are held to the same rule)."""
    found = []

    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
            elif isinstance(p, URLPattern) and namespace == "web" and not p.pattern.converters and p.name:
                route = prefix + str(p.pattern)
                if route.startswith("m/"):
                    found.append(reverse(f"web:{p.name}"))

    walk(get_resolver().url_patterns, "", None)
    return found


def test_every_phone_page_is_within_two_taps_of_the_tab_bar(world):
    client = login(world["city"])
    tabs = [t["href"] for t in parse(client.get("/m/")).tabs]
    reachable = set(tabs)
    for url in tabs:
        reachable |= parse(client.get(url)).links
    pages = []
    for url in _agent_pages():
        response = client.get(url)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            pages.append(url)
    assert "/m/me/" in pages and "/m/wallet/" in pages
    login_pages = {reverse("web:login"), reverse("web:password_forgot"), reverse("web:password_reset")}
    missing = sorted(set(pages) - reachable - login_pages)
    assert missing == []
