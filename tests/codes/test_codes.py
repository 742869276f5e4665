"""Security and trace codes (M9): batches of box and item codes with a check character, scanned
as goods go out (the seller's fill page, the warehouse's pick-up), checked by the public, and
channel conflict (窜货): a code shipped to an agent in 杭州 and checked in 成都, a shop sale sent
outside the seller's region, and goods sold on by an agent they were not shipped to."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from weishang.catalog.models import SKU, Product
from weishang.channel import services as channel_services
from weishang.codes import symbols
from weishang.codes.models import ChannelConflict, CodeCheck, CodeMove, ConflictKind, ItemCode
from weishang.codes.services import batch_create, code_check, codes_scan, conflict_handle
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.models import Brand, SupplyMode
from weishang.trade import services as trade
from weishang.trade import workflow
from weishang.trade.models import Order, OrderStatus
from weishang.trade.stock import Move, location_for_agent, location_singleton, stock_move

pytestmark = pytest.mark.django_db
PASSWORD = "pass-word-1"  # conftest.make_agent's


def owner():
    User = get_user_model()
    return User.objects.filter(username="owner").first() or User.objects.create_superuser(
        username="owner", password=PASSWORD, phone="13000000001"
    )


@pytest.fixture
def world(make_agent):
    """An upline-ships brand: a 市代 in 杭州 holding 20 units at hand, supplying a 特约 in 杭州."""
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.NEAREST_HIGHER_UPLINE)
    product = Product.objects.create(name="焕颜精华")
    sku = SKU.objects.create(product=product, code="GLOW-30", name="焕颜精华 30ml", retail_price=Decimal("100"))
    city = make_agent("city", real_name="市代王芳")
    vip = make_agent("vip", referrer=city, real_name="特约李娜")
    for agent, region in ((city, "330100"), (vip, "330106")):
        channel_services.agent_set_region(agent=agent, region=region, by=owner())
        agent.refresh_from_db()
    stock_move(
        moves=[Move(location_singleton("supplier"), location_for_agent(city, "agent"), sku, 20)], reason="receipt"
    )
    batch = batch_create(sku=sku, boxes=2, per_box=5, by=owner())
    return {"sku": sku, "city": city, "vip": vip, "batch": batch}


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (7, 193, 96)).save(buffer, "PNG")
    return SimpleUploadedFile("transfer.png", buffer.getvalue(), content_type="image/png")


def paid_restock(world, units: int) -> Order:
    """The 特约's restock from the 市代, approved and paid by a confirmed transfer."""
    vip, city = world["vip"], world["city"]
    order = trade.order_submit(buyer=vip, lines=[(world["sku"].code, units)], by=vip.user)
    trade.order_approve(order=order, by=city.user)
    payment = trade.payment_submit_transfer(order=order, by=vip.user, screenshot=png())
    trade.payment_confirm(payment=payment, by=city.user)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order


def paid_sale(seller, **address) -> Order:
    """A shop order paid by a transfer the seller confirmed."""
    sale = trade.retail_order_submit(
        seller=seller, name="顾客", phone="13912345678", lines=[("GLOW-30", address.pop("units", 1))], **address
    )
    payment = trade.retail_payment_submit(order=sale, phone="13912345678", screenshot=png())
    trade.payment_confirm(payment=payment, by=seller.user)
    sale.refresh_from_db()
    assert sale.status == OrderStatus.PAID
    return sale


# --- the codes ---------------------------------------------------------------------------


def test_codes_are_random_with_a_check_character_and_read_back_from_what_people_type():
    codes = {symbols.new_item_code() for _ in range(500)}
    assert len(codes) == 500 and all(symbols.well_formed(c) and not symbols.is_box(c) for c in codes)
    box = symbols.new_box_code()
    assert symbols.is_box(box) and len(box) == 16
    code = next(iter(codes))
    # Every one-character mistake is caught by the check character.
    for i in range(len(code)):
        for other in symbols.ALPHABET:
            if other != code[i]:
                assert not symbols.well_formed(code[:i] + other + code[i + 1 :])
    typed = symbols.grouped(code).lower().replace("1", "l").replace("0", "o")
    assert symbols.split_input(f" {typed} \n\nhttps://brand.example/verify/?code={box}, {code}") == [code, box]


def test_a_batch_prints_box_codes_each_holding_its_item_codes(world):
    batch = world["batch"]
    assert batch.number.startswith("CB") and batch.items == 10
    assert batch.box_codes.count() == 2
    assert [box.items.count() for box in batch.box_codes.all()] == [5, 5]
    assert ItemCode.objects.filter(batch=batch).values("code").distinct().count() == 10
    with pytest.raises(BusinessError) as caught:
        batch_create(sku=world["sku"], boxes=1000, per_box=200, by=owner())
    assert caught.value.field == "boxes"
    with pytest.raises(Forbidden):
        batch_create(sku=world["sku"], boxes=1, per_box=1, by=world["city"].user)


# --- scanning as goods go out ---------------------------------------------------------------


def test_the_seller_scans_a_box_onto_a_paid_order_and_the_codes_follow_the_goods(world):
    order = paid_restock(world, 5)
    city, vip = world["city"], world["vip"]
    assert "scan_codes" in workflow.current().actions(order, workflow.Actor.SELLER)
    box = world["batch"].box_codes.first()
    codes_scan(order=order, by=city.user, text=box.code)
    items = ItemCode.objects.filter(box=box)
    assert {(i.holder_id, i.region_id, i.sold) for i in items} == {(vip.pk, "330106", False)}
    assert CodeMove.objects.filter(order=order).count() == 5
    # Scanning again is harmless; one more code than the order holds changes nothing.
    codes_scan(order=order, by=city.user, text=box.code)
    other = world["batch"].box_codes.last().items.first()
    with pytest.raises(BusinessError, match="5"):
        codes_scan(order=order, by=city.user, text=other.code)
    assert CodeMove.objects.filter(order=order).count() == 5
    trade.order_fill(order=order, by=city.user, carrier="顺丰", tracking_number="SF1")
    order.refresh_from_db()
    assert "scan_codes" not in workflow.current().actions(order, workflow.Actor.SELLER)
    with pytest.raises(Conflict):
        codes_scan(order=order, by=city.user, text=other.code)


def test_an_unknown_code_stops_the_scan_and_names_it(world):
    order = paid_restock(world, 2)
    real = world["batch"].item_codes.first().code
    fake = symbols.new_item_code()
    with pytest.raises(BusinessError) as caught:
        codes_scan(order=order, by=world["city"].user, text=f"{real}\n{fake}\nNOT-A-CODE")
    assert symbols.grouped(fake) in str(caught.value.message) and caught.value.field == "codes"
    assert not CodeMove.objects.exists()


def test_only_the_seller_scans_their_order(world, make_agent):
    order = paid_restock(world, 1)
    stranger = make_agent("city")
    with pytest.raises(Forbidden):
        codes_scan(order=order, by=stranger.user, text=world["batch"].item_codes.first().code)
    with pytest.raises(Forbidden):
        codes_scan(order=order, by=world["vip"].user, text=world["batch"].item_codes.first().code)
    assert not CodeMove.objects.exists()


def test_the_fill_page_offers_the_scan_before_the_fill_and_takes_it(world):
    order = paid_restock(world, 5)
    client = Client()
    assert client.login(username=world["city"].phone, password=PASSWORD)
    page = client.get(f"/m/fill/{order.number}/").content.decode()
    assert page.index('data-step="scan_codes"') < page.index(f'action="/m/fill/{order.number}/fill/"')
    assert 'name="codes"' in page and "data-scan-camera" in page
    box = world["batch"].box_codes.first().code
    response = client.post(f"/m/fill/{order.number}/scan-codes/", {"codes": box}, follow=True)
    assert "5 个码已扫描" in response.content.decode() and "本订单已扫 5 个码" in response.content.decode()
    bad = client.post(f"/m/fill/{order.number}/scan-codes/", {"codes": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"})
    assert bad.status_code == 400 and "不是本品牌的码" in bad.content.decode()


# --- the public check and channel conflict ----------------------------------------------------


def test_a_genuine_code_shows_level_and_region_only_and_many_checks_warn(world):
    order = paid_restock(world, 5)
    box = world["batch"].box_codes.first()
    codes_scan(order=order, by=world["city"].user, text=box.code)
    code = box.items.first().code
    first = code_check(text=symbols.grouped(code).lower(), ip="1.2.3.4")
    assert first.genuine and first.checks == 1 and not first.copy_warning
    assert (first.supplied_level, first.supplied_region) == ("特约", "浙江省 杭州市 西湖区")
    for _ in range(5):
        last = code_check(text=code)
    assert last.checks == 6 and last.copy_warning and last.first_checked_at == first.first_checked_at
    fake = code_check(text=symbols.new_item_code())
    assert not fake.genuine and fake.well_formed
    assert not code_check(text="HELLO").well_formed
    assert CodeCheck.objects.count() == 8 and CodeCheck.objects.filter(item__isnull=True).count() == 2
    assert not ChannelConflict.objects.exists()  # no place given: nothing to compare


def test_a_code_shipped_to_hangzhou_and_checked_in_chengdu_is_channel_conflict(world):
    order = paid_restock(world, 5)
    box = world["batch"].box_codes.first()
    codes_scan(order=order, by=world["city"].user, text=box.code)
    code = box.items.first()
    code_check(text=code.code, region="330106")  # checked in 杭州: fine
    assert not ChannelConflict.objects.exists()
    code_check(text=code.code, region="510104")  # 成都 锦江区
    code_check(text=code.code, region="510107")  # 成都 again: the same case
    case = ChannelConflict.objects.get()
    assert (case.kind, case.agent, case.agent_region_id, case.where.full_name) == (
        ConflictKind.CHECKED_ELSEWHERE,
        world["vip"],
        "330106",
        "四川省 成都市 锦江区",
    )
    with pytest.raises(BusinessError):
        conflict_handle(conflict=case, status="handled", note=" ", by=owner())
    conflict_handle(conflict=case, status="handled", note="已警告，扣除保证金", by=owner())
    case.refresh_from_db()
    assert case.status == "handled" and case.handled_by == owner()
    with pytest.raises(Forbidden):
        conflict_handle(conflict=case, status="dismissed", note="x", by=world["city"].user)


def test_goods_sold_on_by_an_agent_they_were_not_shipped_to_is_channel_conflict(world, make_agent):
    """The 市代 ships a box to the 特约; another 市代's shop sale then scans one of its codes."""
    order = paid_restock(world, 5)
    box = world["batch"].box_codes.first()
    codes_scan(order=order, by=world["city"].user, text=box.code)
    trade.order_fill(order=order, by=world["city"].user, carrier="顺丰", tracking_number="SF1")
    rival = make_agent("city", real_name="市代赵六")
    channel_services.agent_set_region(agent=rival, region="510100", by=owner())
    stock_move(
        moves=[Move(location_singleton("supplier"), location_for_agent(rival, "agent"), world["sku"], 5)],
        reason="receipt",
    )
    sale = paid_sale(rival, region="510104", address="春熙路 1 号")
    code = box.items.first()
    codes_scan(order=sale, by=rival.user, text=code.code)
    case = ChannelConflict.objects.get(kind=ConflictKind.OTHER_SELLER)
    assert (case.agent, case.other_agent, case.order) == (world["vip"], rival, sale)
    code.refresh_from_db()
    assert (code.holder, code.sold, code.region_id) == (rival, True, "510104")


def test_a_shop_sale_sent_outside_the_sellers_region_is_channel_conflict(world):
    seller = world["city"]
    sale = paid_sale(seller, region="510104", address="春熙路 1 号", units=2)
    items = list(world["batch"].item_codes.all()[:2])
    codes_scan(order=sale, by=seller.user, text="\n".join(i.code for i in items))
    cases = ChannelConflict.objects.filter(kind=ConflictKind.SOLD_ELSEWHERE)
    assert cases.count() == 2 and {c.agent for c in cases} == {seller}
    assert re.match(r"四川省 成都市", cases.first().where.full_name)


def test_a_cancelled_orders_codes_go_back_to_the_seller(world):
    """The 特约 cancels a paid order after the 市代 scanned a box onto it: the codes were never
    sent, so they go back to the 市代 (a reversing row each), and a public check no longer names
    the 特约's level."""
    from weishang.codes.services import codes_follow_events

    order = paid_restock(world, 5)
    box = world["batch"].box_codes.first()
    codes_scan(order=order, by=world["city"].user, text=box.code)
    trade.order_cancel(order=order, by=world["vip"].user, note="不要了")
    assert codes_follow_events() >= 1  # the outbox consumer, run as after the commit
    items = ItemCode.objects.filter(box=box)
    assert {(i.holder_id, i.region_id, i.sold) for i in items} == {(world["city"].pk, "330100", False)}
    assert CodeMove.objects.filter(order=order, back=True).count() == 5
    assert CodeMove.objects.filter(order=order, back=False).count() == 5  # the first rows stay
    assert codes_follow_events() == 0
    from weishang.codes.services import codes_return

    assert codes_return(order=order) == 0  # again: nothing more comes back
    assert code_check(text=items.first().code).supplied_level == "市代"
