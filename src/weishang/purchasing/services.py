"""Purchasing services: suppliers and prices, purchase orders and their moves, receiving with
inspection and landed costs, bills matched against receipts, payments (see ``purchasing.models``)."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from weishang.catalog.models import SKU
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict
from weishang.core.files import check_picture
from weishang.core.money import amount_input
from weishang.inventory import selectors as inventory_selectors
from weishang.inventory.services import landed_cost_add
from weishang.ledger import services as ledger
from weishang.ledger.models import Purpose
from weishang.purchasing.models import (
    OPEN_STATUSES,
    PO_MOVES,
    ZERO,
    BillLine,
    BillStatus,
    POStatus,
    PurchaseLine,
    PurchaseOrder,
    Receipt,
    ReceiptLine,
    Supplier,
    SupplierBill,
    SupplierPayment,
    SupplierPrice,
)
from weishang.trade import stock
from weishang.trade.models import Location, LocationKind, StockReason

CENT = Decimal("0.01")
MAX_UNITS = 10_000_000
MAX_MONEY = Decimal("100000000")


def _number(prefix: str) -> str:
    return f"{prefix}{clock.localtime():%Y%m%d}{secrets.token_hex(3).upper()}"


def _money(value, *, field: str, allow_zero: bool = True) -> Decimal:
    return amount_input(value, field=field, maximum=MAX_MONEY, positive=not allow_zero)


def _units(value, *, field: str, label: str = "") -> int:
    try:
        units = int(str(value).strip())
    except (ValueError, TypeError):
        units = -1
    if units < 0 or units > MAX_UNITS:
        raise BusinessError(
            (_("%(what)s: enter a whole number of units, 0 or more.") % {"what": label})
            if label
            else _("Enter a whole number of units, 0 or more."),
            field=field,
        )
    return units


# --- suppliers ---------------------------------------------------------------------------------


@transaction.atomic
def supplier_save(*, supplier: Supplier | None = None, name: str, **fields) -> Supplier:
    name = (name or "").strip()
    if not name:
        raise BusinessError(_("Give the supplier a name."), field="name")
    others = Supplier.objects.filter(name=name)
    if supplier is not None:
        others = others.exclude(pk=supplier.pk)
    if others.exists():
        raise BusinessError(_("There is a supplier of that name already."), field="name")
    supplier = supplier or Supplier()
    supplier.name = name[:100]
    limits = {"contact": 50, "phone": 20, "email": 254, "address": 200, "terms": 200}  # the fields' max_length
    for key, limit in limits.items():
        if key in fields:
            setattr(supplier, key, (fields[key] or "").strip()[:limit])
    if "payment_days" in fields:
        days = _units(fields["payment_days"], field="payment_days")
        if days > 365:
            raise BusinessError(_("Payment terms are at most 365 days."), field="payment_days")
        supplier.payment_days = days
    if "active" in fields:
        supplier.active = bool(fields["active"])
    supplier.save()
    return supplier


@transaction.atomic
def supplier_price_set(*, supplier: Supplier, sku: SKU, unit_price, lead_time_days=7, min_quantity=1) -> SupplierPrice:
    """What ``supplier`` charges for ``sku``; a change is kept in the price's history."""
    price = _money(unit_price, field="unit_price")
    lead = _units(lead_time_days, field="lead_time_days")
    least = max(1, _units(min_quantity, field="min_quantity"))
    if lead > 365:
        raise BusinessError(_("A lead time is at most 365 days."), field="lead_time_days")
    row = SupplierPrice.objects.filter(supplier=supplier, sku=sku).first()
    if row is None:
        return SupplierPrice.objects.create(
            supplier=supplier, sku=sku, unit_price=price, lead_time_days=lead, min_quantity=least
        )
    if (row.unit_price, row.lead_time_days, row.min_quantity) != (price, lead, least):
        row.unit_price, row.lead_time_days, row.min_quantity = price, lead, least
        row.save()
    return row


def preferred_price(sku: SKU) -> SupplierPrice | None:
    """The supplier to order ``sku`` from: the cheapest active one, then the quickest."""
    return (
        SupplierPrice.objects.filter(sku=sku, supplier__active=True)
        .select_related("supplier")
        .order_by("unit_price", "lead_time_days", "pk")
        .first()
    )


# --- purchase orders ---------------------------------------------------------------------------


def _warehouse(location: Location | None) -> Location:
    location = location or stock.location_singleton(LocationKind.WAREHOUSE)
    if location.kind != LocationKind.WAREHOUSE:
        raise BusinessError(_("Goods are delivered to one of the brand's warehouses."), field="location")
    return location


@transaction.atomic
def po_create(
    *,
    supplier: Supplier,
    lines: list[tuple[SKU, object, object | None]],
    location: Location | None = None,
    expected_date: date | None = None,
    note: str = "",
    by=None,
) -> PurchaseOrder:
    """A draft purchase order: ``lines`` of (SKU, units, unit price or None for the supplier's)."""
    if not supplier.active:
        raise BusinessError(_("This supplier is not active."), field="supplier")
    if not lines:
        raise BusinessError(_("Add at least one line."), field="lines")
    location = _warehouse(location)
    clean = []
    seen = set()
    for sku, quantity, unit_price in lines:
        units = _units(quantity, field="quantity", label=sku.code)
        if units == 0:
            raise BusinessError(_("%(sku)s: order at least one unit.") % {"sku": sku.code}, field="quantity")
        if sku.pk in seen:
            raise BusinessError(_("%(sku)s is on the order twice.") % {"sku": sku.code}, field="sku")
        seen.add(sku.pk)
        if unit_price is None or str(unit_price).strip() == "":
            agreed = SupplierPrice.objects.filter(supplier=supplier, sku=sku).first()
            if agreed is None:
                raise BusinessError(
                    _("%(sku)s: %(supplier)s has no price for it; enter one.")
                    % {"sku": sku.code, "supplier": supplier},
                    field="unit_price",
                )
            price = agreed.unit_price
        else:
            price = _money(unit_price, field="unit_price")
        clean.append((sku, units, price))
    po = PurchaseOrder.objects.create(
        number=_number("PO"),
        supplier=supplier,
        location=location,
        expected_date=expected_date,
        note=(note or "")[:200],
        created_by=by,
    )
    PurchaseLine.objects.bulk_create(
        [PurchaseLine(order=po, sku=sku, quantity=units, unit_price=price) for sku, units, price in clean]
    )
    return po


def _locked(po: PurchaseOrder) -> PurchaseOrder:
    return PurchaseOrder.objects.select_for_update(of=("self",)).select_related("supplier", "location").get(pk=po.pk)


@transaction.atomic
def po_move(*, po: PurchaseOrder, move: str, by=None) -> PurchaseOrder:
    """Send, confirm, cancel or close a purchase order (``PO_MOVES``)."""
    if move not in PO_MOVES:
        raise BusinessError(_("There is no such step."), field="move")
    sources, target = PO_MOVES[move]
    po = _locked(po)
    if po.status not in sources:
        raise Conflict(
            _("Purchase order %(number)s is %(status)s: the step “%(step)s” cannot be taken now.")
            % {"number": po.number, "status": po.get_status_display(), "step": step_words(move)},
            field="status",
        )
    if move == "cancel" and po.lines.filter(accepted__gt=0).exists():
        raise Conflict(_("Goods of this order were received: close it instead."), field="status")
    now = clock.now()
    stamps = {"send": "sent_at", "confirm": "confirmed_at"}
    po.status = target
    fields = ["status"]
    if move in stamps:
        setattr(po, stamps[move], now)
        fields.append(stamps[move])
    po.save(update_fields=fields)
    return po


def step_words(move: str) -> str:
    """A step as its button says it."""
    return {
        "send": _("Send to the supplier"),
        "confirm": _("The supplier confirmed"),
        "cancel": _("Cancel the order"),
        "close": _("Close the order"),
    }[move]


def spread(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """``amount`` split over ``weights`` in proportion, each part to the fen, the parts adding up to
    ``amount`` exactly (the last part takes what rounding left)."""
    total = sum(weights, ZERO)
    if amount == 0 or total == 0:
        return [ZERO for _w in weights]
    parts = [(amount * w / total).quantize(CENT, rounding=ROUND_HALF_UP) for w in weights[:-1]]
    return [*parts, amount - sum(parts, ZERO)]


def _expiry(value: object) -> date | None:
    if isinstance(value, date) or value is None:
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BusinessError(_("Enter the expiry date like 2027-06-30."), field="expires_on") from None


@transaction.atomic
def po_receive(
    *,
    po: PurchaseOrder,
    lines: dict[int, tuple[object, object, str]],
    freight=0,
    duties=0,
    note: str = "",
    photos: dict[int, UploadedFile | None] | None = None,
    batches: dict[int, tuple[str, object]] | None = None,
    by=None,
) -> Receipt:
    """Receive goods of a sent or confirmed order: ``{line id: (accepted, rejected, reason)}``.

    Accepted units enter the order's warehouse at the order's unit price (goods received not
    billed); rejected ones do not, and need a reason; a line may carry a photo of what was found
    (``photos``: {line id: upload}, checked from its bytes). A SKU kept by batch names the batch
    and its expiry (``batches``: {line id: (batch number, expiry date or "")}; the SKU's shelf life
    gives an expiry not typed). More than was ordered is refused. Freight and
    duties are spread over the accepted lines by value as landed costs, paid to the carrier and
    customs from brand cash on delivery (so payables hold the suppliers' bills alone). The order
    becomes partially received or received."""
    po = _locked(po)
    if po.status not in (POStatus.SENT, POStatus.CONFIRMED, POStatus.PARTIAL):
        raise Conflict(
            _("Purchase order %(number)s is %(status)s: nothing can be received on it.")
            % {"number": po.number, "status": po.get_status_display()},
            field="status",
        )
    order_lines = {line.pk: line for line in po.lines.select_related("sku").select_for_update(of=("self",))}
    freight, duties = _money(freight, field="freight"), _money(duties, field="duties")
    taken = []
    for line_id, (accepted_raw, rejected_raw, reason) in lines.items():
        line = order_lines.get(int(line_id))
        if line is None:
            raise BusinessError(_("That line is not on this order."), field="lines")
        accepted = _units(accepted_raw, field="accepted", label=line.sku.code)
        rejected = _units(rejected_raw or 0, field="rejected", label=line.sku.code)
        if accepted == 0 and rejected == 0:
            continue
        if accepted > line.outstanding:
            raise BusinessError(
                _("%(sku)s: %(accepted)d accepted, but only %(left)d are still to come.")
                % {"sku": line.sku.code, "accepted": accepted, "left": line.outstanding},
                field="accepted",
            )
        reason = (reason or "").strip()
        if rejected and not reason:
            raise BusinessError(
                _("%(sku)s: say why %(rejected)d unit(s) were rejected.")
                % {"sku": line.sku.code, "rejected": rejected},
                field="reason",
            )
        taken.append((line, accepted, rejected, reason[:200]))
    if not taken:
        raise BusinessError(_("Enter the units received on at least one line."), field="lines")
    photos = {int(k): v for k, v in (photos or {}).items() if v}
    for upload in photos.values():
        check_picture(upload, field="photo")
    if (freight or duties) and not any(accepted for _l, accepted, _r, _w in taken):
        raise BusinessError(_("Landed costs need accepted units to carry them."), field="freight")
    receipt = Receipt.objects.create(
        number=_number("GR"), order=po, received_by=by, freight=freight, duties=duties, note=(note or "")[:200]
    )
    weights = [line.unit_price * accepted for line, accepted, _r, _w in taken]
    landed = spread(freight + duties, weights)
    supplier_location = stock.location_singleton(LocationKind.SUPPLIER)
    lots = {int(k): (str(code or "").strip(), _expiry(expiry)) for k, (code, expiry) in (batches or {}).items()}
    moves = [
        stock.Move(
            supplier_location,
            po.location,
            line.sku,
            accepted,
            unit_cost=line.unit_price,
            batch_code=lots.get(line.pk, ("", None))[0],
            expires_on=lots.get(line.pk, ("", None))[1],
        )
        for line, accepted, _r, _w in taken
        if accepted
    ]
    if moves:
        stock.stock_move(moves=moves, reason=StockReason.RECEIPT, by=by, note=f"{po.number} {receipt.number}")
    for (line, accepted, rejected, reason), cost in zip(taken, landed, strict=True):
        receipt_line = ReceiptLine(
            receipt=receipt, line=line, accepted=accepted, rejected=rejected, reason=reason, landed_cost=cost
        )
        if line.pk in photos:
            receipt_line.photo = photos[line.pk]
        receipt_line.save()
        PurchaseLine.objects.filter(pk=line.pk).update(
            accepted=F("accepted") + accepted, rejected=F("rejected") + rejected
        )
        if cost > 0:
            landed_cost_add(
                sku=line.sku,
                amount=cost,
                reference=f"{po.number} {receipt.number}",
                counter=Purpose.BRAND_CASH,
                by=by,
            )
    remaining = sum(max(0, line.quantity - line.accepted) for line in po.lines.all())
    po.status = POStatus.RECEIVED if remaining == 0 else POStatus.PARTIAL
    po.received_at = clock.now() if remaining == 0 else None
    po.save(update_fields=["status", "received_at"])
    return receipt


@transaction.atomic
def pos_from_proposals(*, by=None) -> list[PurchaseOrder]:
    """Draft purchase orders for what the reorder rules propose, one per preferred supplier (the
    cheapest active supplier of each SKU, then the quickest). SKUs no supplier sells are left out."""
    grouped: dict[tuple[int, int], list] = {}
    suppliers = {}
    for proposal in inventory_selectors.reorder_proposals():
        price = preferred_price(proposal.rule.sku)
        if price is None:
            continue
        quantity = max(proposal.quantity, price.min_quantity)
        key = (price.supplier_id, proposal.rule.location_id)
        suppliers[price.supplier_id] = price.supplier
        grouped.setdefault(key, []).append((proposal.rule.sku, quantity, price.unit_price, proposal.rule.location))
    made = []
    for (supplier_id, _location_id), lines in sorted(grouped.items()):
        location = lines[0][3]
        made.append(
            po_create(
                supplier=suppliers[supplier_id],
                lines=[(sku, qty, price) for sku, qty, price, _loc in lines],
                location=location,
                note=_("From the reorder rules"),
                by=by,
            )
        )
    return made


def incoming_units() -> dict[tuple[int, int], int]:
    """Units on open purchase orders not yet accepted, by (SKU id, warehouse id): what the inventory's
    reorder proposals count as on order (installed when the app is ready)."""
    out: dict[tuple[int, int], int] = {}
    for sku_id, location_id, quantity, accepted in PurchaseLine.objects.filter(
        order__status__in=OPEN_STATUSES
    ).values_list("sku_id", "order__location_id", "quantity", "accepted"):
        key = (sku_id, location_id)
        out[key] = out.get(key, 0) + max(0, quantity - accepted)
    return out


# --- bills and payments ------------------------------------------------------------------------


@transaction.atomic
def bill_enter(
    *,
    po: PurchaseOrder,
    number: str,
    lines: dict[int, tuple[object, object]],
    bill_date: date | None = None,
    by=None,
) -> SupplierBill:
    """Enter the supplier's bill for ``po``: ``{line id: (units, unit price)}``.

    Three-way match: each line's units must have been accepted and not yet billed, at the order's
    unit price; anything else is refused line by line and nothing is posted. A matched bill is posted
    as goods received not billed against payables, due after the supplier's payment terms."""
    po = _locked(po)
    number = (number or "").strip()
    if not number:
        raise BusinessError(_("Enter the supplier's invoice number."), field="number")
    if SupplierBill.objects.filter(supplier=po.supplier, number=number[:40]).exists():
        raise BusinessError(_("A bill with this number from this supplier was entered already."), field="number")
    order_lines = {line.pk: line for line in po.lines.select_related("sku").select_for_update(of=("self",))}
    matched, problems = [], []
    for line_id, (units_raw, price_raw) in lines.items():
        line = order_lines.get(int(line_id))
        if line is None:
            raise BusinessError(_("That line is not on this order."), field="lines")
        units = _units(units_raw, field="quantity", label=line.sku.code)
        if units == 0:
            continue
        price = _money(price_raw, field="unit_price") if price_raw not in (None, "") else line.unit_price
        open_units = line.accepted - line.billed
        if units > open_units:
            problems.append(
                _("%(sku)s: %(units)d billed, but %(open)d received and not yet billed.")
                % {"sku": line.sku.code, "units": units, "open": open_units}
            )
        if price != line.unit_price:
            problems.append(
                _("%(sku)s: billed at ¥%(price)s, ordered at ¥%(ordered)s.")
                % {"sku": line.sku.code, "price": price, "ordered": line.unit_price}
            )
        matched.append((line, units, price))
    if problems:
        raise BusinessError(" ".join(str(p) for p in problems), field="lines")
    if not matched:
        raise BusinessError(_("Enter the units billed on at least one line."), field="lines")
    total = sum(((price * units).quantize(CENT) for _l, units, price in matched), ZERO)
    day = bill_date or clock.today()
    entry = ledger.journal_post(
        lines=[
            ledger.debit(ledger.account_for(owner=None, purpose=Purpose.BRAND_GOODS_RECEIVED), total),
            ledger.credit(ledger.account_for(owner=None, purpose=Purpose.BRAND_PAYABLES), total),
        ],
        memo=_("Bill %(number)s of %(supplier)s") % {"number": number, "supplier": po.supplier.name},
        reference=f"bill:{po.number}:{number}"[:100],
        kind="purchasing.bill",
        by=by,
    )
    bill = SupplierBill.objects.create(
        supplier=po.supplier,
        order=po,
        number=number[:40],
        bill_date=day,
        due_date=day + timedelta(days=po.supplier.payment_days),
        total=total,
        entry=entry,
        created_by=by,
    )
    for line, units, price in matched:
        BillLine.objects.create(
            bill=bill, line=line, quantity=units, unit_price=price, amount=(price * units).quantize(CENT)
        )
        PurchaseLine.objects.filter(pk=line.pk).update(billed=F("billed") + units)
    return bill


@transaction.atomic
def bill_pay(*, bill: SupplierBill, amount, reference: str = "", by=None) -> SupplierPayment:
    """Pay (part of) a bill from brand cash: payables against cash. More than is owed is refused."""
    bill = SupplierBill.objects.select_for_update(of=("self",)).select_related("supplier").get(pk=bill.pk)
    amount = _money(amount, field="amount", allow_zero=False)
    if amount > bill.balance:
        raise BusinessError(
            _("¥%(amount)s is more than the ¥%(balance)s still owed on this bill.")
            % {"amount": amount, "balance": bill.balance},
            field="amount",
        )
    entry = ledger.journal_post(
        lines=[
            ledger.debit(ledger.account_for(owner=None, purpose=Purpose.BRAND_PAYABLES), amount),
            ledger.credit(ledger.account_for(owner=None, purpose=Purpose.BRAND_CASH), amount),
        ],
        memo=_("Payment of bill %(number)s to %(supplier)s") % {"number": bill.number, "supplier": bill.supplier.name},
        reference=f"bill:{bill.order_id}:{bill.number}"[:100],
        kind="purchasing.payment",
        by=by,
    )
    payment = SupplierPayment.objects.create(
        bill=bill, amount=amount, reference=(reference or "").strip()[:60], entry=entry, paid_by=by
    )
    bill.paid += amount
    bill.status = BillStatus.PAID if bill.paid == bill.total else BillStatus.PARTIAL
    bill.save(update_fields=["paid", "status"])
    return payment
