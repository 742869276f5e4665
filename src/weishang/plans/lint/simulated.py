"""Rules on simulated (or live) figures: CN-CRIM, US-NONP, EU-14-SIM, ECON-LOSS, ECON-INV.

The simulator reports the figures named in ``FIGURES``; ``lint_plan(..., figures=...)``
applies these rules only when figures are given, and each rule only when the figures it
needs are there. Shares are fractions between 0 and 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from .base import Context, Hit, months, num, pct, rule, yuan
from .cn import cn_fee, cn_head
from .eu import EU14_SOURCE

FIGURES: dict[str, str] = {
    "max_subtree_members_3levels": "members (the organiser included) of the largest sub-tree of the referrer tree "
    "that spans at least 3 levels, the organiser's own level counted "
    "(公通字〔2013〕37号 §1); 0 when no sub-tree reaches 3 levels",
    "collected_total": "yuan collected from participants (entry, upgrade and restock orders) over the run",
    "non_participant_revenue_share": "share of participants' revenue (their own and their downline's) that comes "
    "from customers who are not participants, in the worst pay period",
    "end_user_share": "share of sales that reach end users (customers, or participants' real own use) rather "
    "than sitting in stock",
    "recruitment_funded_share": "share of rewards funded by recruitment: entry packs and orders, top-ups, "
    "per-head bonuses",
    "retail_funded_share": "share of rewards funded by sales to non-participants; default 1 − recruitment_funded_share",
    "loss_share": "share of participants with a net loss after entry purchases, required purchases and unsold stock",
    "months_of_stock": "channel inventory (bought minus sold or consumed) in months of end-customer demand, at "
    "its peak",
}
"""Figure keys the linter reads, and what the simulator must put in each."""

MEMBERS_3LEVELS = 30
SERIOUS_MEMBERS = 120
SERIOUS_COLLECTED = Decimal("2500000")
NONP_MIN = Decimal("0.5")
END_USER_MIN = Decimal("0.8")


@rule(
    "CN-CRIM",
    "CRIT",
    "cn",
    "立案追诉标准(二) (2010) Art. 78; 公通字〔2013〕37号 §1 (counting rule)",
    "CN-FEE and CN-HEAD both present and a sub-tree reaches ≥ 30 members and ≥ 3 levels",
    "同时存在 CN-FEE 与 CN-HEAD，且某一子树达到 30 人以上、3 级以上",
    kind="figures",
    figures=("max_subtree_members_3levels",),
)
def cn_crim(ctx: Context) -> Iterator[Hit]:
    members = ctx.figures["max_subtree_members_3levels"]
    fee = ctx.text_hits.get("CN-FEE")
    head = ctx.text_hits.get("CN-HEAD")
    fee = list(cn_fee(ctx)) if fee is None else fee
    head = list(cn_head(ctx)) if head is None else head
    if not fee or not head or members < MEMBERS_3LEVELS:
        return
    collected = ctx.figures.get("collected_total")
    serious = members >= SERIOUS_MEMBERS or (collected is not None and collected >= SERIOUS_COLLECTED)
    money_en = f", {yuan(collected)} collected" if collected is not None else ""
    money_zh = f"，收取 {yuan(collected)}" if collected is not None else ""
    yield Hit(
        "",
        f"In the simulation a sub-tree of {num(members)} members spans 3 or more levels{money_en}, while the plan "
        f"charges to join ({fee[0].path}) and pays or promotes by headcount ({head[0].path}): past the threshold "
        "for prosecuting the organisers of a pyramid (30 members, 3 levels)"
        + ("; at 120 members or ¥2,500,000 collected the case counts as serious" if serious else "")
        + ". Lawful alternative: remove every entry payment and every headcount reward (CN-FEE, CN-HEAD).",
        f"模拟中有一个 {num(members)} 人的子树达到 3 级以上{money_zh}，而方案以交费为加入条件（{fee[0].path}）并按人头"
        f"计酬或晋级（{head[0].path}）：已达组织、领导传销活动的立案追诉标准（30 人以上、3 级以上）"
        + ("；达到 120 人或收取 ¥2,500,000 即属“情节严重”" if serious else "")
        + "。合法做法：取消一切入门付费和按人头的奖励（CN-FEE、CN-HEAD）。",
    )


@rule(
    "US-NONP",
    "HIGH",
    "us",
    'FTC v. Vemma order §II(C); Herbalife settlement 2016 (80% figure as summarised by counsel; the "2/3 of rewards '
    'on retail" formulation is UNVERIFIED)',
    "in a pay period less than half of a participant's (and downline's) revenue comes from non-participants; risk "
    "rises when under 80% of sales reach end users",
    "某一结算期内参与者（及其下线）的收入来自非参与者的不足一半；到达最终用户的销售低于 80% 时风险上升",
    kind="figures",
    figures=("non_participant_revenue_share", "end_user_share"),
)
def us_nonp(ctx: Context) -> Iterator[Hit]:
    share = ctx.figures.get("non_participant_revenue_share")
    if share is not None and share < NONP_MIN:
        yield Hit(
            "",
            f"In the simulation only {pct(share)} of participants' revenue comes from customers who are not "
            "participants (less than half): the plan runs on participants buying. Lawful alternative: pay only on "
            "sales to non-participants, and cap rewards on participants' own purchases.",
            f"模拟中参与者收入只有 {pct(share)} 来自非参与者顾客（不足一半）：方案靠参与者自己购买维持。合法做法：只按对"
            "非参与者的销售计酬，并限制以参与者自购为基数的奖励。",
        )
    end = ctx.figures.get("end_user_share")
    if end is not None and end < END_USER_MIN:
        yield Hit(
            "",
            f"In the simulation {pct(end)} of sales reach end users, under the 80% figure reported by counsel for "
            "the Herbalife settlement: the rest stays in participants' stock. Lawful alternative: fewer purchase "
            "requirements and a buyback of unsold stock.",
            f"模拟中只有 {pct(end)} 的销售到达最终用户，低于律师转述的 Herbalife 和解中的 80%：其余积压在参与者手中。"
            "合法做法：减少进货要求，并回购未售出的库存。",
        )


@rule(
    "EU-14-SIM",
    "CRIT",
    "eu",
    f'{EU14_SOURCE} ("primarily")',
    "rewards paid from recruitment exceed rewards paid from sales to non-participants",
    "来源于招人的奖励超过来源于对非参与者销售的奖励",
    kind="figures",
    figures=("recruitment_funded_share",),
)
def eu_14_sim(ctx: Context) -> Iterator[Hit]:
    recruitment = ctx.figures["recruitment_funded_share"]
    retail = ctx.figures.get("retail_funded_share", 1 - recruitment)
    if recruitment > retail:
        yield Hit(
            "",
            f"In the simulation {pct(recruitment)} of rewards are funded by recruitment (entry packs and orders, "
            f"top-ups, per-head bonuses) against {pct(retail)} by sales to non-participants: compensation derived "
            "primarily from recruiting. Lawful alternative: no entry payments and no rewards linked to recruiting.",
            f"模拟中 {pct(recruitment)} 的奖励来自招人（入门礼包和订单、补差、人头奖），只有 {pct(retail)} 来自对非参与者的"
            "销售：报酬主要来源于发展他人。合法做法：取消入门付费和一切与招人挂钩的奖励。",
        )


@rule(
    "ECON-LOSS",
    "HIGH",
    "all",
    "AARP Foundation 2018 survey; BurnLounge (93.84% failed to recoup); FTC staff report on income disclosures",
    "the simulated share of participants with a net loss exceeds the threshold the brand sets (default 50%)",
    "模拟中净亏损的参与者比例超过品牌设定的阈值（默认 50%）",
    kind="figures",
    figures=("loss_share",),
)
def econ_loss(ctx: Context) -> Iterator[Hit]:
    loss = ctx.figures["loss_share"]
    limit = ctx.thresholds.loss_share
    if loss > limit:
        yield Hit(
            "",
            f"In the simulation {pct(loss)} of participants end with a net loss (threshold {pct(limit)}). Lawful "
            "alternative: lower or remove entry and restock requirements, buy back unsold stock, and pay on retail "
            "sales so that selling, not joining, is what earns.",
            f"模拟中 {pct(loss)} 的参与者最终净亏损（阈值 {pct(limit)}）。改进做法：降低或取消入门和补货要求，回购未售出的"
            "库存，并按零售计酬，让收入来自销售而不是加入。",
        )


@rule(
    "ECON-INV",
    "HIGH",
    "all",
    "Omnitrition (inventory loading); Chinese bans on 囤货",
    "simulated channel inventory exceeds N months of end-customer demand (default 3)",
    "模拟的渠道库存超过 N 个月的终端需求（默认 3 个月）",
    kind="figures",
    figures=("months_of_stock",),
)
def econ_inv(ctx: Context) -> Iterator[Hit]:
    stock = ctx.figures["months_of_stock"]
    limit = ctx.thresholds.months_of_stock
    if stock > limit:
        yield Hit(
            "",
            f"In the simulation channel inventory reaches {months(stock)} months of end-customer demand (threshold "
            f"{months(limit)}): agents are loaded with stock (囤货). Lawful alternative: no entry orders or restock "
            "minimums, no upgrades or awards for buying, and a buyback of unsold stock.",
            f"模拟中渠道库存达到 {months(stock)} 个月的终端需求（阈值 {months(limit)} 个月）：代理在囤货。改进做法：取消首批进货和补货"
            "门槛，不以进货额升级或评奖，并回购未售出的库存。",
        )
