"""Reward reads: an agent's reward figures and lines, console totals, and a plan version shown as
tables or compared with another.

Figures come from the ledger (frozen, available, in transit are account balances; withdrawn is
the paid withdrawals); lines come from ``RewardLine``. Nothing here writes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from weishang.channel.models import Agent
from weishang.core import clock
from weishang.core.money import CENT
from weishang.ledger.models import Purpose, Withdrawal, WithdrawalStatus
from weishang.ledger.selectors import agent_balances
from weishang.plans import Plan
from weishang.plans.progress import Progress, upgrade_progress
from weishang.plans.schema import fmt_num
from weishang.rewards import labels
from weishang.rewards.hierarchy import DatabaseHierarchy
from weishang.rewards.models import (
    PlanVersion,
    RewardKind,
    RewardLine,
    RewardStatus,
    SettlementReport,
    SettlementRun,
)
from weishang.rewards.periods import parse_period
from weishang.rewards.plan_versions import plan_in_force, plan_of
from weishang.trade.models import OrderStatus

ZERO = Decimal("0.00")
TOP_AGENTS = 20
TOP_REPORTS = 50


def _money(value) -> Decimal:
    """A database SUM as exact money (SQLite adds decimals as floats)."""
    return Decimal(str(value or 0)).quantize(CENT)


# --- the agent's rewards page ---------------------------------------------------------------


@dataclass(frozen=True)
class RewardSummary:
    frozen: Decimal
    available: Decimal  # may be negative: a refund after a withdrawal, netted against later rewards
    in_transit: Decimal  # withdrawals requested or approved, not paid yet
    withdrawn: Decimal  # what the paid withdrawals brought in: net of the fee (what arrived)
    margin: Decimal  # the agent's own price differential: recorded, not paid by the brand; refunded orders' left out
    withdrawal_fees: Decimal = ZERO  # the fees the brand kept from the paid withdrawals

    @property
    def debt(self) -> Decimal:
        return -self.available if self.available < 0 else ZERO


def reward_summary(*, agent: Agent) -> RewardSummary:
    balances = agent_balances(agent)
    paid = Withdrawal.objects.filter(agent=agent, status=WithdrawalStatus.PAID).aggregate(
        net=Sum("net"), fee=Sum("fee")
    )
    # A margin taken back (its order cancelled or returned) is no longer the agent's.
    margin = (
        RewardLine.objects.filter(beneficiary=agent, kind=RewardKind.MARGIN)
        .exclude(status__in=(RewardStatus.CANCELLED, RewardStatus.REVERSED))
        .aggregate(s=Sum("amount"))["s"]
    )
    return RewardSummary(
        frozen=balances.get(Purpose.AGENT_REWARDS_FROZEN, ZERO),
        available=balances.get(Purpose.AGENT_REWARDS_AVAILABLE, ZERO),
        in_transit=balances.get(Purpose.PAYOUTS_IN_TRANSIT, ZERO),
        withdrawn=_money(paid["net"]),
        margin=_money(margin),
        withdrawal_fees=_money(paid["fee"]),
    )


def reward_lines_of(*, agent: Agent, margin: bool = False) -> QuerySet[RewardLine]:
    """The agent's own lines, newest first: the brand-paid ones, or (``margin``) their margins."""
    lines = RewardLine.objects.filter(beneficiary=agent)
    lines = lines.filter(kind=RewardKind.MARGIN) if margin else lines.exclude(kind=RewardKind.MARGIN)
    return lines.select_related("plan", "order").order_by("-created_at", "-pk")


def reward_lines_for(
    *,
    agent: Agent | int,
    kind: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[RewardLine]:
    """The agent's own lines of every kind (margins included), newest first, narrowed to a kind, a
    status and lines created in [since, until) — the API's list."""
    lines = RewardLine.objects.filter(beneficiary_id=getattr(agent, "pk", agent))
    if kind:
        lines = lines.filter(kind=kind)
    if status:
        lines = lines.filter(status=status)
    if since is not None:
        lines = lines.filter(created_at__gte=since)
    if until is not None:
        lines = lines.filter(created_at__lt=until)
    return lines.select_related("plan", "order").order_by("-created_at", "-pk")


def rule_name(line: RewardLine) -> str:
    """The name of the line's rule in its plan (its id when it has none; "Margin" for a margin)."""
    if line.kind == RewardKind.MARGIN:
        return _("Margin")
    for rule in plan_of(line.plan).rewards:
        if rule.id == line.rule_id:
            return rule.name or rule.id
    return line.rule_id


def rule_names(versions: Iterable[PlanVersion]) -> dict[tuple[int, str], str]:
    """(plan version pk, rule id) → the rule's name in its plan (the id when it has none)."""
    names: dict[tuple[int, str], str] = {}
    for version in {v.pk: v for v in versions}.values():
        for rule in plan_of(version).rewards:
            names[(version.pk, rule.id)] = rule.name or rule.id
    return names


@dataclass(frozen=True)
class WithdrawTerms:
    minimum: Decimal
    fee_rate: Decimal
    plan: PlanVersion | None

    @property
    def fee_percent(self) -> Decimal:
        return (self.fee_rate * 100).normalize()


def withdraw_terms(at: datetime | None = None) -> WithdrawTerms:
    """The smallest withdrawal and the fee rate of the plan in force (none: no minimum, no fee)."""
    version = plan_in_force(at)
    if version is None:
        return WithdrawTerms(ZERO, Decimal("0"), None)
    settlement = plan_of(version).settlement
    return WithdrawTerms(
        Decimal(settlement.withdraw_min).quantize(CENT), Decimal(settlement.withdraw_fee_rate), version
    )


# --- console: totals, periods, settlement ----------------------------------------------------


def period_range(label: str) -> tuple[datetime, datetime]:
    """[start, end) of a period label (2026-11, 2026-Q4, 2026) in the current time zone."""
    _kind, first, last = parse_period(label)
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last, time.max))
    return start, end


def lines_in_period(queryset: QuerySet[RewardLine], label: str) -> QuerySet[RewardLine]:
    """Lines of a period: settled for it (team ladder, targets) or created in it (order rewards)."""
    start, end = period_range(label)
    return queryset.filter(Q(period=label) | Q(period="", created_at__gte=start, created_at__lte=end))


def recent_periods(limit: int = 12) -> list[str]:
    """Settled period labels and the latest months with lines, newest first."""
    months = [f"{d:%Y-%m}" for d in RewardLine.objects.dates("created_at", "month", order="DESC")[:limit]]
    settled = list(RewardLine.objects.exclude(period="").order_by().values_list("period", flat=True).distinct())
    return sorted(set(months) | set(settled), reverse=True)[: limit * 2]


@dataclass(frozen=True)
class Totals:
    count: int
    total: Decimal
    by_rule: list[dict]
    by_agent: list[dict]
    agents: int


def reward_totals(queryset: QuerySet[RewardLine], *, top: int = TOP_AGENTS) -> Totals:
    """Totals of a (filtered) set of lines: overall, per rule and kind, and the agents with the most."""
    base = queryset.order_by()
    overall = base.aggregate(n=Count("pk"), s=Sum("amount"), agents=Count("beneficiary", distinct=True))
    by_rule = [
        {
            "rule_id": row["rule_id"],
            "kind": row["kind"],
            "kind_label": RewardKind(row["kind"]).label,
            "count": row["n"],
            "total": _money(row["s"]),
        }
        for row in base.values("rule_id", "kind").annotate(n=Count("pk"), s=Sum("amount")).order_by("rule_id", "kind")
    ]
    by_agent = [
        {
            "agent_id": row["beneficiary"],
            "name": row["beneficiary__real_name"],
            "count": row["n"],
            "total": _money(row["s"]),
        }
        for row in base.values("beneficiary", "beneficiary__real_name")
        .annotate(n=Count("pk"), s=Sum("amount"))
        .order_by("-s", "beneficiary")[:top]
    ]
    return Totals(
        count=overall["n"] or 0,
        total=_money(overall["s"]),
        by_rule=by_rule,
        by_agent=by_agent,
        agents=overall["agents"] or 0,
    )


def settlement_top_reports(run: SettlementRun, *, limit: int = TOP_REPORTS) -> QuerySet[SettlementReport]:
    return (
        SettlementReport.objects.filter(run=run)
        .select_related("agent__level")
        .order_by("-rewards", "-team_purchase", "agent_id")[:limit]
    )


def settlement_progress(run: SettlementRun) -> dict | None:
    """Where an unfinished run stands, for its console page (None once it is finished): its
    background task waiting, running or failed (with the error's message), and the reward lines
    written so far."""
    if run.finished_at is not None:
        return None
    from django.tasks import TaskResultStatus
    from django.tasks.exceptions import TaskResultDoesNotExist

    from weishang.rewards.tasks import settle_run

    state, error = "stopped", ""
    if run.task_id:
        try:
            result = settle_run.get_result(run.task_id)
        except TaskResultDoesNotExist:
            result = None
        if result is not None:
            state = {
                TaskResultStatus.READY: "waiting",
                TaskResultStatus.RUNNING: "running",
                TaskResultStatus.FAILED: "failed",
            }.get(result.status, "stopped")
            if result.errors:
                error = result.errors[-1].traceback.strip().splitlines()[-1][:300]
    labels_ = {
        "waiting": _("Waiting for the background worker."),
        "running": _("Being settled by the background worker."),
        "failed": _("Stopped by an error: settle the period again to finish it."),
        "stopped": _("Not finished: settle the period again to finish it."),
    }
    lines = RewardLine.objects.filter(source_event=f"period:{run.period}").count()
    return {"state": state, "label": labels_[state], "lines": lines, "error": error}


def payout_ratio_percent(run: SettlementRun) -> Decimal | None:
    ratio = run.payout_ratio
    return None if ratio is None else (Decimal(ratio) * 100).quantize(Decimal("0.01"))


# --- plan versions: in force, as tables, compared --------------------------------------------


def in_force_pk(at: datetime | None = None) -> int | None:
    version = plan_in_force(at)
    return version.pk if version is not None else None


def fmt(value: Any) -> str:
    """A plan value as written by a person: 0.30, 100000, [0.05, 0.02], {from: 100000, rate: 0.03}."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return fmt_num(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {fmt(v)}" for k, v in value.items() if v is not None) + "}"
    return str(value)


def _dump(model) -> dict[str, Any]:
    return model.model_dump(by_alias=True, exclude_none=False)


def plan_tables(plan: Plan) -> dict[str, Any]:
    """The plan as rows for tables: general, levels, prices, rewards (one table per type),
    upgrades, settlement, returns. Keys and the plan's own words are shown by their label in the
    reader's language (``rewards.labels``); amounts, codes and names as written."""
    codes = list(plan.level_codes)
    levels = [
        {
            "rank": i,
            "code": lv.code,
            "name": lv.name,
            "entry": labels.entry_text(lv.entry),
            "discount": fmt(lv.discount),
            "min_restock_qty": lv.min_restock_qty,
        }
        for i, lv in enumerate(plan.levels, start=1)
    ]
    price_rows = []
    for sku, row in plan.prices.items():
        cells = []
        for code in codes:
            if code in row:
                cells.append((fmt(row[code]), True))
            elif "retail" in row:  # retail × the level's discount
                cells.append((fmt(plan.price(sku, code)), False))
            else:
                cells.append(("×" + fmt(plan.level(code).discount), False))
        price_rows.append({"sku": sku, "retail": fmt(row.get("retail")), "cells": cells})
    rewards: dict[str, dict[str, Any]] = {}
    for rule in plan.rewards:
        data = _dump(rule)
        data.pop("type", None)
        table = rewards.setdefault(
            rule.type, {"type": rule.type, "title": labels.key_label(rule.type), "columns": list(data), "rows": []}
        )
        for key in data:
            if key not in table["columns"]:
                table["columns"].append(key)
        table["rows"].append(data)
    for table in rewards.values():
        table["rows"] = [[labels.value_text(col, row.get(col)) for col in table["columns"]] for row in table["rows"]]
        table["column_labels"] = [labels.key_label(col) for col in table["columns"]]
    names = {lv.code: lv.name for lv in plan.levels}
    upgrades = [
        {
            "to": up.to,
            "to_name": names.get(up.to, up.to),
            "mode": up.mode,
            "conditions": [
                f"{labels.key_label(c.key)}: {labels.value_text(c.key, _plain(c.value))}" for c in up.conditions
            ],
            "top_up": up.top_up,
        }
        for up in plan.upgrades
    ]
    general = [
        (labels.key_label(key), labels.value_text(key, value))
        for key, value in (
            ("id", plan.id),
            ("version", plan.version),
            ("name", plan.name),
            ("kind", plan.kind),
            ("currency", plan.currency),
            ("timezone", plan.timezone),
            ("jurisdiction", plan.jurisdiction),
            ("direct_selling", plan.direct_selling),
            ("supply", plan.supply),
            ("customer_binding", _dump(plan.customer_binding)),
        )
    ]
    return {
        "general": general,
        "levels": levels,
        "level_codes": codes,
        "level_names": [names[code] for code in codes],
        "prices": price_rows,
        "rewards": list(rewards.values()),
        "upgrades": upgrades,
        "settlement": [(labels.key_label(k), labels.value_text(k, v)) for k, v in _dump(plan.settlement).items()],
        "returns": (
            [(labels.key_label(k), labels.value_text(k, v)) for k, v in _dump(plan.returns).items()]
            if plan.returns
            else []
        ),
    }


def _plain(value: Any) -> Any:
    return _dump(value) if hasattr(value, "model_dump") else value


def _flat(prefix: str, value: Any, out: dict[str, str]) -> None:
    """Flatten dicts into dotted keys (lists stay whole: a ladder or rates read best as one value)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            _flat(f"{prefix}.{key}" if prefix else str(key), inner, out)
    else:
        out[prefix] = labels.value_text(prefix.rsplit(".", 1)[-1], value)


def _section(plan: Plan) -> dict[str, dict[str, dict[str, str]]]:
    """{section: {item: {field: text}}} for comparing two plans."""
    out: dict[str, dict[str, dict[str, str]]] = {
        "general": {},
        "levels": {},
        "prices": {},
        "rewards": {},
        "upgrades": {},
        "settlement": {},
        "returns": {},
    }
    general: dict[str, str] = {}
    for key in ("name", "kind", "currency", "timezone", "jurisdiction", "direct_selling", "supply"):
        general[key] = labels.value_text(key, getattr(plan, key))
    _flat("customer_binding", _dump(plan.customer_binding), general)
    out["general"][""] = general
    for i, lv in enumerate(plan.levels, start=1):
        out["levels"][lv.code] = {
            "rank": str(i),
            "name": lv.name,
            "entry": labels.entry_text(lv.entry),
            "discount": fmt(lv.discount),
            "min_restock_qty": str(lv.min_restock_qty),
        }
    for sku, row in plan.prices.items():
        out["prices"][sku] = {key: fmt(value) for key, value in row.items()}
    for rule in plan.rewards:
        flat: dict[str, str] = {}
        _flat("", _dump(rule), flat)
        out["rewards"][rule.id] = flat
    for up in plan.upgrades:
        out["upgrades"][up.to] = {
            "mode": labels.value_text("mode", up.mode),
            "top_up": labels.value_text("top_up", up.top_up),
            "conditions": "; ".join(
                f"{labels.key_label(c.key)}: {labels.value_text(c.key, _plain(c.value))}" for c in up.conditions
            ),
        }
    settlement: dict[str, str] = {}
    _flat("", _dump(plan.settlement), settlement)
    out["settlement"][""] = settlement
    if plan.returns:
        returns: dict[str, str] = {}
        _flat("", _dump(plan.returns), returns)
        out["returns"][""] = returns
    return out


@dataclass(frozen=True)
class Change:
    section: str
    item: str
    field: str
    old: str
    new: str

    @property
    def kind(self) -> str:
        return "added" if self.old == "" else ("removed" if self.new == "" else "changed")

    @property
    def section_label(self) -> str:
        return labels.key_label(self.section)

    @property
    def field_label(self) -> str:
        return labels.path_label(self.field)


def plan_changes(old: Plan, new: Plan) -> list[Change]:
    """What differs from ``old`` to ``new``, section by section (levels, prices, rewards, …); an
    item only on one side is one row with the other side empty."""
    a, b = _section(old), _section(new)
    changes: list[Change] = []
    for section in a:
        items_a, items_b = a[section], b[section]
        for item in list(items_a) + [i for i in items_b if i not in items_a]:
            fields_a, fields_b = items_a.get(item), items_b.get(item)
            if fields_a is None or fields_b is None:
                side = fields_a if fields_b is None else fields_b
                text = "; ".join(f"{labels.path_label(k)}: {v}" for k, v in side.items())
                changes.append(
                    Change(section, item, "", "" if fields_a is None else text, "" if fields_b is None else text)
                )
                continue
            for field in list(fields_a) + [f for f in fields_b if f not in fields_a]:
                va, vb = fields_a.get(field, "—"), fields_b.get(field, "—")
                if va != vb:
                    changes.append(Change(section, item, field, va, vb))
    return changes


def source_diff(old: PlanVersion, new: PlanVersion, *, context: int = 3) -> list[tuple[str, str]]:
    """The unified diff of two versions' plan files, as (css kind, line): kind is add, del, hunk,
    head or same."""
    lines = difflib.unified_diff(
        old.source.splitlines(),
        new.source.splitlines(),
        fromfile=f"{old} ({old.filename or 'plan.yaml'})",
        tofile=f"{new} ({new.filename or 'plan.yaml'})",
        lineterm="",
        n=context,
    )
    out = []
    for line in lines:
        if line.startswith(("+++", "---")):
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        out.append((kind, line))
    return out


def release_due_count(now: datetime | None = None) -> tuple[int, Decimal]:
    """(lines, amount) that ``rewards_release`` would make available now (returns being decided wait)."""
    due = (
        RewardLine.objects.filter(status=RewardStatus.FROZEN, release_at__lte=now or clock.now())
        .exclude(order__status=OrderStatus.REFUND_REQUESTED)
        .order_by()
    )
    found = due.aggregate(n=Count("pk"), s=Sum("amount"))
    return found["n"] or 0, _money(found["s"])


# --- the agent's upgrade progress page (/m/progress/) ------------------------------------------


@dataclass(frozen=True)
class UpgradeProgressPage:
    """What the progress page shows: the plan in force (None: there is none), the agent's progress
    under it (None with no plan, or when the plan does not know the agent's level), and the plan's
    level names by code."""

    version: PlanVersion | None
    progress: Progress | None
    level_names: dict[str, str]

    def name(self, code: str) -> str:
        return self.level_names.get(code, code)


def upgrade_progress_of(*, agent: Agent, at: datetime | None = None) -> UpgradeProgressPage:
    """How far ``agent`` is from each upgrade rule above their level under the plan in force: the
    engine's own condition checks over the database figures (``DatabaseHierarchy``)."""
    at = at or clock.now()
    version = plan_in_force(at)
    if version is None:
        return UpgradeProgressPage(version=None, progress=None, level_names={})
    plan = plan_of(version)
    names = {level.code: level.name for level in plan.levels}
    if agent.level.code not in names:
        return UpgradeProgressPage(version=version, progress=None, level_names=names)
    view = DatabaseHierarchy()
    return UpgradeProgressPage(
        version=version, progress=upgrade_progress(plan, agent.pk, view, at=at), level_names=names
    )


# --- the join page: what each level costs and asks ----------------------------------------------

JOIN_PRICES_SHOWN = 3  # SKUs priced on each level's card; the rest are "and N more"


@dataclass(frozen=True)
class JoinTerms:
    """What joining at one level costs and asks, as the join page shows it: the entry (``free``, a
    first ``order`` of at least ``entry_amount``, or the ``gift`` pack ``gift_pack`` at
    ``entry_amount``), the level's purchase price of the first SKUs (sku, level price), the units a
    restock order needs, and who approves the application (the brand, or the supplier upline)."""

    level: Any
    entry: str
    entry_amount: Decimal
    gift_pack: str
    prices: list[tuple[Any, Decimal]]
    more_prices: int
    min_restock_qty: int
    by_brand: bool


def join_terms(at: datetime | None = None) -> list[JoinTerms]:
    """Every level's terms, lowest level first (where a newcomer usually starts). Entry and prices
    come from the plan in force where there is one (synced into the levels and the price grid);
    otherwise from the levels themselves."""
    from weishang.catalog.selectors import price_grid
    from weishang.channel.models import Approver

    version = plan_in_force(at)
    specs = {level.code: level for level in plan_of(version).levels} if version is not None else {}
    levels, rows = price_grid()
    rows = [(sku, cells) for sku, cells in rows if sku.active and sku.product.active]
    names = {sku.code: sku.name for sku, _cells in rows}
    out = []
    for index, level in enumerate(levels):
        spec = specs.get(level.code)
        if spec is not None and spec.entry.gift_pack:
            entry, gift = "gift", names.get(spec.entry.gift_pack, spec.entry.gift_pack)
        elif (spec is not None and spec.entry.free) or not level.entry_amount:
            entry, gift = "free", ""
        else:
            entry, gift = "order", ""
        prices = [(sku, cells[index][2]) for sku, cells in rows if sku.code != (spec.entry.gift_pack if spec else None)]
        out.append(
            JoinTerms(
                level=level,
                entry=entry,
                entry_amount=level.entry_amount,
                gift_pack=gift,
                prices=prices[:JOIN_PRICES_SHOWN],
                more_prices=max(len(prices) - JOIN_PRICES_SHOWN, 0),
                min_restock_qty=level.min_restock_qty,
                by_brand=level.approver == Approver.BRAND,
            )
        )
    return out[::-1]
