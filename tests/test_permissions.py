"""Who may do what: brand staff roles in the console, agents on the phone pages and the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.channel import services
from weishang.channel.models import Agent, Application, ApplicationStatus, Level
from weishang.core.roles import ROLES, role_group_name, roles_sync

STAFF_PASSWORD = "staff-pass-123"


@pytest.fixture
def staff(db, django_user_model):
    """staff("finance") -> a staff user (not a superuser) in that role group."""
    groups = roles_sync()

    def make(role: str):
        user = django_user_model.objects.create_user(username=f"{role}-user", password=STAFF_PASSWORD, is_staff=True)
        user.groups.add(groups[role])
        return user

    return make


@pytest.fixture
def sku(db):
    product = Product.objects.create(name="精华")
    return SKU.objects.create(product=product, code="S-1", name="精华 30ml", retail_price=Decimal("100"))


def expected_perms(role: str) -> set[str]:
    _label, model_perms, extra = ROLES[role]
    out = set(extra)
    for dotted, actions in model_perms.items():
        app_label, model = dotted.split(".")
        out |= {f"{app_label}.{action}_{model}" for action in actions}
    return out


def group_perms(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def login_redirect(response, path: str) -> bool:
    return (
        response.status_code == 302
        and response["Location"].startswith(reverse("admin:login"))
        and path in response["Location"]
    )


# --- role groups ----------------------------------------------------------------------------


def test_role_groups_exist_after_migrate(db):
    names = set(Group.objects.values_list("name", flat=True))
    assert {role_group_name(code) for code in ROLES} <= names


@pytest.mark.parametrize("role", list(ROLES))
def test_role_group_has_exactly_the_listed_permissions(db, role):
    groups = roles_sync()
    group = groups[role]
    assert group.name == f"role:{role}"
    # every permission named in ROLES exists (a typo would silently drop it) and nothing else is granted
    assert group_perms(group) == expected_perms(role)


def test_roles_sync_is_idempotent_and_restores_permissions(db):
    groups = roles_sync()
    groups["finance"].permissions.add(Permission.objects.get(codename="change_levelprice"))
    again = roles_sync()
    assert Group.objects.filter(name__startswith="role:").count() == len(ROLES)
    assert group_perms(again["finance"]) == expected_perms("finance")
    assert again["finance"].pk == groups["finance"].pk


@pytest.mark.parametrize("role", list(ROLES))
def test_staff_user_perms_follow_role(staff, role):
    user = staff(role)
    assert not user.is_superuser
    assert user.get_all_permissions() == expected_perms(role)


# --- console pages by role ------------------------------------------------------------------


def test_finance_views_agents_but_cannot_change_prices_or_levels(client, staff, make_agent, levels, sku):
    finance = staff("finance")
    agent = make_agent("city")
    client.force_login(finance)
    assert client.get("/console/").status_code == 200
    assert client.get(reverse("admin:channel_agent_changelist")).status_code == 200
    assert client.get(reverse("admin:channel_agent_change", args=[agent.pk])).status_code == 200

    grid = reverse("admin:catalog_price_grid")
    response = client.get(grid)
    assert response.status_code == 200
    assert response.context["can_edit"] is False
    response = client.post(grid, {f"price-{sku.pk}-{levels['vip'].pk}": "50"})
    assert response.status_code == 403
    assert not LevelPrice.objects.exists()

    vip = levels["vip"]
    url = reverse("admin:channel_level_change", args=[vip.pk])
    assert client.get(url).status_code == 200  # view only
    response = client.post(
        url,
        {
            "code": "vip",
            "name": "改名",
            "rank": 5,
            "entry_amount": "1",
            "discount": "0.5",
            "min_restock_qty": 1,
            "approver": "supplier",
        },
    )
    assert response.status_code == 403
    vip.refresh_from_db()
    assert vip.name == "特约" and vip.entry_amount == Decimal("298")
    assert client.get(reverse("admin:channel_level_add")).status_code == 403
    # and cannot move agents
    assert client.get(reverse("admin:channel_agent_relations", args=[agent.pk])).status_code == 403


def test_owner_edits_price_grid(client, staff, levels, sku):
    owner = staff("owner")
    client.force_login(owner)
    grid = reverse("admin:catalog_price_grid")
    response = client.get(grid)
    assert response.status_code == 200
    assert response.context["can_edit"] is True
    response = client.post(grid, {f"price-{sku.pk}-{levels['vip'].pk}": "75.50"})
    assert response.status_code == 302
    price = LevelPrice.objects.get()
    assert (price.sku, price.level, price.price) == (sku, levels["vip"], Decimal("75.50"))
    assert price.history.get().history_user == owner


def test_owner_can_change_levels(client, staff, levels):
    client.force_login(staff("owner"))
    vip = levels["vip"]
    response = client.post(
        reverse("admin:channel_level_change", args=[vip.pk]),
        {
            "code": "vip",
            "name": "特约代理",
            "rank": 5,
            "entry_amount": "398",
            "discount": "0.800",
            "min_restock_qty": 1,
            "approver": "supplier",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    vip.refresh_from_db()
    assert vip.name == "特约代理" and vip.entry_amount == Decimal("398")


def test_warehouse_and_lecturer_see_no_agents_moves_or_prices(client, staff, make_agent, sku):
    agent = make_agent("vip")
    users = {}
    for role, can_see_agents in (("warehouse", True), ("lecturer", False)):
        users[role] = staff(role)
        client.force_login(users[role])
        assert client.get("/console/").status_code == 200
        status = client.get(reverse("admin:channel_agent_change", args=[agent.pk])).status_code
        assert (status == 200) is can_see_agents
        assert client.get(reverse("admin:channel_agent_relations", args=[agent.pk])).status_code == 403
        assert client.get(reverse("admin:channel_application_changelist")).status_code == 403
        client.logout()
    client.force_login(users["lecturer"])
    assert client.get(reverse("admin:catalog_price_grid")).status_code == 403
    client.force_login(users["warehouse"])
    assert client.get(reverse("admin:catalog_price_grid")).status_code == 403


def test_operations_moves_agents_and_owner_too(client, staff, make_agent):
    a = make_agent("city")
    b = make_agent("city")
    child = make_agent("vip", referrer=a)
    client.force_login(staff("operations"))
    url = reverse("admin:channel_agent_relations", args=[child.pk])
    response = client.post(url, {"action": "referrer", "agent_code": b.invite_code, "reason": "团队调整"})
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.referrer == b


# --- agents cannot reach the console --------------------------------------------------------


def test_agent_is_sent_to_admin_login_from_console(client, make_agent, levels, sku):
    agent = make_agent("partner")
    assert not agent.user.is_staff
    client.force_login(agent.user)
    for path in (
        "/console/",
        reverse("admin:channel_agent_changelist"),
        reverse("admin:catalog_price_grid"),
        reverse("admin:channel_agent_relations", args=[agent.pk]),
        reverse("admin:channel_application_changelist"),
    ):
        response = client.get(path)
        assert login_redirect(response, path), (path, response.status_code)

    # a POST to a staff-only page changes nothing either
    before = LevelPrice.objects.count()
    response = client.post(reverse("admin:catalog_price_grid"), {f"price-{sku.pk}-{levels['vip'].pk}": "1"})
    assert response.status_code == 302
    assert LevelPrice.objects.count() == before
    other = make_agent("vip")
    response = client.post(
        reverse("admin:channel_agent_relations", args=[other.pk]),
        {"action": "referrer", "agent_code": agent.invite_code, "reason": "x"},
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.referrer is None


def test_agent_cannot_log_in_to_console_with_password(client, make_agent):
    agent = make_agent("partner", phone="13600000001", password="agent-pass-1")
    response = client.post(
        reverse("admin:login"), {"username": "13600000001", "password": "agent-pass-1", "next": "/console/"}
    )
    assert response.status_code == 200  # form shown again with an error
    assert client.get("/console/").status_code == 302
    assert agent.user.is_staff is False


def test_staff_without_agent_goes_to_console_from_phone_home(client, staff):
    client.force_login(staff("finance"))
    response = client.get("/m/")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_non_agent_non_staff_user_gets_403_on_phone_home(client, django_user_model):
    user = django_user_model.objects.create_user(username="someone", password="some-pass-1")
    client.force_login(user)
    assert client.get("/m/").status_code == 403
    assert client.get("/m/team/").status_code == 404
    assert client.get("/m/applications/").status_code == 404


def test_phone_pages_need_login(client, db):
    for path in ("/m/", "/m/team/", "/m/applications/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/m/login/")


# --- team pages -----------------------------------------------------------------------------


@pytest.fixture
def team(make_agent):
    """up → me → child → grandchild, and a stranger elsewhere."""
    up = make_agent("partner", real_name="上级")
    me = make_agent("general", referrer=up, real_name="我")
    child = make_agent("province", referrer=me, real_name="下级")
    grandchild = make_agent("city", referrer=child, real_name="下下级")
    stranger = make_agent("general", real_name="外人")
    stranger_child = make_agent("city", referrer=stranger, real_name="外人下级")
    return up, me, child, grandchild, stranger, stranger_child


def test_team_page_shows_own_team_only(client, team):
    up, me, child, grandchild, stranger, stranger_child = team
    client.force_login(me.user)
    response = client.get("/m/team/")
    assert response.status_code == 200
    assert [m.pk for m in response.context["members"]] == [child.pk]
    assert client.get(f"/m/team/{me.pk}/").status_code == 200
    response = client.get(f"/m/team/{child.pk}/")
    assert response.status_code == 200
    assert [m.pk for m in response.context["members"]] == [grandchild.pk]
    assert client.get(f"/m/team/{grandchild.pk}/").status_code == 200
    for other in (up, stranger, stranger_child):
        assert client.get(f"/m/team/{other.pk}/").status_code == 404, other.real_name
    assert client.get("/m/team/999999/").status_code == 404


def test_team_breadcrumbs_never_show_uplines(client, team):
    up, me, child, grandchild, *_ = team
    client.force_login(me.user)
    response = client.get(f"/m/team/{grandchild.pk}/")
    assert up not in response.context["chain"]
    assert up.real_name not in response.content.decode()


def test_lower_agent_cannot_see_upline_team(client, team):
    up, me, child, *_ = team
    client.force_login(child.user)
    assert client.get(f"/m/team/{me.pk}/").status_code == 404
    assert client.get(f"/m/team/{up.pk}/").status_code == 404


# --- deciding applications ------------------------------------------------------------------


def submit(levels, *, inviter, level="vip", phone="13912345678") -> Application:
    return services.application_submit(
        invite_code=inviter.invite_code if inviter else None,
        phone=phone,
        real_name="新人",
        level_code=level,
        password="new-pass-12",
    )


def test_agent_cannot_decide_another_agents_applicant_on_web(client, make_agent, levels):
    approver = make_agent("city")
    intruder = make_agent("city")
    app = submit(levels, inviter=approver)
    assert app.approver == approver
    client.force_login(intruder.user)
    assert app not in client.get("/m/applications/").context["applications"]
    for decision in ("approve", "reject"):
        response = client.post(f"/m/applications/{app.pk}/decide/", {"decision": decision, "note": "x"}, follow=True)
        assert response.status_code == 200
        assert [m.level_tag for m in response.context["messages"]] == ["error"]
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING
    assert app.decided_by is None
    assert not Agent.objects.filter(user__phone="13912345678").exists()


def test_agent_cannot_decide_another_agents_applicant_on_api(client, make_agent, levels):
    approver = make_agent("city")
    intruder = make_agent("province")  # even a higher level in another line
    app = submit(levels, inviter=approver)
    client.force_login(intruder.user)
    for verb in ("approve", "reject"):
        response = client.post(f"/api/v1/applications/{app.pk}/{verb}", {"note": "x"}, content_type="application/json")
        # Not theirs to decide: "not found", as any record that is not theirs (ids cannot be probed).
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING


def test_inviter_who_is_not_the_approver_cannot_decide(client, make_agent, levels):
    supplier = make_agent("province")
    inviter = make_agent("city", referrer=supplier)
    app = submit(levels, inviter=inviter, level="city")
    assert app.approver == supplier
    client.force_login(inviter.user)
    response = client.post(f"/api/v1/applications/{app.pk}/approve", {}, content_type="application/json")
    assert response.status_code == 404
    assert Application.objects.get().status == ApplicationStatus.PENDING


def test_agent_cannot_decide_brand_application(client, make_agent, levels):
    partner = make_agent("partner")
    app = submit(levels, inviter=partner, level="general")
    assert app.approver is None
    client.force_login(partner.user)
    response = client.post(f"/api/v1/applications/{app.pk}/approve", {}, content_type="application/json")
    assert response.status_code == 404
    response = client.post(f"/m/applications/{app.pk}/decide/", {"decision": "approve"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert Application.objects.get().status == ApplicationStatus.PENDING


@pytest.mark.parametrize("role", ["owner", "operations"])
def test_staff_with_decide_permission_decides_brand_applications(client, staff, make_agent, levels, role):
    partner = make_agent("partner")
    app = submit(levels, inviter=partner, level="general")
    user = staff(role)
    assert user.has_perm("channel.decide_application")
    client.force_login(user)
    response = client.post(f"/m/applications/{app.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == ApplicationStatus.APPROVED
    assert app.decided_by == user
    assert app.agent.referrer == partner


@pytest.mark.parametrize("role", ["finance", "warehouse", "lecturer"])
def test_staff_without_decide_permission_cannot_decide(client, staff, levels, role):
    app = submit(levels, inviter=None, level="general")
    client.force_login(staff(role))
    response = client.post(f"/api/v1/applications/{app.pk}/approve", {}, content_type="application/json")
    assert response.status_code == 404
    assert Application.objects.get().status == ApplicationStatus.PENDING


def test_staff_with_permission_decides_in_console(client, staff, levels):
    app = submit(levels, inviter=None, level="partner")
    client.force_login(staff("owner"))
    assert "approve_selected" in client.get(reverse("admin:channel_application_changelist")).content.decode()
    response = client.post(
        reverse("admin:channel_application_changelist"), {"action": "approve_selected", "_selected_action": [app.pk]}
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == ApplicationStatus.APPROVED
    assert app.agent.level == Level.objects.get(code="partner")


def test_finance_cannot_decide_in_console(client, staff, levels):
    app = submit(levels, inviter=None, level="partner")
    client.force_login(staff("finance"))
    response = client.post(
        reverse("admin:channel_application_changelist"), {"action": "approve_selected", "_selected_action": [app.pk]}
    )
    assert response.status_code in (200, 302)  # the action is simply not offered to finance
    assert Application.objects.get().status == ApplicationStatus.PENDING
    page = client.get(reverse("admin:channel_application_changelist"))
    assert page.status_code == 200
    assert "approve_selected" not in page.content.decode()


# --- the API "me" ---------------------------------------------------------------------------


def test_anonymous_gets_401_from_me(client, db):
    for path in ("/api/v1/me", "/api/v1/me/team"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"


def test_staff_without_agent_gets_403_from_me(client, staff):
    client.force_login(staff("owner"))
    response = client.get("/api/v1/me")
    assert response.status_code == 403


def test_agent_me_and_team(client, team):
    up, me, child, *_ = team
    client.force_login(me.user)
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == me.pk and body["referrer"] == up.real_name and body["team_size"] == 3
    response = client.get("/api/v1/me/team")
    assert [m["id"] for m in response.json()["results"]] == [child.pk]
