"""The reward engine, rule by rule, on small trees computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from plans_testkit import at, by_beneficiary, order, plan_with, tree

from weishang.plans import (
    AgentExited,
    AgentJoined,
    AgentUpgraded,
    Engine,
    HierarchyView,
    InMemoryHierarchy,
    OrderCompleted,
    OrderRefunded,
    PeriodClosed,
    reverse_lines,
)

D = Decimal

# --- referral: share of the referee's purchases -----------------------------------------

PEER = """
rewards:
  - id: peer
    name: 平级推荐奖
    type: referral
    referee_level: same
    rates: [0.05, 0.02, 0.01]
"""


def test_referral_failing_generation_pays_nothing_and_nothing_is_compressed():
    plan = plan_with(PEER)
    # A(city) ← B(vip) ← C(city) ← D(city, buyer): gen 1 = C, gen 2 = B, gen 3 = A
    view = tree({1: ("city", None), 2: ("vip", 1), 3: ("city", 2), 4: ("city", 3)}, names={4: "王芳"})
    lines = Engine(plan).process(order("restock", "2000", buyer=4, order_id="R20250315-01"), view)
    assert by_beneficiary(lines) == {3: D("100.00"), 1: D("20.00")}  # 5% and 1%: A keeps generation 3's rate
    assert [(line.beneficiary, line.generation) for line in lines] == [(3, 1), (1, 3)]
    line = lines[0]
    assert (line.rule_id, line.kind, line.payer, line.plan_id, line.plan_version) == (
        "peer",
        "reward",
        "company",
        "test-plan",
        3,
    )
    assert line.explanation["rate"] == "0.05" and line.explanation["generation"] == 1
    assert line.explanation["buyer_level"] == "city" and line.explanation["beneficiary_level"] == "city"
    assert line.explanation["buyer_name"] == "王芳" and line.explanation["beneficiary_name"] == "#3"
    assert line.explanation_en == "¥100.00 = 5% × ¥2,000.00 order R20250315-01 of 王芳 (1st generation, peer)"
    assert line.explanation_zh == "¥100.00 = 王芳 的 ¥2,000.00 订单 R20250315-01 × 5%（第 1 代，平级推荐奖）"
    assert lines[1].explanation_en == "¥20.00 = 1% × ¥2,000.00 order R20250315-01 of 王芳 (3rd generation, peer)"


def test_two_generation_referral_with_the_first_failing():
    plan = plan_with(PEER.replace("[0.05, 0.02, 0.01]", "[0.05, 0.02]"))
    view = tree({1: ("city", None), 2: ("general", 1), 3: ("city", 2)})
    lines = Engine(plan).process(order("entry", "2000", buyer=3), view)
    assert by_beneficiary(lines) == {1: D("40.00")}  # gen 1 is a general: not the same level


@pytest.mark.parametrize(
    ("test", "paid"),
    [("same", {2: D("50.00")}), ("lower", {1: D("20.00")}), ("higher", {3: D("10.00")}), ("any", None)],
)
def test_referee_level_compares_buyer_and_each_beneficiary(test, paid):
    plan = plan_with(PEER.replace("same", test))
    # buyer 4 is city; gen 1 = 2 (city), gen 2 = 1 (general), gen 3 = 3 (vip)
    view = tree({3: ("vip", None), 1: ("general", 3), 2: ("city", 1), 4: ("city", 2)})
    lines = Engine(plan).process(order("restock", "1000", buyer=4), view)
    expected = paid if paid is not None else {2: D("50.00"), 1: D("20.00"), 3: D("10.00")}
    assert by_beneficiary(lines) == expected


def test_referral_ignores_retail_orders_and_consumers():
    plan = plan_with(PEER)
    view = tree({1: ("city", None), 2: ("city", 1)})
    assert Engine(plan).process(order("retail", "2000", buyer=2, seller=2), view) == []
    assert Engine(plan).process(order("restock", "2000", buyer=None), view) == []


def test_window_days_limits_referral_to_the_first_days_after_joining():
    plan = plan_with(PEER + "    window_days: 30\n")
    view = tree({1: ("city", None), 2: ("city", 1)}, joined="2025-01-01")  # joined at noon
    engine = Engine(plan)
    assert by_beneficiary(engine.process(order("restock", "1000", buyer=2, when="2025-01-20"), view)) == {1: D("50")}
    assert by_beneficiary(engine.process(order("restock", "1000", buyer=2, when="2025-01-31"), view)) == {1: D("50")}
    assert engine.process(order("restock", "1000", buyer=2, when="2025-02-01"), view) == []  # 31 days


def test_upline_payer_is_the_seller_or_the_company():
    plan = plan_with(PEER + "    payer: upline\n")
    view = tree({9: ("general", None), 1: ("city", 9), 2: ("city", 1)}, names={9: "张伟", 2: "李娜"})
    (line,) = Engine(plan).process(order("restock", "1000", buyer=2, seller=9, cost="400", order_id="O-9"), view)[1:]
    assert line.payer == 9
    assert line.explanation_en == "¥50.00 = 5% × ¥1,000.00 order O-9 of 李娜 (1st generation, peer); paid by 张伟"
    assert line.explanation_zh == "¥50.00 = 李娜 的 ¥1,000.00 订单 O-9 × 5%（第 1 代，平级推荐奖）；由 张伟 支付"
    (line,) = Engine(plan).process(order("restock", "1000", buyer=2, seller=None), view)
    assert line.payer == "company" and line.explanation_en.endswith("; paid by the company (it filled the order)")
    # the seller never pays itself: 1 fills 2's order and would be both payer and beneficiary
    lines = Engine(plan).process(order("restock", "1000", buyer=2, seller=1, cost="600"), view)
    assert [line.kind for line in lines] == ["margin"]


# --- referral: per head ---------------------------------------------------------------------

PER_HEAD = """
rewards:
  - id: gift
    type: referral
    base: per_head
    referee_level: any
    amounts: [100, 20]
"""


def test_per_head_pays_amounts_by_generation_on_joining():
    plan = plan_with(PER_HEAD, kind="social_mall")
    view = tree({1: ("city", None), 2: ("vip", 1), 3: ("vip", 2)})
    lines = Engine(plan).process(AgentJoined(event_id="join:3", agent=3, level="vip", at=at("2025-03-01")), view)
    assert by_beneficiary(lines) == {2: D("100.00"), 1: D("20.00")}
    assert lines[0].explanation["base"] == "per_head" and lines[0].source_event == "join:3"
    same = plan_with(PER_HEAD.replace("any", "same"), kind="social_mall")
    lines = Engine(same).process(AgentJoined(event_id="join:3", agent=3, level="vip", at=at("2025-03-01")), view)
    assert by_beneficiary(lines) == {2: D("100.00")}
    # per head is not paid on orders
    assert Engine(plan).process(order("entry", "398", buyer=3), view) == []


# --- retail commission ---------------------------------------------------------------------

RETAIL = """
rewards:
  - id: share
    type: retail_commission
    rates_by_level:
      city: [0.10, 0.03]
      vip: [0.05]
"""


def test_retail_commission_uses_each_beneficiarys_level():
    plan = plan_with(RETAIL)
    # bound agent 3 (vip) ← 2 (city) ← 1 (city)
    view = tree({1: ("city", None), 2: ("city", 1), 3: ("vip", 2)})
    lines = Engine(plan).process(order("retail", "500", bound=3, seller=None), view)
    assert by_beneficiary(lines) == {3: D("25.00"), 2: D("15.00")}  # 1 has no third rate
    assert [(line.beneficiary, line.generation) for line in lines] == [(3, 0), (2, 1)]
    assert lines[1].explanation["rates_from"] == "rates_by_level.city"
    # the same order bound to the city agent 2: 10% to 2, then 3% to 1
    lines = Engine(plan).process(order("retail", "500", bound=2), view)
    assert by_beneficiary(lines) == {2: D("50.00"), 1: D("15.00")}


def test_retail_commission_with_plain_rates_and_nothing_for_purchases():
    plan = plan_with("rewards:\n  - {id: share, type: retail_commission, rates: [0.1, 0.03]}\n")
    view = tree({1: ("vip", None), 2: ("vip", 1)})
    assert by_beneficiary(Engine(plan).process(order("retail", "99", bound=2), view)) == {2: D("9.90"), 1: D("2.97")}
    assert Engine(plan).process(order("restock", "99", buyer=2), view) == []
    assert Engine(plan).process(order("retail", "99", bound=None, seller=None), view) == []
    # an agent buying through their own link earns no commission on themselves
    assert by_beneficiary(Engine(plan).process(order("retail", "99", buyer=2, bound=2), view)) == {1: D("2.97")}


# --- self-purchase rebate --------------------------------------------------------------------

REBATE = """
rewards:
  - id: rebate
    type: self_purchase_rebate
    rates_by_level: {city: 0.03, vip: 0.02}
"""


def test_self_purchase_rebate_by_the_buyers_level():
    plan = plan_with(REBATE)
    view = tree({1: ("city", None), 2: ("vip", 1), 3: ("general", None)})
    engine = Engine(plan)
    assert by_beneficiary(engine.process(order("restock", "2000", buyer=1), view)) == {1: D("60.00")}
    assert by_beneficiary(engine.process(order("entry", "298", buyer=2), view)) == {2: D("5.96")}
    assert engine.process(order("restock", "2000", buyer=3), view) == []  # no rate for general
    assert engine.process(order("retail", "298", buyer=2, bound=2), view) == []  # tiered: retail is not a purchase
    mall = Engine(plan_with(REBATE, kind="social_mall"))
    assert by_beneficiary(mall.process(order("retail", "298", buyer=2, bound=2), view)) == {2: D("5.96")}
    flat = Engine(plan_with(REBATE.replace("rates_by_level: {city: 0.03, vip: 0.02}", "rate: 0.01")))
    assert by_beneficiary(flat.process(order("upgrade", "20000", buyer=3), view)) == {3: D("200.00")}


# --- team volume with differential ----------------------------------------------------------

LADDER = """
rewards:
  - id: team
    type: team_volume
    period: month
    metric: team_purchase
    ladder:
      - {from: 100000, rate: 0.03}
      - {from: 300000, rate: 0.05}
      - {from: 1000000, rate: 0.08}
    differential: true
"""
MARCH = PeriodClosed(event_id="close:month:2025-03", period="month", start=date(2025, 3, 1), end=date(2025, 3, 31))


def _three_level_tree() -> InMemoryHierarchy:
    # A(1) ← B(2), C(3); B ← D(4). Personal purchases in March: A 100k, B 200k, C 50k, D 150k.
    view = tree(
        {1: ("partner", None), 2: ("general", 1), 3: ("general", 1), 4: ("province", 2)},
        names={1: "王芳", 2: "李娜", 3: "张伟", 4: "刘洋"},
    )
    for agent, amount in [(1, "100000"), (2, "200000"), (3, "50000"), (4, "150000")]:
        view.add_order(order("restock", amount, buyer=agent, when="2025-03-10"))
    view.add_order(order("restock", "999999", buyer=4, when="2025-04-01"))  # next month: not counted
    view.add_order(order("retail", "999999", bound=4, when="2025-03-02"))  # retail: not a purchase
    return view


def test_team_ladder_with_differential_on_a_three_level_tree():
    lines = Engine(plan_with(LADDER)).process(MARCH, _three_level_tree())
    # team volumes: D 150k → 3% = 4,500; B 350k → 5% = 17,500 − 4,500 = 13,000;
    # C 50k → below the ladder; A 500k → 5% = 25,000 − 17,500 (B) − 0 (C) = 7,500
    assert by_beneficiary(lines) == {4: D("4500.00"), 2: D("13000.00"), 1: D("7500.00")}
    total = sum(line.amount for line in lines)
    assert total == D("25000.00") == D("0.05") * D("500000")  # the tree pays one rate, once
    assert total <= D("0.08") * D("500000")
    a = next(line for line in lines if line.beneficiary == 1)
    assert a.explanation["volume"] == "500000" and a.explanation["ladder_step"] == 2
    assert a.explanation["rate"] == "0.05" and a.explanation["differential_subtracted"] == "17500.00"
    assert "agent 2: 5% × 350000.00 = 17500.00" in a.explanation["subtracted_detail"]
    assert a.explanation_en == (
        "¥7,500.00 = 5% × team volume ¥500,000.00 (step 2) − ¥17,500.00 earned in sub-teams of 李娜 (team, 2025-03)"
    )
    assert a.explanation_zh == (
        "¥7,500.00 = 团队进货额 ¥500,000.00 × 5%（第 2 档） − 李娜 的下级团队已得 ¥17,500.00（团队奖，2025-03）"
    )
    d = next(line for line in lines if line.beneficiary == 4)  # nothing below D reached a step
    assert d.explanation_en == "¥4,500.00 = 3% × team volume ¥150,000.00 (step 1) (team, 2025-03)"


def test_team_ladder_without_differential_pays_every_level_its_full_rate():
    lines = Engine(plan_with(LADDER.replace("differential: true", "differential: false"))).process(
        MARCH, _three_level_tree()
    )
    assert by_beneficiary(lines) == {4: D("4500.00"), 2: D("17500.00"), 1: D("25000.00")}


def test_team_ladder_only_on_its_own_period_and_refunds_excluded():
    view = _three_level_tree()
    quarter = PeriodClosed(event_id="close:q1", period="quarter", start=date(2025, 1, 1), end=date(2025, 3, 31))
    assert Engine(plan_with(LADDER)).process(quarter, view) == []
    refunded = next(o for o in view.orders if o.buyer == 4 and o.amount == D("150000"))
    view.refund(refunded.order_id)
    lines = Engine(plan_with(LADDER)).process(MARCH, view)
    # D 0; B 200k → 3% = 6,000; A 350k → 5% = 17,500 − 6,000 = 11,500
    assert by_beneficiary(lines) == {2: D("6000.00"), 1: D("11500.00")}


# --- target award -------------------------------------------------------------------------------

TRIP = """
rewards:
  - id: trip
    type: target_award
    period: quarter
    metric: personal_purchase
    threshold: 50000
    prize: {kind: trip, name: 泰国游, cost: 2000}
"""


def test_target_award_gives_a_prize_to_everyone_over_the_threshold():
    view = tree({1: ("general", None), 2: ("city", 1), 3: ("city", 1)}, names={1: "王芳"})
    view.add_order(order("restock", "30000", buyer=1, when="2025-01-05"))
    view.add_order(order("restock", "30000", buyer=1, when="2025-03-30"))  # 60k in Q1
    view.add_order(order("restock", "40000", buyer=2, when="2025-02-01"))  # 40k
    view.add_order(order("restock", "50000", buyer=3, when="2025-04-01"))  # Q2
    q1 = PeriodClosed(event_id="close:2025-Q1", period="quarter", start=date(2025, 1, 1), end=date(2025, 3, 31))
    (line,) = Engine(plan_with(TRIP)).process(q1, view)
    assert (line.beneficiary, line.amount, line.kind, line.rule_id) == (1, D("2000.00"), "prize", "trip")
    assert line.explanation["prize_kind"] == "trip" and line.explanation["prize_name"] == "泰国游"
    assert line.explanation["figure"] == "60000"
    assert line.explanation["beneficiary_name"] == "王芳"
    assert line.explanation_en == (
        "¥2,000.00 = cost of trip 泰国游: 王芳's personal purchase ¥60,000.00 ≥ ¥50,000.00 (trip, 2025-Q1)"
    )
    assert line.explanation_zh == (
        "¥2,000.00 = 旅游“泰国游”的品牌成本：王芳 的个人进货额 ¥60,000.00 ≥ ¥50,000.00（目标奖，2025-Q1）"
    )
    assert Engine(plan_with(TRIP)).process(MARCH, view) == []  # a month close does not settle a quarter award
    cash = plan_with(
        TRIP.replace("{kind: trip, name: 泰国游, cost: 2000}", "{kind: cash, amount: 888}").replace(
            "threshold: 50000", "threshold: 40000"
        )
    )
    lines = Engine(cash).process(q1, view)
    assert by_beneficiary(lines) == {1: D("888.00"), 2: D("888.00")}
    assert lines[1].explanation_en == (
        "¥888.00 cash prize: #2's personal purchase ¥40,000.00 ≥ ¥40,000.00 (trip, 2025-Q1)"
    )


def test_target_award_on_new_referrals_counts_heads():
    plan = plan_with(TRIP.replace("personal_purchase", "new_referrals").replace("threshold: 50000", "threshold: 2"))
    view = tree({1: ("general", None)}, joined="2024-12-01")
    view.add_agent(2, "vip", referrer=1, joined_at=at("2025-01-10"))
    view.add_agent(3, "vip", referrer=1, joined_at=at("2025-02-10"))
    q1 = PeriodClosed(event_id="close:2025-Q1", period="quarter", start=date(2025, 1, 1), end=date(2025, 3, 31))
    (line,) = Engine(plan).process(q1, view)
    assert (line.beneficiary, line.amount) == (1, D("2000.00"))
    assert line.explanation_en == "¥2,000.00 = cost of trip 泰国游: #1's new referrals 2 ≥ 2 (trip, 2025-Q1)"


# --- margin ---------------------------------------------------------------------------------------


def test_margin_goes_to_the_seller_and_is_paid_by_the_buyer():
    plan = plan_with("")
    view = tree({1: ("general", None), 2: ("city", 1)}, names={1: "张伟", 2: "李娜"})
    # 10 × GLOW-30ML: city pays 1,700, the general's cost is 10 × 110 = 1,100
    (line,) = Engine(plan).process(order("restock", "1700", buyer=2, seller=1, cost="1100", order_id="O-M"), view)
    assert (line.beneficiary, line.amount, line.kind, line.rule_id, line.payer) == (
        1,
        D("600.00"),
        "margin",
        "margin",
        2,
    )
    assert line.explanation_en == (
        "¥600.00 = 李娜 paid ¥1,700.00 − 张伟's cost ¥1,100.00 "
        "(margin on order O-M, paid by the buyer, not by the brand)"
    )
    assert line.explanation_zh == (
        "¥600.00 = 李娜 支付 ¥1,700.00 − 张伟 的成本 ¥1,100.00（订单 O-M 的差价利润，由买方支付，非品牌奖励）"
    )
    (line,) = Engine(plan).process(order("retail", "298", seller=2, bound=2, cost="170", order_id="O-C"), view)
    assert (line.beneficiary, line.amount, line.payer) == (2, D("128.00"), "customer")
    assert line.explanation_en.startswith("¥128.00 = a customer paid ¥298.00 − 李娜's cost ¥170.00")
    assert Engine(plan).process(order("restock", "1700", buyer=2, seller=None), view) == []


# --- buyback on exit --------------------------------------------------------------------------------


def test_buyback_refunds_lots_bought_within_the_window():
    plan = plan_with("", returns="returns: {window_days: 365, refund_rate: 0.90}\n")
    exit_ = AgentExited(
        event_id="exit:7",
        agent=7,
        at=at("2025-06-30"),
        stock_lots=((at("2025-01-10"), D("1000")), (at("2024-05-01"), D("500")), (at("2024-06-30", 13), D("100"))),
    )
    (line,) = Engine(plan).process(exit_, InMemoryHierarchy())
    assert (line.beneficiary, line.amount, line.kind, line.rule_id, line.payer) == (
        7,
        D("990.00"),
        "buyback",
        "returns",
        "company",
    )
    assert line.explanation["lots_counted"] == 2 and line.explanation["lots_excluded"] == 1
    assert line.explanation_en == (
        "¥990.00 = 90% × ¥1,100.00 stock #7 bought in the 365 days before exit "
        "(2 lots; 1 older lot not bought back; buyback)"
    )
    assert line.explanation_zh == (
        "¥990.00 = #7 退出前 365 天内进货的库存 ¥1,100.00 × 90%（2 批，另有 1 批超期不回购；退出回购）"
    )
    assert Engine(plan_with("")).process(exit_, InMemoryHierarchy()) == []  # no returns section: no buyback


# --- rounding, events without lines, idempotency ---------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "amount", "expected"),
    [
        ("down", "100.10", "5.00"),
        ("half_up", "100.10", "5.01"),
        ("half_even", "100.10", "5.00"),
        ("down", "100.30", "5.01"),
        ("half_up", "100.30", "5.02"),
        ("half_even", "100.30", "5.02"),
        ("down", "123.45", "6.17"),
        ("half_up", "123.45", "6.17"),
        ("half_even", "123.45", "6.17"),
    ],
)
def test_each_line_is_rounded_once_as_settlement_says(mode, amount, expected):
    plan = plan_with(PEER.replace("[0.05, 0.02, 0.01]", "[0.05]"), rounding=mode)
    view = tree({1: ("city", None), 2: ("city", 1)})
    (line,) = Engine(plan).process(order("restock", amount, buyer=2), view)
    assert line.amount == D(expected) and line.amount.as_tuple().exponent == -2
    assert line.explanation["full_amount"] == str(D(amount) * D("0.05")) and line.explanation["rounding"] == mode
    if amount == "100.10":
        how = {"down": "rounded down", "half_up": "rounded half-up", "half_even": "rounded half-even"}[mode]
        assert line.explanation_en.startswith(f"¥{expected} = 5% × ¥100.10 order ")
        assert line.explanation_en.endswith(f"(1st generation, peer); exact ¥5.005, {how}")
        assert line.explanation_zh.endswith(
            "；精确值 ¥5.005，"
            + {"down": "向下", "half_up": "四舍五入", "half_even": "四舍六入五成双"}[mode]
            + "取整到分"
        )


def test_lines_that_round_to_zero_are_not_emitted():
    plan = plan_with(PEER.replace("[0.05, 0.02, 0.01]", "[0.01]"))
    view = tree({1: ("city", None), 2: ("city", 1)})
    assert Engine(plan).process(order("restock", "0.99", buyer=2), view) == []  # 0.0099 rounds down to 0


def test_refunds_and_upgrades_emit_nothing_themselves():
    plan = plan_with(PEER)
    view = tree({1: ("city", None)})
    assert Engine(plan).process(OrderRefunded(event_id="r1", order_id="O-1", at=at("2025-03-01")), view) == []
    assert (
        Engine(plan).process(
            AgentUpgraded(event_id="u1", agent=1, from_level="city", to_level="province", at=at("2025-03-01")), view
        )
        == []
    )


def _busy_plan():
    return plan_with(PEER + RETAIL.replace("rewards:\n", "") + REBATE.replace("rewards:\n", ""))


def test_processing_twice_gives_the_same_lines_with_unique_keys():
    plan = _busy_plan()
    view = tree({1: ("city", None), 2: ("city", 1), 3: ("vip", 2), 4: ("city", 3)})
    events = [order("restock", "2000", buyer=4, seller=1, cost="1500"), order("retail", "298", bound=3, buyer=None)]
    for event in events:
        first, second = Engine(plan).process(event, view), Engine(plan).process(event, view)
        assert first == second and first
        keys = [line.key for line in first]
        assert len(keys) == len(set(keys))
        assert all(key[0] == event.event_id for key in keys)


def test_reverse_lines_negates_and_replays_to_the_same_keys():
    plan = _busy_plan()
    view = tree({1: ("city", None), 2: ("city", 1), 3: ("vip", 2), 4: ("city", 3)})
    lines = Engine(plan).process(order("restock", "2000", buyer=4, seller=1, cost="1500", order_id="O-R"), view)
    reversed_ = reverse_lines(lines, "refund:O-R")
    assert sorted((line.rule_id, line.beneficiary, line.generation, -line.amount) for line in reversed_) == sorted(
        (line.rule_id, line.beneficiary, line.generation, line.amount) for line in lines
    )
    assert {line.source_event for line in reversed_} == {"refund:O-R"}
    assert sum(line.amount for line in lines + reversed_) == 0
    assert reverse_lines(lines, "refund:O-R") == reversed_  # a replay: same lines, same keys
    assert reverse_lines(lines + reversed_, "refund:O-R") == reversed_  # stored reversals are not reversed again
    assert reversed_[0].explanation["reverses"] == "order-completed:O-R"
    assert len({line.key for line in reversed_}) == len(reversed_)


def test_the_in_memory_view_is_a_hierarchy_view():
    assert isinstance(InMemoryHierarchy(), HierarchyView)


def test_events_refuse_floats_and_unknown_kinds():
    with pytest.raises(TypeError, match="not float"):
        OrderCompleted(
            event_id="e", order_id="o", kind="restock", buyer=1, seller=None, amount=1.5, at=at("2025-03-01")
        )
    with pytest.raises(ValueError, match="order kind"):
        order("wholesale", "10")
