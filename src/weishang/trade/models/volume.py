"""The team-volume rollup: per agent and calendar month (China time, ``YYYY-MM``), the purchase
volume of their own orders and of their whole referrer team (themselves included).

It holds what ``trade.selectors.team_purchase_volume`` sums from the orders: entry, upgrade and
restock orders counted when completed and not refunded (``workflow.COUNTED_STATUSES``), in the
month of their completion, over the referrer tree as it stands now. ``trade.volume`` keeps it:
an outbox follower adds each completed order to the buyer and every ancestor and takes a
refunded one back; a referrer move shifts the moved team's months from the old ancestors to the
new ones in the move's transaction; ``weishang volume verify`` recomputes it from the orders.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from weishang.channel.models import Agent


class TeamVolume(models.Model):
    # No index of its own: the unique (agent, month) serves every lookup by agent.
    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("agent")
    )
    month = models.CharField(_("month"), max_length=7)  # YYYY-MM, China time
    own = models.DecimalField(_("own purchase volume"), max_digits=14, decimal_places=2, default=0)
    team = models.DecimalField(_("team purchase volume"), max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("monthly team volume")
        verbose_name_plural = _("monthly team volumes")
        constraints = [models.UniqueConstraint(fields=["agent", "month"], name="trade_teamvolume_agent_month")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.month}: {self.team}"
