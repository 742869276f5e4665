"""A campaign (起盘打法 / 活动策划) as a dated overlay on a plan.

Pure Python, like the rest of ``weishang.plans``: no Django. A campaign changes the plan only
inside its dates: reduced entry amounts and restock minimums by level code, a gift line with
qualifying orders, and extra reward rules in the plan's own reward shapes. ``apply_overlay``
gives the effective plan (what the engine, the simulator and the linter read during the
campaign); ``lint_campaign`` is the plan linter run on it, so a campaign that pays per
recruit gets the same findings as a plan that does.

    overlay = parse_campaign(yaml_text)
    effective = apply_overlay(plan, overlay)
    report = lint_campaign(plan, overlay, "cn")   # report.blocking: a CRIT, cannot start
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

import yaml
from pydantic import Field, model_validator

from .lint import LintReport, lint_plan
from .loader import _Loader
from .schema import Money, NonNegInt, Plan, PosInt, Reward, Slug, Text, _Model

__all__ = ["CampaignOverlay", "Gift", "Offers", "apply_overlay", "lint_campaign", "parse_campaign"]

OrderKind = Literal["entry", "upgrade", "restock"]
ORDER_KINDS: tuple[OrderKind, ...] = ("entry", "upgrade", "restock")


class Gift(_Model):
    """A gift SKU shipped with a qualifying order (随单赠品)."""

    sku: Text
    qty: PosInt = 1
    min_amount: Money = Field(default=Decimal(0), description="the order must reach this many yuan")
    kinds: list[OrderKind] = Field(default_factory=lambda: list(ORDER_KINDS), min_length=1)
    cost: Money = Field(default=Decimal(0), description="what one gift costs the brand, yuan")
    quantity: PosInt | None = Field(default=None, description="gifts in all (units); none = no limit")


class Offers(_Model):
    entry: dict[Slug, Money] = Field(default_factory=dict, description="reduced first-order amount by level code")
    min_restock_qty: dict[Slug, NonNegInt] = Field(default_factory=dict, description="restock minimum by level code")
    gift: Gift | None = None
    rewards: list[Reward] = Field(default_factory=list, description="extra reward rules, the plan's shapes")


class CampaignOverlay(_Model):
    id: Slug
    name: Text
    starts: date
    ends: date
    seats: PosInt | None = Field(default=None, description="how many agents may take part; none = no limit")
    per_agent_limit: PosInt = Field(default=1, description="seats one agent may take")
    budget: Money | None = None
    offers: Offers = Field(default_factory=Offers)

    @model_validator(mode="after")
    def _dates(self) -> CampaignOverlay:
        if self.ends < self.starts:
            raise ValueError("ends must not be before starts / 结束日期不能早于开始日期")
        return self

    def runs_on(self, day: date) -> bool:
        return self.starts <= day <= self.ends


def parse_campaign(text: str) -> CampaignOverlay:
    """Read a campaign overlay from YAML text; ``ValueError`` (pydantic's) on bad input."""
    try:
        data = yaml.load(text, Loader=_Loader)  # numbers as Decimal, as in a plan file
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML / 不是有效的 YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("a campaign is a mapping of keys / 活动应为键值映射")
    return CampaignOverlay.model_validate(data)


def apply_overlay(plan: Plan, overlay: CampaignOverlay) -> Plan:
    """The effective plan while ``overlay`` runs. ``ValueError`` names an unknown level code or a clashing id."""
    codes = set(plan.level_codes)
    offers = overlay.offers
    unknown = sorted((set(offers.entry) | set(offers.min_restock_qty)) - codes)
    if unknown:
        raise ValueError(f"unknown level code(s) / 未知等级代码: {', '.join(unknown)}")
    by_code = {level.code: level for level in plan.levels}
    for code, amount in offers.entry.items():
        plan_amount = by_code[code].entry.first_order_amount
        if plan_amount is None or amount >= plan_amount:
            raise ValueError(
                f"levels.{code}: an entry offer reduces the plan's entry order amount ({plan_amount or 'none'}); "
                f"{amount} does not / 首单优惠须低于方案的首单金额（{plan_amount or '无'}），{amount} 不是优惠"
            )
    for code, units in offers.min_restock_qty.items():
        if units >= by_code[code].min_restock_qty:
            raise ValueError(
                f"levels.{code}: a restock offer lowers the plan's minimum ({by_code[code].min_restock_qty} units); "
                f"{units} does not / 进货起订量优惠须低于方案的起订量（{by_code[code].min_restock_qty} 件）"
            )
    clash = sorted({r.id for r in offers.rewards} & {r.id for r in plan.rewards})
    if clash:
        raise ValueError(f"reward id already in the plan / 奖励规则 ID 与方案重复: {', '.join(clash)}")
    data: dict[str, Any] = plan.model_dump(by_alias=True, exclude_unset=True)
    levels = []
    for level in plan.levels:
        row = level.model_dump(by_alias=True, exclude_unset=True)
        if level.code in offers.entry:
            row["entry"] = {"first_order_amount": offers.entry[level.code]}
        if level.code in offers.min_restock_qty:
            row["min_restock_qty"] = offers.min_restock_qty[level.code]
        levels.append(row)
    data["levels"] = levels
    data["rewards"] = [r.model_dump(by_alias=True, exclude_unset=True) for r in (*plan.rewards, *offers.rewards)]
    return Plan.model_validate(data)


def lint_campaign(plan: Plan, overlay: CampaignOverlay, jurisdiction: str | None = None) -> LintReport:
    """The plan linter on the effective plan: ``report.blocking`` means the campaign cannot start."""
    return lint_plan(apply_overlay(plan, overlay), jurisdiction)
