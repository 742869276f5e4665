"""Bad input: every case shows a clear error (a form error on the page, or an API 4xx with
``{"errors": {field: [...]}}``) and changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.channel import services, tree
from weishang.channel.models import Agent, AgentTrail, Application, ApplicationStatus, ReferrerLink, SupplierLink
from weishang.channel.tree import Relation
from weishang.core.roles import roles_sync
from weishang.core.validators import id_number_check_digit

PASSWORD = "good-pass-12"
NEW_PHONE = "13912345678"


def snapshot() -> dict:
    """Everything a bad request must leave as it was."""
    User = get_user_model()
    return {
        "applications": sorted(
            Application.objects.values_list("pk", "status", "approver_id", "decided_by_id", "agent_id")
        ),
        "agents": sorted(
            Agent.objects.values_list(
                "pk", "status", "level_id", "supplier_id", "referrer_id", "introducer_id", "entry_due"
            )
        ),
        "users": User.objects.count(),
        "prices": sorted(LevelPrice.objects.values_list("pk", "sku_id", "level_id", "price")),
        "price_history": LevelPrice.history.count(),
        "trail": AgentTrail.objects.count(),
        "referrer_links": ReferrerLink.objects.count(),
        "supplier_links": SupplierLink.objects.count(),
    }


def valid_id() -> str:
    first17 = "44030419900101123"
    return first17 + id_number_check_digit(first17)


def bad_checksum_id() -> str:
    good = valid_id()
    wrong = "0" if good[-1] != "0" else "1"
    return good[:17] + wrong


def form(**kw) -> dict:
    data = {"real_name": "新人", "phone": NEW_PHONE, "id_number": "", "level": "vip", "password": PASSWORD}
    data.update(kw)
    return data


def api(**kw) -> dict:
    data = {
        "invite_code": None,
        "phone": NEW_PHONE,
        "real_name": "新人",
        "level": "vip",
        "password": PASSWORD,
        "id_number": "",
    }
    data.update(kw)
    return data


def form_errors(response) -> dict:
    form_ = response.context["form"]
    return {field: list(errs) for field, errs in form_.errors.items()}


@pytest.fixture
def inviter(make_agent):
    return make_agent("city", real_name="邀请人")


def post_join(client, code, data):
    return client.post(f"/join/{code}/" if code else "/join/", data)


def post_api(client, data):
    return client.post("/api/v1/applications", data, content_type="application/json")


# --- the join page and the API: one case each -----------------------------------------------

WEB_CASES = [
    # (id, data changes, field that carries the error)
    ("invalid-phone", {"phone": "12345"}, "phone"),
    ("landline-phone", {"phone": "02112345678"}, "phone"),
    ("short-password", {"password": "short"}, "password"),
    ("unknown-level", {"level": "emperor"}, "level"),
    ("bad-id-checksum", {"id_number": bad_checksum_id()}, "id_number"),
    ("id-wrong-length", {"id_number": "12345"}, "id_number"),
    ("empty-name", {"real_name": ""}, "real_name"),
    ("blank-name", {"real_name": "   "}, "real_name"),
]


@pytest.mark.parametrize("changes,field", [c[1:] for c in WEB_CASES], ids=[c[0] for c in WEB_CASES])
def test_join_page_rejects_bad_input(client, inviter, changes, field):
    before = snapshot()
    response = post_join(client, inviter.invite_code, form(**changes))
    assert response.status_code == 400
    assert "web/join.html" in [t.name for t in response.templates]
    errors = form_errors(response)
    assert field in errors and errors[field]
    assert 'role="alert"' in response.content.decode()
    assert snapshot() == before


API_CASES = [
    ("invalid-phone", {"phone": "12345"}, 400, "phone"),
    ("short-password", {"password": "short"}, 400, "password"),
    ("unknown-level", {"level": "emperor"}, 400, "level"),
    ("bad-id-checksum", {"id_number": bad_checksum_id()}, 400, "id_number"),
    ("empty-name", {"real_name": "  "}, 400, "real_name"),
    ("phone-too-long", {"phone": "1" * 21}, 422, "phone"),
    ("missing-password", {"password": None}, 422, "password"),
]


@pytest.mark.parametrize("changes,status,field", [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_api_rejects_bad_input(client, inviter, changes, status, field):
    before = snapshot()
    data = api(invite_code=inviter.invite_code, **changes)
    if data.get("password") is None:
        del data["password"]
    response = post_api(client, data)
    assert response.status_code == status
    body = response.json()
    assert list(body["error"]["fields"]) == [field]
    assert body["error"]["fields"][field] and all(body["error"]["fields"][field])
    assert body["error"]["message"]
    assert snapshot() == before


def test_api_rejects_body_that_is_not_json(client, inviter):
    before = snapshot()
    response = client.post("/api/v1/applications", "phone=1", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert snapshot() == before


def test_duplicate_phone_of_an_agent(client, inviter, make_agent):
    existing = make_agent("vip", phone=NEW_PHONE)
    before = snapshot()
    response = post_join(client, inviter.invite_code, form())
    assert response.status_code == 400
    assert "phone" in form_errors(response)
    response = post_api(client, api(invite_code=inviter.invite_code))
    assert response.status_code == 409
    assert list(response.json()["error"]["fields"]) == ["phone"]
    # written another way, it is still the same phone
    response = post_api(client, api(invite_code=inviter.invite_code, phone="+86 139 1234 5678"))
    assert response.status_code == 409
    assert snapshot() == before
    assert existing.user.phone == NEW_PHONE


def test_applying_twice_while_pending(client, inviter):
    assert post_join(client, inviter.invite_code, form()).status_code == 200
    before = snapshot()
    response = post_join(client, inviter.invite_code, form(real_name="又是我"))
    assert response.status_code == 400
    assert "phone" in form_errors(response)
    response = post_join(client, None, form(level="general"))  # not through the brand link either
    assert response.status_code == 400
    response = post_api(client, api(invite_code=inviter.invite_code))
    assert response.status_code == 409
    assert list(response.json()["error"]["fields"]) == ["phone"]
    assert snapshot() == before
    assert Application.objects.get().real_name == "新人"


def test_invite_code_that_does_not_exist(client, inviter):
    before = snapshot()
    response = client.get("/join/NOSUCH99/")
    assert response.status_code == 404
    assert "web/join_invalid.html" in [t.name for t in response.templates]
    assert "NOSUCH99" in response.content.decode()
    response = post_join(client, "NOSUCH99", form())
    assert response.status_code == 404
    response = post_api(client, api(invite_code="NOSUCH99"))
    assert response.status_code == 404
    body = response.json()
    assert list(body["error"]["fields"]) == ["invite_code"]
    assert body["error"]["code"] == "not_found"
    assert snapshot() == before


@pytest.mark.parametrize("action", ["suspend", "exit"])
def test_invite_code_of_inactive_agent(client, inviter, action):
    services.agent_change_status(agent=inviter, action=action, reason="test")
    before = snapshot()
    # The page says so before anyone fills in the form, and a POST changes nothing either.
    page = client.get(f"/join/{inviter.invite_code}/")
    assert page.status_code == 410
    assert "form" not in page.context and inviter.invite_code in page.content.decode()
    response = post_join(client, inviter.invite_code, form())
    assert response.status_code == 410
    response = post_api(client, api(invite_code=inviter.invite_code))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["invite_code"]
    assert snapshot() == before


def test_invite_code_of_applicant_who_has_not_paid(client, make_agent):
    applicant = make_agent("city", entry_paid=False)
    assert applicant.status == "applicant"
    before = snapshot()
    response = post_api(client, api(invite_code=applicant.invite_code))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["invite_code"]
    assert snapshot() == before


# --- decisions ------------------------------------------------------------------------------


@pytest.fixture
def pending(inviter, levels):
    return services.application_submit(
        invite_code=inviter.invite_code, phone=NEW_PHONE, real_name="新人", level_code="vip", password=PASSWORD
    )


def test_approving_an_already_decided_application(client, inviter, pending):
    client.force_login(inviter.user)
    assert (
        client.post(f"/api/v1/applications/{pending.pk}/approve", {}, content_type="application/json").status_code
        == 200
    )
    before = snapshot()
    for verb, data in (("approve", {}), ("reject", {"note": "改主意"})):
        response = client.post(f"/api/v1/applications/{pending.pk}/{verb}", data, content_type="application/json")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"
    response = client.post(f"/m/applications/{pending.pk}/decide/", {"decision": "approve"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert snapshot() == before


def test_approving_a_rejected_application(client, inviter, pending):
    client.force_login(inviter.user)
    client.post(f"/api/v1/applications/{pending.pk}/reject", {"note": "no"}, content_type="application/json")
    before = snapshot()
    response = client.post(f"/api/v1/applications/{pending.pk}/approve", {}, content_type="application/json")
    assert response.status_code == 409
    assert snapshot() == before
    assert not Agent.objects.filter(user__phone=NEW_PHONE).exists()


def test_approving_someone_who_is_not_your_applicant(client, make_agent, pending):
    other = make_agent("city")
    client.force_login(other.user)
    before = snapshot()
    response = client.post(f"/api/v1/applications/{pending.pk}/approve", {}, content_type="application/json")
    assert response.status_code == 404  # not theirs to decide: not found, so ids cannot be probed
    assert response.json()["error"]["message"]
    response = client.post(f"/m/applications/{pending.pk}/decide/", {"decision": "approve"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert snapshot() == before


def test_approving_when_phone_was_registered_meanwhile(client, inviter, pending, make_agent):
    make_agent("vip", phone=NEW_PHONE)  # e.g. staff added the person directly
    client.force_login(inviter.user)
    before = snapshot()
    response = client.post(f"/api/v1/applications/{pending.pk}/approve", {}, content_type="application/json")
    assert response.status_code == 409
    assert list(response.json()["error"]["fields"]) == ["phone"]
    assert snapshot() == before
    assert Application.objects.get().status == ApplicationStatus.PENDING


def test_decision_note_too_long(client, inviter, pending):
    client.force_login(inviter.user)
    before = snapshot()
    response = client.post(
        f"/api/v1/applications/{pending.pk}/reject", {"note": "x" * 301}, content_type="application/json"
    )
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["note"]
    response = client.post(
        f"/m/applications/{pending.pk}/decide/", {"decision": "reject", "note": "x" * 301}, follow=True
    )
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert snapshot() == before


def test_phone_that_is_a_staff_username_is_refused_at_submit(client, levels, django_user_model):
    django_user_model.objects.create_user(username=NEW_PHONE, password="staff-pass-1", is_staff=True)
    before = snapshot()
    response = post_api(client, api(level="general"))
    assert response.status_code == 409
    assert snapshot() == before


# --- console: relations ---------------------------------------------------------------------


@pytest.fixture
def owner(db, django_user_model):
    user = django_user_model.objects.create_user(username="owner", password="owner-pass-1", is_staff=True)
    user.groups.add(roles_sync()["owner"])
    return user


@pytest.fixture
def line(make_agent):
    top = make_agent("general", real_name="顶")
    mid = make_agent("province", referrer=top, real_name="中")
    low = make_agent("city", referrer=mid, real_name="底")
    return top, mid, low


@pytest.mark.parametrize("relation", ["referrer", "supplier"])
@pytest.mark.parametrize("target", ["child", "grandchild", "self"])
def test_relations_page_refuses_a_cycle(client, owner, line, relation, target):
    top, mid, low = line
    code = {"child": mid, "grandchild": low, "self": top}[target].invite_code
    client.force_login(owner)
    before = snapshot()
    response = client.post(
        reverse("admin:channel_agent_relations", args=[top.pk]), {"action": relation, "agent_code": code, "reason": "x"}
    )
    assert response.status_code == 400
    form_ = response.context["form"]
    assert form_.errors
    assert 'role="alert"' in response.content.decode()
    assert snapshot() == before
    assert tree.verify(Relation.REFERRER) == [] and tree.verify(Relation.SUPPLIER) == []


def test_relations_page_cycle_by_phone(client, owner, line):
    top, _mid, low = line
    client.force_login(owner)
    before = snapshot()
    response = client.post(
        reverse("admin:channel_agent_relations", args=[top.pk]),
        {"action": "referrer", "agent_code": low.phone, "reason": "x"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors
    assert snapshot() == before


@pytest.mark.parametrize(
    "data,field",
    [
        ({"action": "referrer", "agent_code": "NOBODY99", "reason": "x"}, "agent_code"),
        ({"action": "referrer", "agent_code": "", "reason": ""}, "reason"),
        ({"action": "fly", "agent_code": "", "reason": "x"}, "action"),
        ({"action": "level", "level": "", "reason": "x"}, "level"),
        ({"action": "status", "status": "", "reason": "x"}, "status"),
    ],
)
def test_relations_page_other_bad_input(client, owner, line, data, field):
    client.force_login(owner)
    before = snapshot()
    response = client.post(reverse("admin:channel_agent_relations", args=[line[2].pk]), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert snapshot() == before


def test_relations_page_refuses_a_lower_supplier(client, owner, line, make_agent):
    _top, mid, _low = line
    vip = make_agent("vip")
    client.force_login(owner)
    before = snapshot()
    response = client.post(
        reverse("admin:channel_agent_relations", args=[mid.pk]),
        {"action": "supplier", "agent_code": vip.invite_code, "reason": "x"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors
    assert snapshot() == before


def test_relations_page_refuses_a_status_change_that_cannot_happen(client, owner, line):
    client.force_login(owner)
    before = snapshot()
    response = client.post(
        reverse("admin:channel_agent_relations", args=[line[2].pk]),
        {"action": "status", "status": "reinstate", "reason": "x"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors
    assert snapshot() == before


def test_relations_page_valid_move_is_saved_and_logged(client, owner, line, make_agent):
    top, mid, low = line
    other = make_agent("province")
    client.force_login(owner)
    response = client.post(
        reverse("admin:channel_agent_relations", args=[low.pk]),
        {"action": "referrer", "agent_code": other.invite_code, "reason": "调线"},
    )
    assert response.status_code == 302
    low.refresh_from_db()
    assert low.referrer == other
    trail = AgentTrail.objects.filter(agent=low, kind="referrer").get()
    assert (trail.old_ref, trail.new_ref, trail.changed_by, trail.reason) == (mid.pk, other.pk, owner, "调线")
    assert tree.verify(Relation.REFERRER) == []


# --- console: price grid --------------------------------------------------------------------


@pytest.fixture
def skus(db):
    product = Product.objects.create(name="精华")
    return [
        SKU.objects.create(product=product, code=f"S-{i}", name=f"SKU {i}", retail_price=Decimal("100")) for i in (1, 2)
    ]


@pytest.fixture
def priced(skus, levels):
    """One existing override, so "nothing changed" also covers updates."""
    return LevelPrice.objects.create(sku=skus[0], level=levels["vip"], price=Decimal("80.00"))


def cell(sku, level) -> str:
    return f"price-{sku.pk}-{level.pk}"


GRID = "/console/catalog/levelprice/grid/"


@pytest.mark.parametrize("bad", ["-1", "-0.01", "abc", "1.005", "12.345", "NaN", "Infinity", "1e12", "1,2.3.4"])
def test_price_grid_one_bad_cell_saves_nothing(client, owner, skus, levels, priced, bad):
    client.force_login(owner)
    before = snapshot()
    response = client.post(
        GRID,
        {
            cell(skus[0], levels["vip"]): "70",  # an update that must not happen
            cell(skus[1], levels["vip"]): "60",  # an insert that must not happen
            cell(skus[1], levels["city"]): bad,
        },
    )
    assert response.status_code == 400
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    html = response.content.decode()
    assert 'role="alert"' in html
    # the grid keeps what was typed, and marks the bad cell
    cells = {c["name"]: c for _sku, row in response.context["grid"] for c in row}
    assert cells[cell(skus[1], levels["city"])]["error"]
    assert not cells[cell(skus[1], levels["vip"])]["error"]
    assert cells[cell(skus[0], levels["vip"])]["value"] == "70"
    assert snapshot() == before
    assert LevelPrice.objects.get().price == Decimal("80.00")


def test_price_grid_unknown_sku_or_level_saves_nothing(client, owner, skus, levels, priced):
    client.force_login(owner)
    before = snapshot()
    response = client.post(GRID, {cell(skus[1], levels["vip"]): "60", f"price-999999-{levels['vip'].pk}": "1"})
    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize("bad", ["1e30", "9" * 29])
def test_price_grid_huge_amount_is_a_cell_error(owner, skus, levels, priced, bad):
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    before = snapshot()
    response = client.post(GRID, {cell(skus[1], levels["vip"]): "60", cell(skus[1], levels["city"]): bad})
    assert response.status_code == 400
    assert snapshot() == before


def test_price_grid_valid_save_creates_updates_clears_and_keeps_history(client, owner, skus, levels, priced):
    client.force_login(owner)
    history = LevelPrice.history.count()
    response = client.post(
        GRID,
        {
            cell(skus[0], levels["vip"]): "75.5",  # update 80 -> 75.50
            cell(skus[1], levels["vip"]): " ¥1,234.50 ",  # create, thousands separator and spaces
            cell(skus[1], levels["city"]): "60",  # create (a lower level never pays less: 1,234.50 ≥ 60)
            cell(skus[0], levels["city"]): "",  # no override: nothing
        },
    )
    assert response.status_code == 302
    assert response["Location"] == GRID
    prices = {(p.sku_id, p.level_id): p.price for p in LevelPrice.objects.all()}
    assert prices == {
        (skus[0].pk, levels["vip"].pk): Decimal("75.50"),
        (skus[1].pk, levels["vip"].pk): Decimal("1234.50"),
        (skus[1].pk, levels["city"].pk): Decimal("60.00"),
    }
    assert LevelPrice.history.count() == history + 3
    latest = LevelPrice.history.filter(sku_id=skus[0].pk, level_id=levels["vip"].pk).latest("history_date")
    assert latest.history_type == "~" and latest.price == Decimal("75.50") and latest.history_user == owner
    assert LevelPrice.history.filter(history_type="+", history_user=owner).count() == 2

    # saving the same grid again changes nothing and writes no history
    response = client.post(GRID, {cell(skus[0], levels["vip"]): "75.50", cell(skus[1], levels["vip"]): "1234.5"})
    assert response.status_code == 302
    assert LevelPrice.history.count() == history + 3

    # clearing a cell removes the override (and is in the history too)
    response = client.post(GRID, {cell(skus[1], levels["vip"]): ""})
    assert response.status_code == 302
    assert not LevelPrice.objects.filter(sku=skus[1], level=levels["vip"]).exists()
    assert LevelPrice.history.count() == history + 4
    assert LevelPrice.history.filter(history_type="-").get().history_user == owner


def test_price_grid_get_shows_set_and_effective_prices(client, owner, skus, levels, priced):
    client.force_login(owner)
    response = client.get(GRID)
    assert response.status_code == 200
    cells = {c["name"]: c for _sku, row in response.context["grid"] for c in row}
    assert cells[cell(skus[0], levels["vip"])]["value"] == Decimal("80.00")
    assert cells[cell(skus[1], levels["vip"])]["value"] == ""
    assert cells[cell(skus[1], levels["vip"])]["placeholder"] == Decimal("80.00")  # 100 × 0.80
    assert cells[cell(skus[1], levels["partner"])]["placeholder"] == Decimal("30.00")


# --- the phone pages ------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["0", "-1", "abc", "2"])
def test_team_page_odd_page_numbers(client, make_agent, page):
    me = make_agent("city")
    client.force_login(me.user)
    assert client.get(f"/m/team/?page={page}").status_code == 200


def test_team_page_huge_page_number(make_agent):
    me = make_agent("city")
    client = Client(raise_request_exception=False)
    client.force_login(me.user)
    assert client.get("/m/team/?page=" + "9" * 25).status_code in (200, 404)


def test_login_with_wrong_password_or_unknown_phone(client, make_agent):
    make_agent("vip", phone="13600000009", password="right-pass-1")
    for username, password in (("13600000009", "wrong-pass-1"), ("13600000000", "right-pass-1"), ("", "")):
        response = client.post("/m/login/", {"username": username, "password": password})
        assert response.status_code == 200
        assert response.context["form"].errors
        assert not response.context["user"].is_authenticated


# --- digits that only look like digits ------------------------------------------------------


def test_full_width_digit_phone_is_not_a_second_account(client, inviter, make_agent):
    make_agent("vip", phone=NEW_PHONE)
    before = snapshot()
    look_alike = NEW_PHONE[:3] + chr(ord(NEW_PHONE[3]) + 0xFEE0) + NEW_PHONE[4:]  # one full-width digit
    response = post_api(client, api(invite_code=inviter.invite_code, phone=look_alike))
    assert response.status_code in (400, 409)
    assert list(response.json()["error"]["fields"]) == ["phone"]
    assert snapshot() == before


def test_full_width_id_number_is_refused_or_normalised(client, inviter):
    sample = "11010519491231002X"  # valid; its check character is X, so only the 17 digits are full-width
    wide = "".join(chr(ord(ch) + 0xFEE0) if ch.isdigit() else ch for ch in sample)
    response = post_api(client, api(invite_code=inviter.invite_code, id_number=wide))
    if response.status_code == 201:
        assert Application.objects.get().id_number == sample
    else:
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["id_number"]
