"""The phone pages' tab bar: 首页 · 进货 · 团队 · 奖励 · 我的, each shown by what the agent can do,
and the 进货 section's own links (我的订单 · 发货 · 库存)."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from weishang.channel import selectors as channel_selectors
from weishang.notifications.selectors import unread_count
from weishang.trade import selectors as trade_selectors

register = template.Library()

# Which tab a page belongs to, by its URL name in the "web" namespace.
SECTIONS = {
    "home": ("home", "notifications"),
    "buy": ("my_orders", "my_order", "my_order_pay_online", "order_new", "upgrade_new", "fill", "fill_order", "stock"),
    "team": ("team", "team_of", "applications", "invite", "academy_team", "academy_member"),
    "rewards": ("rewards", "withdraw"),
    "me": (
        "me",
        "wallet",
        "customers",
        "upgrade_progress",
        "password_change",
        "devices",
        "payment_methods",
        "notification_settings",
        "academy",
        "academy_course",
        "academy_lesson",
        "academy_quiz",
        "academy_certificates",
        "academy_live",
    ),
}


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    url: str
    current: bool


def _agent(context):
    request = context.get("request")
    if request is None or not getattr(request.user, "is_authenticated", False):
        return None, None
    cache = getattr(request, "_phone_nav", None)
    if cache is None:
        agent = channel_selectors.agent_for_user(request.user)
        cache = request._phone_nav = {"agent": agent}
    return request, cache


def _here(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.url_name if match is not None and match.namespace == "web" else ""


def can_fill(request, cache) -> bool:
    if "fill" not in cache:
        cache["fill"] = cache["agent"] is not None and trade_selectors.sells_to_anyone(agent=cache["agent"])
    return cache["fill"]


@register.simple_tag(takes_context=True)
def phone_tabs(context) -> list[Tab]:
    """The tabs for the signed-in agent (none for anyone else)."""
    request, cache = _agent(context)
    if cache is None or cache["agent"] is None:
        return []
    agent, here = cache["agent"], _here(request)
    tabs = [("home", _("Home"), "web:home"), ("buy", pgettext("phone tab", "Buy"), "web:my_orders")]
    if channel_selectors.has_team_work(agent=agent):
        tabs.append(("team", _("Team"), "web:team"))
    tabs += [("rewards", _("Rewards"), "web:rewards"), ("me", pgettext("phone tab", "Me"), "web:me")]
    return [Tab(key, label, reverse(name), here in SECTIONS[key]) for key, label, name in tabs]


@register.simple_tag(takes_context=True)
def buy_links(context) -> list[Tab]:
    """The 进货 section's links: my orders, orders to fill (only for an agent who sells to
    anyone), stock and pick-ups."""
    request, cache = _agent(context)
    if cache is None or cache["agent"] is None:
        return []
    here = _here(request)
    links = [("orders", _("My orders"), "web:my_orders", ("my_orders", "my_order"))]
    if can_fill(request, cache):
        links.append(("fill", _("Orders to fill"), "web:fill", ("fill", "fill_order")))
    links.append(("stock", _("Stock and pick-ups"), "web:stock", ("stock",)))
    return [Tab(key, label, reverse(name), here in names) for key, label, name, names in links]


@register.simple_tag(takes_context=True)
def notification_bell(context) -> dict | None:
    """The header's bell for a signed-in agent: the link to the notification centre and the
    unread count (one query); None for anyone else."""
    request, cache = _agent(context)
    if cache is None or cache["agent"] is None:
        return None
    return {"url": reverse("web:notifications"), "unread": unread_count(user=request.user)}
