"""United Kingdom: Trading Schemes Regulations 1997 and the CPRs (rulebook id UK-TS)."""

from __future__ import annotations

from collections.abc import Iterator

from ..schema import ReferralReward, RetailCommissionReward, TeamVolumeReward
from .base import (
    Context,
    Hit,
    award_path,
    awards,
    commission_lists,
    path,
    pcts,
    referral_amounts_en,
    referral_amounts_zh,
    referral_rate_path,
    rewards_of,
    rid,
    rid_zh,
    rule,
    team_metric_en,
    team_metric_zh,
    team_path,
)

CANCEL_DAYS = 14


@rule(
    "UK-TS",
    "HIGH",
    "uk",
    "Trading Schemes Regulations 1997 regs 4(2)(a), 5(e); CPRs 2008 Sch. 1 para 14 (the DMCC Act 2024 may have "
    "replaced the CPRs: UNVERIFIED)",
    "promises payment for another person's continued participation; no written contract with 14-day "
    "cancellation and refund",
    "承诺因他人持续参与而付酬；没有含 14 天撤销与退款权的书面合同",
)
def uk_ts(ctx: Context) -> Iterator[Hit]:
    plan = ctx.plan
    lawful_en = "Lawful alternative: pay each participant only on their own sales to customers."
    lawful_zh = "合法做法：只按参与者本人对顾客的销售付酬。"
    for i, reward in rewards_of(plan, ReferralReward):
        yield Hit(
            referral_rate_path(i, reward, plan),
            f"Reward {rid(reward)} pays {referral_amounts_en(reward)}: payment for other people joining and "
            f"continuing to buy. {lawful_en}",
            f"奖励{rid_zh(reward)}{referral_amounts_zh(reward)}：因他人加入并持续购买而付酬。{lawful_zh}",
        )
    for i, reward in rewards_of(plan, RetailCommissionReward):
        for list_path, _, rates in commission_lists(i, reward):
            upline = [k for k, r in enumerate(rates) if k >= 1 and r > 0]
            if upline:
                yield Hit(
                    f"{list_path}[{upline[0]}]",
                    f"Retail commission {rid(reward)} pays {pcts(rates[k] for k in upline)} of downline agents' "
                    f"sales to their referrers: payment for another person's continued participation. {lawful_en}",
                    f"分享佣金{rid_zh(reward)}把下线销售额的 {pcts(rates[k] for k in upline)} 发给其上级："
                    f"因他人持续参与而付酬。{lawful_zh}",
                )
    for i, reward in rewards_of(plan, TeamVolumeReward):
        yield Hit(
            team_path(i, plan),
            f"Reward {rid(reward)} pays on {team_metric_en(reward)} every {reward.period}: payment for "
            f"other people's continued participation. {lawful_en}",
            f"奖励{rid_zh(reward)}按团队的{team_metric_zh(reward)}周期计奖：因他人持续参与而付酬。{lawful_zh}",
        )
    for i, reward in awards(plan, "team_purchase", "new_referrals"):
        yield Hit(
            award_path(i, plan),
            f"Award {rid(reward)} is won on other people joining or buying ({reward.metric}). {lawful_en}",
            f"奖励{rid_zh(reward)}凭他人加入或购买获得（{reward.metric}）。{lawful_zh}",
        )
    r = plan.returns
    if r is None or r.window_days < CANCEL_DAYS or r.refund_rate == 0:
        where = "returns" if r is None else path("returns", "refund_rate" if r.refund_rate == 0 else "window_days")
        yield Hit(
            where,
            "The plan gives no refund on cancellation within 14 days (no returns section, or one shorter than 14 "
            "days or refunding nothing). Lawful alternative: a written contract with a 14-day cancellation right "
            "and refund, and returns: {window_days: 365, refund_rate: 0.90}. (The contract itself is not part of "
            "the plan file; only the refund can be checked here.)",
            "方案没有 14 天内撤销即退款的安排（没有 returns，或少于 14 天，或不退款）。合法做法：签订含 14 天撤销权和"
            "退款的书面合同，并设置 returns: {window_days: 365, refund_rate: 0.90}。（合同本身不在方案文件中，此处只能"
            "检查退款。）",
        )
