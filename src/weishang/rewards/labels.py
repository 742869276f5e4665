"""How the plan pages name a plan file's keys and values: the one mapping every plan page uses.

A plan file is written with English keys (``first_order_amount``, ``tiered``, ``cn``); the console
shows each by its label in the reader's language (首批进货额, 层级微商制度, 中国). What is the
brand's own data — level and SKU codes, rule ids, names, amounts — is shown as written.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import pgettext_lazy as _

from weishang.plans.schema import fmt_num

# Every key of the plan format (docs/plans.md), and the sections of the plan pages.
PLAN_KEYS: dict[str, Any] = {
    # top level
    "id": _("plan key", "plan id"),
    "version": _("plan key", "version"),
    "name": _("plan key", "name"),
    "kind": _("plan key", "kind"),
    "currency": _("plan key", "currency"),
    "timezone": _("plan key", "time zone"),
    "jurisdiction": _("plan key", "jurisdiction"),
    "direct_selling": _("plan key", "direct-selling licence"),
    "levels": _("plan key", "levels"),
    "prices": _("plan key", "prices"),
    "supply": _("plan key", "who fills restock orders"),
    "customer_binding": _("plan key", "customer binding"),
    "rewards": _("plan key", "rewards"),
    "upgrades": _("plan key", "upgrades"),
    "settlement": _("plan key", "settlement"),
    "returns": _("plan key", "buyback on exit"),
    "general": _("plan key", "plan"),
    # levels
    "code": _("plan key", "code"),
    "rank": _("plan key", "rank"),
    "entry": _("plan key", "entry"),
    "first_order_amount": _("plan key", "first order amount"),
    "gift_pack": _("plan key", "gift pack"),
    "free": _("plan key", "free entry"),
    "discount": _("plan key", "discount"),
    "min_restock_qty": _("plan key", "minimum units per restock"),
    "retail": _("plan key", "retail price"),
    # customer binding
    "mode": _("plan key", "mode"),
    "days": _("plan key", "days"),
    # rewards
    "type": _("plan key", "type"),
    "referral": _("plan key", "referral reward"),
    "retail_commission": _("plan key", "retail commission"),
    "self_purchase_rebate": _("plan key", "self-purchase rebate"),
    "team_volume": _("plan key", "team volume"),
    "target_award": _("plan key", "target award"),
    "referee_level": _("plan key", "referee's level"),
    "base": _("plan key", "base"),
    "rates": _("plan key", "rates by generation"),
    "amounts": _("plan key", "amounts by generation"),
    "payer": _("plan key", "paid by"),
    "window_days": _("plan key", "window (days)"),
    "rates_by_level": _("plan key", "rates by level"),
    "rate": _("plan key", "rate"),
    "period": _("plan key", "period"),
    "metric": _("plan key", "measured on"),
    "ladder": _("plan key", "ladder"),
    "from": _("plan key", "from"),
    "differential": _("plan key", "differential (级差)"),
    "threshold": _("plan key", "threshold"),
    "prize": _("plan key", "prize"),
    "amount": _("plan key", "amount"),
    "cost": _("plan key", "cost to the brand"),
    # upgrades
    "to": _("plan key", "to level"),
    "any": _("plan key", "any one of"),
    "all": _("plan key", "all of"),
    "top_up": _("plan key", "pays the difference (补差)"),
    "conditions": _("plan key", "conditions"),
    "cumulative_purchase": _("plan key", "cumulative purchases"),
    "single_order_amount": _("plan key", "single order"),
    "same_level_referrals": _("plan key", "same-level referrals"),
    "direct_referrals": _("plan key", "direct referrals"),
    "cumulative_spend": _("plan key", "cumulative spend"),
    "retail_sales": _("plan key", "retail sales"),
    # settlement and returns
    "frozen_days": _("plan key", "frozen for (days)"),
    "withdraw_min": _("plan key", "smallest withdrawal"),
    "withdraw_fee_rate": _("plan key", "withdrawal fee rate"),
    "rounding": _("plan key", "rounding"),
    "refund_rate": _("plan key", "refund rate"),
}

# The words a plan file uses as values, by the key they belong to.
PLAN_VALUES: dict[str, dict[str, Any]] = {
    "kind": {
        "tiered": _("plan value", "tiered agency (层级微商)"),
        "social_mall": _("plan value", "social mall (社交商城)"),
        "cash": _("plan value", "cash"),
        "trip": _("plan value", "trip"),
        "goods": _("plan value", "goods"),
    },
    "jurisdiction": {
        "cn": _("plan value", "China"),
        "wechat": _("plan value", "WeChat platform rules"),
        "us": _("plan value", "United States"),
        "eu": _("plan value", "European Union"),
        "uk": _("plan value", "United Kingdom"),
        "none": _("plan value", "none (sandbox)"),
        "all": _("plan value", "every rulebook"),
    },
    "supply": {
        "nearest_higher_upline": _("plan value", "the nearest higher upline (上级发货)"),
        "company": _("plan value", "the company (总部发货)"),
        "cloud": _("plan value", "cloud stock (云仓)"),
    },
    "mode": {
        "first": _("plan value", "the first agent keeps the customer"),
        "expiring": _("plan value", "lapses after some days"),
        "override": _("plan value", "the latest agent takes over"),
        "any": _("plan value", "any one of"),
        "all": _("plan value", "all of"),
    },
    "referee_level": {
        "same": _("plan value", "same level"),
        "lower": _("plan value", "lower level"),
        "higher": _("plan value", "higher level"),
        "any": _("plan value", "any level"),
    },
    "base": {
        "referee_purchase": _("plan value", "the referee's purchases"),
        "per_head": _("plan value", "per recruit"),
    },
    "payer": {"company": _("plan value", "the company"), "upline": _("plan value", "the upline")},
    "period": {
        "month": _("plan value", "month"),
        "quarter": _("plan value", "quarter"),
        "year": _("plan value", "year"),
    },
    "metric": {
        "team_purchase": _("plan value", "team purchases"),
        "team_retail": _("plan value", "team retail"),
        "personal_purchase": _("plan value", "personal purchases"),
        "personal_retail": _("plan value", "personal retail"),
        "new_referrals": _("plan value", "new referrals"),
    },
    "rounding": {
        "down": _("plan value", "down to the fen"),
        "half_up": _("plan value", "half up"),
        "half_even": _("plan value", "half to even"),
    },
    "type": {},  # filled below: a reward's type is named like the key of its table
}
PLAN_VALUES["type"] = {
    key: PLAN_KEYS[key]
    for key in ("referral", "retail_commission", "self_purchase_rebate", "team_volume", "target_award")
}

# The linter's severities (plans.lint.report.SEVERITIES), by their label; the code stays beside it
# (严重 (CRIT)) because findings, the command line and the docs name them by code.
SEVERITIES: dict[str, Any] = {
    "CRIT": _("lint severity", "critical"),
    "HIGH": _("lint severity", "high"),
    "MED": _("lint severity", "medium"),
    "INFO": _("lint severity", "info"),
}


def severity_label(code: str) -> str:
    """``CRIT`` → ``严重 (CRIT)``; an unknown code as written."""
    label = SEVERITIES.get(code)
    return f"{label} ({code})" if label is not None else str(code)


_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def key_label(key: str) -> str:
    """The label of a plan key; a key of the brand's own (a level or SKU code) as written."""
    label = PLAN_KEYS.get(key)
    return str(label) if label is not None else key


def path_label(path: str) -> str:
    """``levels[4].entry.first_order_amount`` → ``等级 第 5 项 · 入门条件 · 首批进货额``."""
    parts = []
    for name, index in _SEGMENT.findall(path or ""):
        if index:
            parts[-1:] = (
                [gettext("%(what)s no. %(n)s") % {"what": parts[-1], "n": int(index) + 1}]
                if parts
                else [str(int(index) + 1)]
            )
        else:
            parts.append(key_label(name))
    return " · ".join(parts)


def value_text(key: str, value: Any) -> str:
    """A plan value as a reader reads it: words by their label, yes/no, amounts as written,
    mappings as "label: value" pairs, lists in brackets."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, Decimal | int):
        return fmt_num(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_text(key, v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key_label(k)}: {value_text(k, v)}" for k, v in value.items() if v is not None) + "}"
    words = PLAN_VALUES.get(key, {})
    label = words.get(value) if isinstance(value, str) else None
    return str(label) if label is not None else str(value)


def entry_text(entry) -> str:
    """A level's entry condition: 首批进货额 3000, 大礼包 GLOW-GIFT398, or 免费加入."""
    if entry.first_order_amount is not None:
        return f"{key_label('first_order_amount')} {fmt_num(entry.first_order_amount)}"
    if entry.gift_pack:
        return f"{key_label('gift_pack')} {entry.gift_pack}"
    return key_label("free")
