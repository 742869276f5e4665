"""Purchasing in the console: who may take which step, and hostile input answered on the page."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from weishang.catalog.models import SKU, Product
from weishang.core.roles import role_group_name, roles_sync
from weishang.purchasing import services
from weishang.purchasing.models import POStatus, PurchaseOrder, SupplierBill

pytestmark = pytest.mark.django_db
D = Decimal
_seq = itertools.count(1)


def staff(role):
    roles_sync()
    user = get_user_model().objects.create_user(
        username=f"{role}{next(_seq)}", password="staff-pass-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role_group_name(role)))
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def po(db):
    sku = SKU.objects.create(
        product=Product.objects.create(name="面膜"), code="MASK", name="面膜", retail_price=D("99")
    )
    factory = services.supplier_save(name="工厂")
    services.supplier_price_set(supplier=factory, sku=sku, unit_price="5.00")
    order = services.po_create(supplier=factory, lines=[(sku, 10, None)])
    services.po_move(po=order, move="send")
    return services.po_move(po=order, move="confirm")


def url(po, step):
    return f"/console/purchasing/purchaseorder/{po.pk}/{step}/"


def test_the_warehouse_receives_but_neither_bills_nor_pays(client, po):
    line = po.lines.get()
    client.force_login(staff("warehouse"))
    page = client.get(f"/console/purchasing/purchaseorder/{po.pk}/change/").content.decode()
    assert "收货质检" in page and "录入供应商账单" not in page
    client.post(url(po, "receive"), {f"accepted-{line.pk}": "10", f"rejected-{line.pk}": "0"})
    line.refresh_from_db()
    assert line.accepted == 10
    assert client.post(url(po, "bill"), {"number": "B1", f"billed-{line.pk}": "10"}).status_code == 403
    assert client.post(url(po, "step"), {"move": "close"}).status_code == 403
    assert not SupplierBill.objects.exists()


def test_finance_bills_and_pays_but_does_not_receive(client, po):
    line = po.lines.get()
    client.force_login(staff("finance"))
    assert client.post(url(po, "receive"), {f"accepted-{line.pk}": "10"}).status_code == 403
    services.po_receive(po=po, lines={line.pk: (10, 0, "")})
    client.post(url(po, "bill"), {"number": "B1", f"billed-{line.pk}": "10", f"price-{line.pk}": "5.00"})
    bill = SupplierBill.objects.get()
    assert bill.total == D("50.00")
    client.post(url(po, "pay"), {"bill": bill.pk, "amount": "50.00"})
    bill.refresh_from_db()
    assert bill.paid == D("50.00")


@pytest.mark.parametrize(
    "form",
    [
        {"accepted": "-1"},
        {"accepted": "11"},
        {"accepted": "abc"},
        {"accepted": "1", "rejected": "1"},  # no reason
        {"accepted": "1", "freight": "1e99"},
        {"accepted": "1", "freight": "-2"},
    ],
)
def test_hostile_receipts_get_a_message_and_change_nothing(client, po, form):
    line = po.lines.get()
    client.force_login(staff("owner"))
    data = {f"{k}-{line.pk}" if k in {"accepted", "rejected"} else k: v for k, v in form.items()}
    page = client.post(url(po, "receive"), data, follow=True)
    assert page.status_code == 200 and page.context["messages"]
    line.refresh_from_db()
    assert (line.accepted, line.rejected) == (0, 0) and PurchaseOrder.objects.get(pk=po.pk).status == POStatus.CONFIRMED


@pytest.mark.parametrize("bill", ["", "abc", "999999", "-1"])
def test_paying_a_bill_of_another_order_or_none_is_not_found(client, po, bill):
    client.force_login(staff("owner"))
    assert client.post(url(po, "pay"), {"bill": bill, "amount": "1"}).status_code == 404


def test_operations_write_an_order_from_the_form_and_hostile_lines_are_refused(client, po):
    client.force_login(staff("operations"))
    sku = SKU.objects.get(code="MASK")
    supplier = po.supplier.pk
    bad = client.post(
        "/console/purchasing/purchaseorder/new/", {"supplier": supplier, "sku_0": sku.pk, "quantity_0": "-5"}
    )
    assert bad.status_code == 400
    none = client.post("/console/purchasing/purchaseorder/new/", {"supplier": supplier})
    assert none.status_code == 400 and "请至少添加一行" in none.content.decode()
    ok = client.post(
        "/console/purchasing/purchaseorder/new/", {"supplier": supplier, "sku_0": sku.pk, "quantity_0": "20"}
    )
    assert ok.status_code == 302
    assert PurchaseOrder.objects.count() == 2
    assert client.post(url(po, "pay"), {"bill": "1", "amount": "1"}).status_code == 403  # operations do not pay


def test_an_inspection_photo_is_checked_kept_private_and_shown_to_staff_who_see_the_order(
    client, po, settings, tmp_path
):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    line = po.lines.get()
    client.force_login(staff("warehouse"))
    fake = SimpleUploadedFile("box.jpg", b"%PDF-1.4 not a picture", content_type="image/jpeg")
    client.post(
        url(po, "receive"),
        {f"accepted-{line.pk}": "9", f"rejected-{line.pk}": "1", f"reason-{line.pk}": "破损", f"photo-{line.pk}": fake},
    )
    line.refresh_from_db()
    assert line.accepted == 0  # refused: nothing received
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, format="JPEG")
    photo = SimpleUploadedFile("box.jpg", buf.getvalue(), content_type="image/jpeg")
    client.post(
        url(po, "receive"),
        {
            f"accepted-{line.pk}": "9",
            f"rejected-{line.pk}": "1",
            f"reason-{line.pk}": "破损",
            f"photo-{line.pk}": photo,
        },
    )
    receipt_line = line.receipt_lines.get()
    assert receipt_line.photo and receipt_line.rejected == 1
    shown = client.get(f"{url(po, 'photo')}?line={receipt_line.pk}")
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(shown.streaming_content))) as back:
        assert back.size == (40, 30)
    assert client.get(f"{url(po, 'photo')}?line=abc").status_code == 404
    client.force_login(staff("lecturer"))
    assert client.get(f"{url(po, 'photo')}?line={receipt_line.pk}").status_code == 403


def test_a_sku_kept_by_batch_is_received_with_its_batch_and_expiry(client, po):
    """The receive form asks the batch number and expiry of a batch-tracked SKU; without a batch
    number the receipt is refused on the page and nothing enters the warehouse."""
    from weishang.inventory import batches
    from weishang.inventory.models import Batch, BatchLevel

    line = po.lines.get()
    batches.tracking_start(sku=line.sku, shelf_life_days=365)
    client.force_login(staff("warehouse"))
    page = client.get(f"/console/purchasing/purchaseorder/{po.pk}/change/").content.decode()
    assert f'name="batch-{line.pk}"' in page and f'name="expires-{line.pk}"' in page
    refused = client.post(url(po, "receive"), {f"accepted-{line.pk}": "10", f"rejected-{line.pk}": "0"}, follow=True)
    assert "请填写收到货物的批号" in refused.content.decode()
    line.refresh_from_db()
    assert line.accepted == 0
    bad = client.post(
        url(po, "receive"),
        {f"accepted-{line.pk}": "4", f"batch-{line.pk}": "L1", f"expires-{line.pk}": "2027-02-30"},
        follow=True,
    )
    assert "请输入有效期" in bad.content.decode()
    client.post(
        url(po, "receive"),
        {
            f"accepted-{line.pk}": "10",
            f"rejected-{line.pk}": "0",
            f"batch-{line.pk}": "L1",
            f"expires-{line.pk}": "2027-09-30",
        },
    )
    batch = Batch.objects.get(sku=line.sku, code="L1")
    assert str(batch.expires_on) == "2027-09-30"
    assert BatchLevel.objects.get(batch=batch).quantity == 10
