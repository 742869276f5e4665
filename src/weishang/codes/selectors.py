"""Reading codes: a batch's codes for printing, one code's trail, an order's scanned codes, and
the channel-conflict report."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from weishang.codes.models import ChannelConflict, CodeBatch, CodeCheck, CodeMove, ConflictStatus, ItemCode
from weishang.trade.models import Order


def batch_codes(batch: CodeBatch) -> Iterator[tuple[str, str]]:
    """(box code, item code) for every item of the batch, box by box, in print order."""
    yield from (
        ItemCode.objects.filter(batch=batch)
        .order_by("box_id", "pk")
        .values_list("box__code", "code")
        .iterator(chunk_size=2000)
    )


def verify_link(base: str, code: str) -> str:
    """The public lookup of a code, as its QR code holds it (``base``: the site's /verify/ URL)."""
    return f"{base}?code={code}"


@dataclass(frozen=True)
class Trail:
    item: ItemCode
    moves: list[CodeMove]
    checks: list[CodeCheck]
    conflicts: list[ChannelConflict]


def code_trail(item: ItemCode) -> Trail:
    """Where a code went and who checked it, oldest first."""
    return Trail(
        item=item,
        moves=list(
            item.moves.select_related("order", "from_agent__level", "to_agent__level", "to_region", "scanned_by")
        ),
        checks=list(item.check_rows.select_related("region").order_by("at", "pk")),
        conflicts=list(item.conflicts.select_related("agent", "where", "other_agent", "order")),
    )


def order_code_counts(order: Order) -> dict[int, int]:
    """SKU id -> codes scanned onto the order."""
    rows = CodeMove.objects.filter(order=order, back=False).values("item__batch__sku_id").annotate(n=Count("pk"))
    return {row["item__batch__sku_id"]: row["n"] for row in rows}


def open_conflicts() -> QuerySet[ChannelConflict]:
    return ChannelConflict.objects.filter(status=ConflictStatus.OPEN)
