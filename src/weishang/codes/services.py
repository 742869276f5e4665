"""Security codes: printing a batch, scanning codes onto an order as the goods go out, a public
check, and handling channel conflict (窜货). Every write is one transaction; the rows of moves and
checks are never changed, and a code's holder and check figures are written with them."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from weishang.catalog.models import SKU
from weishang.channel.models import Agent
from weishang.codes import symbols
from weishang.codes.models import (
    MAX_BOXES,
    MAX_ITEMS,
    MAX_PER_BOX,
    BoxCode,
    ChannelConflict,
    CodeBatch,
    CodeCheck,
    CodeMove,
    ConflictKind,
    ConflictStatus,
    ItemCode,
)
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.outbox import outbox_follow
from weishang.regions.models import Region
from weishang.regions.selectors import area_prefix, outside, region_from_input
from weishang.trade import workflow
from weishang.trade.models import Order, OrderKind, OrderLine
from weishang.trade.services.common import is_staff_with, locked_order, require_seller_side

# More checks than this and the page warns that the code may have been copied.
COPY_WARNING_AFTER = 5
SHOWN_UNKNOWN = 5  # unknown codes named in one message


# --- batches ------------------------------------------------------------------------------


def _new_codes(make, n: int) -> list[str]:
    """``n`` new codes none of which exists yet (a clash among 32^15 is all but impossible; it
    is still checked, not assumed)."""
    codes: set[str] = set()
    while len(codes) < n:
        codes |= {make() for _ in range(n - len(codes))}
        codes -= set(ItemCode.objects.filter(code__in=codes).values_list("code", flat=True))
        codes -= set(BoxCode.objects.filter(code__in=codes).values_list("code", flat=True))
    return list(codes)


@transaction.atomic
def batch_create(*, sku: SKU, boxes: int, per_box: int, by, note: str = "") -> CodeBatch:
    """Print a batch: ``boxes`` box codes, each holding ``per_box`` item codes, for one SKU."""
    if not is_staff_with(by, "codes.add_codebatch"):
        raise Forbidden(_("Only brand staff may create code batches."))
    if not 1 <= boxes <= MAX_BOXES:
        raise BusinessError(_("Boxes: 1 to %(n)d.") % {"n": MAX_BOXES}, field="boxes")
    if not 1 <= per_box <= MAX_PER_BOX:
        raise BusinessError(_("Items per box: 1 to %(n)d.") % {"n": MAX_PER_BOX}, field="per_box")
    if boxes * per_box > MAX_ITEMS:
        raise BusinessError(
            _("At most %(n)d item codes in one batch: make several batches.") % {"n": MAX_ITEMS}, field="boxes"
        )
    today = clock.now().strftime("%Y%m%d")
    serial = CodeBatch.objects.filter(number__startswith=f"CB{today}").count() + 1
    batch = CodeBatch.objects.create(
        number=f"CB{today}-{serial:03d}", sku=sku, boxes=boxes, per_box=per_box, note=note.strip()[:200], created_by=by
    )
    box_rows = BoxCode.objects.bulk_create(
        [BoxCode(code=c, batch=batch) for c in _new_codes(symbols.new_box_code, boxes)], batch_size=1000
    )
    if not all(b.pk for b in box_rows):  # backends that do not return ids: read them back
        box_rows = list(batch.box_codes.order_by("pk"))
    items = iter(_new_codes(symbols.new_item_code, boxes * per_box))
    ItemCode.objects.bulk_create(
        [ItemCode(code=next(items), batch=batch, box=box) for box in box_rows for _ in range(per_box)],
        batch_size=2000,
    )
    return batch


# --- scanning as goods go out -------------------------------------------------------------


def _receiver(order: Order) -> tuple[Agent | None, Agent | None, Region | None, bool]:
    """(who sends, the agent who holds the goods afterwards, where they go, sold to a consumer)."""
    if order.kind == OrderKind.PICKUP:  # the agent's cloud stock, shipped to their customer
        return order.buyer, order.buyer, order.ship_region, True
    if order.kind == OrderKind.RETAIL:  # the seller's shop sale
        return order.seller, order.seller, order.ship_region, True
    buyer = order.buyer
    return order.seller, buyer, buyer.region if buyer else None, False


def _scannable(order: Order, user) -> None:
    names = {"scan_codes", "scan_pickup_codes"}
    steps = [s for s in workflow.current().steps if s.name in names and s.applies(order)]
    if not steps:
        raise Conflict(
            _("Order %(number)s is %(status)s: codes are scanned while its goods are being sent out.")
            % {"number": order.number, "status": order.get_status_display()},
            field="codes",
        )
    if order.kind == OrderKind.PICKUP:
        if not is_staff_with(user, "trade.change_order"):
            raise Forbidden(_("The brand's warehouse scans a pick-up."))
    else:
        require_seller_side(order, user)


def _items_for(codes: list[str]) -> list[ItemCode]:
    """The item codes the scanned codes stand for (a box code: every item in the box). Any code
    that is not one of ours stops the scan, naming it."""
    unknown = [c for c in codes if not symbols.well_formed(c)]
    boxes = [c for c in codes if symbols.is_box(c)]
    items = [c for c in codes if symbols.well_formed(c) and not symbols.is_box(c)]
    found_boxes = dict(BoxCode.objects.filter(code__in=boxes).values_list("code", "pk"))
    found_items = set(ItemCode.objects.filter(code__in=items).values_list("code", flat=True))
    unknown += [c for c in boxes if c not in found_boxes] + [c for c in items if c not in found_items]
    if unknown:
        shown = "、".join(symbols.grouped(c) if len(c) <= 16 else c[:16] + "…" for c in unknown[:SHOWN_UNKNOWN])
        raise BusinessError(
            _("Not our code (counterfeit or mistyped): %(codes)s. Nothing was scanned; check and scan again.")
            % {"codes": shown},
            field="codes",
        )
    ids = [
        *ItemCode.objects.filter(code__in=items).values_list("pk", flat=True),
        *ItemCode.objects.filter(box_id__in=found_boxes.values()).values_list("pk", flat=True),
    ]
    # Locked in id order, so that two scans of overlapping codes wait for each other, not deadlock.
    return list(
        ItemCode.objects.select_for_update(of=("self",))
        .select_related("batch", "holder__region", "region")
        .filter(pk__in=ids)
        .order_by("pk")
    )


def _open_conflict(**fields) -> ChannelConflict | None:
    """Record a case unless the same one is open: the same code and kind, in the same city (a code
    checked in three districts of 成都 is one case). The database holds one open case per exact
    place against two requests at once."""
    where: Region | None = fields.get("where")
    same = ChannelConflict.objects.filter(item=fields["item"], kind=fields["kind"], status=ConflictStatus.OPEN)
    if fields.get("order") is not None:
        same = same.filter(order=fields["order"])
    elif where is not None:
        same = same.filter(where__code__startswith=area_prefix(where))
    if same.exists():
        return None
    try:
        with transaction.atomic():
            return ChannelConflict.objects.create(**fields)
    except IntegrityError:
        return None


@transaction.atomic
def codes_scan(*, order: Order, by, text: str) -> Order:
    """Bind the scanned box or item codes to ``order`` as its goods go out. The codes go to the
    order's receiver (the buying agent, or for a shop sale and a pick-up, the consumer's address
    and the agent who sold). A code held by another agent, or sent to an address outside the
    selling agent's region, is recorded as channel conflict. Scanning a code twice is harmless;
    more codes of a SKU than the order holds, or an unknown code, changes nothing."""
    order = locked_order(order)
    _scannable(order, by)
    codes = symbols.split_input(text)
    if not codes:
        raise BusinessError(_("Scan or type at least one code."), field="codes")
    items = _items_for(codes)
    out = CodeMove.objects.filter(order=order, back=False)
    done = set(out.values_list("item_id", flat=True))
    new = [item for item in items if item.pk not in done]
    wanted: Counter[int] = Counter()
    for sku_id, quantity in OrderLine.objects.filter(order=order).values_list("sku_id", "quantity"):
        wanted[sku_id] += quantity  # a campaign's gift line may be a SKU the order also buys
    have = Counter(out.values_list("item__batch__sku_id", flat=True))
    adding = Counter(item.batch.sku_id for item in new)
    for sku_id, n in adding.items():
        if sku_id not in wanted:
            sku = SKU.objects.get(pk=sku_id)
            raise BusinessError(
                _("%(sku)s is not in order %(number)s: those codes belong to other goods.")
                % {"sku": sku.name, "number": order.number},
                field="codes",
            )
        if have[sku_id] + n > wanted[sku_id]:
            sku = SKU.objects.get(pk=sku_id)
            raise BusinessError(
                _("Order %(number)s has %(wanted)d of %(sku)s; this would make %(n)d codes for it.")
                % {"number": order.number, "wanted": wanted[sku_id], "sku": sku.name, "n": have[sku_id] + n},
                field="codes",
            )
    sender, holder, where, sold = _receiver(order)
    now = clock.now()
    CodeMove.objects.bulk_create(
        [
            CodeMove(
                item=item,
                order=order,
                from_agent=sender,
                to_agent=None if sold else holder,
                to_region=where,
                scanned_by=by,
                at=now,
            )
            for item in new
        ]
    )
    for item in new:
        previous = item.holder
        if sender is not None and previous is not None and previous.pk != sender.pk:
            _open_conflict(
                item=item,
                kind=ConflictKind.OTHER_SELLER,
                agent=previous,
                agent_region=previous.region,
                where=sender.region,
                other_agent=sender,
                order=order,
                found_at=now,
            )
        if sold and holder is not None and outside(home=holder.region, where=where):
            _open_conflict(
                item=item,
                kind=ConflictKind.SOLD_ELSEWHERE,
                agent=holder,
                agent_region=holder.region,
                where=where,
                order=order,
                found_at=now,
            )
        item.holder, item.region, item.sold, item.shipped_at = holder, where, sold, now
    ItemCode.objects.bulk_update(new, ["holder", "region", "sold", "shipped_at"], batch_size=1000)
    order.codes_added = len(new)  # type: ignore[attr-defined]  # the step's message reads it
    return order


# --- codes come back with a cancelled or returned order ---------------------------------------

RETURN_TOPICS = ("order.cancelled", "order.refunded")


@transaction.atomic
def codes_return(*, order: Order) -> int:
    """The goods of a cancelled order never left, and those of a returned one came back: each of
    its codes goes back to whoever sent it (the seller, or the brand), by a reversing ``CodeMove``.
    A code that has moved on since (scanned onto a later order) is left where it is. Returns how
    many codes came back; running it again changes nothing."""
    returned = set(CodeMove.objects.filter(order=order, back=True).values_list("item_id", flat=True))
    outs = [
        move
        for move in CodeMove.objects.filter(order=order, back=False).select_related("from_agent__region")
        if move.item_id not in returned
    ]
    if not outs:
        return 0
    items = {
        item.pk: item
        for item in ItemCode.objects.select_for_update(of=("self",)).filter(pk__in=[m.item_id for m in outs])
    }
    latest = {}
    for item_id, order_id, back in (
        CodeMove.objects.filter(item_id__in=items).order_by("at", "pk").values_list("item_id", "order_id", "back")
    ):
        latest[item_id] = (order_id, back)
    now = clock.now()
    back_moves, changed = [], []
    for move in outs:
        item = items[move.item_id]
        back_moves.append(
            CodeMove(
                item=item,
                order=order,
                from_agent=move.to_agent,
                to_agent=move.from_agent,
                to_region=move.from_agent.region if move.from_agent else None,
                at=now,
                back=True,
            )
        )
        if latest.get(item.pk) == (order.pk, False):  # it has not moved on since
            sender = move.from_agent
            item.holder, item.region, item.sold = sender, sender.region if sender else None, False
            changed.append(item)
    CodeMove.objects.bulk_create(back_moves)
    ItemCode.objects.bulk_update(changed, ["holder", "region", "sold"])
    return len(back_moves)


def _return_orders(events) -> None:
    numbers = {event.payload.get("order") for event in events}
    for order in Order.objects.filter(number__in=numbers):
        codes_return(order=order)


def codes_follow_events() -> int:
    """The outbox consumer: codes of orders cancelled or refunded since the last run go back."""
    return outbox_follow("codes", RETURN_TOPICS, _return_orders)


# --- the public check ------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    code: str
    genuine: bool
    well_formed: bool
    product: str = ""
    sku: str = ""
    batch: str = ""
    first_checked_at: datetime | None = None
    checks: int = 0
    copy_warning: bool = False
    supplied_level: str = ""
    supplied_region: str = ""
    sold: bool = False


def _client(ip: str) -> str:
    return hashlib.sha256(f"weishang-code-check:{ip}".encode()).hexdigest()[:16] if ip else ""


@transaction.atomic
def code_check(*, text: str, region: Region | str | None = None, ip: str = "") -> CheckResult:
    """A consumer checks a product code: genuine or not, when it was first checked and how often
    (many checks warn of a copied code), and who it was supplied to — their level and region, no
    more. Checked somewhere outside that agent's region (the consumer says where), it is a channel
    conflict. Every check is recorded, an unknown code too."""
    code = symbols.from_scan(text)[:16]
    if not code:
        raise BusinessError(_("Enter the code printed under the coating."), field="code")
    region = region_from_input(region)
    if not symbols.well_formed(code) or symbols.is_box(code):
        CodeCheck.objects.create(code=code, region=region, client=_client(ip))
        return CheckResult(code=code, genuine=False, well_formed=symbols.well_formed(code))
    item = (
        ItemCode.objects.select_for_update(of=("self",))
        .select_related("batch__sku__product", "holder__level", "holder__region", "region")
        .filter(code=code)
        .first()
    )
    row = CodeCheck.objects.create(item=item, code=code, region=region, client=_client(ip))
    if item is None:
        return CheckResult(code=code, genuine=False, well_formed=True)
    first = item.first_checked_at or row.at
    ItemCode.objects.filter(pk=item.pk).update(checks=F("checks") + 1, first_checked_at=first)
    count = item.checks + 1
    holder = item.holder
    if holder is not None and region is not None and outside(home=holder.region, where=region):
        _open_conflict(
            item=item,
            kind=ConflictKind.CHECKED_ELSEWHERE,
            agent=holder,
            agent_region=holder.region,
            where=region,
            check_row=row,
            found_at=row.at,
        )
    return CheckResult(
        code=code,
        genuine=True,
        well_formed=True,
        product=item.batch.sku.product.name,
        sku=item.batch.sku.name,
        batch=item.batch.number,
        first_checked_at=first,
        checks=count,
        copy_warning=count > COPY_WARNING_AFTER,
        supplied_level=holder.level.name if holder else "",
        supplied_region=holder.region.full_name if holder and holder.region else "",
        sold=item.sold,
    )


# --- the brand handles a conflict --------------------------------------------------------------


@transaction.atomic
def conflict_handle(*, conflict: ChannelConflict, status: str, note: str, by) -> ChannelConflict:
    """Close a case: handled (say what was done: a warning, a fine under the agent agreement,
    stock taken back) or dismissed (say why). The agent's own status changes on their page."""
    if not is_staff_with(by, "codes.handle_channelconflict"):
        raise Forbidden(_("You may not handle channel conflicts."))
    conflict = ChannelConflict.objects.select_for_update().get(pk=conflict.pk)
    if conflict.status != ConflictStatus.OPEN:
        raise Conflict(_("This case is already closed."), field="status")
    if status not in (ConflictStatus.HANDLED, ConflictStatus.DISMISSED):
        raise BusinessError(_("Choose handled or dismissed."), field="status")
    if not (note or "").strip():
        raise BusinessError(_("Say what was done, or why it is dismissed."), field="note")
    conflict.status, conflict.note = status, note.strip()[:300]
    conflict.handled_by, conflict.handled_at = by, clock.now()
    conflict.save(update_fields=["status", "note", "handled_by", "handled_at"])
    return conflict
