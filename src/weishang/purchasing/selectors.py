"""Reads of purchasing: a supplier's performance, what is owed to suppliers, the lines to show."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from weishang.purchasing.models import (
    ZERO,
    BillStatus,
    PurchaseOrder,
    Receipt,
    ReceiptLine,
    Supplier,
    SupplierBill,
    SupplierPrice,
)


@dataclass(frozen=True)
class Performance:
    receipts: int
    on_time: int
    accepted: int
    rejected: int
    price_changes: int

    @property
    def on_time_rate(self) -> Decimal | None:
        return None if not self.receipts else (Decimal(self.on_time) / self.receipts * 100).quantize(Decimal("0.1"))

    @property
    def rejection_rate(self) -> Decimal | None:
        total = self.accepted + self.rejected
        return None if not total else (Decimal(self.rejected) / total * 100).quantize(Decimal("0.1"))


def supplier_performance(supplier: Supplier) -> Performance:
    """Receipts on or before the order's expected date (China-time day; an order without one counts
    as on time), units rejected of all inspected, and how often the supplier's prices changed."""
    from django.utils import timezone

    receipts = 0
    on_time = 0
    for received_at, expected in Receipt.objects.filter(order__supplier=supplier).values_list(
        "received_at", "order__expected_date"
    ):
        receipts += 1
        if expected is None or timezone.localdate(received_at) <= expected:
            on_time += 1
    units = ReceiptLine.objects.filter(line__order__supplier=supplier).aggregate(a=Sum("accepted"), r=Sum("rejected"))
    changes = 0
    for price in SupplierPrice.objects.filter(supplier=supplier):
        # Only records whose unit price differs from the one before: a new lead time is no price change.
        prices = list(price.history.order_by("history_date", "history_id").values_list("unit_price", flat=True))
        changes += sum(1 for before, after in itertools.pairwise(prices) if before != after)
    return Performance(
        receipts=receipts, on_time=on_time, accepted=units["a"] or 0, rejected=units["r"] or 0, price_changes=changes
    )


def owed_to(supplier: Supplier) -> Decimal:
    """What the brand still owes ``supplier`` on its bills."""
    bills = SupplierBill.objects.filter(supplier=supplier).exclude(status=BillStatus.PAID)
    totals = bills.aggregate(t=Sum("total"), p=Sum("paid"))
    return (totals["t"] or ZERO) - (totals["p"] or ZERO)


def order_with_lines(pk: int) -> PurchaseOrder:
    return PurchaseOrder.objects.select_related("supplier", "location").prefetch_related("lines__sku").get(pk=pk)


def payables_verify() -> list[str]:
    """The ledger's payables against the bills' balances: equal when every payable is a bill's."""
    from django.utils.translation import gettext as _

    from weishang.ledger.models import Account, Purpose

    totals = SupplierBill.objects.aggregate(t=Sum("total"), p=Sum("paid"))
    owed = (totals["t"] or ZERO) - (totals["p"] or ZERO)
    account = Account.objects.filter(owner__isnull=True, purpose=Purpose.BRAND_PAYABLES).first()
    balance = account.balance if account else ZERO
    if owed != balance:
        return [
            _("The bills leave ¥%(owed)s to pay, the ledger's payables say ¥%(balance)s")
            % {"owed": owed, "balance": balance}
        ]
    return []
