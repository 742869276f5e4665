"""Upgrade progress (/m/progress/): what the next level needs under the plan in force and how far
the agent is — each condition with its target, the agent's figure and an accessible progress bar,
"any"/"all" in words, the way up (an upgrade order, or by itself); a clear sentence with no plan
or at the top. The figures are the engine's own: the page says "you qualify" exactly when the
engine would upgrade."""

from __future__ import annotations

import importlib.util
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from weishang.channel import services as channel
from weishang.channel.models import Level
from weishang.plans import Engine, InMemoryHierarchy, OrderCompleted, load_plan
from weishang.plans.progress import format_amount, upgrade_progress
from weishang.rewards import plan_versions

_spec = importlib.util.spec_from_file_location(
    "rewards_conftest", Path(__file__).resolve().parents[1] / "rewards" / "conftest.py"
)
_rewards = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rewards)
catalog, tiered, r = _rewards.catalog, _rewards.tiered, _rewards.r
EXAMPLES = _rewards.EXAMPLES

PASSWORD = "pass-word-1"


def login(agent, *, language: str | None = "en") -> Client:
    client = Client()
    assert client.login(username=agent.phone, password=PASSWORD)
    if language:
        client.cookies["django_language"] = language
    return client


def page(agent, **kw) -> str:
    response = login(agent, **kw).get(reverse("web:upgrade_progress"))
    assert response.status_code == 200
    return response.content.decode()


def rules(text: str) -> dict[str, str]:
    """Each rule's card by the level code it leads to."""
    return dict(
        re.findall(r'<section class="card rule" data-testid="rule" data-level="([^"]+)".*?>(.*?)</section>', text, re.S)
    )


def condition(card: str, key: str) -> str:
    return re.search(rf'<li class="[^"]*" data-testid="condition" data-key="{key}">(.*?)</li>', card, re.S).group(1)


def bar(html: str) -> tuple[Decimal, Decimal]:
    """(max, value) of the progress bar."""
    found = re.search(r'<progress max="([0-9.]+)" value="([0-9.]+)"', html)
    return Decimal(found.group(1)), Decimal(found.group(2))


@pytest.fixture
def vip(tiered, make_agent, catalog, r):
    """特约王芳 under 省代周强, who supplies her; she has bought ¥1,584 (10 × GLOW-50G at ¥158.40)
    and recruited two 特约."""
    boss = make_agent("province", real_name="省代周强")
    agent = make_agent("vip", referrer=boss, real_name="特约王芳")
    r.receive(boss, catalog.skus["GLOW-50G"], 50)
    r.complete(agent, [("GLOW-50G", 10)])
    for _ in range(2):
        make_agent("vip", referrer=agent)
    return agent


def test_the_next_level_with_each_condition_its_target_and_the_agents_figure(vip):
    text = page(vip)
    assert 'data-testid="next-level">Next level: 市代<' in text
    card = rules(text)["city"]
    assert "Any one of these conditions is enough:" in card
    bought = condition(card, "cumulative_purchase")
    assert "My purchases in all" in bought and 'data-testid="figure">¥1,584 / ¥2,000<' in bought
    assert "¥416 to go" in bought
    assert bar(bought) == (Decimal("2000"), Decimal("1584")) and 'aria-valuetext="¥1,584 / ¥2,000"' in bought
    assert 'data-testid="figure">¥1,584 / ¥2,000<' in condition(card, "single_order_amount")
    peers = condition(card, "same_level_referrals")
    assert 'data-testid="figure">2 / 3<' in peers and bar(peers) == (3, 2) and "1 to go" in peers
    # Every progress bar is named by its condition's label.
    for label_id in re.findall(r'<progress [^>]*aria-labelledby="([^"]+)"', text):
        assert f'id="{label_id}"' in text
    assert 'data-testid="qualified"' not in card
    # Under this plan the way up is an upgrade order of at least the top-up (¥2,000 − ¥298).
    assert "upgrade order to 市代 of at least ¥1,702 " in card
    assert 'href="/m/upgrade/?to=city"' in card


def test_levels_further_up_and_the_one_level_rule_of_same_level_referrals(vip):
    text = page(vip)
    further = text[text.index("Levels further up") :]
    assert set(rules(further)) == {"province", "general", "partner"}
    province = rules(further)["province"]
    assert 'data-testid="figure">¥1,584 / ¥6,000<' in condition(province, "cumulative_purchase")
    assert "lift one level at a time" in condition(province, "same_level_referrals")
    team = condition(rules(further)["general"], "team_volume")
    assert "Team purchases this month" in team and 'data-testid="figure">¥1,584 / ¥200,000<' in team
    assert re.search(r"\d{4}-\d{2}-01 – \d{4}-\d{2}-\d{2}", team)


def test_a_third_same_level_referral_qualifies_and_the_upgrade_order_opens(vip, make_agent):
    make_agent("vip", referrer=vip)
    card = rules(page(vip))["city"]
    assert 'data-testid="qualified">You qualify for 市代.<' in card
    assert "✓ met" in condition(card, "same_level_referrals")
    assert '<a class="button primary" href="/m/upgrade/?to=city"' in card
    upgrade = login(vip).get("/m/upgrade/?to=city").content.decode()
    assert 'value="city"' in upgrade  # the upgrade order page offers the level the progress page promised


def test_all_conditions_and_upgrades_that_need_no_order(catalog, r, make_agent):
    r.activate("glow-social-mall.yaml")
    member = channel.agent_create(
        phone="13500000001",
        real_name="会员李娜",
        level=Level.objects.get(code="member"),
        password=PASSWORD,
        entry_paid=True,
    )
    for i in range(4):
        channel.agent_create(
            phone=f"1350000001{i}",
            real_name=f"会员{i}",
            level=Level.objects.get(code="member"),
            referrer=member,
            password=PASSWORD,
            entry_paid=True,
        )
    text = page(member)
    shopkeeper = rules(text)["shopkeeper"]
    assert "Any one of these conditions is enough:" in shopkeeper
    assert 'data-testid="figure">4 / 10<' in condition(shopkeeper, "direct_referrals")
    assert 'data-testid="figure">¥0 / ¥3,000<' in condition(shopkeeper, "cumulative_spend")
    assert "No upgrade order is needed" in shopkeeper and "/m/upgrade/" not in shopkeeper
    director = rules(text)["director"]
    assert "All of these conditions are needed:" in director
    assert 'data-testid="figure">4 / 50<' in condition(director, "direct_referrals")


def test_no_plan_in_force_says_so(make_agent, catalog):
    agent = make_agent("vip")
    text = page(agent)
    assert 'data-testid="no-plan"' in text and "No reward plan is in force yet" in text
    assert "<progress" not in text


def test_the_highest_level_says_there_is_nothing_above(tiered, make_agent):
    text = page(make_agent("partner"))
    assert 'data-testid="top-level"' in text and "You are at the highest level, 联创" in text
    assert "<progress" not in text


def test_no_rule_above_the_level_says_so(catalog, make_agent):
    text = (EXAMPLES / "glow-retail-first.yaml").read_text(encoding="utf-8")
    rule = "  - to: partner\n    any:\n      - retail_sales: 300000\n    top_up: false\n"
    assert rule in text
    version = plan_versions.plan_upload(text=text.replace(rule, ""), filename="no-way-to-partner.yaml")
    plan_versions.plan_activate(version=version, acknowledgement="test: HIGH findings accepted")
    text = page(make_agent("general"))  # 总代: no rule leads to 联创
    assert 'data-testid="no-rule"' in text and "no upgrade rule above your level" in text
    assert "<progress" not in text
    assert 'data-testid="next-level">Next level: 总代<' in page(make_agent("province"))


def test_chinese_by_default_and_english_on_the_switch(vip):
    text = page(vip, language=None)
    assert 'lang="zh-hans"' in text
    assert "市代" in text and "¥1,584 / ¥2,000" in text and "升级单" in text  # the upgrade order link
    text = page(vip, language="en")
    assert 'lang="en"' in text and "Upgrade progress" in text and "Upgrade order" in text


def test_the_page_and_the_engine_agree_on_who_qualifies():
    """upgrade_progress is pure: over the in-memory view it says "met" exactly when the engine's
    upgrade_for finds the rule satisfied, at every step of a growing history."""
    plan = load_plan(EXAMPLES / "glow-tiered.yaml")
    engine = Engine(plan)
    levels = {1: "province", 2: "vip"}
    referrers = {2: 1}
    orders = []
    at = datetime(2026, 3, 15)
    for step in range(8):
        view = InMemoryHierarchy.from_dicts(levels=levels, referrers=referrers, orders=orders, tz=plan.timezone)
        progress = upgrade_progress(plan, 2, view, at=at)
        decision = engine.upgrade_for(2, view, at=at)
        qualified = [rule.to_level for rule in progress.rules if rule.met]
        best = min(qualified, key=plan.rank) if qualified else None
        assert best == (decision.to_level if decision else None), step
        for rule in progress.rules:
            for c in rule.conditions:
                assert c.met == (c.applicable and c.current >= c.target)
        # Grow: a restock of ¥700 and a same-level referral each step.
        orders.append(
            OrderCompleted(
                event_id=f"e{step}",
                order_id=f"o{step}",
                kind="restock",
                buyer=2,
                seller=1,
                amount=Decimal("700"),
                at=at,
            )
        )
        levels[10 + step], referrers[10 + step] = "vip", 2
    assert best == "city"


def test_amounts_are_written_like_people_read_them():
    assert format_amount(Decimal("3200"), money=True) == "¥3,200"
    assert format_amount(Decimal("3200.50"), money=True) == "¥3,200.50"
    assert format_amount(Decimal("0.00"), money=True) == "¥0"
    assert format_amount(Decimal("3"), money=False) == "3"
