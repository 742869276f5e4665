"""M7 item 9 in the console: a paid order not filled within the brand's hours is in the stuck
queue (and waiting for the brand), with its ways out as buttons for the roles that decide orders;
and the brand's receiving accounts are managed by owner and finance (M7 item 11)."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from tests.stock_helpers import receive
from weishang.catalog.models import SKU, Product
from weishang.core.models import Brand, SupplyMode
from weishang.core.roles import role_group_name, roles_sync
from weishang.ledger.selectors import ledger_verify
from weishang.trade import services, stock
from weishang.trade.models import LocationKind, Order, OrderNotice, OrderStatus, ReceivingAccount
from weishang.trade.stock import stock_verify

pytestmark = pytest.mark.django_db


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "PNG")
    return SimpleUploadedFile("x.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def staff(db, django_user_model):
    roles_sync()

    def make(role: str):
        user = django_user_model.objects.create_user(username=f"{role}-staff", password="staff-pass-123", is_staff=True)
        user.groups.add(Group.objects.get(name=role_group_name(role)))
        return user

    return make


@pytest.fixture
def stuck(make_agent):
    """A 特约's order of 3 units paid by transfer to their 市代, who holds none; paid 3 days ago."""
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    sku = SKU.objects.create(
        product=Product.objects.create(name="精华"), code="S-1", name="精华 30ml", retail_price=Decimal("100")
    )
    city = make_agent("city", real_name="市代王芳")
    vip = make_agent("vip", referrer=city, real_name="特约李娜")
    order = services.order_submit(buyer=vip, lines=[(sku, 3)], by=vip.user)
    services.order_approve(order=order, by=city.user)
    payment = services.payment_submit_transfer(order=order, by=vip.user, screenshot=png())
    services.payment_confirm(payment=payment, by=city.user)
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(hours=72))
    order.refresh_from_db()
    return order


def url(name: str, order: Order) -> str:
    return reverse(f"admin:trade_order_{name}", args=[order.pk])


def test_a_stuck_order_is_in_the_stuck_queue_and_waits_for_the_brand(client, staff, stuck):
    client.force_login(staff("operations"))
    listing = client.get(reverse("admin:trade_order_changelist") + "?waiting=stuck").content.decode()
    assert stuck.number in listing
    assert stuck.number in client.get(reverse("admin:trade_order_changelist") + "?brand_to_act=yes").content.decode()
    index = client.get(reverse("admin:index")).content.decode()
    assert "waiting=stuck" in index
    detail = client.get(reverse("admin:trade_order_change", args=[stuck.pk])).content.decode()
    for name in ("company_fill", "reassign", "stuck_refund"):
        assert url(name, stuck) in detail
    # Brand setting: with a week's patience it is not stuck yet.
    Brand.objects.update(stuck_after_hours=24 * 7)
    assert stuck.number not in client.get(reverse("admin:trade_order_changelist") + "?waiting=stuck").content.decode()
    assert (
        url("company_fill", stuck)
        not in client.get(reverse("admin:trade_order_change", args=[stuck.pk])).content.decode()
    )


def test_operations_has_the_company_fill_it_into_the_buyers_cloud_stock(client, staff, stuck):
    sku = stuck.lines.get().sku
    receive(sku, 5)
    client.force_login(staff("operations"))
    page = client.get(url("company_fill", stuck)).content.decode()
    assert 'data-testid="availability"' in page
    refused = client.post(url("company_fill", stuck), {"note": ""})
    assert refused.status_code == 400
    response = client.post(url("company_fill", stuck), {"note": "市代无货，公司代发"})
    assert response.status_code == 302
    stuck.refresh_from_db()
    assert stuck.status == OrderStatus.COMPLETED and stuck.seller is None
    assert stock.on_hand(location=stock.location_for_agent(stuck.buyer, LocationKind.CLOUD), sku=sku) == 3
    assert ledger_verify() == [] and stock_verify() == []


@pytest.mark.parametrize("role", ["warehouse", "finance", "lecturer"])
def test_roles_that_do_not_decide_orders_cannot_take_a_way_out(client, staff, stuck, role):
    client.force_login(staff(role))
    for name in ("company_fill", "reassign", "stuck_refund"):
        assert client.post(url(name, stuck), {"note": "x"}).status_code == 403
    stuck.refresh_from_db()
    assert stuck.status == OrderStatus.PAID and stuck.seller is not None


def test_the_console_refund_states_who_pays_back_what(client, staff, stuck):
    client.force_login(staff("owner"))
    page = client.get(url("stuck_refund", stuck)).content.decode()
    assert 'data-testid="refund-effect"' in page
    assert f"¥{stuck.total}" in page and "市代王芳" in page and "特约李娜" in page
    assert client.post(url("stuck_refund", stuck), {"note": "无货退款"}).status_code == 302
    stuck.refresh_from_db()
    assert stuck.status == OrderStatus.CANCELLED
    assert ledger_verify() == []


def test_owner_and_finance_manage_the_brands_receiving_accounts(client, staff):
    add = reverse("admin:trade_receivingaccount_add")
    for role in ("operations", "warehouse"):
        client.force_login(staff(role))
        assert client.get(add).status_code == 403
    client.force_login(staff("finance"))
    bad = SimpleUploadedFile("qr.png", b"not an image", content_type="image/png")
    response = client.post(add, {"kind": "wechat", "holder": "品牌公司", "qr_image": bad})
    assert response.status_code == 200 and ReceivingAccount.objects.count() == 0
    response = client.post(add, {"kind": "wechat", "holder": "品牌公司", "qr_image": png()})
    assert response.status_code == 302
    account = ReceivingAccount.objects.get()
    assert account.agent is None
    page = client.get(reverse("admin:trade_receivingaccount_change", args=[account.pk])).content.decode()
    assert reverse("web:receiving_qr", args=[account.pk]) in page and account.qr_image.url not in page
    assert client.get(reverse("web:receiving_qr", args=[account.pk])).status_code == 200


def test_the_console_saves_and_removes_brand_receiving_accounts_through_the_service(
    client, staff, django_capture_on_commit_callbacks
):
    """The console's form is the service's: a bank account without its number is refused on the
    form; a removed account takes its QR picture with it once the removal is committed."""
    client.force_login(staff("finance"))
    add = reverse("admin:trade_receivingaccount_add")
    refused = client.post(add, {"kind": "bank", "holder": "品牌公司", "bank": "招商银行"})
    assert refused.status_code == 200 and "请填写开户行和账号" in refused.content.decode()
    assert client.post(add, {"kind": "wechat", "holder": "品牌公司", "qr_image": png()}).status_code == 302
    account = ReceivingAccount.objects.get()
    storage, name = account.qr_image.storage, account.qr_image.name
    assert storage.exists(name)
    change = reverse("admin:trade_receivingaccount_change", args=[account.pk])
    assert client.post(change, {"kind": "wechat", "holder": "焕颜品牌公司", "note": "备注订单号"}).status_code == 302
    account.refresh_from_db()
    assert (account.holder, account.note, account.qr_image.name) == ("焕颜品牌公司", "备注订单号", name)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:trade_receivingaccount_delete", args=[account.pk]), {"post": "yes"})
    assert response.status_code == 302 and not ReceivingAccount.objects.exists()
    assert not storage.exists(name)


def test_an_unfilled_paid_shop_order_is_stuck_and_the_brand_refunds_it(client, staff, make_agent):
    """A shop order paid by a transfer its seller confirmed, never filled (M7 item 1: the way an
    agent held a stranger's binding): it is in the stuck queue; the brand cancels and refunds it.
    The company cannot take a consumer's order over from the agent's shop: those ways out are not
    offered, and refused with a message if asked for."""
    from weishang.core.errors import Conflict
    from weishang.trade.models import Customer

    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    sku = SKU.objects.create(
        product=Product.objects.create(name="精华"), code="S-1", name="精华 30ml", retail_price=Decimal("100")
    )
    agent = make_agent("vip", real_name="特约赵")
    order = services.retail_order_submit(
        seller=agent, name="陈女士", phone="13900008888", address="上海", lines=[(sku, 1)]
    )
    payment = services.retail_payment_submit(order=order, phone="13900008888", screenshot=png())
    services.payment_confirm(payment=payment, by=agent.user)
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(hours=72))
    order.refresh_from_db()
    assert services.order_is_stuck(order)

    operations = staff("operations")
    client.force_login(operations)
    assert order.number in client.get(reverse("admin:trade_order_changelist") + "?waiting=stuck").content.decode()
    assert order.number in client.get(reverse("admin:trade_order_changelist") + "?brand_to_act=yes").content.decode()
    detail = client.get(reverse("admin:trade_order_change", args=[order.pk])).content.decode()
    assert url("stuck_refund", order) in detail
    assert url("company_fill", order) not in detail and url("reassign", order) not in detail
    for name in ("company_fill", "reassign"):
        assert client.post(url(name, order), {"note": "公司代发"}).status_code == 400
    for way_out in (services.order_reassign_to_company, services.order_company_fill):
        with pytest.raises(Conflict, match="店铺订单归其卖家"):
            way_out(order=order, by=operations, note="公司代发")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.seller == agent

    client.cookies["django_language"] = "en"
    page = client.get(url("stuck_refund", order)).content.decode()
    assert "The ¥100.00 the consumer transferred to 特约赵 is for 特约赵 to pay back to them." in page
    response = client.post(url("stuck_refund", order), {"note": "未发货，退款"}, follow=True)
    assert response.redirect_chain and f"Order {order.number} cancelled and refunded." in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert Customer.objects.get(phone="13900008888").bound_agent is None
    notice = OrderNotice.objects.get(order=order, agent=agent)  # the seller is told, in the brand's language
    assert "消费者转给特约赵的 ¥100.00 由特约赵退还给消费者。" in notice.text
    assert ledger_verify() == [] and stock_verify() == []
