"""Usable with a screen reader: every page of the phone app declares its language, has a heading,
labels every input, gives every image a text alternative and every button a name; and the
palette's text colours reach WCAG AA contrast (4.5:1) on the backgrounds they are used on."""

from __future__ import annotations

import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import NoReverseMatch, reverse

from weishang.trade import services

_spec = importlib.util.spec_from_file_location("trade_pages", Path(__file__).with_name("test_trade_pages.py"))
_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_pages)
world, media, login, png, html = _pages.world, _pages.media, _pages.login, _pages.png, _pages.html


class Audit(HTMLParser):
    """Collects what a screen reader needs from one page."""

    FIELDS = {"input", "select", "textarea"}

    def __init__(self):
        super().__init__()
        self.lang = None
        self.h1 = 0
        self.label_depth = 0
        self.label_for: set[str] = set()
        self.fields: list[dict] = []
        self.images_without_alt: list[str] = []
        self.buttons: list[dict] = []
        self._button = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in self.FIELDS and a.get("type") not in ("hidden", "submit", "button"):
            self.fields.append({**a, "_tag": tag, "_in_label": self.label_depth > 0})
        elif tag == "img" and "alt" not in a:
            self.images_without_alt.append(a.get("src", "?"))
        elif tag == "button":
            self._button = {"aria": a.get("aria-label"), "text": ""}

    def handle_endtag(self, tag):
        if tag == "label":
            self.label_depth -= 1
        elif tag == "button" and self._button is not None:
            self.buttons.append(self._button)
            self._button = None

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data.strip()

    def problems(self) -> list[str]:
        out = []
        if not self.lang:
            out.append("no lang on <html>")
        if self.h1 < 1:
            out.append("no <h1>")
        for field in self.fields:
            named = (
                field["_in_label"]
                or field.get("id") in self.label_for
                or field.get("aria-label")
                or field.get("aria-labelledby")
            )
            if not named:
                out.append(f"unlabelled {field['_tag']} name={field.get('name')}")
        out += [f"image without alt: {src}" for src in self.images_without_alt]
        out += ["button without a name" for b in self.buttons if not (b["text"] or b["aria"])]
        return out


def audit(text: str) -> list[str]:
    parser = Audit()
    parser.feed(text)
    return parser.problems()


AGENT_PAGES = [
    "home",
    "my_orders",
    "order_new",
    "fill",
    "stock",
    "wallet",
    "team",
    "applications",
    "rewards",
    "withdraw",
    "upgrade_new",
    "upgrade_progress",
    "customers",
    "invite",
    "me",
]


def urls(names) -> list[str]:
    out = []
    for name in names:
        try:
            out.append(reverse(f"web:{name}"))
        except NoReverseMatch:
            continue
    return out


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_phone_page_is_labelled(world, language):
    sku, city, vip = world["sku"], world["city"], world["vip"]
    order = services.order_submit(buyer=vip, lines=[(sku.code, 2)], by=vip.user)
    services.order_approve(order=order, by=city.user)
    services.payment_submit_transfer(order=order, by=vip.user, screenshot=png())
    pages = {}
    for agent in (city, vip):
        client = login(agent, language=None if language == "zh-hans" else language)
        for url in urls(AGENT_PAGES) + [f"/m/orders/{order.number}/", f"/m/fill/{order.number}/"]:
            response = client.get(url)
            if response.status_code == 404:  # the other party's order
                continue
            assert response.status_code == 200, url
            pages[f"{agent.real_name} {url}"] = html(response)
    anonymous = Client()
    if language == "en":
        anonymous.cookies["django_language"] = "en"
    for url in [
        "/m/login/",
        "/m/password/forgot/",
        "/m/password/reset/",
        f"/join/{city.invite_code}/",
        f"/s/{city.invite_code}/",
    ]:
        response = anonymous.get(url)
        assert response.status_code == 200, url
        pages[url] = html(response)
    found = {page: problems for page, text in pages.items() if (problems := audit(text))}
    assert found == {}
    assert all(f'lang="{language}"' in text for text in pages.values())


def test_the_audit_catches_what_it_looks_for():
    bad = '<html><body><input name="q"><img src="x.png"><button></button></body></html>'
    assert audit(bad) == [
        "no lang on <html>",
        "no <h1>",
        "unlabelled input name=q",
        "image without alt: x.png",
        "button without a name",
    ]
    good = (
        '<html lang="zh-hans"><h1>t</h1><label>名字<input name="a"></label><label for="b">b</label>'
        '<input id="b" name="b"><img src="x" alt=""><button>去</button></html>'
    )
    assert audit(good) == []


# --- contrast -------------------------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    hex_colour = hex_colour.lstrip("#")
    if len(hex_colour) == 3:
        hex_colour = "".join(c * 2 for c in hex_colour)
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_colours_reach_aa_contrast_on_their_backgrounds():
    css = Path(finders.find("web/mobile.css")).read_text()
    palette = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-fA-F]{3,6})", css))
    colours = {**{f"var(--{k})": v for k, v in palette.items()}, "#fff": "#ffffff"}

    def colour(value: str) -> str:
        return colours.get(value, value)

    # (text, background) as the stylesheet pairs them.
    pairs = {
        "body text": ("var(--ink)", "var(--bg)"),
        "card text": ("var(--ink)", "var(--card)"),
        "muted on card": ("var(--muted)", "var(--card)"),
        "muted on page": ("var(--muted)", "var(--bg)"),
        "figures": ("var(--red)", "var(--card)"),
        "header and primary buttons": ("#fff", "var(--red)"),
        "level badge": ("var(--red)", "#fde7ea"),
        "error": ("#b42318", "var(--card)"),
        "error message": ("#b42318", "#fef3f2"),
        "completed": ("#067647", "var(--card)"),
        "focus ring on card": ("#1d4ed8", "var(--card)"),
    }
    for _name, (fg, bg) in pairs.items():
        for value in (fg, bg):
            assert value.startswith("var(") or value.lower() in css.lower(), f"{value} is no longer in mobile.css"
    ratios = {name: round(contrast(colour(fg), colour(bg)), 2) for name, (fg, bg) in pairs.items()}
    assert {name: r for name, r in ratios.items() if r < 4.5} == {}
