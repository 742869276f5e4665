from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from weishang.catalog.models import SKU
from weishang.catalog.selectors import level_price
from weishang.channel.models import Agent, Level
from weishang.channel.selectors import member_search, team_sum
from weishang.channel.tree import Relation
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES, to_money
from weishang.core.prepared import prepared
from weishang.core.selectors import brand_get
from weishang.core.validators import normalize_phone
from weishang.ledger.models import Account, Purpose
from weishang.ledger.selectors import account_balance, account_statement
from weishang.trade import stock, supply, volume, workflow
from weishang.trade.models import (
    VOLUME_KINDS,
    Customer,
    Location,
    LocationKind,
    Order,
    OrderKind,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
    StockLevel,
)
from weishang.trade.models.orders import LIVE_STATUSES
from weishang.trade.workflow import Actor


def team_purchase_volume(
    *, agent: Agent | int, start: datetime, end: datetime, relation: Relation = Relation.REFERRER
) -> Decimal:
    """Entry, upgrade and restock amounts of the team's orders completed in [start, end) and not
    refunded (a return asked for still counts until it is granted, as for the reward engine).

    Whole calendar months (China time) of the referrer team are read from the monthly rollup
    (``trade.volume``, one indexed row per month); any other window is summed from the orders
    over the closure table."""
    if relation is Relation.REFERRER and (months := volume.whole_months(start, end)) is not None:
        return volume.team_volume_of(agent=agent, months=months)
    completed = Order.objects.filter(
        status__in=workflow.COUNTED_STATUSES, kind__in=VOLUME_KINDS, completed_at__gte=start, completed_at__lt=end
    )
    return team_sum(agent=agent, queryset=completed, agent_field="buyer_id", amount_field="total", relation=relation)


def personal_purchase_volume(*, agent: Agent | int, start: datetime, end: datetime) -> Decimal:
    total = Order.objects.filter(
        buyer_id=getattr(agent, "pk", agent),
        status=OrderStatus.COMPLETED,
        kind__in=VOLUME_KINDS,
        completed_at__gte=start,
        completed_at__lt=end,
    ).aggregate(total=Sum("total"))["total"]
    return to_money(total if total is not None else 0)


# --- the agent's phone pages and the public shop (read-only) --------------------------------


def skus_on_sale() -> QuerySet[SKU]:
    """Active SKUs of products on sale, in catalogue order."""
    return (
        SKU.objects.filter(active=True, product__active=True).select_related("product").order_by("product_id", "code")
    )


def stock_on_hand(*, agent: Agent | int, kind: str = LocationKind.CLOUD) -> dict[int, int]:
    """SKU id -> units the agent holds at their ``kind`` location (cloud by default).

    Reads only: an agent who never held stock has no location yet, and gets an empty dict."""
    return dict(
        StockLevel.objects.filter(location__agent_id=getattr(agent, "pk", agent), location__kind=kind).values_list(
            "sku_id", "quantity"
        )
    )


def restock_catalog(*, agent: Agent, level: Level | None = None) -> list[tuple[SKU, Decimal, int]]:
    """(SKU, the price at ``level`` (default: the agent's own), units in the agent's cloud stock)
    for every SKU on sale."""
    held = stock_on_hand(agent=agent)
    level = level or agent.level
    return [(sku, level_price(sku=sku, level=level), held.get(sku.pk, 0)) for sku in skus_on_sale()]


# Which levels an agent qualifies to upgrade to. The rewards app installs the plan's rules (see
# ``set_upgrade_policy``); the policy returns the highest level the agent qualifies for, or
# ``None`` when no plan decides (then any higher level may be bought into).
_upgrade_policy: Callable[[Agent], Level | None | bool] | None = None


def set_upgrade_policy(policy: Callable[[Agent], Level | None | bool] | None) -> None:
    """``policy(agent)`` → the highest level the plan lets the agent upgrade to, ``False`` if none,
    or ``None`` if no plan is in force."""
    global _upgrade_policy
    _upgrade_policy = policy


def upgrade_levels(*, agent: Agent) -> list[Level]:
    """The levels an upgrade order can aim at, nearest first: every level above the agent's up to
    the highest the plan in force says they qualify for (any higher level without a plan)."""
    levels = Level.objects.filter(rank__lt=agent.level.rank).order_by("-rank")
    ceiling = _upgrade_policy(agent) if _upgrade_policy is not None else None
    if ceiling is False:
        return []
    if ceiling is not None:
        levels = levels.filter(rank__gte=ceiling.rank)
    return list(levels)


def stock_holdings(*, agent: Agent | int, kind: str = LocationKind.CLOUD) -> QuerySet[StockLevel]:
    """The agent's stock levels with units on hand, in catalogue order."""
    return (
        StockLevel.objects.filter(location__agent_id=getattr(agent, "pk", agent), location__kind=kind, quantity__gt=0)
        .select_related("sku__product")
        .order_by("sku__product_id", "sku__code")
    )


def _with_pending_payment(orders: QuerySet[Order]) -> QuerySet[Order]:
    pending = Payment.objects.filter(order=OuterRef("pk"), status=PaymentStatus.PENDING)
    return orders.annotate(has_pending_payment=Exists(pending))


def orders_as_buyer(
    *, agent: Agent | int, kinds=(OrderKind.ENTRY, OrderKind.UPGRADE, OrderKind.RESTOCK)
) -> QuerySet[Order]:
    """The agent's own purchase orders, newest first, each with ``has_pending_payment``."""
    return _with_pending_payment(
        Order.objects.filter(buyer_id=getattr(agent, "pk", agent), kind__in=kinds).select_related(
            "seller", "ship_region"
        )
    )


def order_of_buyer(*, agent: Agent | int, number: str) -> Order | None:
    """One of the agent's own orders (any kind, pick-ups included), or None if it is not theirs."""
    return (
        _with_pending_payment(Order.objects.filter(buyer_id=getattr(agent, "pk", agent), number=number))
        .select_related("seller__level", "buyer__level", "ship_region")
        .first()
    )


_DETAIL_RELATED = ("buyer__level", "seller__level", "target_level", "ship_region")


@prepared(int, str)
def _detail_order_of_buyer(buyer_id: int, number: str) -> QuerySet[Order]:
    return Order.objects.select_related(*_DETAIL_RELATED).filter(buyer_id=buyer_id, number=number).order_by()[:1]


@prepared(int, str)
def _detail_order_of_seller(seller_id: int, number: str) -> QuerySet[Order]:
    return Order.objects.select_related(*_DETAIL_RELATED).filter(seller_id=seller_id, number=number).order_by()[:1]


@prepared(int)
def _detail_lines(order_id: int) -> QuerySet[OrderLine]:
    return OrderLine.objects.select_related("sku").filter(order_id=order_id)  # oldest first (Meta)


@prepared(int)
def _detail_payments(order_id: int) -> QuerySet[Payment]:
    return Payment.objects.filter(order_id=order_id).order_by()  # the answer sorts them


def order_with_details(found: list[Order]) -> Order | None:
    """The order ``found`` (none or one) with everything its answer shows, in three queries each
    compiled once (``core.prepared``): the order with its parties, their levels, the level an
    upgrade reaches and its region; its lines with their SKUs (oldest first); its payments
    (unordered). ``has_pending_payment`` is read from the payments (no subquery)."""
    order = found[0] if found else None
    if order is not None:
        lines = _detail_lines(order.pk)
        for line in lines:
            line.order = order  # as Django's prefetch sets it
        _attach_details(order, lines, _detail_payments(order.pk))
    return order


def with_known_details(order: Order, *, lines: list[OrderLine], payments: list[Payment]) -> Order:
    """Give ``order`` the lines (their SKUs loaded) and payments its caller already holds, as
    ``order_with_details`` reads them, without a query: the order a service has just made answers
    from what made it. Money and times as the database gives them back (two places, UTC)."""
    for line in lines:
        line.unit_price, line.line_total = to_money(line.unit_price), to_money(line.line_total)
    order.total, order.discount = to_money(order.total), to_money(order.discount)
    for name in ("created_at", "submitted_at", "paid_at", "completed_at", "shipped_at", "delivered_at"):
        if (at := getattr(order, name)) is not None:
            setattr(order, name, at.astimezone(UTC))
    _attach_details(order, lines, payments)
    return order


def _attach_details(order: Order, lines: list[OrderLine], payments: list[Payment]) -> None:
    """Keep ``lines`` and ``payments`` on ``order`` where Django's prefetch keeps what it read."""
    cache = order.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in (("lines", lines), ("payments", payments)):
        rows_qs = getattr(order, name).all()
        rows_qs._result_cache, rows_qs._prefetch_done = list(rows), True
        cache[name] = rows_qs
    order.has_pending_payment = any(p.status == PaymentStatus.PENDING for p in payments)


def has_known_details(order: Order) -> bool:
    """Whether ``order`` carries its lines and payments (``order_with_details``, ``with_known_details``)."""
    known = getattr(order, "_prefetched_objects_cache", {})
    return "lines" in known and "payments" in known and hasattr(order, "has_pending_payment")


def order_detail_of_buyer(*, agent: Agent | int, number: str) -> Order | None:
    """``order_of_buyer`` with everything its answer shows (``order_with_details``)."""
    return order_with_details(_detail_order_of_buyer(getattr(agent, "pk", agent), number))


def order_detail_of_seller(*, agent: Agent | int, number: str) -> Order | None:
    """``order_of_seller`` with everything its answer shows (``order_with_details``)."""
    return order_with_details(_detail_order_of_seller(getattr(agent, "pk", agent), number))


def pickups_of(*, agent: Agent | int) -> QuerySet[Order]:
    return (
        Order.objects.filter(buyer_id=getattr(agent, "pk", agent), kind=OrderKind.PICKUP)
        .select_related("ship_region")
        .prefetch_related("lines__sku")
    )


def _seller_todo() -> Q:
    """Orders waiting for their seller (trade.workflow: the waits on the seller)."""
    return workflow.current().waiting_on(Actor.SELLER)


@dataclass
class _OrderKind:
    """What a wait's condition reads of an order (``workflow.When.holds``), for a group of orders."""

    status: str
    kind: str
    supply_mode: str
    seller_id: int | None
    has_pending_payment: bool
    paid_at: None = None


def _todo_counts(orders: QuerySet[Order], actor: Actor) -> list[tuple[str, int, object]]:
    """How many of ``orders`` are in each to-do line of ``actor`` (trade.workflow). One grouped
    read — the orders in the lines' statuses counted by what the conditions read (status, kind,
    supply mode, seller, a transfer waiting) — and each group judged by the waits' own ``holds``:
    cheaper to compile than one filtered COUNT per line with a subquery in each. A line whose
    condition reads the time (``stuck``) is counted by the query instead."""
    flow = workflow.current()
    lines = flow.todo_waits(actor)
    conditions = [when for _name, waits, _text in lines for wait in waits for when in wait.when]
    if any(when.stuck for when in conditions):
        by_query = flow.todo(actor)
        counts = _with_pending_payment(orders).aggregate(**{name: Count("pk", filter=q) for name, q, _text in by_query})
        return [(name, counts[name], text) for name, _q, text in by_query]
    statuses = sorted({status for when in conditions for status in when.statuses})
    groups = (
        _with_pending_payment(orders.filter(status__in=statuses))
        .values("status", "kind", "supply_mode", "seller_id", "has_pending_payment")
        .annotate(n=Count("pk"))
        .order_by()
    )
    kinds = [(_OrderKind(**{k: v for k, v in row.items() if k != "n"}), row["n"]) for row in groups]
    return [
        (name, sum(n for kind, n in kinds if any(wait.holds(kind) for wait in waits)), text)  # type: ignore[arg-type]
        for name, waits, text in lines
    ]


def seller_todo(*, agent: Agent | int) -> list[tuple[str, int, object]]:
    """What waits for the agent as seller, one line per kind of wait (one query): (the wait's
    name, how many orders, the line's text), as trade.workflow says (orders to approve, transfers
    to confirm, orders to fill, shop deliveries to record, returns to decide)."""
    return _todo_counts(Order.objects.filter(seller_id=getattr(agent, "pk", agent)), Actor.SELLER)


def buyer_todo(*, agent: Agent | int) -> list[tuple[str, int, object]]:
    """The agent's own orders waiting for them (one query), as ``seller_todo``: to pay, to receive."""
    return _todo_counts(Order.objects.filter(buyer_id=getattr(agent, "pk", agent)), Actor.BUYER)


def orders_to_fill(*, agent: Agent | int, todo_only: bool = True) -> QuerySet[Order]:
    """Orders the agent sells (their downline's and their shop's), newest first; by default only
    those waiting for the agent."""
    orders = _with_pending_payment(
        Order.objects.filter(seller_id=getattr(agent, "pk", agent)).select_related(
            "buyer__level", "customer", "ship_region"
        )
    )
    return orders.filter(_seller_todo()) if todo_only else orders


def order_of_seller(*, agent: Agent | int, number: str) -> Order | None:
    """One order the agent sells, or None if it is not theirs to fill."""
    return (
        _with_pending_payment(Order.objects.filter(seller_id=getattr(agent, "pk", agent), number=number))
        .select_related("buyer__level", "customer", "ship_region")
        .first()
    )


def fill_shortfalls(*, order: Order) -> list[tuple[SKU, int, int]]:
    """(SKU, units wanted, units on hand) for each line the seller agent cannot fill from the
    stock the order would be filled from (its supply route's: cloud stock under the cloud supply
    mode, their own stock otherwise). Empty when the order can be filled, or when the company sells."""
    if order.seller_id is None:
        return []
    held = stock_on_hand(agent=order.seller_id, kind=supply.route_for(order.supply_mode).sells_from)
    lines = order.lines.all() if "lines" in getattr(order, "_prefetched_objects_cache", {}) else None
    return [
        (line.sku, line.quantity, held.get(line.sku_id, 0))
        for line in (lines if lines is not None else order.lines.select_related("sku"))
        if held.get(line.sku_id, 0) < line.quantity
    ]


# What the buyer or the seller can do with an order now, for the phone pages and the API (the
# services have the last word), and what it waits for: trade.workflow. ``order`` needs
# ``has_pending_payment`` (the selectors above set it).


def buyer_actions(order: Order) -> set[str]:
    """The buyer's next actions (trade.workflow's steps for the buyer): ``cancel``,
    ``pay_transfer``, ``pay_wallet``, ``pay_online`` (when an online payment provider is
    configured), ``receive`` and ``refund`` (a return request)."""
    return workflow.current().actions(order, Actor.BUYER)


def seller_actions(order: Order) -> set[str]:
    """The seller's next actions (trade.workflow's steps for the seller): ``approve``,
    ``reject``, ``payment`` (confirm or reject the pending transfer), ``fill``, ``delivered`` (a
    retail delivery), ``refund_approve`` and ``refund_decline``."""
    return workflow.current().actions(order, Actor.SELLER)


def buyer_next_step(order: Order) -> str:
    """The order's next step as its buyer reads it on their list ("Pay now")."""
    return workflow.current().next_step(order, Actor.BUYER)


def seller_next_step(order: Order) -> str:
    """The order's next step as its seller reads it on their list ("Fill the order")."""
    return workflow.current().next_step(order, Actor.SELLER)


def wallet_balance(*, agent: Agent | int) -> Decimal:
    """The agent's wallet (货款) balance in the ledger; below zero when they owe a refund."""
    return account_balance(owner=Agent(pk=getattr(agent, "pk", agent)), purpose=Purpose.AGENT_WALLET)


def wallet_entries(*, agent: Agent | int, limit: int = 30) -> list:
    """The wallet's ledger lines, newest first, each with its change and the balance after it."""
    account = Account.objects.filter(owner_id=getattr(agent, "pk", agent), purpose=Purpose.AGENT_WALLET).first()
    return list(reversed(account_statement(account, limit=limit))) if account else []


def wallet_topups(*, agent: Agent | int) -> QuerySet[Payment]:
    return Payment.objects.filter(topup_for_id=getattr(agent, "pk", agent)).order_by("-pk")


def retail_order_for(*, seller: Agent | int, number: str, phone: str) -> Order | None:
    """A shop order, found only with the phone number it was placed with."""
    phone = normalize_phone(phone or "")
    if not phone:
        return None
    return (
        _with_pending_payment(
            Order.objects.filter(
                seller_id=getattr(seller, "pk", seller), number=number, kind=OrderKind.RETAIL, customer__phone=phone
            )
        )
        .prefetch_related("lines__sku")
        .first()
    )


def retail_pay_by(*, order: Order) -> datetime | None:
    """When an unpaid shop order expires (``services.retail_orders_expire``): the brand's
    ``retail_unpaid_hours`` after it was placed, or after its last transfer was rejected."""
    if order.kind != OrderKind.RETAIL or order.status != OrderStatus.AWAITING_PAYMENT or order.submitted_at is None:
        return None
    rejected = order.payments.aggregate(at=Max("decided_at"))["at"]
    start = max(order.submitted_at, rejected) if rejected else order.submitted_at
    return start + timedelta(hours=brand_get().retail_unpaid_hours)


# --- growth pages: the team's purchases, the shop's customers --------------------------------

# Shop orders that make a consumer "my customer": placed and not rejected, cancelled or refunded.
CUSTOMER_ORDER_STATUSES = LIVE_STATUSES
# ... and those whose money the consumer has paid.
CUSTOMER_PAID_STATUSES = workflow.PAID_STATUSES


def with_purchases(agents: list[Agent], *, start: datetime, end: datetime) -> list[Agent]:
    """Set ``purchases`` on each agent: their own entry, upgrade and restock orders completed in
    [start, end) (as ``personal_purchase_volume``). One grouped query for the whole list."""
    totals = dict(
        Order.objects.filter(
            buyer_id__in=[a.pk for a in agents],
            status=OrderStatus.COMPLETED,
            kind__in=VOLUME_KINDS,
            completed_at__gte=start,
            completed_at__lt=end,
        )
        .order_by()
        .values_list("buyer_id")
        .annotate(s=Sum("total"))
        .values_list("buyer_id", "s")
    )
    for agent in agents:
        agent.purchases = to_money(Decimal(str(totals.get(agent.pk) or 0)))
    return agents


def cash_collected(*, buyers: list[int] | None = None, start: datetime, end: datetime) -> dict[int, Decimal]:
    """Cash collected from agents: their entry, upgrade and restock orders paid in [start, end)
    and not refunded, by buyer (all buyers when ``buyers`` is None). The growth reports (a
    channel's or a meeting's "cash collected", 回款) read this; one grouped query."""
    orders = Order.objects.filter(
        kind__in=VOLUME_KINDS, status__in=workflow.PAID_STATUSES, paid_at__gte=start, paid_at__lt=end
    )
    if buyers is not None:
        orders = orders.filter(buyer_id__in=buyers)
    rows = orders.order_by().values_list("buyer_id").annotate(s=Sum("total")).values_list("buyer_id", "s")
    return {buyer: to_money(total) for buyer, total in rows if buyer is not None}


def orders_paid_count(*, agent: Agent | int, start: datetime, end: datetime) -> int:
    """Orders an agent made happen in [start, end): their own entry, upgrade and restock orders
    and their shop's retail orders, paid in the window and not refunded (a work plan's "orders")."""
    agent_id = getattr(agent, "pk", agent)
    return (
        Order.objects.filter(status__in=workflow.PAID_STATUSES, paid_at__gte=start, paid_at__lt=end)
        .filter(Q(buyer_id=agent_id, kind__in=VOLUME_KINDS) | Q(seller_id=agent_id, kind=OrderKind.RETAIL))
        .count()
    )


def shop_customers(*, agent: Agent | int, search: str = "") -> QuerySet[Customer]:
    """The consumers who ordered from the agent's shop, last order first, each with ``order_count``
    (their live orders from this shop), ``spent`` (what they paid for them) and ``last_order_at``.
    ``search`` is a name or phone digits. One query."""
    agent_id = getattr(agent, "pk", agent)
    money = DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    customers = Customer.objects.filter(
        orders__seller_id=agent_id, orders__kind=OrderKind.RETAIL, orders__status__in=CUSTOMER_ORDER_STATUSES
    )
    found = member_search(search, name_field="name", phone_field="phone")
    if found is not None:
        customers = customers.filter(found)
    # The filter above joined the shop's live orders; the aggregates below count over that join.
    return customers.annotate(
        order_count=Count("orders"),
        spent=Coalesce(
            Sum("orders__total", filter=Q(orders__status__in=CUSTOMER_PAID_STATUSES)),
            Value(Decimal("0.00")),
            output_field=money,
        ),
        last_order_at=Max("orders__created_at"),
    ).order_by("-last_order_at", "-pk")


def sells_to_anyone(*, agent: Agent | int) -> bool:
    """Whether the agent has anything to fill, now or later: someone they supply, or any order in
    which they are the seller (their downline's or their shop's). A 特约 with no team and no shop
    orders has none, and the phone pages show them no filling."""
    pk = getattr(agent, "pk", agent)
    return Agent.objects.filter(supplier_id=pk).exists() or Order.objects.filter(seller_id=pk).exists()


# --- M7: availability along the route, notices, stuck orders, receiving accounts ------------


def _warehouse_on_hand() -> dict[int, int]:
    from weishang.trade.models import Location

    warehouse = Location.objects.filter(kind=LocationKind.WAREHOUSE, agent__isnull=True).order_by("pk").first()
    if warehouse is None:
        return {}
    return dict(StockLevel.objects.filter(location=warehouse).values_list("sku_id", "quantity"))


def route_availability(*, seller: Agent | None, mode: str, lines) -> list[dict]:
    """For each (SKU, units) line of an order about to be submitted: can its seller fill it, and
    if not, who along the supply chain could. Only what the buyer needs is said: the seller's
    shortfall (``short_by``), and for the chain above the seller the level of the nearest upline
    that holds enough (``upline_level``) or whether the company warehouse does (``company``);
    never another agent's quantity or name. See docs/decisions.md ("Availability along the route")."""
    from weishang.channel.models import SupplierLink

    lines = [(sku, int(qty)) for sku, qty in lines]
    company_held = _warehouse_on_hand()
    if seller is None:
        return [
            {
                "sku": sku,
                "quantity": qty,
                "seller_ok": company_held.get(sku.pk, 0) >= qty,
                "short_by": max(0, qty - company_held.get(sku.pk, 0)),
                "upline_level": None,
                "company": company_held.get(sku.pk, 0) >= qty,
            }
            for sku, qty in lines
        ]
    kind = supply.route_for(mode).sells_from
    held = stock_on_hand(agent=seller, kind=kind)
    chain = list(
        SupplierLink.objects.filter(descendant=seller, depth__gt=0).select_related("ancestor__level").order_by("depth")
    )
    chain_held = {}
    if chain:
        for agent_id, sku_id, quantity in StockLevel.objects.filter(
            location__agent_id__in=[link.ancestor_id for link in chain],
            location__kind=kind,
            sku_id__in=[sku.pk for sku, _qty in lines],
        ).values_list("location__agent_id", "sku_id", "quantity"):
            chain_held[(agent_id, sku_id)] = quantity
    rows = []
    for sku, qty in lines:
        have = held.get(sku.pk, 0)
        upline = next((link.ancestor for link in chain if chain_held.get((link.ancestor_id, sku.pk), 0) >= qty), None)
        rows.append(
            {
                "sku": sku,
                "quantity": qty,
                "seller_ok": have >= qty,
                "short_by": max(0, qty - have),
                "upline_level": upline.level.name if upline is not None and have < qty else None,
                "company": company_held.get(sku.pk, 0) >= qty,
            }
        )
    return rows


def seller_in_stock(*, seller: Agent | None, mode: str) -> set[int]:
    """SKU ids the seller (the company warehouse when None) holds at least one unit of."""
    held = (
        _warehouse_on_hand() if seller is None else stock_on_hand(agent=seller, kind=supply.route_for(mode).sells_from)
    )
    return {sku_id for sku_id, quantity in held.items() if quantity > 0}


def unseen_notices(*, agent: Agent | int):
    """The agent's order notices not yet seen (newest first): their 待我处理 list shows them."""
    from weishang.trade.models import OrderNotice

    return OrderNotice.objects.filter(agent_id=getattr(agent, "pk", agent), seen_at__isnull=True).select_related(
        "order"
    )


def receiving_accounts(*, agent: Agent | int | None):
    """The ways to pay ``agent`` (the brand when None)."""
    from weishang.trade.models import ReceivingAccount

    return ReceivingAccount.objects.filter(agent_id=getattr(agent, "pk", agent))


def order_payee(order: Order) -> Agent | None:
    """Who the buyer pays for ``order``: its seller agent, or the brand (None)."""
    return order.seller if order.seller_id else None


def may_see_receiving_account(*, user, account) -> bool:
    """The QR code of a receiving account is shown to its owner and to an agent who has an order
    waiting for payment to its owner; the brand's to brand staff who see receiving accounts and
    to every agent (each tops up their wallet by paying the brand)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if account.agent_id is None:
        return (user.is_staff and user.has_perm("trade.view_receivingaccount")) or Agent.objects.filter(
            user=user
        ).exists()
    if account.agent.user_id == user.pk:
        return True
    return Order.objects.filter(
        buyer__user=user, status=OrderStatus.AWAITING_PAYMENT, seller_id=account.agent_id
    ).exists()


def may_see_payment_screenshot(*, user, payment: Payment) -> bool:
    """A transfer screenshot (it shows bank details) is for the payer, the receiver and brand
    finance (staff who may see payments) only."""
    if not getattr(user, "is_authenticated", False) or not payment.screenshot:
        return False
    if user.is_staff:
        return user.is_active and user.has_perm("trade.view_payment")
    if payment.created_by_id == user.pk:
        return True
    if payment.receiver_id is not None and payment.receiver.user_id == user.pk:
        return True
    if payment.topup_for_id is not None and payment.topup_for.user_id == user.pk:
        return True
    order = payment.order
    if order is None:
        return False
    return any(party is not None and party.user_id == user.pk for party in (order.buyer, order.seller))


# --- stuck orders, the brand's queues (the console's order list and dashboard) --------------
# A paid order nobody fills within the brand's ``stuck_after_hours`` is stuck; the ways out are
# services (``trade.services.order_company_fill`` and the two after it).


stuck_cutoff = workflow.stuck_cutoff


def order_is_stuck(order: Order) -> bool:
    return workflow.STUCK.holds(order)


def stuck_orders() -> Q:
    """Paid orders not filled within the brand's ``stuck_after_hours``, shop orders too (the stuck
    queue: the brand takes a way out, see ``trade.services.order_company_fill`` and the two after
    it; a shop order is only refunded)."""
    return workflow.STUCK.q()


def order_queues() -> dict[str, tuple[object, Q]]:
    """Orders waiting for someone, by what they wait for: name -> (label, condition) (the
    console's queues: trade.workflow's waits that have one)."""
    return workflow.current().queues()


def brand_to_act() -> Q:
    """Orders waiting for a step by brand staff: company orders to approve, fill or refund, stuck
    orders, pick-ups to ship or deliver, transfers to brand finance to confirm (trade.workflow)."""
    return workflow.current().on_the_brand()


# --- one order as brand staff see it: where it is filled from, whether it is short, who acts --


@dataclass(frozen=True)
class Availability:
    label: str
    location: Location | None
    rows: list[dict]

    @property
    def short(self) -> list[dict]:
        return [row for row in self.rows if row["short_by"] > 0]


FILLABLE = workflow.FILLABLE_STATUSES


def fill_source(order: Order, *, as_company: bool = False) -> tuple[str, Location | None]:
    """Where ``services.order_fill`` would take the units from (its supply route's
    ``fill_locations``), without creating anything: (a name for it, the location or None if it
    does not exist yet). ``as_company``: where the company would fill it from."""
    return supply.route_for(order.supply_mode).fill_source(order, as_company=as_company)


def order_availability(order: Order, *, as_company: bool = False) -> Availability | None:
    """On hand vs needed at the fill location, for an order not filled yet (None otherwise).
    ``as_company``: at the company's, for the company filling it (a stuck order's way out)."""
    if order.kind == OrderKind.PICKUP or order.status not in FILLABLE:
        return None
    if (as_company or order.seller_id is None) and order.kind == OrderKind.RETAIL:
        return None
    label, location = fill_source(order, as_company=as_company)
    rows = []
    for line in order.lines.select_related("sku"):
        have = stock.on_hand(location=location, sku=line.sku) if location is not None else 0
        rows.append(
            {"sku": line.sku, "needed": line.quantity, "on_hand": have, "short_by": max(0, line.quantity - have)}
        )
    return Availability(label=label, location=location, rows=rows)


def next_step(order: Order) -> str:
    """Who acts next on ``order``, in one sentence (trade.workflow)."""
    return workflow.current().next_step(order)
