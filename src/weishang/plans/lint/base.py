"""The rule table's building blocks and what the checks read from a plan.

A rule is data — id, severity, the rulebook's "where" column, the citation, a one-line
title in both languages, what it needs (the plan text, simulated figures, or nothing it can
check) — plus one small check function that yields ``Hit``s: a key path and two sentences
saying what in the plan triggered it and what a lawful alternative looks like. The linter
turns hits into ``Finding``s (line numbers, citation, severity).

The helpers below answer the questions several rules ask (which levels cost money to
join, which upgrades can be bought, which rewards pay on other people's purchases …) with
the key path to point at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..loader import format_path
from ..schema import (
    Condition,
    Level,
    Plan,
    ReferralReward,
    RetailCommissionReward,
    SelfPurchaseRebateReward,
    TargetAwardReward,
    TeamVolumeReward,
)

RULEBOOKS: tuple[str, ...] = ("cn", "wechat", "us", "eu", "uk", "all")
"""The rulebook's "where" column, lower-cased: a rule applies in one of these ("all" = every
jurisdiction)."""


@dataclass(frozen=True)
class Hit:
    """A check's answer: where, and why in both languages. ``severity`` overrides the rule's
    own (CN-TEAM is CRIT when its base is a head count)."""

    path: str
    message_en: str
    message_zh: str
    severity: str | None = None


@dataclass(frozen=True)
class Thresholds:
    """Limits for the rules on simulated figures that the brand may set.

    ``loss_share``: ECON-LOSS fires when more than this share of participants lose money
    (default 0.5). ``months_of_stock``: ECON-INV fires when channel inventory exceeds this
    many months of end-customer demand (default 3).
    """

    loss_share: Decimal = Decimal("0.5")
    months_of_stock: Decimal = Decimal("3")

    def __post_init__(self) -> None:
        for name in ("loss_share", "months_of_stock"):
            value = getattr(self, name)
            if isinstance(value, float | bool) or not isinstance(value, int | Decimal | str):
                raise TypeError(f"Thresholds.{name} must be a Decimal, int or numeric str, not {value!r}")
            object.__setattr__(self, name, Decimal(value))
        if not Decimal(0) <= self.loss_share <= 1:
            raise ValueError(f"Thresholds.loss_share must be between 0 and 1, not {self.loss_share}")
        if self.months_of_stock < 0:
            raise ValueError(f"Thresholds.months_of_stock must not be negative, not {self.months_of_stock}")


@dataclass
class Context:
    """What a check reads: the plan, the simulated figures (empty without a simulation),
    the thresholds, and the hits of the text rules already run (CN-CRIM needs them)."""

    plan: Plan
    figures: dict[str, Decimal] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    text_hits: dict[str, list[Hit]] = field(default_factory=dict)


Check = Callable[[Context], Iterable[Hit]]

KINDS = ("text", "figures", "reminder", "not_decidable")
"""How a rule is decided: from the plan text; from simulated figures; a reminder printed
for every plan (the plan cannot show the thing the rule is about); or not at all (no key in
the plan format can express what the rule forbids)."""


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    where: str
    source: str
    title_en: str
    title_zh: str
    check: Check
    kind: str = "text"
    figures: tuple[str, ...] = ()
    note: str = ""  # why a reminder or not-decidable rule is what it is (docs/linter.md)


RULES: list[Rule] = []


def rule(
    id: str,
    severity: str,
    where: str,
    source: str,
    title_en: str,
    title_zh: str,
    *,
    kind: str = "text",
    figures: tuple[str, ...] = (),
    note: str = "",
) -> Callable[[Check], Check]:
    """Register the decorated check as rule ``id`` in ``RULES`` (in definition order)."""
    assert where in RULEBOOKS and kind in KINDS and severity in ("CRIT", "HIGH", "MED", "INFO")

    def register(check: Check) -> Check:
        RULES.append(Rule(id, severity, where, source, title_en, title_zh, check, kind, figures, note))
        return check

    return register


# ---------------------------------------------------------------------------------------
# Wording
# ---------------------------------------------------------------------------------------


def num(value: Decimal | int) -> str:
    """100000 → '100,000'; 4.50 → '4.5'."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.normalize():,f}"


def months(value: Decimal | float | int) -> str:
    """A number of months to one decimal, as people write it: 136.361111 → '136.4', 12 → '12'."""
    value = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return num(value)


def yuan(value: Decimal | int) -> str:
    """100000 → '¥100,000'; 99.5 → '¥99.50'."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"¥{int(value):,}"
    return f"¥{value:,.2f}"


def pct(rate: Decimal) -> str:
    """0.05 → '5%'; 0.025 → '2.5%'."""
    value = (Decimal(rate) * 100).normalize()
    text = format(value, "f")
    return f"{text}%"


def pcts(rates: Iterable[Decimal]) -> str:
    return " / ".join(pct(r) for r in rates)


def lv(level: Level) -> str:
    """'联创 (partner)'."""
    return f"{level.name} ({level.code})"


def lv_zh(level: Level) -> str:
    return f"{level.name}（{level.code}）"


def rid(reward: Any) -> str:
    """'peer-referral' or '平级推荐奖 (peer-referral)' when named."""
    return f"'{reward.id}'" if not reward.name else f"'{reward.id}' ({reward.name})"


def rid_zh(reward: Any) -> str:
    return f"“{reward.name}”（{reward.id}）" if reward.name else f"“{reward.id}”"


PERIOD_EN = {"month": "month", "quarter": "quarter", "year": "year"}
PERIOD_ZH = {"month": "每月", "quarter": "每季度", "year": "每年"}


# ---------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------


def path(*parts: str | int) -> str:
    return format_path(parts)


def written(plan: Plan, *candidates: str) -> str:
    """The first candidate path written in the file, else the last candidate."""
    for candidate in candidates:
        if plan.line_of(candidate) is not None:
            return candidate
    return candidates[-1]


def line_for(plan: Plan, key_path: str) -> int | None:
    """Line of ``key_path``, else of its nearest written parent; None if nothing is written."""
    if not key_path:
        return None
    probe = key_path
    while probe:
        line = plan.line_of(probe)
        if line is not None:
            return line
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""
    return None


# ---------------------------------------------------------------------------------------
# What the plan says, with where it says it
# ---------------------------------------------------------------------------------------

PURCHASE_CONDITIONS = ("cumulative_purchase", "single_order_amount", "cumulative_spend")
HEADCOUNT_CONDITIONS = ("same_level_referrals", "direct_referrals")


def rewards_of(plan: Plan, kind: type) -> Iterator[tuple[int, Any]]:
    for i, reward in enumerate(plan.rewards):
        if isinstance(reward, kind):
            yield i, reward


def paid_entries(plan: Plan) -> Iterator[tuple[str, Level]]:
    """(path, level) for every level that costs money to join: an entry order above 0
    (首批进货) or a gift pack (大礼包)."""
    for i, level in enumerate(plan.levels):
        if level.entry.gift_pack is not None:
            yield path("levels", i, "entry", "gift_pack"), level
        elif level.entry.first_order_amount is not None and level.entry.first_order_amount > 0:
            yield path("levels", i, "entry", "first_order_amount"), level


def entry_en(level: Level, plan: Plan) -> str:
    """'an entry order of ¥2,000' / 'the gift pack GLOW-GIFT398 (¥398)'."""
    if level.entry.gift_pack is not None:
        sku = level.entry.gift_pack
        retail = plan.prices.get(sku, {}).get("retail")
        return f"the gift pack {sku}" + (f" ({yuan(retail)})" if retail is not None else "")
    return f"an entry order of {yuan(level.entry.amount)}"


def entry_zh(level: Level, plan: Plan) -> str:
    if level.entry.gift_pack is not None:
        sku = level.entry.gift_pack
        retail = plan.prices.get(sku, {}).get("retail")
        return f"购买礼包 {sku}" + (f"（{yuan(retail)}）" if retail is not None else "")
    return f"首批进货 {yuan(level.entry.amount)}"


def conditions(plan: Plan) -> Iterator[tuple[str, int, Any, Condition]]:
    """(path, upgrade index, upgrade, condition) for every upgrade condition."""
    for i, upgrade in enumerate(plan.upgrades):
        for j, cond in enumerate(upgrade.conditions):
            yield path("upgrades", i, upgrade.mode, j), i, upgrade, cond


def target(plan: Plan, upgrade: Any) -> Level:
    return plan.level(upgrade.to)


def paid_top_ups(plan: Plan) -> Iterator[tuple[str, Any]]:
    """(path, upgrade) for every ``top_up: true`` upgrade to a level with an entry amount
    above 0 (with free or gift-pack entries the top-up is always 0)."""
    for i, upgrade in enumerate(plan.upgrades):
        if upgrade.top_up and target(plan, upgrade).entry.amount > 0:
            yield path("upgrades", i, "top_up"), upgrade


def purchase_unlocked(plan: Plan) -> dict[str, tuple[str, str]]:
    """Levels one can reach by paying: {code: (how, in English; in Chinese)}."""
    out: dict[str, tuple[str, str]] = {}
    for _, level in paid_entries(plan):
        out.setdefault(level.code, (f"joined with {entry_en(level, plan)}", f"加入须{entry_zh(level, plan)}"))
    for _, _, upgrade, cond in conditions(plan):
        if cond.key in PURCHASE_CONDITIONS:
            out.setdefault(
                upgrade.to,
                (
                    f"reached by {COND_EN[cond.key]} of {yuan(cond.value)}",
                    f"可凭{COND_ZH[cond.key]} {yuan(cond.value)} 升级获得",
                ),
            )
    for _, upgrade in paid_top_ups(plan):
        out.setdefault(upgrade.to, ("reached by paying the top-up (补差)", "升级须补差价"))
    return out


COND_EN = {
    "cumulative_purchase": "cumulative purchases",
    "single_order_amount": "a single order",
    "cumulative_spend": "total spending (own purchases included)",
    "same_level_referrals": "direct referrals at the agent's own level",
    "direct_referrals": "direct referrals",
    "team_volume": "team purchases",
    "retail_sales": "retail sales",
}
COND_ZH = {
    "cumulative_purchase": "累计进货",
    "single_order_amount": "单笔订单",
    "cumulative_spend": "累计消费（含自购）",
    "same_level_referrals": "直推同级人数",
    "direct_referrals": "直推人数",
    "team_volume": "团队进货额",
    "retail_sales": "零售额",
}


def referral_rate_path(i: int, reward: ReferralReward, plan: Plan) -> str:
    """``rewards[i].rates`` for a share of purchases, ``rewards[i].base`` for per head."""
    return path("rewards", i, "rates") if reward.base == "referee_purchase" else path("rewards", i, "base")


def referral_amounts_en(reward: ReferralReward) -> str:
    """'5% / 2% of the referee's orders' or '¥100 / ¥20 per recruit', by generation."""
    if reward.base == "per_head":
        return " / ".join(yuan(a) for a in reward.amounts or ()) + " per recruit"
    return pcts(reward.rates or ()) + " of the recruits' orders"


def referral_amounts_zh(reward: ReferralReward) -> str:
    if reward.base == "per_head":
        return "每招一人发 " + " / ".join(yuan(a) for a in reward.amounts or ())
    return "按下线订单的 " + pcts(reward.rates or ()) + " 计奖"


def by_generation_en(n: int) -> str:
    return "to the 1st generation" if n == 1 else f"to generations 1–{n}"


def by_generation_zh(n: int) -> str:
    return "发给第 1 代" if n == 1 else f"发给第 1–{n} 代"


def commission_lists(i: int, reward: RetailCommissionReward) -> Iterator[tuple[str, str | None, list[Decimal]]]:
    """(path of the list, level code or None, rates) for a retail commission."""
    if reward.rates is not None:
        yield path("rewards", i, "rates"), None, list(reward.rates)
    else:
        for code, rates in (reward.rates_by_level or {}).items():
            yield path("rewards", i, "rates_by_level", code), code, list(rates)


def rebate_rates(i: int, reward: SelfPurchaseRebateReward) -> Iterator[tuple[str, str | None, Decimal]]:
    """(path, level code or None, rate) for a self-purchase rebate."""
    if reward.rate is not None:
        yield path("rewards", i, "rate"), None, reward.rate
    else:
        for code, rate in (reward.rates_by_level or {}).items():
            yield path("rewards", i, "rates_by_level", code), code, rate


def team_path(i: int, plan: Plan) -> str:
    return written(plan, path("rewards", i, "metric"), path("rewards", i, "type"))


def award_path(i: int, plan: Plan) -> str:
    return written(plan, path("rewards", i, "metric"), path("rewards", i, "type"))


def team_metric_en(reward: TeamVolumeReward) -> str:
    return "team purchases" if reward.metric == "team_purchase" else "team retail sales"


def team_metric_zh(reward: TeamVolumeReward) -> str:
    return "团队进货额" if reward.metric == "team_purchase" else "团队零售额"


def awards(plan: Plan, *metrics: str) -> Iterator[tuple[int, TargetAwardReward]]:
    for i, reward in rewards_of(plan, TargetAwardReward):
        if reward.metric in metrics:
            yield i, reward


def prize_en(reward: TargetAwardReward) -> str:
    p = reward.prize
    what = {"cash": "cash", "trip": "a trip", "goods": "goods"}[p.kind]
    return f"{what}{f' {p.name}' if p.name else ''} worth {yuan(p.value)}"


def prize_zh(reward: TargetAwardReward) -> str:
    p = reward.prize
    what = {"cash": "现金", "trip": "旅游", "goods": "实物"}[p.kind]
    return f"{what}{f'“{p.name}”' if p.name else ''}（价值 {yuan(p.value)}）"


def price_tiers(plan: Plan) -> bool:
    """True when levels pay different prices (discounts or per-SKU overrides differ)."""
    if len({level.discount for level in plan.levels}) > 1:
        return True
    for sku in plan.prices:
        seen = set()
        for code in plan.level_codes:
            try:
                seen.add(plan.price(sku, code))
            except ValueError:  # no retail price and no override for this level
                continue
        if len(seen) > 1:
            return True
    return False


def discount_range(plan: Plan) -> tuple[Decimal, Decimal]:
    discounts = [level.discount for level in plan.levels]
    return min(discounts), max(discounts)


@dataclass(frozen=True)
class Recruiting:
    """A place where the plan pays for recruiting, or on recruits' purchases (not on sales to
    customers who are not participants). ``direct``: paid per recruit, or on the recruit's
    entry order (the money the recruit paid to join)."""

    path: str
    en: str
    zh: str
    direct: bool


def recruiting(plan: Plan) -> Iterator[Recruiting]:
    paid = any(paid_entries(plan))
    for i, reward in rewards_of(plan, ReferralReward):
        if reward.base == "per_head":
            yield Recruiting(
                path("rewards", i, "base"),
                f"reward {rid(reward)} pays {referral_amounts_en(reward)}",
                f"奖励{rid_zh(reward)}{referral_amounts_zh(reward)}",
                True,
            )
        else:
            yield Recruiting(
                path("rewards", i, "rates"),
                f"reward {rid(reward)} pays {referral_amounts_en(reward)}",
                f"奖励{rid_zh(reward)}{referral_amounts_zh(reward)}",
                paid,
            )
    for i, reward in rewards_of(plan, TeamVolumeReward):
        if reward.metric == "team_purchase":
            yield Recruiting(
                team_path(i, plan),
                f"reward {rid(reward)} pays up to {pct(reward.top_rate)} on team purchases",
                f"奖励{rid_zh(reward)}按团队进货额最高计 {pct(reward.top_rate)}",
                False,
            )
    for i, reward in awards(plan, "new_referrals", "team_purchase"):
        if reward.metric == "new_referrals":
            yield Recruiting(
                award_path(i, plan),
                f"award {rid(reward)} is won by recruiting {reward.threshold} agents",
                f"奖励{rid_zh(reward)}凭招满 {reward.threshold} 人获得",
                True,
            )
        else:
            yield Recruiting(
                award_path(i, plan),
                f"award {rid(reward)} is won on team purchases of {yuan(reward.threshold)}",
                f"奖励{rid_zh(reward)}凭团队进货额 {yuan(reward.threshold)} 获得",
                False,
            )
    for where, _, upgrade, cond in conditions(plan):
        to = target(plan, upgrade)
        if cond.key in HEADCOUNT_CONDITIONS:
            yield Recruiting(
                where,
                f"promotion to {lv(to)} comes with {cond.value} {COND_EN[cond.key]}",
                f"{COND_ZH[cond.key]}达 {cond.value} 即可升为{lv_zh(to)}",
                True,
            )
        elif cond.key == "team_volume":
            yield Recruiting(
                where,
                f"promotion to {lv(to)} comes with team purchases of {yuan(cond.value.amount)}",
                f"团队进货额达 {yuan(cond.value.amount)} 即可升为{lv_zh(to)}",
                False,
            )


def payments(plan: Plan) -> list[tuple[str, str, str]]:
    """(path, English, Chinese) for every payment the plan asks of participants for a
    position: paid entries and paid top-ups."""
    entries = list(paid_entries(plan))[::-1]  # the lowest level first: the payment everyone makes
    out = [
        (
            where,
            f"joining as {lv(level)} requires {entry_en(level, plan)}",
            f"加入{lv_zh(level)}须{entry_zh(level, plan)}",
        )
        for where, level in entries
    ]
    out += [
        (
            where,
            f"upgrading to {lv(target(plan, up))} requires paying the top-up",
            f"升为{lv_zh(target(plan, up))}须补差",
        )
        for where, up in paid_top_ups(plan)
    ]
    return out


def payments_en(pays: list[tuple[str, str, str]]) -> str:
    more = f", and {len(pays) - 1} more payment{'s' if len(pays) > 2 else ''} for a position" if len(pays) > 1 else ""
    return pays[0][1] + more


def payments_zh(pays: list[tuple[str, str, str]]) -> str:
    more = f"，另有 {len(pays) - 1} 处为取得等级付费" if len(pays) > 1 else ""
    return pays[0][2] + more
