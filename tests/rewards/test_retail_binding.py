"""A shop customer is bound to an agent only when a retail order is *paid* (M7, item 1).

The hijack it closes: an agent typed a stranger's phone into their own shop, left the order
unpaid, and the stranger's later real purchase in another agent's shop paid retail commission
to the first agent. An unpaid, expired or cancelled order binds nobody; the binding rules
(first, expiring, override) apply at payment time; the commission follows the binding as it
stood when the order was paid. Unpaid shop orders expire after the brand's limit and the
periodic job (`weishang orders expire`) cancels them, as the system.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from PIL import Image

from weishang.core.errors import Conflict
from weishang.core.models import Brand, CustomerBinding
from weishang.rewards.models import RewardKind, RewardLine, RewardStatus
from weishang.rewards.services import rewards_process
from weishang.trade import services as trade
from weishang.trade.models import Customer, Order, OrderStatus, OrderTransition, Payment, PaymentStatus
from weishang.trade.providers.fake import FakeProvider

VICTIM = "13900008888"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png() -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (10, 10), (255, 255, 255)).save(buffer, "PNG")
    return SimpleUploadedFile("pay.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def shops(catalog, make_agent, r):
    """The retail-first plan (10 % retail commission to the agent the customer is bound to);
    特约 赵 is the attacker, 特约 李 and 特约 王 sell for real. All three hold stock."""
    r.activate("glow-retail-first.yaml")
    attacker = make_agent("vip", real_name="特约赵")
    li = make_agent("vip", real_name="特约李")
    wang = make_agent("vip", real_name="特约王")
    for agent in (attacker, li, wang):
        r.receive(agent, catalog.skus["GLOW-50G"], 50)
    return attacker, li, wang


def binding(mode: str, days: int | None = None) -> None:
    Brand.objects.update(customer_binding=mode, customer_binding_days=days)


def place_in_shop(client: Client, seller, phone: str, units: int = 1) -> Order:
    """A shop order placed through the public shop page, as a browser (or an attacker) does."""
    from weishang.catalog.models import SKU

    url = f"/s/{seller.invite_code}/"
    page = client.get(url)
    token = re.search(r'name="token" value="([^"]+)"', page.content.decode()).group(1)
    sku = SKU.objects.get(code="GLOW-50G")
    response = client.post(
        url,
        {
            "token": token,
            f"q{sku.pk}": str(units),
            "name": "陈女士",
            "phone": phone,
            "region": "310104",
            "address": "漕溪北路 1 号",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return Order.objects.filter(seller=seller).latest("pk")


def pay_by_notice(order: Order) -> None:
    """WeChat Pay's signed notice, through the real notify endpoint."""
    body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=int(order.total * 100))
    response = Client().generic(
        "POST",
        "/pay/notify/fake/",
        body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )
    assert response.status_code == 200, response.content


def deliver(order: Order) -> Order:
    seller = order.seller
    trade.order_fill(order=order, by=seller.user, carrier="顺丰", tracking_number="SF0001")
    trade.order_mark_delivered(order=order, by=seller.user)
    rewards_process()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    return order


def commission(order: Order) -> dict[int, Decimal]:
    return dict(RewardLine.objects.filter(order=order, rule_id="retail-share").values_list("beneficiary", "amount"))


def victim() -> Customer:
    return Customer.objects.get(phone=VICTIM)


# --- the whole story ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode, days", [(CustomerBinding.FIRST, None), (CustomerBinding.EXPIRING, 90), (CustomerBinding.OVERRIDE, None)]
)
def test_an_unpaid_order_with_a_strangers_phone_earns_the_attacker_nothing(shops, mode, days):
    attacker, li, _wang = shops
    binding(mode, days)
    bait = place_in_shop(Client(), attacker, VICTIM)  # typed into the attacker's own shop, never paid
    assert bait.status == OrderStatus.AWAITING_PAYMENT
    assert victim().bound_agent is None  # an unpaid order binds nobody

    real = place_in_shop(Client(), li, VICTIM, units=2)  # the stranger's real purchase at 李's shop
    assert victim().bound_agent is None  # still nobody: not paid yet
    pay_by_notice(real)
    assert victim().bound_agent == li
    real = deliver(real)

    assert commission(real) == {li.pk: Decimal("39.60")}  # 10 % × 2 × 198, to the real seller
    assert not RewardLine.objects.filter(beneficiary=attacker).exists()
    assert real.bound_agent == li


def test_a_cancelled_or_expired_order_binds_nobody(shops):
    attacker, li, _wang = shops
    cancelled = trade.retail_order_submit(
        seller=attacker, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)]
    )
    trade.order_cancel(order=cancelled, by=attacker.user)
    expired = trade.retail_order_submit(
        seller=attacker, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)]
    )
    Order.objects.filter(pk=expired.pk).update(submitted_at=timezone.now() - timedelta(hours=25))
    call_command("orders", "expire")
    cancelled.refresh_from_db()
    expired.refresh_from_db()
    assert (cancelled.status, expired.status) == (OrderStatus.CANCELLED, OrderStatus.CANCELLED)
    assert victim().bound_agent is None
    with pytest.raises(Conflict):  # the expired order cannot be paid any more
        trade.payment_credit_from_provider(
            notice=FakeProvider().parse_notification(
                *reversed(FakeProvider.notification(out_trade_no=expired.number, amount_fen=19800))
            )
        )
    assert victim().bound_agent is None
    real = trade.retail_order_submit(seller=li, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)])
    pay_by_notice(real)
    assert commission(deliver(real)) == {li.pk: Decimal("19.80")}


def test_a_paid_order_cancelled_afterwards_binds_nobody(shops):
    """The attacker pays the bait order through WeChat Pay with their own money, the stranger then
    pays a real order at 李's shop, and the bait is cancelled (refunded): the binding is worked out
    again without it, for the real order too."""
    attacker, li, _wang = shops
    binding(CustomerBinding.FIRST)
    bait = trade.retail_order_submit(
        seller=attacker, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)]
    )
    pay_by_notice(bait)
    assert victim().bound_agent == attacker  # paid through the provider: bound at payment
    real = trade.retail_order_submit(seller=li, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)])
    pay_by_notice(real)
    real.refresh_from_db()
    assert real.bound_agent == attacker
    trade.order_cancel(order=bait, by=attacker.user)
    assert victim().bound_agent == li  # as if the bait had never been paid
    assert commission(deliver(real)) == {li.pk: Decimal("19.80")}
    assert not RewardLine.objects.filter(beneficiary=attacker).exists()


def test_a_returned_order_binds_nobody(shops):
    attacker, li, _wang = shops
    binding(CustomerBinding.FIRST)
    bait = trade.retail_order_submit(
        seller=attacker, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)]
    )
    pay_by_notice(bait)
    deliver(bait)
    trade.refund_request(order=bait, by=attacker.user, note="退货")
    trade.refund_approve(order=bait, by=attacker.user)
    assert victim().bound_agent is None
    real = trade.retail_order_submit(seller=li, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)])
    pay_by_notice(real)
    assert victim().bound_agent == li
    assert commission(deliver(real)) == {li.pk: Decimal("19.80")}
    rewards_process()
    assert all(
        line.status == RewardStatus.CANCELLED
        for line in RewardLine.objects.filter(beneficiary=attacker, kind=RewardKind.REWARD)
    )


# --- the binding rules, applied when an order is paid --------------------------------------


def test_first_binding_is_the_first_paid_order_not_the_first_placed(shops):
    _attacker, li, wang = shops
    binding(CustomerBinding.FIRST)
    at_wang = trade.retail_order_submit(
        seller=wang, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)]
    )  # placed first, paid second
    at_li = trade.retail_order_submit(seller=li, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)])
    pay_by_notice(at_li)
    pay_by_notice(at_wang)
    assert victim().bound_agent == li  # the first *paid* order bound her, and the binding holds
    assert commission(deliver(at_wang)) == {li.pk: Decimal("19.80")}
    assert commission(deliver(at_li)) == {li.pk: Decimal("19.80")}


def test_commission_follows_the_binding_as_it_stood_when_the_order_was_paid(shops):
    _attacker, li, wang = shops
    binding(CustomerBinding.OVERRIDE)
    at_li = trade.retail_order_submit(seller=li, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)])
    pay_by_notice(at_li)
    at_wang = trade.retail_order_submit(
        seller=wang, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)]
    )
    pay_by_notice(at_wang)  # the last agent takes the customer ...
    assert victim().bound_agent == wang
    assert commission(deliver(at_li)) == {li.pk: Decimal("19.80")}  # ... but 李's sale was paid while bound to 李
    assert commission(deliver(at_wang)) == {wang.pk: Decimal("19.80")}


def test_an_expiring_binding_renews_and_moves_only_on_payment(shops):
    _attacker, li, wang = shops
    binding(CustomerBinding.EXPIRING, 30)
    first = trade.retail_order_submit(seller=li, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)])
    pay_by_notice(first)
    Customer.objects.filter(phone=VICTIM).update(bound_at=timezone.now() - timedelta(days=31))
    unpaid = trade.retail_order_submit(
        seller=wang, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)]
    )
    assert victim().bound_agent == li  # expired, but an unpaid order does not take her
    pay_by_notice(unpaid)
    assert victim().bound_agent == wang
    assert commission(deliver(unpaid)) == {wang.pk: Decimal("19.80")}


def test_a_transfer_confirmed_by_its_seller_binds_when_the_order_is_filled(shops):
    _attacker, li, _wang = shops
    order = trade.retail_order_submit(seller=li, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)])
    payment = trade.retail_payment_submit(order=order, phone=VICTIM, screenshot=png())
    assert victim().bound_agent is None  # a screenshot is not a payment yet
    trade.payment_confirm(payment=payment, by=li.user)
    assert victim().bound_agent is None  # paid on the seller's word: not yet
    trade.order_fill(order=order, by=li.user)  # the goods leave 李's stock for the customer
    assert victim().bound_agent == li
    order.refresh_from_db()
    assert order.bound_agent == li


# --- expiry ---------------------------------------------------------------------------------


def age(order: Order, hours: float) -> None:
    Order.objects.filter(pk=order.pk).update(submitted_at=timezone.now() - timedelta(hours=hours))


def shop_order(seller) -> Order:
    return trade.retail_order_submit(
        seller=seller, name="陈女士", phone=VICTIM, address="上海", lines=[("GLOW-50G", 1)]
    )


def test_unpaid_shop_orders_expire_after_the_brands_limit_as_the_system(shops):
    attacker, li, _wang = shops
    Brand.objects.update(retail_unpaid_hours=2)
    old, young = shop_order(attacker), shop_order(li)
    age(old, 3)
    age(young, 1)
    restock = trade.order_submit(buyer=li, lines=[("GLOW-50G", 1)], by=li.user)  # not a shop order
    Order.objects.filter(pk=restock.pk).update(submitted_at=timezone.now() - timedelta(days=5))
    call_command("orders", "expire")
    old.refresh_from_db()
    young.refresh_from_db()
    restock.refresh_from_db()
    assert old.status == OrderStatus.CANCELLED
    assert (young.status, restock.status) == (OrderStatus.AWAITING_PAYMENT, OrderStatus.SUBMITTED)
    last = OrderTransition.objects.filter(order=old).latest("pk")
    assert last.by is None and last.to_status == OrderStatus.CANCELLED and "2" in last.note
    call_command("orders", "expire")  # again: nothing more
    assert OrderTransition.objects.filter(order=old, to_status=OrderStatus.CANCELLED).count() == 1


def test_the_consumer_is_told_when_the_order_expires(shops):
    _attacker, li, _wang = shops
    Brand.objects.update(retail_unpaid_hours=24)
    order = shop_order(li)
    url = f"/s/{li.invite_code}/o/{order.number}/?phone={VICTIM}"
    deadline = timezone.localtime(order.submitted_at + timedelta(hours=24))
    text = Client().get(url).content.decode()  # Chinese by default
    assert f"请在 {deadline:%Y-%m-%d %H:%M} 前付款" in text
    trade.retail_payment_submit(order=order, phone=VICTIM, screenshot=png())
    assert 'data-testid="pay-by"' not in Client().get(url).content.decode()  # waiting for the seller instead


def test_wechat_pay_stops_taking_money_when_the_order_expires(shops, monkeypatch):
    """The provider is told the deadline (WeChat Pay's time_expire), and the job waits a grace period
    past it, so a payment made at the last second is credited rather than refused."""
    _attacker, li, _wang = shops
    Brand.objects.update(retail_unpaid_hours=24)
    order = shop_order(li)
    asked = []
    real_create = FakeProvider.create_payment
    monkeypatch.setattr(
        FakeProvider,
        "create_payment",
        lambda self, request, channel="jsapi": asked.append(request) or real_create(self, request, channel=channel),
    )
    trade.payment_online_start(order=order, channel="native")
    deadline = timezone.localtime(order.submitted_at + timedelta(hours=24))
    assert asked[0].time_expire == deadline.isoformat(timespec="seconds")

    age(order, 24 + 1 / 60)  # a minute past the deadline: WeChat takes no more money ...
    order.refresh_from_db()
    with pytest.raises(Conflict):
        trade.payment_online_start(order=order, channel="native")
    call_command("orders", "expire")
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT  # ... and a notice of a last-second payment is awaited
    pay_by_notice(order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID

    late = shop_order(li)
    age(late, 24.5)  # past the grace: cancelled
    call_command("orders", "expire")
    late.refresh_from_db()
    assert late.status == OrderStatus.CANCELLED


def test_a_paid_order_is_never_expired_even_when_the_payment_lands_at_the_same_moment(shops):
    _attacker, li, _wang = shops
    order = shop_order(li)
    age(order, 48)
    pay_by_notice(order)  # paid after the job listed it as a candidate, before it took the lock
    assert trade.retail_order_expire_one(order=order.pk, now=timezone.now()) is False
    call_command("orders", "expire")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and victim().bound_agent == li


def test_a_pending_transfer_holds_the_order_and_a_rejection_restarts_the_clock(shops):
    _attacker, li, _wang = shops
    order = shop_order(li)
    payment = trade.retail_payment_submit(order=order, phone=VICTIM, screenshot=png())
    age(order, 30)
    call_command("orders", "expire")
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT  # the consumer says they paid: the seller decides
    trade.payment_reject(payment=payment, by=li.user, note="没有收到")
    call_command("orders", "expire")
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT  # the consumer gets the brand's time again to pay
    Payment.objects.filter(pk=payment.pk).update(decided_at=timezone.now() - timedelta(hours=25))
    call_command("orders", "expire")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.REJECTED


def test_the_expiry_limit_is_a_brand_setting_with_a_validator(catalog, client):
    from django.contrib.auth import get_user_model

    from weishang.core.roles import role_group_name, roles_sync

    roles_sync()
    owner = get_user_model().objects.create_user(username="owner", password="staff-pass-123", is_staff=True)
    from django.contrib.auth.models import Group

    owner.groups.add(Group.objects.get(name=role_group_name("owner")))
    assert client.login(username="owner", password="staff-pass-123")
    client.cookies["django_language"] = "en"
    brand = Brand.objects.get()
    assert brand.retail_unpaid_hours == 24
    url = f"/console/core/brand/{brand.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="retail_unpaid_hours"' in page.content.decode()
    form = {
        "name": brand.name,
        "currency": brand.currency,
        "timezone": brand.timezone,
        "jurisdiction": brand.jurisdiction,
        "supply_mode": brand.supply_mode,
        "customer_binding": brand.customer_binding,
        "customer_binding_days": "",
        "retail_unpaid_hours": "0",
        "stuck_after_hours": str(brand.stuck_after_hours),
    }
    refused = client.post(url, form)
    assert refused.status_code == 200 and "Enter at least 1 hour." in refused.content.decode()
    assert Brand.objects.get().retail_unpaid_hours == 24
    too_long = client.post(url, {**form, "retail_unpaid_hours": "721"})
    assert too_long.status_code == 200 and "Enter at most 720 hours (30 days)." in too_long.content.decode()
    for hostile in ("-5", "1e3", "二十四", "99999999999999999999"):
        assert client.post(url, {**form, "retail_unpaid_hours": hostile}).status_code == 200, hostile
    assert Brand.objects.get().retail_unpaid_hours == 24
    saved = client.post(url, {**form, "retail_unpaid_hours": "48"})
    assert saved.status_code == 302 and Brand.objects.get().retail_unpaid_hours == 48

    finance = get_user_model().objects.create_user(username="finance", password="staff-pass-123", is_staff=True)
    finance.groups.add(Group.objects.get(name=role_group_name("finance")))  # only the owner sets it
    other = Client()
    assert other.login(username="finance", password="staff-pass-123")
    assert other.post(url, {**form, "retail_unpaid_hours": "1"}).status_code == 403
    assert Brand.objects.get().retail_unpaid_hours == 48


def test_the_migration_undoes_bindings_made_by_unpaid_orders(shops):
    """trade.0004 on data written before M7, when a shop order bound its customer when placed."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("weishang.trade.migrations.0004_order_bound_agent_at_payment")
    attacker, li, _wang = shops
    bait = shop_order(attacker)  # unpaid, with the stranger's phone: it used to bind her
    Customer.objects.filter(phone=VICTIM).update(bound_agent=attacker, bound_at=timezone.now())
    regular = trade.retail_order_submit(
        seller=li, name="老顾客", phone="13900007777", address="上海", lines=[("GLOW-50G", 1)]
    )
    pay_by_notice(regular)
    Order.objects.filter(pk=regular.pk).update(bound_agent=None)  # as before the column existed
    migration.bind_on_payment(apps, None)
    assert victim().bound_agent is None
    assert Customer.objects.get(phone="13900007777").bound_agent == li
    assert Order.objects.get(pk=regular.pk).bound_agent == li
    assert Order.objects.get(pk=bait.pk).bound_agent is None


def test_the_command_can_be_run_as_of_a_time(shops):
    from django.core.management.base import CommandError

    _attacker, li, _wang = shops
    order = shop_order(li)
    call_command("orders", "expire", now=(timezone.now() + timedelta(hours=23)).isoformat())
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    call_command("orders", "expire", now=(timezone.now() + timedelta(hours=25)).isoformat())
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    with pytest.raises(CommandError, match="not a date-time"):
        call_command("orders", "expire", now="yesterday")


# --- a transfer the seller confirms on their own word binds when the goods go out ------------


def seller_client(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def test_a_self_confirmed_transfer_binds_nobody_until_the_seller_fills_the_order(shops):
    """The hijack by a transfer the seller 'confirms' themselves: the attacker types the stranger's
    phone into their own shop, uploads any picture on the consumer's pay page (they know the phone),
    confirms it on their phone and never fills the order. The stranger's real purchase at 李's shop,
    paid through WeChat Pay, is 李's customer and 李's commission; once the bait IS filled (the goods
    leave the attacker's stock for the customer), the binding follows the brand's rule from then."""
    attacker, li, _wang = shops
    binding(CustomerBinding.OVERRIDE)
    consumer = Client()
    bait = place_in_shop(consumer, attacker, VICTIM)
    pay_page = f"/s/{attacker.invite_code}/o/{bait.number}/?phone={VICTIM}"
    assert consumer.post(pay_page, {"screenshot": png(), "reference": "随便一张图"}).status_code == 302
    payment = Payment.objects.get(order=bait)
    as_attacker = seller_client(attacker)
    response = as_attacker.post(f"/m/fill/{bait.number}/payments/{payment.pk}/confirm/", {"note": "收到"})
    assert response.status_code == 302
    bait.refresh_from_db()
    assert bait.status == OrderStatus.PAID  # paid, on the seller's word alone ...
    assert victim().bound_agent is None and bait.bound_agent is None  # ... which binds nobody

    real = place_in_shop(Client(), li, VICTIM, units=2)  # the stranger's real purchase, WeChat Pay
    pay_by_notice(real)
    real.refresh_from_db()
    assert victim().bound_agent == li and real.bound_agent == li
    real = deliver(real)
    assert commission(real) == {li.pk: Decimal("39.60")}
    assert not RewardLine.objects.filter(beneficiary=attacker).exists()

    # The attacker fills the bait after all: the goods leave their stock for the customer, and
    # under "override" the last agent who sold to her takes her from now on.
    response = as_attacker.post(f"/m/fill/{bait.number}/fill/", {"carrier": "顺丰", "tracking_number": "SF9"})
    assert response.status_code == 302, response.content.decode()[:500]
    bait.refresh_from_db()
    assert bait.status == OrderStatus.FULFILLED
    assert victim().bound_agent == attacker and bait.bound_agent == attacker
    trade.order_mark_delivered(order=bait, by=attacker.user)
    rewards_process()
    assert commission(bait) == {attacker.pk: Decimal("19.80")}
    assert commission(Order.objects.get(pk=real.pk)) == {li.pk: Decimal("39.60")}  # 李's sale stays 李's


def test_under_first_binding_a_self_confirmed_order_filled_later_comes_second(shops):
    """First binding: the bait was paid (on the attacker's word) before 李's real sale, but bound
    nobody until it was filled, after 李's sale: the customer stays 李's, also when the binding is
    worked out again (李's later order cancelled: the bait, filled, then binds her)."""
    attacker, li, _wang = shops
    binding(CustomerBinding.FIRST)
    bait = shop_order(attacker)
    trade.payment_confirm(
        payment=trade.retail_payment_submit(order=bait, phone=VICTIM, screenshot=png()), by=attacker.user
    )
    real = shop_order(li)
    pay_by_notice(real)
    trade.order_fill(order=bait, by=attacker.user)
    bait.refresh_from_db()
    assert victim().bound_agent == li and bait.bound_agent == li
    trade.order_cancel(order=real, by=li.user)
    bait.refresh_from_db()
    assert victim().bound_agent == attacker and bait.bound_agent == attacker
    another = shop_order(attacker)
    trade.payment_confirm(
        payment=trade.retail_payment_submit(order=another, phone=VICTIM, screenshot=png()), by=attacker.user
    )
    # An unfilled self-confirmed order does not count when the binding is worked out again.
    trade.refund_request(order=bait, by=attacker.user, note="退货")
    trade.refund_approve(order=bait, by=attacker.user)
    assert victim().bound_agent is None
    another.refresh_from_db()
    assert another.bound_agent is None


def test_a_provider_paid_or_brand_confirmed_shop_order_binds_at_payment(shops, django_user_model):
    from django.contrib.auth.models import Group

    from weishang.core.roles import role_group_name, roles_sync

    attacker, li, wang = shops
    binding(CustomerBinding.OVERRIDE)
    online = shop_order(li)
    pay_by_notice(online)  # signed by the provider: bound now, before any fill
    online.refresh_from_db()
    assert online.status == OrderStatus.PAID and victim().bound_agent == li and online.bound_agent == li

    roles_sync()
    finance = django_user_model.objects.create_user(username="fin", password="staff-pass-123", is_staff=True)
    finance.groups.add(Group.objects.get(name=role_group_name("finance")))
    checked = shop_order(wang)
    trade.payment_confirm(
        payment=trade.retail_payment_submit(order=checked, phone=VICTIM, screenshot=png()), by=finance
    )  # brand finance checked the transfer: bound now
    checked.refresh_from_db()
    assert victim().bound_agent == wang and checked.bound_agent == wang
    trade.order_fill(order=checked, by=wang.user)  # filling does not bind again
    assert victim().bound_agent == wang
