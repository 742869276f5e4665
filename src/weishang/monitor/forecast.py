"""The forecast beside the live figures: the plan in force simulated in its market scenario.

No simulation is stored when a plan is activated, so the simulator is run here on the plan
version with the scenario the toolkit's documents use (``toolkit.selectors.scenario_for``:
WEISHANG_SCENARIOS or examples/scenarios), for exactly n months — month n of the forecast is the
n-th month since the plan went live — and the part of its report the monitor reads is cached per
plan version, scenario file and n (``ForecastCache``). docs/decisions.md, "Channel health: the
forecast".
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from weishang.monitor.models import ForecastCache

MONTHLY_KEYS = (
    "month",
    "rewards_paid",
    "recruitment_funded_rewards",
    "retail_funded_rewards",
    "months_of_stock",
    "channel_inventory",
    "non_participant_revenue_share",
)


def _run(version, path, months: int) -> dict[str, Any]:
    from weishang.plans.simulate import run_simulation
    from weishang.rewards.plan_versions import plan_of

    result = run_simulation(plan_of(version), str(path), months=months, lint=False)
    report = result.public_report()
    return {
        "scenario": report["scenario"]["name"],
        "scenario_file": path.name,
        "figures": report["figures"],
        "monthly": {k: report["monthly"][k] for k in MONTHLY_KEYS},
    }


def _report(version, months: int) -> dict[str, Any] | None:
    from weishang.toolkit.selectors import scenario_for

    path = scenario_for(version)
    if path is None:
        return None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    row = ForecastCache.objects.filter(plan_sha256=version.sha256, scenario_sha256=digest, months=months).first()
    if row is not None:
        return row.report
    report = _run(version, path, months)
    try:
        with transaction.atomic():
            ForecastCache.objects.create(
                plan_sha256=version.sha256, scenario_sha256=digest, months=months, report=report
            )
    except IntegrityError:  # another request cached the same run first: same numbers
        pass
    return report


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _share(num: str, den: str) -> Decimal:
    from weishang.monitor.selectors import share

    return share(Decimal(num), Decimal(den)) or Decimal("0")


def forecast_for(version, n: int) -> dict[str, Any]:
    """The simulated figures of month ``n`` of ``version``'s run: loss share and structure at the
    month's end, the month's funding of rewards and months of stock."""
    try:
        report = _report(version, n)
    except ValueError as exc:  # the scenario does not fit the plan (PlanError, ScenarioError)
        return {"available": False, "month": n, "reason": str(exc)[:300]}
    if report is None:
        return {"available": False, "month": n, "reason": "no scenario"}
    f, m, i = report["figures"], report["monthly"], n - 1
    stock = m["months_of_stock"][i]
    figures = {
        "loss_share": _dec(f["loss_share"]).quantize(Decimal("0.0001")) if f["loss_share"] is not None else None,
        "recruitment_funded_share": _share(m["recruitment_funded_rewards"][i], m["rewards_paid"][i]),
        "retail_funded_share": _share(m["retail_funded_rewards"][i], m["rewards_paid"][i]),
        "months_of_stock": _dec(stock) if stock is not None else _dec(m["channel_inventory"][i] or None),
        "max_subtree_members_3levels": int(f["max_subtree_members_3levels"]),
        "collected_total": _dec(f["collected_total"]),
        "non_participant_revenue_share": _dec(m["non_participant_revenue_share"][i]),
        "end_user_share": _dec(f["end_user_share"]),
    }
    return {
        "available": True,
        "month": n,
        "label": m["month"][i],
        "scenario": report["scenario"],
        "scenario_file": report["scenario_file"],
        "figures": figures,
    }
