"""Small plans and scenarios for the simulator tests (a few hundred agents, quick to replay exactly)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from weishang.plans import load_plan, parse_plan
from weishang.plans.simulate import parse_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EXAMPLE_NAMES = ("glow-tiered", "glow-social-mall", "glow-retail-first")


def example_plan(name: str):
    return load_plan(EXAMPLES / "plans" / f"{name}.yaml")


def example_scenario_path(name: str) -> Path:
    return EXAMPLES / "scenarios" / f"{name}.yaml"


def scenario(text: str, name: str = "test-scenario.yaml"):
    return parse_scenario(textwrap.dedent(text), name)


# A few hundred agents per example plan, with assumptions pushed so that every rule pays.
SMALL = {
    "glow-tiered": """\
        months: 24
        seed: 3
        market_size: 500
        founders: {partner: 1, general: 2, province: 2}
        recruitment:
          contacts_per_agent_month: 6
          join_probability: 0.08
          entry_level_mix: {vip: 0.6, city: 0.3, province: 0.1}
        retail:
          customers_per_agent_month: {mean: 2, sd: 1.5}
          own_use_units_month: 1
        restock_policy: {target_months_of_stock: 2, buy_to_upgrade: true, upgrade_reach: 0.5}
        attrition: {base_monthly: 0.05, loss_sensitivity: 0.5}
        campaigns:
          - {month: 2, kind: meeting, extra_join_probability: 0.05, cost: 30000}
        """,
    "glow-social-mall": """\
        months: 24
        seed: 5
        market_size: 600
        founders: {shopkeeper: 2, member: 8}
        recruitment:
          contacts_per_agent_month: 5
          join_probability: 0.1
        retail:
          customers_per_agent_month: {mean: 1.5, sd: 2}
          own_use_units_month: 1
        restock_policy: {buy_to_upgrade: true, upgrade_reach: 0.6}
        attrition: {base_monthly: 0.04, loss_sensitivity: 0.5}
        product: {sku: GLOW-50G}
        """,
    "glow-retail-first": """\
        months: 24
        seed: 11
        market_size: 500
        founders: {partner: 1, general: 2, city: 4}
        recruitment:
          contacts_per_agent_month: 5
          join_probability: 0.08
        retail:
          customers_per_agent_month: {mean: 8, sd: 30}
          own_use_units_month: 1
        restock_policy: {target_months_of_stock: 2}
        attrition: {base_monthly: 0.06, loss_sensitivity: 0.5}
        """,
}

# Rule options the example plans do not use: upline payer, referral window and referee tests,
# per-level commissions over three generations, a flat rebate, team_retail without differential,
# quarter and year periods, awards on retail, team volume and new referrals, half-up rounding,
# rates with four decimals, a 45-day buyback, all-mode upgrades on referrals, spending and retail.
KITCHEN_TIERED = """\
id: kitchen-tiered
version: 2
name: 测试 全功能层级
kind: tiered
levels:
  - {code: top, name: 顶级, entry: {first_order_amount: 30000}, discount: 0.35, min_restock_qty: 30}
  - {code: mid, name: 中级, entry: {first_order_amount: 3000}, discount: 0.55, min_restock_qty: 6}
  - {code: low, name: 初级, entry: {first_order_amount: 333.33}, discount: 0.77, min_restock_qty: 1}
prices:
  SERUM: {retail: 199.99}
supply: nearest_higher_upline
rewards:
  - id: up-referral
    type: referral
    referee_level: lower
    base: referee_purchase
    rates: [0.0333, 0.0117]
    payer: upline
    window_days: 100
  - {id: high-referral, type: referral, referee_level: higher, base: referee_purchase, rates: [0.021]}
  - {id: head, type: referral, referee_level: any, base: per_head, amounts: [33.33, 11.11, 2.22], payer: upline}
  - id: share
    type: retail_commission
    rates_by_level: {top: [0.0725, 0.0333, 0.0111], mid: [0.0625, 0.0222], low: [0.0515]}
  - {id: rebate, type: self_purchase_rebate, rate: 0.0175}
  - id: retail-team
    type: team_volume
    period: quarter
    metric: team_retail
    differential: false
    ladder: [{from: 1000, rate: 0.0125}, {from: 20000, rate: 0.0275}]
  - id: purchase-team
    type: team_volume
    period: month
    ladder: [{from: 5000, rate: 0.0333}, {from: 50000, rate: 0.0555}]
  - id: star
    type: target_award
    period: month
    metric: personal_retail
    threshold: 1500.5
    prize: {kind: cash, amount: 88.88}
  - id: builder
    type: target_award
    period: quarter
    metric: team_purchase
    threshold: 30000
    prize: {kind: goods, name: 礼盒, cost: 300}
  - id: recruiter
    type: target_award
    period: year
    metric: new_referrals
    threshold: 4
    prize: {kind: trip, cost: 1500}
upgrades:
  - to: mid
    any:
      - direct_referrals: 4
      - retail_sales: 3000
      - cumulative_purchase: 2500
  - to: top
    all:
      - same_level_referrals: 2
      - team_volume: {period: quarter, amount: 20000}
    top_up: true
settlement: {rounding: half_up}
returns: {window_days: 45, refund_rate: 0.85}
"""

KITCHEN_MALL = """\
id: kitchen-mall
version: 1
name: 测试 全功能商城
kind: social_mall
levels:
  - {code: boss, name: 老板, entry: {free: true}, discount: 0.6}
  - {code: shop, name: 店主, entry: {first_order_amount: 500}, discount: 0.75}
  - {code: fan, name: 粉丝, entry: {gift_pack: PACK}, discount: 0.9}
prices:
  PACK: {retail: 299.9}
  CREAM: {retail: 129.9}
supply: cloud
rewards:
  - {id: same-referral, type: referral, referee_level: same, base: referee_purchase, rates: [0.0425], payer: company}
  - {id: pack-bonus, type: referral, base: per_head, amounts: [50], referee_level: lower}
  - {id: share, type: retail_commission, rates: [0.1255, 0.0415]}
  - id: rebate
    type: self_purchase_rebate
    rates_by_level: {boss: 0.1225, shop: 0.0875}
  - id: ladder
    type: team_volume
    period: month
    metric: team_purchase
    ladder: [{from: 800, rate: 0.015}, {from: 3000, rate: 0.0355}]
upgrades:
  - to: shop
    any: [{cumulative_spend: 900}, {direct_referrals: 3}]
  - to: boss
    all: [{direct_referrals: 5}, {cumulative_spend: 2500}]
    top_up: true
settlement: {rounding: half_even}
returns: {window_days: 60, refund_rate: 0.5}
"""

KITCHEN_SCENARIO = """\
months: 26
seed: 13
start: 2025-11
market_size: 450
founders: {top: 1, mid: 2, low: 3}
recruitment:
  contacts_per_agent_month: 5.5
  join_probability: 0.09
  entry_level_mix: {low: 0.7, mid: 0.25, top: 0.05}
retail:
  customers_per_agent_month: {mean: 3, sd: 4}
  units_per_customer: 2
  own_use_units_month: 1
restock_policy: {target_months_of_stock: 1.5, buy_to_upgrade: true, upgrade_reach: 0.6}
attrition: {base_monthly: 0.05, loss_sensitivity: 0.8}
campaigns:
  - {month: 3, kind: promotion, extra_join_probability: 0.03, retail_boost: 0.5, cost: 1000}
"""

KITCHEN_MALL_SCENARIO = """\
months: 25
seed: 17
start: 2026-02
market_size: 420
founders: {boss: 1, shop: 2, fan: 5}
recruitment:
  contacts_per_agent_month: 6
  join_probability: 0.1
  entry_level_mix: {fan: 0.8, shop: 0.2}
retail:
  customers_per_agent_month: {mean: 1, sd: 2}
  own_use_units_month: 2
restock_policy: {buy_to_upgrade: true, upgrade_reach: 0.7}
attrition: {base_monthly: 0.05, loss_sensitivity: 0.6}
product: {sku: CREAM, unit_cost: 20}
"""


def kitchen():
    return parse_plan(KITCHEN_TIERED, "kitchen-tiered.yaml"), scenario(KITCHEN_SCENARIO, "kitchen.yaml")


def kitchen_mall():
    return parse_plan(KITCHEN_MALL, "kitchen-mall.yaml"), scenario(KITCHEN_MALL_SCENARIO, "kitchen-mall-s.yaml")
