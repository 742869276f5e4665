"""Money in the ledger: an agent's wallet (货款) is their ledger account; money the brand
receives is brand cash, and an order the company sells is brand sales. A transfer to an upline
agent never reaches the brand, so it is not posted; a refund is always owed by whoever received
the money."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from weishang.channel.models import Agent
from weishang.core.text import record_text
from weishang.ledger import services as ledger
from weishang.ledger.models import Purpose
from weishang.trade.models import (
    Order,
)


def wallet(agent: Agent):
    return ledger.account_for(owner=agent, purpose=Purpose.AGENT_WALLET)


def brand_account(purpose: str):
    return ledger.account_for(owner=None, purpose=purpose)


def receiver_account(order: Order):
    """The account the order's money belongs to: the seller agent's wallet, or brand sales."""
    return wallet(order.seller) if order.seller is not None else brand_account(Purpose.BRAND_SALES)


_MEMOS = {
    "order_payment": gettext_noop("Order payment"),
    "wallet_topup": gettext_noop("Wallet top-up"),
    "order_refund": gettext_noop("Order refund"),
    "order_reassign": gettext_noop("Order taken over by the company"),
}


def post(lines, *, kind: str, key: str, reference: str, by=None, allow_negative=None):
    return ledger.journal_post(
        lines=lines,
        kind=kind,
        idempotency_key=key,
        reference=reference,
        by=by,
        memo=record_text(_MEMOS[kind]),
        allow_negative=allow_negative,
    )
