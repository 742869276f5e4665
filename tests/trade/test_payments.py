"""Payments: transfers with a screenshot confirmed by the receiver, the wallet (top-up, pay,
refund), and provider notices credited once however often they arrive."""

from __future__ import annotations

import io
import logging
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from weishang.core.errors import BusinessError, Conflict, Forbidden, NotFound
from weishang.core.models import OutboxEvent, SupplyMode
from weishang.trade import services
from weishang.trade.models import (
    Order,
    OrderStatus,
    OrderTransition,
    Payment,
    PaymentMethod,
    PaymentStatus,
)

pytestmark = pytest.mark.django_db

S = OrderStatus


@pytest.fixture
def awaiting(t, skus, buyer):
    """A restock order of 3 × A (226.50) waiting for payment."""
    order = t.place(buyer, [(skus.a, 3)])
    t.approve(order)
    order.refresh_from_db()
    assert order.status == S.AWAITING_PAYMENT and order.total == Decimal("226.50")
    return order


def paid_events(order) -> int:
    return OutboxEvent.objects.filter(topic="order.paid", key=order.number).count()


def paid_transitions(order) -> int:
    return OrderTransition.objects.filter(order=order, to_status=S.PAID).count()


# --- transfers ------------------------------------------------------------------------------


def test_transfer_confirmed_by_the_receiver_pays_the_order(t, awaiting, supplier, buyer):
    order = awaiting
    payment = services.payment_submit_transfer(
        order=order, by=buyer.user, screenshot=t.image_upload(), reference="微信转账 0425"
    )
    assert (payment.status, payment.amount, payment.receiver, payment.method) == (
        PaymentStatus.PENDING,
        Decimal("226.50"),
        supplier,
        PaymentMethod.TRANSFER,
    )
    assert payment.screenshot.name.startswith("transfers/")
    assert len(t.stored_files()) == 1
    order.refresh_from_db()
    assert order.status == S.AWAITING_PAYMENT and paid_events(order) == 0

    services.payment_confirm(payment=payment, by=supplier.user, note="到账")
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == PaymentStatus.CONFIRMED
    assert (payment.decided_by, payment.decision_note) == (supplier.user, "到账") and payment.decided_at
    assert order.status == S.PAID and order.paid_at
    assert paid_events(order) == 1 and paid_transitions(order) == 1
    event = OutboxEvent.objects.get(topic="order.paid", key=order.number)
    assert event.payload["total"] == "226.50" and event.payload["buyer"] == buyer.pk
    assert t.wallet_moves() == []  # a transfer to the supplier does not touch wallets


def test_confirming_twice_is_refused_and_nothing_is_doubled(t, awaiting, supplier, buyer, boss):
    payment = services.payment_submit_transfer(order=awaiting, by=buyer.user, screenshot=t.image_upload())
    services.payment_confirm(payment=payment, by=supplier.user)
    for user in (supplier.user, boss):
        with pytest.raises(Conflict) as exc:
            services.payment_confirm(payment=payment, by=user)
        assert exc.value.code == "already_decided"
    with pytest.raises(Conflict):
        services.payment_reject(payment=payment, by=supplier.user, note="oops")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CONFIRMED and payment.decided_by == supplier.user
    assert paid_events(awaiting) == 1 and paid_transitions(awaiting) == 1
    assert Payment.objects.filter(order=awaiting, status=PaymentStatus.CONFIRMED).count() == 1


def test_reject_needs_a_note_and_leaves_the_order_waiting(t, awaiting, supplier, buyer):
    payment = services.payment_submit_transfer(order=awaiting, by=buyer.user, screenshot=t.image_upload())
    with pytest.raises(Conflict):  # one pending transfer at a time
        services.payment_submit_transfer(order=awaiting, by=buyer.user, screenshot=t.image_upload())
    with pytest.raises(BusinessError) as exc:
        services.payment_reject(payment=payment, by=supplier.user, note=" ")
    assert exc.value.field == "note"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    services.payment_reject(payment=payment, by=supplier.user, note="没有收到")
    payment.refresh_from_db()
    awaiting.refresh_from_db()
    assert (payment.status, payment.decision_note) == (PaymentStatus.REJECTED, "没有收到")
    assert awaiting.status == S.AWAITING_PAYMENT and paid_events(awaiting) == 0
    with pytest.raises(Conflict) as exc:
        services.payment_confirm(payment=payment, by=supplier.user)
    assert exc.value.code == "already_decided"
    # The buyer can send a new proof, and that one can be confirmed.
    second = services.payment_submit_transfer(order=awaiting, by=buyer.user, screenshot=t.image_upload("b.jpg", "JPEG"))
    services.payment_confirm(payment=second, by=supplier.user)
    awaiting.refresh_from_db()
    assert awaiting.status == S.PAID and paid_events(awaiting) == 1


def _text_as_png():
    return SimpleUploadedFile("transfer.png", b"this is not an image, just text\n" * 20, content_type="image/png")


def _pdf():
    return SimpleUploadedFile(
        "transfer.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", content_type="application/pdf"
    )


def _bmp():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="BMP")
    return SimpleUploadedFile("transfer.bmp", buf.getvalue(), content_type="image/bmp")


def _truncated_png(t):
    data = t.image_upload().read()
    return SimpleUploadedFile("transfer.png", data[: len(data) // 2], content_type="image/png")


def _too_big(t):
    # An uncompressed 1500 × 1300 RGB PNG: a real image of about 5.9 MB.
    upload = t.image_upload("big.png", size=(1500, 1300), compress_level=0)
    assert upload.size > 5 * 1024 * 1024
    return upload


@pytest.mark.parametrize("make", ["text_as_png", "pdf", "bmp", "truncated_png", "too_big", "none"])
def test_bad_screenshots_are_refused_and_nothing_is_stored(t, awaiting, buyer, make):
    screenshot = {
        "text_as_png": _text_as_png,
        "pdf": _pdf,
        "bmp": _bmp,
        "truncated_png": lambda: _truncated_png(t),
        "too_big": lambda: _too_big(t),
        "none": lambda: None,
    }[make]()
    with pytest.raises(BusinessError) as exc:
        services.payment_submit_transfer(order=awaiting, by=buyer.user, screenshot=screenshot)
    assert exc.value.field == "screenshot"
    assert not Payment.objects.exists()
    assert t.stored_files() == []
    with pytest.raises(BusinessError) as exc:
        services.wallet_topup_submit(agent=buyer, by=buyer.user, amount="100", screenshot=screenshot)
    assert exc.value.field == "screenshot"
    assert not Payment.objects.exists() and t.stored_files() == []


def test_a_screenshot_is_stored_under_our_name_with_its_real_type(t, awaiting, buyer):
    upload = t.image_upload("../../我的转账.png", "JPEG")  # a JPEG sent under a PNG name with a path
    payment = services.payment_submit_transfer(order=awaiting, by=buyer.user, screenshot=upload)
    name = payment.screenshot.name
    assert name.startswith("transfers/") and name.endswith(".jpg")
    assert "我的转账" not in name and ".." not in name
    [stored] = t.stored_files()
    assert stored.read_bytes()[:3] == b"\xff\xd8\xff"  # the bytes are the JPEG that was sent


def test_a_just_under_the_limit_image_is_taken(t, awaiting, buyer):
    upload = t.image_upload("ok.webp", "WEBP", size=(300, 200))
    services.payment_submit_transfer(order=awaiting, by=buyer.user, screenshot=upload)
    assert Payment.objects.count() == 1 and len(t.stored_files()) == 1


def test_only_the_buyer_submits_a_transfer(t, awaiting, supplier, make_agent):
    for user in (supplier.user, make_agent("vip", referrer=supplier).user):
        with pytest.raises(Forbidden):
            services.payment_submit_transfer(order=awaiting, by=user, screenshot=t.image_upload())
    assert not Payment.objects.exists() and t.stored_files() == []


def test_a_transfer_needs_an_order_waiting_for_payment(t, skus, buyer):
    order = t.place(buyer, [(skus.a, 1)])  # not approved yet
    with pytest.raises(Conflict):
        services.payment_submit_transfer(order=order, by=buyer.user, screenshot=t.image_upload())
    assert not Payment.objects.exists()


def test_only_the_receiver_or_finance_staff_confirm(t, awaiting, supplier, buyer, make_agent, make_staff):
    payment = services.payment_submit_transfer(order=awaiting, by=buyer.user, screenshot=t.image_upload())
    for user in (
        buyer.user,
        make_agent("general").user,
        make_staff("change_order"),
        make_staff("change_payment", is_staff=False),
    ):
        with pytest.raises(Forbidden):
            services.payment_confirm(payment=payment, by=user)
        with pytest.raises(Forbidden):
            services.payment_reject(payment=payment, by=user, note="no")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING and paid_events(awaiting) == 0
    finance = make_staff("change_payment")
    services.payment_confirm(payment=payment, by=finance)  # staff may step in
    awaiting.refresh_from_db()
    assert awaiting.status == S.PAID
    assert OrderTransition.objects.get(order=awaiting, to_status=S.PAID).by == finance


def test_company_transfers_are_confirmed_by_brand_finance(t, brand, skus, buyer, supplier, make_staff):
    t.set_mode(brand, SupplyMode.COMPANY)
    order = t.place(buyer, [(skus.a, 1)])
    t.approve(order)
    payment = services.payment_submit_transfer(order=order, by=buyer.user, screenshot=t.image_upload())
    assert payment.receiver is None
    for user in (supplier.user, buyer.user, make_staff("change_order")):
        with pytest.raises(Forbidden):
            services.payment_confirm(payment=payment, by=user)
    services.payment_confirm(payment=payment, by=make_staff("change_payment"))
    order.refresh_from_db()
    assert order.status == S.PAID and paid_events(order) == 1


def test_a_pending_transfer_for_a_cancelled_order_cannot_be_confirmed(t, awaiting, supplier, buyer):
    payment = services.payment_submit_transfer(order=awaiting, by=buyer.user, screenshot=t.image_upload())
    services.order_cancel(order=awaiting, by=buyer.user)
    payment.refresh_from_db()
    # The waiting transfer is closed with the order, so nobody is left with it to decide.
    assert (payment.status, payment.decided_by) == (PaymentStatus.REJECTED, buyer.user)
    with pytest.raises(Conflict):
        services.payment_confirm(payment=payment, by=supplier.user)
    payment.refresh_from_db()
    awaiting.refresh_from_db()
    assert payment.status == PaymentStatus.REJECTED and awaiting.status == S.CANCELLED
    assert paid_events(awaiting) == 0 and t.wallet_moves() == []


# --- wallet ---------------------------------------------------------------------------------


def test_wallet_topup_confirmed_by_staff(t, buyer, boss, make_staff):
    payment = services.wallet_topup_submit(agent=buyer, by=buyer.user, amount="500", screenshot=t.image_upload())
    assert (payment.topup_for, payment.amount, payment.receiver, payment.order) == (
        buyer,
        Decimal("500.00"),
        None,
        None,
    )
    assert t.balance(buyer) == 0
    for user in (buyer.user, make_staff("change_order")):  # nobody credits their own wallet
        with pytest.raises(Forbidden):
            services.payment_confirm(payment=payment, by=user)
    services.payment_confirm(payment=payment, by=boss)
    assert t.wallet_moves(buyer) == [("topup", Decimal("500.00"))]
    assert t.balance(buyer) == Decimal("500.00")
    with pytest.raises(Conflict):
        services.payment_confirm(payment=payment, by=boss)
    assert t.balance(buyer) == Decimal("500.00") and len(t.wallet_moves()) == 1
    t.assert_wallet_consistent(buyer)


def test_a_rejected_topup_credits_nothing(t, buyer, boss):
    payment = services.wallet_topup_submit(agent=buyer, by=buyer.user, amount="500", screenshot=t.image_upload())
    services.payment_reject(payment=payment, by=boss, note="金额不符")
    assert t.balance(buyer) == 0 and t.wallet_moves() == []


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1e10", None])
def test_topup_amount_must_be_positive(t, buyer, amount):
    with pytest.raises(BusinessError) as exc:
        services.wallet_topup_submit(agent=buyer, by=buyer.user, amount=amount, screenshot=t.image_upload())
    assert exc.value.field == "amount"
    assert not Payment.objects.exists() and t.stored_files() == []


def test_topup_only_for_oneself(t, buyer, supplier):
    with pytest.raises(Forbidden):
        services.wallet_topup_submit(agent=buyer, by=supplier.user, amount="10", screenshot=t.image_upload())
    assert not Payment.objects.exists()


def test_topup_amount_keeps_the_fen(t, buyer):
    payment = services.wallet_topup_submit(agent=buyer, by=buyer.user, amount="1234.56", screenshot=t.image_upload())
    assert payment.amount == Decimal("1234.56")


def test_topup_amount_is_rounded_like_all_money(t, buyer):
    from weishang.core.money import to_money

    payment = services.wallet_topup_submit(agent=buyer, by=buyer.user, amount="10.005", screenshot=t.image_upload())
    assert payment.amount == to_money("10.005") == Decimal("10.01")


def test_pay_from_wallet_takes_exactly_the_total(t, awaiting, buyer):
    t.topup(buyer, "300.00")
    payment = services.order_pay_from_wallet(order=awaiting, by=buyer.user)
    awaiting.refresh_from_db()
    assert (payment.method, payment.status, payment.amount) == (
        PaymentMethod.WALLET,
        PaymentStatus.CONFIRMED,
        Decimal("226.50"),
    )
    assert awaiting.status == S.PAID and paid_events(awaiting) == 1
    assert t.balance(buyer) == Decimal("73.50")
    assert t.wallet_moves(buyer) == [("topup", Decimal("300.00")), ("payment", Decimal("-226.50"))]
    assert t.wallet_moves(awaiting.seller) == [("payment", Decimal("226.50"))]  # the supplier's 货款
    t.assert_wallet_consistent(buyer)
    with pytest.raises(Conflict):  # paid already
        services.order_pay_from_wallet(order=awaiting, by=buyer.user)
    assert t.balance(buyer) == Decimal("73.50")


def test_pay_from_wallet_with_too_little_changes_nothing(t, awaiting, buyer):
    t.topup(buyer, "226.49")
    with pytest.raises(Conflict) as exc:
        services.order_pay_from_wallet(order=awaiting, by=buyer.user)
    assert exc.value.code == "insufficient_funds"
    assert "226.49" in str(exc.value) and "226.50" in str(exc.value)
    awaiting.refresh_from_db()
    assert awaiting.status == S.AWAITING_PAYMENT and paid_events(awaiting) == 0
    assert t.balance(buyer) == Decimal("226.49")
    assert [kind for kind, _amount in t.wallet_moves()] == ["topup"]
    assert not Payment.objects.filter(order=awaiting).exists()
    t.assert_wallet_consistent(buyer)


def test_pay_from_wallet_without_a_wallet(t, awaiting, buyer):
    with pytest.raises(Conflict) as exc:
        services.order_pay_from_wallet(order=awaiting, by=buyer.user)
    assert exc.value.code == "insufficient_funds"
    assert not Payment.objects.exists() and t.wallet_moves() == []


def test_no_wallet_payment_while_a_transfer_waits_for_the_seller(t, awaiting, buyer):
    t.topup(buyer, "1000")
    transfer = services.payment_submit_transfer(order=awaiting, by=buyer.user, screenshot=t.image_upload())
    with pytest.raises(Conflict):
        services.order_pay_from_wallet(order=awaiting, by=buyer.user)
    awaiting.refresh_from_db()
    assert awaiting.status == S.AWAITING_PAYMENT and t.balance(buyer) == Decimal("1000.00")
    assert list(Payment.objects.filter(order=awaiting).values_list("pk", flat=True)) == [transfer.pk]
    t.assert_wallet_consistent(buyer)


def test_only_the_buyer_pays_from_their_wallet(t, awaiting, supplier, buyer):
    t.topup(buyer, "1000")
    with pytest.raises(Forbidden):
        services.order_pay_from_wallet(order=awaiting, by=supplier.user)
    assert t.balance(buyer) == Decimal("1000.00")


def test_wallet_balance_is_always_the_sum_of_its_entries(t, skus, supplier, buyer, boss):
    t.receive(supplier, skus.a, 20)
    t.assert_wallet_consistent(buyer)
    t.topup(buyer, "1000")
    t.assert_wallet_consistent(buyer)
    orders = []
    for n in (1, 2, 3):
        order = t.place(buyer, [(skus.a, n)])
        t.approve(order)
        services.order_pay_from_wallet(order=order, by=buyer.user)
        t.assert_wallet_consistent(buyer)
        orders.append(order)
    services.order_cancel(order=orders[0], by=buyer.user)  # paid → refund
    t.assert_wallet_consistent(buyer)
    t.fill(orders[1])
    services.refund_request(order=orders[1], by=buyer.user, note="破损")
    services.refund_approve(order=orders[1], by=supplier.user)
    t.assert_wallet_consistent(buyer)
    # 1000 − 3 × 75.50 − 2 × 75.50 − 1 × 75.50 + 1 × 75.50 + 2 × 75.50 = 773.50
    assert t.balance(buyer) == Decimal("773.50")
    kinds = sorted(kind for kind, _amount in t.wallet_moves(buyer))
    assert kinds == ["payment", "payment", "payment", "refund", "refund", "topup"]
    # The supplier received 6 × 75.50 into their wallet and gave back 3 × 75.50 in refunds.
    assert t.balance(supplier) == Decimal("226.50")


def test_a_refund_of_a_transfer_the_supplier_received_is_owed_by_the_supplier(t, awaiting, supplier, buyer):
    """The transfer went to the supplier outside the brand's books; the refund to the buyer's
    wallet is the supplier's debt (a negative wallet, netted against the next money in)."""
    payment = services.payment_submit_transfer(order=awaiting, by=buyer.user, screenshot=t.image_upload())
    services.payment_confirm(payment=payment, by=supplier.user)
    services.order_cancel(order=awaiting, by=buyer.user, note="不要了")
    assert t.balance(buyer) == Decimal("226.50")
    assert t.balance(supplier) == Decimal("-226.50")
    from weishang.ledger.selectors import ledger_verify

    assert ledger_verify() == []


# --- provider notices -----------------------------------------------------------------------


def test_a_provider_notice_credits_once_however_often_it_is_replayed(t, awaiting):
    notice = t.notice(awaiting, txn="4200000001202611270000000001")
    first = services.payment_credit_from_provider(notice=notice)
    for _ in range(3):
        assert services.payment_credit_from_provider(notice=notice).pk == first.pk
    awaiting.refresh_from_db()
    assert awaiting.status == S.PAID
    assert Payment.objects.count() == 1
    assert (first.method, first.status, first.amount, first.provider_txn_id) == (
        PaymentMethod.WECHATPAY,
        PaymentStatus.CONFIRMED,
        Decimal("226.50"),
        "4200000001202611270000000001",
    )
    assert paid_events(awaiting) == 1 and paid_transitions(awaiting) == 1
    assert OrderTransition.objects.get(order=awaiting, to_status=S.PAID).by is None
    # The money is in the brand's merchant account, held for the supplier: their wallet, once.
    assert t.wallet_moves() == [("payment", Decimal("226.50"))]
    assert t.balance(awaiting.seller) == Decimal("226.50")


def test_a_notice_with_the_wrong_amount_is_refused_and_logged(t, awaiting, caplog):
    notice = t.notice(awaiting, amount_fen=22649)
    with caplog.at_level(logging.ERROR, logger="weishang.trade.services"), pytest.raises(Conflict) as exc:
        services.payment_credit_from_provider(notice=notice)
    assert exc.value.code == "amount_mismatch"
    records = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert records and notice.transaction_id in records[0].getMessage()
    assert "22649" in records[0].getMessage() and awaiting.number in records[0].getMessage()
    awaiting.refresh_from_db()
    assert awaiting.status == S.AWAITING_PAYMENT
    assert not Payment.objects.exists() and paid_events(awaiting) == 0
    # The right amount afterwards is credited normally.
    services.payment_credit_from_provider(notice=t.notice(awaiting))
    awaiting.refresh_from_db()
    assert awaiting.status == S.PAID


def test_a_notice_for_an_unknown_order(t, awaiting, caplog):
    notice = t.notice(awaiting)
    notice.out_trade_no = "R20990101DEADBEEF00"
    with caplog.at_level(logging.WARNING, logger="weishang.trade.services"), pytest.raises(NotFound):
        services.payment_credit_from_provider(notice=notice)
    assert any("R20990101DEADBEEF00" in r.getMessage() for r in caplog.records)
    assert not Payment.objects.exists()


def test_a_failed_notice_pays_nothing(t, awaiting):
    with pytest.raises(Conflict):
        services.payment_credit_from_provider(notice=t.notice(awaiting, state="PAYERROR"))
    awaiting.refresh_from_db()
    assert awaiting.status == S.AWAITING_PAYMENT and not Payment.objects.exists()


def test_a_notice_for_an_order_not_yet_approved_pays_nothing(t, skus, buyer):
    order = t.place(buyer, [(skus.a, 1)])
    with pytest.raises(Conflict):
        services.payment_credit_from_provider(notice=t.notice(order))
    order.refresh_from_db()
    assert order.status == S.SUBMITTED and not Payment.objects.exists()


def test_a_second_payment_for_a_paid_order_is_a_conflict_not_a_crash(t, awaiting):
    services.payment_credit_from_provider(notice=t.notice(awaiting, txn="TXN-FIRST"))
    with pytest.raises(Conflict):
        services.payment_credit_from_provider(notice=t.notice(awaiting, txn="TXN-SECOND"))
    assert Payment.objects.count() == 1 and paid_events(awaiting) == 1


def test_a_free_order_can_be_paid_or_is_refused_cleanly(t, skus, buyer, levels):
    from weishang.catalog.models import LevelPrice

    LevelPrice.objects.filter(sku=skus.a, level=levels["vip"]).update(price=Decimal("0"))
    try:
        order = t.place(buyer, [(skus.a, 1)])
        t.approve(order)
        order.refresh_from_db()
        if order.status == S.AWAITING_PAYMENT:
            services.order_pay_from_wallet(order=order, by=buyer.user)
    except BusinessError:
        return  # refused cleanly
    order.refresh_from_db()
    assert order.status == S.PAID
    assert Order.objects.count() == 1
