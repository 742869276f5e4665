"""What the channel health figures, inputs and verdicts are called on the console's pages (the
health page and the dashboard's panel both read these)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

FIGURE_LABELS = {
    "loss_share": _("Share of participants with a net loss"),
    "recruitment_funded_share": _("Share of rewards funded by recruitment"),
    "retail_funded_share": _("Share of rewards funded by retail sales"),
    "months_of_stock": _("Months of stock held in the channel"),
    "max_subtree_members_3levels": _("Largest referrer sub-tree of 3 levels or more (members)"),
    "collected_total": _("Collected from agents to date (yuan)"),
    "non_participant_revenue_share": _("Share of agents' revenue from non-participants"),
    "end_user_share": _("Share of units shipped that reached consumers"),
}
INPUT_LABELS = {
    "participants": _("Participants (agents joined by the month's end)"),
    "with_loss": _("Participants with a net loss"),
    "rewards_total": _("Rewards and prizes of the month (yuan)"),
    "recruitment_funded": _("Funded by recruitment (yuan)"),
    "retail_funded": _("Funded by retail sales (yuan)"),
    "participant_funded": _("Funded by agents' own purchases (yuan)"),
    "stock_buyback_value": _("Unsold stock at the plan's buyback value (yuan)"),
    "per_head_rewards": _("Rewards paid per recruit this month (yuan)"),
    "per_head_rules": _("Rewards of the plan that pay per recruit"),
    "channel_stock_units": _("Units in agents' own and cloud stock at the month's end"),
    "sell_out_units": _("Units sold out to consumers in the month"),
    "units_shipped_by_company": _("Units the company shipped in the month"),
    "agent_retail_sales": _("Agents' sales to consumers in the month (yuan)"),
    "agent_wholesale_sales": _("Agents' sales to their downline in the month (yuan)"),
    "collected_total": _("Collected from agents to date (yuan)"),
}
STATUS_CLASS = {
    "OK": "bg-green-100 text-green-700",
    "WARN": "bg-orange-100 text-orange-700",
    "CRIT": "bg-red-100 text-red-700",
    "SKIPPED": "bg-base-100 text-base-500",
}
STATUS_LABELS = {
    "OK": _("OK"),
    "WARN": _("Warning"),
    "CRIT": _("Critical"),
    "SKIPPED": _("Not checked"),
}
