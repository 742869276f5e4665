"""Channel health's writes: a month's snapshot, and the owner told of each breach once.

M11's notification centre does not exist yet, so a breach (a WARN or CRIT verdict of a rule for
the brand's jurisdiction) becomes: a ``HealthAlert`` row (shown on the console dashboard, in the
brand's to-do there, and on the channel health page), an email to the owner users, and the outbox
event ``monitor.breach`` that webhooks deliver. ``HealthAlert`` is unique on (period, rule): the
same breach found again is not told again.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from weishang.core import clock
from weishang.core.errors import BusinessError, NotFound
from weishang.core.outbox import outbox_emit
from weishang.core.roles import role_group_name
from weishang.monitor import selectors
from weishang.monitor.models import HealthAlert, HealthSnapshot

BREACH_TOPIC = "monitor.breach"
log = logging.getLogger(__name__)


def _period(period: str) -> str:
    """``YYYY-MM``; ``this`` (the current month) or ``last`` (the one before) for a scheduled run."""
    today = clock.today()
    if period == "this":
        return today.strftime("%Y-%m")
    if period == "last":
        return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    try:
        clock.month_range(period)
    except ValueError:
        raise BusinessError(_("Give the month as YYYY-MM, e.g. 2026-11."), field="period", code="bad_period") from None
    return period.strip()


def health_compute(*, period: str) -> dict[str, Any]:
    """The month's figures, forecast and verdicts (``selectors.channel_health``), the month checked."""
    return selectors.channel_health(_period(period))


def _owners() -> list:
    return list(
        get_user_model()
        .objects.filter(groups__name=role_group_name("owner"), is_active=True)
        .exclude(email="")
        .distinct()
    )


def _email(alert: HealthAlert, report: dict[str, Any]) -> int:
    owners = _owners()
    if not owners:
        return 0
    with translation.override("zh-hans"):
        subject = _("Channel health: %(rule)s %(status)s in %(period)s") % {
            "rule": alert.rule,
            "status": alert.status,
            "period": alert.period,
        }
        figures = "\n".join(f"  {k}: {v}" for k, v in alert.figures.items())
        body = "\n".join(
            [
                subject,
                "",
                alert.message,
                alert.message_en,
                "",
                _("Figures:"),
                figures,
                "",
                _("Citation: %(source)s") % {"source": alert.source},
                _("Plan: %(plan)s; jurisdiction: %(j)s") % {"plan": report.get("plan"), "j": report["jurisdiction"]},
            ]
        )
    try:
        sent = EmailMessage(subject, body, None, [u.email for u in owners]).send()
    except (OSError, smtplib.SMTPException):  # the alert stands on the dashboard; mail is best effort
        log.exception("channel health alert %s %s: the email to the owners failed", alert.period, alert.rule)
        return 0
    return len(owners) if sent else 0


@transaction.atomic
def health_snapshot_save(*, period: str) -> tuple[HealthSnapshot, list[HealthAlert], dict[str, Any]]:
    """Compute ``period`` and store it (replacing that month's earlier snapshot); each breach not
    told before becomes an alert, an email to the owners and a ``monitor.breach`` event."""
    report = health_compute(period=period)
    snapshot, _created = HealthSnapshot.objects.update_or_create(
        period=report["period"],
        defaults={
            "plan_label": report["plan"] or "",
            "jurisdiction": report["jurisdiction"],
            "figures": {"figures": report["figures"], "inputs": report["inputs"]},
            "forecast": report["forecast"],
            "verdicts": report["verdicts"],
            "computed_at": clock.now(),
        },
    )
    raised = []
    for verdict in report["verdicts"]:
        if not verdict["breach"]:
            continue
        if HealthAlert.objects.filter(period=snapshot.period, rule=verdict["rule"]).exists():
            continue
        try:
            with transaction.atomic():
                alert = HealthAlert.objects.create(
                    period=snapshot.period,
                    rule=verdict["rule"],
                    status=verdict["status"],
                    source=verdict["source"][:300],
                    message=verdict["message_zh"],
                    message_en=verdict["message_en"],
                    figures=verdict["figures"],
                )
        except IntegrityError:  # told by a concurrent run
            continue
        outbox_emit(
            topic=BREACH_TOPIC,
            key=f"{alert.period}:{alert.rule}",
            payload={
                "period": alert.period,
                "rule": alert.rule,
                "status": alert.status,
                "jurisdiction": report["jurisdiction"],
                "plan": report["plan"],
                "figures": alert.figures,
                "source": alert.source,
                "message_zh": verdict["message_zh"],
                "message_en": verdict["message_en"],
            },
        )
        alert.emailed = _email(alert, report)
        alert.save(update_fields=["emailed"])
        raised.append(alert)
    return snapshot, raised, report


@transaction.atomic
def health_alert_acknowledge(*, alert_id: int, by) -> HealthAlert:
    """The owner has read a breach: it leaves the dashboard's to-do (it stays on the health page)."""
    alert = HealthAlert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(_("No such alert."), field="alert")
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = clock.now(), by
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return alert
