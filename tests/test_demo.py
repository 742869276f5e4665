"""``weishang demo``: the demo brand loads once, with staff in their roles, a login agent per level,
and trees that satisfy every rule live data has to."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from tests.demo_once import module_demo, run_demo
from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.channel import tree
from weishang.channel.models import Agent, AgentStatus, AgentTrail, Application, ApplicationStatus, Level
from weishang.channel.tree import Relation
from weishang.core.models import Brand
from weishang.core.roles import ROLES, role_group_name
from weishang.demo.services import AGENT_PASSWORD, STAFF, STAFF_PASSWORD
from weishang.promotions.models import CouponOffer, FlashSale
from weishang.trade.models import Order


def counts() -> dict[str, int]:
    return {
        "agents": Agent.objects.count(),
        "users": get_user_model().objects.count(),
        "orders": Order.objects.count(),
        "applications": Application.objects.count(),
        "levels": Level.objects.count(),
        "skus": SKU.objects.count(),
        "products": Product.objects.count(),
        "prices": LevelPrice.objects.count(),
        "trail": AgentTrail.objects.count(),
        "brands": Brand.objects.count(),
        "groups": Group.objects.count(),
    }


# Loaded once for the module (tests/demo_once.py); each test's writes are rolled back after it.
demo_module = module_demo(run_demo)


@pytest.fixture
def demo(demo_module, db):
    return demo_module


def test_demo_loads_a_brand(demo):
    c = counts()
    grown = Agent.objects.filter(lead__channel="meeting").count()  # agents the demo's meetings made (M10)
    assert f"with {60 + grown} agents" in demo
    assert c["agents"] == 60 + grown
    assert c["brands"] == 1
    assert c["levels"] == 5
    assert c["skus"] == 3
    assert c["orders"] > 0
    assert c["applications"] > 0
    assert AgentTrail.objects.filter(kind="joined").count() == c["agents"]  # one "joined" row per agent
    from weishang.autofinance.demo import CONSULTANTS
    from weishang.b2b.models import BusinessMember

    # agents, staff, the people of the B2B companies (the brand's desk, the salon, the factory) and
    # the car dealer's two more sales consultants (M15)
    assert (
        c["users"]
        == c["agents"] + len(STAFF) + BusinessMember.objects.count() + len(CONSULTANTS)
        == c["agents"] + len(STAFF) + 3 + 2
    )
    assert "b2b  焕颜 GLOW 品牌批发部" in demo


def test_demo_is_idempotent(demo):
    before = counts()
    agents_before = sorted(Agent.objects.values_list("pk", "level_id", "supplier_id", "referrer_id"))
    out = run_demo()
    assert counts() == before
    assert sorted(Agent.objects.values_list("pk", "level_id", "supplier_id", "referrer_id")) == agents_before
    assert f"with {before['agents']} agents" in out
    # a different size on the second run adds nothing either
    run_demo(agents=100)
    assert counts() == before


def test_demo_levels(demo):
    levels = list(Level.objects.order_by("rank"))
    assert [lvl.rank for lvl in levels] == [1, 2, 3, 4, 5]
    assert [lvl.code for lvl in levels] == ["partner", "general", "province", "city", "vip"]
    assert [lvl.approver for lvl in levels] == ["brand", "brand", "supplier", "supplier", "supplier"]
    discounts = [lvl.discount for lvl in levels]
    assert discounts == sorted(discounts)  # higher levels pay less


@pytest.mark.parametrize("role", [code for code, _name in STAFF])
def test_demo_staff_in_their_role(demo, client, role):
    user = get_user_model().objects.get(username=role)
    assert user.is_staff and user.is_active
    assert not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == [role_group_name(role)]
    assert not Agent.objects.filter(user=user).exists()
    assert client.login(username=role, password=STAFF_PASSWORD)
    assert client.get("/console/").status_code == 200


def test_demo_staff_cover_every_role(demo):
    assert {code for code, _name in STAFF} == set(ROLES)
    for code in ROLES:
        assert Group.objects.get(name=role_group_name(code)).permissions.exists()


@pytest.mark.parametrize("rank", [1, 2, 3, 4, 5])
def test_demo_login_agent_per_level(demo, client, rank):
    phone = f"1380000000{rank}"
    agent = Agent.objects.select_related("level", "user").get(user__phone=phone)
    assert agent.level.rank == rank
    assert agent.status == AgentStatus.ACTIVE
    assert not agent.user.is_staff
    response = client.post("/m/login/", {"username": phone, "password": AGENT_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/m/"
    home = client.get("/m/")
    assert home.status_code == 200
    assert home.context["agent"] == agent
    assert agent.real_name in home.content.decode()


def test_demo_login_agents_are_listed_in_the_output(demo):
    for rank in range(1, 6):
        assert f"1380000000{rank}" in demo


def test_demo_trees_verify_clean(demo):
    assert tree.verify(Relation.REFERRER) == []
    assert tree.verify(Relation.SUPPLIER) == []
    out = StringIO()
    call_command("tree", "verify", stdout=out)


def test_demo_supplier_is_of_a_higher_level(demo):
    agents = Agent.objects.select_related("level", "supplier__level", "referrer__level")
    for agent in agents:
        if agent.supplier is not None:
            assert agent.supplier.level.rank < agent.level.rank, agent
            assert agent.supplier.status == AgentStatus.ACTIVE
        if agent.referrer is not None:
            # nobody recruits above their own level
            assert agent.referrer.level.rank <= agent.level.rank, agent
    assert Agent.objects.filter(supplier__isnull=True, referrer__isnull=True).exists()


def test_demo_supplier_is_the_nearest_higher_upline(demo):
    from weishang.channel.selectors import resolve_supplier

    for agent in Agent.objects.select_related("level", "referrer__level"):
        assert agent.supplier == resolve_supplier(referrer=agent.referrer, level=agent.level), agent


def test_demo_pending_applications_go_to_resolved_approvers(demo):
    apps = Application.objects.select_related("inviter__level", "approver__level", "level")
    assert apps.count() == 5
    for app in apps:
        assert app.status == ApplicationStatus.PENDING
        assert app.inviter is not None and app.inviter.user.phone.startswith("1380000000")
        if app.level.approver == "brand":
            assert app.approver is None
        elif app.approver is not None:
            assert app.approver.level.rank < app.level.rank


def test_demo_orders_are_at_level_prices(demo):
    sku = SKU.objects.get(code="GLOW-30ML")
    prices = {lp.level_id: lp.price for lp in LevelPrice.objects.filter(sku=sku)}
    # (Pick-ups cost nothing: the units were paid for when they came into cloud stock.)
    for order in Order.objects.filter(buyer__isnull=False).exclude(kind="pickup").select_related("buyer__level"):
        assert order.total % prices[order.buyer.level_id] == 0
        assert order.total > 0
        if order.seller_id is not None:
            assert order.seller_id == order.buyer.supplier_id
    for sale in Order.objects.filter(kind="retail"):  # the retail price, less a coupon, or a flash sale's (M10)
        assert sale.customer_id is not None
        assert sale.subtotal == sum(line.line_total for line in sale.lines.all())
        for line in sale.lines.select_related("sku"):
            assert (
                line.unit_price == line.sku.retail_price
                or FlashSale.objects.filter(sku=line.sku, price=line.unit_price).exists()
            )


def test_demo_has_coupons_used_in_the_shop_and_a_flash_sale(demo):
    from weishang.ledger.selectors import ledger_verify
    from weishang.promotions import selectors as promotions

    brand_coupon = CouponOffer.objects.get(funded_by="brand")
    report = promotions.offer_report(offer=brand_coupon)
    assert report["paid_orders"] == 2 and report["discount"] == Decimal("60.00") and report["new_customers"] == 2
    assert Order.objects.filter(kind="retail", discount__gt=0).count() == 3
    sale = FlashSale.objects.get()
    assert promotions.flash_report(sale=sale)["units"] == 2 and sale.left == 48
    assert ledger_verify() == []


def test_demo_runs_on_the_lawful_plan_with_rewards_and_a_clean_ledger(demo):
    from weishang.ledger.selectors import ledger_verify
    from weishang.rewards.models import PlanAcknowledgement, PlanVersion, RewardLine, RewardStatus, SettlementRun
    from weishang.rewards.plan_versions import plan_in_force

    assert plan_in_force().plan_id == "glow-retail-first"
    assert PlanAcknowledgement.objects.get().findings[0]["rule"] == "CN-LOCK"  # its one HIGH, accepted
    drafts = set(PlanVersion.objects.filter(activated_at__isnull=True).values_list("plan_id", flat=True))
    assert drafts == {"glow-tiered", "glow-social-mall"}  # uploaded to compare; the linter keeps them out
    assert SettlementRun.objects.filter(finished_at__isnull=False).count() >= 3  # the finished months
    vip = Agent.objects.get(user__phone="13800000005")
    line = RewardLine.objects.get(beneficiary=vip, rule_id="retail-share")
    assert line.status == RewardStatus.FROZEN and "10%" in line.explanation_zh
    partner = Agent.objects.get(user__phone="13800000001")
    assert (
        RewardLine.objects.filter(
            beneficiary=partner, rule_id="month-retail-award", status=RewardStatus.AVAILABLE
        ).count()
        == 3
    )  # withdrawable
    assert ledger_verify() == []
    out = StringIO()
    call_command("ledger", "verify", stdout=out)
    assert "ledger ok" in out.getvalue()


def test_demo_purchasing_books_balance(demo):
    """The demo's purchasing: one order closed and its bill paid, one partly received with a jar
    rejected, a draft from the reorder rules — and the ledger, the valuation and payables agree."""
    from weishang.inventory.services import valuation_verify
    from weishang.ledger.selectors import ledger_verify
    from weishang.purchasing.models import BillStatus, POStatus, PurchaseOrder, SupplierBill
    from weishang.purchasing.selectors import payables_verify

    statuses = sorted(PurchaseOrder.objects.values_list("status", flat=True))
    assert POStatus.CLOSED in statuses and POStatus.PARTIAL in statuses and POStatus.DRAFT in statuses
    assert SupplierBill.objects.get().status == BillStatus.PAID
    partial = PurchaseOrder.objects.get(status=POStatus.PARTIAL)
    assert [(line.accepted, line.rejected) for line in partial.lines.all()] == [(149, 1)]
    assert ledger_verify() == [] and valuation_verify() == [] and payables_verify() == []
    out = StringIO()
    call_command("purchasing", "verify", stdout=out)
    assert "match" in out.getvalue()


def test_demo_b2b_deal_ran_its_course_and_the_books_agree(demo, client):
    """The demo's B2B trade: three rounds of negotiation, an order with its deposit, a partial
    shipment received, a claim closed by a credit note, a second inquiry waiting — and the
    brand's ledger, its valuation and its B2B receivables agree; the logins reach their pages."""
    from weishang.b2b.models import Inquiry, InquiryStatus, Order, OrderStatus
    from weishang.b2b.services import b2b_verify
    from weishang.inventory.services import valuation_verify
    from weishang.ledger.selectors import ledger_verify

    order = Order.objects.get()
    assert order.offer.round == 3 and order.status == OrderStatus.PARTIAL
    assert order.credit_notes.get().amount == 3 * order.lines.get(title__contains="精华").unit_price
    assert Inquiry.objects.filter(status=InquiryStatus.OPEN).count() == 1
    assert ledger_verify() == [] and valuation_verify() == [] and b2b_verify() == []
    from weishang.inventory.batches import batches_verify
    from weishang.inventory.models import BatchMove

    assert batches_verify() == []
    # the masks the salon received left the warehouse from their batches, first expiry first
    assert BatchMove.objects.filter(quantity__lt=0, stock_move__reason="b2b").exists()
    assert client.login(username="salon", password="weishang-demo")
    page = client.get(f"/b2b/orders/{order.pk}/")
    assert page.status_code == 200 and "SF1408822334455" in page.content.decode()


def test_demo_has_customer_service_on_the_city_login_shop(demo):
    from weishang.demo.services import LOGIN_PHONE
    from weishang.service.models import AutoReply, Conversation, QuickReply

    city = Agent.objects.get(user__phone=LOGIN_PHONE.format(rank=4))
    conversations = Conversation.objects.filter(agent=city)
    assert conversations.count() == 3 and QuickReply.objects.count() == 2 and AutoReply.objects.count() == 2
    answered = conversations.filter(first_response_at__isnull=False)
    assert answered.count() == 1 and answered.get().messages.filter(sent_by=city.user).exists()
    auto = conversations.filter(messages__automatic=True).distinct()
    assert auto.count() == 1 and auto.get().first_response_at is None
    assert conversations.filter(first_response_at__isnull=True, messages__direction="out").distinct().count() == 1
    run_demo()
    assert Conversation.objects.count() == 3 and QuickReply.objects.count() == 2
