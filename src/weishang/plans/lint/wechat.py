"""WeChat platform rules (rulebook ids WX-*): a brand selling through WeChat in China.

Linting with ``wechat`` applies these and the CN rules (see ``JURISDICTIONS``).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from ..schema import ReferralReward, RetailCommissionReward, SelfPurchaseRebateReward, TeamVolumeReward
from .base import (
    Context,
    Hit,
    commission_lists,
    lv,
    lv_zh,
    path,
    pct,
    pcts,
    purchase_unlocked,
    rebate_rates,
    referral_rate_path,
    rewards_of,
    rid,
    rid_zh,
    rule,
    team_metric_en,
    team_metric_zh,
    team_path,
    yuan,
)

HIGH_CASHBACK = Decimal("0.10")
"""WX-REB: a self-purchase rebate above this share counts as "high cash-back" (the linter's
reading; WeChat names no figure)."""


@rule(
    "WX-L2",
    "HIGH",
    "wechat",
    "WeChat security statement 2016-08-21; WeChat announcement 2016-09-12",
    "pays commission more than 2 levels deep counting the seller (A→B→C pays A on C's sale)",
    "分佣超过两级（含销售者本人）：A→B→C，C 的交易给 A 发佣金",
)
def wx_l2(ctx: Context) -> Iterator[Hit]:
    plan = ctx.plan
    for i, reward in rewards_of(plan, ReferralReward):
        values = list(reward.rates or reward.amounts or ())
        deep = [k for k, v in enumerate(values) if k >= 1 and v > 0]
        if not deep:
            continue
        key = "rates" if reward.base == "referee_purchase" else "amounts"
        shown = pcts(values[k] for k in deep) if key == "rates" else " / ".join(yuan(values[k]) for k in deep)
        on_en = "order" if key == "rates" else "joining"
        on_zh = "订单" if key == "rates" else "加入"
        yield Hit(
            path("rewards", i, key, deep[0]),
            f"Reward {rid(reward)} pays {shown} to the buyer's {_gens(deep)} referrer "
            f"(A→B→C pays A on C's {on_en}): commission 3 levels deep counting the buyer. Lawful alternative on "
            f"WeChat: at most 2 levels — pay the direct referrer only ({key}: [{values[0]}]), or better, no "
            "referral reward at all.",
            f"奖励{rid_zh(reward)}把 {shown} 发给买方往上第 {deep[0] + 1} 代{'及以上' if len(deep) > 1 else ''}"
            f"的推荐人（A→B→C，C 的{on_zh}给 A 发奖）：含买方在内已达三级分佣。微信平台的合规做法：最多两级——只发直接推荐人（{key}: [{values[0]}]），"
            "最好不设推荐奖。",
        )
    for i, reward in rewards_of(plan, RetailCommissionReward):
        for list_path, code, rates in commission_lists(i, reward):
            deep = [k for k, r in enumerate(rates) if k >= 2 and r > 0]
            if not deep:
                continue
            whose = f" for {lv(plan.level(code))}" if code else ""
            whose_zh = f"（{lv_zh(plan.level(code))}）" if code else ""
            yield Hit(
                f"{list_path}[{deep[0]}]",
                f"Retail commission {rid(reward)}{whose} pays {pcts(rates[k] for k in deep)} of a customer's order "
                f"to the seller's referrer's referrer (generation {deep[0]}; A→B→C pays A on C's sale): 3 levels "
                f"counting the seller. Lawful alternative on WeChat: at most the seller and their referrer "
                f"(rates: [{', '.join(str(r) for r in rates[:2])}]).",
                f"分享佣金{rid_zh(reward)}{whose_zh}把顾客订单的 {pcts(rates[k] for k in deep)} 发给销售者上级的上级"
                f"（第 {deep[0]} 代；A→B→C，C 的销售给 A 发佣金）：含销售者在内已达三级。微信平台的合规做法：最多发给"
                f"销售者及其直接上级（rates: [{', '.join(str(r) for r in rates[:2])}]）。",
            )
    for i, reward in rewards_of(plan, TeamVolumeReward):
        yield Hit(
            team_path(i, plan),
            f"Reward {rid(reward)} pays on the {team_metric_en(reward)} of the whole team, at any depth below "
            "the agent: commission far more than 2 levels deep. Lawful alternative on WeChat: drop the team reward; "
            "pay the seller (and at most their direct referrer) on each sale.",
            f"奖励{rid_zh(reward)}按整个团队（不限层级）的{team_metric_zh(reward)}计奖：远超两级分佣。微信平台的合规"
            "做法：取消团队奖；每笔销售只奖励销售者（最多加其直接上级）。",
        )


def _gens(deep: list[int]) -> str:
    """[1] → '2nd-generation'; [1, 2] → '2nd–3rd-generation' (generation k+1 above the buyer)."""

    def nth(n: int) -> str:
        return f"{n}{'st' if n == 1 else 'nd' if n == 2 else 'rd' if n == 3 else 'th'}"

    first, last = deep[0] + 1, deep[-1] + 1
    return f"{nth(first)}-generation" if first == last else f"{nth(first)}–{nth(last)}-generation"


@rule(
    "WX-REB",
    "HIGH",
    "wechat",
    "WeChat announcement 2016-07-05",
    "promises high cash-back or multi-level rebates on consumption (消费返利)",
    "承诺高额消费返利或多级消费返利",
)
def wx_reb(ctx: Context) -> Iterator[Hit]:
    plan = ctx.plan
    rebates = list(rewards_of(plan, SelfPurchaseRebateReward))
    for i, reward in rebates:
        for where, code, rate in rebate_rates(i, reward):
            if rate > HIGH_CASHBACK:
                who = lv(plan.level(code)) if code else "every level"
                who_zh = lv_zh(plan.level(code)) if code else "所有等级"
                yield Hit(
                    where,
                    f"Self-purchase rebate {rid(reward)} gives {who} {pct(rate)} cash back on their own purchases: "
                    f"a high consumption rebate (消费返利; the linter counts above {pct(HIGH_CASHBACK)} as high). "
                    "Lawful alternative: a plain member price instead of cash back, or a rebate of "
                    f"{pct(HIGH_CASHBACK)} or less.",
                    f"自购返利{rid_zh(reward)}给{who_zh}自购金额 {pct(rate)} 的返现：属于高额消费返利（本工具以高于 "
                    f"{pct(HIGH_CASHBACK)} 为高额）。合规做法：以会员价代替返现，或返利不超过 {pct(HIGH_CASHBACK)}。",
                )
    if not rebates:
        return
    first = rebates[0][1]
    for i, reward in rewards_of(plan, ReferralReward):
        if reward.base != "referee_purchase":
            continue
        yield Hit(
            referral_rate_path(i, reward, plan),
            f"Members get cash back on their own purchases ({rid(first)}) and their referrers also get "
            f"{pcts(reward.rates or ())} of the same purchases ({rid(reward)}): a multi-level rebate on consumption. "
            "Lawful alternative: keep at most the member's own discount; drop the referrers' share of it.",
            f"会员自购可得返利（{rid_zh(first)}），其推荐人还能从同一笔消费中获得 {pcts(reward.rates or ())}"
            f"（{rid_zh(reward)}）：属于多级消费返利。合规做法：最多保留会员本人的优惠，取消推荐人的分成。",
        )


@rule(
    "WX-SHARE",
    "MED",
    "wechat",
    "微信小程序平台运营规范 5.1 (quoted); 微信外部链接内容管理规范 (2019-10)",
    "makes a reward conditional on sharing/forwarding",
    "以分享或转发作为获得奖励的条件",
    kind="not_decidable",
    note="No key of the plan format conditions a reward on sharing, and the engine has no sharing event, so a "
    "plan cannot break this rule; campaigns (a later module) can, and must be checked there. No key was "
    "added: a key the engine cannot act on would be a promise the product does not keep.",
)
def wx_share(ctx: Context) -> Iterator[Hit]:
    return iter(())


@rule(
    "WX-VIP",
    "MED",
    "wechat",
    "developer-forum reports of warnings (secondary)",
    "a paid membership or purchase unlocks self-purchase or share rebates",
    "付费会员或购买行为解锁自购返利或分享佣金",
)
def wx_vip(ctx: Context) -> Iterator[Hit]:
    plan = ctx.plan
    unlocked = purchase_unlocked(plan)
    if not unlocked:
        return
    for i, reward in enumerate(plan.rewards):
        if isinstance(reward, SelfPurchaseRebateReward):
            what_en, what_zh = "cash back on own purchases", "自购返利"
            places = [(where, code, rate > 0) for where, code, rate in rebate_rates(i, reward)]
        elif isinstance(reward, RetailCommissionReward):
            what_en, what_zh = "a share of customers' orders", "分享佣金"
            places = [(where, code, any(r > 0 for r in rates)) for where, code, rates in commission_lists(i, reward)]
        else:
            continue
        for where, code, pays in places:
            if not pays:
                continue
            codes = [code] if code else [c for c in plan.level_codes if c in unlocked]
            codes = [c for c in codes if c in unlocked]
            if not codes:
                continue
            levels_en = "; ".join(f"{lv(plan.level(c))} is {unlocked[c][0]}" for c in codes)
            levels_zh = "；".join(f"{lv_zh(plan.level(c))}{unlocked[c][1]}" for c in codes)
            yield Hit(
                where,
                f"{rid(reward)} pays {what_en}, and the level that earns it is bought: {levels_en}. A paid "
                "membership that unlocks rebates draws WeChat warnings. Lawful alternative: free membership, and "
                "rebate rates that do not depend on what a member paid or bought.",
                f"{rid_zh(reward)}发放{what_zh}，而享受它的等级需要花钱获得：{levels_zh}。付费会员解锁返利会招致微信"
                "警告。合规做法：免费成为会员，返利比例不随会员付费或购买多少而变化。",
            )
