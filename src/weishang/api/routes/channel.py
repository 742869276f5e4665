"""Channel endpoints: apply through an invite, decide applications, my profile and team."""

from __future__ import annotations

from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from weishang.api.errors import ERRORS
from weishang.api.security import AGENT
from weishang.api.throttles import IpThrottle
from weishang.channel import selectors, services
from weishang.channel.models import Application
from weishang.core.errors import Forbidden

router = Router(tags=["channel"])


class ApplicationIn(Schema):
    invite_code: str | None = Field(None, max_length=12)
    phone: str = Field(..., max_length=20)
    real_name: str = Field(..., max_length=50)
    level: str = Field(..., max_length=32, description="level code")
    password: str = Field(..., max_length=128)
    id_number: str = Field("", max_length=18)


class ApplicationOut(Schema):
    id: int
    status: str
    level: str
    approver: str | None
    phone_masked: str


class DecisionIn(Schema):
    note: str = Field("", max_length=300)


class AgentOut(Schema):
    id: int
    real_name: str
    level: str
    level_name: str
    status: str
    invite_code: str
    supplier: str | None
    referrer: str | None
    team_size: int
    supply_network_size: int
    entry_due: Decimal


class TeamMemberOut(Schema):
    id: int
    real_name: str
    level_name: str
    status: str
    team_size: int


def _application_out(app: Application) -> ApplicationOut:
    from weishang.core.validators import mask_phone

    return ApplicationOut(
        id=app.pk, status=app.status, level=app.level.code,
        approver=app.approver.real_name if app.approver_id else None, phone_masked=mask_phone(app.phone),
    )


def _me(request):
    agent = selectors.agent_for_user(request.user)
    if agent is None:
        raise Forbidden(_("Only agents have this page."))
    return agent


@router.post("/applications", response={201: ApplicationOut, **ERRORS}, auth=None, throttle=[IpThrottle("public")])
def application_submit(request, payload: ApplicationIn):
    app = services.application_submit(
        invite_code=payload.invite_code, phone=payload.phone, real_name=payload.real_name,
        level_code=payload.level, password=payload.password, id_number=payload.id_number,
    )
    return Status(201, _application_out(app))


@router.post("/applications/{application_id}/approve", response={200: AgentOut, **ERRORS}, auth=AGENT)
def application_approve(request, application_id: int, payload: DecisionIn):
    app = get_object_or_404(Application, pk=application_id)
    agent = services.application_approve(application=app, by=request.user, note=payload.note)
    return _agent_out(agent)


@router.post("/applications/{application_id}/reject", response={200: ApplicationOut, **ERRORS}, auth=AGENT)
def application_reject(request, application_id: int, payload: DecisionIn):
    app = get_object_or_404(Application, pk=application_id)
    return _application_out(services.application_reject(application=app, by=request.user, note=payload.note))


def _agent_out(agent) -> AgentOut:
    from weishang.channel.tree import Relation

    return AgentOut(
        id=agent.pk, real_name=agent.real_name, level=agent.level.code, level_name=agent.level.name,
        status=agent.status, invite_code=agent.invite_code,
        supplier=agent.supplier.real_name if agent.supplier_id else None,
        referrer=agent.referrer.real_name if agent.referrer_id else None,
        team_size=selectors.team_size(agent=agent),
        supply_network_size=selectors.team_size(agent=agent, relation=Relation.SUPPLIER),
        entry_due=agent.entry_due,
    )


@router.get("/me", response={200: AgentOut, **ERRORS}, auth=AGENT)
def me(request):
    return _agent_out(_me(request))


@router.get("/me/team", response={200: list[TeamMemberOut], **ERRORS}, auth=AGENT)
def my_team(request):
    agent = _me(request)
    return [
        TeamMemberOut(id=a.pk, real_name=a.real_name, level_name=a.level.name, status=a.status, team_size=a.team_size)
        for a in selectors.direct_team(agent=agent)[:200]
    ]
