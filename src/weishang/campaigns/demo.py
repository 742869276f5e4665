"""The demo brand's campaigns (``demo_load`` calls ``campaigns_demo`` once), written as a brand
writes them — a YAML file, linted, scheduled — and taken part in through the trade services:

- **开业季** (running since 10 days ago, for 20 more): 30 seats, one per agent; a restock of
  ¥2,980 or more ships a face mask free (the brand pays ¥30 a mask to the upline who ships it);
  a month's retail sales of ¥2,980 earn a 三亚 trip that costs the brand ¥2,000 (a retail-based
  prize: lawful under the brand's Chinese rules). Six agents have taken part, paid and been
  filled; the launch dinner and the posters are its cost lines.
- **推三送旅游** (a draft): "refer three, win a trip" — the linter finds it pays for recruiting
  (CN-HEAD, CN-TEAM, CRIT), so it cannot be scheduled; the console shows why, with the sources.

The 市代 login has not taken part: its order form offers 开业季 with the seats left."""

from __future__ import annotations

from datetime import timedelta

from weishang.campaigns import services
from weishang.campaigns.models import Campaign
from weishang.catalog.models import SKU
from weishang.catalog.selectors import level_price
from weishang.channel.models import Agent, AgentStatus
from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.rewards.plan_versions import plan_in_force
from weishang.trade.demo import order_pay_and_fill

OPENING = """\
id: kaiye-season
name: 开业季
starts: {starts}
ends: {ends}
seats: 30
per_agent_limit: 1
budget: 60000
offers:
  gift: {{sku: GLOW-MASK5, qty: 1, min_amount: 2980, kinds: [restock], cost: 30, quantity: 100}}
  rewards:
    - id: kaiye-trip
      name: 开业季三亚游
      type: target_award
      period: month
      metric: personal_retail
      threshold: 2980
      prize: {{kind: trip, name: 三亚游, cost: 2000}}
"""

REFER_THREE = """\
id: refer-three-trip
name: 推三送旅游
starts: {starts}
ends: {ends}
seats: 50
offers:
  rewards:
    - id: refer-three-trip
      name: 推荐三人送旅游
      type: target_award
      period: month
      metric: new_referrals
      threshold: 3
      prize: {{kind: trip, name: 三亚游, cost: 2000}}
"""

SKU_CODE = "GLOW-30ML"


def campaigns_demo(*, login_phone: str, by) -> None:
    """Nothing when the demo already has campaigns, or has no plan in force or owner."""
    if Campaign.objects.exists() or plan_in_force() is None or by is None:
        return
    today = clock.today()
    dates = {"starts": today - timedelta(days=10), "ends": today + timedelta(days=20)}
    opening = services.campaign_schedule(campaign=services.campaign_save(overlay=OPENING.format(**dates), by=by), by=by)
    services.campaign_save(overlay=REFER_THREE.format(starts=today, ends=today + timedelta(days=30)), by=by)
    services.campaign_cost_add(campaign=opening, label="启动晚宴场地", amount="8000", by=by)
    services.campaign_cost_add(campaign=opening, label="海报与物料", amount="3000", by=by)
    services.campaign_cost_add(campaign=opening, label="海报与物料", amount="-400", by=by, note="印刷厂退回多收的款")
    sku = SKU.objects.filter(code=SKU_CODE).first()
    if sku is None:
        return
    taking_part = (
        Agent.objects.filter(status=AgentStatus.ACTIVE, level__code__in=("province", "city"))
        .exclude(user__phone=login_phone)
        .select_related("level", "user")
        .order_by("pk")[:6]
    )
    for agent in taking_part:
        price = level_price(sku=sku, level=agent.level)
        units = max(int(2980 // price) + 1, agent.level.min_restock_qty)
        try:
            order = services.campaign_order_submit(
                campaign=opening, buyer=agent, lines=[(SKU_CODE, units)], by=agent.user
            )
        except BusinessError:
            continue  # a purchase limit of this agent's: the next one takes part
        order_pay_and_fill(order, staff=by)
    services.seats_sync()
