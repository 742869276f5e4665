"""Inventory services: costs that move no units, opening stock, reorder rules and low-stock alerts.

Units move only through ``trade.stock.stock_move``; their value follows in the same transaction
(``inventory.valuation.value_moves``). What is here changes value without moving units (a landed
cost, the cost of stock found without one), values stock written before valuation, keeps reorder
rules and tells the brand when a SKU runs low.
"""

from __future__ import annotations

import logging
import smtplib
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import translation
from django.utils.translation import gettext as _

from weishang.catalog.models import SKU
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict
from weishang.core.money import amount_input
from weishang.core.outbox import outbox_emit
from weishang.core.roles import role_group_name
from weishang.inventory import selectors, valuation
from weishang.inventory.models import (
    ZERO,
    CountStatus,
    LayerKind,
    ReorderRule,
    SkuValuation,
    StockCount,
    StockCountLine,
    ValuationLayer,
)
from weishang.ledger.models import Account, Purpose
from weishang.trade.models import Location, LocationKind, StockLevel, StockReason


def _cost(value, *, field: str) -> Decimal:
    """A unit cost: yuan to four places (what a factory quotes), up to a billion."""
    return amount_input(value, field=field, places=4, maximum=Decimal("1000000000"))


@transaction.atomic
def landed_cost_add(
    *, sku: SKU, amount, reference: str, by=None, counter: str = Purpose.BRAND_PAYABLES, memo: str = ""
) -> ValuationLayer:
    """Add a landed cost (freight, duties) to a SKU's stock: its average cost rises, no unit moves."""
    amount = _cost(amount, field="amount")
    if amount == 0:
        raise BusinessError(_("A landed cost must be more than zero."), field="amount")
    return valuation.value_only(
        sku_id=sku.pk,
        value=amount,
        kind=LayerKind.LANDED_COST,
        counter=counter,
        reference=reference,
        memo=memo or _("Landed cost of %(sku)s") % {"sku": sku.code},
        by=by,
    )


@transaction.atomic
def valuation_set_cost(*, sku: SKU, unit_cost, by=None, note: str = "") -> ValuationLayer:
    """Set the average cost of a SKU's stock (for stock found without a cost): the difference is
    posted against opening balances."""
    cost = _cost(unit_cost, field="unit_cost")
    val = valuation.locked_valuations([sku.pk])[sku.pk]
    if val.quantity <= 0:
        raise Conflict(_("There are no units of this SKU in the warehouses to carry the cost."), field="sku")
    difference = valuation.fen(cost * val.quantity) - val.value
    if difference == 0:
        raise Conflict(_("The stock is already valued at that cost."), field="unit_cost")
    return valuation.value_only(
        sku_id=sku.pk,
        value=difference,
        kind=LayerKind.REVALUATION,
        counter=Purpose.BRAND_OPENING_BALANCE,
        reference=note[:100] or f"cost:{cost}",
        memo=_("Cost of %(sku)s set to ¥%(cost)s") % {"sku": sku.code, "cost": cost},
        by=by,
    )


@transaction.atomic
def valuation_open(*, costs: dict[int, object] | None = None, by=None) -> list[ValuationLayer]:
    """Value the warehouse units that have no layer yet (stock received before valuation, or
    written in bulk): an opening layer per SKU at ``costs[sku_id]`` (zero when not given), posted
    against opening balances."""
    costs = costs or {}
    on_hand = selectors.warehouse_units()
    missing = {}
    valued = dict(SkuValuation.objects.values_list("sku_id", "quantity"))
    for sku_id, units in on_hand.items():
        if units > valued.get(sku_id, 0):
            missing[sku_id] = units - valued.get(sku_id, 0)
    if not missing:
        return []
    vals = valuation.locked_valuations(missing)
    layers, total = [], ZERO
    for sku_id in sorted(missing):
        cost = _cost(costs.get(sku_id, 0), field="cost")
        value = valuation.fen(cost * missing[sku_id])
        val = vals[sku_id]
        val.quantity += missing[sku_id]
        val.value += value
        total += value
        layers.append(
            ValuationLayer(
                sku_id=sku_id,
                kind=LayerKind.OPENING,
                quantity=missing[sku_id],
                value=value,
                average_after=valuation.average(val.quantity, val.value),
                reference="opening",
                created_by=by,
            )
        )
    entry = valuation.post(
        lines={Purpose.BRAND_INVENTORY: total, Purpose.BRAND_OPENING_BALANCE: -total},
        memo=_("Opening stock valued"),
        reference="inventory:opening",
        kind="inventory.opening",
        by=by,
    )
    for layer in layers:
        layer.entry = entry
    ValuationLayer.objects.bulk_create(layers)
    now = clock.now()
    for val in vals.values():
        SkuValuation.objects.filter(pk=val.pk).update(quantity=val.quantity, value=val.value, updated_at=now)
    return layers


def valuation_verify() -> list[str]:
    """Differences between the valuation cache, its layers, the warehouses' units and the ledger's
    inventory account; empty when all is right."""
    problems = []
    sums = {
        row["sku_id"]: (row["units"] or 0, valuation.fen(Decimal(row["value"] or ZERO)))
        for row in ValuationLayer.objects.values("sku_id").annotate(units=Sum("quantity"), value=Sum("value"))
    }
    codes = dict(SKU.objects.values_list("pk", "code"))
    cached = {v.sku_id: v for v in SkuValuation.objects.all()}
    on_hand = selectors.warehouse_units()
    for sku_id in sorted(set(sums) | set(cached)):
        units, value = sums.get(sku_id, (0, ZERO))
        val = cached.get(sku_id)
        have = (val.quantity, val.value) if val else (0, ZERO)
        code = codes.get(sku_id, sku_id)
        if (units, value) != have:
            problems.append(
                _(
                    "%(sku)s: the layers add up to %(units)d units worth ¥%(value)s, "
                    "the cache says %(have_units)d worth ¥%(have_value)s"
                )
                % {"sku": code, "units": units, "value": value, "have_units": have[0], "have_value": have[1]}
            )
        if units != on_hand.get(sku_id, 0) and units > 0:
            problems.append(
                _("%(sku)s: %(units)d units valued, %(on_hand)d in the warehouses")
                % {"sku": code, "units": units, "on_hand": on_hand.get(sku_id, 0)}
            )
    total = sum((v for _u, v in sums.values()), ZERO)
    account = Account.objects.filter(owner__isnull=True, purpose=Purpose.BRAND_INVENTORY).first()
    balance = account.balance if account else ZERO
    if total != balance:
        problems.append(
            _("The layers are worth ¥%(total)s, the ledger's inventory account says ¥%(balance)s")
            % {"total": total, "balance": balance}
        )
    return problems


# --- reorder rules and low-stock alerts --------------------------------------------------------


@transaction.atomic
def reorder_rule_save(
    *, sku: SKU, location: Location | None = None, minimum: int, maximum: int, multiple: int = 1, active: bool = True
) -> ReorderRule:
    """Create or change the reorder rule of a SKU at a warehouse (the company warehouse by default)."""
    from weishang.trade import stock

    location = location or stock.location_singleton(LocationKind.WAREHOUSE)
    if location.kind != LocationKind.WAREHOUSE:
        raise BusinessError(_("Reorder rules are for the brand's warehouses."), field="location")
    if minimum < 0 or maximum < 0:
        raise BusinessError(_("Enter a number of units, 0 or more."), field="minimum")
    if maximum < minimum:
        raise BusinessError(_("The maximum must be at least the minimum."), field="maximum")
    if multiple < 1:
        raise BusinessError(_("Order in multiples of at least 1."), field="multiple")
    rule, _created = ReorderRule.objects.update_or_create(
        sku=sku,
        location=location,
        defaults={"minimum": minimum, "maximum": maximum, "multiple": multiple, "active": active},
    )
    return rule


log = logging.getLogger(__name__)
LOW_STOCK_TOPIC = "inventory.low_stock"


def _stock_keepers():
    """Who hears of low stock: the owners and the warehouse staff with an email address."""
    return list(
        get_user_model()
        .objects.filter(groups__name__in=[role_group_name("owner"), role_group_name("warehouse")], is_active=True)
        .exclude(email="")
        .distinct()
    )


def _low_stock_email(lines: list[str]) -> int:
    people = _stock_keepers()
    if not people or not lines:
        return 0
    with translation.override("zh-hans"):
        subject = _("Low stock: %(count)d SKU(s) below their minimum") % {"count": len(lines)}
        body = "\n".join([subject, "", *lines, "", _("Open Inventory → Reorder rules in the console to order.")])
    try:
        sent = EmailMessage(subject, body, None, [u.email for u in people]).send()
    except (OSError, smtplib.SMTPException):  # the proposal stands in the console; mail is best effort
        log.exception("low stock: the email to the warehouse failed")
        return 0
    return len(people) if sent else 0


def low_stock_alerts() -> int:
    """Tell the brand once (an email to the owners and the warehouse, and the outbox event
    ``inventory.low_stock`` for webhooks) when a SKU's units on hand and on order fall below its
    rule's minimum; the rule is told again only after it has been back above. Returns how many
    rules were told."""
    told = 0
    lines = []
    for proposal in selectors.reorder_proposals(include_covered=True):
        rule = proposal.rule
        below = proposal.on_hand + proposal.incoming < rule.minimum
        with transaction.atomic():
            if below and rule.alerted_at is None:
                if ReorderRule.objects.filter(pk=rule.pk, alerted_at__isnull=True).update(alerted_at=clock.now()):
                    outbox_emit(
                        topic=LOW_STOCK_TOPIC,
                        key=f"reorder:{rule.pk}:{clock.now():%Y%m%d%H%M%S}",
                        payload={
                            "sku": rule.sku.code,
                            "sku_name": rule.sku.name,
                            "location": rule.location.name,
                            "on_hand": proposal.on_hand,
                            "incoming": proposal.incoming,
                            "minimum": rule.minimum,
                            "propose": proposal.quantity,
                        },
                    )
                    told += 1
                    with translation.override("zh-hans"):
                        lines.append(
                            _(
                                "%(sku)s %(name)s at %(location)s: %(on_hand)d on hand, %(incoming)d on order, "
                                "minimum %(minimum)d — order %(propose)d"
                            )
                            % {
                                "sku": rule.sku.code,
                                "name": rule.sku.name,
                                "location": rule.location.name,
                                "on_hand": proposal.on_hand,
                                "incoming": proposal.incoming,
                                "minimum": rule.minimum,
                                "propose": proposal.quantity,
                            }
                        )
            elif not below and rule.alerted_at is not None:
                ReorderRule.objects.filter(pk=rule.pk).update(alerted_at=None)
    _low_stock_email(lines)
    return told


# --- stock counts (盘点) ------------------------------------------------------------------------

MAX_UNITS = 10_000_000


def _count_number() -> str:
    import secrets

    return f"PD{clock.localtime():%Y%m%d}{secrets.token_hex(3).upper()}"


@transaction.atomic
def stock_count_start(*, location: Location | None = None, by=None, note: str = "") -> StockCount:
    """Begin counting a warehouse: a line per active SKU, with the units on hand now."""
    from weishang.trade import stock

    location = location or stock.location_singleton(LocationKind.WAREHOUSE)
    if location.kind != LocationKind.WAREHOUSE:
        raise BusinessError(_("Stock counts are for the brand's warehouses."), field="location")
    count = StockCount.objects.create(number=_count_number(), location=location, created_by=by, note=note[:200])
    levels = dict(StockLevel.objects.filter(location=location).values_list("sku_id", "quantity"))
    held = [sku_id for sku_id, units in levels.items() if units]
    sku_ids = SKU.objects.filter(Q(active=True) | Q(pk__in=held)).values_list("pk", flat=True)
    StockCountLine.objects.bulk_create(
        [StockCountLine(count=count, sku_id=sku_id, expected=levels.get(sku_id, 0)) for sku_id in sku_ids]
    )
    return count


def _open(count: StockCount) -> StockCount:
    count = StockCount.objects.select_for_update().get(pk=count.pk)
    if count.status != CountStatus.OPEN:
        raise Conflict(
            _("Stock count %(number)s is %(status)s: it can no longer be changed.")
            % {"number": count.number, "status": count.get_status_display()},
            field="status",
        )
    return count


@transaction.atomic
def stock_count_record(*, count: StockCount, counted: dict[int, object], reasons: dict[int, str] | None = None) -> int:
    """Record what was counted, by SKU id (None or "" = not counted yet). Refuses a number that is
    not a whole number of units, 0 or more, and changes nothing then. Returns the lines changed."""
    count = _open(count)
    reasons = reasons or {}
    lines = {line.sku_id: line for line in count.lines.all()}
    clean: dict[int, int | None] = {}
    for sku_id, raw in counted.items():
        if sku_id not in lines:
            raise BusinessError(_("That SKU is not on this count."), field="sku")
        if raw is None or str(raw).strip() == "":
            clean[sku_id] = None
            continue
        try:
            units = int(str(raw).strip())
        except ValueError:
            raise BusinessError(
                _("%(sku)s: enter the units counted, a whole number.") % {"sku": lines[sku_id].sku.code},
                field="counted",
            ) from None
        if units < 0 or units > MAX_UNITS:
            raise BusinessError(
                _("%(sku)s: enter the units counted, 0 or more.") % {"sku": lines[sku_id].sku.code}, field="counted"
            )
        clean[sku_id] = units
    changed = 0
    for sku_id, value in clean.items():
        line = lines[sku_id]
        reason = (reasons.get(sku_id) or line.reason or "")[:100]
        if (line.counted, line.reason) != (value, reason):
            StockCountLine.objects.filter(pk=line.pk).update(counted=value, reason=reason)
            changed += 1
    return changed


@transaction.atomic
def stock_count_post(*, count: StockCount, by=None) -> list[StockCountLine]:
    """Post a count: each counted line's difference from the units on hand now becomes a stock move
    between the warehouse and the count-differences location, valued at the average cost into gains
    and losses. Lines not counted are left as they are. Returns the lines that moved stock."""
    from weishang.trade import stock

    count = _open(count)
    lines = list(count.lines.select_related("sku").filter(counted__isnull=False))
    if not lines:
        raise Conflict(_("Nothing was counted yet: enter the units counted first."), field="counted")
    differences = stock.location_singleton(LocationKind.COUNT)
    moves, moved = [], []
    levels = dict(
        StockLevel.objects.select_for_update()
        .filter(location=count.location, sku_id__in=[line.sku_id for line in lines])
        .values_list("sku_id", "quantity")
    )
    for line in lines:
        diff = (line.counted or 0) - levels.get(line.sku_id, 0)
        StockCountLine.objects.filter(pk=line.pk).update(difference=diff)
        line.difference = diff
        if diff < 0:
            moves.append(stock.Move(count.location, differences, line.sku, -diff))
        elif diff > 0:
            moves.append(stock.Move(differences, count.location, line.sku, diff))
        if diff:
            moved.append(line)
    if moves:
        stock.stock_move(moves=moves, reason=StockReason.ADJUSTMENT, by=by, note=count.number)
    StockCount.objects.filter(pk=count.pk).update(status=CountStatus.POSTED, posted_at=clock.now(), posted_by=by)
    return moved


@transaction.atomic
def stock_count_cancel(*, count: StockCount, by=None) -> StockCount:
    count = _open(count)
    StockCount.objects.filter(pk=count.pk).update(status=CountStatus.CANCELLED)
    count.refresh_from_db()
    return count
