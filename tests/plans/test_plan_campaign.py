"""A campaign is a dated overlay on a plan: the effective plan, and the linter run on it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from weishang.plans import load_plan
from weishang.plans.campaign import apply_overlay, lint_campaign, parse_campaign

ROOT = Path(__file__).resolve().parents[2]
PLAN = load_plan(ROOT / "examples/plans/glow-tiered.yaml")

OPENING = """\
id: opening
name: 开业季
starts: 2026-03-01
ends: 2026-03-31
seats: 5
budget: 20000
offers:
  entry: {vip: 198}
  min_restock_qty: {city: 2}
  gift: {sku: GIFT-BAG, qty: 1, min_amount: 198, kinds: [entry], cost: 30}
  rewards:
    - id: opening-trip
      name: 推荐三人送旅游
      type: target_award
      metric: new_referrals
      threshold: 3
      prize: {kind: trip, name: 三亚游, cost: 2000}
"""


def test_the_overlay_lowers_the_entry_and_adds_the_trip():
    overlay = parse_campaign(OPENING)
    assert overlay.runs_on(date(2026, 3, 15)) and not overlay.runs_on(date(2026, 4, 1))
    effective = apply_overlay(PLAN, overlay)
    vip = next(lv for lv in effective.levels if lv.code == "vip")
    assert vip.entry.first_order_amount == Decimal("198")
    assert next(lv for lv in effective.levels if lv.code == "city").min_restock_qty == 2
    trip = next(r for r in effective.rewards if r.id == "opening-trip")
    assert trip.prize.cost == Decimal("2000")
    # the plan itself is untouched
    assert "opening-trip" not in {r.id for r in PLAN.rewards}
    assert next(lv for lv in PLAN.levels if lv.code == "vip").entry.first_order_amount != Decimal("198")


def crit(report):
    return {(f.rule, f.path) for f in report.findings if f.severity == "CRIT"}


def test_the_campaign_is_linted_on_the_effective_plan():
    from weishang.plans.lint import lint_plan

    report = lint_campaign(PLAN, parse_campaign(OPENING), "cn")
    # the reduced vip entry is still an entry order: CN-FEE reads it from the effective plan
    n = len(PLAN.rewards)
    assert ("CN-FEE", "levels[4].entry.first_order_amount") in crit(report)
    # a trip for three new referrals is a headcount award: the CN rulebook flags it as in a plan
    assert ("CN-HEAD", f"rewards[{n}].type") in crit(report)
    assert {r for r, _ in crit(report)} >= {r for r, _ in crit(lint_plan(PLAN, "cn"))}


def test_a_campaign_paying_per_recruit_is_flagged_like_a_plan():
    text = OPENING.replace(
        "    - id: opening-trip",
        "    - {id: per-recruit, type: referral, base: per_head, amounts: [100]}\n    - id: opening-trip",
    )
    from weishang.plans.lint import lint_plan

    report = lint_campaign(PLAN, parse_campaign(text), "cn")
    assert report.blocking
    n = len(PLAN.rewards)  # the overlay's first reward follows the plan's own
    assert any(r == "CN-HEAD" and p.startswith(f"rewards[{n}]") for r, p in crit(report))
    assert not any(p.startswith(f"rewards[{n}]") for _, p in crit(lint_plan(PLAN, "cn")))


def test_unknown_levels_clashing_ids_and_bad_dates_are_refused():
    with pytest.raises(ValueError, match="unknown level"):
        apply_overlay(PLAN, parse_campaign(OPENING.replace("entry: {vip: 198}", "entry: {nobody: 198}")))
    clash = OPENING.replace("id: opening-trip", f"id: {PLAN.rewards[0].id}")
    with pytest.raises(ValueError, match="already in the plan"):
        apply_overlay(PLAN, parse_campaign(clash))
    with pytest.raises(ValidationError):
        parse_campaign(OPENING.replace("ends: 2026-03-31", "ends: 2026-02-01"))
    with pytest.raises(ValidationError):
        parse_campaign(OPENING.replace("seats: 5", "seats: -1"))
    with pytest.raises(ValueError):
        parse_campaign("- just a list")


def test_an_offer_only_reduces_what_the_plan_asks():
    """A "reduced" entry on a level the plan lets in free would be a new entry fee (CN-FEE): refused,
    as is a restock minimum that is not below the plan's."""
    from pathlib import Path

    from weishang.plans import parse_plan

    root = Path(__file__).resolve().parents[2] / "examples" / "plans"
    free = parse_plan((root / "glow-retail-first.yaml").read_text(encoding="utf-8"), "glow-retail-first.yaml")
    tiered = parse_plan((root / "glow-tiered.yaml").read_text(encoding="utf-8"), "glow-tiered.yaml")
    base = "id: x\nname: x\nstarts: 2026-12-01\nends: 2026-12-31\noffers:\n"
    with pytest.raises(ValueError, match="首单优惠须低于"):
        apply_overlay(free, parse_campaign(base + "  entry: {city: 1500}\n"))
    with pytest.raises(ValueError, match="首单优惠须低于"):
        apply_overlay(tiered, parse_campaign(base + "  entry: {city: 2000}\n"))
    with pytest.raises(ValueError, match="起订量优惠须低于"):
        apply_overlay(tiered, parse_campaign(base + "  min_restock_qty: {city: 5}\n"))
    effective = apply_overlay(tiered, parse_campaign(base + "  entry: {city: 1500}\n  min_restock_qty: {city: 2}\n"))
    city = next(level for level in effective.levels if level.code == "city")
    assert (city.entry.first_order_amount, city.min_restock_qty) == (1500, 2)


def test_the_example_campaign_is_lawful_for_the_example_plan():
    """examples/campaigns/glow-spring-trip.yaml: a gift and a retail-based trip on the lawful plan,
    no new finding under Chinese rules."""
    plan = load_plan(ROOT / "examples/plans/glow-retail-first.yaml")
    overlay = parse_campaign((ROOT / "examples/campaigns/glow-spring-trip.yaml").read_text(encoding="utf-8"))
    empty = parse_campaign("id: x\nname: x\nstarts: 2026-02-01\nends: 2026-02-02\n")
    base = {(f.rule, f.path) for f in lint_campaign(plan, empty, "cn").findings}
    added = [f for f in lint_campaign(plan, overlay, "cn").findings if (f.rule, f.path) not in base]
    assert added == [] and overlay.offers.gift.quantity == 1000
