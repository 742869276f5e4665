"""The audit history: a change to a price, a level, a plan or a payout made in the console is
kept with the staff member who made it, shown on the audit page (old → new) and on the
object's own history page."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from console_helpers import D, give_rewards, page, withdraw
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.channel.models import Level
from weishang.core.models import Brand, SupplyMode
from weishang.ledger.models import Withdrawal
from weishang.rewards.models import PlanVersion
from weishang.rewards.plan_versions import plan_activate, plan_upload

AUDIT = reverse("admin:audit_history")
PLAN = (Path(__file__).resolve().parents[2] / "examples" / "plans" / "glow-tiered.yaml").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def english(client):
    client.cookies["django_language"] = "en"


def audit_rows(client, query: str = "") -> list[dict]:
    response = client.get(AUDIT + query)
    assert response.status_code == 200
    rows = []
    for tr in page(response).find(id="audit").find_all("tr")[1:]:
        cells = tr.find_all("td")
        if len(cells) == 4:
            rows.append(
                {
                    "kind": tr.attrs.get("data-kind"),
                    "what": cells[1].text,
                    "change": cells[2].text,
                    "by": cells[3].text,
                    "link": cells[1].find("a").attrs["href"],
                }
            )
    return rows


@pytest.fixture
def catalog(db, levels):
    """A brand under UK rules with the example plans' SKUs (the tiered plan activates there with an
    acknowledgement of its HIGH findings)."""
    Brand.objects.create(name="焕颜 GLOW", supply_mode=SupplyMode.CLOUD, jurisdiction="uk")
    product = Product.objects.create(name="焕颜修护系列")
    for code, retail in (("GLOW-30ML", "298"), ("GLOW-50G", "198"), ("GLOW-MASK5", "99"), ("GLOW-GIFT398", "398")):
        SKU.objects.create(product=product, code=code, name=code, retail_price=Decimal(retail))


# --- prices and levels ----------------------------------------------------------------------


def test_a_price_changed_in_the_grid_is_in_the_history_with_who_changed_it(client, owner, levels, sku):
    LevelPrice.objects.create(sku=sku, level=levels["vip"], price=D("80.00"))
    client.force_login(owner)
    cell = f"price-{sku.pk}-{levels['vip'].pk}"
    assert client.post(reverse("admin:catalog_price_grid"), {cell: "75.50"}).status_code == 302
    record = LevelPrice.history.filter(history_type="~").latest("history_date")
    assert record.history_user == owner and record.price == D("75.50")
    row = audit_rows(client, "?kind=prices")[0]
    assert row["what"].endswith("GLOW-30ML @ 特约") and row["by"] == "owner"
    assert row["change"] == "level price: 80.00 → 75.50"
    history = client.get(row["link"])
    assert history.status_code == 200 and "owner" in history.content.decode()


def test_a_level_edited_in_the_console_is_in_the_history(client, owner, levels):
    level = levels["city"]
    client.force_login(owner)
    response = client.post(
        reverse("admin:channel_level_change", args=[level.pk]),
        {
            "code": level.code,
            "name": level.name,
            "rank": level.rank,
            "entry_amount": "2500.00",
            "discount": "0.600",
            "min_restock_qty": level.min_restock_qty,
            "approver": level.approver,
        },
    )
    assert response.status_code == 302
    record = Level.history.filter(id=level.pk).latest("history_date")
    assert record.history_user == owner
    row = next(r for r in audit_rows(client, "?kind=levels") if r["what"].endswith("市代"))
    assert "entry order amount: 2000.00 → 2500.00" in row["change"] and row["by"] == "owner"


# --- plans ----------------------------------------------------------------------------------


def test_a_plan_activated_in_the_console_is_in_the_history_with_the_owner(client, owner, catalog):
    version = plan_upload(text=PLAN, filename="glow-tiered.yaml", by=owner)
    client.force_login(owner)
    response = client.post(
        reverse("admin:rewards_planversion_activate", args=[version.pk]),
        {"active_from": "", "acknowledgement": "老板：接受 HIGH 风险"},
    )
    assert response.status_code == 302
    activation = PlanVersion.history.filter(id=version.pk, history_type="~").latest("history_date")
    assert activation.history_user == owner and activation.activated_at is not None
    # The levels and prices the plan wrote to the catalog are the owner's changes too.
    assert Level.history.latest("history_date").history_user == owner
    row = next(r for r in audit_rows(client, "?kind=plans") if "activated" in r["change"])
    assert row["by"] == "owner" and "glow-tiered v1" in row["what"]


def test_a_plan_activated_from_a_command_is_the_activators(owner, catalog):
    version = plan_upload(text=PLAN, filename="glow-tiered.yaml", by=owner)
    plan_activate(version=version, by=owner, acknowledgement="接受")  # no request: e.g. weishang plan activate
    activation = PlanVersion.history.filter(id=version.pk, history_type="~").latest("history_date")
    assert activation.history_user == owner


# --- payouts --------------------------------------------------------------------------------


def test_a_withdrawal_approved_by_finance_is_in_the_history(client, finance, make_agent):
    agent = make_agent("vip", real_name="王静")
    give_rewards(agent, "300.00")
    withdrawal = withdraw(agent, "120.00")
    client.force_login(finance)
    response = client.post(reverse("admin:ledger_withdrawal_approve", args=[withdrawal.pk]), {"note": ""})
    assert response.status_code == 302
    record = Withdrawal.history.filter(id=withdrawal.pk).latest("history_date")
    assert record.history_user == finance and record.status == "approved"
    row = audit_rows(client, "?kind=payouts")[0]
    assert row["by"] == "finance" and withdrawal.number in row["what"]
    assert row["change"] == "status: Requested (待审核) → Approved, to be paid (待打款)"
    history = client.get(reverse("admin:ledger_withdrawal_history", args=[withdrawal.pk]))
    assert history.status_code == 200 and "finance" in history.content.decode()


def test_a_save_that_changes_nothing_is_not_listed(client, owner, levels, sku):
    price = LevelPrice.objects.create(sku=sku, level=levels["vip"], price=D("80.00"))
    price.save()  # the same price written again (as a plan sync does)
    client.force_login(owner)
    rows = audit_rows(client, "?kind=prices")
    assert [r["change"] for r in rows] == ["level price: 80.00"]


# --- who sees it, at what cost --------------------------------------------------------------


def test_each_role_sees_the_kinds_it_may_view(client, staff, owner, finance, make_agent, sku):
    agent = make_agent("vip")
    give_rewards(agent, "10.00")
    withdraw(agent, "10.00")
    client.force_login(staff("warehouse"))  # sees SKUs only
    assert {r["kind"] for r in audit_rows(client)} == {"skus"}
    client.force_login(finance)
    assert "payouts" in {r["kind"] for r in audit_rows(client)}
    client.force_login(staff(None))
    assert client.get(AUDIT).status_code == 403


def test_the_audit_page_costs_the_same_queries_for_3_or_30_changes(client, owner, levels, sku):
    client.force_login(owner)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(AUDIT).status_code == 200
        return len(captured.captured_queries)

    price = LevelPrice.objects.create(sku=sku, level=levels["vip"], price=D("1.00"))
    for n in range(2):
        price.price = D(n + 2)
        price.save()
    few = queries()
    for n in range(27):
        price.price = D(n + 10)
        price.save()
    assert queries() == few
    assert len(audit_rows(client, "?kind=prices")) == 30
