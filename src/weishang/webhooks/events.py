"""The events a webhook endpoint can subscribe to, each an outbox topic.

Order, payment and shipment events are written by ``trade.services`` in the transaction of the
change. Reward events are written by ``webhooks.services.rewards_to_outbox`` from the reward
lines themselves (a line written, released, taken back), because the reward engine writes its
lines in bulk and emits nothing: see docs/decisions.md.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EVENTS = {
    "order.submitted": _("An order was placed (an agent's order, a pick-up or a shop order)"),
    "order.approved": _("The seller approved an order: it waits for payment"),
    "order.rejected": _("The seller rejected an order"),
    "order.paid": _("An order was paid"),
    "order.fulfilled": _("An order was filled from stock or shipped"),
    "order.completed": _("An order was completed (received, or filled into cloud stock)"),
    "order.cancelled": _("An order was cancelled"),
    "order.reassigned": _("A stuck order was taken over by the company from its seller agent"),
    "order.refund_requested": _("The buyer asked to return an order"),
    "order.refund_declined": _("The seller declined a return"),
    "order.refunded": _("An order was returned and its money refunded"),
    "payment.submitted": _("A transfer was submitted for confirmation"),
    "payment.confirmed": _("A payment was confirmed (transfer, wallet or WeChat Pay)"),
    "payment.rejected": _("A transfer was rejected"),
    "shipment.tracking_updated": _("A shipment got its carrier and tracking number"),
    "reward.created": _("A reward was earned (frozen until released, or available at once)"),
    "reward.released": _("A frozen reward became available"),
    "reward.reversed": _("A reward was taken back (its order was returned)"),
    "withdrawal.approved": _("Finance approved a withdrawal: it will be paid"),
    "withdrawal.rejected": _("Finance rejected a withdrawal; the money is back in the agent's rewards"),
    "withdrawal.failed": _("A withdrawal's transfer failed; the money is back in the agent's rewards"),
    "withdrawal.paid": _("A withdrawal was paid to the agent"),
    "certificate.issued": _(
        "An agent's authorization certificate was issued (on joining, an upgrade, a region change or a renewal)"
    ),
    "monitor.breach": _("A channel health figure broke a rule for the brand's jurisdiction (once per month and rule)"),
    "inventory.low_stock": _("A SKU's units on hand and on order fell below its reorder rule's minimum"),
}

PING = "ping"
REWARD_EVENTS = ("reward.created", "reward.released", "reward.reversed")


def event_choices() -> list[tuple[str, str]]:
    return [(topic, f"{topic} — {label}") for topic, label in EVENTS.items()]
