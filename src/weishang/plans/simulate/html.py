"""report.html: one self-contained page a brand owner can read (Chinese first, then English).

No external file, script or font: the charts are inlined as base64 data URIs and the CSS is in
the page, so the file can be mailed or opened offline.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import Any

from .charts import CHARTS
from .text import money, num, pct

__all__ = ["render_html", "write_html"]

CSS = """
body{font-family:-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;
background:#f6f7f9;color:#1f2328;line-height:1.55}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.2em;margin:1.8em 0 .5em;border-bottom:2px solid #d0d7de;
padding-bottom:.2em}.en{color:#57606a;font-size:.92em}.sub{color:#57606a}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:12px;margin:16px 0}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px}
.card .v{font-size:1.5em;font-weight:600}.card .k{font-size:.9em}
.bad .v{color:#cf222e}.ok .v{color:#1a7f37}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0;font-size:.92em}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f0f2f4}
figure{background:#fff;border:1px solid #d0d7de;border-radius:8px;margin:12px 0;padding:8px}
figure img{width:100%;height:auto}figcaption{font-size:.9em;color:#57606a}
.sev{display:inline-block;padding:0 6px;border-radius:4px;color:#fff;font-size:.85em}
.CRIT{background:#cf222e}.HIGH{background:#bc4c00}.MED{background:#9a6700}.INFO{background:#57606a}
.note{font-size:.88em;color:#57606a}
"""

CAPTIONS = {
    "agents_by_level": (
        "每月月末仍在做的代理人数，按等级叠加。",
        "Agents still active at each month's end, stacked by level.",
    ),
    "cash_collected": (
        "柱：品牌当月从订单收到的钱；线：品牌累计现金（收款减奖励、奖品、回购、活动与货品成本）。",
        "Bars: money the brand collected from orders in the month; line: the brand's cumulative cash "
        "(collected less rewards, prizes, buybacks, campaigns and cost of goods).",
    ),
    "retail_vs_channel": (
        "参与者自己买进的（入门、升级、补货、自用）与卖给非参与者的零售额。前者远高于后者，说明钱主要来自参与者本身。",
        "What participants bought (entry, upgrades, restocks, own use) against retail sales to "
        "people outside the scheme. When the first line stays far above the second, the money "
        "comes from the participants themselves.",
    ),
    "channel_inventory": (
        "代理手中积压的件数，以及相当于几个月终端需求（点线：3 个月）。",
        "Units sitting with agents, and how many months of end-user demand that is (dotted: 3 months).",
    ),
    "income_distribution": (
        "每位参与者（含已退出者、零收入者）的最终净收入：收到的钱减去付出的钱，自用货品按成本计，剩余库存按可回购价值计。",
        "Every participant's final net income, those who quit and those who earned nothing "
        "included: money received less money paid, own use at cost, unsold stock at what a "
        "buyback would return.",
    ),
}


def _h(zh: str, en: str) -> str:
    return f'<h2>{escape(zh)} <span class="en">{escape(en)}</span></h2>'


def _card(zh: str, en: str, value: str, cls: str = "") -> str:
    return (
        f'<div class="card {cls}"><div class="v">{escape(value)}</div>'
        f'<div class="k">{escape(zh)}<br><span class="en">{escape(en)}</span></div></div>'
    )


def _table(head: list[tuple[str, str]], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    th = "".join(
        f'<th class="{"n" if i in numeric else ""}">{escape(zh)}<br><span class="en">{escape(en)}</span></th>'
        for i, (zh, en) in enumerate(head)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"n" if i in numeric else ""}">{escape(str(v))}</td>' for i, v in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{th}</tr>{body}</table>"


def _kv(rows: list[tuple[str, str, str]]) -> str:
    return _table([("指标", "Metric"), ("数值", "Value")], [[f"{zh} / {en}", value] for zh, en, value in rows], {1})


def _groups(rows: list[dict[str, Any]], label: tuple[str, str]) -> str:
    return _table(
        [
            label,
            ("人数", "participants"),
            ("亏损", "with a loss"),
            ("亏损占比", "loss share"),
            ("净收入中位数", "median net"),
        ],
        [
            [r["group"], num(r["participants"]), num(r["with_loss"]), pct(r["loss_share"]), money(r["median_net"])]
            for r in rows
        ],
        {1, 2, 3, 4},
    )


def render_html(r: dict[str, Any], charts: dict[str, Path]) -> str:
    p, s = r["plan"], r["scenario"]
    loss, inc, fund, cons = r["loss"], r["income"], r["funding"], r["consumption"]
    inv, st, gr, att, sur, brand = r["inventory"], r["structure"], r["growth"], r["attrition"], r["surplus"], r["brand"]
    q, c = r["qualification"], r["conservation"]
    out = [
        f'<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(p['name'])} · 方案模拟报告 Plan simulation</title><style>{CSS}</style></head><body><main>"
    ]
    out.append(f'<h1>{escape(p["name"])} · 方案模拟报告 <span class="en">Plan simulation report</span></h1>')
    out.append(
        f'<p class="sub">{escape(p["id"])} v{p["version"]} · {escape(p["kind"])} · '
        f"{escape(s['name'] or '')} · {escape(s['start'])} 起 {s['months']} 个月 / {s['months']} months · "
        f"种子 seed {s['seed']} · 市场 market {num(s['market_size'])} 人 people</p>"
    )
    out.append(
        '<p class="note">这是一个模型，不是预测：结果取决于场景文件中的假设（见文末）。同一种子得到同一结果。<br>'
        "A model, not a forecast: the figures follow from the scenario's assumptions (see the end). "
        "The same seed gives the same numbers.</p>"
    )

    lossy = (loss["loss_share"] or 0) > 0.5
    out.append('<div class="cards">')
    out.append(
        _card("净亏损的参与者", "participants with a net loss", pct(loss["loss_share"]), "bad" if lossy else "ok")
    )
    out.append(
        _card(
            "净收入中位数",
            "median net income",
            money(inc["net"]["median"]),
            "bad" if inc["net"]["median"].startswith("-") else "ok",
        )
    )
    rec = fund["recruitment_funded_share"]
    out.append(
        _card(
            "奖励来自招人",
            "rewards funded by recruitment",
            pct(rec),
            "bad" if (rec or 0) > (fund["retail_funded_share"] or 0) else "ok",
        )
    )
    out.append(_card("品牌拨出比", "brand payout ratio", pct(brand["payout_ratio"])))
    mos = inv["months_of_stock_peak"]
    out.append(
        _card("库存最高（月终端需求）", "peak stock, months of demand", num(mos, 1), "bad" if (mos or 0) > 3 else "ok")
    )
    out.append(
        _card(
            "≥30 人 ≥3 层的最大子树",
            "largest sub-tree ≥ 30 members, ≥ 3 levels",
            num(st["max_subtree_members_3levels"]),
            "bad" if st["max_subtree_members_3levels"] >= 30 else "ok",
        )
    )
    out.append(
        _card(
            "参与者总盈余",
            "participant surplus",
            money(sur["participant_surplus"]),
            "bad" if sur["participant_surplus"].startswith("-") else "ok",
        )
    )
    out.append(
        _card("守恒核对", "conservation", "✓" if c["all_balanced"] else "✗", "ok" if c["all_balanced"] else "bad")
    )
    out.append("</div>")

    lint = r.get("lint")
    if lint is not None:
        out.append(_h("模拟数据对应的合规规则", f"Rules on simulated figures ({lint['jurisdiction']})"))
        if lint["findings"]:
            for f in lint["findings"]:
                out.append(
                    f'<p><span class="sev {escape(f["severity"])}">{escape(f["severity"])}</span> '
                    f"<b>{escape(f['rule'])}</b> {escape(f['message_zh'])}<br>"
                    f'<span class="en">{escape(f["message_en"])}</span><br>'
                    f'<span class="note">{escape(f["source"])}</span></p>'
                )
        else:
            out.append('<p>模拟数据未触发任何规则。<span class="en">No rule on simulated figures fires.</span></p>')
        out.append(
            f'<p class="note">完整检查（含方案文本规则） Full check, text rules included: '
            f"<code>{escape(lint['command'])}</code></p>"
        )

    out.append(_h("图表", "Charts"))
    for name, path in charts.items():
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        zh, en = CAPTIONS[name]
        out.append(
            f'<figure><img alt="{escape(CHARTS[name][1])}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(zh)}<br>{escape(en)}</figcaption></figure>"
        )

    out.append(_h("谁亏了钱", "Who lost money"))
    out.append(
        "<p>净收入 = 收到的钱（零售、卖给下级、奖励、奖品、回购）− 付出的钱（入门、升级、补货、自购），自用货品按成本计，"
        '期末库存按回购可退金额计。<br><span class="en">Net income = money received (retail, sales to the '
        "downline, rewards, prizes, buybacks) − money paid (entry, upgrades, restocks, own purchases); "
        "own use counted at cost, stock left at the end at what a buyback would return.</span></p>"
    )
    out.append(
        _kv(
            [
                ("净亏损占比", "share with a net loss", pct(loss["loss_share"])),
                ("自用货品不计价值时", "with own use counted at zero", pct(loss["loss_share_own_use_at_zero"])),
                ("回本所需直推人数", "direct recruits needed to break even", loss["recruits_to_break_even"] or "—"),
            ]
        )
    )
    out.append(_groups(loss["by_cohort"], ("加入季度", "joined in")))
    out.append(_groups(loss["by_depth"], ("推荐层级（1 = 创始）", "depth (1 = founder)")))
    out.append(_groups(loss["by_entry_level"], ("加入等级", "entry level")))
    out.append(_groups(loss["by_direct_recruits"], ("直推人数", "direct recruits")))

    out.append(_h("收入分布（含零收入者）", "Income distribution (zero earners included)"))
    net = inc["net"]
    out.append(
        _table(
            [
                ("", ""),
                ("P10", "P10"),
                ("P25", "P25"),
                ("中位数", "median"),
                ("P75", "P75"),
                ("P90", "P90"),
                ("P99", "P99"),
            ],
            [
                ["净收入 net income"] + [money(net[k]) for k in ("p10", "p25", "p50", "p75", "p90", "p99")],
                ["收益 earnings"] + [money(inc["earnings"][k]) for k in ("p10", "p25", "p50", "p75", "p90", "p99")],
            ],
            {1, 2, 3, 4, 5, 6},
        )
    )
    out.append(
        _kv(
            [
                ("收益最高 1% 的占比", "top 1%'s share of earnings", pct(inc["earnings"]["top1_share"])),
                ("收益基尼系数", "Gini of earnings", num(inc["earnings"]["gini"], 3)),
                ("零收益者占比", "share earning nothing", pct(inc["earnings"]["zero_earners_share"])),
                ("净收入为正的占比", "share with positive net income", pct(inc["positive_share"])),
            ]
        )
    )

    out.append(_h("奖励的钱从哪里来", "Where the rewards come from"))
    out.append(
        _kv(
            [
                ("奖励总额", "rewards paid", money(fund["rewards_total"])),
                (
                    "来自招人（入门、升级、人头）",
                    "funded by recruitment (entry, upgrades, per head)",
                    pct(fund["recruitment_funded_share"]),
                ),
                ("来自对非参与者的零售", "funded by retail to non-participants", pct(fund["retail_funded_share"])),
                (
                    "来自参与者自己的补货与自购",
                    "funded by participants' own restocking and purchases",
                    pct(fund["participant_purchase_funded_share"]),
                ),
                (
                    "含差价利润时：来自招人",
                    "with margins: funded by recruitment",
                    pct(fund["with_margins"]["recruitment_funded_share"]),
                ),
                (
                    "含差价利润时：来自零售",
                    "with margins: funded by retail",
                    pct(fund["with_margins"]["retail_funded_share"]),
                ),
            ]
        )
    )
    out.append(
        _table(
            [("奖励规则", "rule"), ("金额", "amount")], [[rule, money(v)] for rule, v in fund["by_rule"].items()], {1}
        )
    )

    out.append(_h("货卖给了谁", "Who the goods went to"))
    out.append(
        _kv(
            [
                (
                    "内部消费比（自用 ÷ 到达终端的件数）",
                    "internal consumption ratio (own use ÷ units reaching end users)",
                    pct(cons["internal_consumption_ratio"]),
                ),
                ("到达终端用户的比例", "share of units reaching end users", pct(cons["end_user_share"])),
                ("参与者购买占全部销售", "participants' share of all sales", pct(cons["participant_share_of_sales"])),
                (
                    "最差月份：来自非参与者的收入占比",
                    "worst month: revenue from non-participants",
                    f"{pct(cons['non_participant_revenue_share_worst_month'])} "
                    f"({cons['non_participant_revenue_share_worst_month_label'] or '—'})",
                ),
                ("为达标而进的货", "bought to reach a rank or award", money(q["purchases"])),
                ("占参与者购买", "share of participants' purchases", pct(q["share_of_participant_purchases"])),
                ("这样进货的人数", "agents who did", num(q["agents"])),
            ]
        )
    )

    out.append(_h("库存", "Stock"))
    out.append(
        _kv(
            [
                ("库存峰值（件）", "peak units held", f"{num(inv['peak_units'])} ({inv['peak_month'] or '—'})"),
                (
                    "最高库存月数",
                    "peak months of stock",
                    f"{num(inv['months_of_stock_peak'], 1)} ({inv['months_of_stock_peak_month'] or '—'})",
                ),
                ("期末库存（件）", "held at the end", num(inv["held_at_end_units"])),
                ("退出时滞留（件）", "stranded at exit", num(inv["stranded_units"])),
                ("滞留货值（按进价）", "stranded value at cost", money(inv["stranded_value"])),
                ("被品牌回购（件）", "bought back", f"{num(inv['returned_units'])} ({money(inv['bought_back'])})"),
                ("缺货未满足的零售（件）", "retail demand not met (no stock)", num(inv["unmet_retail_units"])),
            ]
        )
    )

    out.append(_h("结构", "Structure"))
    out.append(
        _kv(
            [
                ("最大推荐深度", "deepest level of the referrer tree", num(st["max_depth"])),
                ("计酬深度", "deepest level paid on a purchase", num(st["paid_depth"])),
                (
                    "≥30 人且 ≥3 层的子树（组织者人数）",
                    "sub-trees with ≥ 30 members and ≥ 3 levels (organisers)",
                    num(st["subtrees_30_members_3_levels"]),
                ),
                ("其中 ≥120 人", "of which ≥ 120 members", num(st["subtrees_120_members_3_levels"])),
                ("最大的这类子树", "largest such sub-tree", num(st["max_subtree_members_3levels"])),
                ("身处其中的成员占比", "share of members inside one", pct(st["share_of_members_inside"])),
            ]
        )
    )

    out.append(_h("增长、饱和与退出", "Growth, saturation and attrition"))
    out.append(
        _kv(
            [
                ("市场过半的月份", "month half the market was reached", gr["saturation_month"] or "—"),
                ("招人最多的月份", "month with most recruits", gr["peak_recruitment_month"] or "—"),
                ("触达市场占比", "share of the market that joined", pct(gr["market_reached_share"])),
                ("从未招人的占比", "share who never recruited", pct(gr["never_recruited_share"])),
                ("一年内退出的占比", "share who quit within 12 months", pct(att["quit_within_12_months_share"])),
                ("平均月退出率", "average monthly attrition", pct(att["mean_monthly_attrition"])),
                (
                    "新人（前 3 个月）贡献的进货",
                    "purchases by agents in their first 3 months",
                    pct(att["purchases_by_new_entrants_share"]),
                ),
            ]
        )
    )

    out.append(_h("钱的去向", "Where the money went"))
    out.append(
        _kv(
            [
                (
                    "参与者总盈余（负 = 财富转移）",
                    "participant surplus (negative = a transfer to the top)",
                    money(sur["participant_surplus"]),
                ),
                ("其中收入最高的 1%", "of which the top 1%", money(sur["top1_surplus"])),
                ("其余 99%", "the other 99%", money(sur["bottom99_surplus"])),
                ("品牌收款", "brand collected", money(brand["collected"])),
                ("品牌支付的奖励", "rewards the brand paid", money(brand["rewards_paid"])),
                ("上级支付的奖励", "rewards uplines paid", money(brand["rewards_paid_by_uplines"])),
                (
                    "奖品（现金 / 实物旅游）",
                    "prizes (cash / in kind)",
                    f"{money(brand['prizes_cash'])} / {money(brand['prizes_in_kind'])}",
                ),
                ("回购", "buybacks", money(brand["buyback"])),
                ("品牌期末现金", "brand cash at the end", money(brand["cash_at_end"])),
                (
                    "若全部代理此刻退出应付的回购",
                    "buyback owed if every agent quit now",
                    money(brand["buyback_owed_if_all_quit"]),
                ),
                ("付清回购后的品牌现金", "brand cash after that buyback", money(brand["cash_after_buyback_owed"])),
                (
                    "不计手中库存的参与者盈余",
                    "participant surplus without the stock they hold",
                    money(sur["without_stock_held"]),
                ),
                (
                    "拨出比（奖励与奖品 ÷ 品牌收款）",
                    "payout ratio (rewards and prizes ÷ brand collected)",
                    pct(brand["payout_ratio"]),
                ),
            ]
        )
    )

    out.append(_h("守恒核对", "Conservation checks"))
    mo, un = c["money"], c["units"]
    out.append(
        _kv(
            [
                (
                    "逐月核对",
                    "months checked",
                    f"{c['checked_months']}，"
                    + ("全部平衡 all balanced" if c["all_balanced"] else f"不平衡 unbalanced: {c['failing_months']}"),
                ),
                ("流入的钱", "money paid in", money(mo["paid_in"])),
                ("流出的钱", "money paid out", money(mo["paid_out"])),
                ("品牌持有", "held by the brand", money(mo["held_by_brand"])),
                ("进入渠道的件数", "units shipped into the channel", num(un["shipped_into_channel"])),
                (
                    "= 卖给顾客 + 自用 + 在手 + 滞留 + 回购",
                    "= sold + used + held + stranded + bought back",
                    f"{num(un['sold_to_customers'])} + {num(un['used_by_participants'])} + {num(un['held'])} + "
                    f"{num(un['stranded'])} + {num(un['returned_under_buyback'])}",
                ),
            ]
        )
    )

    out.append(_h("模型假设", "Assumptions"))
    out.append(
        "<p>每月：在做代理各自接触若干人，按加入概率（随市场被用尽而下降）招到新人；新人按等级付入门费；代理按补货策略进货（至少为最低补货量），"
        "可为达到升级或奖项门槛而多进货；顾客按各代理自己的平均数（泊松分布）购买；代理按亏损程度退出，未售库存按方案回购或滞留。奖励与正式系统"
        '的奖励引擎逐笔一致（以分为单位），并经交叉核对。详见 docs/simulator.md。<br><span class="en">Each month active agents '
        "pitch a number of people who join with a probability that falls as the market is used up; recruits "
        "pay their entry; agents restock by policy (at least the minimum) and may buy extra to reach an "
        "upgrade or award; customers buy around each agent's own average (Poisson); agents quit faster the "
        "more they have lost, and their unsold stock is bought back as the plan says or stranded. Rewards "
        "follow the production reward engine line by line, to the fen (cross-checked). See docs/simulator.md."
        "</span></p>"
    )
    out.append("</main></body></html>")
    return "\n".join(out)


def write_html(report: dict[str, Any], charts: dict[str, Path], path: Path) -> Path:
    path.write_text(render_html(report, charts), encoding="utf-8")
    return path
