"""Small helpers shared by the ledger tests (imported by name: the test directory is on sys.path)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from weishang.ledger.models import Purpose

P = Purpose


def D(value) -> Decimal:
    return Decimal(str(value))


def balances(agent) -> SimpleNamespace:
    """The agent's balances as they would read them."""
    from weishang.ledger.selectors import agent_balances

    b = agent_balances(agent)
    return SimpleNamespace(
        available=b[P.AGENT_REWARDS_AVAILABLE],
        in_transit=b[P.PAYOUTS_IN_TRANSIT],
        frozen=b[P.AGENT_REWARDS_FROZEN],
        wallet=b[P.AGENT_WALLET],
    )
