"""Inactive agents earn nothing, and explanations name people.

For every rule kind: a near miss (the agent would have earned, but is inactive: no line, and a
generational walk goes on with the next generation's own rate) and a hit (the same agent,
active, gets the line).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from plans_testkit import at, by_beneficiary, order, plan_with, tree

from weishang.plans import AgentExited, AgentJoined, Engine, InMemoryHierarchy, PeriodClosed, reverse_lines

D = Decimal
MARCH = PeriodClosed(event_id="close:month:2025-03", period="month", start=date(2025, 3, 1), end=date(2025, 3, 31))
Q1 = PeriodClosed(event_id="close:2025-Q1", period="quarter", start=date(2025, 1, 1), end=date(2025, 3, 31))

REFERRAL = """
rewards:
  - id: peer-referral
    name: 平级推荐奖
    type: referral
    referee_level: same
    rates: [0.05, 0.02]
"""


# --- the view -------------------------------------------------------------------------------------


def test_in_memory_status_and_names():
    view = tree({1: ("city", None), 2: ("city", 1), 3: ("vip", 2)}, names={1: "王芳"}, inactive=[2])
    assert (view.is_active(1), view.is_active(2), view.is_active(3)) == (True, False, True)
    assert (view.display_name(1), view.display_name(2)) == ("王芳", "#2")
    view.set_active(2, True)
    view.set_active(3, False)
    assert (view.is_active(2), view.is_active(3)) == (True, False)
    view.set_name(2, "李娜")
    assert view.display_name(2) == "李娜"
    view.set_name(2, None)
    assert view.display_name(2) == "#2"
    view.apply(AgentExited(event_id="exit:1", agent=1, at=at("2025-04-01")))
    assert not view.is_active(1) and view.exited == {1}
    view.add_agent(4, "vip", referrer=3, joined_at=at("2025-04-02"), name="刘洋")
    assert view.display_name(4) == "刘洋" and view.is_active(4)
    assert InMemoryHierarchy().display_name(99) == "#99"  # names are cosmetic: unknown agents get one too


# --- referral: share of the referee's purchases ----------------------------------------------------


def test_referral_inactive_first_generation_is_skipped_without_compression():
    plan = plan_with(REFERRAL)
    spec = {1: ("city", None), 2: ("city", 1), 3: ("city", 2)}
    names = {1: "王芳", 2: "张伟", 3: "李娜"}
    event = order("restock", "3000", buyer=3, order_id="R1")
    # near miss: 张伟 (generation 1) is suspended: no line; 王芳 keeps generation 2's 2%, not 5%
    lines = Engine(plan).process(event, tree(spec, names=names, inactive=[2]))
    assert by_beneficiary(lines) == {1: D("60.00")}
    assert [(line.beneficiary, line.generation) for line in lines] == [(1, 2)]
    assert lines[0].explanation_en == "¥60.00 = 2% × ¥3,000.00 order R1 of 李娜 (2nd generation, peer referral)"
    assert lines[0].explanation_zh == "¥60.00 = 李娜 的 ¥3,000.00 订单 R1 × 2%（第 2 代，平级推荐奖）"
    # hit: active again, 张伟 earns generation 1's 5%
    lines = Engine(plan).process(event, tree(spec, names=names))
    assert by_beneficiary(lines) == {2: D("150.00"), 1: D("60.00")}
    assert lines[0].explanation_en == "¥150.00 = 5% × ¥3,000.00 order R1 of 李娜 (1st generation, peer referral)"
    assert lines[0].explanation["beneficiary_name"] == "张伟" and lines[0].explanation["buyer_name"] == "李娜"


def test_referral_inactive_second_generation_near_miss_and_hit():
    plan = plan_with(REFERRAL)
    spec = {1: ("city", None), 2: ("city", 1), 3: ("city", 2)}
    event = order("restock", "3000", buyer=3)
    assert by_beneficiary(Engine(plan).process(event, tree(spec, inactive=[1]))) == {2: D("150.00")}
    assert by_beneficiary(Engine(plan).process(event, tree(spec))) == {2: D("150.00"), 1: D("60.00")}


# --- referral: per head ------------------------------------------------------------------------------

PER_HEAD = """
rewards:
  - id: gift
    name: 礼包推荐奖
    type: referral
    base: per_head
    referee_level: any
    amounts: [100, 20]
"""


def test_per_head_inactive_referrer_near_miss_and_hit():
    plan = plan_with(PER_HEAD, kind="social_mall")
    spec = {1: ("city", None), 2: ("vip", 1), 3: ("vip", 2)}
    joined = AgentJoined(event_id="join:3", agent=3, level="vip", at=at("2025-03-01"))
    lines = Engine(plan).process(joined, tree(spec, names={3: "刘洋"}, inactive=[2]))
    assert by_beneficiary(lines) == {1: D("20.00")}  # generation 2's own amount
    assert lines[0].explanation_en == "¥20.00 for new agent 刘洋 joining as vip (2nd generation, gift)"
    assert lines[0].explanation_zh == "¥20.00：新代理 刘洋 以特约加入（第 2 代，礼包推荐奖）"
    assert lines[0].explanation["recruit_name"] == "刘洋"
    assert by_beneficiary(Engine(plan).process(joined, tree(spec))) == {2: D("100.00"), 1: D("20.00")}


# --- retail commission ---------------------------------------------------------------------------------

RETAIL = "rewards:\n  - {id: retail-share, type: retail_commission, rates: [0.10, 0.03]}\n"


def test_retail_commission_inactive_bound_agent_near_miss_and_hit():
    plan = plan_with(RETAIL)
    spec = {1: ("city", None), 2: ("vip", 1)}
    event = order("retail", "500", bound=2, order_id="S-1")
    lines = Engine(plan).process(event, tree(spec, names={1: "王芳", 2: "张伟"}, inactive=[2]))
    assert by_beneficiary(lines) == {1: D("15.00")}  # the referrer keeps generation 1's 3%
    assert lines[0].explanation_en == (
        "¥15.00 = 3% × ¥500.00 retail order S-1 of a customer of 张伟 (1st generation, retail share)"
    )
    assert lines[0].explanation_zh == "¥15.00 = 张伟 的顾客的 ¥500.00 零售单 S-1 × 3%（第 1 代，分享佣金）"
    lines = Engine(plan).process(event, tree(spec, names={1: "王芳", 2: "张伟"}))
    assert by_beneficiary(lines) == {2: D("50.00"), 1: D("15.00")}
    assert lines[0].explanation_en == (
        "¥50.00 = 10% × ¥500.00 retail order S-1 of a customer of 张伟 (own customer, retail share)"
    )
    assert lines[0].explanation["bound_agent_name"] == "张伟"


def test_retail_commission_inactive_upline_near_miss_and_hit():
    plan = plan_with(RETAIL)
    spec = {1: ("city", None), 2: ("vip", 1)}
    event = order("retail", "500", bound=2)
    assert by_beneficiary(Engine(plan).process(event, tree(spec, inactive=[1]))) == {2: D("50.00")}
    assert by_beneficiary(Engine(plan).process(event, tree(spec))) == {2: D("50.00"), 1: D("15.00")}


# --- self-purchase rebate --------------------------------------------------------------------------------

REBATE = "rewards:\n  - {id: self-rebate, type: self_purchase_rebate, rates_by_level: {city: 0.03}}\n"


def test_rebate_inactive_buyer_near_miss_and_hit():
    plan = plan_with(REBATE)
    event = order("restock", "2000", buyer=1, order_id="R7")
    assert Engine(plan).process(event, tree({1: ("city", None)}, inactive=[1])) == []
    (line,) = Engine(plan).process(event, tree({1: ("city", None)}, names={1: "王芳"}))
    assert line.amount == D("60.00")
    assert line.explanation_en == "¥60.00 = 3% × ¥2,000.00 own order R7 of 王芳 (city, self rebate)"
    assert line.explanation_zh == "¥60.00 = 王芳 自购 ¥2,000.00 订单 R7 × 3%（市代，自购返利）"


# --- team volume -------------------------------------------------------------------------------------------

LADDER = """
rewards:
  - id: team-ladder
    type: team_volume
    period: month
    metric: team_purchase
    ladder:
      - {from: 100000, rate: 0.03}
      - {from: 300000, rate: 0.05}
    differential: true
"""
NAMES = {1: "王芳", 2: "李娜", 3: "张伟", 4: "刘洋"}


def _team(inactive=()) -> InMemoryHierarchy:
    # 王芳(1) ← 李娜(2), 张伟(3); 李娜 ← 刘洋(4). March purchases: 100k, 200k, 150k, 150k.
    view = tree(
        {1: ("partner", None), 2: ("general", 1), 3: ("general", 1), 4: ("province", 2)}, names=NAMES, inactive=inactive
    )
    for agent, amount in [(1, "100000"), (2, "200000"), (3, "150000"), (4, "150000")]:
        view.add_order(order("restock", amount, buyer=agent, when="2025-03-10"))
    return view


def test_team_ladder_all_active_names_every_sub_team():
    lines = Engine(plan_with(LADDER)).process(MARCH, _team())
    # 刘洋 150k → 4,500; 李娜 350k → 17,500 − 4,500; 张伟 150k → 4,500; 王芳 600k → 30,000 − 17,500 − 4,500
    assert by_beneficiary(lines) == {4: D("4500.00"), 2: D("13000.00"), 3: D("4500.00"), 1: D("8000.00")}
    top = next(line for line in lines if line.beneficiary == 1)
    assert top.explanation_en == (
        "¥8,000.00 = 5% × team volume ¥600,000.00 (step 2) − ¥22,000.00 earned in sub-teams of 李娜, 张伟 "
        "(team ladder, 2025-03)"
    )
    assert top.explanation_zh == (
        "¥8,000.00 = 团队进货额 ¥600,000.00 × 5%（第 2 档） − 李娜、张伟 的下级团队已得 ¥22,000.00（团队奖，2025-03）"
    )


def test_team_ladder_inactive_child_gets_nothing_and_the_upline_still_subtracts_it():
    lines = Engine(plan_with(LADDER)).process(MARCH, _team(inactive=[2]))
    # 李娜's 13,000 is not paid and not passed up: 王芳 still earns 8,000 (the brand keeps 13,000)
    assert by_beneficiary(lines) == {4: D("4500.00"), 3: D("4500.00"), 1: D("8000.00")}
    top = next(line for line in lines if line.beneficiary == 1)
    assert top.explanation["differential_subtracted"] == "22000.00"
    assert "agent 2: 5% × 350000.00 = 17500.00 (inactive: kept by the brand)" in top.explanation["subtracted_detail"]
    assert top.explanation_en == (
        "¥8,000.00 = 5% × team volume ¥600,000.00 (step 2) − ¥22,000.00 earned in sub-teams of "
        "李娜 (inactive), 张伟 (team ladder, 2025-03)"
    )
    assert "李娜（已停用）、张伟 的下级团队已得 ¥22,000.00" in top.explanation_zh


def test_team_ladder_inactive_top_near_miss_and_without_differential():
    assert 1 not in by_beneficiary(Engine(plan_with(LADDER)).process(MARCH, _team(inactive=[1])))
    flat = plan_with(LADDER.replace("differential: true", "differential: false"))
    assert by_beneficiary(Engine(flat).process(MARCH, _team(inactive=[1, 4]))) == {2: D("17500.00"), 3: D("4500.00")}
    assert by_beneficiary(Engine(flat).process(MARCH, _team())) == {
        1: D("30000.00"),
        2: D("17500.00"),
        3: D("4500.00"),
        4: D("4500.00"),
    }


def test_team_ladder_sentence_stays_within_300_characters():
    long = {n: f"代理{n:03d}号全名很长很长很长" for n in range(2, 40)}
    spec = {1: ("partner", None)} | {n: ("general", 1) for n in long}
    view = tree(spec, names={1: "王芳"} | long)
    for agent in long:
        view.add_order(order("restock", "100000", buyer=agent, when="2025-03-10"))
    lines = Engine(plan_with(LADDER)).process(MARCH, view)
    top = next(line for line in lines if line.beneficiary == 1)
    assert top.amount == D("76000.00")  # 5% × 3,800,000 − 38 × 3,000
    for text in (top.explanation_en, top.explanation_zh):
        assert len(text) <= 300, len(text)
        assert "…" in text and "代理002号" in text
    assert top.explanation_en.startswith("¥76,000.00 = 5% × team volume ¥3,800,000.00 (step 2) − ¥114,000.00 earned")
    assert top.explanation_en.endswith(", … (team ladder, 2025-03)")
    assert top.explanation_zh.endswith("、… 的下级团队已得 ¥114,000.00（团队奖，2025-03）")


# --- target award ---------------------------------------------------------------------------------------------

TRIP = """
rewards:
  - id: quarter-trip
    name: 季度旅游奖
    type: target_award
    period: quarter
    metric: personal_purchase
    threshold: 50000
    prize: {kind: trip, name: 泰国游, cost: 2000}
"""


def test_target_award_inactive_winner_near_miss_and_hit():
    def view(inactive=()):
        v = tree({1: ("general", None), 2: ("city", 1)}, names={2: "李娜"}, inactive=inactive)
        v.add_order(order("restock", "60000", buyer=1, when="2025-02-01"))
        v.add_order(order("restock", "50000", buyer=2, when="2025-02-01"))
        return v

    assert by_beneficiary(Engine(plan_with(TRIP)).process(Q1, view(inactive=[2]))) == {1: D("2000.00")}
    lines = Engine(plan_with(TRIP)).process(Q1, view())
    assert by_beneficiary(lines) == {1: D("2000.00"), 2: D("2000.00")}
    assert lines[1].explanation_en == (
        "¥2,000.00 = cost of trip 泰国游: 李娜's personal purchase ¥50,000.00 ≥ ¥50,000.00 (quarter trip, 2025-Q1)"
    )
    assert lines[1].explanation_zh == (
        "¥2,000.00 = 旅游“泰国游”的品牌成本：李娜 的个人进货额 ¥50,000.00 ≥ ¥50,000.00（季度旅游奖，2025-Q1）"
    )


# --- margin and buyback are paid whatever the status -------------------------------------------------------------


def test_margin_is_recorded_for_an_inactive_seller():
    view = tree({1: ("general", None), 2: ("city", 1)}, inactive=[1])
    (line,) = Engine(plan_with("")).process(order("restock", "1700", buyer=2, seller=1, cost="1100"), view)
    assert (line.beneficiary, line.kind, line.amount) == (1, "margin", D("600.00"))


def test_buyback_pays_the_exited_agent():
    plan = plan_with("", returns="returns: {window_days: 365, refund_rate: 0.90}\n")
    view = tree({7: ("city", None)}, names={7: "王芳"})
    exit_ = AgentExited(event_id="exit:7", agent=7, at=at("2025-06-30"), stock_lots=((at("2025-01-10"), D("1000")),))
    view.apply(exit_)
    assert not view.is_active(7)
    (line,) = Engine(plan).process(exit_, view)
    assert (line.beneficiary, line.amount, line.kind) == (7, D("900.00"), "buyback")
    assert line.explanation_en == (
        "¥900.00 = 90% × ¥1,000.00 stock 王芳 bought in the 365 days before exit (1 lot; buyback)"
    )
    assert line.explanation["beneficiary_name"] == "王芳"


# --- sentences -----------------------------------------------------------------------------------------------------


def test_long_names_and_ids_are_clipped_and_sentences_stay_short():
    plan = plan_with(REFERRAL.replace("平级推荐奖", "平" * 60))
    view = tree({1: ("city", None), 2: ("city", 1)}, names={2: "Z" * 50})
    (line,) = Engine(plan).process(order("restock", "3000", buyer=2, order_id="R" * 80), view)
    assert line.explanation["buyer_name"] == "Z" * 50  # the dict keeps the whole name
    assert f"of {'Z' * 19}… (" in line.explanation_en and f"order {'R' * 31}… " in line.explanation_en
    assert len(line.explanation_en) <= 300 and len(line.explanation_zh) <= 300


def test_reversals_repeat_the_named_sentence():
    plan = plan_with(REFERRAL)
    view = tree({1: ("city", None), 2: ("city", 1)}, names={2: "李娜"})
    lines = Engine(plan).process(order("restock", "3000", buyer=2, order_id="R1"), view)
    (rev,) = reverse_lines(lines, "refund:R1")
    assert rev.amount == D("-150.00")
    assert rev.explanation_en == (
        "Reversed by refund: ¥150.00 = 5% × ¥3,000.00 order R1 of 李娜 (1st generation, peer referral)"
    )
    assert rev.explanation_zh == "退款冲回：¥150.00 = 李娜 的 ¥3,000.00 订单 R1 × 5%（第 1 代，平级推荐奖）"


def test_upgrade_explanations_name_the_agent():
    plan = plan_with("upgrades:\n  - to: city\n    any: [{cumulative_purchase: 2000}]\n")
    view = tree({1: ("vip", None)}, names={1: "王芳"})
    view.add_order(order("restock", "2000", buyer=1))
    decision = Engine(plan).upgrade_for(1, view, at=at("2025-03-20"))
    assert decision.explanation_en.startswith("王芳 qualifies for city")
    assert decision.explanation_zh.startswith("王芳 由特约升为市代")


# --- property: inactivity only removes lines, it never moves money ---------------------------------------------

LEVELS = ["partner", "general", "province", "city", "vip"]


@st.composite
def forests(draw):
    n = draw(st.integers(min_value=1, max_value=20))
    spec = {}
    for agent in range(1, n + 1):
        referrer = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=agent - 1))) if agent > 1 else None
        spec[agent] = (draw(st.sampled_from(LEVELS)), referrer)
    inactive = draw(st.sets(st.integers(min_value=1, max_value=n)))
    purchases = draw(
        st.lists(
            st.tuples(st.integers(min_value=1, max_value=n), st.integers(min_value=0, max_value=500_000)), max_size=30
        )
    )
    return spec, inactive, purchases


@settings(max_examples=100, deadline=None, database=None)
@given(forests(), st.sampled_from(["same", "lower", "higher", "any"]), st.booleans())
def test_inactive_agents_lose_their_own_lines_and_nobody_else_gains(forest, test, differential):
    spec, inactive, purchases = forest
    plan = plan_with(
        REFERRAL.replace("same", test)
        + LADDER.replace("rewards:\n", "").replace(
            "differential: true", f"differential: {'true' if differential else 'false'}"
        )
        + RETAIL.replace("rewards:\n", "")
        + REBATE.replace("rewards:\n", "").replace("{city: 0.03}", "{city: 0.03, vip: 0.02}")
    )
    events = [order("restock", amount, buyer=agent, when="2025-03-10") for agent, amount in purchases]
    events += [order("retail", amount, bound=agent, when="2025-03-11") for agent, amount in purchases[:5]]
    everyone, some = tree(spec), tree(spec, inactive=inactive)
    for event in events:
        everyone.add_order(event)
        some.add_order(event)
    for event in [*events, MARCH]:
        all_lines = Engine(plan).process(event, everyone)
        lines = Engine(plan).process(event, some)

        def figures(found):
            return [(line.key, line.amount, line.kind, line.payer, line.explanation["full_amount"]) for line in found]

        # same lines and figures (sentences differ only where an inactive sub-team is marked)
        assert figures(lines) == figures([line for line in all_lines if line.beneficiary not in inactive])
