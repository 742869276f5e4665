"""The finance desk's reads: the overdue queue, finance penetration by month and by consultant,
approval rate and time by lender, finance income per car.

Months are China-time calendar months (``core.clock.month_range``). A car counts in the month it
was delivered; it is financed when its sale was (``CarSale.payment``).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils import timezone

from weishang.autofinance.models import (
    DEFAULT_SLA_HOURS,
    OWNERS,
    ZERO,
    ApplicationStep,
    CarSale,
    LoanApplication,
    Payment,
    PenetrationIncentive,
    StepSLA,
)
from weishang.core import clock

HUNDRED = Decimal(100)


def _rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def sla_hours() -> dict[str, int]:
    return DEFAULT_SLA_HOURS | dict(StepSLA.objects.values_list("status", "hours"))


@dataclass(frozen=True)
class Overdue:
    application: LoanApplication
    owner: str  # the role code that owns the next step
    due_at: datetime
    hours_over: int


def overdue(*, now: datetime | None = None) -> list[Overdue]:
    """Applications waiting in a status longer than its SLA, the longest overdue first."""
    now = now or clock.now()
    hours = sla_hours()
    found = []
    waiting = LoanApplication.objects.filter(status__in=list(OWNERS)).select_related("sale__customer", "lender")
    for app in waiting:
        due = app.status_since + timedelta(hours=hours[app.status])
        if due < now:
            found.append(Overdue(app, OWNERS[app.status], due, int((now - due).total_seconds() // 3600)))
    found.sort(key=lambda o: o.due_at)
    return found


def due_at(application: LoanApplication) -> datetime | None:
    if application.status not in OWNERS:
        return None
    return application.status_since + timedelta(hours=sla_hours()[application.status])


def _months_between(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def recent_months(count: int = 6) -> list[str]:
    today = clock.today()
    y, m = today.year, today.month
    out = []
    for _i in range(count):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return list(reversed(out))


def _delivered(start: datetime, end: datetime):
    return CarSale.objects.filter(delivered_at__gte=start, delivered_at__lt=end)


def penetration_month(month: str) -> dict:
    """Cars delivered in ``month``, how many financed, and the rate (percent, one decimal)."""
    start, end = clock.month_range(month)
    financed = Count("pk", filter=Q(payment=Payment.FINANCED))
    counts = _delivered(start, end).aggregate(cars=Count("pk"), financed=financed)
    return {"month": month, **counts, "rate": _rate(counts["financed"], counts["cars"])}


def penetration_by_month(months: list[str] | None = None) -> list[dict]:
    return [penetration_month(m) for m in (months or recent_months())]


def penetration_by_consultant(months: list[str] | None = None) -> list[dict]:
    """Per consultant over ``months``: cars delivered, financed, the rate; the most cars first."""
    months = months or recent_months()
    start, end = clock.month_range(months[0])[0], clock.month_range(months[-1])[1]
    rows = (
        _delivered(start, end)
        .values("consultant_id", "consultant__username", "consultant__first_name", "consultant__last_name")
        .annotate(cars=Count("pk"), financed=Count("pk", filter=Q(payment=Payment.FINANCED)))
        .order_by("-cars", "consultant_id")
    )
    out = []
    for row in rows:
        name = f"{row['consultant__last_name']}{row['consultant__first_name']}".strip() or row["consultant__username"]
        out.append(
            {
                "consultant_id": row["consultant_id"],
                "name": name,
                "cars": row["cars"],
                "financed": row["financed"],
                "rate": _rate(row["financed"], row["cars"]),
            }
        )
    return out


def lender_approvals(months: list[str] | None = None) -> list[dict]:
    """Per lender, of the applications submitted in ``months``: submitted, approved (with or without
    conditions), declined, still waiting, the approval rate among those decided (percent) and the
    median hours from submission to the lender's decision."""
    months = months or recent_months()
    start, end = clock.month_range(months[0])[0], clock.month_range(months[-1])[1]
    submitted = LoanApplication.objects.filter(submitted_at__gte=start, submitted_at__lt=end).select_related("lender")
    declined_ids = set(
        ApplicationStep.objects.filter(move="decline", application__in=submitted).values_list(
            "application_id", flat=True
        )
    )
    by_lender: dict[int, dict] = {}
    waits: dict[int, list[float]] = defaultdict(list)
    for app in submitted:
        row = by_lender.setdefault(
            app.lender_id,
            {
                "lender": app.lender.name,
                "kind": app.lender.get_kind_display(),
                "submitted": 0,
                "approved": 0,
                "declined": 0,
                "waiting": 0,
            },
        )
        row["submitted"] += 1
        if app.decided_at is None:
            row["waiting"] += 1
            continue
        if app.pk in declined_ids:
            row["declined"] += 1
        else:
            row["approved"] += 1
        waits[app.lender_id].append((app.decided_at - app.submitted_at).total_seconds() / 3600)
    out = []
    for lender_id, row in sorted(by_lender.items(), key=lambda item: item[1]["lender"]):
        decided = row["approved"] + row["declined"]
        hours = waits[lender_id]
        median = None
        if hours:
            median = Decimal(str(statistics.median(hours))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        out.append(row | {"rate": _rate(row["approved"], decided), "median_hours": median})
    return out


def finance_income(months: list[str] | None = None) -> list[dict]:
    """Per month: the commission accrued (disbursed that month), the service fees (contracts signed
    that month), the manufacturer's incentive for the month, their total, the cars delivered and
    the income per car delivered (to the fen) and per financed car delivered."""
    out = []
    for month in months or recent_months():
        start, end = clock.month_range(month)
        commission = sum(
            LoanApplication.objects.filter(
                disbursed_at__gte=start, disbursed_at__lt=end, commission_entry__isnull=False
            ).values_list("commission", flat=True),
            ZERO,
        )
        fees = sum(
            LoanApplication.objects.filter(
                signed_at__gte=start, signed_at__lt=end, service_fee_entry__isnull=False
            ).values_list("service_fee", flat=True),
            ZERO,
        )
        incentive = PenetrationIncentive.objects.filter(month=month).values_list("amount", flat=True).first() or ZERO
        pen = penetration_month(month)
        total = commission + fees + incentive
        cars, financed = pen["cars"], pen["financed"]
        out.append(
            {
                "month": month,
                "commission": commission,
                "service_fees": fees,
                "incentive": incentive,
                "total": total,
                "cars": cars,
                "financed": financed,
                "per_car": (total / cars).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if cars else None,
                "per_financed_car": (total / financed).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                if financed
                else None,
            }
        )
    return out


def month_of(at: datetime) -> str:
    local = timezone.localtime(at)
    return f"{local.year:04d}-{local.month:02d}"


def application_timeline(application: LoanApplication) -> list[ApplicationStep]:
    return list(application.steps.select_related("by"))
