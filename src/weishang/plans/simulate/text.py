"""Plain-words rendering of a report: the terminal summary and the number formats html.py shares."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["money", "num", "pct", "summary"]


def money(text: str | None) -> str:
    """'-1234.5' → '−¥1,234.50'."""
    if text is None:
        return "—"
    value = Decimal(text)
    sign = "−" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"


def pct(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}%"


def num(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _ok(flag: bool, lang: str) -> str:
    if lang == "zh":
        return "✓" if flag else "✗ 不平"
    return "✓" if flag else "✗ unbalanced"


def summary(r: dict[str, Any], lang: str = "zh") -> str:
    p, s, part, loss, inc = r["plan"], r["scenario"], r["participants"], r["loss"], r["income"]
    fund, inv, st, brand, cons = r["funding"], r["inventory"], r["structure"], r["brand"], r["conservation"]
    growth = r["growth"]
    findings = r.get("lint", {}).get("findings", [])
    rules = ", ".join(f"{f['rule']} {f['severity']}" for f in findings)
    sat = growth["saturation_month"]
    if lang == "zh":
        lines = [
            f"{p['name']}（{p['id']} v{p['version']}）· {s['start']} 起 {s['months']} 个月 · 种子 {s['seed']}",
            f"参与者 {num(part['ever_joined'])} 人，期末在做 {num(part['active_at_end'])} 人，退出 "
            f"{num(part['exited'])} 人；市场过半{'于 ' + sat if sat else '：未达到'}",
            f"净亏损者占 {pct(loss['loss_share'])}；净收入中位数 {money(inc['net']['median'])}；"
            f"收益最高的 1% 拿走 {pct(inc['earnings']['top1_share'])}（基尼系数 {num(inc['earnings']['gini'], 2)}）",
            f"奖励 {money(fund['rewards_total'])}：来自招人 {pct(fund['recruitment_funded_share'])}，来自零售 "
            f"{pct(fund['retail_funded_share'])}，来自参与者进货 {pct(fund['participant_purchase_funded_share'])}；"
            f"品牌拨出比 {pct(brand['payout_ratio'])}",
            f"渠道库存峰值 {num(inv['peak_units'])} 件（{inv['peak_month'] or '—'}），最高相当于 "
            f"{num(inv['months_of_stock_peak'], 1)} 个月终端需求；退出时滞留 {num(inv['stranded_units'])} 件，"
            f"回购 {num(inv['returned_units'])} 件（{money(inv['bought_back'])}）",
            f"结构：最深 {st['max_depth']} 层，计酬深度 {st['paid_depth']}；≥30 人且 ≥3 层的子树 "
            f"{num(st['subtrees_30_members_3_levels'])} 个（最大 {num(st['max_subtree_members_3levels'])} 人）",
            f"品牌期末现金 {money(brand['cash_at_end'])}（若全部退出需回购 "
            f"{money(brand['buyback_owed_if_all_quit'])}）；守恒：资金 {_ok(cons['money']['balanced'], lang)} "
            f"货品 {_ok(cons['units']['balanced'], lang)}（{cons['checked_months']} 个月逐月核对）",
        ]
        if findings:
            lines.append(f"模拟数据触发的规则：{rules}")
        return "\n".join(lines)
    lines = [
        f"{p['name']} ({p['id']} v{p['version']}) · {s['months']} months from {s['start']} · seed {s['seed']}",
        f"{num(part['ever_joined'])} participants, {num(part['active_at_end'])} active at the end, "
        f"{num(part['exited'])} quit; half the market {'reached in ' + sat if sat else 'never reached'}",
        f"{pct(loss['loss_share'])} end with a net loss; median net income {money(inc['net']['median'])}; "
        f"the top 1% take {pct(inc['earnings']['top1_share'])} of earnings (Gini {num(inc['earnings']['gini'], 2)})",
        f"Rewards {money(fund['rewards_total'])}: {pct(fund['recruitment_funded_share'])} funded by recruitment, "
        f"{pct(fund['retail_funded_share'])} by retail, {pct(fund['participant_purchase_funded_share'])} by "
        f"participants' own purchases; brand payout ratio {pct(brand['payout_ratio'])}",
        f"Channel inventory peaks at {num(inv['peak_units'])} units ({inv['peak_month'] or '—'}), at most "
        f"{num(inv['months_of_stock_peak'], 1)} months of end-user demand; {num(inv['stranded_units'])} units "
        f"stranded at exit, {num(inv['returned_units'])} bought back ({money(inv['bought_back'])})",
        f"Structure: {st['max_depth']} levels deep, paid {st['paid_depth']} deep; "
        f"{num(st['subtrees_30_members_3_levels'])} sub-trees with ≥ 30 members and ≥ 3 levels (largest "
        f"{num(st['max_subtree_members_3levels'])})",
        f"Brand cash at the end {money(brand['cash_at_end'])} (buyback owed if all quit: "
        f"{money(brand['buyback_owed_if_all_quit'])}); conservation: money "
        f"{_ok(cons['money']['balanced'], lang)}, units {_ok(cons['units']['balanced'], lang)} "
        f"(checked every month, {cons['checked_months']})",
    ]
    if findings:
        lines.append(f"Rules triggered by the simulated figures: {rules}")
    return "\n".join(lines)
