"""The demo's channel health: last month saved as ``weishang plan monitor --period … --save`` saves
it, so the console's page, its list of months and the dashboard's panel have something to show
(the demo's agents hold many months of stock, so its breaches are on the owner's to-do)."""

from __future__ import annotations

from datetime import timedelta

from weishang.core import clock


def demo_health() -> None:
    from weishang.monitor.models import HealthSnapshot
    from weishang.monitor.services import health_snapshot_save

    last_month = (clock.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    if not HealthSnapshot.objects.filter(period=last_month).exists():
        health_snapshot_save(period=last_month)
