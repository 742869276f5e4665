from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from weishang.channel.models import Agent
from weishang.channel.selectors import team_sum
from weishang.channel.tree import Relation
from weishang.core.money import to_money
from weishang.trade.models import VOLUME_KINDS, Order, OrderStatus


def team_purchase_volume(*, agent: Agent | int, start: datetime, end: datetime,
                         relation: Relation = Relation.REFERRER) -> Decimal:
    """Entry, upgrade and restock amounts of the team's orders completed in [start, end)."""
    completed = Order.objects.filter(
        status=OrderStatus.COMPLETED, kind__in=VOLUME_KINDS, completed_at__gte=start, completed_at__lt=end
    )
    return team_sum(agent=agent, queryset=completed, agent_field="buyer_id", amount_field="total", relation=relation)


def personal_purchase_volume(*, agent: Agent | int, start: datetime, end: datetime) -> Decimal:
    total = Order.objects.filter(
        buyer_id=getattr(agent, "pk", agent), status=OrderStatus.COMPLETED, kind__in=VOLUME_KINDS,
        completed_at__gte=start, completed_at__lt=end,
    ).aggregate(total=Sum("total"))["total"]
    return to_money(total if total is not None else 0)
