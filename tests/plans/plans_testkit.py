"""Builders shared by the plans tests: small plans from YAML snippets and agent trees."""

from __future__ import annotations

import textwrap
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from weishang.plans import InMemoryHierarchy, OrderCompleted, Plan, parse_plan

TZ = ZoneInfo("Asia/Shanghai")

LEVELS = """\
levels:
  - {code: partner, name: 联创, entry: {first_order_amount: 100000}, discount: 0.30, min_restock_qty: 100}
  - {code: general, name: 总代, entry: {first_order_amount: 20000}, discount: 0.40, min_restock_qty: 20}
  - {code: province, name: 省代, entry: {first_order_amount: 6000}, discount: 0.50, min_restock_qty: 10}
  - {code: city, name: 市代, entry: {first_order_amount: 2000}, discount: 0.60, min_restock_qty: 5}
  - {code: vip, name: 特约, entry: {first_order_amount: 298}, discount: 0.80, min_restock_qty: 1}
"""


def plan_with(body: str = "", *, kind: str = "tiered", rounding: str = "down", returns: str = "") -> Plan:
    """A five-level plan (partner … vip) plus ``body`` (YAML for rewards:, upgrades:, …)."""
    text = (
        f"id: test-plan\nversion: 3\nname: 测试方案\nkind: {kind}\n"
        + LEVELS
        + textwrap.dedent(body)
        + f"\nsettlement: {{rounding: {rounding}}}\n"
        + textwrap.dedent(returns)
    )
    return parse_plan(text, "test.yaml")


def at(day: str, hour: int = 12) -> datetime:
    """An aware datetime in Asia/Shanghai: at('2025-03-15')."""
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, tzinfo=TZ)


def tree(spec: dict[int, tuple[str, int | None]], *, joined: str = "2025-01-01", **kw) -> InMemoryHierarchy:
    """{agent: (level, referrer)} → an InMemoryHierarchy in Asia/Shanghai."""
    return InMemoryHierarchy.from_dicts(
        levels={a: lvl for a, (lvl, _) in spec.items()},
        referrers={a: ref for a, (_, ref) in spec.items()},
        joined={a: at(joined) for a in spec},
        tz=TZ,
        **kw,
    )


_counter = iter(range(1, 10**9))


def order(
    kind: str,
    amount: str | int,
    *,
    buyer: int | None = None,
    seller: int | None = None,
    bound: int | None = None,
    cost: str | int | None = None,
    when: str = "2025-03-15",
    order_id: str | None = None,
) -> OrderCompleted:
    n = next(_counter)
    oid = order_id or f"O-{n}"
    return OrderCompleted(
        event_id=f"order-completed:{oid}",
        order_id=oid,
        kind=kind,
        buyer=buyer,
        seller=seller,
        bound_agent=bound,
        amount=Decimal(str(amount)),
        seller_cost=Decimal(str(cost)) if cost is not None else None,
        at=at(when),
    )


def by_beneficiary(lines) -> dict[int, Decimal]:
    out: dict[int, Decimal] = {}
    for line in lines:
        out[line.beneficiary] = out.get(line.beneficiary, Decimal(0)) + line.amount
    return out
