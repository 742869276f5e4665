"""Who may change what an agent pays (M7 items 2, 3 and 15c).

Item 2: every field that decides a price or an entry condition (a SKU's retail price, a level's
discount, entry amount, minimum restock and rank, the price grid) belongs to the roles that hold
``catalog.change_pricing`` (the owner); others see it read-only, and a forged POST changes nothing.

Item 3: while a plan is in force, the levels, entry conditions and prices it governs come from it:
the console shows them read-only with a note and a link to the plan page, and the services that
write them refuse, so no path bypasses the activation gate. Fields the plan does not govern stay
editable.

Item 15c: a lower level never buys cheaper than a higher one.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from console_helpers import D
from django.urls import reverse

from weishang.catalog import services
from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.models import Brand, SupplyMode
from weishang.core.roles import ROLES
from weishang.rewards.plan_versions import plan_activate, plan_upload

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"
NOTE = "由生效的奖励方案决定，修改请上传新版本"
GRID = reverse("admin:catalog_price_grid")


@pytest.fixture
def glow(db, levels):
    """The demo brand (China) with the example plans' SKUs, no plan yet."""
    Brand.objects.create(name="焕颜 GLOW", supply_mode=SupplyMode.CLOUD, jurisdiction="cn")
    product = Product.objects.create(name="焕颜修护系列")
    return {
        code: SKU.objects.create(product=product, code=code, name=code, retail_price=Decimal(retail))
        for code, retail in (("GLOW-30ML", "298"), ("GLOW-50G", "198"), ("GLOW-MASK5", "99"), ("GLOW-NEW", "50"))
    }


@pytest.fixture
def active_plan(glow):
    """The demo's plan in force: examples/plans/glow-retail-first.yaml (free entry for every level)."""
    name = "glow-retail-first.yaml"
    version = plan_upload(text=(EXAMPLES / name).read_text(encoding="utf-8"), filename=name)
    return plan_activate(version=version, acknowledgement="保留云仓上级发货；已评估 CN-LOCK 风险")


def sku_form(sku: SKU, **changes) -> dict:
    data = {
        "product": sku.product_id,
        "code": sku.code,
        "name": sku.name,
        "barcode": sku.barcode,
        "retail_price": str(sku.retail_price),
        "weight_grams": sku.weight_grams,
        "active": "on",
        "min_order_qty": sku.min_order_qty,
        "max_per_order": "",
        "max_per_day": "",
        "max_per_week": "",
        "max_per_month": "",
    }
    data.update(changes)
    return data


def level_form(level, **changes) -> dict:
    data = {
        "code": level.code,
        "name": level.name,
        "rank": level.rank,
        "entry_amount": str(level.entry_amount),
        "discount": str(level.discount),
        "min_restock_qty": level.min_restock_qty,
        "approver": level.approver,
    }
    data.update(changes)
    return data


def field_input(html: str, name: str) -> bool:
    """True if the page has an editable input named ``name`` (a read-only field has none)."""
    return f'name="{name}"' in html


# --- item 2: the pricing permission ---------------------------------------------------------


def test_only_the_owner_holds_the_pricing_permission(staff):
    holders = {role for role in ROLES if staff(role).has_perm("catalog.change_pricing")}
    assert holders == {"owner"}


@pytest.mark.parametrize("role", ["warehouse", "operations"])
def test_staff_without_pricing_see_the_retail_price_read_only(client, staff, glow, role):
    sku = glow["GLOW-NEW"]
    client.force_login(staff(role))
    html = client.get(reverse("admin:catalog_sku_change", args=[sku.pk])).content.decode()
    assert not field_input(html, "retail_price") and "50.00" in html
    assert field_input(html, "barcode")


@pytest.mark.parametrize("role", ["warehouse", "operations"])
def test_a_forged_post_by_staff_without_pricing_changes_no_price(client, staff, glow, role):
    sku = glow["GLOW-NEW"]
    client.force_login(staff(role))
    response = client.post(
        reverse("admin:catalog_sku_change", args=[sku.pk]), sku_form(sku, retail_price="1.00", barcode="6901234567890")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    sku.refresh_from_db()
    assert sku.retail_price == D("50.00")  # the price did not move
    assert sku.barcode == "6901234567890"  # the rest of the form was saved


def test_operations_cannot_change_a_price_through_the_product_page(client, staff, glow):
    sku = glow["GLOW-NEW"]
    client.force_login(staff("operations"))
    url = reverse("admin:catalog_product_change", args=[sku.product_id])
    skus = list(SKU.objects.filter(product=sku.product).order_by("product_id", "code"))
    data = {
        "name": "焕颜修护系列",
        "description": "",
        "active": "on",
        "skus-TOTAL_FORMS": str(len(skus) + 1),
        "skus-INITIAL_FORMS": str(len(skus)),
        "skus-MIN_NUM_FORMS": "0",
        "skus-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(skus):
        data.update(
            {
                f"skus-{i}-id": row.pk,
                f"skus-{i}-product": row.product_id,
                f"skus-{i}-code": row.code,
                f"skus-{i}-name": row.name,
                f"skus-{i}-barcode": row.barcode,
                f"skus-{i}-retail_price": "1.00",
                f"skus-{i}-weight_grams": 0,
                f"skus-{i}-active": "on",
            }
        )
    n = len(skus)  # a forged extra row: a new SKU with a price
    data.update(
        {
            f"skus-{n}-product": sku.product_id,
            f"skus-{n}-code": "FORGED",
            f"skus-{n}-name": "x",
            f"skus-{n}-retail_price": "1.00",
            f"skus-{n}-weight_grams": 0,
            f"skus-{n}-active": "on",
        }
    )
    response = client.post(url, data)
    assert response.status_code in (200, 302)
    assert {s.code: s.retail_price for s in SKU.objects.all()} == {
        "GLOW-30ML": D("298"),
        "GLOW-50G": D("198"),
        "GLOW-MASK5": D("99"),
        "GLOW-NEW": D("50"),
    }


@pytest.mark.parametrize("role", ["warehouse", "operations", "finance"])
def test_staff_without_pricing_cannot_add_a_sku_with_a_price(client, staff, glow, role):
    client.force_login(staff(role))
    sku = glow["GLOW-NEW"]
    response = client.post(reverse("admin:catalog_sku_add"), sku_form(sku, code="GLOW-CHEAP", retail_price="1"))
    assert response.status_code == 403
    assert not SKU.objects.filter(code="GLOW-CHEAP").exists()


def test_reverting_to_an_old_version_does_not_change_a_price_without_pricing(client, staff, owner, glow):
    sku = glow["GLOW-NEW"]
    old = sku.history.earliest()
    sku.retail_price = D("60")
    services.sku_save(sku=sku, by=owner)
    client.force_login(staff("warehouse"))
    url = reverse("admin:catalog_sku_simple_history", args=[sku.pk, old.history_id])
    client.post(url, sku_form(sku, retail_price="50.00"))
    sku.refresh_from_db()
    assert sku.retail_price == D("60.00")


@pytest.mark.parametrize("role", ["warehouse", "operations", "finance", "lecturer"])
def test_the_services_refuse_a_price_change_by_staff_without_pricing(staff, levels, glow, role):
    user = staff(role)
    sku = glow["GLOW-NEW"]
    sku.retail_price = D("1")
    with pytest.raises(Forbidden):
        services.sku_save(sku=sku, by=user)
    vip = levels["vip"]
    vip.entry_amount = D("1")
    with pytest.raises(Forbidden):
        services.level_save(level=vip, by=user)
    with pytest.raises(Forbidden):
        services.level_prices_set(cells={(sku.pk, vip.pk): "1"}, by=user)
    sku.refresh_from_db()
    vip.refresh_from_db()
    assert sku.retail_price == D("50.00") and vip.entry_amount == D("298") and not LevelPrice.objects.exists()


def test_staff_without_pricing_still_edit_what_is_not_a_price(staff, glow):
    sku = glow["GLOW-NEW"]
    sku.name, sku.barcode, sku.weight_grams = "新品", "690", 120
    services.sku_save(sku=sku, by=staff("warehouse"))
    sku.refresh_from_db()
    assert (sku.name, sku.barcode, sku.weight_grams) == ("新品", "690", 120)


def test_operations_cannot_post_the_price_grid_or_a_level(client, staff, levels, glow):
    client.force_login(staff("operations"))
    sku, vip = glow["GLOW-NEW"], levels["vip"]
    assert client.post(GRID, {f"price-{sku.pk}-{vip.pk}": "1"}).status_code == 403
    response = client.post(reverse("admin:channel_level_change", args=[vip.pk]), level_form(vip, entry_amount="0"))
    assert response.status_code == 403
    vip.refresh_from_db()
    assert vip.entry_amount == D("298") and not LevelPrice.objects.exists()


def test_level_prices_are_edited_only_on_the_grid(client, owner, levels, glow):
    """The plain add and change forms of a level price would bypass the grid's service."""
    client.force_login(owner)
    sku, vip = glow["GLOW-NEW"], levels["vip"]
    row = services.level_prices_set(cells={(sku.pk, vip.pk): "45"}, by=owner) and LevelPrice.objects.get()
    response = client.post(reverse("admin:catalog_levelprice_add"), {"sku": sku.pk, "level": vip.pk, "price": "1"})
    assert response.status_code == 403
    client.post(
        reverse("admin:catalog_levelprice_change", args=[row.pk]), {"sku": sku.pk, "level": vip.pk, "price": "1"}
    )
    client.post(reverse("admin:catalog_levelprice_delete", args=[row.pk]), {"post": "yes"})
    assert LevelPrice.objects.get().price == D("45.00")


def test_without_a_plan_the_owner_edits_prices_and_entry_conditions(client, owner, levels, glow):
    client.force_login(owner)
    sku, vip = glow["GLOW-NEW"], levels["vip"]
    html = client.get(reverse("admin:catalog_sku_change", args=[sku.pk])).content.decode()
    assert field_input(html, "retail_price") and NOTE not in html
    assert (
        client.post(reverse("admin:catalog_sku_change", args=[sku.pk]), sku_form(sku, retail_price="55")).status_code
        == 302
    )
    assert (
        client.post(
            reverse("admin:channel_level_change", args=[vip.pk]), level_form(vip, entry_amount="398")
        ).status_code
        == 302
    )
    assert client.post(GRID, {f"price-{sku.pk}-{vip.pk}": "44"}).status_code == 302
    sku.refresh_from_db()
    vip.refresh_from_db()
    assert sku.retail_price == D("55.00") and vip.entry_amount == D("398.00")
    assert LevelPrice.objects.get().price == D("44.00")


# --- item 3: the plan in force governs levels, entry conditions and prices -------------------


def test_with_a_plan_in_force_a_level_entry_amount_cannot_change_in_the_console(client, owner, levels, active_plan):
    vip = levels["vip"]
    vip.refresh_from_db()
    assert vip.entry_amount == D("0")  # free entry, as the plan says
    client.force_login(owner)
    url = reverse("admin:channel_level_change", args=[vip.pk])
    html = client.get(url).content.decode()
    assert NOTE in html and reverse("admin:rewards_planversion_change", args=[active_plan.pk]) in html
    for name in ("entry_amount", "discount", "min_restock_qty", "rank", "name", "code"):
        assert not field_input(html, name), name
    assert field_input(html, "approver")  # the plan does not say who approves applications
    response = client.post(url, level_form(vip, entry_amount="298", discount="0.1", name="改名", approver="brand"))
    assert response.status_code == 302
    vip.refresh_from_db()
    assert (vip.entry_amount, vip.discount, vip.name) == (D("0"), D("0.800"), "特约")
    assert vip.approver == "brand"


def test_with_a_plan_in_force_levels_cannot_be_added_or_deleted(client, owner, levels, active_plan):
    client.force_login(owner)
    assert client.get(reverse("admin:channel_level_add")).status_code == 403
    assert (
        client.post(reverse("admin:channel_level_delete", args=[levels["vip"].pk]), {"post": "yes"}).status_code == 403
    )
    assert levels["vip"].__class__.objects.count() == 5


def test_with_a_plan_in_force_the_grid_is_read_only_and_refuses_a_post(client, owner, levels, glow, active_plan):
    client.force_login(owner)
    sku, vip = glow["GLOW-30ML"], levels["vip"]
    before = {(p.sku_id, p.level_id): p.price for p in LevelPrice.objects.all()}
    assert before[(sku.pk, vip.pk)] == D("230.00")  # written by the plan
    response = client.get(GRID)
    html = response.content.decode()
    assert NOTE in html and reverse("admin:rewards_planversion_change", args=[active_plan.pk]) in html
    assert response.context["can_edit"] is False
    response = client.post(GRID, {f"price-{sku.pk}-{vip.pk}": "100"})
    assert response.status_code == 409
    assert NOTE in response.content.decode()
    assert {(p.sku_id, p.level_id): p.price for p in LevelPrice.objects.all()} == before


def test_with_a_plan_in_force_a_sku_keeps_the_plan_retail_price_but_its_name_and_barcode_change(
    client, owner, glow, active_plan
):
    client.force_login(owner)
    sku = glow["GLOW-30ML"]
    url = reverse("admin:catalog_sku_change", args=[sku.pk])
    html = client.get(url).content.decode()
    assert NOTE in html and not field_input(html, "retail_price")
    response = client.post(url, sku_form(sku, retail_price="1", name="焕颜精华 新包装", barcode="690123"))
    assert response.status_code == 302
    sku.refresh_from_db()
    assert (sku.retail_price, sku.name, sku.barcode) == (D("298.00"), "焕颜精华 新包装", "690123")


def test_a_sku_the_plan_does_not_name_keeps_an_editable_retail_price(client, owner, glow, active_plan):
    """The plan prices it as retail × each level's discount: its retail price is the catalog's."""
    client.force_login(owner)
    sku = glow["GLOW-NEW"]
    assert (
        client.post(reverse("admin:catalog_sku_change", args=[sku.pk]), sku_form(sku, retail_price="60")).status_code
        == 302
    )
    sku.refresh_from_db()
    assert sku.retail_price == D("60.00")


def test_with_a_plan_in_force_the_services_refuse(owner, levels, glow, active_plan):
    vip = levels["vip"]
    vip.refresh_from_db()
    vip.entry_amount = D("298")
    with pytest.raises(Conflict) as exc:
        services.level_save(level=vip, by=owner)
    assert exc.value.field == "entry_amount"
    sku = glow["GLOW-30ML"]
    sku.retail_price = D("1")
    with pytest.raises(Conflict):
        services.sku_save(sku=sku, by=owner)
    with pytest.raises(Conflict):
        services.level_prices_set(cells={(sku.pk, vip.pk): "1"}, by=owner)
    with pytest.raises(Conflict):
        services.level_prices_set(cells={(sku.pk, vip.pk): "1"}, by=None)  # not even a system caller
    vip.refresh_from_db()
    sku.refresh_from_db()
    assert vip.entry_amount == D("0") and sku.retail_price == D("298.00")
    assert LevelPrice.objects.get(sku=sku, level=vip).price == D("230.00")


# --- item 15c: a lower level never buys cheaper than a higher one ------------------------------


def test_the_grid_refuses_a_lower_level_cheaper_than_a_higher_one(owner, levels, glow):
    sku = glow["GLOW-30ML"]  # retail 298: city 178.80, vip 238.40 by discount
    with pytest.raises(services.PriceGridError) as exc:
        services.level_prices_set(cells={(sku.pk, levels["vip"].pk): "150"}, by=owner)
    message = exc.value.errors[(sku.pk, levels["vip"].pk)]
    assert "市代" in message and "178.80" in message
    assert not LevelPrice.objects.exists()
    with pytest.raises(services.PriceGridError) as exc:  # a higher level dearer than 总代's 119.20
        services.level_prices_set(cells={(sku.pk, levels["partner"].pk): "130"}, by=owner)
    assert (sku.pk, levels["partner"].pk) in exc.value.errors
    # equal is allowed, and so is the order kept
    services.level_prices_set(cells={(sku.pk, levels["vip"].pk): "178.80"}, by=owner)
    assert LevelPrice.objects.get().price == D("178.80")


def test_the_grid_page_shows_the_order_message(client, owner, levels, glow):
    client.force_login(owner)
    sku = glow["GLOW-30ML"]
    response = client.post(GRID, {f"price-{sku.pk}-{levels['vip'].pk}": "150"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "市代" in html and "178.80" in html and 'role="alert"' in html
    assert not LevelPrice.objects.exists()


def test_a_level_discount_below_a_higher_level_is_refused(owner, levels, glow):
    vip = levels["vip"]
    vip.discount = D("0.5")  # below 市代's 0.6: 特约 would buy cheaper than 市代
    with pytest.raises(BusinessError) as exc:
        services.level_save(level=vip, by=owner)
    assert exc.value.field == "discount"
    vip.refresh_from_db()
    assert vip.discount == D("0.800")


# --- every other path ------------------------------------------------------------------------


def test_no_api_route_writes_a_price_a_level_or_the_grid(db):
    """The API (agents' routes and the brand integrations) only reads the catalog: no operation
    other than GET touches SKUs, levels or prices, so the console and the services are the only way."""
    from weishang.api.urls import api

    schema = api.get_openapi_schema()
    writes = [
        (method, path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method.lower() in {"post", "put", "patch", "delete"}
    ]
    assert writes  # the walk sees the API's writes …
    touching = [(m, p) for m, p in writes if re.search(r"sku|level|price|catalog|product", p, re.I)]
    assert touching == []  # … and none of them is about prices


def test_sku_and_level_lists_offer_no_bulk_action_that_bypasses_the_services(client, staff, levels, glow):
    for role in ("warehouse", "operations"):
        client.force_login(staff(role))
        for url in (reverse("admin:catalog_sku_changelist"), reverse("admin:channel_level_changelist")):
            response = client.get(url)
            assert response.status_code in (200, 403)
            if response.status_code == 200:
                assert "delete_selected" not in response.content.decode()
        response = client.post(
            reverse("admin:catalog_sku_changelist"),
            {"action": "delete_selected", "_selected_action": [glow["GLOW-NEW"].pk], "post": "yes"},
        )
        assert SKU.objects.filter(code="GLOW-NEW").exists()
