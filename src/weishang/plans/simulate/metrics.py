"""The report: every metric of reference/compliance-rules.md ("What the simulator must report"),
the monthly series and the conservation checks, as one JSON-ready dict.

Money is written as yuan strings with two decimals ("1234.50"), computed from integer fen;
shares and ratios are numbers between 0 and 1 (6 decimals), computed as one division of exact
integer totals. docs/simulator.md explains every key in plain words, with its source.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np

from ..periods import period_label
from .compiled import round_div
from .model import Market, month_date

__all__ = ["REPORT_SCHEMA", "build_report", "yuan"]

REPORT_SCHEMA = "weishang.plan-simulation/1"
CENT = Decimal("0.01")
RECRUIT_BUCKETS = ((0, 0, "0"), (1, 1, "1"), (2, 2, "2"), (3, 3, "3"), (4, 4, "4"), (5, 9, "5-9"), (10, None, "10+"))
PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
SUBTREE_MEMBERS, SUBTREE_LEVELS, SERIOUS_MEMBERS = 30, 3, 120


def yuan(fen: int) -> str:
    return str((Decimal(int(fen)) / 100).quantize(CENT))


def share(num: int, den: int) -> float | None:
    """num / den as a number with 6 decimals (None when den is 0)."""
    if den == 0:
        return None
    return float((Decimal(int(num)) / Decimal(int(den))).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN))


def _percentile(sorted_values: np.ndarray, p: int) -> int:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    n = len(sorted_values)
    if n == 0:
        return 0
    k = max(1, math.ceil(p * n / 100))
    return int(sorted_values[k - 1])


def _gini(values: np.ndarray) -> float | None:
    """Gini coefficient of non-negative amounts, zeros included (0 = equal, 1 = one takes all)."""
    x = np.sort(np.maximum(values, 0))
    n = len(x)
    total = int(x.sum())
    if n == 0 or total == 0:
        return None
    cum = np.cumsum(x)
    area = sum(int(v) for v in cum)  # exact: Python integers
    g = Decimal(n + 1 - 2 * Decimal(area) / Decimal(total)) / Decimal(n)
    return float(g.quantize(Decimal("0.000001")))


def _top_share(values: np.ndarray, fraction: Decimal = Decimal("0.01")) -> float | None:
    x = np.sort(values)[::-1]
    total = int(np.maximum(x, 0).sum())
    if total == 0:
        return None
    k = max(1, math.ceil(len(x) * fraction))
    return share(int(np.maximum(x[:k], 0).sum()), total)


def _distribution(values: np.ndarray) -> dict[str, Any]:
    s = np.sort(values)
    out = {f"p{p}": yuan(_percentile(s, p)) for p in PERCENTILES}
    out["median"] = out["p50"]
    out["mean"] = yuan(int(s.sum()) // max(len(s), 1)) if len(s) else "0.00"
    out["min"] = yuan(int(s[0])) if len(s) else "0.00"
    out["max"] = yuan(int(s[-1])) if len(s) else "0.00"
    out["total"] = yuan(int(s.sum()))
    return out


def _groups(
    keys: np.ndarray, loss: np.ndarray, net: np.ndarray, labels: dict[int, str] | Callable[[int], str]
) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(set(int(k) for k in keys)):
        mask = keys == key
        n = int(mask.sum())
        rows.append(
            {
                "group": labels.get(key, str(key)) if isinstance(labels, dict) else labels(key),
                "participants": n,
                "with_loss": int(loss[mask].sum()),
                "loss_share": share(int(loss[mask].sum()), n),
                "median_net": yuan(_percentile(np.sort(net[mask]), 50)),
            }
        )
    return rows


def build_report(
    market: Market, *, plan_file: str | None, scenario_file: str | None, months: int, seed: int
) -> dict[str, Any]:
    m = market
    c = m.c
    plan = c.plan
    n = m.n
    idx = np.arange(n)
    active = m.active[:n].copy()
    live = idx[active]

    # -- each participant's result ------------------------------------------------------
    liquidation = np.zeros(n, dtype=np.int64)
    held_value = np.zeros(n, dtype=np.int64)
    if len(live):
        inside, total = m.lot_value(live, months)
        held_value[live] = total
        if c.returns_window is not None:
            liquidation[live] = round_div(inside * c.returns_num, c.returns_den, c.rounding)
    position = m.position(idx)
    net = position + liquidation
    net_money = net - m.own_use_value[:n] - m.recv_prize_kind[:n]
    earnings = m.recv_reward[:n] + m.recv_prize_cash[:n] + m.recv_prize_kind[:n] + m.recv_margin[:n]
    loss = net < 0
    paid_in = m.paid_orders[:n] + m.paid_upline[:n]
    loss_own_use_zero = (net - m.own_use_value[:n]) < 0

    # -- groups --------------------------------------------------------------------------
    joined = m.joined[:n].astype(np.int64)
    cohort_q = (
        np.array(
            [
                (month_date(m.start, int(j)).year * 4 + (month_date(m.start, int(j)).month - 1) // 3)
                for j in range(0, months + 1)
            ]
        )[joined]
        if n
        else np.zeros(0, dtype=np.int64)
    )

    def quarter_label(k: int) -> str:
        return f"{k // 4}-Q{k % 4 + 1}"

    depth = m.depth[:n].astype(np.int64)
    direct = m.direct[:n].astype(np.int64)
    bucket = np.zeros(n, dtype=np.int64)
    for i, (lo, hi, _label) in enumerate(RECRUIT_BUCKETS):
        bucket[(direct >= lo) & ((direct <= hi) if hi is not None else True)] = i
    by_recruits = _groups(bucket, loss, net, {i: b[2] for i, b in enumerate(RECRUIT_BUCKETS)})
    break_even = next(
        (
            row["group"]
            for row in by_recruits
            if row["participants"] >= 10 and row["loss_share"] is not None and row["loss_share"] <= 0.5
        ),
        None,
    )

    # -- funding -----------------------------------------------------------------------
    rewards_f = m.funding["rewards"]
    margins_f = m.funding["margins"]
    rewards_total = sum(rewards_f.values())
    margins_total = sum(margins_f.values())
    both = {k: rewards_f[k] + margins_f[k] for k in rewards_f}
    both_total = rewards_total + margins_total

    # -- monthly series ------------------------------------------------------------------
    rows = m.monthly
    labels = [r["label"] for r in rows]
    mos = []
    for r in rows:
        mos.append(share(r["inventory"], r["end_user_units"]) if r["end_user_units"] else None)
    months_of_stock = [round(v, 3) if v is not None else None for v in mos]
    defined = [(v, r["label"]) for v, r in zip(mos, rows, strict=True) if v is not None]
    peak_mos = max(defined, default=(None, None))
    np_shares = []
    for r in rows:
        total = r["agent_retail"] + r["wholesale"] + r["rewards"] + r["prizes"]
        np_shares.append(share(r["agent_retail"] + r["retail_funded_rewards"], total) if total else None)
    worst_np = min(
        ((v, r["label"]) for v, r in zip(np_shares, rows, strict=True) if v is not None), default=(None, None)
    )
    np_total_num = sum(r["agent_retail"] + r["retail_funded_rewards"] for r in rows)
    np_total_den = sum(r["agent_retail"] + r["wholesale"] + r["rewards"] + r["prizes"] for r in rows)
    cash = 0
    brand_cash = []
    for r in rows:
        cash += r["brand_cash_flow"]
        brand_cash.append(cash)
    inventory = [r["inventory"] for r in rows]
    peak_inv = max(range(len(rows)), key=lambda i: inventory[i]) if rows else None

    # -- structure ------------------------------------------------------------------------
    sizes = m.team_sum(np.ones(m.cap, dtype=np.int64))
    heights = m.team_max(m.depth.astype(np.int64))[:n] - depth + 1 if n else np.zeros(0, dtype=np.int64)
    spans3 = heights >= SUBTREE_LEVELS
    organised = spans3 & (sizes >= SUBTREE_MEMBERS)
    roots = idx[m.ref[:n] < 0]
    root_trees = roots[organised[roots]]
    members_inside = int(sizes[root_trees].sum())
    max_sub = int(sizes[spans3].max()) if spans3.any() else 0

    # -- units and consumption ----------------------------------------------------------
    u = m.units
    shipped = u["company_to_agents"] + u["company_to_members"] + u["company_to_customers"]
    end_user_units = int(m.u_sold_retail[:n].sum()) + u["company_to_customers"] + int(m.u_used[:n].sum())
    used_units = int(m.u_used[:n].sum())
    participant_purchases = sum(r["purchases"] + r["own_retail"] for r in rows)
    customer_retail = sum(r["customer_retail"] for r in rows)
    qual_total = int(m.qual_amount[:n].sum())
    purchases_total = sum(r["purchases"] for r in rows)

    # -- brand --------------------------------------------------------------------------
    b = m.brand
    held = (
        b["collected"] - b["rewards"] - b["prize_cash"] - b["prize_kind"] - b["buyback"] - b["campaigns"] - b["goods"]
    )
    upline_paid = int(m.paid_upline[:n].sum())
    all_sales = participant_purchases + customer_retail

    # -- attrition ----------------------------------------------------------------------
    exited = m.exit_month[:n] > 0
    old_enough = joined <= months - 12
    quit_year = exited & (m.exit_month[:n].astype(np.int64) - joined < 12) & old_enough
    start_active = []
    running = 0
    for r in rows:
        start_active.append(running)
        running = r["active"]
    # share is None only where no one was active (a == 0): those months have no rate
    attrition_rates = [
        rate for r, a in zip(rows, start_active, strict=True) if (rate := share(r["exits"], a)) is not None
    ]

    sorted_net = np.sort(net)
    k1 = max(1, math.ceil(n / 100)) if n else 0
    top1 = int(sorted_net[::-1][:k1].sum()) if n else 0
    level_names = {i: f"{code}" for i, code in enumerate(c.codes)}

    conservation_rows = m.conservation
    failing = [r["month"] for r in conservation_rows if not (r["money_balanced"] and r["units_balanced"])]
    final = conservation_rows[-1] if conservation_rows else {}

    figures = {
        "max_subtree_members_3levels": max_sub,
        "collected_total": yuan(purchases_total),
        "non_participant_revenue_share": worst_np[0] if worst_np[0] is not None else 0.0,
        "end_user_share": share(end_user_units, shipped) if shipped else 1.0,
        "recruitment_funded_share": share(rewards_f["recruitment"], rewards_total) if rewards_total else 0.0,
        "retail_funded_share": share(rewards_f["retail"], rewards_total) if rewards_total else 0.0,
        "loss_share": share(int(loss.sum()), n) if n else 0.0,
        "months_of_stock": round(peak_mos[0], 6)
        if peak_mos[0] is not None
        else (float(inventory[-1]) if inventory and inventory[-1] else 0.0),
    }

    report = {
        "schema": REPORT_SCHEMA,
        "plan": {
            "id": plan.id,
            "version": plan.version,
            "name": plan.name,
            "kind": plan.kind,
            "jurisdiction": plan.jurisdiction,
            "supply": plan.supply,
            "file": plan_file,
        },
        "scenario": {
            "name": m.s.name,
            "file": scenario_file,
            "months": months,
            "seed": seed,
            "start": m.s.start,
            "market_size": m.s.market_size,
            "founders": dict(m.s.founders),
            "campaigns": [
                {
                    "month": cp.month,
                    "kind": cp.kind,
                    "name": cp.name,
                    "extra_join_probability": str(cp.extra_join_probability),
                    "retail_boost": str(cp.retail_boost),
                    "cost": yuan(int(cp.cost * 100)),
                }
                for cp in m.s.campaigns
            ],
            "campaigns_outside_run": [cp.month for cp in m.s.campaigns if cp.month > months],
        },
        "model": {
            "product": c.sku,
            "retail_price": yuan(c.retail),
            "level_prices": {code: yuan(int(p)) for code, p in zip(c.codes, c.price, strict=True)},
            "unit_cost": yuan(c.unit_cost),
            "agents_hold_stock": m.holds_stock,
            "orders_filled_by": "supplier" if c.upline_supply else "company",
            "levels": [{"code": code, "name": name} for code, name in zip(c.codes, c.names, strict=True)],
        },
        "participants": {
            "ever_joined": n,
            "founders": int(m.founder[:n].sum()),
            "active_at_end": int(active.sum()),
            "exited": int(exited.sum()),
            "active_by_level_at_end": {
                code: int(v)
                for code, v in zip(c.codes, np.bincount(m.rank[:n][active], minlength=c.levels), strict=True)
            },
            "never_recruited_share": share(int((direct == 0).sum()), n),
        },
        "loss": {
            "loss_share": share(int(loss.sum()), n),
            "with_loss": int(loss.sum()),
            "loss_share_own_use_at_zero": share(int(loss_own_use_zero.sum()), n),
            "loss_share_over_10pct_of_paid": share(int((-net * 10 > paid_in).sum()), n),
            "median_loss_of_losers": yuan(-_percentile(np.sort(net[loss]), 50)) if loss.any() else "0.00",
            "by_cohort": _groups(cohort_q, loss, net, quarter_label),
            "by_depth": _groups(depth, loss, net, {}),
            "by_entry_level": _groups(m.join_rank[:n].astype(np.int64), loss, net, level_names),
            "by_level_at_end": _groups(m.rank[:n].astype(np.int64), loss, net, level_names),
            "by_direct_recruits": by_recruits,
            "recruits_to_break_even": break_even,
        },
        "income": {
            "net": _distribution(net),
            "net_money_only": _distribution(net_money),
            "positive_share": share(int((net > 0).sum()), n),
            "zero_share": share(int((net == 0).sum()), n),
            "negative_share": share(int((net < 0).sum()), n),
            "top1_share_of_positive_net": _top_share(net),
            "earnings": {
                **_distribution(earnings),
                "zero_earners_share": share(int((earnings <= 0).sum()), n),
                "top1_share": _top_share(earnings),
                "gini": _gini(earnings),
            },
        },
        "funding": {
            "rewards_total": yuan(rewards_total),
            "recruitment_funded": yuan(rewards_f["recruitment"]),
            "retail_funded": yuan(rewards_f["retail"]),
            "participant_purchase_funded": yuan(rewards_f["participant"]),
            "recruitment_funded_share": share(rewards_f["recruitment"], rewards_total),
            "retail_funded_share": share(rewards_f["retail"], rewards_total),
            "participant_purchase_funded_share": share(rewards_f["participant"], rewards_total),
            "with_margins": {
                "total": yuan(both_total),
                "recruitment_funded_share": share(both["recruitment"], both_total),
                "retail_funded_share": share(both["retail"], both_total),
                "participant_purchase_funded_share": share(both["participant"], both_total),
            },
            "by_rule": {rule: yuan(total) for rule, total in sorted(m.rule_totals.items())},
        },
        "consumption": {
            "internal_consumption_ratio": share(used_units, end_user_units),
            "end_user_share": share(end_user_units, shipped),
            "participant_share_of_sales": share(participant_purchases, all_sales),
            "non_participant_revenue_share_worst_month": worst_np[0],
            "non_participant_revenue_share_worst_month_label": worst_np[1],
            "non_participant_revenue_share_overall": share(np_total_num, np_total_den),
        },
        "qualification": {
            "purchases": yuan(qual_total),
            "units": sum(r["qualification_units"] for r in rows),
            "share_of_participant_purchases": share(qual_total, participant_purchases),
            "agents": int((m.qual_amount[:n] > 0).sum()),
        },
        "inventory": {
            "units_shipped_by_company": shipped,
            "units_reaching_end_users": end_user_units,
            "held_at_end_units": int(m.stock[:n][active].sum()),
            "held_at_end_value": yuan(int(held_value.sum())),
            "held_at_end_liquidation_value": yuan(int(liquidation.sum())),
            "peak_units": inventory[peak_inv] if peak_inv is not None else 0,
            "peak_month": labels[peak_inv] if peak_inv is not None else None,
            "months_of_stock_peak": round(peak_mos[0], 3) if peak_mos[0] is not None else None,
            "months_of_stock_peak_month": peak_mos[1],
            "months_of_stock_end": months_of_stock[-1] if months_of_stock else None,
            "stranded_units": int(m.u_stranded[:n].sum()),
            "stranded_value": yuan(int(m.stranded_value[:n].sum())),
            "returned_units": int(m.u_returned[:n].sum()),
            "bought_back": yuan(b["buyback"]),
            "unmet_retail_units": sum(r["units_unmet"] for r in rows),
        },
        "structure": {
            "max_depth": int(depth.max()) if n else 0,
            "paid_depth": m.paid_depth,
            "max_subtree_members_3levels": max_sub,
            "subtrees_30_members_3_levels": int(organised.sum()),
            "separate_structures_30_3": int(len(root_trees)),
            "subtrees_120_members_3_levels": int((spans3 & (sizes >= SERIOUS_MEMBERS)).sum()),
            "share_of_members_inside": share(members_inside, n),
            "largest_tree": int(sizes[roots].max()) if len(roots) else 0,
        },
        "growth": {
            "saturation_month": (
                period_label("month", month_date(m.start, m.saturation_month)) if m.saturation_month else None
            ),
            "peak_recruitment_month": labels[max(range(len(rows)), key=lambda i: rows[i]["joins"])] if rows else None,
            "market_reached_share": share(n, m.market_size),
            "never_recruited_share": share(int((direct == 0).sum()), n),
            "recruits_to_break_even": break_even,
        },
        "attrition": {
            "exited": int(exited.sum()),
            "quit_within_12_months_share": share(int(quit_year.sum()), int(old_enough.sum())),
            "mean_monthly_attrition": (
                round(sum(attrition_rates) / len(attrition_rates), 6) if attrition_rates else None
            ),
            "purchases_by_new_entrants_share": share(sum(r["purchases_new_entrants"] for r in rows), purchases_total),
            "entry_and_upgrade_share_of_purchases": share(sum(r["purchases_entry"] for r in rows), purchases_total),
        },
        "surplus": {
            "participant_surplus": yuan(int(net.sum())),
            "top1_surplus": yuan(top1),
            "bottom99_surplus": yuan(int(net.sum()) - top1),
            "money_only": yuan(int(net_money.sum())),
            "without_stock_held": yuan(int(net.sum() - liquidation.sum())),
        },
        "brand": {
            "collected": yuan(b["collected"]),
            "rewards_paid": yuan(b["rewards"]),
            "rewards_paid_by_uplines": yuan(upline_paid),
            "prizes_cash": yuan(b["prize_cash"]),
            "prizes_in_kind": yuan(b["prize_kind"]),
            "buyback": yuan(b["buyback"]),
            "campaigns": yuan(b["campaigns"]),
            "goods_cost": yuan(b["goods"]),
            "cash_at_end": yuan(held),
            "buyback_owed_if_all_quit": yuan(int(liquidation.sum())),
            "cash_after_buyback_owed": yuan(held - int(liquidation.sum())),
            "payout_ratio": share(b["rewards"] + b["prize_cash"] + b["prize_kind"], b["collected"]),
            "compensation_to_sales": share(
                b["rewards"] + upline_paid + b["prize_cash"] + b["prize_kind"] + int(m.recv_margin[:n].sum()), all_sales
            ),
            "lowest_cash": yuan(min(brand_cash, default=0)),
        },
        "conservation": {
            "checked_months": len(conservation_rows),
            "all_balanced": not failing,
            "failing_months": failing,
            "money": {
                "paid_in": yuan(final.get("money_in", 0)),
                "paid_out": yuan(final.get("money_out", 0)),
                "held_by_brand": yuan(final.get("brand_held", 0)),
                "balanced": bool(final.get("money_balanced", True)),
            },
            "units": {
                "shipped_into_channel": final.get("units_shipped", 0),
                "sold_to_customers": final.get("units_sold", 0),
                "used_by_participants": final.get("units_used", 0),
                "held": final.get("units_held", 0),
                "stranded": final.get("units_stranded", 0),
                "returned_under_buyback": final.get("units_returned", 0),
                "negative_stock": final.get("negative_stock", 0),
                "gift_packs_bought": final.get("packs_bought", 0),
                "gift_packs_used": final.get("packs_used", 0),
                "balanced": bool(final.get("units_balanced", True)),
            },
        },
        "figures": figures,
        "monthly": {
            "month": labels,
            "active_by_level": {code: [r["active_by_level"][i] for r in rows] for i, code in enumerate(c.codes)},
            "active": [r["active"] for r in rows],
            "joins": [r["joins"] for r in rows],
            "exits": [r["exits"] for r in rows],
            "upgrades": [r["upgrades"] for r in rows],
            "ever_joined": [r["ever_joined"] for r in rows],
            "market_reached": [round(r["market_reached"], 6) for r in rows],
            "cash_collected": [yuan(r["collected"]) for r in rows],
            "brand_cash_flow": [yuan(r["brand_cash_flow"]) for r in rows],
            "brand_cash": [yuan(v) for v in brand_cash],
            "rewards_paid": [yuan(r["rewards"]) for r in rows],
            "rewards_paid_by_brand": [yuan(r["company_rewards"]) for r in rows],
            "prizes": [yuan(r["prizes"]) for r in rows],
            "buyback": [yuan(r["buyback"]) for r in rows],
            "payout_ratio": [share(r["company_rewards"] + r["prizes"], r["collected"]) for r in rows],
            "participant_purchases": [yuan(r["purchases"] + r["own_retail"]) for r in rows],
            "entry_and_upgrade_purchases": [yuan(r["purchases_entry"]) for r in rows],
            "retail_to_non_participants": [yuan(r["customer_retail"]) for r in rows],
            "qualification_purchases": [yuan(r["qualification"]) for r in rows],
            "units_to_customers": [r["units_retail"] for r in rows],
            "units_used": [r["units_used"] for r in rows],
            "units_into_channel": [r["units_company_to_agents"] for r in rows],
            "channel_inventory": inventory,
            "months_of_stock": months_of_stock,
            "internal_consumption_ratio": [share(r["units_used"], r["end_user_units"]) for r in rows],
            "non_participant_revenue_share": np_shares,
            "recruitment_funded_rewards": [yuan(r["recruitment_funded_rewards"]) for r in rows],
            "retail_funded_rewards": [yuan(r["retail_funded_rewards"]) for r in rows],
            "units_stranded": [r["units_stranded"] for r in rows],
            "unmet_retail_units": [r["units_unmet"] for r in rows],
        },
        "distributions": {
            "net_income_deciles": [yuan(_percentile(sorted_net, p)) for p in range(10, 100, 10)],
        },
    }
    report["_net"] = net  # for charts; dropped before writing
    return report
