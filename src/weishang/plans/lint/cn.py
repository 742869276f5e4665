"""China: 禁止传销条例, 直销管理条例, 电子商务法 (rulebook ids CN-*).

Sources are quoted exactly as in reference/compliance-rules.md (markdown emphasis dropped).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from ..schema import (
    ReferralReward,
    RetailCommissionReward,
    TargetAwardReward,
    TeamVolumeReward,
)
from .base import (
    COND_EN,
    COND_ZH,
    PERIOD_EN,
    PERIOD_ZH,
    PURCHASE_CONDITIONS,
    Context,
    Hit,
    award_path,
    by_generation_en,
    by_generation_zh,
    commission_lists,
    conditions,
    discount_range,
    entry_en,
    entry_zh,
    lv,
    lv_zh,
    paid_entries,
    paid_top_ups,
    path,
    pct,
    pcts,
    price_tiers,
    prize_en,
    prize_zh,
    referral_amounts_en,
    referral_amounts_zh,
    referral_rate_path,
    rewards_of,
    rid,
    rid_zh,
    rule,
    target,
    team_metric_en,
    team_metric_zh,
    team_path,
    written,
    yuan,
)

DS_CAP = Decimal("0.30")
"""直销管理条例 Art. 24: rewards at most 30% of the seller's own sales to consumers."""

RETURN_DAYS = 30
"""The common reading of the return provision: 30 days for unopened goods."""

EXIT_DAYS = 60
"""CN-DS30: the seller's exit right must be at least 60 days."""


# --- CN-FEE -----------------------------------------------------------------------------


@rule(
    "CN-FEE",
    "CRIT",
    "cn",
    "禁止传销条例 (2005) Art. 7(2); Criminal Law Art. 224-1. Cases: 云集 2017 (service fee), 花生日记 2019 "
    "(99-yuan upgrade), 大咖商贸 2020 (600–500,000-yuan stocking tiers), 名宇内衣 2019 (399-yuan pack)",
    "a payment or purchase is required to join, to hold a level, or to gain the right to recruit or earn",
    "以交费或购买商品作为加入、取得等级或取得发展人员、获取收益资格的条件",
)
def cn_fee(ctx: Context) -> Iterator[Hit]:
    plan = ctx.plan
    for where, level in paid_entries(plan):
        if level.entry.gift_pack is not None:
            yield Hit(
                where,
                f"Joining as {lv(level)} requires buying {entry_en(level, plan)} (大礼包): membership and its "
                "earning rights are bought with a purchase. Lawful alternative: free membership (entry: {free: "
                "true}); sell the pack as an ordinary product that gives no level, price or earning right.",
                f"成为{lv_zh(level)}须{entry_zh(level, plan)}（大礼包）：以购买礼包换取会员资格和收益资格。"
                "合法做法：免费成为会员（entry: {free: true}）；礼包作为普通商品销售，不附带任何等级、价格或收益资格。",
            )
        else:
            yield Hit(
                where,
                f"Joining as {lv(level)} requires {entry_en(level, plan)} (首批进货/授权单): buying goods is the "
                "condition of joining, an entry fee in disguise. Lawful alternative: let anyone join free (entry: "
                "{free: true}) and buy only what they have sold or will use, with unsold stock bought back.",
                f"加入{lv_zh(level)}须{entry_zh(level, plan)}（首批进货/授权单）：以购买商品作为加入条件，属于变相"
                "交纳入门费。合法做法：免费加入（entry: {free: true}），按实际销售需要进货，未售出的货品可退回。",
            )
    for where, _, upgrade, cond in conditions(plan):
        if cond.key not in PURCHASE_CONDITIONS:
            continue
        to = target(plan, upgrade)
        yield Hit(
            where,
            f"{lv(to)} can be reached by {COND_EN[cond.key]} of {yuan(cond.value)}: the level, with its lower "
            "price and its rewards, is bought with purchases (a paid upgrade). Lawful alternative: upgrade by "
            f"retail sales to customers instead of by purchases (retail_sales: {cond.value}).",
            f"凭{COND_ZH[cond.key]} {yuan(cond.value)} 即可升为{lv_zh(to)}：用购买换取等级及其更低的拿货价和奖励，"
            f"属于付费升级。合法做法：按对顾客的零售额升级（retail_sales: {cond.value}），而不是按购买额。",
        )
    for where, upgrade in paid_top_ups(plan):
        to = target(plan, upgrade)
        yield Hit(
            where,
            f"Upgrading to {lv(to)} makes the agent pay the difference between the two levels' entry amounts "
            f"(top_up: true, 补差; {lv(to)}'s entry is {yuan(to.entry.amount)}): a paid upgrade. Lawful "
            f"alternative: top_up: false, with {lv(to)} reached by retail sales and no entry order.",
            f"升为{lv_zh(to)}须补齐两级入门金额的差价（top_up: true，补差；{lv_zh(to)}的入门金额为 "
            f"{yuan(to.entry.amount)}）：属于付费升级。合法做法：top_up: false，凭零售额升级，不设入门订单。",
        )


# --- CN-HEAD ----------------------------------------------------------------------------


@rule(
    "CN-HEAD",
    "CRIT",
    "cn",
    "禁止传销条例 Art. 7(1). Case: 西湖 comb company (promotion at 5/10/15/20 direct recruits)",
    "pays or promotes by a headcount of recruits",
    "按发展人员的数量计酬或晋级",
)
def cn_head(ctx: Context) -> Iterator[Hit]:
    plan = ctx.plan
    for i, reward in rewards_of(plan, ReferralReward):
        if reward.base == "per_head":
            yield Hit(
                path("rewards", i, "base"),
                f"Reward {rid(reward)} pays {referral_amounts_en(reward)} {by_generation_en(reward.generations)} "
                "(base: per_head): pay by headcount (直推奖). Lawful alternative: no reward for recruiting; pay "
                "on retail sales to customers the agent serves (retail_commission, generation 0 only).",
                f"奖励{rid_zh(reward)}{referral_amounts_zh(reward)}，{by_generation_zh(reward.generations)}"
                "（base: per_head）：按人头计酬（直推奖）。合法做法：不为招人发奖；只按代理本人服务的顾客的零售"
                "订单计酬（retail_commission，仅第 0 代）。",
            )
    for where, _, upgrade, cond in conditions(plan):
        to = target(plan, upgrade)
        if cond.key == "same_level_referrals":
            yield Hit(
                where,
                f"Upgrading to {lv(to)} needs {cond.value} direct referrals at the agent's own level "
                f"(推{_cn_count(cond.value)}升一): promotion by headcount. Lawful alternative: upgrade by retail "
                "sales to customers instead of by headcount (retail_sales: N).",
                f"直推 {cond.value} 个同级即可升为{lv_zh(to)}（推{_cn_count(cond.value)}升一）：按人头晋级。"
                "合法做法：按对顾客的零售额升级（retail_sales: N），而不是按招人数量。",
            )
        elif cond.key == "direct_referrals":
            yield Hit(
                where,
                f"Upgrading to {lv(to)} needs {cond.value} direct referrals (直推{cond.value}人升级): promotion "
                "by headcount. Lawful alternative: upgrade by retail sales to customers instead of by headcount "
                "(retail_sales: N).",
                f"直推 {cond.value} 人即可升为{lv_zh(to)}（直推{cond.value}人升级）：按人头晋级。"
                "合法做法：按对顾客的零售额升级（retail_sales: N），而不是按招人数量。",
            )
    for i, reward in rewards_of(plan, TargetAwardReward):
        if reward.metric == "new_referrals":
            yield Hit(
                award_path(i, plan),
                f"Award {rid(reward)} gives {prize_en(reward)} for {reward.threshold} new recruits in a "
                f"{PERIOD_EN[reward.period]} (metric: new_referrals): a bonus by headcount. Lawful alternative: "
                "set the award on the agent's own retail sales (metric: personal_retail).",
                f"奖励{rid_zh(reward)}：{PERIOD_ZH[reward.period]}新招 {reward.threshold} 人即得{prize_zh(reward)}"
                "（metric: new_referrals）：按人头发奖。合法做法：按代理本人的零售额评奖（metric: personal_retail）。",
            )


def _cn_count(n: int) -> str:
    return "一二三四五六七八九十"[n - 1] if 1 <= n <= 10 else str(n)


# --- CN-TEAM ----------------------------------------------------------------------------

_PEER_EN = {
    "same": " (paid when recruit and referrer are at the same level: 平级奖)",
    "higher": " (paid on recruits above the referrer's level: 越级)",
    "lower": " (paid on recruits below the referrer's level)",
    "any": "",
}
_PEER_ZH = {"same": "（同级推荐，平级奖）", "higher": "（越级推荐）", "lower": "（推荐低于本级的下线）", "any": ""}


@rule(
    "CN-TEAM",
    "HIGH",
    "cn",
    "禁止传销条例 Art. 7(3); 公通字〔2013〕37号 §5. Cases: 重庆宝月 2022 (two levels, 3% to upline, fined), "
    "名宇 (平级奖)",
    "pays anyone on purchases or sales other than their own sales to their own customers "
    "(CRIT when the base is effectively headcount)",
    "以他人的购买或销售业绩为依据计酬，而非本人对自己顾客的销售（以人头为基数时为 CRIT）",
)
def cn_team(ctx: Context) -> Iterator[Hit]:
    plan = ctx.plan
    entry_note_en = " Its base includes the recruits' entry orders." if any(paid_entries(plan)) else ""
    entry_note_zh = "其计酬基数还包含下线的首批进货。" if any(paid_entries(plan)) else ""
    for i, reward in rewards_of(plan, ReferralReward):
        n = reward.generations
        if reward.base == "per_head":
            yield Hit(
                path("rewards", i, "base"),
                f"Reward {rid(reward)} pays {referral_amounts_en(reward)} {by_generation_en(n)}: team pay whose "
                "base is a head count, not a sale. Lawful alternative: drop it; pay each agent on their own "
                "customers' retail orders only (retail_commission, generation 0).",
                f"奖励{rid_zh(reward)}{referral_amounts_zh(reward)}，{by_generation_zh(n)}：以人头为基数的团队计酬，"
                "而非销售。合法做法：取消该奖；只按代理本人顾客的零售订单计酬（retail_commission，仅第 0 代）。",
                severity="CRIT",
            )
        else:
            yield Hit(
                referral_rate_path(i, reward, plan),
                f"Reward {rid(reward)} pays {referral_amounts_en(reward)} {by_generation_en(n)}"
                f"{_PEER_EN[reward.referee_level]}: pay on other people's purchases, not on one's own sales to "
                f"one's own customers.{entry_note_en} Lawful alternative: drop it and pay each agent on their own "
                "customers' orders (retail_commission with a single rate, rates: [x]).",
                f"奖励{rid_zh(reward)}{referral_amounts_zh(reward)}{_PEER_ZH[reward.referee_level]}，"
                f"{by_generation_zh(n)}：以他人的购买计酬，而非本人对自己顾客的销售。{entry_note_zh}"
                "合法做法：取消该奖，只按代理本人顾客的订单计酬（retail_commission 只设一档，rates: [x]）。",
            )
    for i, reward in rewards_of(plan, RetailCommissionReward):
        for list_path, code, rates in commission_lists(i, reward):
            upline = [(k, r) for k, r in enumerate(rates) if k >= 1 and r > 0]
            if not upline:
                continue
            k = upline[0][0]
            whose = f" for {lv(plan.level(code))}" if code else ""
            whose_zh = f"（{lv_zh(plan.level(code))}）" if code else ""
            gens = ", ".join(str(g) for g, _ in upline)
            to_whom = f"referrer (generation {gens})" if len(upline) == 1 else f"referrers (generations {gens})"
            yield Hit(
                f"{list_path}[{k}]",
                f"Retail commission {rid(reward)}{whose} pays {pcts(r for _, r in upline)} of a customer's order "
                f"to the seller's {to_whom}: commission on "
                "someone else's sale (a 2nd-level share). Lawful alternative: pay generation 0 only, the agent "
                f"who served the customer (rates: [{rates[0]}]).",
                f"分享佣金{rid_zh(reward)}{whose_zh}把顾客订单的 {pcts(r for _, r in upline)} 发给销售者的上级"
                f"（第 {'、'.join(str(g) for g, _ in upline)} 代）：以他人的销售计酬（二级分佣）。合法做法：只发"
                f"第 0 代，即服务该顾客的代理本人（rates: [{rates[0]}]）。",
            )
    for i, reward in rewards_of(plan, TeamVolumeReward):
        diff_en = " with 级差 differential" if reward.differential else ""
        diff_zh = "（级差）" if reward.differential else ""
        yield Hit(
            team_path(i, plan),
            f"Reward {rid(reward)} pays a ladder of {pcts(s.rate for s in reward.ladder)} on each "
            f"{PERIOD_EN[reward.period]}'s {team_metric_en(reward)}{diff_en}: team pay on other people's "
            "purchases and sales. Lawful alternative: drop the team reward; reward each agent's own retail sales "
            "(target_award with metric: personal_retail).",
            f"奖励{rid_zh(reward)}按{PERIOD_ZH[reward.period]}{team_metric_zh(reward)}阶梯计奖 "
            f"{pcts(s.rate for s in reward.ladder)}{diff_zh}：以团队他人的购买和销售计酬。合法做法：取消团队奖；"
            "按代理本人的零售额评奖（target_award，metric: personal_retail）。",
        )
    for i, reward in rewards_of(plan, TargetAwardReward):
        if reward.metric == "team_purchase":
            yield Hit(
                award_path(i, plan),
                f"Award {rid(reward)} gives {prize_en(reward)} when the team's purchases reach "
                f"{yuan(reward.threshold)} in a {PERIOD_EN[reward.period]}: a reward on other people's purchases. "
                "Lawful alternative: set the award on the agent's own retail sales (metric: personal_retail).",
                f"奖励{rid_zh(reward)}：{PERIOD_ZH[reward.period]}团队进货额达 {yuan(reward.threshold)} 即得"
                f"{prize_zh(reward)}：以他人的购买计奖。合法做法：按代理本人的零售额评奖（metric: personal_retail）。",
            )
        elif reward.metric == "new_referrals":
            yield Hit(
                award_path(i, plan),
                f"Award {rid(reward)} is won by recruiting {reward.threshold} agents in a "
                f"{PERIOD_EN[reward.period]}: team pay whose base is a head count. Lawful alternative: set the "
                "award on the agent's own retail sales (metric: personal_retail).",
                f"奖励{rid_zh(reward)}{PERIOD_ZH[reward.period]}招满 {reward.threshold} 人即得：以人头为基数计奖。"
                "合法做法：按代理本人的零售额评奖（metric: personal_retail）。",
                severity="CRIT",
            )
    for where, _, upgrade, cond in conditions(plan):
        if cond.key == "team_volume":
            to = target(plan, upgrade)
            tv = cond.value
            yield Hit(
                where,
                f"{lv(to)} can be reached on team purchases of {yuan(tv.amount)} in a {PERIOD_EN[tv.period]}: "
                "promotion, with its lower price and rewards, earned on other people's purchases. Lawful "
                "alternative: upgrade by the agent's own retail sales (retail_sales: N).",
                f"{PERIOD_ZH[tv.period]}团队进货额达 {yuan(tv.amount)} 即可升为{lv_zh(to)}：以他人的购买换取等级"
                "及其价格和奖励。合法做法：按代理本人的零售额升级（retail_sales: N）。",
            )


# --- CN-LOCK ----------------------------------------------------------------------------


@rule(
    "CN-LOCK",
    "HIGH",
    "cn",
    "大咖商贸 decision (平顶山 2020); 台州 case 2020 (6 agent levels + 4 rebate levels via price differentials)",
    "agents must buy from their upline, or the upline profits from downline restocking through price tiers",
    "代理只能向上级拿货，或上级通过级差价格从下级进货中获利",
)
def cn_lock(ctx: Context) -> Iterator[Hit]:
    plan = ctx.plan
    if plan.supply == "company" or not price_tiers(plan):
        return
    lo, hi = discount_range(plan)
    how_en = {
        "nearest_higher_upline": "by the nearest higher upline from their own stock (supply: nearest_higher_upline,"
        " 上级发货)",
        "cloud": "from the upline's cloud stock (supply: cloud, 云仓)",
    }[plan.supply]
    how_zh = {
        "nearest_higher_upline": "由最近的高等级上级从自己的库存发货（supply: nearest_higher_upline，上级发货）",
        "cloud": "从上级的云仓库存发货（supply: cloud，云仓）",
    }[plan.supply]
    tiers_en = f"discounts {lo}–{hi} of retail" if lo != hi else "per-SKU price overrides"
    tiers_zh = f"折扣 {lo}–{hi}" if lo != hi else "按 SKU 的等级价"
    yield Hit(
        "supply",
        f"Restock orders are filled {how_en} while levels pay different prices ({tiers_en}): an agent must buy "
        "from their upline, who profits from every downline restock through the price tiers. Lawful "
        "alternative: supply: company — the company fills every order, and agents earn only on their own sales.",
        f"补货订单{how_zh}，而各等级拿货价不同（{tiers_zh}）：代理只能向上级拿货，上级从每一笔下级补货中赚取级差。"
        "合法做法：supply: company——所有订单由公司发货，代理只从本人的销售中获利。",
    )


# --- CN-DS30 ----------------------------------------------------------------------------


@rule(
    "CN-DS30",
    "HIGH",
    "cn",
    "直销管理条例 Arts. 14, 17, 18, 24",
    "a plan that declares licensed direct selling (direct_selling: true) breaks the direct-selling limits",
    "声明为持牌直销（direct_selling: true）的方案违反直销管理条例的限制",
)
def cn_ds30(ctx: Context) -> Iterator[Hit]:
    plan = ctx.plan
    if not plan.direct_selling:
        return
    # 1. total reward on the seller's own consumer sales above 30% (margin included: "other economic benefits")
    worst = None
    for level in plan.levels:
        parts_en = [f"margin {pct(1 - level.discount)}"] if level.discount < 1 else []
        total = 1 - level.discount
        where = None
        for i, reward in rewards_of(plan, RetailCommissionReward):
            for list_path, code, rates in commission_lists(i, reward):
                if (code is None or code == level.code) and rates and rates[0] > 0:
                    total += rates[0]
                    parts_en.append(f"{rid(reward)} {pct(rates[0])}")
                    where = where or f"{list_path}[0]"
        for i, reward in rewards_of(plan, TeamVolumeReward):
            if reward.metric == "team_retail":
                total += reward.top_rate
                parts_en.append(f"{rid(reward)} up to {pct(reward.top_rate)}")
                where = where or team_path(i, plan)
        if total > DS_CAP and (worst is None or total > worst[0]):
            worst = (total, level, parts_en, where or path("levels", plan.levels.index(level), "discount"))
    if worst is not None:
        total, level, parts_en, where = worst
        yield Hit(
            where,
            f"A {lv(level)} seller can earn {pct(total)} of their own sales to consumers ({' + '.join(parts_en)}), "
            "above the 30% cap for licensed direct selling. Lawful alternative: bring commission plus level "
            "margin to at most 30% of the seller's own sales to consumers.",
            f"{lv_zh(level)}销售者可从本人对消费者的销售中获得 {pct(total)}（级差利润与佣金合计），超过直销报酬 30% 的"
            "上限。合法做法：佣金与拿货差价合计不超过本人对消费者销售额的 30%。",
        )
    # 2. any reward on others' sales
    for i, reward in enumerate(plan.rewards):
        on_others = (
            isinstance(reward, ReferralReward)
            or isinstance(reward, TeamVolumeReward)
            or (
                isinstance(reward, RetailCommissionReward)
                and any(r > 0 for _, _, rates in commission_lists(i, reward) for r in rates[1:])
            )
            or (isinstance(reward, TargetAwardReward) and reward.metric in ("team_purchase", "new_referrals"))
        )
        if on_others:
            yield Hit(
                path("rewards", i),
                f"Reward {rid(reward)} pays on other people's purchases or sales; a licensed direct seller may "
                "be paid only on their own sales to consumers. Lawful alternative: remove it, or pay it on the "
                "seller's own consumer sales.",
                f"奖励{rid_zh(reward)}以他人的购买或销售计酬；直销员的报酬只能按本人直接向消费者销售的收入计算。"
                "合法做法：取消该奖，或改为按本人对消费者的销售计酬。",
            )
    # 3. paid less often than monthly
    for i, reward in enumerate(plan.rewards):
        if isinstance(reward, TeamVolumeReward | TargetAwardReward) and reward.period != "month":
            yield Hit(
                written(plan, path("rewards", i, "period"), path("rewards", i)),
                f"Reward {rid(reward)} is settled once a {reward.period}; direct-selling pay must be at least "
                "monthly. Lawful alternative: period: month.",
                f"奖励{rid_zh(reward)}{PERIOD_ZH[reward.period]}结算一次；直销报酬至少每月支付一次。合法做法：period: month。",
            )
    if plan.settlement.frozen_days > 31:
        yield Hit(
            path("settlement", "frozen_days"),
            f"Rewards are frozen for {plan.settlement.frozen_days} days before they can be withdrawn, so pay "
            "comes less often than monthly. Lawful alternative: frozen_days of 30 or fewer.",
            f"奖励冻结 {plan.settlement.frozen_days} 天后才能提现，支付间隔超过一个月。合法做法：frozen_days 不超过 30。",
        )
    # 4. a fee or purchase to become a seller
    for where, level in paid_entries(plan):
        yield Hit(
            where,
            f"Becoming a {lv(level)} seller requires {entry_en(level, plan)}; a licensed direct seller may not "
            "charge a fee or require a purchase to become a seller. Lawful alternative: entry: {free: true}.",
            f"成为{lv_zh(level)}须{entry_zh(level, plan)}；直销企业不得以交费或购买商品作为成为直销员的条件。"
            "合法做法：entry: {free: true}。",
        )
    for where, upgrade in paid_top_ups(plan):
        to = target(plan, upgrade)
        yield Hit(
            where,
            f"Reaching {lv(to)} requires paying the top-up (补差); a direct seller may not be charged for a "
            "position. Lawful alternative: top_up: false.",
            f"升为{lv_zh(to)}须补差；直销员不得因取得资格而付费。合法做法：top_up: false。",
        )
    # 5. paid training: no key in the plan format (docs/linter.md)
    # 6. exit right shorter than 60 days
    if plan.returns is None:
        yield Hit(
            "returns",
            f"The plan gives a seller who leaves no right to return goods (no returns section); direct selling "
            f"requires an exit right of at least {EXIT_DAYS} days. Lawful alternative: returns: {{window_days: 365, "
            "refund_rate: 0.90}} or better.",
            f"方案没有给退出的直销员任何退货权利（未写 returns）；直销要求至少 {EXIT_DAYS} 天的退出权。"
            "合法做法：returns: {window_days: 365, refund_rate: 0.90} 或更优。",
        )
    elif plan.returns.window_days < EXIT_DAYS:
        yield Hit(
            path("returns", "window_days"),
            f"A leaving seller may return only stock bought in the last {plan.returns.window_days} days; direct "
            f"selling requires an exit right of at least {EXIT_DAYS} days. Lawful alternative: window_days: "
            f"{EXIT_DAYS} or more.",
            f"退出的直销员只能退回最近 {plan.returns.window_days} 天内购进的货品；直销要求至少 {EXIT_DAYS} 天的退出权。"
            f"合法做法：window_days 不少于 {EXIT_DAYS}。",
        )


# --- CN-RET -----------------------------------------------------------------------------


@rule(
    "CN-RET",
    "MED",
    "cn",
    "直销管理条例 (return provision)",
    "no return/refund policy for unsold goods",
    "没有未售出货品的退货退款政策",
)
def cn_ret(ctx: Context) -> Iterator[Hit]:
    plan = ctx.plan
    reading_en = (
        "the common reading of the return provision (article number reported, not verified) is 30 days "
        "for unopened goods with the refund paid within 7 days"
    )
    reading_zh = "退货条款的通常理解（条文序号为转述，未经核实）是未开封商品 30 日内可退，7 日内退款"
    if plan.returns is None:
        yield Hit(
            "returns",
            f"The plan has no returns section: agents cannot return unsold stock; {reading_en}. Lawful "
            "alternative: add returns: {window_days: 365, refund_rate: 0.90}.",
            f"方案没有 returns 部分：代理无法退回未售出的库存；{reading_zh}。合法做法：加上 "
            "returns: {window_days: 365, refund_rate: 0.90}。",
        )
    elif plan.returns.refund_rate == 0:
        yield Hit(
            path("returns", "refund_rate"),
            f"returns.refund_rate is 0: returned stock is refunded nothing, which is no refund policy; {reading_en}. "
            "Lawful alternative: refund_rate: 0.90 or more.",
            f"returns.refund_rate 为 0：退货不退款，等于没有退款政策；{reading_zh}。合法做法：refund_rate 不低于 0.90。",
        )
    elif plan.returns.window_days < RETURN_DAYS:
        yield Hit(
            path("returns", "window_days"),
            f"Only stock bought in the last {plan.returns.window_days} days can be returned, shorter than "
            f"{RETURN_DAYS} days; {reading_en}. Lawful alternative: window_days: {RETURN_DAYS} or more "
            "(365 is common).",
            f"只能退回最近 {plan.returns.window_days} 天内购进的货品，短于 {RETURN_DAYS} 天；{reading_zh}。"
            f"合法做法：window_days 不少于 {RETURN_DAYS}（常见为 365）。",
        )


# --- CN-CLAIM and CN-EC: reminders --------------------------------------------------------


@rule(
    "CN-CLAIM",
    "MED",
    "cn",
    "直销员业务培训管理办法 Art. 8; 电子商务法 Art. 17",
    "marketing or training material shows incomes without the typical participant's result",
    "宣传或培训材料展示收入却不说明普通参与者的实际结果",
    kind="reminder",
    note="A plan file carries no marketing or training material, so the rule cannot fire on the plan; the "
    "linter prints it as an INFO reminder (severity MED applies to the material itself).",
)
def cn_claim(ctx: Context) -> Iterator[Hit]:
    yield Hit(
        "",
        "Reminder: this plan file carries no marketing material, so income claims cannot be checked here. Any "
        "income shown in recruitment or training material must come with the typical participant's result "
        "(run `weishang plan simulate` for the median and the share who lose money).",
        "提醒：方案文件不含宣传材料，无法在此检查收入宣传。招商或培训材料中展示的任何收入，都必须同时说明普通参与者"
        "的实际结果（可用 `weishang plan simulate` 得到中位数和亏损比例）。",
        severity="INFO",
    )


@rule(
    "CN-EC",
    "INFO",
    "cn",
    "电子商务法 Arts. 9–11, 14",
    "agents selling online are e-commerce operators: registration, tax, invoices",
    "在网上销售的代理是电子商务经营者：须登记、纳税、开具发票",
    kind="reminder",
    note="Always printed for China: it is an obligation of every agent who sells online, not a defect of a plan.",
)
def cn_ec(ctx: Context) -> Iterator[Hit]:
    yield Hit(
        "",
        "Agents who sell online are e-commerce operators: they must register as market entities (unless exempt), "
        "pay tax and issue invoices. Tell agents so, and keep their registration and invoices on file.",
        "在网上销售的代理属于电子商务经营者：须依法办理市场主体登记（符合豁免的除外）、纳税并开具发票。请告知代理，"
        "并留存其登记和发票资料。",
    )
