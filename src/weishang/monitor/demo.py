"""The demo's channel health: every month gone by since the plan went live saved as the daily
``weishang plan monitor --save`` would have saved it, so the console's page reads them instead of
computing each, and its list of months and the dashboard's panel have something to show (the
demo's agents hold many months of stock, so its breaches are on the owner's to-do)."""

from __future__ import annotations

from datetime import timedelta

from weishang.core import clock


def demo_health() -> None:
    from weishang.monitor.models import HealthSnapshot
    from weishang.monitor.selectors import health_months
    from weishang.monitor.services import health_snapshot_save

    last_month = (clock.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    saved = set(HealthSnapshot.objects.values_list("period", flat=True))
    for period in [m for m in health_months() if m <= last_month] or [last_month]:
        if period not in saved:
            health_snapshot_save(period=period)
