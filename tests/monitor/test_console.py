"""The channel health page (渠道健康) and the dashboard's panel: who may see, save and acknowledge;
what the page shows (the live figures beside the forecast, the verdicts with their citations, the
charts); a saved breach on the dashboard's to-do until the owner acknowledges it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model

from tests.demo_once import module_demo
from weishang.channel.models import Agent
from weishang.monitor import selectors
from weishang.monitor.models import HealthAlert, HealthSnapshot

PAGE = "/console/monitor/healthsnapshot/health/"
SAVE = "/console/monitor/healthsnapshot/health/save/"
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _load_demo() -> None:
    from weishang.demo.services import demo_load

    demo_load(agents=60)
    HealthSnapshot.objects.all().delete()  # the demo saved last month: these tests save it themselves
    HealthAlert.objects.all().delete()


# Loaded once for the module (tests/demo_once.py); each test's writes are rolled back after it.
demo_module = module_demo(_load_demo, at=NOW)


@pytest.fixture
def demo(demo_module, db, clock):
    clock.travel(NOW)


def user(name: str):
    return get_user_model().objects.get(username=name)


@pytest.mark.parametrize(("role", "status"), [("owner", 200), ("operations", 200), ("finance", 200)])
def test_owner_operations_and_finance_see_the_page(demo, client, role, status):
    client.force_login(user(role))
    response = client.get(PAGE, {"period": "2026-11"})
    assert response.status_code == status
    page = response.content.decode()
    report = selectors.channel_health("2026-11")
    assert 'data-testid="channel-health"' in page
    assert f'<td class="ws-num" data-live>{report["figures"]["loss_share"]}</td>' in page
    assert f'<td class="ws-num" data-forecast>{report["forecast"]["figures"]["loss_share"]}</td>' in page
    assert "AARP 基金会 2018 年调查" in page  # ECON-LOSS's citation, in Chinese
    assert "净亏损" in page  # Chinese first
    assert page.count("unfold/components/chart") == 0 and page.count("<canvas") >= 3  # the three charts
    assert ('data-testid="health-save"' in page) is (role == "owner")


@pytest.mark.parametrize("role", ["warehouse", "lecturer"])
def test_other_roles_are_refused(demo, client, role):
    client.force_login(user(role))
    assert client.get(PAGE).status_code == 403
    assert client.post(SAVE, {"period": "2026-11"}).status_code == 403
    assert not HealthSnapshot.objects.exists()


def test_an_agent_never_reaches_the_page(demo, client):
    agent = Agent.objects.exclude(user=None).select_related("user").first()
    client.force_login(agent.user)
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_finance_and_operations_may_not_save_or_acknowledge(demo, client):
    for role in ("finance", "operations"):
        client.force_login(user(role))
        assert client.post(SAVE, {"period": "2026-11"}).status_code == 403
    assert not HealthSnapshot.objects.exists()


@pytest.mark.parametrize("period", ["2026-13", "<script>", "11-2026", "2026-1"])
def test_a_bad_month_is_said_on_the_page(demo, client, period):
    client.force_login(user("owner"))
    response = client.get(PAGE, {"period": period})
    assert response.status_code == 400
    assert "YYYY-MM" in response.content.decode()
    assert "<script>" not in response.content.decode().split('data-testid="health-error"')[1][:200]


def test_a_saved_breach_is_on_the_dashboard_until_acknowledged(demo, client):
    owner = user("owner")
    client.force_login(owner)
    assert client.get(SAVE).status_code == 405
    response = client.post(SAVE, {"period": "2026-11"})
    assert response.status_code == 302
    assert HealthSnapshot.objects.filter(period="2026-11").exists()
    alerts = list(HealthAlert.objects.filter(period="2026-11"))
    assert alerts, "the demo's November breaches at least one rule (its agents hold many months of stock)"
    dashboard = client.get("/console/").content.decode()
    # the saved month's figures live beside the forecast, and the rules' verdicts
    report = selectors.channel_health("2026-11")
    panel = dashboard.split('data-metric="channel_health"')[1].split("data-metric=")[0]
    assert f"data-live>{report['figures']['loss_share']}</td>" in panel
    assert f"data-forecast>{report['forecast']['figures']['loss_share']}</td>" in panel
    assert f"data-live>{report['figures']['months_of_stock']}</td>" in panel
    assert "净亏损参与者比例" in panel
    for verdict in report["verdicts"]:
        assert f'data-rule="{verdict["rule"]}">{verdict["rule"]} {verdict["status"]}</span>' in panel
    todo = dashboard.split('data-testid="health-todo"')[1].split("</ul>")[0]
    for alert in alerts:
        assert f"2026-11 · {alert.rule} · {alert.status}" in todo
    # finance sees the panel but may not acknowledge
    client.force_login(user("finance"))
    assert 'data-testid="health-todo"' in client.get("/console/").content.decode()
    assert client.post(f"/console/monitor/healthsnapshot/health/acknowledge/{alerts[0].pk}/").status_code == 403
    client.force_login(owner)
    for alert in alerts:
        assert client.post(f"/console/monitor/healthsnapshot/health/acknowledge/{alert.pk}/").status_code == 302
    assert 'data-testid="health-todo"' not in client.get("/console/").content.decode()
    assert HealthAlert.objects.filter(acknowledged_by=owner).count() == len(alerts)
    assert (
        client.post("/console/monitor/healthsnapshot/health/acknowledge/999999/").status_code == 302
    )  # said, not a 500


def test_the_dashboard_panel_is_for_those_who_may_see_the_page(demo, client):
    client.force_login(user("warehouse"))
    assert 'data-metric="channel_health"' not in client.get("/console/").content.decode()
    client.force_login(user("owner"))
    assert 'data-metric="channel_health"' in client.get("/console/").content.decode()
