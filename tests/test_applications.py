"""The application flow as a newcomer and their approver see it: the join page (invite link and
brand link), the API, the approver's decision on the phone pages or through the API, and the
new agent logging in."""

from __future__ import annotations

from decimal import Decimal

import pytest

from weishang.channel import tree
from weishang.channel.models import (
    Agent,
    AgentStatus,
    AgentTrail,
    Application,
    ApplicationStatus,
    TrailKind,
)
from weishang.channel.tree import Relation
from weishang.core.roles import role_group_name, roles_sync
from weishang.core.validators import id_number_check_digit

PASSWORD = "my-secret-9"


def valid_id(first17: str = "11010519491231002") -> str:
    return first17 + id_number_check_digit(first17)


@pytest.fixture
def chain(make_agent):
    """联创 P → 总代 G → 省代 V → 市代 C along the referrer tree; each supplies the next."""
    p = make_agent("partner", real_name="联创老王")
    g = make_agent("general", referrer=p, real_name="总代小李")
    v = make_agent("province", referrer=g, real_name="省代小张")
    c = make_agent("city", referrer=v, real_name="市代小刘")
    return p, g, v, c


def form_data(phone: str = "13912345678", level: str = "vip", **kw) -> dict:
    return {
        "real_name": kw.pop("real_name", "新人小美"),
        "phone": phone,
        "id_number": kw.pop("id_number", ""),
        "level": level,
        "password": kw.pop("password", PASSWORD),
        **kw,
    }


def api_data(phone: str = "13912345678", level: str = "vip", invite_code: str | None = None, **kw) -> dict:
    return {
        "invite_code": invite_code,
        "phone": phone,
        "real_name": kw.pop("real_name", "新人小美"),
        "level": level,
        "password": kw.pop("password", PASSWORD),
        "id_number": kw.pop("id_number", ""),
    }


def template_names(response) -> list[str]:
    return [t.name for t in response.templates]


def messages_of(response) -> list:
    return list(response.context["messages"]) if response.context and "messages" in response.context else []


# --- the join page --------------------------------------------------------------------------


def test_join_page_shows_the_form_and_the_inviter(client, chain):
    c = chain[3]
    response = client.get(f"/join/{c.invite_code}/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("real_name", "phone", "id_number", "level", "password"):
        assert f'name="{name}"' in html
    assert c.real_name in html
    assert response.context["inviter"] == c


def test_join_invite_code_is_case_insensitive(client, chain):
    c = chain[3]
    response = client.get(f"/join/{c.invite_code.lower()}/")
    assert response.status_code == 200
    assert response.context["inviter"] == c


def test_join_by_invite_creates_pending_application_for_the_inviter_to_decide(client, chain):
    c = chain[3]
    response = client.post(f"/join/{c.invite_code}/", form_data(id_number=valid_id()))
    assert response.status_code == 200
    assert "web/join_done.html" in template_names(response)
    app = Application.objects.get()
    assert app.status == ApplicationStatus.PENDING
    assert app.inviter == c
    assert app.approver == c  # 市代 is above 特约: the inviter supplies and decides
    assert app.level.code == "vip"
    assert app.phone == "13912345678"
    assert app.id_number == valid_id()
    assert app.password_hash and PASSWORD not in app.password_hash
    assert c.real_name in response.content.decode()  # "<name> will review your application"
    assert not Agent.objects.filter(user__phone="13912345678").exists()


def test_join_same_level_as_inviter_is_decided_by_inviters_supplier(client, chain):
    _p, _g, v, c = chain
    client.post(f"/join/{c.invite_code}/", form_data(level="city"))
    app = Application.objects.get()
    assert app.inviter == c
    assert app.approver == v


@pytest.mark.parametrize("level", ["partner", "general"])
def test_join_brand_approved_levels_have_no_agent_approver(client, chain, level):
    c = chain[3]
    response = client.post(f"/join/{c.invite_code}/", form_data(level=level))
    assert response.status_code == 200
    app = Application.objects.get()
    assert app.inviter == c
    assert app.approver is None


def test_join_phone_is_normalised(client, chain):
    client.post(f"/join/{chain[3].invite_code}/", form_data(phone="+86 139-1234-5678"))
    assert Application.objects.get().phone == "13912345678"


def test_brand_join_link(client, levels):
    response = client.get("/join/")
    assert response.status_code == 200
    assert response.context["inviter"] is None
    response = client.post("/join/", form_data(level="province"))
    assert response.status_code == 200
    assert "web/join_done.html" in template_names(response)
    app = Application.objects.get()
    assert app.inviter is None
    assert app.approver is None
    assert app.status == ApplicationStatus.PENDING


# --- the API --------------------------------------------------------------------------------


def test_api_submit_returns_201_json(client, chain):
    c = chain[3]
    response = client.post("/api/v1/applications", api_data(invite_code=c.invite_code), content_type="application/json")
    assert response.status_code == 201
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    app = Application.objects.get()
    assert body == {
        "id": app.pk,
        "status": "pending",
        "level": "vip",
        "approver": c.real_name,
        "phone_masked": "139****5678",
    }
    assert app.inviter == c and app.approver == c


def test_api_submit_through_brand_link(client, levels):
    response = client.post("/api/v1/applications", api_data(level="general"), content_type="application/json")
    assert response.status_code == 201
    assert response.json()["approver"] is None
    assert Application.objects.get().inviter is None


# --- deciding on the phone pages ------------------------------------------------------------


def test_approver_sees_their_applicants(client, chain):
    c = chain[3]
    client.post(f"/join/{c.invite_code}/", form_data(id_number=valid_id()))
    client.force_login(c.user)
    response = client.get("/m/applications/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "新人小美" in html
    assert valid_id() not in html  # only the masked ID number
    assert valid_id()[:6] in html


def test_web_approve_creates_agent_who_can_log_in(client, chain):
    c = chain[3]
    client.post(f"/join/{c.invite_code}/", form_data(id_number=valid_id()))
    app = Application.objects.get()
    client.force_login(c.user)
    response = client.post(f"/m/applications/{app.pk}/decide/", {"decision": "approve", "note": "欢迎"}, follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in messages_of(response)] == ["success"]

    app.refresh_from_db()
    assert app.status == ApplicationStatus.APPROVED
    assert app.decided_by == c.user
    assert app.decided_at is not None
    assert app.decision_note == "欢迎"
    assert app.password_hash == ""  # not kept once decided
    agent = app.agent
    assert agent is not None
    assert agent.referrer == c
    assert agent.supplier == c
    assert agent.introducer is None
    assert agent.level.code == "vip"
    assert agent.status == AgentStatus.APPLICANT
    assert agent.entry_due == Decimal("298.00") == agent.level.entry_amount
    assert agent.real_name == "新人小美"
    assert agent.id_number == valid_id()
    assert agent.user.phone == "13912345678"
    assert not agent.user.is_staff and not agent.user.is_superuser
    assert agent.invite_code and agent.invite_code != c.invite_code
    assert tree.verify(Relation.REFERRER) == [] and tree.verify(Relation.SUPPLIER) == []

    trail = AgentTrail.objects.filter(agent=agent)
    assert trail.count() == 1
    joined = trail.get()
    assert joined.kind == TrailKind.JOINED
    assert joined.new_ref == agent.level_id
    assert joined.changed_by == c.user
    assert str(app.pk) in joined.reason

    # the new agent logs in on the phone pages with their phone and chosen password
    client.logout()
    response = client.post("/m/login/", {"username": "13912345678", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/m/"
    home = client.get("/m/")
    assert home.status_code == 200
    assert home.context["agent"] == agent
    assert "298" in home.content.decode()  # the entry order still owed is shown
    # a wrong password does not log in
    client.logout()
    response = client.post("/m/login/", {"username": "13912345678", "password": "wrong-pass-1"})
    assert response.status_code == 200
    assert not response.context["user"].is_authenticated


def test_web_approve_by_the_suppliers_approver_keeps_inviter_as_referrer(client, chain):
    _p, _g, v, c = chain
    client.post(f"/join/{c.invite_code}/", form_data(level="city"))
    app = Application.objects.get()
    client.force_login(v.user)
    client.post(f"/m/applications/{app.pk}/decide/", {"decision": "approve"})
    agent = Agent.objects.get(user__phone="13912345678")
    assert agent.referrer == c
    assert agent.supplier == v
    assert agent.entry_due == Decimal("2000.00")
    assert agent.status == AgentStatus.APPLICANT


def test_web_reject_requires_a_note(client, chain):
    c = chain[3]
    client.post(f"/join/{c.invite_code}/", form_data())
    app = Application.objects.get()
    client.force_login(c.user)
    agents_before = Agent.objects.count()

    response = client.post(f"/m/applications/{app.pk}/decide/", {"decision": "reject", "note": "  "}, follow=True)
    assert [m.level_tag for m in messages_of(response)] == ["error"]
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING
    assert app.decided_by is None

    response = client.post(f"/m/applications/{app.pk}/decide/", {"decision": "reject", "note": "资料不全"}, follow=True)
    assert [m.level_tag for m in messages_of(response)] == ["success"]
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REJECTED
    assert app.decision_note == "资料不全"
    assert app.decided_by == c.user
    assert app.password_hash == ""
    assert Agent.objects.count() == agents_before


def test_web_decide_without_a_decision_changes_nothing(client, chain):
    c = chain[3]
    client.post(f"/join/{c.invite_code}/", form_data())
    app = Application.objects.get()
    client.force_login(c.user)
    response = client.post(f"/m/applications/{app.pk}/decide/", {"decision": "maybe"}, follow=True)
    assert [m.level_tag for m in messages_of(response)] == ["error"]
    assert Application.objects.get().status == ApplicationStatus.PENDING
    assert client.get(f"/m/applications/{app.pk}/decide/").status_code == 405


def test_rejected_applicant_may_apply_again(client, chain):
    c = chain[3]
    client.post(f"/join/{c.invite_code}/", form_data())
    client.force_login(c.user)
    client.post(f"/m/applications/{Application.objects.get().pk}/decide/", {"decision": "reject", "note": "x"})
    client.logout()
    response = client.post(f"/join/{c.invite_code}/", form_data())
    assert response.status_code == 200
    assert Application.objects.filter(status=ApplicationStatus.PENDING).count() == 1
    assert Application.objects.count() == 2


# --- deciding through the API ---------------------------------------------------------------


def test_api_approve_with_session(client, chain):
    c = chain[3]
    client.post("/api/v1/applications", api_data(invite_code=c.invite_code), content_type="application/json")
    app = Application.objects.get()
    client.force_login(c.user)
    response = client.post(f"/api/v1/applications/{app.pk}/approve", {"note": "ok"}, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    agent = Agent.objects.get(user__phone="13912345678")
    assert body["id"] == agent.pk
    assert body["status"] == "applicant"
    assert body["level"] == "vip"
    assert body["referrer"] == c.real_name
    assert body["supplier"] == c.real_name
    assert Decimal(str(body["entry_due"])) == Decimal("298")
    assert body["team_size"] == 1
    assert body["invite_code"] == agent.invite_code
    app.refresh_from_db()
    assert app.status == ApplicationStatus.APPROVED and app.agent == agent
    assert AgentTrail.objects.filter(agent=agent, kind=TrailKind.JOINED).count() == 1

    # and the new agent can see themselves through the API once logged in with their password
    client.logout()
    assert client.login(username="13912345678", password=PASSWORD)
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["id"] == agent.pk


def test_api_reject_needs_a_note(client, chain):
    c = chain[3]
    client.post("/api/v1/applications", api_data(invite_code=c.invite_code), content_type="application/json")
    app = Application.objects.get()
    client.force_login(c.user)
    response = client.post(f"/api/v1/applications/{app.pk}/reject", {}, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["note"]
    assert Application.objects.get().status == ApplicationStatus.PENDING

    response = client.post(f"/api/v1/applications/{app.pk}/reject", {"note": "不符合"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REJECTED
    assert app.decided_by == c.user
    assert not Agent.objects.filter(user__phone="13912345678").exists()


def test_api_decide_needs_login(client, chain):
    c = chain[3]
    client.post("/api/v1/applications", api_data(invite_code=c.invite_code), content_type="application/json")
    app = Application.objects.get()
    for verb in ("approve", "reject"):
        response = client.post(f"/api/v1/applications/{app.pk}/{verb}", {"note": "x"}, content_type="application/json")
        assert response.status_code == 401
    assert Application.objects.get().status == ApplicationStatus.PENDING


def test_api_decide_unknown_application_is_404(client, chain):
    client.force_login(chain[3].user)
    response = client.post("/api/v1/applications/999999/approve", {}, content_type="application/json")
    assert response.status_code == 404


def test_brand_staff_approve_brand_application(client, chain, django_user_model):
    """A 总代 applicant through a 省代's invite is approved by brand staff (operations role)."""
    v = chain[2]
    client.post(f"/join/{v.invite_code}/", form_data(level="general"))
    app = Application.objects.get()
    assert app.approver is None
    staff = django_user_model.objects.create_user(username="ops", password="x-pass-123", is_staff=True)
    staff.groups.add(roles_sync()["operations"])
    client.force_login(staff)
    response = client.post(f"/api/v1/applications/{app.pk}/approve", {}, content_type="application/json")
    assert response.status_code == 200
    agent = Agent.objects.get(user__phone="13912345678")
    assert agent.referrer == v
    assert agent.supplier == chain[0]  # the 联创 is the nearest higher upline
    assert agent.entry_due == Decimal("20000.00")
    assert AgentTrail.objects.get(agent=agent).changed_by == staff
    assert staff.groups.filter(name=role_group_name("operations")).exists()


def test_level_without_entry_amount_joins_active(client, levels, make_agent):
    free = levels["vip"]
    free.entry_amount = Decimal("0")
    free.save()
    c = make_agent("city")
    client.post(f"/join/{c.invite_code}/", form_data())
    client.force_login(c.user)
    client.post(f"/m/applications/{Application.objects.get().pk}/decide/", {"decision": "approve"})
    agent = Agent.objects.get(user__phone="13912345678")
    assert agent.status == AgentStatus.ACTIVE
    assert agent.entry_due == Decimal("0")


# --- the smallest reproduction of the PostgreSQL decision bug -------------------------------


@pytest.mark.parametrize("with_inviter", [True, False])
def test_services_decide_on_every_database(levels, make_agent, django_user_model, with_inviter):
    from weishang.channel import services

    inviter = make_agent("city") if with_inviter else None
    app = services.application_submit(
        invite_code=inviter.invite_code if inviter else None,
        phone="13912345678",
        real_name="新人",
        level_code="general",
        password=PASSWORD,
    )
    staff = django_user_model.objects.create_user(username="ops", password="x-pass-123", is_staff=True)
    staff.groups.add(roles_sync()["operations"])
    rejected = services.application_reject(application=app, by=staff, note="no")
    assert rejected.status == ApplicationStatus.REJECTED
