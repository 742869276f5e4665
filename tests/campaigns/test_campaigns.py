"""Live campaigns through their services: written as YAML, linted before they start, taken part
in by orders (reduced thresholds, a free gift line, a seat that can run out), seats following
their orders, an upline paid for the gift it ships, reward rules laid over the plan in their
dates, and the report a brand reads."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.campaigns.conftest import GIFT, campaign_yaml
from weishang.campaigns import selectors, services
from weishang.campaigns.models import Campaign, CampaignSeat, CampaignStatus, SeatStatus
from weishang.core.errors import BusinessError, Conflict
from weishang.core.models import Brand
from weishang.ledger.models import Purpose
from weishang.rewards.models import RewardLine
from weishang.rewards.plan_versions import PlanBlocked
from weishang.trade import services as trade
from weishang.trade.models import Order, OrderKind, OrderStatus
from weishang.trade.selectors import stock_on_hand


def submit(agent, units, campaign="kaiye", kind=OrderKind.RESTOCK, sku="GLOW-30ML"):
    return services.campaign_order_submit(
        campaign=campaign, buyer=agent, lines=[(sku, units)], kind=kind, by=agent.user
    )


def test_a_bad_file_is_refused_with_what_is_wrong(tiered, boss):
    with pytest.raises(BusinessError) as exc:
        services.campaign_save(overlay="id: [", by=boss)
    assert exc.value.field == "overlay" and "YAML" in str(exc.value.message)
    with pytest.raises(BusinessError, match="未知等级代码: mayor"):
        services.campaign_save(overlay=campaign_yaml(offers="  entry: {mayor: 10}\n"), by=boss)
    with pytest.raises(BusinessError, match="NOPE"):
        services.campaign_save(overlay=campaign_yaml(offers=GIFT.replace("GLOW-MASK5", "NOPE")), by=boss)
    with pytest.raises(BusinessError, match="seats"):
        services.campaign_save(overlay=campaign_yaml(seats=0), by=boss)
    assert not Campaign.objects.exists()


def test_a_campaign_that_pays_per_recruit_never_starts_where_that_is_crit(tiered, boss):
    Brand.objects.update(jurisdiction="us")  # set before the plan went live in real life
    trip = (
        "  rewards:\n    - {id: refer3-trip, name: 推三送旅游, type: target_award, period: month,"
        " metric: new_referrals, threshold: 3, prize: {kind: trip, name: 三亚游, cost: 2000}}\n"
    )
    campaign = services.campaign_save(overlay=campaign_yaml(offers=trip), by=boss)
    report = selectors.campaign_lint(campaign)
    assert [(f.rule, f.severity) for f in report.findings] == [("US-KOS", "CRIT")]
    assert report.findings[0].source  # the finding cites its source
    with pytest.raises(PlanBlocked) as exc:
        services.campaign_schedule(campaign=campaign, by=boss)
    assert "US-KOS" in str(exc.value.message)
    assert Campaign.objects.get().status == CampaignStatus.DRAFT
    # Under UK rules the same prize is HIGH: it may start, and its finding is kept with it.
    Brand.objects.update(jurisdiction="uk")
    scheduled = services.campaign_schedule(campaign=campaign, by=boss)
    assert scheduled.status == CampaignStatus.SCHEDULED and scheduled.phase == "running"
    assert [f["rule"] for f in scheduled.lint] == ["UK-TS"]


def test_an_applicant_enters_at_the_campaign_amount_and_gets_the_gift(running, make_agent, catalog, r):
    running()
    applicant = make_agent("city", entry_paid=False)
    with pytest.raises(BusinessError, match="2000"):  # ¥1,000 is not enough without the campaign
        trade.order_submit(buyer=applicant, lines=[("GLOW-30ML", 6)], kind=OrderKind.ENTRY, by=applicant.user)
    order = submit(applicant, 6, kind=OrderKind.ENTRY)  # 6 × ¥170
    assert order.total == Decimal("1020.00")
    lines = {(line.sku.code, line.gift): (line.quantity, line.unit_price) for line in order.lines.all()}
    assert lines == {("GLOW-30ML", False): (6, Decimal("170.00")), ("GLOW-MASK5", True): (1, Decimal("0.00"))}
    campaign = Campaign.objects.get()
    assert (campaign.seats_taken, campaign.gifts_given) == (1, 1)
    seat = CampaignSeat.objects.get()
    assert (seat.agent, seat.order, seat.gift_qty, seat.status) == (applicant, order, 1, SeatStatus.TAKEN)


def test_a_restock_below_the_level_minimum_only_within_the_campaign(running, make_agent):
    running(offers="  min_restock_qty: {city: 2}\n")
    agent = make_agent("city")
    with pytest.raises(BusinessError, match="至少 5 件"):
        trade.order_submit(buyer=agent, lines=[("GLOW-30ML", 2)], by=agent.user)
    order = submit(agent, 2)
    assert order.total == Decimal("340.00") and order.lines.count() == 1  # no gift in this campaign
    with pytest.raises(BusinessError, match="至少 2 件"):
        submit(make_agent("city"), 1)


def test_the_fourth_of_three_seats_is_refused_and_changes_nothing(running, make_agent):
    running()
    for _ in range(3):
        submit(make_agent("city"), 3)
    fourth = make_agent("city")
    with pytest.raises(Conflict) as exc:
        submit(fourth, 3)
    assert exc.value.code == "campaign_full" and "开业季" in str(exc.value.message)
    assert not Order.objects.filter(buyer=fourth).exists()
    assert Campaign.objects.get().seats_taken == 3
    assert trade.order_submit(buyer=fourth, lines=[("GLOW-30ML", 5)], by=fourth.user)  # the plain way still works


def test_one_seat_per_agent_and_an_order_that_does_not_qualify(running, make_agent):
    running(seats=None)
    agent = make_agent("city")
    submit(agent, 3)
    with pytest.raises(Conflict) as exc:
        submit(agent, 3)
    assert exc.value.code == "campaign_seat_held"
    vip = make_agent("vip")  # no eased terms for 特约, and ¥230 is under the gift's ¥500
    with pytest.raises(BusinessError) as exc:
        submit(vip, 1)
    assert exc.value.field == "campaign" and "开业季" in str(exc.value.message)
    assert Campaign.objects.get().seats_taken == 1


def test_a_cancelled_order_gives_its_seat_and_gift_back(running, make_agent):
    running(seats=1)
    first = make_agent("city")
    order = submit(first, 3)
    trade.order_cancel(order=order, by=first.user, note="买错了")
    assert services.seats_sync() == 1
    campaign = Campaign.objects.get()
    assert (campaign.seats_taken, campaign.gifts_given) == (0, 0)
    assert CampaignSeat.objects.get().status == SeatStatus.RETURNED
    submit(make_agent("city"), 3)  # the seat is free again
    assert services.seats_sync() == 0  # idempotent


def test_an_upline_shipping_the_gift_is_paid_for_it_and_gives_it_back_on_refund(running, make_agent, catalog, r):
    running()
    general = make_agent("general")
    r.receive(general, catalog.skus["GLOW-30ML"], 20)
    r.receive(general, catalog.skus["GLOW-MASK5"], 5)
    city = make_agent("city", supplier=general)
    order = submit(city, 3)
    assert order.seller == general
    trade.order_approve(order=order, by=general.user)
    r.pay(order)
    paid = r.balance(general, Purpose.AGENT_WALLET)
    services.seats_sync()
    assert r.balance(general, Purpose.AGENT_WALLET) == paid + Decimal("30")  # the brand pays for the mask
    trade.order_fill(order=order, by=general.user)
    seat = CampaignSeat.objects.get()
    assert seat.status == SeatStatus.PAID
    report = selectors.campaign_report(seat.campaign)
    assert (report.orders, report.gifts, report.gift_cost) == (1, 1, Decimal("30"))
    # the gift went from the upline's cloud stock with the goods
    assert stock_on_hand(agent=general.pk, kind="cloud")[catalog.skus["GLOW-MASK5"].pk] == 4
    trade.refund_request(order=order, by=city.user, note="过敏")
    trade.refund_approve(order=order, by=general.user)
    services.seats_sync()
    seat.refresh_from_db()
    assert seat.status == SeatStatus.REFUNDED and Campaign.objects.get().seats_taken == 0
    assert r.verify() == []


def test_the_campaigns_reward_rules_apply_in_its_dates_only(running, make_agent, r, clock, boss):
    rebate = (
        "  min_restock_qty: {city: 2}\n  rewards:\n    - {id: kaiye-rebate, name: 开业返利,"
        " type: self_purchase_rebate, rate: 0.02}\n"
    )
    running(offers=rebate, days=2)
    agent = make_agent("city")
    r.complete(agent, [("GLOW-30ML", 5)], staff=boss)
    r.process()
    line = RewardLine.objects.get(rule_id="kaiye-rebate")
    assert (line.beneficiary, line.amount) == (agent, Decimal("17.00"))  # 2 % of ¥850
    assert selectors.campaign_report(Campaign.objects.get()).prizes == Decimal("17.00")
    clock.advance(timedelta(days=5))
    r.complete(agent, [("GLOW-30ML", 5)], staff=boss)
    r.process()
    assert RewardLine.objects.filter(rule_id="kaiye-rebate").count() == 1


def test_the_report_counts_what_the_campaign_brought(running, make_agent, boss, r):
    campaign = running(seats=5)
    services.campaign_cost_add(campaign=campaign, label="开业酒会", amount="2000", by=boss)
    services.campaign_cost_add(campaign=campaign, label="开业酒会", amount="-200", by=boss, note="退了押金")
    with pytest.raises(BusinessError) as exc:
        services.campaign_cost_add(campaign=campaign, label="开业酒会", amount="-5", by=boss)
    assert exc.value.field == "note"
    applicant = make_agent("city", entry_paid=False)
    entry = submit(applicant, 6, kind=OrderKind.ENTRY)
    restock = submit(make_agent("city"), 3)
    for order in (entry, restock):
        trade.order_approve(order=order, by=boss)
        r.pay(order)
    unpaid = submit(make_agent("city"), 3)
    services.seats_sync()
    report = selectors.campaign_report(Campaign.objects.get())
    assert report.seats_taken == 3 and report.seats_left == 2
    assert report.orders == 2 and report.cash == entry.total + restock.total
    assert report.recruits == 1 and report.gifts == 2
    assert report.cost == Decimal("60") + Decimal("1800") and report.budget_left == Decimal("10000") - report.cost
    assert unpaid.status == OrderStatus.SUBMITTED
    assert [row.campaign for row in selectors.campaigns_between(campaign.starts, campaign.ends)] == [campaign]


def test_a_campaign_not_running_takes_no_order(running, make_agent, boss, clock):
    campaign = running()
    agent = make_agent("city")
    services.campaign_cancel(campaign=campaign, by=boss, reason="改期")
    with pytest.raises(Conflict, match="未在进行中"):
        submit(agent, 3)
    with pytest.raises(BusinessError):
        services.campaign_order_submit(campaign="nope", buyer=agent, lines=[("GLOW-30ML", 3)], by=agent.user)


def test_the_growth_report_lists_the_months_campaign_with_its_seats(running, make_agent, boss, r, clock):
    from weishang.growth.selectors import growth_report

    campaign = running(seats=5)
    order = submit(make_agent("city"), 4)
    trade.order_approve(order=order, by=boss)
    r.pay(order)
    services.seats_sync()
    month = f"{clock.now():%Y-%m}"
    [row] = [row for row in growth_report(month)["campaigns"] if row["kind"] == "campaign"]
    assert row["campaign"] == "开业季" and (row["orders"], row["units"], row["revenue"]) == (1, 4, "680.00")
    assert (row["seats_taken"], row["gifts"], row["cost"], row["budget"]) == (1, 1, "30.00", "10000.00")
    after = campaign.ends + timedelta(days=40)
    assert not [r for r in growth_report(f"{after:%Y-%m}")["campaigns"] if r["kind"] == "campaign"]


def test_a_quarterly_sales_target_is_settled_with_the_quarter(running, make_agent, r, boss):
    """A campaign's period rule (a quarter's purchases of ¥800 → a trip) is paid when the quarter
    it ran in is settled: the settlement reads the plan with the campaign laid over."""
    from datetime import date

    from weishang.rewards.services import settle_period

    target = (
        "  min_restock_qty: {city: 2}\n  rewards:\n    - {id: kaiye-quarter, name: 季度冲刺, type: target_award,"
        " period: quarter, metric: personal_purchase, threshold: 800, prize: {kind: trip, name: 三亚游, cost: 2000}}\n"
    )
    campaign = running(offers=target)
    reached, short = make_agent("city"), make_agent("city")
    r.complete(reached, [("GLOW-30ML", 5)], staff=boss)  # ¥850
    r.complete(short, [("GLOW-30ML", 2)], staff=boss, offer=services.CampaignOffer(campaign))  # ¥340
    r.process()
    settle_period(period="2026-Q2", today=date(2026, 7, 10))
    prizes = RewardLine.objects.filter(rule_id="kaiye-quarter")
    assert [(line.beneficiary, line.amount) for line in prizes] == [(reached, Decimal("2000.00"))]
    assert selectors.campaign_report(Campaign.objects.get()).prizes == Decimal("2000.00")
