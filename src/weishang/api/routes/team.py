"""My team (referrer tree): direct members or the whole team, by level, searched by name or phone
digits, each with this month's purchases; one member of my team with their own direct members.

The same selectors as the phone page /m/team/ (``channel.selectors.team_list``,
``channel.selectors.with_team_sizes``, ``trade.selectors.with_purchases``): the figures are
computed for the page shown. Anyone outside my team is "not found", so ids cannot be probed.
"""

# No "from __future__ import annotations": django-ninja reads the paginated views' annotations in
# its own module's namespace.
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from weishang.api.errors import ERRORS
from weishang.api.pagination import Cursor
from weishang.api.params import Id, Text
from weishang.api.security import AGENT
from weishang.channel import selectors
from weishang.channel.models import Agent
from weishang.channel.tree import Relation, is_in_team
from weishang.core import clock
from weishang.core.money import to_money
from weishang.core.validators import mask_phone
from weishang.trade.selectors import with_purchases

router = Router(tags=["team"])
MEMBERS_SHOWN = 100
ZERO = Decimal("0.00")


class TeamFilters(Schema):
    whole: bool = Field(False, description="the whole team below me (true) or my direct referrals only (false)")
    level: Text = Field("", max_length=32, description="a level code: only members at this level")
    q: Text = Field("", max_length=selectors.SEARCH_CHARS, description="a name, or digits of a phone number")
    of: Id | None = Field(None, description="list the team of this member of my team instead of mine")


class MemberOut(Schema):
    id: int
    real_name: str
    phone_masked: str
    level: str = Field(..., description="level code")
    level_name: str
    status: str
    joined_at: datetime
    team_size: int = Field(..., description="their team, themselves included")
    generation: int | None = Field(..., description="1 = a direct referral of the team's leader")
    purchases_this_month: Decimal = Field(
        ..., description="their own entry, upgrade and restock orders completed this month"
    )

    @staticmethod
    def resolve_phone_masked(agent) -> str:
        return mask_phone(agent.user.phone or "")

    @staticmethod
    def resolve_level(agent) -> str:
        return agent.level.code

    @staticmethod
    def resolve_level_name(agent) -> str:
        return agent.level.name

    @staticmethod
    def resolve_team_size(agent) -> int:
        return getattr(agent, "team_size", 1)

    @staticmethod
    def resolve_generation(agent) -> int | None:
        return getattr(agent, "generation", None)

    @staticmethod
    def resolve_purchases_this_month(agent) -> Decimal:
        return to_money(getattr(agent, "purchases", None) or ZERO)


class LevelCountOut(Schema):
    level: str
    level_name: str
    count: int


class ChainAgentOut(Schema):
    id: int
    real_name: str
    level_name: str


class MemberDetailOut(Schema):
    member: MemberOut
    referrer_id: int | None
    chain: list[ChainAgentOut] = Field(
        ..., description="the agents between me and this member, nearest to the member first"
    )
    team_size: int
    level_counts: list[LevelCountOut] = Field(..., description="their direct referrals at each level")
    members: list[MemberOut] = Field(
        ..., description=f"their direct referrals (the first {MEMBERS_SHOWN}; GET /team?of=<id> pages through all)"
    )
    members_total: int


def _month_start() -> datetime:
    return clock.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _in_my_team(me: Agent, agent_id: int) -> Agent:
    """A member of my referrer team (or me); anyone else is not found."""
    if agent_id != me.pk and not is_in_team(Relation.REFERRER, member_id=agent_id, leader_id=me.pk):
        raise Http404
    return get_object_or_404(Agent.objects.select_related("level", "user"), pk=agent_id)


def team_of(leader: Agent, *, whole: bool = False, level: str = "", q: str = "") -> QuerySet[Agent]:
    return selectors.team_list(agent=leader, whole=whole, level=level, search=q)


def with_figures(agents: list[Agent]) -> list[Agent]:
    """Each member's team size and this month's purchases: one query each for the whole page."""
    return with_purchases(selectors.with_team_sizes(agents), start=_month_start(), end=clock.now())


def team_page(request, filters: TeamFilters) -> QuerySet[Agent]:
    me = selectors.require_agent(request.user)
    leader = me if filters.of is None else _in_my_team(me, filters.of)
    return team_of(leader, whole=filters.whole, level=filters.level.strip(), q=filters.q)


@router.get("", response={200: list[MemberOut], **ERRORS}, auth=AGENT, summary="My team")
@paginate(Cursor, rows=with_figures)
def team(request, filters: Query[TeamFilters]):
    """My direct referrals, or (``whole=true``) everyone below me in the referrer tree, newest first;
    ``of`` lists the team of one member of my team instead."""
    return team_page(request, filters)


@router.get("/{agent_id}", response={200: MemberDetailOut, **ERRORS}, auth=AGENT, summary="A member of my team")
def member(request, agent_id: Id):
    """A member of my referrer team (or myself): their profile, the agents between us, and their
    direct referrals. Anyone outside my team is 404."""
    me = selectors.require_agent(request.user)
    found = _in_my_team(me, agent_id)
    if found.pk == me.pk:
        found.generation = 0
        row = found
    else:
        row = team_of(me, whole=True).get(pk=found.pk)
    [row] = with_figures([row])
    # The agents between us: my member at generation g has g - 1 of them.
    chain = selectors.chain_above(agent=found, max_depth=row.generation - 1) if row.generation > 1 else []
    members = team_of(found)
    return {
        "member": row,
        "referrer_id": found.referrer_id,
        "chain": [{"id": a.pk, "real_name": a.real_name, "level_name": a.level.name} for a in chain],
        "team_size": row.team_size,
        "level_counts": [
            {"level": c["code"], "level_name": c["name"], "count": c["count"]}
            for c in selectors.team_level_counts(agent=found)
        ],
        "members": with_figures(list(members[:MEMBERS_SHOWN])),
        "members_total": members.count(),
    }
