"""The brand settings a plan governs, and the jurisdiction the compliance gate checks against (M7 item 3).

While a plan is in force, the supply mode and the customer binding (and its days) come from it
(``rewards.plan_versions.plan_sync`` writes them): the console shows them read-only with the plan note, and
``core.services.brand_save`` refuses them. The jurisdiction picks the rulebook the gate lints against:
only the owner changes it, and never while a plan is in force or waits to start (a new jurisdiction
takes effect with the next activation, linted against it). Every change is in the audit history.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from weishang.catalog.models import SKU, Product
from weishang.core import services
from weishang.core.errors import Conflict, Forbidden
from weishang.core.models import Brand, CustomerBinding, Jurisdiction, SupplyMode
from weishang.core.roles import ROLES
from weishang.rewards.plan_versions import plan_activate, plan_upload

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"
NOTE = "由生效的奖励方案决定，修改请上传新版本"


@pytest.fixture
def glow(db, levels):
    """The demo brand (China) with the example plans' SKUs, no plan yet."""
    brand = Brand.objects.create(name="焕颜 GLOW", supply_mode=SupplyMode.CLOUD, jurisdiction="cn")
    product = Product.objects.create(name="焕颜修护系列")
    for code, retail in (("GLOW-30ML", "298"), ("GLOW-50G", "198"), ("GLOW-MASK5", "99")):
        SKU.objects.create(product=product, code=code, name=code, retail_price=Decimal(retail))
    return brand


def _upload(name: str):
    return plan_upload(text=(EXAMPLES / name).read_text(encoding="utf-8"), filename=name)


@pytest.fixture
def active_plan(glow):
    """The demo's plan in force: examples/plans/glow-retail-first.yaml."""
    return plan_activate(
        version=_upload("glow-retail-first.yaml"), acknowledgement="保留云仓上级发货；已评估 CN-LOCK 风险"
    )


def brand_form(brand: Brand, **changes) -> dict:
    data = {
        "name": brand.name,
        "currency": brand.currency,
        "timezone": brand.timezone,
        "jurisdiction": brand.jurisdiction,
        "supply_mode": brand.supply_mode,
        "customer_binding": brand.customer_binding,
        "customer_binding_days": "" if brand.customer_binding_days is None else brand.customer_binding_days,
        "retail_unpaid_hours": brand.retail_unpaid_hours,
        "stuck_after_hours": brand.stuck_after_hours,
    }
    data.update(changes)
    return data


def field_input(html: str, name: str) -> bool:
    return f'name="{name}"' in html


def url(brand: Brand) -> str:
    return reverse("admin:core_brand_change", args=[brand.pk])


def test_only_the_owner_may_change_the_brand_and_its_jurisdiction(staff):
    assert {role for role in ROLES if staff(role).has_perm("core.change_brand")} == {"owner"}
    assert {role for role in ROLES if staff(role).has_perm("core.change_jurisdiction")} == {"owner"}


def test_with_a_plan_in_force_the_governed_settings_are_read_only_with_the_note(client, owner, active_plan):
    brand = Brand.objects.get()
    client.force_login(owner)
    html = client.get(url(brand)).content.decode()
    assert NOTE in html and reverse("admin:rewards_planversion_change", args=[active_plan.pk]) in html
    for name in ("supply_mode", "customer_binding", "customer_binding_days", "jurisdiction"):
        assert not field_input(html, name), name
    for name in ("name", "currency", "timezone", "retail_unpaid_hours", "stuck_after_hours"):  # not the plan's
        assert field_input(html, name), name


def test_with_a_plan_in_force_a_forged_post_changes_no_governed_setting_and_says_so(client, owner, active_plan):
    brand = Brand.objects.get()
    before = (brand.jurisdiction, brand.supply_mode, brand.customer_binding, brand.customer_binding_days)
    client.force_login(owner)
    response = client.post(
        url(brand),
        brand_form(
            brand,
            jurisdiction="uk",
            supply_mode="company",
            customer_binding="expiring",
            customer_binding_days="30",
            name="焕颜 GLOW 旗舰",
        ),
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "由生效的奖励方案" in html and "法域" in html  # the message says what was refused and why
    brand.refresh_from_db()
    assert (brand.jurisdiction, brand.supply_mode, brand.customer_binding, brand.customer_binding_days) == before
    assert brand.name == "焕颜 GLOW 旗舰"  # what the plan does not govern was saved


def test_without_a_plan_the_owner_changes_them(client, owner, glow):
    client.force_login(owner)
    html = client.get(url(glow)).content.decode()
    assert NOTE not in html
    for name in ("supply_mode", "customer_binding", "customer_binding_days", "jurisdiction"):
        assert field_input(html, name), name
    response = client.post(
        url(glow),
        brand_form(
            glow, jurisdiction="uk", supply_mode="company", customer_binding="expiring", customer_binding_days="30"
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    glow.refresh_from_db()
    assert (glow.jurisdiction, glow.supply_mode, glow.customer_binding, glow.customer_binding_days) == (
        "uk",
        "company",
        "expiring",
        30,
    )


@pytest.mark.parametrize("role", ["operations", "finance", "warehouse", "lecturer"])
def test_other_roles_cannot_change_the_brand(client, staff, glow, role):
    client.force_login(staff(role))
    response = client.post(url(glow), brand_form(glow, jurisdiction="uk", supply_mode="company"))
    assert response.status_code == 403
    glow.refresh_from_db()
    assert (glow.jurisdiction, glow.supply_mode) == ("cn", "cloud")


def test_the_service_refuses_while_a_plan_is_in_force(owner, active_plan):
    brand = Brand.objects.get()
    for field, value in (
        ("supply_mode", SupplyMode.COMPANY),
        ("customer_binding", CustomerBinding.OVERRIDE),
        ("jurisdiction", Jurisdiction.UK),
    ):
        brand = Brand.objects.get()
        setattr(brand, field, value)
        with pytest.raises(Conflict) as caught:
            services.brand_save(brand=brand, by=owner)
        assert caught.value.field == field
    brand = Brand.objects.get()
    brand.customer_binding_days = 9
    with pytest.raises(Conflict):
        services.brand_save(brand=brand, by=owner)
    assert Brand.objects.get().jurisdiction == "cn"


def test_the_jurisdiction_cannot_change_while_a_plan_waits_to_start(owner, glow):
    from datetime import timedelta

    from django.utils import timezone

    plan_activate(
        version=_upload("glow-retail-first.yaml"),
        acknowledgement="已评估",
        active_from=timezone.now() + timedelta(days=3),
    )
    glow.refresh_from_db()
    glow.jurisdiction = Jurisdiction.UK
    with pytest.raises(Conflict):
        services.brand_save(brand=glow, by=owner)
    glow.refresh_from_db()
    glow.supply_mode = SupplyMode.COMPANY  # not in force yet: the brand's own until it starts
    services.brand_save(brand=glow, by=owner)


def test_only_the_jurisdiction_permission_changes_the_jurisdiction(staff, glow):
    from django.contrib.auth.models import Permission

    operations = staff("operations")
    operations.user_permissions.add(Permission.objects.get(codename="change_brand"))
    operations = operations.__class__.objects.get(pk=operations.pk)
    glow.jurisdiction = Jurisdiction.UK
    with pytest.raises(Forbidden):
        services.brand_save(brand=glow, by=operations)
    glow.refresh_from_db()
    glow.name = "改名"
    services.brand_save(brand=glow, by=operations)
    assert Brand.objects.get().jurisdiction == "cn"


def test_every_brand_change_is_in_the_audit_history(client, owner, glow):
    client.force_login(owner)
    client.post(url(glow), brand_form(glow, jurisdiction="uk"))
    html = client.get(reverse("admin:audit_history")).content.decode()
    assert "焕颜 GLOW" in html and "法域" in html and "英国" in html
    history = glow.history.order_by("-history_date").first()
    assert history.jurisdiction == "uk" and history.history_user == owner
    page = client.get(reverse("admin:core_brand_history", args=[glow.pk]))
    assert page.status_code == 200 and "owner" in page.content.decode()
    old = glow.history.order_by("history_date").first()
    revert = client.post(
        reverse("admin:core_brand_simple_history", args=[glow.pk, old.history_id]), brand_form(glow, jurisdiction="cn")
    )
    assert revert.status_code == 403  # no revert around the service
    glow.refresh_from_db()
    assert glow.jurisdiction == "uk"
