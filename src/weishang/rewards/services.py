"""Rewards: the engine's lines, stored once and moved through the ledger.

- ``rewards_process`` reads the outbox (order completed / refunded, agent joined / exited) in
  order; each event is handled once, in one transaction with everything it causes (reward lines,
  their journal entries, an automatic upgrade).
- ``rewards_release`` makes frozen rewards available ``settlement.frozen_days`` after the order
  completed; an order refunded before that cancels them, after that the reversal is charged to
  available rewards, which may go negative and is netted against later rewards.
- ``settle_period`` runs the period rules (team ladder, target awards) once per period:
  a rerun changes nothing and a run killed half-way finishes where it stopped.

Ledger postings (debit first; see weishang.ledger.models for the sign convention):

==========================  ==========================================  =======================
line                        posting                                      status
==========================  ==========================================  =======================
reward paid by the company  reward expense → beneficiary's frozen        frozen, then available
reward paid by an upline    payer's available → beneficiary's frozen     frozen, then available
period reward, cash prize   reward expense → beneficiary's available     available
trip or goods prize         reward expense → prizes payable               awarded
buyback on exit             reward expense → the agent's wallet          available
margin                      none: the buyer paid the seller               recorded
==========================  ==========================================  =======================
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal, cast

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from weishang.catalog.models import SKU
from weishang.catalog.selectors import level_price
from weishang.channel import services as channel_services
from weishang.channel.models import Agent, Level
from weishang.core import batch, bulk, clock
from weishang.core.errors import BusinessError, Conflict
from weishang.core.models import OutboxEvent
from weishang.core.outbox import outbox_emit_many
from weishang.ledger import services as ledger
from weishang.ledger.models import Purpose, Withdrawal
from weishang.plans import (
    AgentExited,
    AgentJoined,
    EarnedLine,
    Engine,
    OrderCompleted,
    Period,
    PeriodClosed,
    StockLot,
    period_label,
)
from weishang.rewards.hierarchy import DatabaseHierarchy
from weishang.rewards.models import (
    EventReceipt,
    PlanVersion,
    RewardKind,
    RewardLine,
    RewardStatus,
    SettlementReport,
    SettlementRun,
)
from weishang.rewards.periods import parse_period
from weishang.rewards.plan_versions import plan_effective, plan_in_force, plan_of, plan_sync_due
from weishang.trade import stock
from weishang.trade.models import LocationKind, Order, OrderKind, OrderStatus, StockReason
from weishang.trade.models.orders import VOLUME_KINDS
from weishang.trade.selectors import stock_on_hand

ZERO = Decimal("0.00")
CONSUMER = "rewards"
TOPICS = ("order.completed", "order.refunded", "agent.joined", "agent.exited")
BATCH = 1000  # reward lines per transaction (and journal entry) when settling or releasing
REPORT_BATCH = 10_000  # settlement reports per transaction


# --- storing and posting lines ----------------------------------------------------------------


def _account(agent_id: int | None, purpose: str):
    owner = Agent(pk=agent_id) if agent_id is not None else None
    return ledger.account_for(owner=owner, purpose=purpose)


def _status_and_credit(line: EarnedLine) -> tuple[str, str | None]:
    """(status, purpose credited) for a new line; ``None``: nothing is posted."""
    if line.kind == "margin" or line.amount <= 0:
        return RewardStatus.RECORDED, None
    if line.kind == "buyback":
        return RewardStatus.AVAILABLE, Purpose.AGENT_WALLET
    if line.kind == "prize":
        cash = line.explanation.get("prize_kind", "cash") == "cash"
        return (
            (RewardStatus.AVAILABLE, Purpose.AGENT_REWARDS_AVAILABLE)
            if cash
            else (RewardStatus.AWARDED, Purpose.BRAND_PRIZES_PAYABLE)
        )
    return RewardStatus.FROZEN, Purpose.AGENT_REWARDS_FROZEN


def _store(
    lines: Iterable[EarnedLine], *, version: PlanVersion, order: Order | None = None, release_at: datetime | None = None
) -> list[EarnedLine]:
    """Save the engine's lines for one event that were not saved before and post their money;
    returns the lines saved."""
    lines = list(lines)
    if not lines:
        return []
    events = {line.source_event for line in lines}
    done = set(
        RewardLine.objects.filter(source_event__in=events).values_list(
            "source_event", "rule_id", "beneficiary_id", "generation"
        )
    )
    new = [line for line in lines if line.key not in done]
    _store_new(new, version=version, order=order, release_at=release_at)
    return new


def _store_new(
    lines: list[EarnedLine],
    *,
    version: PlanVersion,
    order: Order | None = None,
    release_at: datetime | None = None,
    period: str = "",
    settled: bool = False,
    brand: dict[str, int] | None = None,
) -> None:
    """Write ``lines`` (none stored yet) and post their money: the company-paid ones in one
    journal entry, each upline-paid one in its own (the payer's available rewards pay it).

    The entry is posted first, so that each line is written once, with its entry, and without
    model instances (``core.bulk.insert_rows``): settlement writes tens of thousands of lines.
    ``brand`` keeps the brand's account ids between the batches of one settlement."""
    if not lines:
        return
    brand = {} if brand is None else brand

    def brand_account(purpose: str) -> int:
        if purpose not in brand:
            brand[purpose] = _account(None, purpose).pk
        return brand[purpose]

    reference = _reference(order, period)
    classified = []
    for line in lines:
        status, purpose = _status_and_credit(line)
        if settled and status == RewardStatus.FROZEN:
            status, purpose = RewardStatus.AVAILABLE, Purpose.AGENT_REWARDS_AVAILABLE
        classified.append((line, status, purpose, line.payer if isinstance(line.payer, int) else None))
    entries: dict[int, int] = {}  # index in classified -> journal entry id
    company = [
        (i, line, purpose)
        for i, (line, _s, purpose, payer) in enumerate(classified)
        if purpose is not None and payer is None
    ]
    if company:
        accounts = {
            purpose: ledger.agent_account_ids(
                owner_ids={line.beneficiary for _i, line, p in company if p == purpose}, purpose=purpose
            )
            for purpose in {p for _i, _l, p in company} - {Purpose.BRAND_PRIZES_PAYABLE}
        }
        total = sum((line.amount for _i, line, _p in company), Decimal("0"))
        postings = [(brand_account(Purpose.BRAND_REWARD_EXPENSE), total)]
        postings += [
            (
                brand_account(purpose)
                if purpose == Purpose.BRAND_PRIZES_PAYABLE
                else accounts[purpose][line.beneficiary],
                -line.amount,
            )
            for _i, line, purpose in company
        ]
        entry = ledger.journal_post(
            lines=postings, kind="reward", reference=reference, memo=_("Rewards %(ref)s") % {"ref": reference}
        )
        entries.update((i, entry.pk) for i, _l, _p in company)
    for i, (line, _status, purpose, payer) in enumerate(classified):
        if purpose is None or payer is None:
            continue
        entry = ledger.journal_post(
            lines=[
                ledger.debit(_account(payer, Purpose.AGENT_REWARDS_AVAILABLE), line.amount),
                ledger.credit(_account(line.beneficiary, purpose), line.amount),
            ],
            kind="reward",
            reference=reference,
            allow_negative={Purpose.AGENT_REWARDS_AVAILABLE},
            memo=_("Reward %(rule)s paid by an upline") % {"rule": line.rule_id},
        )
        entries[i] = entry.pk
    now, plan = clock.now(), version.pk
    order_id = order.pk if order is not None else None
    bulk.insert_rows(
        RewardLine,
        LINE_FIELDS,
        (
            (
                line.beneficiary,
                line.amount,
                line.kind,
                line.rule_id,
                plan,
                line.source_event,
                line.generation,
                payer,
                order_id,
                period,
                line.explanation,
                line.explanation_zh[:300],
                line.explanation_en[:300],
                status,
                release_at if status == RewardStatus.FROZEN else None,
                now,
                entries.get(i),
            )
            for i, (line, status, _purpose, payer) in enumerate(classified)
        ),
    )


LINE_FIELDS = (
    "beneficiary",
    "amount",
    "kind",
    "rule_id",
    "plan",
    "source_event",
    "generation",
    "payer",
    "order",
    "period",
    "explanation",
    "explanation_zh",
    "explanation_en",
    "status",
    "release_at",
    "created_at",
    "entry",
)


def _reference(order: Order | None, period: str) -> str:
    return f"order:{order.number}" if order is not None else (f"period:{period}" if period else "rewards")


# --- the outbox consumer --------------------------------------------------------------------


def _at(payload: dict) -> datetime:
    return parse_datetime(payload.get("at") or "") or clock.now()


def _engine_for(at: datetime) -> tuple[PlanVersion, Engine] | None:
    version = plan_in_force(at)
    return (version, Engine(plan_effective(version, timezone.localdate(at)))) if version is not None else None


def _seller_cost(order: Order) -> Decimal | None:
    seller = order.seller
    if seller is None:
        return None
    level = seller.level
    lines = order.lines.filter(gift=False).select_related("sku")  # a campaign's gift is the brand's
    return sum((line.quantity * level_price(sku=line.sku, level=level) for line in lines), Decimal("0"))


def _on_order_completed(event: OutboxEvent) -> str:
    order = (
        Order.objects.select_related("buyer__level", "seller__level", "customer")
        .filter(number=event.payload.get("order"))
        .first()
    )
    if order is None or order.kind == OrderKind.PICKUP:
        return "nothing to reward"
    at = order.completed_at or _at(event.payload)
    found = _engine_for(at)
    if found is None:
        return "no plan in force"
    version, engine = found
    view = DatabaseHierarchy()
    # The binding as it stood when the shop order was paid (trade binds at payment, never before).
    bound = order.bound_agent_id if order.kind == OrderKind.RETAIL else None
    # A volume order's kind is one the engine knows (entry, upgrade, restock, retail): pickups left above.
    kind = cast(Literal["entry", "upgrade", "restock", "retail"], order.kind)
    completed = OrderCompleted(
        event_id=f"order.completed:{order.number}",
        order_id=order.number,
        kind=kind,
        buyer=order.buyer_id,
        seller=order.seller_id,
        bound_agent=bound,
        amount=order.total,
        seller_cost=_seller_cost(order),
        at=at,
    )
    frozen_days = engine.plan.settlement.frozen_days
    rows = _store(
        engine.process(completed, view), version=version, order=order, release_at=at + timedelta(days=frozen_days)
    )
    outcome = f"{len(rows)} line(s)"
    # Whose figures the order moved: the buyer's purchases, or the retail credit of the agent the
    # customer is bound to (the seller if unbound) — either may now meet an upgrade rule.
    credited = order.buyer_id if order.kind in VOLUME_KINDS else (bound or order.seller_id)
    if credited is not None:
        outcome += _upgrade_if_qualified(credited, engine, DatabaseHierarchy(), version)
    return outcome


def _upgrade_if_qualified(agent_id: int, engine: Engine, view: DatabaseHierarchy, version: PlanVersion) -> str:
    """Upgrades that need no top-up happen at once; those that do wait for the agent's upgrade order."""
    decision = engine.upgrade_for(agent_id, view, at=clock.now())
    if decision is None or decision.top_up > 0:
        return ""
    level = Level.objects.get(code=decision.to_level)
    channel_services.agent_change_level(
        agent=Agent.objects.get(pk=agent_id), level=level, reason=f"{version}: {decision.explanation_zh}"[:300]
    )
    return f"; upgraded to {level.code}"


def _on_order_refunded(event: OutboxEvent) -> str:
    order = Order.objects.filter(number=event.payload.get("order")).first()
    if order is None:
        return "unknown order"
    return f"{reverse_order_rewards(order=order)} line(s) reversed"


def _on_agent_joined(event: OutboxEvent) -> str:
    payload = event.payload
    found = _engine_for(_at(payload))
    if found is None:
        return "no plan in force"
    version, engine = found
    joined = AgentJoined(
        event_id=f"agent.joined:{payload['agent']}", agent=payload["agent"], level=payload["level"], at=_at(payload)
    )
    # Per-head rewards belong to the entry order that made the agent join: returning it takes them back.
    entry = (
        Order.objects.filter(buyer_id=payload["agent"], kind=OrderKind.ENTRY, status=OrderStatus.COMPLETED)
        .order_by("-completed_at")
        .first()
    )
    rows = _store(
        engine.process(joined, DatabaseHierarchy()),
        version=version,
        order=entry,
        release_at=_at(payload) + timedelta(days=engine.plan.settlement.frozen_days),
    )
    return f"{len(rows)} line(s)"


def _stock_lots(agent: Agent, at: datetime) -> list[StockLot]:
    """The agent's unsold cloud stock as lots at the price paid: the units held are the latest bought."""
    held = {sku: qty for sku, qty in stock_on_hand(agent=agent).items() if qty > 0}
    lots: list[StockLot] = []
    lines = (
        Order.objects.filter(buyer=agent, kind__in=VOLUME_KINDS, status=OrderStatus.COMPLETED, completed_at__lte=at)
        .values_list("completed_at", "lines__sku_id", "lines__quantity", "lines__unit_price")
        .order_by("-completed_at")
    )
    for completed_at, sku_id, quantity, unit_price in lines:
        take = min(held.get(sku_id, 0), quantity or 0)
        if take:
            held[sku_id] -= take
            lots.append(StockLot(completed_at, unit_price * take))  # type: ignore[arg-type]  # completed_at__lte: never NULL
    return lots


def _on_agent_exited(event: OutboxEvent) -> str:
    payload = event.payload
    found = _engine_for(_at(payload))
    if found is None:
        return "no plan in force"
    version, engine = found
    agent = Agent.objects.get(pk=payload["agent"])
    exited = AgentExited(
        event_id=f"agent.exited:{event.key}",
        agent=agent.pk,
        at=_at(payload),
        stock_lots=tuple(_stock_lots(agent, _at(payload))),
    )
    rows = _store(engine.process(exited, DatabaseHierarchy()), version=version)
    if any(row.kind == RewardKind.BUYBACK.value for row in rows):  # the brand takes the stock back
        held = {sku_id: qty for sku_id, qty in stock_on_hand(agent=agent).items() if qty > 0}
        skus = SKU.objects.in_bulk(list(held))
        moves = [
            stock.Move(
                stock.location_for_agent(agent, LocationKind.CLOUD),
                stock.location_singleton(LocationKind.WAREHOUSE),
                skus[sku_id],
                qty,
            )
            for sku_id, qty in sorted(held.items())
        ]
        if moves:
            stock.stock_move(moves=moves, reason=StockReason.RETURN, note=f"buyback {event.key}")
    return f"{len(rows)} line(s)"


HANDLERS = {
    "order.completed": _on_order_completed,
    "order.refunded": _on_order_refunded,
    "agent.joined": _on_agent_joined,
    "agent.exited": _on_agent_exited,
}


def rewards_process(*, limit: int | None = None) -> int:
    """Handle the outbox events the reward engine has not handled yet, oldest first; returns how
    many were handled. Safe to run from several processes: each event is taken once."""
    plan_sync_due()
    handled = 0
    while limit is None or handled < limit:
        ids = list(
            OutboxEvent.objects.filter(topic__in=TOPICS)
            .exclude(receipts__consumer=CONSUMER)
            .order_by("pk")
            .values_list("pk", flat=True)[:100]
        )
        if not ids:
            break
        for pk in ids:
            if limit is not None and handled >= limit:
                break
            if _handle(pk):
                handled += 1
    return handled


def _handle(pk: int) -> bool:
    try:
        with transaction.atomic():
            receipt = EventReceipt.objects.create(event_id=pk, consumer=CONSUMER)
            event = OutboxEvent.objects.get(pk=pk)
            receipt.outcome = HANDLERS[event.topic](event)[:200]
            receipt.save(update_fields=["outcome"])
    except IntegrityError:
        return False  # another worker handled it
    return True


def rewards_process_inline() -> int:
    """Run by the outbox right after a transaction that wrote events commits (a bounded batch)."""
    return rewards_process(limit=200)


# --- refunds ----------------------------------------------------------------------------------


@transaction.atomic
def reverse_order_rewards(*, order: Order, by=None) -> int:
    """Take back every reward the order produced: frozen ones are cancelled, released ones are
    charged to the beneficiary's available rewards (which may go negative: netted later)."""
    count = 0
    # The margin the seller made is undone too (recorded only: no money moved through the brand).
    RewardLine.objects.filter(order=order, kind=RewardKind.MARGIN, status=RewardStatus.RECORDED).update(
        status=RewardStatus.CANCELLED
    )
    rows = (
        RewardLine.objects.select_for_update(of=("self",))
        .filter(order=order, status__in=(RewardStatus.FROZEN, RewardStatus.AVAILABLE))
        .order_by("pk")
    )
    for row in rows:
        held = Purpose.AGENT_REWARDS_FROZEN if row.status == RewardStatus.FROZEN else Purpose.AGENT_REWARDS_AVAILABLE
        payer = (
            _account(row.payer_id, Purpose.AGENT_REWARDS_AVAILABLE)
            if row.payer_id
            else _account(None, Purpose.BRAND_REWARD_EXPENSE)
        )
        entry = ledger.journal_post(
            lines=[ledger.debit(_account(row.beneficiary_id, held), row.amount), ledger.credit(payer, row.amount)],
            kind="reward_reversal",
            reference=f"order:{order.number}",
            by=by,
            idempotency_key=f"reward-reversal:{row.pk}",
            allow_negative={Purpose.AGENT_REWARDS_AVAILABLE},
            memo=_("Order %(number)s refunded: %(rule)s taken back") % {"number": order.number, "rule": row.rule_id},
        )
        row.status = RewardStatus.CANCELLED if row.status == RewardStatus.FROZEN else RewardStatus.REVERSED
        row.reversal_entry = entry
        row.save(update_fields=["status", "reversal_entry"])
        count += 1
    return count


# --- release --------------------------------------------------------------------------------


def rewards_release(*, now: datetime | None = None, by=None) -> int:
    """Make due frozen rewards available (one journal entry per batch); returns how many.
    Rewards of an order whose return is being decided wait for the decision."""
    now = now or clock.now()
    released = 0
    while True:
        with transaction.atomic():
            rows = list(
                RewardLine.objects.select_for_update(of=("self",))
                .filter(status=RewardStatus.FROZEN, release_at__lte=now)
                .exclude(order__status=OrderStatus.REFUND_REQUESTED)
                .order_by("pk")[:BATCH]
            )
            if not rows:
                return released
            per_agent: dict[int, Decimal] = defaultdict(Decimal)
            for row in rows:
                per_agent[row.beneficiary_id] += row.amount
            postings = []
            frozen = ledger.agent_account_ids(owner_ids=per_agent, purpose=Purpose.AGENT_REWARDS_FROZEN)
            available = ledger.agent_account_ids(owner_ids=per_agent, purpose=Purpose.AGENT_REWARDS_AVAILABLE)
            for agent_id, amount in sorted(per_agent.items()):
                postings += [(frozen[agent_id], amount), (available[agent_id], -amount)]
            entry = ledger.journal_post(
                lines=postings,
                kind="reward_release",
                by=by,
                reference="rewards:release",
                memo=_("%(n)d reward line(s) released") % {"n": len(rows)},
            )
            RewardLine.objects.filter(pk__in=[row.pk for row in rows]).update(
                status=RewardStatus.AVAILABLE, release_entry=entry
            )
            # One event per agent and batch tells them what became available (notifications); the
            # per-line reward.released events integrators receive are written by webhooks.
            outbox_emit_many(
                [
                    ("rewards.released", f"{entry.pk}:{agent_id}", {"agent": agent_id, "amount": str(amount)})
                    for agent_id, amount in sorted(per_agent.items())
                ]
            )
            released += len(rows)


# --- settlement -------------------------------------------------------------------------------


def settle_period(*, period: str, by=None, today: date | None = None) -> SettlementRun:
    """Settle the period rules (team ladder, target awards) of a finished period, e.g. ``2026-11``.

    Idempotent: a finished run is returned as it is. Resumable: lines and reports are written in
    batches, each batch in its own transaction; a rerun skips what is already written."""
    run = settle_open(period=period, by=by, today=today)
    if run.finished_at is not None:
        return run
    return settle_finish(run_id=run.pk)


def settle_open(*, period: str, by=None, today: date | None = None) -> SettlementRun:
    """The run of a finished period under the plan in force at its end: checked and opened (or the
    one already there, finished or not), without settling it. The console opens the run while the
    user waits and leaves the settling to the worker (``rewards.tasks.settle_run``)."""
    kind, start, end = parse_period(period)
    period = period_label(kind, start)  # one spelling per period: "2026-q4 " is 2026-Q4
    today = today or clock.today()
    if end >= today:
        raise BusinessError(
            _("The period %(period)s is not over yet (it ends on %(end)s).") % {"period": period, "end": end},
            field="period",
        )
    plan_sync_due()
    version = plan_in_force(timezone.make_aware(datetime.combine(end, datetime.max.time())))
    if version is None:
        raise Conflict(_("No plan was in force at the end of %(period)s.") % {"period": period}, field="period")
    run, _created = SettlementRun.objects.get_or_create(period=period, plan=version, defaults={"started_by": by})
    return run


def settle_finish(*, run_id: int) -> SettlementRun:
    """Settle an opened run, or finish one a killed run left half-way; a finished run is returned
    as it is."""
    run = SettlementRun.objects.select_related("plan").get(pk=run_id)
    if run.finished_at is not None:
        return run
    kind, start, end = parse_period(run.period)
    with batch.BatchJob() as job:
        return _settle(job, run, run.plan, kind, start, end)


def settle_start(*, period: str, by=None, today: date | None = None) -> SettlementRun:
    """Open a period's run and leave its settling to the worker (the console's way: a month of a
    large channel takes minutes, longer than a request may). A run already settled, or whose task
    is still waiting or running, is returned as it is; one whose task failed is enqueued again and
    finishes where it stopped."""
    from django.tasks import TaskResultStatus
    from django.tasks.exceptions import TaskResultDoesNotExist

    from weishang.rewards.tasks import settle_run

    with transaction.atomic():
        run = settle_open(period=period, by=by, today=today)
        run = SettlementRun.objects.select_for_update().get(pk=run.pk)
        if run.finished_at is not None:
            return run
        if run.task_id:
            try:
                status = settle_run.get_result(run.task_id).status
            except TaskResultDoesNotExist:  # pruned
                status = None
            if status in (TaskResultStatus.READY, TaskResultStatus.RUNNING):
                return run
        run.task_id = str(settle_run.enqueue(run_id=run.pk).id)
        run.save(update_fields=["task_id"])
    return run


def _settle(
    job: batch.BatchJob, run: SettlementRun, version: PlanVersion, kind: Period, start: date, end: date
) -> SettlementRun:
    """Stream the engine's lines into batches, then write the per-agent reports.

    The batches go through two writers of the job (``core.batch``): the lines while the engine
    computes the next ones, the reports beside the last lines — on writer threads on PostgreSQL
    (the server does most of that work, the inserts and the foreign-key checks at each commit, in
    its own processes, so the three overlap), here in order on SQLite or inside a transaction
    (measured in docs/benchmarks.md). Either way each batch is one transaction and the same rows
    are written; a rerun skips what a killed run wrote."""
    period = run.period
    closed = PeriodClosed(event_id=f"period:{period}", period=kind, start=start, end=end)
    # What a killed run already wrote (whole batches: each is one transaction), read once.
    done = set(
        RewardLine.objects.filter(source_event=closed.event_id).values_list(
            "source_event", "rule_id", "beneficiary_id", "generation"
        )
    )
    reported = set(SettlementReport.objects.filter(run=run).values_list("agent_id", flat=True))
    engine = Engine(plan_effective(version, start, end))  # a campaign's period rules (a quarterly target)
    view = DatabaseHierarchy()
    paid: dict[int, Decimal] = defaultdict(Decimal)
    brand: dict[str, int] = {}  # the brand's account ids, kept between batches (on the writing thread)
    with job.writer("settle-lines", checkpoint_once=True) as lines_writer:
        pending: list[EarnedLine] = []
        for line in engine.stream(closed, view):
            if line.kind != "margin":
                paid[line.beneficiary] += line.amount
            if line.key in done:
                continue
            pending.append(line)
            if len(pending) == BATCH:
                lines_writer.submit(_store_settled, pending, version, period, brand)
                pending = []
        if pending:
            lines_writer.submit(_store_settled, pending, version, period, brand)
        del pending
        personal = view.metric_totals("personal_purchase", start, end)
        team = view.metric_totals("team_purchase", start, end)
        agents = sorted((set(personal) | set(team) | set(paid)) - reported)
        run_id = run.pk
        with job.writer("settle-reports") as reports_writer:
            for i in range(0, len(agents), REPORT_BATCH):
                rows = [
                    (run_id, a, personal.get(a, ZERO), team.get(a, ZERO), paid.get(a, ZERO))
                    for a in agents[i : i + REPORT_BATCH]
                ]
                reports_writer.submit(_store_reports, rows)
    run.lines = RewardLine.objects.filter(source_event=closed.event_id).count()
    run.total = sum(paid.values(), Decimal("0"))
    run.volume = sum(personal.values(), Decimal("0"))
    run.finished_at = clock.now()
    run.save(update_fields=["lines", "total", "volume", "finished_at"])
    return run


def _store_settled(lines: list[EarnedLine], version: PlanVersion, period: str, brand: dict[str, int]) -> None:
    """One batch of a settlement's lines, with their journal entry (in the writer's transaction)."""
    _store_new(lines, version=version, period=period, settled=True, brand=brand)


def _store_reports(rows: list[tuple]) -> None:
    """One batch of a settlement's per-agent reports (in the writer's transaction)."""
    bulk.insert_rows(SettlementReport, REPORT_FIELDS, rows)


REPORT_FIELDS = ("run", "agent", "personal_purchase", "team_purchase", "rewards")


# --- withdrawals ------------------------------------------------------------------------------


def reward_withdraw(
    *,
    agent: Agent,
    amount,
    method: str,
    account_name: str,
    account_no: str,
    by,
    bank_name: str = "",
    idempotency_key: str | None = None,
) -> Withdrawal:
    """Withdraw available rewards under the plan in force (its minimum and fee rate)."""
    version = plan_in_force()
    settlement = plan_of(version).settlement if version is not None else None
    fee_rate = settlement.withdraw_fee_rate if settlement else Decimal("0")
    minimum = settlement.withdraw_min if settlement else Decimal("0")
    return ledger.withdrawal_request(
        agent=agent,
        amount=amount,
        method=method,
        account_name=account_name,
        account_no=account_no,
        bank_name=bank_name,
        by=by,
        fee_rate=fee_rate,
        minimum=minimum,
        idempotency_key=idempotency_key,
    )
