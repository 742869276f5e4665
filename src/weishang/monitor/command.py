"""``weishang plan monitor --period 2026-11 [--format json] [--save]``: a month's channel health.

Installed into the ``plan`` command by ``MonitorConfig.ready`` (the command lives in rewards,
below this app). ``--format json`` prints every figure, its inputs, the forecast for the same
month of the plan's run and each rule's verdict with its citation; ``--save`` stores the month
(``HealthSnapshot``) and tells the owner of each new breach.
"""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from weishang.core.errors import BusinessError

HELP = "a month's channel health: live figures, forecast and verdicts (--save stores it and alerts)"


def arguments(parser) -> None:
    parser.add_argument(
        "--period", required=True, help="the month, YYYY-MM (China time); this or last for a scheduled run"
    )
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument("--save", action="store_true", help="store the month and notify the owner of breaches")


def run(command, *, period: str, format: str, save: bool, **_) -> None:
    from weishang.monitor import services

    try:
        if save:
            _snapshot, raised, report = services.health_snapshot_save(period=period)
            report["alerts_raised"] = [f"{a.rule} {a.status}" for a in raised]
        else:
            report = services.health_compute(period=period)
    except BusinessError as exc:
        raise CommandError(str(exc.message)) from None
    if format == "json":
        command.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
        return
    command.stdout.write(text(report))


def text(report: dict) -> str:
    lines = [
        f"渠道健康 Channel health {report['period']} — {report['plan'] or '无生效方案 no plan in force'}"
        f" ({report['jurisdiction']}, 方案第 {report['plan_month'] or '—'} 个月 plan month)",
    ]
    forecast = report["forecast"].get("figures") or {}
    for key, value in report["figures"].items():
        lines.append(f"  {key}: {value if value is not None else '—'}   预测 forecast: {forecast.get(key, '—')}")
    for v in report["verdicts"]:
        lines.append(f"  [{v['status']}] {v['rule']} {v['title_zh']} — {v['source']}")
    for alert in report.get("alerts_raised", []):
        lines.append(f"  已通知 notified: {alert}")
    return "\n".join(lines)
