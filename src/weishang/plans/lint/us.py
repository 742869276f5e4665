"""United States: FTC Act case law and guidance on multi-level marketing (rulebook ids US-*)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from .base import (
    COND_EN,
    COND_ZH,
    PERIOD_EN,
    PERIOD_ZH,
    PURCHASE_CONDITIONS,
    Context,
    Hit,
    award_path,
    awards,
    conditions,
    entry_en,
    entry_zh,
    lv,
    lv_zh,
    paid_entries,
    paid_top_ups,
    path,
    payments,
    payments_en,
    payments_zh,
    prize_en,
    prize_zh,
    recruiting,
    rid,
    rid_zh,
    rule,
    target,
    yuan,
)

BUYBACK_RATE = Decimal("0.90")
BUYBACK_DAYS = 365
"""US-INV: with a buyback of at least 90% of cost for stock bought in the last 12 months,
whether purchase minimums exceed what can be sold is left to the simulation (ECON-INV)."""


@rule(
    "US-KOS",
    "CRIT",
    "us",
    "In re Koscot, 86 F.T.C. 1106, 1181 (1975); FTC Business Guidance Concerning MLM (2018, updated 2024)",
    "participants pay for the right to sell and get recruitment rewards unrelated to sales to ultimate users",
    "参与者付费取得销售权，并因招人获得与最终用户销售无关的奖励",
)
def us_kos(ctx: Context) -> Iterator[Hit]:
    plan = ctx.plan
    pays = payments(plan)
    if not pays:
        return
    for r in recruiting(plan):
        yield Hit(
            r.path,
            f"Participants pay for the right to sell ({payments_en(pays)}) and {r.en}: a recruitment reward "
            "unrelated to sales to ultimate users (the Koscot test). Lawful alternative: free entry, and pay only "
            "on sales to customers who are not participants.",
            f"参与者须付费取得销售权（{payments_zh(pays)}），而{r.zh}：与最终用户销售无关的招人奖励（Koscot 标准）。"
            "合法做法：免费加入，只按对非参与者顾客的销售计酬。",
        )


@rule(
    "US-BUY",
    "HIGH",
    "us",
    "FTC MLM guidance; FTC v. Vemma order §II(B) (2016)",
    "reward or rank eligibility depends on the participant's own purchases (volume minimums, autoship)",
    "奖励或等级资格取决于参与者本人的购买（进货门槛、自动订货）",
)
def us_buy(ctx: Context) -> Iterator[Hit]:
    plan = ctx.plan
    for where, level in paid_entries(plan):
        yield Hit(
            where,
            f"The rank {lv(level)} is bought with {entry_en(level, plan)}: rank eligibility depends on the "
            "participant's own purchase. Lawful alternative: free entry; ranks earned by sales to customers.",
            f"{lv_zh(level)}等级凭{entry_zh(level, plan)} 获得：等级资格取决于本人的购买。合法做法：免费加入；"
            "等级凭对顾客的销售获得。",
        )
    for where, _, upgrade, cond in conditions(plan):
        if cond.key in PURCHASE_CONDITIONS:
            to = target(plan, upgrade)
            yield Hit(
                where,
                f"The rank {lv(to)} is reached by {COND_EN[cond.key]} of {yuan(cond.value)}: rank eligibility "
                "depends on the participant's own purchases. Lawful alternative: upgrade by retail sales to "
                f"customers (retail_sales: {cond.value}).",
                f"凭{COND_ZH[cond.key]} {yuan(cond.value)} 升为{lv_zh(to)}：等级资格取决于本人的购买。合法做法：按对顾客的"
                f"零售额升级（retail_sales: {cond.value}）。",
            )
    for where, upgrade in paid_top_ups(plan):
        to = target(plan, upgrade)
        yield Hit(
            where,
            f"Reaching {lv(to)} requires paying the top-up: rank eligibility bought with a purchase. Lawful "
            "alternative: top_up: false.",
            f"升为{lv_zh(to)}须补差：以购买换取等级资格。合法做法：top_up: false。",
        )
    for i, reward in awards(plan, "personal_purchase"):
        yield Hit(
            award_path(i, plan),
            f"Award {rid(reward)} gives {prize_en(reward)} for own purchases of {yuan(reward.threshold)} in a "
            f"{PERIOD_EN[reward.period]}: a reward for buying, not for selling. Lawful alternative: "
            "metric: personal_retail (the agent's own sales to customers).",
            f"奖励{rid_zh(reward)}：{PERIOD_ZH[reward.period]}本人进货 {yuan(reward.threshold)} 即得{prize_zh(reward)}："
            "奖励的是购买而不是销售。合法做法：metric: personal_retail（本人对顾客的销售额）。",
        )


@rule(
    "US-INV",
    "HIGH",
    "us",
    "Webster v. Omnitrition (9th Cir. 1996); Amway (1979) 70%/10-customer rules",
    "purchase minimums likely to exceed what can be resold or consumed; no buyback of unsold stock",
    "进货门槛可能超过能卖出或自用的数量；未售出库存不回购",
)
def us_inv(ctx: Context) -> Iterator[Hit]:
    plan = ctx.plan
    r = plan.returns
    if r is None or r.window_days == 0 or r.refund_rate == 0:
        where = "returns" if r is None else path("returns", "refund_rate" if r.refund_rate == 0 else "window_days")
        yield Hit(
            where,
            "Unsold stock is not bought back (no returns section, or one that refunds nothing). Lawful "
            "alternative: returns: {window_days: 365, refund_rate: 0.90} — buy back unsold, resalable stock at "
            "90% of cost for a year.",
            "未售出的库存不回购（没有 returns，或回购金额为零）。合法做法：returns: {window_days: 365, refund_rate: 0.90}"
            "——一年内按成本的 90% 回购未售出的可再售货品。",
        )
    if r is not None and r.refund_rate >= BUYBACK_RATE and r.window_days >= BUYBACK_DAYS:
        return  # a full buyback: whether minimums exceed demand is a figure (ECON-INV)
    weak_en = "with no buyback" if r is None else f"with a buyback of only {r.refund_rate} for {r.window_days} days"
    weak_zh = "且无回购" if r is None else f"而回购仅为 {r.window_days} 天内按 {r.refund_rate} 退款"
    for i, level in enumerate(plan.levels):
        if level.entry.first_order_amount is not None and level.entry.first_order_amount > 0:
            yield Hit(
                path("levels", i, "entry", "first_order_amount"),
                f"Joining as {lv(level)} means buying {yuan(level.entry.first_order_amount)} of stock at once, "
                f"{weak_en}: a purchase minimum that may exceed what can be sold. Lawful alternative: no entry "
                "order, or a buyback of unsold stock at 90% or more for 12 months.",
                f"加入{lv_zh(level)}须一次进货 {yuan(level.entry.first_order_amount)}，{weak_zh}：进货门槛可能超过能卖出"
                "的数量。合法做法：不设首批进货，或 12 个月内按不低于 90% 回购未售出库存。",
            )
        if level.min_restock_qty > 1:
            yield Hit(
                path("levels", i, "min_restock_qty"),
                f"A {lv(level)} must buy at least {level.min_restock_qty} units per restock order, {weak_en}: a "
                "volume minimum that may exceed what can be sold. Lawful alternative: min_restock_qty: 0 or 1, or "
                "a buyback of unsold stock at 90% or more for 12 months.",
                f"{lv_zh(level)}每次补货至少 {level.min_restock_qty} 件，{weak_zh}：进货门槛可能超过能卖出的数量。合法做法："
                "min_restock_qty 设为 0 或 1，或 12 个月内按不低于 90% 回购未售出库存。",
            )


@rule(
    "US-EARN",
    "MED",
    "us",
    "FTC MLM guidance; proposed earnings-claim rule 16 CFR 462",
    "income or lifestyle claims that do not match typical results",
    "收入或生活方式宣传与普通参与者的实际结果不符",
    kind="reminder",
    note="A plan file carries no marketing material, so the rule cannot fire on the plan; the linter prints it "
    "as an INFO reminder (severity MED applies to the material itself).",
)
def us_earn(ctx: Context) -> Iterator[Hit]:
    yield Hit(
        "",
        "Reminder: this plan file carries no marketing material, so earnings claims cannot be checked here. Any "
        "income or lifestyle claim must match typical results (run `weishang plan simulate` for the median "
        "income and the share of participants who lose money).",
        "提醒：方案文件不含宣传材料，无法在此检查收入宣传。任何收入或生活方式的宣传都必须与普通参与者的实际结果相符"
        "（可用 `weishang plan simulate` 得到收入中位数和亏损比例）。",
        severity="INFO",
    )
