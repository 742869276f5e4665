"""The exact path: a simulated history replayed through the production reward engine.

The vectorised model (model.py) records, when asked (``record=True``), every event of the run
in order — agents joining, completed orders (one per consumer order), upgrade decisions,
level changes, exits with the units held, period closes. :func:`replay` feeds them, with
``Decimal`` money, to ``Engine`` over an ``InMemoryHierarchy`` exactly as ``rewards.services``
feeds production events, builds each exiting agent's stock lots from its own order history
(the units held are the latest bought, as ``rewards.services._stock_lots`` does), and asks
``Engine.upgrade_for`` whether each active agent qualifies when the model decided upgrades.

:func:`compare` then checks, agent by agent and rule by rule, that the model paid exactly
what the engine pays, to the fen, and made the engine's upgrade decisions. The cross-check
test runs it for every example plan (tests/plans/test_simulate_crosscheck.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np

from ..engine import (
    AgentExited,
    AgentJoined,
    AgentUpgraded,
    EarnedLine,
    Engine,
    Event,
    OrderCompleted,
    PeriodClosed,
    StockLot,
)
from ..memory import InMemoryHierarchy
from ..schema import Plan
from .model import Market

__all__ = ["ExactResult", "compare", "replay"]

CENT = Decimal("0.01")


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) * CENT).quantize(CENT)


@dataclass
class ExactResult:
    """What the production engine paid on the recorded history."""

    totals: dict[tuple[int, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    paid_by_agents: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    by_kind: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    upgrade_mismatches: list[tuple[int, int, object, object]] = field(default_factory=list)
    upgrade_checks: int = 0
    lines: list[EarnedLine] = field(default_factory=list)
    events: int = 0


def replay(plan: Plan, market: Market, *, keep_lines: bool = False) -> ExactResult:
    """Replay ``market.log`` (a run made with ``record=True``) through ``Engine(plan)``."""
    if not market.record:
        raise ValueError("the run was not recorded: simulate with record=True")
    engine = Engine(plan)
    view = InMemoryHierarchy(tz=plan.timezone)
    out = ExactResult()
    bought: dict[int, list[tuple[datetime, int, Decimal]]] = defaultdict(list)

    def at(month: int, phase: str) -> datetime:
        return market.at(month, phase)

    def take(lines: list[EarnedLine]) -> None:
        for line in lines:
            out.totals[(line.beneficiary, line.rule_id)] += line.amount
            out.by_kind[line.kind] += line.amount
            if line.kind == "reward" and isinstance(line.payer, int):
                out.paid_by_agents[line.payer] += line.amount
        if keep_lines:
            out.lines.extend(lines)

    for entry in market.log:
        tag = entry[0]
        out.events += 1
        event: Event
        if tag == "join":
            _, agent, level, referrer, supplier, month = entry
            when = at(month, "join")
            view.add_agent(
                agent,
                level,
                referrer=referrer if referrer >= 0 else None,
                supplier=supplier if supplier >= 0 else None,
                joined_at=when,
            )
            event = AgentJoined(event_id=f"agent.joined:{agent}", agent=agent, level=level, at=when)
        elif tag == "order":
            _, order_id, kind, buyer, seller, bound, amount, cost, units, month, phase, sku = entry
            when = at(month, phase)
            event = OrderCompleted(
                event_id=f"order.completed:{order_id}",
                order_id=order_id,
                kind=kind,
                buyer=buyer if buyer >= 0 else None,
                seller=seller if seller >= 0 else None,
                bound_agent=bound if bound >= 0 else None,
                amount=_yuan(amount),
                seller_cost=_yuan(cost) if cost is not None else None,
                at=when,
            )
            if kind in ("entry", "upgrade", "restock") and buyer >= 0 and sku == "unit" and units > 0:
                bought[buyer].append((when, units, _yuan(amount) / units))
        elif tag == "upgrade_check":
            _, month, decided = entry
            when = at(month, "upgrade")
            for agent in view.agents:
                if not view.is_active(agent):
                    continue
                out.upgrade_checks += 1
                decision = engine.upgrade_for(agent, view, at=when)
                got = (decision.to_level, int(decision.top_up * 100)) if decision is not None else None
                want = decided.get(agent)
                if got != want:
                    out.upgrade_mismatches.append((month, agent, got, want))
            continue
        elif tag == "level":
            _, agent, old, new, month = entry
            event = AgentUpgraded(
                event_id=f"agent.upgraded:{agent}:{month}",
                agent=agent,
                from_level=old,
                to_level=new,
                at=at(month, "upgrade"),
            )
        elif tag == "exit":
            _, agent, month, held = entry
            when = at(month, "exit")
            lots = []
            for bought_at, units, price in sorted(bought[agent], key=lambda row: row[0], reverse=True):
                n = min(held, units)
                if n:
                    held -= n
                    lots.append(StockLot(bought_at, price * n))
            event = AgentExited(event_id=f"agent.exited:{agent}", agent=agent, at=when, stock_lots=tuple(lots))
        elif tag == "close":
            _, period, start, end, _month = entry
            event = PeriodClosed(event_id=f"period:{period}:{start}", period=period, start=start, end=end)
        else:  # pragma: no cover - the model writes only these
            raise ValueError(f"unknown log entry {tag!r}")
        take(engine.process(event, view))
        view.apply(event)
    return out


def compare(market: Market, exact: ExactResult) -> list[str]:
    """Differences between the model's rewards and the engine's: [] when identical to the fen."""
    problems: list[str] = []
    n = market.n
    rules = list(market.recv_rule)
    for rule in rules:
        model = market.recv_rule[rule][:n]
        engine = np.zeros(n, dtype=np.int64)
        for (agent, rule_id), amount in exact.totals.items():
            if rule_id == rule:
                engine[agent] = int(amount * 100)
        diff = np.flatnonzero(model != engine)
        for agent in diff[:20]:
            problems.append(
                f"{rule}: agent {agent}: model {_yuan(int(model[agent]))}, engine {_yuan(int(engine[agent]))}"
            )
    unknown = {rule_id for (_agent, rule_id) in exact.totals} - set(rules)
    problems += [f"engine paid under {rule_id}, which the model does not know" for rule_id in sorted(unknown)]
    paid = np.zeros(n, dtype=np.int64)
    for agent, amount in exact.paid_by_agents.items():
        paid[agent] = int(amount * 100)
    for agent in np.flatnonzero(paid != market.paid_upline[:n])[:20]:
        problems.append(
            f"paid by agent {agent}: model {_yuan(int(market.paid_upline[agent]))}, engine {_yuan(int(paid[agent]))}"
        )
    for month, agent, got, want in exact.upgrade_mismatches[:20]:
        problems.append(f"month {month}: agent {agent}: engine upgrade {got}, model {want}")
    return problems
