"""My leads (M10): the leads I own, adding one, a lead with its history, and recording a
follow-up — the same services as the phone page /m/leads/ (``leads.services``). Another agent's
lead is "not found", so ids cannot be probed."""

# No "from __future__ import annotations": django-ninja reads the views' annotations in its own
# module's namespace when they are wrapped.
from datetime import datetime

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from weishang.api.errors import ERRORS
from weishang.api.pagination import Cursor
from weishang.api.params import Id, RegionCode, Text
from weishang.api.security import AGENT
from weishang.channel.selectors import require_agent
from weishang.leads import selectors, services
from weishang.leads.models import LeadChannel, LeadStage

router = Router(tags=["leads"])


class LeadFilters(Schema):
    stage: Text = Field("", max_length=12, description="only leads at this stage")
    q: Text = Field("", max_length=40, description="a name, phone digits or a WeChat id")


class LeadIn(Schema):
    name: Text = Field(..., min_length=1, max_length=50)
    phone: Text = Field("", max_length=20, description="an 11-digit mainland mobile number, or empty")
    wechat_id: Text = Field("", max_length=40, description="a WeChat id, or empty; one of the two is needed")
    region: RegionCode | None = None
    channel: LeadChannel = Field(LeadChannel.OWN_NETWORK, description="where they came from")
    note: Text = Field("", max_length=500)
    remind_at: datetime | None = Field(None, description="when to follow up next")


class FollowUpIn(Schema):
    text: Text = Field(..., min_length=1, max_length=500, description="what was said or done")
    stage: LeadStage | None = Field(None, description="the new stage (forward, or lost); converted is automatic")
    remind_at: datetime | None = Field(None, description="when to follow up next")


class NoteOut(Schema):
    at: datetime
    kind: str
    text: str
    stage_from: str
    stage_to: str


class LeadOut(Schema):
    id: int
    name: str
    phone: str
    wechat_id: str
    region: str | None
    channel: str
    stage: str
    stage_name: str
    remind_at: datetime | None
    follow_up_due: bool
    agent_id: int | None = Field(..., description="the agent they became, once converted")
    created_at: datetime

    @staticmethod
    def resolve_region(lead) -> str | None:
        return lead.region_id

    @staticmethod
    def resolve_stage_name(lead) -> str:
        return str(lead.get_stage_display())

    @staticmethod
    def resolve_follow_up_due(lead) -> bool:
        from weishang.core import clock

        return lead.stage in selectors.OPEN_STAGES and lead.remind_at is not None and lead.remind_at <= clock.now()


class LeadDetailOut(Schema):
    lead: LeadOut
    history: list[NoteOut]


def _mine(request, lead_id: int):
    me = require_agent(request.user)
    lead = selectors.lead_of(agent=me, pk=lead_id)
    if lead is None:
        raise Http404
    return me, lead


@router.get("/leads", response={200: list[LeadOut], **ERRORS}, auth=AGENT, summary="My leads")
@paginate(Cursor)
def lead_list(request, filters: Query[LeadFilters]):
    """The leads I own: follow-ups due first, then the newest."""
    me = require_agent(request.user)
    return selectors.leads_of(agent=me, stage=filters.stage.strip(), search=filters.q)


@router.post("/leads", response={201: LeadOut, **ERRORS}, auth=AGENT, summary="Add a lead")
def lead_add(request, payload: LeadIn):
    """A person I talk to becomes my lead; a phone or WeChat id already known is 409 with who owns it."""
    me = require_agent(request.user)
    lead = services.lead_create(
        name=payload.name,
        phone=payload.phone,
        wechat_id=payload.wechat_id,
        region=payload.region,
        channel=payload.channel,
        owner_agent=me,
        note=payload.note,
        remind_at=payload.remind_at,
        by=request.user,
    )
    return Status(201, lead)


@router.get("/leads/{lead_id}", response={200: LeadDetailOut, **ERRORS}, auth=AGENT, summary="A lead of mine")
def lead_detail(request, lead_id: Id):
    _me, lead = _mine(request, lead_id)
    return LeadDetailOut(lead=lead, history=list(selectors.lead_history(lead)[:100]))


@router.post("/leads/{lead_id}/follow-ups", response={200: LeadOut, **ERRORS}, auth=AGENT, summary="Record a follow-up")
def lead_follow_up(request, lead_id: Id, payload: FollowUpIn):
    _me, lead = _mine(request, lead_id)
    return services.lead_follow_up(
        lead=lead, by=request.user, text=payload.text, stage=payload.stage or "", remind_at=payload.remind_at
    )
