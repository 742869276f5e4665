"""Paying: an offline transfer with a screenshot (confirmed or rejected by whoever receives the
money), the wallet, WeChat Pay (``payment_online_start`` and the provider's notice), wallet
top-ups, and the receiving accounts (收款方式) buyers pay to."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from weishang.channel.models import Agent
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict, Forbidden, NotFound
from weishang.core.files import check_screenshot
from weishang.core.money import to_money
from weishang.core.selectors import brand_get
from weishang.ledger import services as ledger
from weishang.ledger.models import Purpose
from weishang.ledger.services import InsufficientBalance
from weishang.trade import selectors
from weishang.trade.models import (
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from weishang.trade.providers.base import (
    PaymentIntent,
    PaymentRequest,
    ProviderError,
    get_provider,
    online_provider_name,
)
from weishang.trade.services.binding import bind_paid_customer, binds_when_filled
from weishang.trade.services.common import (
    agent_buyer,
    emit,
    emit_payment,
    is_staff_with,
    locked_order,
    require_buyer,
    require_note,
    transition,
)
from weishang.trade.services.money import brand_account, post, receiver_account, wallet

log = logging.getLogger(__name__)


# --- paying ---------------------------------------------------------------------------------


@transaction.atomic
def payment_submit_transfer(*, order: Order, by, screenshot: UploadedFile, reference: str = "") -> Payment:
    """The buyer says they transferred the order's total, with a screenshot as proof."""
    order = locked_order(order)
    require_buyer(order, by)
    return transfer_create(order, screenshot=screenshot, reference=reference, by=by)


def transfer_create(order: Order, *, screenshot: UploadedFile, reference: str, by=None) -> Payment:
    """A pending transfer of the order's total to its seller (brand finance if the company sells)."""
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise Conflict(_("Order %(number)s is not waiting for payment.") % {"number": order.number}, field="order")
    if order.payments.filter(status=PaymentStatus.PENDING).exists():
        raise Conflict(_("A payment for this order is already waiting for confirmation."), field="order")
    check_screenshot(screenshot)
    payment = Payment.objects.create(
        order=order,
        method=PaymentMethod.TRANSFER,
        amount=order.total,
        receiver=order.seller,
        screenshot=screenshot,
        reference=(reference or "")[:64],
        created_by=by,
    )
    emit_payment(payment, "payment.submitted")
    return payment


def _require_receiver(payment: Payment, user) -> None:
    if payment.receiver is None:
        if not is_staff_with(user, "trade.change_payment"):
            raise Forbidden(_("Only brand finance confirms this payment."))
    elif payment.receiver.user_id != getattr(user, "pk", None) and not is_staff_with(user, "trade.change_payment"):
        raise Forbidden(_("This payment is not yours to confirm."))


def _locked_pending_payment(payment: Payment | int, user) -> Payment:
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("receiver", "order", "topup_for")
        .get(pk=getattr(payment, "pk", payment))
    )
    _require_receiver(payment, user)
    if payment.status != PaymentStatus.PENDING:
        raise Conflict(
            _("This payment has already been %(status)s.") % {"status": payment.get_status_display()},
            field="payment",
            code="already_decided",
        )
    return payment


def _post_payment(order: Order, payment: Payment, *, by=None) -> None:
    """Record where a confirmed order payment went."""
    amount, ref = payment.amount, f"order:{order.number}"
    if payment.method == PaymentMethod.WALLET:
        try:
            post(
                [ledger.debit(wallet(agent_buyer(order)), amount), ledger.credit(receiver_account(order), amount)],
                kind="order_payment",
                key=f"payment:{payment.pk}",
                reference=ref,
                by=by,
            )
        except InsufficientBalance as exc:
            raise Conflict(
                _("Your wallet has ¥%(balance)s; ¥%(amount)s is needed.") % {"balance": exc.balance, "amount": amount},
                field="wallet",
                code="insufficient_funds",
            ) from None
    elif payment.method == PaymentMethod.WECHATPAY or order.seller_id is None:
        # Online payments land in the brand's merchant account; a transfer to the company is brand cash.
        post(
            [ledger.debit(brand_account(Purpose.BRAND_CASH), amount), ledger.credit(receiver_account(order), amount)],
            kind="order_payment",
            key=f"payment:{payment.pk}",
            reference=ref,
            by=by,
        )


def _mark_paid(order: Order, *, by) -> None:
    """Every way an order becomes paid ends here, under the order's lock: a shop order binds its
    customer now (never when it is placed), in the payment's transaction — unless it was paid on
    its seller's word alone (``binds_when_filled``): then it binds when the seller fills it."""
    if not binds_when_filled(order):
        bind_paid_customer(order)
    transition(order, "mark_paid", by=by)
    emit(order, "order.paid")


@transaction.atomic
def payment_confirm(*, payment: Payment, by, note: str = "") -> Payment:
    """The receiving party has the money: the order is paid (or the wallet topped up), once."""
    payment = _locked_pending_payment(payment, by)
    payment.status = PaymentStatus.CONFIRMED
    payment.decided_by, payment.decided_at, payment.decision_note = by, clock.now(), note[:300]
    payment.save()
    if payment.topup_for is not None:
        post(
            [
                ledger.debit(brand_account(Purpose.BRAND_CASH), payment.amount),
                ledger.credit(wallet(payment.topup_for), payment.amount),
            ],
            kind="wallet_topup",
            key=f"payment:{payment.pk}",
            reference=f"payment:{payment.pk}",
            by=by,
        )
    else:
        assert payment.order_id is not None  # a payment tops a wallet up or pays an order
        order = locked_order(payment.order_id)
        _post_payment(order, payment, by=by)
        _mark_paid(order, by=by)
    emit_payment(payment, "payment.confirmed")
    return payment


@transaction.atomic
def payment_reject(*, payment: Payment, by, note: str) -> Payment:
    payment = _locked_pending_payment(payment, by)
    require_note(note, _("Say why the payment is rejected."))
    payment.status = PaymentStatus.REJECTED
    payment.decided_by, payment.decided_at, payment.decision_note = by, clock.now(), note[:300]
    payment.save()
    emit_payment(payment, "payment.rejected")
    return payment


@transaction.atomic
def order_pay_from_wallet(*, order: Order, by) -> Payment:
    order = locked_order(order)
    require_buyer(order, by)
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise Conflict(_("Order %(number)s is not waiting for payment.") % {"number": order.number}, field="order")
    if order.payments.filter(status=PaymentStatus.PENDING).exists():
        # A transfer is waiting for the seller: paying twice would leave it to be confirmed on a paid order.
        raise Conflict(_("A payment for this order is already waiting for confirmation."), field="order")
    payment = Payment.objects.create(
        order=order,
        method=PaymentMethod.WALLET,
        amount=order.total,
        status=PaymentStatus.CONFIRMED,
        receiver=order.seller,
        created_by=by,
        decided_by=by,
        decided_at=clock.now(),
    )
    _post_payment(order, payment, by=by)
    _mark_paid(order, by=by)
    emit_payment(payment, "payment.confirmed")
    return payment


@transaction.atomic
def wallet_topup_submit(*, agent: Agent, by, amount, screenshot: UploadedFile, reference: str = "") -> Payment:
    try:
        amount = to_money(amount)
    except (ArithmeticError, TypeError, ValueError):
        raise BusinessError(_("Enter an amount in yuan."), field="amount") from None
    if amount <= 0 or amount >= Decimal("1e10"):
        raise BusinessError(_("Enter an amount above zero."), field="amount")
    if agent.user_id != getattr(by, "pk", None):
        raise Forbidden(_("You can only top up your own wallet."))
    check_screenshot(screenshot)
    payment = Payment.objects.create(
        topup_for=agent,
        method=PaymentMethod.TRANSFER,
        amount=amount,
        receiver=None,
        screenshot=screenshot,
        reference=(reference or "")[:64],
        created_by=by,
    )
    emit_payment(payment, "payment.submitted")
    return payment


def payment_credit_from_provider(*, notice) -> Payment:
    """Credit a provider's notification (e.g. WeChat Pay) to its order — at most once.

    The same transaction id, however often it is sent, returns the first payment. An amount
    that differs from the order's total, a currency other than the order's (the brand's), or an
    unknown order, is refused and logged: nothing is credited.
    """
    existing = Payment.objects.filter(provider_txn_id=notice.transaction_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            order = Order.objects.select_for_update(of=("self",)).filter(number=notice.out_trade_no).first()
            if order is None:
                log.warning("payment notice for unknown order %s (txn %s)", notice.out_trade_no, notice.transaction_id)
                raise NotFound(_("Unknown order."), field="out_trade_no")
            if notice.state != "SUCCESS":
                raise Conflict(_("The payment did not succeed."), field="state")
            # Under the order's lock: a concurrent delivery of this same notice may have credited it.
            again = Payment.objects.filter(provider_txn_id=notice.transaction_id).first()
            if again is not None:
                return again
            if order.status != OrderStatus.AWAITING_PAYMENT:
                log.error(
                    "payment notice %s for order %s, which is %s: refused (refund it at the provider)",
                    notice.transaction_id,
                    order.number,
                    order.status,
                )
                raise Conflict(_("This order is not waiting for payment."), field="out_trade_no", code="already_paid")
            currency = brand_get().currency.upper()
            if str(notice.currency or "").strip().upper() != currency:
                log.error(
                    "payment notice currency %r != the brand's %s for order %s (txn %s): refused",
                    notice.currency,
                    currency,
                    order.number,
                    notice.transaction_id,
                )
                raise Conflict(
                    _("The payment is not in %(currency)s, the order's currency.") % {"currency": currency},
                    field="currency",
                    code="currency_mismatch",
                )
            if int(notice.amount_fen) != int(order.total * 100):
                log.error(
                    "payment notice amount %s fen != order %s total %s (txn %s): refused",
                    notice.amount_fen,
                    order.number,
                    order.total,
                    notice.transaction_id,
                )
                raise Conflict(_("The amount paid does not match the order."), field="amount", code="amount_mismatch")
            payment = Payment.objects.create(
                order=order,
                method=PaymentMethod.WECHATPAY,
                amount=order.total,
                status=PaymentStatus.CONFIRMED,
                receiver=order.seller,
                provider_txn_id=notice.transaction_id,
                decided_at=clock.now(),
            )
            _post_payment(order, payment)
            _mark_paid(order, by=None)
            emit_payment(payment, "payment.confirmed")
            return payment
    except IntegrityError:
        # A concurrent delivery of the same notice won the race: return its payment.
        existing = Payment.objects.filter(provider_txn_id=notice.transaction_id).first()
        if existing is None:  # another transaction paid the order first
            log.error(
                "payment notice %s for order %s lost a race with another payment: refused",
                notice.transaction_id,
                notice.out_trade_no,
            )
            raise Conflict(
                _("This order is not waiting for payment."), field="out_trade_no", code="already_paid"
            ) from None
        return existing


def payment_online_start(
    *, order: Order, channel: str, client_ip: str | None = None, payer_openid: str | None = None
) -> PaymentIntent:
    """Open an online payment (WeChat Pay) for an order awaiting payment; the order is paid when the
    provider's notify callback arrives (``payment_credit_from_provider``). Nothing is stored here:
    the order number is the provider's ``out_trade_no``, so opening it twice is harmless."""
    name = online_provider_name()
    if name is None:
        raise Conflict(_("Online payment is not available; pay by transfer."), field="method")
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise Conflict(
            _("Order %(number)s is %(status)s; it is not waiting for payment.")
            % {"number": order.number, "status": order.get_status_display()},
            field="status",
        )
    if order.payments.filter(status=PaymentStatus.PENDING).exists():
        raise Conflict(_("A transfer for this order is waiting for confirmation."), field="status")
    pay_by = selectors.retail_pay_by(order=order)  # a shop order expires: no payment is taken after that
    if pay_by is not None and pay_by <= clock.now():
        raise Conflict(
            _("Order %(number)s was not paid in time and is being cancelled.") % {"number": order.number},
            field="status",
            code="expired",
        )
    description = f"{brand_get().name} {order.number}"[:127]
    request = PaymentRequest(
        out_trade_no=order.number,
        amount_fen=int(order.total * 100),
        description=description,
        payer_openid=payer_openid,
        client_ip=client_ip,
        time_expire=timezone.localtime(pay_by).isoformat(timespec="seconds") if pay_by else None,
    )
    try:
        return get_provider(name).create_payment(request, channel=channel)
    except (ProviderError, ValueError) as exc:
        log.error("%s create_payment for %s failed: %s", name, order.number, exc)
        raise Conflict(
            _("WeChat Pay is not available right now; try again or pay by transfer."),
            field="method",
            code="provider_error",
        ) from None


# --- receiving accounts (收款方式): where buyers pay ------------------------------------------

RECEIVING_FIELDS = ("kind", "holder", "account_number", "bank", "note")


def check_qr(image: UploadedFile | None) -> None:
    """A QR code gets the checks a transfer screenshot gets (an image of a known type, 5 MB at
    most, stored under a name of our making)."""
    if image is None:
        return
    try:
        check_screenshot(image)
    except BusinessError:
        raise BusinessError(
            _("The QR code must be an image (JPEG, PNG, WebP or GIF) of at most 5 MB."), field="qr_image"
        ) from None


def _require_account_owner(account_agent: Agent | None, user) -> None:
    if account_agent is None:
        if not is_staff_with(user, "trade.change_receivingaccount"):
            raise Forbidden(_("Only brand finance manages the brand's receiving accounts."))
    elif account_agent.user_id != getattr(user, "pk", None):
        raise Forbidden(_("You can only manage your own receiving accounts."))


def clean_account(data: dict, image) -> dict:
    from weishang.trade.models import ReceivingKind

    clean = {field: str(data.get(field) or "").strip() for field in RECEIVING_FIELDS}
    if clean["kind"] not in ReceivingKind.values:
        raise BusinessError(_("Choose WeChat, Alipay or bank account."), field="kind")
    if not clean["holder"]:
        raise BusinessError(_("Enter the account holder's name."), field="holder")
    if clean["kind"] == ReceivingKind.BANK and not (clean["account_number"] and clean["bank"]):
        raise BusinessError(_("Enter the bank and the account number."), field="account_number")
    if clean["kind"] != ReceivingKind.BANK and image is None and not data.get("_has_image"):
        raise BusinessError(_("Upload the QR code buyers scan to pay you."), field="qr_image")
    limits = {"holder": 50, "account_number": 64, "bank": 100, "note": 100}
    for field, limit in limits.items():
        if len(clean[field]) > limit:
            raise BusinessError(_("At most %(n)d characters.") % {"n": limit}, field=field)
    return clean


@transaction.atomic
def receiving_account_save(*, by, agent: Agent | None, data: dict, qr_image: UploadedFile | None = None, account=None):
    """Add (``account`` None) or change one of ``agent``'s receiving accounts (the brand's when
    ``agent`` is None). A new QR image replaces the old one."""
    from weishang.trade.models import ReceivingAccount

    if account is not None:
        account = ReceivingAccount.objects.select_for_update().get(pk=account.pk)
        agent = account.agent
    _require_account_owner(agent, by)
    clean = clean_account({**data, "_has_image": bool(account and account.qr_image)}, qr_image)
    check_qr(qr_image)
    if account is None:
        account = ReceivingAccount(agent=agent)
    for field, value in clean.items():
        setattr(account, field, value)
    if qr_image is not None:
        account.qr_image = qr_image
    account.save()
    return account


@transaction.atomic
def receiving_account_delete(*, by, account) -> None:
    _require_account_owner(account.agent, by)
    image = account.qr_image
    account.delete()
    if image:  # the QR code goes with it, once the removal is committed
        storage, name = image.storage, image.name
        transaction.on_commit(lambda: storage.delete(name))
