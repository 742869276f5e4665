"""What each outbox event tells whom: one function per topic, returning the notifications it makes
(recipient agent id, kind, the figures the text names, the page to open). The texts are written
here once, in English as msgids, and rendered in the reader's language when shown (``text``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from weishang.channel.models import Agent, Level
from weishang.trade.models import Order, OrderKind

TEXTS = {
    "order_to_approve": _("%(buyer)s placed %(order_kind)s %(number)s (¥%(total)s): it waits for your approval."),
    "shop_order": _("A shop order %(number)s (¥%(total)s) from %(customer)s waits for you."),
    "order_approved": _("Order %(number)s was approved: pay ¥%(total)s to go on."),
    "order_rejected": _("Order %(number)s was rejected."),
    "transfer_to_confirm": _("A transfer of ¥%(amount)s for order %(number)s waits for your confirmation."),
    "transfer_rejected": _("Your transfer of ¥%(amount)s for order %(number)s was not confirmed."),
    "order_to_fill": _("Order %(number)s (¥%(total)s) is paid: fill it."),
    "order_filled": _("Order %(number)s was filled."),
    "application": _("%(name)s applied to join as %(level)s through your invite link."),
    "agent_joined": _("%(name)s joined your team as %(level)s."),
    "level_changed": _("You are now %(level)s."),
    "rewards_released": _("¥%(amount)s of your rewards became available: you may withdraw it."),
    "withdrawal_paid": _("Withdrawal %(number)s was paid: ¥%(net)s is on its way to your account."),
    "withdrawal_rejected": _("Withdrawal %(number)s was rejected: %(note)s. The money is back in your rewards."),
    "withdrawal_failed": _(
        "The transfer of withdrawal %(number)s failed: %(note)s. The money is back in your rewards."
    ),
    "certificate_issued": _("Your authorization certificate %(number)s (%(level)s) is ready."),
    # trade's own notice (a cancelled order and who pays back what; an order the company took over),
    # written in the brand's language when it happened
    "order_notice": _("%(text)s"),
    # the academy (M12)
    "course_enrolled": _("You are enrolled in the course 《%(title)s》: start learning."),
    "live_class_soon": _("Live class 《%(title)s》 starts at %(starts)s."),
    "course_finished": _("%(name)s finished the course 《%(title)s》."),
    # customer service (M14)
    "customer_message": _("%(name)s sent a message to your shop."),
}


# An order's kind as a notification names it ("placed a restock order …").
ORDER_KINDS = {
    OrderKind.RESTOCK: _("a restock order"),
    OrderKind.ENTRY: _("an entry order"),
    OrderKind.UPGRADE: _("an upgrade order"),
}


@dataclass(frozen=True)
class Item:
    agent: int  # the recipient agent's id
    kind: str
    params: dict = field(default_factory=dict)
    url: str = ""


def text(kind: str, params: dict) -> str:
    """The notification in the active language."""
    values = dict(params)
    if "order_kind" in values:
        values["order_kind"] = ORDER_KINDS.get(values["order_kind"], gettext("an order"))
    template = TEXTS.get(kind)
    if template is None:
        return gettext("A change in your account.")
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return gettext("A change in your account.")


# The agents and levels a batch of events names, loaded at once by ``primed`` (two queries for the
# batch instead of one per event); outside it each lookup asks the database.
_known: dict[str, dict] = {}


@contextmanager
def primed(payloads: list[dict]):
    ids = {p.get(key) for p in payloads for key in ("buyer", "agent") if isinstance(p.get(key), int)}
    _known["agents"] = {
        pk: (name, referrer)
        for pk, name, referrer in Agent.objects.filter(pk__in=ids).values_list("pk", "real_name", "referrer_id")
    }
    _known["levels"] = dict(Level.objects.values_list("code", "name"))
    numbers = {p["order"] for p in payloads if isinstance(p.get("order"), str) and p["order"]}
    rows = Order.objects.filter(number__in=numbers).values_list("number", "buyer_id", "seller_id", "customer__name")
    _known["orders"] = {number: (buyer, seller, customer or "") for number, buyer, seller, customer in rows}
    try:
        yield
    finally:
        _known.clear()


def _agent(agent_id) -> tuple[str, int | None] | None:
    """(real name, referrer id) of an agent, or None."""
    if not agent_id:
        return None
    if "agents" in _known and agent_id in _known["agents"]:
        return _known["agents"][agent_id]
    row = Agent.objects.filter(pk=agent_id).values_list("real_name", "referrer_id").first()
    return (row[0], row[1]) if row else None


def _order(number: str) -> tuple[int | None, int | None, str] | None:
    """(buyer id, seller id, the shop customer's name) of an order, or None."""
    if "orders" in _known and number in _known["orders"]:
        return _known["orders"][number]
    row = Order.objects.filter(number=number).values_list("buyer_id", "seller_id", "customer__name").first()
    return (row[0], row[1], row[2] or "") if row else None


def _name(agent_id: int | None) -> str:
    agent = _agent(agent_id)
    return agent[0] if agent is not None else ""


def _level_name(code: str) -> str:
    if "levels" in _known:
        return _known["levels"].get(code, code)
    level = Level.objects.filter(code=code).only("name").first()
    return level.name if level is not None else code


def _order_submitted(p: dict) -> list[Item]:
    seller, number = p.get("seller"), p.get("order", "")
    if not seller or p.get("kind") == OrderKind.PICKUP:
        return []
    url = reverse("web:fill_order", args=[number])
    if p.get("kind") == OrderKind.RETAIL:
        order = _order(number)
        customer = order[2] if order is not None else ""
        return [Item(seller, "shop_order", {"number": number, "total": p.get("total"), "customer": customer}, url)]
    params = {"buyer": _name(p.get("buyer")), "order_kind": p.get("kind"), "number": number, "total": p.get("total")}
    return [Item(seller, "order_to_approve", params, url)]


def _to_buyer(kind: str) -> Callable[[dict], list[Item]]:
    def make(p: dict) -> list[Item]:
        buyer, number = p.get("buyer"), p.get("order", "")
        if not buyer:
            return []
        return [Item(buyer, kind, {"number": number, "total": p.get("total")}, reverse("web:my_order", args=[number]))]

    return make


def _order_paid(p: dict) -> list[Item]:
    seller, number = p.get("seller"), p.get("order", "")
    if not seller or p.get("kind") == OrderKind.PICKUP:
        return []
    url = reverse("web:fill_order", args=[number])
    return [Item(seller, "order_to_fill", {"number": number, "total": p.get("total")}, url)]


def _payment(kind: str) -> Callable[[dict], list[Item]]:
    def make(p: dict) -> list[Item]:
        number = p.get("order")
        if not number or p.get("method") != "transfer":
            return []
        order = _order(number)
        if order is None:
            return []
        recipient = order[1] if kind == "transfer_to_confirm" else order[0]
        if recipient is None:
            return []
        view = "web:fill_order" if kind == "transfer_to_confirm" else "web:my_order"
        params = {"number": number, "amount": p.get("amount")}
        return [Item(recipient, kind, params, reverse(view, args=[number]))]

    return make


def _application(p: dict) -> list[Item]:
    inviter = p.get("inviter")
    if not inviter:
        return []
    params = {"name": p.get("name", ""), "level": _level_name(p.get("level", ""))}
    return [Item(inviter, "application", params, reverse("web:applications"))]


def _joined(p: dict) -> list[Item]:
    agent = _agent(p.get("agent"))
    if agent is None or agent[1] is None:
        return []
    params = {"name": agent[0], "level": _level_name(p.get("level", ""))}
    return [Item(agent[1], "agent_joined", params, reverse("web:team"))]


def _level_changed(p: dict) -> list[Item]:
    agent = p.get("agent")
    if not agent:
        return []
    level = p.get("to") or ""
    return [Item(agent, "level_changed", {"level": _level_name(level)}, reverse("web:upgrade_progress"))]


def _order_notices(p: dict) -> list[Item]:
    """The order's notices (trade writes them to the party who did not act): one each."""
    from weishang.trade.models import OrderNotice

    number = p.get("order")
    if not number:
        return []
    rows = OrderNotice.objects.filter(order__number=number).values_list("agent_id", "text", "order__buyer_id")
    return [
        Item(
            agent,
            "order_notice",
            {"text": text},
            reverse("web:my_order" if agent == buyer else "web:fill_order", args=[number]),
        )
        for agent, text, buyer in rows
    ]


def _rewards_released(p: dict) -> list[Item]:
    agent = p.get("agent")
    return [Item(agent, "rewards_released", {"amount": p.get("amount")}, reverse("web:rewards"))] if agent else []


def _withdrawal(kind: str) -> Callable[[dict], list[Item]]:
    def make(p: dict) -> list[Item]:
        agent = p.get("agent")
        if not agent:
            return []
        params = {"number": p.get("withdrawal", ""), "net": p.get("net"), "note": p.get("note", "")}
        return [Item(agent, kind, params, reverse("web:rewards"))]

    return make


def _academy(kind: str, recipient: str, names: tuple[str, ...]) -> Callable[[dict], list[Item]]:
    """The academy's events (M12) carry what their text names and the page to open."""

    def make(p: dict) -> list[Item]:
        agent = p.get(recipient)
        if not agent:
            return []
        url = p.get("url") or reverse("web:academy_team")
        return [Item(agent, kind, {name: p.get(name, "") for name in names}, url)]

    return make


def _certificate_issued(p: dict) -> list[Item]:
    agent = p.get("agent")
    if not agent:
        return []
    params = {"number": p.get("certificate", ""), "level": _level_name(p.get("level", ""))}
    return [Item(agent, "certificate_issued", params, reverse("web:my_certificate"))]


RULES: dict[str, Callable[[dict], list[Item]]] = {
    "order.submitted": _order_submitted,
    "order.approved": _to_buyer("order_approved"),
    "order.rejected": _to_buyer("order_rejected"),
    "order.paid": _order_paid,
    "order.fulfilled": _to_buyer("order_filled"),
    "order.cancelled": _order_notices,
    "order.reassigned": _order_notices,
    "payment.submitted": _payment("transfer_to_confirm"),
    "payment.rejected": _payment("transfer_rejected"),
    "application.submitted": _application,
    "agent.joined": _joined,
    "agent.level_changed": _level_changed,
    "rewards.released": _rewards_released,
    "withdrawal.paid": _withdrawal("withdrawal_paid"),
    "withdrawal.rejected": _withdrawal("withdrawal_rejected"),
    "withdrawal.failed": _withdrawal("withdrawal_failed"),
    "certificate.issued": _certificate_issued,
    "academy.enrolled": _academy("course_enrolled", "agent", ("title",)),
    "academy.live_class_soon": _academy("live_class_soon", "agent", ("title", "starts")),
    "academy.completed": _academy("course_finished", "referrer", ("name", "title")),
    "service.message_received": _academy("customer_message", "agent", ("name",)),
}
