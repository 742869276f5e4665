"""Inventory as the brand's staff use it: a company fill costs its goods, the console's pages and who
may use them, reorder rules and what they propose, low-stock alerts told once, the command."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import CommandError, call_command

from tests.stock_helpers import receive
from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.core.models import Brand, OutboxEvent, SupplyMode
from weishang.core.roles import role_group_name, roles_sync
from weishang.inventory import selectors, services
from weishang.inventory.models import ReorderRule, SkuValuation
from weishang.ledger.models import Account, Purpose
from weishang.ledger.selectors import ledger_verify
from weishang.trade import services as trade
from weishang.trade import stock
from weishang.trade.models import LocationKind, StockReason
from weishang.trade.stock import Move

pytestmark = pytest.mark.django_db
D = Decimal
_seq = itertools.count(1)


@pytest.fixture
def staff(db):
    roles_sync()

    def make(role: str, email: str = ""):
        user = get_user_model().objects.create_user(
            username=f"{role}-{next(_seq)}", password="staff-pass-123", is_staff=True, email=email
        )
        user.groups.add(Group.objects.get(name=role_group_name(role)))
        return get_user_model().objects.get(pk=user.pk)

    return make


@pytest.fixture
def sku(db, levels):
    product = Product.objects.create(name="焕颜面霜")
    sku = SKU.objects.create(product=product, code="CREAM", name="面霜 50g", retail_price=D("198.00"))
    LevelPrice.objects.create(sku=sku, level=levels["general"], price=D("90.00"))
    return sku


def warehouse():
    return stock.location_singleton(LocationKind.WAREHOUSE)


def brand_balance(purpose):
    account = Account.objects.filter(owner__isnull=True, purpose=purpose).first()
    return account.balance if account else D("0.00")


def test_the_company_filling_an_agents_order_costs_the_goods_it_ships(sku, make_agent, staff):
    """A 总代 with no upline buys 20 units (their minimum) from the company at ¥90: the warehouse holds
    30 bought at ¥30 and 15 at ¥36 (45 units worth 900 + 540 = 1,440, ¥32.00 each), so the cost of
    goods sold is 20 × 32 = ¥640.00 and 25 units worth ¥800.00 stay."""
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    boss = staff("owner")
    receive(sku, 30, unit_cost="30.00")
    receive(sku, 15, unit_cost="36.00")
    buyer = make_agent("general")
    order = trade.order_submit(buyer=buyer, lines=[(sku, 20)], by=buyer.user)
    assert order.seller_id is None  # the company sells
    trade.order_approve(order=order, by=boss)
    payment = trade.payment_submit_transfer(order=order, by=buyer.user, screenshot=_png())
    trade.payment_confirm(payment=payment, by=boss)
    trade.order_fill(order=order, by=boss)
    assert SkuValuation.objects.get(sku=sku).quantity == 25
    assert SkuValuation.objects.get(sku=sku).value == D("800.00")
    assert brand_balance(Purpose.BRAND_COST_OF_GOODS_SOLD) == D("640.00")  # 20 × 32, not 20 × 90
    assert services.valuation_verify() == [] and ledger_verify() == []


def _png():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 40), (10, 200, 10)).save(buf, format="PNG")
    return SimpleUploadedFile("transfer.png", buf.getvalue(), content_type="image/png")


# --- reorder rules -----------------------------------------------------------------------------


def test_a_rule_proposes_up_to_its_maximum_in_its_multiples_counting_what_is_on_order(sku):
    """Minimum 40, maximum 100, multiples of 12; 25 on hand → order 100 − 25 = 75 → 84 (7 × 12).
    With 20 more on order: 45 ≥ 40, nothing. With 10 on order: 35 < 40 → 65 → 72."""
    receive(sku, 25, unit_cost="10.00")
    rule = services.reorder_rule_save(sku=sku, minimum=40, maximum=100, multiple=12)
    [proposal] = selectors.reorder_proposals()
    assert (proposal.rule, proposal.on_hand, proposal.incoming, proposal.quantity) == (rule, 25, 0, 84)
    coming = {(sku.pk, warehouse().pk): 20}
    installed = list(selectors._incoming)  # purchasing's provider, installed when the app is ready
    selectors.set_incoming_units(lambda: coming)
    try:
        assert selectors.reorder_proposals() == []
        coming[(sku.pk, warehouse().pk)] = 10
        assert [p.quantity for p in selectors.reorder_proposals()] == [72]
    finally:
        selectors._incoming[:] = installed


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"minimum": 10, "maximum": 5}, "maximum"),
        ({"minimum": -1, "maximum": 5}, "minimum"),
        ({"multiple": 0}, "multiple"),
    ],
)
def test_a_bad_rule_is_refused_on_its_field(sku, kw, field):
    args = {"minimum": 1, "maximum": 10, "multiple": 1} | kw
    with pytest.raises(Exception) as refused:
        services.reorder_rule_save(sku=sku, **args)
    assert refused.value.field == field and not ReorderRule.objects.exists()


def test_low_stock_is_told_once_and_again_only_after_it_was_back_above(sku, staff, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    staff("warehouse", email="cang@example.com")
    staff("finance", email="cai@example.com")  # finance is not told of stock
    receive(sku, 5, unit_cost="10.00")
    services.reorder_rule_save(sku=sku, minimum=10, maximum=30, multiple=1)
    assert services.low_stock_alerts() == 1
    assert services.low_stock_alerts() == 0  # still low: not told twice
    [message] = mail.outbox
    assert message.to == ["cang@example.com"] and "CREAM" in message.body and "25" in message.body
    event = OutboxEvent.objects.get(topic="inventory.low_stock")
    assert event.payload["propose"] == 25 and event.payload["on_hand"] == 5
    receive(sku, 20, unit_cost="10.00")
    assert services.low_stock_alerts() == 0  # back above: re-armed
    stock.stock_move(moves=[Move(warehouse(), stock.location_singleton(LocationKind.SCRAP), sku, 20)], reason="scrap")
    assert services.low_stock_alerts() == 1 and len(mail.outbox) == 2


# --- the console ------------------------------------------------------------------------------


def test_finance_sets_the_cost_of_stock_found_without_one_in_the_console(client, sku, staff):
    stock.stock_move(
        moves=[Move(stock.location_singleton(LocationKind.SUPPLIER), warehouse(), sku, 8)],
        reason=StockReason.RECEIPT,
        counter=Purpose.BRAND_CASH,
    )
    val = SkuValuation.objects.get(sku=sku)
    client.force_login(staff("finance"))
    page = client.get(f"/console/inventory/skuvaluation/{val.pk}/change/")
    assert page.status_code == 200 and "设置成本" in page.content.decode()
    url = f"/console/inventory/skuvaluation/{val.pk}/set-cost/"
    for bad in ("-3", "abc", "1e9", "12.123456"):
        refused = client.post(url, {"unit_cost": bad})
        assert refused.status_code == 400
        assert SkuValuation.objects.get(pk=val.pk).value == 0
    done = client.post(url, {"unit_cost": "15.50", "note": "供应商发票 F-88"}, follow=True)
    assert "¥15.50" in done.content.decode()
    assert SkuValuation.objects.get(pk=val.pk).value == D("124.00")
    assert brand_balance(Purpose.BRAND_OPENING_BALANCE) == D("124.00")


@pytest.mark.parametrize("role", ["warehouse", "operations"])
def test_the_warehouse_and_operations_see_no_costs(client, sku, staff, role):
    receive(sku, 2, unit_cost="10.00")
    val = SkuValuation.objects.get(sku=sku)
    client.force_login(staff(role))
    assert client.get("/console/inventory/skuvaluation/").status_code == 403
    assert client.post(f"/console/inventory/skuvaluation/{val.pk}/set-cost/", {"unit_cost": "1"}).status_code == 403
    assert client.get("/console/inventory/reorderrule/").status_code == 200
    assert SkuValuation.objects.get(pk=val.pk).value == D("20.00")


def test_the_warehouse_keeps_a_reorder_rule_and_sees_what_to_order(client, sku, staff):
    receive(sku, 3, unit_cost="10.00")
    client.force_login(staff("warehouse"))
    add = "/console/inventory/reorderrule/add/"
    bad = client.post(add, {"sku": sku.pk, "location": warehouse().pk, "minimum": 20, "maximum": 10, "multiple": 1})
    assert bad.status_code == 200 and not ReorderRule.objects.exists()
    ok = client.post(
        add, {"sku": sku.pk, "location": warehouse().pk, "minimum": 20, "maximum": 50, "multiple": 10, "active": "on"}
    )
    assert ok.status_code == 302
    listing = client.get("/console/inventory/reorderrule/").content.decode()
    assert 'data-propose="CREAM">50<' in listing  # 50 − 3 = 47 → 50


def test_the_command_verifies_values_and_opens(sku, capsys):
    from weishang.trade.models import StockLevel, StockMove

    StockMove.objects.create(
        from_location=stock.location_singleton(LocationKind.SUPPLIER),
        to_location=warehouse(),
        sku=sku,
        quantity=4,
        reason="receipt",
    )
    StockLevel.objects.create(location=warehouse(), sku=sku, quantity=4)
    with pytest.raises(CommandError):
        call_command("inventory", "open", "--cost", "NOPE=1")
    call_command("inventory", "open", "--cost", "CREAM=9.75")
    call_command("inventory", "verify")
    call_command("inventory", "value")
    out = capsys.readouterr().out
    assert "opened 4 units" in out and "¥39.00" in out and "average ¥9.75" in out
    SkuValuation.objects.filter(sku=sku).update(value=D("1.00"))
    with pytest.raises(CommandError):
        call_command("inventory", "verify")
