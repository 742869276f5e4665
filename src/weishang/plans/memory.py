"""``InMemoryHierarchy``: the engine's ``HierarchyView`` over plain dicts and a list of orders.

Used by the tests and the simulator; the Django side implements the same view with queries.
Figures follow the definitions in docs/plans.md:

- purchases are entry, upgrade and restock orders, credited to their buyer;
- retail sales are retail orders, credited to the bound agent, or to the seller when the
  customer is bound to nobody;
- a team is the agent plus everyone below them in the referrer tree;
- refunded orders count nowhere; dates are taken in ``tz`` (the plan's time zone);
- an agent is active unless marked inactive (``set_active(agent, False)``, ``inactive=`` in
  ``from_dicts``) or exited (``apply(AgentExited)``);
- an agent's display name is the one given (``names=``, ``set_name``), else ``#id``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from .engine import (
    PURCHASE_KINDS,
    AgentExited,
    AgentJoined,
    AgentUpgraded,
    Event,
    OrderCompleted,
    OrderRefunded,
    PeriodClosed,
)

__all__ = ["InMemoryHierarchy"]

ZERO = Decimal(0)


class InMemoryHierarchy:
    """A mutable in-memory agent tree and order book that answers the engine's questions."""

    def __init__(self, *, tz: str | ZoneInfo | None = None):
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._level: dict[int, str] = {}
        self._referrer: dict[int, int | None] = {}
        self._supplier: dict[int, int | None] = {}
        self._joined: dict[int, datetime] = {}
        self._children: dict[int, list[int]] = defaultdict(list)
        self._orders: dict[str, OrderCompleted] = {}
        self._by_buyer: dict[int, list[OrderCompleted]] = defaultdict(list)
        self._by_retail_credit: dict[int, list[OrderCompleted]] = defaultdict(list)
        self._names: dict[int, str] = {}
        self.refunded: set[str] = set()
        self.exited: set[int] = set()
        self.inactive: set[int] = set()  # exited or suspended: earns nothing

    @classmethod
    def from_dicts(
        cls,
        *,
        levels: Mapping[int, str],
        referrers: Mapping[int, int | None] | None = None,
        suppliers: Mapping[int, int | None] | None = None,
        joined: Mapping[int, datetime] | None = None,
        orders: Iterable[OrderCompleted] = (),
        refunded: Iterable[str] = (),
        names: Mapping[int, str] | None = None,
        inactive: Iterable[int] = (),
        tz: str | ZoneInfo | None = None,
        default_joined: datetime = datetime(2000, 1, 1),
    ) -> InMemoryHierarchy:
        """Build a view from ``{agent: level}``, ``{agent: referrer}``, … and completed orders.

        ``names``: ``{agent: display name}`` (others are ``#id``); ``inactive``: agents marked
        exited or suspended.
        """
        view = cls(tz=tz)
        referrers, suppliers, joined, names = referrers or {}, suppliers or {}, joined or {}, names or {}
        for agent in sorted(levels):
            view.add_agent(
                agent,
                levels[agent],
                referrer=referrers.get(agent),
                supplier=suppliers.get(agent),
                joined_at=joined.get(agent, default_joined),
                name=names.get(agent),
            )
        for agent in inactive:
            view.set_active(agent, False)
        for order in orders:
            view.add_order(order)
        for order_id in refunded:
            view.refund(order_id)
        return view

    # -- changes ------------------------------------------------------------------------

    def add_agent(
        self,
        agent: int,
        level: str,
        *,
        referrer: int | None = None,
        supplier: int | None = None,
        joined_at: datetime,
        name: str | None = None,
    ) -> None:
        if agent in self._level:
            raise ValueError(f"agent {agent} already exists")
        if referrer is not None and referrer == agent:
            raise ValueError(f"agent {agent} cannot refer themselves")
        self._level[agent] = level
        self._referrer[agent] = referrer
        self._supplier[agent] = supplier
        self._joined[agent] = joined_at
        if name:
            self._names[agent] = name
        if referrer is not None:
            self._children[referrer].append(agent)

    def set_level(self, agent: int, level: str) -> None:
        self._require(agent)
        self._level[agent] = level

    def set_active(self, agent: int, active: bool) -> None:
        """Mark the agent active again, or inactive (exited or suspended: they earn nothing)."""
        self._require(agent)
        if active:
            self.inactive.discard(agent)
        else:
            self.inactive.add(agent)

    def set_name(self, agent: int, name: str | None) -> None:
        self._require(agent)
        if name:
            self._names[agent] = name
        else:
            self._names.pop(agent, None)

    def set_supplier(self, agent: int, supplier: int | None) -> None:
        self._require(agent)
        self._supplier[agent] = supplier

    def add_order(self, order: OrderCompleted) -> None:
        """Record a completed order (a second call with the same order id is ignored)."""
        if order.order_id in self._orders:
            return
        self._orders[order.order_id] = order
        if order.buyer is not None:
            self._by_buyer[order.buyer].append(order)
        credit = self._retail_credit(order)
        if credit is not None:
            self._by_retail_credit[credit].append(order)

    def refund(self, order_id: str) -> None:
        self.refunded.add(order_id)

    def apply(self, event: Event) -> None:
        """Bring the view up to date with ``event`` (call after ``Engine.process``)."""
        if isinstance(event, OrderCompleted):
            self.add_order(event)
        elif isinstance(event, OrderRefunded):
            self.refund(event.order_id)
        elif isinstance(event, AgentUpgraded):
            self.set_level(event.agent, event.to_level)
        elif isinstance(event, AgentJoined):
            self._require(event.agent)
            self._level[event.agent] = event.level
            self._joined[event.agent] = event.at
        elif isinstance(event, AgentExited):
            self.exited.add(event.agent)
            self.inactive.add(event.agent)
        elif isinstance(event, PeriodClosed):
            pass
        else:
            raise TypeError(f"unknown event type {type(event).__name__}")

    # -- HierarchyView ------------------------------------------------------------------

    def level_of(self, agent: int) -> str:
        self._require(agent)
        return self._level[agent]

    def referrer_chain(self, agent: int, generations: int) -> list[int]:
        chain: list[int] = []
        seen = {agent}
        current = self._referrer.get(agent)
        while current is not None and len(chain) < generations and current not in seen:
            chain.append(current)
            seen.add(current)
            current = self._referrer.get(current)
        return chain

    def joined_at(self, agent: int) -> datetime:
        self._require(agent)
        return self._joined[agent]

    def direct_referrals(self, agent: int) -> list[int]:
        return list(self._children.get(agent, ()))

    def supplier_of(self, agent: int) -> int | None:
        return self._supplier.get(agent)

    def metric_totals(self, metric: str, start: date, end: date) -> dict[int, Decimal]:
        personal: dict[int, Decimal] = defaultdict(Decimal)
        if metric in ("personal_purchase", "team_purchase"):
            for agent, orders in self._by_buyer.items():
                for order in orders:
                    if order.kind in PURCHASE_KINDS and self._counts(order, start, end):
                        personal[agent] += order.amount
        elif metric in ("personal_retail", "team_retail"):
            for agent, orders in self._by_retail_credit.items():
                for order in orders:
                    if self._counts(order, start, end):
                        personal[agent] += order.amount
        elif metric == "new_referrals":
            for agent, referrer in self._referrer.items():
                if referrer is not None and start <= self._date(self._joined[agent]) <= end:
                    personal[referrer] += 1
        else:
            raise ValueError(f"unknown metric {metric!r}")
        if metric.startswith("team_"):
            team: dict[int, Decimal] = defaultdict(Decimal)
            for agent, value in personal.items():
                team[agent] += value
                for upline in self.referrer_chain(agent, len(self._level) + 1):
                    team[upline] += value
            personal = team
        return {agent: value for agent, value in sorted(personal.items()) if value != 0}

    def cumulative_purchase(self, agent: int) -> Decimal:
        orders = self._by_buyer.get(agent, ())
        return sum((o.amount for o in orders if o.kind in PURCHASE_KINDS and self._live(o)), ZERO)

    def max_single_order(self, agent: int) -> Decimal:
        return max(
            (o.amount for o in self._by_buyer.get(agent, ()) if o.kind in PURCHASE_KINDS and self._live(o)),
            default=ZERO,
        )

    def direct_referrals_at_level(self, agent: int, level: str) -> int:
        return sum(1 for child in self._children.get(agent, ()) if self._level.get(child) == level)

    def direct_referral_count(self, agent: int) -> int:
        return len(self._children.get(agent, ()))

    def cumulative_spend(self, agent: int) -> Decimal:
        return sum((o.amount for o in self._by_buyer.get(agent, ()) if self._live(o)), ZERO)

    def cumulative_retail(self, agent: int) -> Decimal:
        return sum((o.amount for o in self._by_retail_credit.get(agent, ()) if self._live(o)), ZERO)

    def team_purchase(self, agent: int, start: date, end: date) -> Decimal:
        total = ZERO
        for member in self.team(agent):
            for order in self._by_buyer.get(member, ()):
                if order.kind in PURCHASE_KINDS and self._counts(order, start, end):
                    total += order.amount
        return total

    def is_active(self, agent: int) -> bool:
        self._require(agent)
        return agent not in self.inactive

    def display_name(self, agent: int) -> str:
        return self._names.get(agent) or f"#{agent}"

    # -- extras -------------------------------------------------------------------------

    def team(self, agent: int) -> list[int]:
        """The agent and everyone below them in the referrer tree, top-down."""
        out, stack, seen = [], [agent], set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            out.append(current)
            stack.extend(reversed(self._children.get(current, ())))
        return out

    @property
    def agents(self) -> list[int]:
        return sorted(self._level)

    @property
    def orders(self) -> list[OrderCompleted]:
        return list(self._orders.values())

    def _retail_credit(self, order: OrderCompleted) -> int | None:
        if order.kind != "retail":
            return None
        return order.bound_agent if order.bound_agent is not None else order.seller

    def _live(self, order: OrderCompleted) -> bool:
        return order.order_id not in self.refunded

    def _counts(self, order: OrderCompleted, start: date, end: date) -> bool:
        return self._live(order) and start <= self._date(order.at) <= end

    def _date(self, at: datetime) -> date:
        if self.tz is not None and at.tzinfo is not None:
            return at.astimezone(self.tz).date()
        return at.date()

    def _require(self, agent: int) -> None:
        if agent not in self._level:
            raise KeyError(f"unknown agent {agent}")
