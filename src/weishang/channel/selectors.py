"""Reads of the channel: teams, chains, approvers. Every team query is one indexed query."""

from __future__ import annotations

import re
from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from weishang.channel.models import (
    Agent,
    AgentTrail,
    Application,
    ApplicationStatus,
    Level,
    ReferrerLink,
    TrailKind,
)
from weishang.channel.tree import Relation
from weishang.core.errors import Forbidden
from weishang.core.money import to_money
from weishang.core.selectors import unique_row
from weishang.core.validators import normalize_phone

# What ``agent_for_user`` loads with the agent; the API's token check loads the same with the token
# (``api.services.token_check``), in one query.
AGENT_RELATED = ("level", "supplier", "referrer")
# The agent found for a user object, kept on it: a request's user is loaded once per request (the
# session's, or the device token's), so the agent is looked up once per request however many
# times authentication, the route, the page and its menu ask for it.
_AGENT_CACHE = "_weishang_agent"


def agent_for_user(user) -> Agent | None:
    if not getattr(user, "is_authenticated", False):
        return None
    agent = getattr(user, _AGENT_CACHE, None)
    if agent is None:
        agent = unique_row(Agent.objects.select_related(*AGENT_RELATED, "user").filter(user=user))
        remember_agent(user, agent)
    return agent


def remember_agent(user, agent: Agent | None) -> None:
    """``agent`` is ``user``'s, loaded with ``AGENT_RELATED``: the next ``agent_for_user(user)``
    answers it without a query. (No agent is not remembered: one may be made in the same request.)"""
    if agent is not None:
        setattr(user, _AGENT_CACHE, agent)


def require_agent(user) -> Agent:
    """The agent ``user`` is, for pages and endpoints that only agents have. Anyone else (brand
    staff, an account without an agent, nobody signed in) is :class:`Forbidden`: the API answers
    403; the phone pages answer 404 instead (``weishang.web.agents.current_agent``)."""
    agent = agent_for_user(user)
    if agent is None:
        raise Forbidden(_("Only agents have this page."))
    return agent


def agent_by_invite_code(code: str) -> Agent | None:
    code = (code or "").strip().upper()
    if not code:
        return None
    return Agent.objects.select_related("level").filter(invite_code=code).first()


def team_size(*, agent: Agent | int, relation: Relation = Relation.REFERRER) -> int:
    """Members of the team, the agent included (plan-format.md: the agent plus everyone below)."""
    agent_id = getattr(agent, "pk", agent)
    return relation.link_model.objects.filter(ancestor_id=agent_id).count()


def team_member_ids(
    *,
    agent: Agent | int,
    relation: Relation = Relation.REFERRER,
    max_depth: int | None = None,
    include_self: bool = True,
) -> QuerySet:
    """A subquery of the team's agent ids, for ``pk__in`` / ``buyer_id__in`` filters."""
    agent_id = getattr(agent, "pk", agent)
    links = relation.link_model.objects.filter(ancestor_id=agent_id)
    if not include_self:
        links = links.filter(depth__gt=0)
    if max_depth is not None:
        links = links.filter(depth__lte=max_depth)
    return links.values("descendant_id")


def team_members(
    *,
    agent: Agent | int,
    relation: Relation = Relation.REFERRER,
    max_depth: int | None = None,
    include_self: bool = False,
) -> QuerySet[Agent]:
    return Agent.objects.filter(
        pk__in=team_member_ids(agent=agent, relation=relation, max_depth=max_depth, include_self=include_self)
    )


def team_sum(
    *,
    agent: Agent | int,
    queryset: QuerySet,
    agent_field: str,
    amount_field: str,
    relation: Relation = Relation.REFERRER,
) -> Decimal:
    """Sum ``amount_field`` of the rows of ``queryset`` whose ``agent_field`` is in the team.

    Trade uses it for team purchase volume; the rows are whatever the caller filtered (period,
    status). One query at any depth.
    """
    member_ids = team_member_ids(agent=agent, relation=relation)
    total = queryset.filter(**{f"{agent_field}__in": member_ids}).aggregate(
        total=Coalesce(Sum(amount_field), Value(Decimal("0")), output_field=DecimalField())
    )["total"]
    return to_money(total)


def chain_above(
    *, agent: Agent | int, relation: Relation = Relation.REFERRER, max_depth: int | None = None
) -> list[Agent]:
    """The agents above, nearest first (generation 1 = the parent)."""
    agent_id = getattr(agent, "pk", agent)
    links = relation.link_model.objects.filter(descendant_id=agent_id, depth__gt=0)
    if max_depth is not None:
        links = links.filter(depth__lte=max_depth)
    depth_of = dict(links.values_list("ancestor_id", "depth"))
    agents = Agent.objects.select_related("level").in_bulk(list(depth_of))
    return sorted(agents.values(), key=lambda a: depth_of[a.pk])


def tree_depth(*, agent: Agent | int, relation: Relation = Relation.REFERRER) -> int:
    """How many agents are above this one (0 for a root)."""
    agent_id = getattr(agent, "pk", agent)
    return relation.link_model.objects.filter(descendant_id=agent_id, depth__gt=0).count()


def direct_team(*, agent: Agent, relation: Relation = Relation.REFERRER) -> QuerySet[Agent]:
    """The direct referrals (or direct supplied agents), each with the size of their own team."""
    link = relation.link_model
    sizes = (
        link.objects.filter(ancestor_id=OuterRef("pk"))
        .order_by()
        .values("ancestor_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        Agent.objects.filter(**{relation.parent_field: agent.pk})
        .select_related("level", "user")
        .annotate(team_size=Coalesce(Subquery(sizes), Value(1)))
        .order_by("level__rank", "pk")
    )


def resolve_supplier(*, referrer: Agent | None, level: Level) -> Agent | None:
    """The nearest upline of a higher level, walking the referrer's supply chain; None = company.

    The referrer themself supplies if their level is higher. Otherwise their supplier chain is
    climbed (every supplier is of a higher level than the agent it supplies) until a higher
    level than ``level`` appears. Exited or suspended agents do not supply.
    """
    if referrer is None:
        return None
    candidates = [referrer, *chain_above(agent=referrer, relation=Relation.SUPPLIER)]
    for candidate in candidates:
        if candidate.status == "active" and candidate.level.is_higher_than(level):
            return candidate
    return None


def applications_to_decide(*, agent: Agent) -> QuerySet[Application]:
    return Application.objects.filter(approver=agent, status=ApplicationStatus.PENDING).select_related(
        "level", "inviter"
    )


def applications_for_brand() -> QuerySet[Application]:
    return Application.objects.filter(approver__isnull=True, status=ApplicationStatus.PENDING)


# --- the agent's team page (/m/team/) ---------------------------------------------------------

SEARCH_CHARS = 50
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def search_text(text: str | None) -> str:
    """What a search box sent, fit to query with: no control characters (PostgreSQL refuses a NUL
    in text), trimmed, at most SEARCH_CHARS characters."""
    return "".join(ch for ch in (text or "") if ch.isprintable())[: SEARCH_CHARS * 2].strip()[:SEARCH_CHARS]


def member_search(text: str, *, name_field: str = "real_name", phone_field: str = "user__phone") -> Q | None:
    """A filter for a search box: the name contains the text, or the phone number contains its
    digits (full-width digits, spaces and dashes allowed). None when there is nothing to look for."""
    text = search_text(text)
    if not text:
        return None
    found = Q(**{f"{name_field}__icontains": text})
    digits = normalize_phone(text)
    if digits.isascii() and digits.isdigit():
        found |= Q(**{f"{phone_field}__contains": digits})
    return found


def team_list(*, agent: Agent, whole: bool = False, level: str = "", search: str = "") -> QuerySet[Agent]:
    """The agent's direct referrals, or (``whole``) everyone below them in the referrer tree, with
    each member's level, login (for the phone) and generation (1 = direct). By level, highest
    first, then nearer generations. ``level`` (a level code) and ``search`` (name or phone digits)
    narrow it. Take a page of it, then ``with_team_sizes`` (and trade's ``with_purchases``): figures
    for the rows shown only, one query each, rather than a subquery for every member of a large team."""
    generation = ReferrerLink.objects.filter(ancestor_id=agent.pk, descendant_id=OuterRef("pk")).values("depth")[:1]
    members = team_members(agent=agent) if whole else Agent.objects.filter(referrer_id=agent.pk)
    if level:
        members = members.filter(level__code=level) if _SLUG.fullmatch(level) else members.none()
    found = member_search(search)
    if found is not None:
        members = members.filter(found)
    return (
        members.select_related("level", "user")
        .annotate(generation=Subquery(generation))
        .order_by("level__rank", "generation", "pk")
    )


def with_team_sizes(agents: list[Agent]) -> list[Agent]:
    """Set ``team_size`` (the agent and everyone below, as ``team_size``) on each agent: one query."""
    sizes = dict(
        ReferrerLink.objects.filter(ancestor_id__in=[a.pk for a in agents])
        .order_by()
        .values_list("ancestor_id")
        .annotate(n=Count("*"))
        .values_list("ancestor_id", "n")
    )
    for agent in agents:
        agent.team_size = sizes.get(agent.pk, 1)
    return agents


def team_level_counts(*, agent: Agent | int, whole: bool = False) -> list[dict]:
    """How many direct referrals (or team members, ``whole``) the agent has at each level, highest
    level first: ``[{"code", "name", "count"}, …]``. One query."""
    agent_id = getattr(agent, "pk", agent)
    links = ReferrerLink.objects.filter(ancestor_id=agent_id)
    links = links.filter(depth__gt=0) if whole else links.filter(depth=1)
    rows = (
        links.order_by()
        .values("descendant__level__code", "descendant__level__name", "descendant__level__rank")
        .annotate(n=Count("*"))
        .order_by("descendant__level__rank")
    )
    return [
        {"code": row["descendant__level__code"], "name": row["descendant__level__name"], "count": row["n"]}
        for row in rows
    ]


def phone_unavailable(phone: str) -> str | None:
    """Why ``phone`` (normalised) cannot apply to join: it is registered already, or an application
    for it awaits a decision. None when it can."""
    from django.contrib.auth import get_user_model
    from django.utils.translation import gettext as _

    if get_user_model().objects.filter(Q(phone=phone) | Q(username=phone)).exists():
        return _("The phone number %(phone)s is already registered.") % {"phone": phone}
    if Application.objects.filter(phone=phone, status=ApplicationStatus.PENDING).exists():
        return _("An application for %(phone)s is already waiting for a decision.") % {"phone": phone}
    return None


def levels_up_to(level: Level) -> list[Level]:
    """``level`` and every level below it, lowest first: the levels an agent invites people to."""
    return list(Level.objects.filter(rank__gte=level.rank).order_by("-rank"))


def has_team_work(*, agent: Agent) -> bool:
    """Whether the team pages serve the agent: an active agent invites (and so may grow a team);
    anyone else only while they have direct referrals or applications to decide."""
    from weishang.channel.models import AgentStatus

    if agent.status == AgentStatus.ACTIVE:
        return True
    return agent.referred_agents.exists() or applications_to_decide(agent=agent).exists()


def joined_by_level(*, start, end) -> dict[int, int]:
    """Agents who joined in [start, end), by the level they joined at (the relationship log's
    JOINED rows): the growth reports' "agents made"."""
    rows = (
        AgentTrail.objects.filter(kind=TrailKind.JOINED, changed_at__gte=start, changed_at__lt=end)
        .order_by()
        .values_list("new_ref")
        .annotate(n=Count("pk"))
        .values_list("new_ref", "n")
    )
    return {level: n for level, n in rows if level is not None}
