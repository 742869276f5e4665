"""Batches and expiry dates (批次 / 效期) for the SKUs that need them, picked first expiry, first
out (FEFO).

``follow_batches`` is installed into ``trade.stock`` beside the valuation: in every stock move's
transaction, for each move of a batch-tracked SKU into or out of a brand warehouse, it writes
immutable ``BatchMove`` rows and keeps ``BatchLevel`` (a batch's units in one warehouse) beside the
warehouse's ``StockLevel``:

- Into a warehouse: goods received name their batch and expiry (``Move.batch_code``,
  ``Move.expires_on``; the expiry may come from the SKU's shelf life); a receipt without a batch
  is refused. Units an order line gives back (a return or a cancellation, ``REVERSAL_REASONS``,
  the move naming its ``order_line``) go into the batches that line's moves out of this warehouse
  took: the batch taken last first, each no more than the line took from it less what came back
  before (``inventory.selectors.batches_to_return``). Anything else coming in without a batch (a
  count found more, units shipped before the SKU was kept by batch) goes into the SKU's unbatched
  batch, which has no expiry and is picked last.
- Out of a warehouse: the batches with units there, earliest expiry first. A sale (order fill,
  pick-up, retail, B2B) never takes an expired batch — when only expired units would do, the move
  is refused and says which batch; scrapping and count adjustments take expired units first.
- Between two warehouses: the units keep the batches they left.

The stock level's guarded UPDATE (``trade.stock``) has already locked that SKU's row in the
warehouse when the listener runs, so two pickers of one SKU take batches one after the other.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import F, Sum
from django.utils.translation import gettext as _

from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict
from weishang.inventory.models import UNBATCHED, Batch, BatchLevel, BatchMove, BatchTracking
from weishang.inventory.selectors import batches_to_return
from weishang.trade.models import LocationKind, StockLevel, StockMove, StockReason

# Reasons that put goods into a customer's or an agent's hands: never an expired batch.
SALE_REASONS = frozenset({StockReason.ORDER_FILL, StockReason.PICKUP, StockReason.RETAIL, StockReason.B2B})
# Reasons that bring an order line's units back (trade names the line, ``StockMove.order_line``):
# into the batches that line took them from.
REVERSAL_REASONS = frozenset({StockReason.RETURN, StockReason.CANCEL})


def _fefo_key(level: BatchLevel) -> tuple:
    batch = level.batch
    return (batch.expires_on is None, batch.expires_on or date.max, batch.created_at, batch.pk)


def pick(*, location, sku, quantity: int, allow_expired: bool, today: date) -> list[tuple[Batch, int]]:
    """Take ``quantity`` units of ``sku`` from the batches in ``location``, first expiry first
    out (expired batches only with ``allow_expired``), and lower their levels."""
    levels = sorted(
        BatchLevel.objects.select_for_update(of=("self",))
        .select_related("batch")
        .filter(location=location, batch__sku=sku, quantity__gt=0)
        .order_by("pk"),
        key=_fefo_key,
    )
    taken: list[tuple[Batch, int]] = []
    left = quantity
    expired = [lv for lv in levels if lv.batch.expires_on is not None and lv.batch.expires_on < today]
    for level in levels:
        if left == 0:
            break
        if level in expired and not allow_expired:
            continue
        n = min(left, level.quantity)
        BatchLevel.objects.filter(pk=level.pk, quantity__gte=n).update(quantity=F("quantity") - n)
        taken.append((level.batch, n))
        left -= n
    if left:
        if expired and not allow_expired:
            first = expired[0].batch
            raise Conflict(
                _(
                    "Only expired units of %(sku)s are left for %(n)s of them: batch %(batch)s expired on "
                    "%(day)s. Scrap them; they are not sold."
                )
                % {"sku": sku.code, "n": left, "batch": first.code, "day": first.expires_on},
                field="quantity",
            )
        raise Conflict(
            _("The batches of %(sku)s hold fewer units than the warehouse; run weishang inventory verify.")
            % {"sku": sku.code}
        )
    return taken


def _add(batch: Batch, location, quantity: int) -> None:
    BatchLevel.objects.bulk_create([BatchLevel(batch=batch, location=location)], ignore_conflicts=True)
    BatchLevel.objects.filter(batch=batch, location=location).update(quantity=F("quantity") + quantity)


def batch_for(*, sku, tracking: BatchTracking, code: str, expires_on: date | None, today: date) -> Batch:
    """The batch goods come in under: the named one (made on its first receipt, its expiry given or
    the SKU's shelf life on from today), or the unbatched one."""
    code = (code or "").strip() or UNBATCHED
    if len(code) > 40:
        raise BusinessError(_("A batch number has at most 40 characters."), field="batch")
    if code == UNBATCHED:
        expires_on = None
    elif expires_on is None and tracking.shelf_life_days and not Batch.objects.filter(sku=sku, code=code).exists():
        # the shelf life counts from the batch's first receipt; a later one keeps the batch's expiry
        expires_on = today + timedelta(days=tracking.shelf_life_days)
    batch, made = Batch.objects.get_or_create(sku=sku, code=code, defaults={"expires_on": expires_on})
    if not made and expires_on is not None and batch.expires_on != expires_on:
        raise BusinessError(
            _("Batch %(batch)s of %(sku)s expires on %(day)s, not %(other)s.")
            % {"batch": code, "sku": sku.code, "day": batch.expires_on, "other": expires_on},
            field="expires_on",
        )
    return batch


def follow_batches(*, moves: list[StockMove], asked, reason: str, by=None, counter: str = "") -> None:
    """The listener of ``trade.stock`` (see the module docstring)."""
    tracking = {t.sku_id: t for t in BatchTracking.objects.filter(sku_id__in={want.sku.pk for want in asked})}
    if not tracking:
        return
    today = clock.today()
    rows: list[BatchMove] = []
    for move, want in zip(moves, asked, strict=True):
        track = tracking.get(want.sku.pk)
        out_of = want.from_location.kind == LocationKind.WAREHOUSE
        into = want.to_location.kind == LocationKind.WAREHOUSE
        if track is None or not (out_of or into):
            continue
        taken: list[tuple[Batch, int]] = []
        if out_of:
            taken = pick(
                location=want.from_location,
                sku=want.sku,
                quantity=want.quantity,
                allow_expired=reason not in SALE_REASONS,
                today=today,
            )
            rows += [BatchMove(stock_move=move, batch=b, location=want.from_location, quantity=-n) for b, n in taken]
        if into:
            if not out_of:
                if reason == StockReason.RECEIPT and not (want.batch_code or "").strip():
                    raise BusinessError(
                        _("%(sku)s is kept by batch: give the batch number of the goods received.")
                        % {"sku": want.sku.code},
                        field="batch",
                    )
                if reason in REVERSAL_REASONS and move.order_line_id and not (want.batch_code or "").strip():
                    BatchMove.objects.bulk_create(rows)  # an earlier move of this call back on the same line counts
                    rows = []
                    taken = _taken_by_line(move, want)
                left = want.quantity - sum(n for _b, n in taken)
                if left:
                    batch = batch_for(
                        sku=want.sku, tracking=track, code=want.batch_code, expires_on=want.expires_on, today=today
                    )
                    taken.append((batch, left))
            for batch, n in taken:
                _add(batch, want.to_location, n)
            rows += [BatchMove(stock_move=move, batch=b, location=want.to_location, quantity=n) for b, n in taken]
    BatchMove.objects.bulk_create(rows)


def _taken_by_line(move: StockMove, want) -> list[tuple[Batch, int]]:
    """The batches units coming back on an order line (a return, a cancelled fill or pick-up) go
    into: those the line's moves out of this warehouse took, the latest first, each no more than
    it gave less what earlier moves back on the line put into it."""
    line = StockMove.objects.filter(order_line_id=move.order_line_id, sku=want.sku).exclude(pk=move.pk)
    return batches_to_return(
        shipped=line.filter(from_location=want.to_location),
        returned=line.filter(to_location=want.to_location).exclude(from_location=want.to_location),
        quantity=want.quantity,
    )


def tracking_start(*, sku, shelf_life_days: int | None = None, warn_days: int = 60) -> BatchTracking:
    """Keep ``sku`` by batch from now on: what the warehouses hold goes into its unbatched batch."""
    if BatchTracking.objects.filter(sku=sku).exists():
        raise Conflict(_("%(sku)s is already kept by batch.") % {"sku": sku.code}, field="sku")
    tracking = BatchTracking.objects.create(sku=sku, shelf_life_days=shelf_life_days, warn_days=warn_days)
    levels = list(
        StockLevel.objects.select_for_update(of=("self",))
        .select_related("location")
        .filter(sku=sku, location__kind=LocationKind.WAREHOUSE, quantity__gt=0)
        .order_by("pk")
    )
    if levels:
        batch = Batch.objects.create(sku=sku, code=UNBATCHED)
        for level in levels:
            _add(batch, level.location, level.quantity)
        BatchMove.objects.bulk_create(
            [BatchMove(batch=batch, location=level.location, quantity=level.quantity) for level in levels]
        )
    return tracking


def batches_verify() -> list[str]:
    """Each batch level against its moves, and each tracked SKU's batches against the warehouse's
    units. Problems, in words (empty: all agrees)."""
    problems = []
    moved = {
        (row["batch_id"], row["location_id"]): row["s"]
        for row in BatchMove.objects.values("batch_id", "location_id").annotate(s=Sum("quantity"))
    }
    per_sku: dict[tuple[int, int], int] = {}
    for level in BatchLevel.objects.select_related("batch"):
        if moved.get((level.batch_id, level.location_id), 0) != level.quantity:
            problems.append(
                _("Batch %(batch)s holds %(units)s units, its moves say %(moved)s.")
                % {
                    "batch": level.batch,
                    "units": level.quantity,
                    "moved": moved.get((level.batch_id, level.location_id), 0),
                }
            )
        key = (level.batch.sku_id, level.location_id)
        per_sku[key] = per_sku.get(key, 0) + level.quantity
    tracked = BatchTracking.objects.values_list("sku_id", flat=True)
    for level in StockLevel.objects.filter(sku_id__in=tracked, location__kind=LocationKind.WAREHOUSE).select_related(
        "sku", "location"
    ):
        if per_sku.get((level.sku_id, level.location_id), 0) != level.quantity:
            problems.append(
                _("%(sku)s: %(location)s holds %(units)s units, its batches %(batched)s.")
                % {
                    "sku": level.sku.code,
                    "location": level.location.name,
                    "units": level.quantity,
                    "batched": per_sku.get((level.sku_id, level.location_id), 0),
                }
            )
    return problems
