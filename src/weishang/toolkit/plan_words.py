"""A plan's rules in plain words, for the policy document and the pitch deck: one sentence per
reward rule, per upgrade, and for settlement and returns. Keys and values a plan writes are named by
their labels (``rewards.labels``), in the reader's language."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from weishang.plans.schema import (
    Plan,
    ReferralReward,
    RetailCommissionReward,
    Reward,
    SelfPurchaseRebateReward,
    TargetAwardReward,
    TeamVolumeReward,
)
from weishang.rewards import labels


def share(rate: Decimal) -> str:
    """0.10 → 10%; 0.025 → 2.5%."""
    text = f"{rate * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def yuan(amount: Decimal) -> str:
    text = f"{amount:,.2f}"
    return (text[:-3] if text.endswith(".00") else text) + " " + _("yuan")


def _shares(rates) -> str:
    return " / ".join(share(r) for r in rates)


def _name(rule: Reward) -> str:
    return rule.name or labels.key_label(rule.type)


def _by_level(plan: Plan, values: dict, text) -> str:
    names = {lv.code: lv.name for lv in plan.levels}
    return "，".join(f"{names.get(code, code)} {text(value)}" for code, value in values.items())


def reward_text(plan: Plan, rule: Reward) -> str:
    """One reward rule as a sentence."""
    words = {"name": _name(rule)}
    if isinstance(rule, RetailCommissionReward):
        if rule.rates_by_level:
            words["rates"] = _by_level(plan, rule.rates_by_level, _shares)
            return (
                _(
                    "%(name)s: a share of the retail amount of every sale to a customer you serve, by your level: "
                    "%(rates)s."
                )
                % words
            )
        rates = rule.rates or []
        if len(rates) <= 1:
            words["rate"] = share(rates[0] if rates else Decimal(0))
            return (
                _(
                    "%(name)s: you earn %(rate)s of the retail amount of every sale to a customer you serve; nobody "
                    "above you is paid on it."
                )
                % words
            )
        words["rates"] = _shares(rates)
        return (
            _(
                "%(name)s: of the retail amount of every sale to a customer, you earn the first share and the "
                "referrers above you the next ones: %(rates)s."
            )
            % words
        )
    if isinstance(rule, SelfPurchaseRebateReward):
        if rule.rates_by_level:
            words["rates"] = _by_level(plan, rule.rates_by_level, share)
            return _("%(name)s: a share of your own purchase orders, by your level: %(rates)s.") % words
        words["rate"] = share(rule.rate or Decimal(0))
        return _("%(name)s: %(rate)s of the value of your own purchase orders.") % words
    if isinstance(rule, ReferralReward):
        words["who"] = labels.value_text("referee_level", rule.referee_level)
        words["payer"] = labels.value_text("payer", rule.payer)
        if rule.base == "per_head":
            words["amounts"] = " / ".join(yuan(a) for a in rule.amounts or [])
            return (
                _("%(name)s: for each new agent you refer (%(who)s), by generation: %(amounts)s, paid by %(payer)s.")
                % words
            )
        words["rates"] = _shares(rule.rates or [])
        text = (
            _(
                "%(name)s: a share of the purchases of the agents you refer (%(who)s), by generation: %(rates)s, "
                "paid by %(payer)s."
            )
            % words
        )
        if rule.window_days:
            text += " " + _("Only on orders within %(days)s days of their joining.") % {"days": rule.window_days}
        return text
    if isinstance(rule, TeamVolumeReward):
        words["period"] = labels.value_text("period", rule.period)
        words["metric"] = labels.value_text("metric", rule.metric)
        words["ladder"] = "，".join(
            _("from %(from)s: %(rate)s") % {"from": yuan(step.from_), "rate": share(step.rate)} for step in rule.ladder
        )
        text = _("%(name)s: each %(period)s, a share of your %(metric)s by the ladder %(ladder)s.") % words
        if rule.differential:
            text += " " + _(
                "Differential (级差): the share already earned by team members below you is deducted from yours."
            )
        return text
    if isinstance(rule, TargetAwardReward):
        words["period"] = labels.value_text("period", rule.period)
        words["metric"] = labels.value_text("metric", rule.metric)
        words["threshold"] = (
            f"{rule.threshold:,}" if rule.metric == "new_referrals" else yuan(Decimal(str(rule.threshold)))
        )
        prize = rule.prize
        words["prize"] = (
            yuan(prize.amount)
            if prize.kind == "cash" and prize.amount is not None
            else (prize.name or labels.value_text("kind", prize.kind))
        )
        if prize.name and prize.kind == "cash":
            words["prize"] += f"（{prize.name}）"
        return _("%(name)s: each %(period)s, reach %(threshold)s of %(metric)s to win %(prize)s.") % words
    return _name(rule)


def reward_texts(plan: Plan) -> list[str]:
    return [reward_text(plan, rule) for rule in plan.rewards]


def upgrade_texts(plan: Plan) -> list[str]:
    names = {lv.code: lv.name for lv in plan.levels}
    out = []
    for up in plan.upgrades:
        conditions = []
        for condition in up.any_ or up.all_ or []:
            parts = []
            for key, value in condition.model_dump(exclude_none=True).items():
                if isinstance(value, dict):  # team_volume: {period, amount}
                    value = _("%(amount)s a %(period)s") % {
                        "amount": yuan(Decimal(str(value["amount"]))),
                        "period": labels.value_text("period", value["period"]),
                    }
                elif isinstance(value, Decimal):
                    value = yuan(value)
                parts.append(f"{labels.key_label(key)} {value}")
            conditions.append(" + ".join(parts))
        words = {"level": names.get(up.to, up.to), "conditions": "；".join(conditions)}
        if up.any_ and len(conditions) > 1:
            text = _("To %(level)s: any one of %(conditions)s.") % words
        elif len(conditions) > 1:
            text = _("To %(level)s: all of %(conditions)s.") % words
        else:
            text = _("To %(level)s: %(conditions)s.") % words
        if up.top_up:
            text += " " + _("The upgrade asks for an order paying the difference (补差).")
        out.append(text)
    return out or [_("The plan has no upgrades: the level you join at is the level you keep.")]


def settlement_texts(plan: Plan) -> list[str]:
    s = plan.settlement
    lines = [
        _("A reward can be withdrawn %(days)s days after its order completes (returns are settled first).")
        % {"days": s.frozen_days},
        _("Smallest withdrawal: %(min)s; withdrawal fee: %(fee)s.")
        % {"min": yuan(s.withdraw_min), "fee": share(s.withdraw_fee_rate)},
    ]
    return lines


def return_texts(plan: Plan) -> list[str]:
    if plan.returns is None:
        return [_("The plan buys back no unsold stock when an agent leaves.")]
    return [
        _("When you leave, unsold stock bought in the last %(days)s days is bought back at %(rate)s of what you paid.")
        % {"days": plan.returns.window_days, "rate": share(plan.returns.refund_rate)}
    ]
