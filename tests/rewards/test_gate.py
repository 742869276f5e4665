"""The linter is the activation gate: a plan with a CRIT finding for the brand's jurisdiction never
goes live; HIGH findings need a written acknowledgement, kept with who and when."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from weishang.core.errors import Conflict
from weishang.core.models import Brand
from weishang.rewards import plan_versions
from weishang.rewards.models import PlanAcknowledgement

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"


def upload(name: str):
    return plan_versions.plan_upload(text=(EXAMPLES / name).read_text(encoding="utf-8"), filename=name)


@pytest.fixture
def china(catalog):
    Brand.objects.update(jurisdiction="cn")


@pytest.mark.parametrize("name", ["glow-tiered.yaml", "glow-social-mall.yaml"])
def test_a_plan_with_crit_findings_never_goes_live_in_china(china, name):
    version = upload(name)
    with pytest.raises(plan_versions.PlanBlocked) as exc:
        plan_versions.plan_activate(version=version, acknowledgement="老板坚持上线")  # no acknowledgement lifts a CRIT
    assert "CN-FEE" in str(exc.value.message) and "CN-HEAD" in str(exc.value.message)
    assert {f.severity for f in exc.value.findings} == {"CRIT"}
    version.refresh_from_db()
    assert not version.is_activated and plan_versions.plan_in_force() is None
    assert not PlanAcknowledgement.objects.exists()


def test_high_findings_need_an_acknowledgement_that_is_kept(china, django_user_model):
    owner = django_user_model.objects.create_user("owner1", password="pass-word-1", is_staff=True)
    version = upload("glow-retail-first.yaml")  # one HIGH in China: CN-LOCK (cloud-stock fills by the upline)
    with pytest.raises(Conflict) as exc:
        plan_versions.plan_activate(version=version, by=owner)
    assert exc.value.field == "acknowledgement" and "CN-LOCK" in str(exc.value.message)
    plan_versions.plan_activate(version=version, by=owner, acknowledgement="保留云仓上级发货；已评估 CN-LOCK 风险")
    record = PlanAcknowledgement.objects.get()
    assert (record.version, record.by, record.jurisdiction) == (version, owner, "cn")
    assert [f["rule"] for f in record.findings] == ["CN-LOCK"] and record.findings[0]["line"]
    assert "CN-LOCK" not in record.text or record.text.startswith("保留")
    assert plan_versions.plan_in_force() == version


def test_the_console_shows_the_findings_and_offers_no_activation(china, client, django_user_model):
    from django.contrib.auth.models import Group

    from weishang.core.roles import role_group_name, roles_sync

    roles_sync()
    owner = django_user_model.objects.create_user("owner1", password="pass-word-1", is_staff=True)
    owner.groups.add(Group.objects.get(name=role_group_name("owner")))
    client.force_login(owner)
    version = upload("glow-tiered.yaml")
    url = reverse("admin:rewards_planversion_activate", args=[version.pk])
    page = client.get(url).content.decode()
    assert "CN-HEAD" in page and "推三升一" in page and 'role="alert"' in page
    assert 'data-testid="activate"' not in page  # no activate button
    response = client.post(url, {"active_from": "", "acknowledgement": "坚持上线"})
    assert response.status_code == 409
    version.refresh_from_db()
    assert not version.is_activated


def test_a_sandbox_brand_activates_nothing(catalog):
    Brand.objects.update(jurisdiction="none")
    with pytest.raises(Conflict) as exc:
        plan_versions.plan_activate(version=upload("glow-retail-first.yaml"), acknowledgement="x")
    assert exc.value.code == "sandbox_plan"
