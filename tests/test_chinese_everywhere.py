"""Chinese everywhere (M7 item 13): every console page and every phone page, rendered in zh-hans
with the demo brand's data, shows no interface text in English.

The pages are found, not listed: the console's from the admin site (every registered model's list,
search results, add form, change form, history and delete confirmation of a real object, each
model admin's own views, the site's own views and app pages), the phone pages from the URL
resolver (every ``web`` page, with the ids of the agent's own orders, team and invite code where a
page takes one). So pages added later are held to the same rule. English is found by
``untranslated.english_runs`` (see there what counts as data, codes and proper nouns)."""

from __future__ import annotations

import itertools

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from untranslated import allowed_words, english_runs

from tests.demo_once import module_demo
from weishang.channel.models import Agent
from weishang.trade.models import Order

DEMO_AGENTS = 60
# Admin views that are no pages: the JavaScript catalog, the autocomplete JSON, sign-out.
NOT_PAGES = {"jsi18n", "autocomplete", "logout", "view_on_site", "login"}


def _load_demo():
    from weishang.demo import services as demo_services

    demo_services.demo_load(agents=DEMO_AGENTS)
    _fill_what_the_demo_lacks(demo_services)
    return demo_services


# Loaded once for the module (tests/demo_once.py); each test's writes are rolled back after it.
demo_module = module_demo(_load_demo)


@pytest.fixture
def demo(demo_module, db):
    return demo_module


def _fill_what_the_demo_lacks(demo_services) -> None:
    """A real object for the console models the demo leaves empty (through their services), so
    that their change forms are rendered too: a withdrawal, an API key, a device token, a webhook
    endpoint with one delivery."""
    from decimal import Decimal

    from weishang.api import services as api_services
    from weishang.api.scopes import SCOPES
    from weishang.ledger import services as ledger
    from weishang.ledger.models import Purpose
    from weishang.webhooks import services as webhooks
    from weishang.webhooks.events import EVENTS
    from weishang.webhooks.models import WebhookDelivery

    city = Agent.objects.get(user__phone=demo_services.LOGIN_PHONE.format(rank=4))
    ledger.journal_post(
        lines=[
            ledger.debit(ledger.account_for(owner=None, purpose=Purpose.BRAND_REWARD_EXPENSE), Decimal("100.00")),
            ledger.credit(ledger.account_for(owner=city, purpose=Purpose.AGENT_REWARDS_AVAILABLE), Decimal("100.00")),
        ],
        memo="奖励",
        reference="i18n-test:reward",
        kind="reward.accrue",
    )
    ledger.withdrawal_request(
        agent=city,
        amount=Decimal("60.00"),
        method="alipay",
        account_name="王静",
        account_no="13800138000",
        by=city.user,
        fee_rate=Decimal("0.006"),
        minimum=Decimal("10.00"),
    )
    api_services.api_key_create(name="ERP 对接", scopes=sorted(SCOPES)[:1])
    api_services.token_create(user=city.user, device="iPhone")
    endpoint, _secret = webhooks.endpoint_create(
        url="https://8.8.8.8/hooks/weishang", events=sorted(EVENTS)[:1], description="ERP"
    )
    WebhookDelivery.objects.create(endpoint=endpoint, event_type=sorted(EVENTS)[0], payload={"id": 1})
    # A WeChat bound to the 市代 login (and its audit), and a message to her that failed once (M11).
    from weishang.notifications.models import Delivery, Notification
    from weishang.wechat.client import WechatUser
    from weishang.wechat.services import wechat_bind

    wechat_bind(user=city.user, wechat=WechatUser(openid="o" + "0" * 27, nickname="蔡琳艳"), kind="mp", how="password")
    notice = Notification.objects.filter(recipient=city.user).first() or Notification.objects.create(
        recipient=city.user, kind="order_rejected", params={"number": "R1"}, event_key="i18n-test:1"
    )
    Delivery.objects.create(notification=notice, channel="wechat", attempts=1, last_error="WeChat 45009")
    # A search of the FAQ (its console list is read-only: the searches are the agents').
    from weishang.faq.services import faq_search_logged

    faq_search_logged("结算")
    # The lockout's pages: a wrong password on the phone login (an attempt), and one row of each log
    # (axes writes them only where AXES_ENABLE_ACCESS_FAILURE_LOG / access logging are on).
    from axes.models import AccessFailureLog, AccessLog

    Client().post(
        reverse("web:login"),
        {"username": city.user.phone, "password": "not-the-password"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        HTTP_USER_AGENT="WeChat",
        HTTP_ACCEPT="text/html",
    )
    AccessLog.objects.create(
        username=city.user.phone, ip_address="203.0.113.9", user_agent="WeChat", path_info="/m/login/"
    )
    AccessFailureLog.objects.create(
        username=city.user.phone, ip_address="203.0.113.9", user_agent="WeChat", path_info="/m/login/", locked_out=True
    )


def english_on(client: Client, url: str, allow: set[str]) -> tuple[int, list[str]]:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
        return response.status_code, []
    return 200, english_runs(response.content.decode(), allow)


def by_text(found: dict[str, list[str]]) -> str:
    """The English found, one line per run with (some of) the pages it is on."""
    pages: dict[str, list[str]] = {}
    for url, runs in found.items():
        for run in runs:
            pages.setdefault(run, []).append(url)
    return "\n".join(f"{run!r} on {len(urls)} page(s): {', '.join(urls[:3])}" for run, urls in sorted(pages.items()))


def _pattern_names(patterns, namespace=None, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _pattern_names(p.url_patterns, p.namespace or namespace, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and p.name:
            yield namespace, p.name, list(p.pattern.converters), prefix + str(p.pattern)


def console_pages() -> list[str]:
    """Every page of the console a superuser can open with GET."""
    urls = [reverse("admin:index"), reverse("admin:password_change"), reverse("admin:search") + "?s=GLOW"]
    urls += [
        reverse("admin:app_list", args=[label]) for label in sorted({m._meta.app_label for m in admin.site._registry})
    ]
    for pattern in admin.site.get_urls():
        if (
            isinstance(pattern, URLPattern)
            and pattern.name
            and pattern.name not in NOT_PAGES
            and not pattern.pattern.regex.groups
        ):
            urls.append(reverse(f"admin:{pattern.name}"))
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        obj = model._default_manager.order_by("-pk").first()
        assert obj is not None, f"no {model._meta.label} to render: give the test one (_fill_what_the_demo_lacks)"
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        urls += [changelist, changelist + "?q=a", reverse("admin:{}_{}_add".format(*info))]
        for pattern in model_admin.get_urls():
            if (
                not isinstance(pattern, URLPattern)
                or not pattern.name
                or pattern.name.endswith(("_changelist", "_add"))
            ):
                continue
            params = pattern.pattern.regex.groups
            if not params:
                urls.append(reverse(f"admin:{pattern.name}"))
            elif obj is not None and params == 1:
                urls.append(reverse(f"admin:{pattern.name}", args=[obj.pk]))
    return list(dict.fromkeys(urls))


def phone_pages(agent: Agent) -> list[str]:
    """Every phone page (the ``web`` namespace) the agent can open with GET, the pages that take an
    id tried with the agent's own orders (bought and sold), team members and invite code."""
    orders = list(Order.objects.filter(buyer=agent).order_by("-pk").values_list("number", flat=True)[:3])
    sold = list(Order.objects.filter(seller=agent).order_by("-pk").values_list("number", flat=True)[:3])
    candidates = {
        "number": orders + sold,
        "code": [agent.invite_code],
        "agent_id": list(Agent.objects.filter(referrer=agent).values_list("pk", flat=True)[:1]),
        "conversation_id": list(agent.conversations.values_list("pk", flat=True)[:1]),
    }
    urls = []
    for namespace, name, params, _route in _pattern_names(get_resolver().url_patterns):
        if namespace != "web":
            continue
        options = [candidates.get(p, []) for p in params]
        for values in itertools.islice(itertools.product(*options), 12):
            try:
                urls.append(reverse(f"web:{name}", kwargs=dict(zip(params, values, strict=True))))
            except NoReverseMatch:
                continue
    return list(dict.fromkeys(urls))


def test_every_console_page_is_in_chinese(demo, client):
    user = get_user_model().objects.create_superuser(username="root-zh", password="pass-word-1")
    client.force_login(user)
    allow = allowed_words()
    found, seen = {}, 0
    for url in console_pages():
        status, runs = english_on(client, url, allow)
        assert status < 500, url
        seen += status == 200
        if runs:
            found[url] = sorted(set(runs))
    assert seen > 3 * len(admin.site._registry)  # the walk saw the pages, not a login form
    client.logout()
    status, runs = english_on(client, reverse("admin:login"), allow)  # "Welcome back to …"
    assert status == 200
    if runs:
        found[reverse("admin:login")] = sorted(set(runs))
    assert not found, "English on console pages:\n" + by_text(found)


def test_every_phone_page_is_in_chinese(demo):
    allow = allowed_words()
    found, seen = {}, set()
    for rank in (4, 5):  # the 市代 login (a team, stock, orders to fill) and the 特约 login
        agent = Agent.objects.get(user__phone=demo.LOGIN_PHONE.format(rank=rank))
        client = Client()
        client.force_login(agent.user)
        for url in phone_pages(agent):
            status, runs = english_on(client, url, allow)
            assert status < 500, url
            if status == 200:
                seen.add(url)
            if runs:
                found[f"{agent.level.name} {url}"] = sorted(set(runs))
    anonymous = Client()
    city = Agent.objects.get(user__phone=demo.LOGIN_PHONE.format(rank=4))
    for url in [
        reverse("web:login"),
        reverse("web:password_forgot"),
        reverse("web:password_reset"),
        reverse("web:join", args=[city.invite_code]),
        reverse("web:join_brand"),
        reverse("web:shop", args=[city.invite_code]),
        reverse("web:shop_messages", args=[city.invite_code]),
        *[reverse("web:shop_thread", args=[city.invite_code, c.token]) for c in city.conversations.all()[:1]],
    ]:
        status, runs = english_on(anonymous, url, allow)
        assert status == 200, url
        if runs:
            found[url] = sorted(set(runs))
    assert {reverse("web:home"), reverse("web:my_orders"), reverse("web:rewards")} <= seen
    assert not found, "English on phone pages:\n" + by_text(found)


# --- the detector, and the strings the issue found --------------------------------------------------

REPORTED = [  # as unfold 0.110, Django 6.1 and the phone pages wrote them
    '<p class="text-center">Welcome back to <strong>焕颜 GLOW</strong></p>',
    '<span class="grow">Search apps and models...</span>',
    '<a href="/console/">All applications</a>',
    '<a class="border" href="#">Filters <span class="material-symbols-outlined">filter_list</span></a>',
    '<input type="search" name="q" placeholder="Type to search">',
    '<select name="action"><option value="" selected>Select action</option><option value="x">导出</option></select>',
    '<select name="level"><option value="">- Select an option -</option><option value="1">特约</option></select>',
    '<select name="format"><option value="">Select format</option><option value="0">csv</option></select>',
    "<li><span>2026-12-04 10:30 · 系统 · retail: no approval needed</span></li>",
]


@pytest.mark.parametrize("html", REPORTED)
def test_the_detector_finds_each_reported_string(html):
    assert english_runs(html)


def test_the_detector_passes_chinese_pages_with_data_and_codes():
    page = """<html lang="zh-hans"><head><title>订单 R2026 | 焕颜 GLOW 管理后台</title>
      <style>.x { color: red }</style><script>const label = "Select action";</script></head>
      <body><span class="material-symbols-outlined">search</span>
      <p>GLOW-30ML 焕颜修护精华 30ml ¥298.00 · 138****0001 · 导出 CSV / XLSX · API 密钥 · ID 42 · Asia/Shanghai</p>
      <p>方案 glow-retail-first v1 · first_order_amount · 品牌 Logo · 按住 Control 键或 Mac 上的 Command 键</p>
      <pre>levels:\n  - code: partner</pre><input type="hidden" value="Save"><code>weishang ledger verify</code>
      <p>用户 owner 于 10:30 修改</p><p>可定时执行（weishang rewards release）</p></body></html>"""
    assert english_runs(page, {"owner"}) == []
    assert english_runs("<p>用户 owner 于 10:30 修改</p>") == ["owner"]  # data only when it is the database's


def test_the_object_history_button_is_not_called_order_history(demo, client):
    from weishang.ledger.models import Withdrawal
    from weishang.rewards.models import PlanVersion

    client.force_login(get_user_model().objects.create_superuser(username="root-zh", password="pass-word-1"))
    agent = Agent.objects.get(user__phone=demo.LOGIN_PHONE.format(rank=4))
    pages = [reverse("admin:channel_agent_change", args=[agent.pk])]
    withdrawal = Withdrawal.objects.first()
    if withdrawal is not None:
        pages.append(reverse("admin:ledger_withdrawal_change", args=[withdrawal.pk]))
    pages.append(reverse("admin:rewards_planversion_change", args=[PlanVersion.objects.first().pk]))
    for url in pages:
        html = client.get(url).content.decode()
        assert "订单记录" not in html and "历史记录" in html, url
    # The phone order page's own log still reads 订单记录.
    order = Order.objects.filter(buyer=agent).first()
    phone = Client()
    phone.force_login(agent.user)
    assert "订单记录" in phone.get(reverse("web:my_order", args=[order.number])).content.decode()


def test_the_console_is_titled_with_the_brands_name(demo, client):
    from weishang.core.models import Brand

    brand = Brand.objects.get()
    brand.name = "焕颜 GLOW 测试"
    brand.save()
    client.force_login(get_user_model().objects.create_superuser(username="root-zh", password="pass-word-1"))
    html = client.get(reverse("admin:index")).content.decode()
    assert "焕颜 GLOW 测试" in html and "微商品牌后台" not in html
    assert "<title>" in html and "焕颜 GLOW 测试 管理后台" in html
    client.logout()
    login = client.get(reverse("admin:login")).content.decode()
    assert "欢迎回到" in login and "焕颜 GLOW 测试 管理后台" in login
