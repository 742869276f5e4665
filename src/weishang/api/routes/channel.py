"""Channel endpoints: apply through an invite, decide applications, my profile and team.

An application that is not the caller's to decide is "not found" (404), as any other record that is
not theirs, so that ids cannot be probed.
"""

# No "from __future__ import annotations": django-ninja reads the paginated views' annotations in
# its own module's namespace.
from datetime import datetime
from decimal import Decimal

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from weishang.api.errors import ERRORS
from weishang.api.pagination import Cursor
from weishang.api.params import Id, RegionCode, Text
from weishang.api.routes.team import MemberOut, TeamFilters, team_page, with_figures
from weishang.api.security import AGENT
from weishang.api.throttles import IpThrottle
from weishang.channel import selectors, services
from weishang.channel.models import Application
from weishang.core.validators import mask_phone

router = Router(tags=["channel"])


class ApplicationIn(Schema):
    invite_code: Text | None = Field(None, max_length=12)
    phone: Text = Field(..., max_length=20)
    real_name: Text = Field(..., max_length=50)
    level: Text = Field(..., max_length=32, description="level code")
    password: Text = Field(..., max_length=128)
    id_number: Text = Field("", max_length=18)
    region: RegionCode | None = Field(
        None, description="where the applicant will sell: a province, city or district (GET /public/regions)"
    )


class ApplicationOut(Schema):
    id: int
    status: str
    level: str
    approver: str | None
    phone_masked: str


class DecisionIn(Schema):
    note: Text = Field("", max_length=300)


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


def _application_out(app: Application) -> ApplicationOut:
    return ApplicationOut(
        id=app.pk,
        status=app.status,
        level=app.level.code,
        approver=app.approver.real_name if app.approver_id else None,
        phone_masked=mask_phone(app.phone),
    )


class WaitingApplicationOut(Schema):
    """An application waiting for a decision, as the approver sees it."""

    id: int
    status: str
    level: str = Field(..., description="level code applied for")
    level_name: str
    real_name: str
    phone_masked: str
    inviter: str | None = Field(..., description="the inviting agent's name; none: applied without an invite")
    approver: str | None = Field(..., description="the agent who decides; none: brand staff")
    submitted_at: datetime

    @staticmethod
    def resolve_level(app) -> str:
        return app.level.code

    @staticmethod
    def resolve_level_name(app) -> str:
        return app.level.name

    @staticmethod
    def resolve_phone_masked(app) -> str:
        return mask_phone(app.phone)

    @staticmethod
    def resolve_inviter(app) -> str | None:
        return app.inviter.real_name if app.inviter_id else None

    @staticmethod
    def resolve_approver(app) -> str | None:
        return app.approver.real_name if app.approver_id else None


def _mine_to_decide(request, application_id: int) -> Application:
    """The application, if the caller may decide it (pending or not: deciding twice is a 409);
    anyone else's is not found."""
    app = Application.objects.select_related("approver").filter(pk=application_id).first()
    if app is None or not services.application_can_decide(user=request.user, application=app):
        raise Http404
    return app


@router.post("/applications", response={201: ApplicationOut, **ERRORS}, auth=None, throttle=[IpThrottle("public")])
def application_submit(request, payload: ApplicationIn):
    app = services.application_submit(
        invite_code=payload.invite_code,
        phone=payload.phone,
        real_name=payload.real_name,
        level_code=payload.level,
        password=payload.password,
        id_number=payload.id_number,
        region=payload.region,
    )
    return Status(201, _application_out(app))


@router.get(
    "/applications",
    response={200: list[WaitingApplicationOut], **ERRORS},
    auth=AGENT,
    summary="Applications waiting for my decision",
)
@paginate(Cursor)
def applications(request):
    """The applications waiting for my decision, newest first: an agent's own applicants; for brand
    staff who decide applications, those addressed to the brand."""
    user = request.user
    if user.is_staff and user.has_perm("channel.decide_application"):
        waiting = selectors.applications_for_brand()
    else:
        waiting = selectors.applications_to_decide(agent=selectors.require_agent(request.user))
    return waiting.select_related("level", "inviter", "approver")


@router.post("/applications/{application_id}/approve", response={200: AgentOut, **ERRORS}, auth=AGENT)
def application_approve(request, application_id: Id, payload: DecisionIn):
    app = _mine_to_decide(request, application_id)
    agent = services.application_approve(application=app, by=request.user, note=payload.note)
    return _agent_out(agent)


@router.post("/applications/{application_id}/reject", response={200: ApplicationOut, **ERRORS}, auth=AGENT)
def application_reject(request, application_id: Id, payload: DecisionIn):
    app = _mine_to_decide(request, application_id)
    return _application_out(services.application_reject(application=app, by=request.user, note=payload.note))


def _agent_out(agent) -> AgentOut:
    from weishang.channel.tree import Relation

    return AgentOut(
        id=agent.pk,
        real_name=agent.real_name,
        level=agent.level.code,
        level_name=agent.level.name,
        status=agent.status,
        invite_code=agent.invite_code,
        supplier=agent.supplier.real_name if agent.supplier_id else None,
        referrer=agent.referrer.real_name if agent.referrer_id else None,
        team_size=selectors.team_size(agent=agent),
        supply_network_size=selectors.team_size(agent=agent, relation=Relation.SUPPLIER),
        entry_due=agent.entry_due,
    )


@router.get("/me", response={200: AgentOut, **ERRORS}, auth=AGENT)
def me(request):
    return _agent_out(selectors.require_agent(request.user))


@router.get(
    "/me/team",
    response={200: list[MemberOut], **ERRORS},
    auth=AGENT,
    deprecated=True,
    summary="My team (the same as GET /team)",
)
@paginate(Cursor, rows=with_figures)
def my_team(request, filters: Query[TeamFilters]):
    """The same list as ``GET /team``, kept for clients written before it."""
    return team_page(request, filters)
