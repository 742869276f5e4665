"""Writes of the channel. Each function is one transaction: it checks, changes, records why.

Every change of level, supplier, referrer, introducer or status writes an ``AgentTrail`` row
(代理轨迹) with who, when and why. Tree writers take the tree locks in one fixed order
(supplier, then referrer) so that concurrent writers cannot deadlock.
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from typing import Literal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_fsm import can_proceed

from weishang.channel import selectors, tree
from weishang.channel.models import (
    Agent,
    AgentStatus,
    AgentTrail,
    Application,
    ApplicationStatus,
    Approver,
    Level,
    TrailKind,
)
from weishang.channel.tree import Relation
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict, Forbidden, NotFound
from weishang.core.outbox import outbox_emit
from weishang.core.password_validators import password_problems
from weishang.core.text import record_text
from weishang.core.validators import clean_phone, to_ascii, validate_id_number
from weishang.regions.models import Region
from weishang.regions.selectors import region_from_input

INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud over WeChat
INVITE_LENGTH = 8


def _lock_trees() -> None:
    tree.lock(Relation.SUPPLIER)
    tree.lock(Relation.REFERRER)


def _new_invite_code() -> str:
    while True:
        code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
        if not Agent.objects.filter(invite_code=code).exists():
            return code


def _trail(agent: Agent, kind: str, *, old: object = None, new: object = None, by=None, reason: str = "") -> AgentTrail:
    return AgentTrail.objects.create(
        agent=agent,
        kind=kind,
        old_value="" if old is None else str(old)[:100],
        new_value="" if new is None else str(new)[:100],
        old_ref=getattr(old, "pk", None),
        new_ref=getattr(new, "pk", None),
        changed_by=by,
        reason=reason[:300],
    )


def _fresh(agent: Agent | None) -> Agent | None:
    return None if agent is None else Agent.objects.select_related("level").get(pk=agent.pk)


def _locked(agent: Agent | int) -> Agent:
    # Only the agent's row: locking its Level too would make every change at that level wait.
    return Agent.objects.select_for_update(of=("self",)).select_related("level").get(pk=getattr(agent, "pk", agent))


def _check_supplier(*, agent_level: Level, supplier: Agent | None) -> None:
    if supplier is None:
        return
    if supplier.status != AgentStatus.ACTIVE:
        raise BusinessError(
            _("%(name)s is not an active agent and cannot supply.") % {"name": supplier.real_name}, field="supplier"
        )
    if not supplier.level.is_higher_than(agent_level):
        raise BusinessError(
            _("A supplier must be of a higher level: %(supplier)s is %(slevel)s, the agent is %(alevel)s.")
            % {"supplier": supplier.real_name, "slevel": supplier.level.name, "alevel": agent_level.name},
            field="supplier",
        )


# --- agents ---------------------------------------------------------------------------------


@transaction.atomic
def agent_create(
    *,
    phone: str,
    real_name: str,
    level: Level,
    referrer: Agent | None = None,
    supplier: Agent | None | Literal["auto"] = "auto",
    introducer: Agent | None = None,
    id_number: str = "",
    password: str | None = None,
    password_hash: str | None = None,
    entry_paid: bool = False,
    region: Region | str | None = None,
    by=None,
    reason: str = "",
) -> Agent:
    """Create an agent with a login. ``supplier="auto"`` resolves the nearest higher upline.

    The level's entry order is recorded as owed (``entry_due``) and the agent stays an
    applicant until it is paid (M2's entry order), unless ``entry_paid`` or the level has none.
    """
    phone = clean_phone(phone)
    real_name = (real_name or "").strip()
    if not real_name:
        raise BusinessError(_("Enter the real name."), field="real_name")
    region = region_from_input(region)
    User = get_user_model()
    if User.objects.filter(Q(phone=phone) | Q(username=phone)).exists():
        raise Conflict(_("The phone number %(phone)s is already registered.") % {"phone": phone}, field="phone")
    _lock_trees()
    # Decide on the uplines as they are now, under the locks, not as the caller last read them.
    referrer = _fresh(referrer)
    introducer = _fresh(introducer)
    if supplier == "auto":
        supplier = selectors.resolve_supplier(referrer=referrer, level=level)
    else:
        supplier = _fresh(supplier)
    _check_supplier(agent_level=level, supplier=supplier)
    user = User(username=phone, phone=phone, first_name=real_name)
    if password_hash:
        user.password = password_hash
    elif password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    owed = Decimal("0") if entry_paid else level.entry_amount
    agent = Agent.objects.create(
        user=user,
        real_name=real_name,
        id_number=(id_number or "").upper(),
        level=level,
        status=AgentStatus.ACTIVE if owed == 0 else AgentStatus.APPLICANT,
        invite_code=_new_invite_code(),
        supplier=supplier,
        referrer=referrer,
        introducer=introducer,
        entry_due=owed,
        region=region,
    )
    tree.attach(Relation.SUPPLIER, agent_id=agent.pk, parent_id=getattr(supplier, "pk", None))
    tree.attach(Relation.REFERRER, agent_id=agent.pk, parent_id=getattr(referrer, "pk", None))
    row = _trail(agent, TrailKind.JOINED, new=level, by=by, reason=reason)
    if agent.status == AgentStatus.ACTIVE:
        outbox_emit(
            topic="agent.joined",
            key=str(agent.pk),
            payload={"agent": agent.pk, "level": level.code, "at": row.changed_at.isoformat()},
        )
    return agent


@transaction.atomic
def agent_move(*, agent: Agent, relation: Relation, new_parent: Agent | None, by=None, reason: str = "") -> Agent:
    """Put ``agent`` and their whole team under ``new_parent`` in one tree (None = top/company)."""
    _lock_trees()
    agent = _locked(agent)
    field = relation.value
    old_parent = getattr(agent, field)
    if (old_parent.pk if old_parent else None) == (new_parent.pk if new_parent else None):
        return agent
    if new_parent is not None:
        new_parent = Agent.objects.select_related("level").get(pk=new_parent.pk)
        if new_parent.pk == agent.pk or tree.is_in_team(relation, member_id=new_parent.pk, leader_id=agent.pk):
            raise BusinessError(
                _("%(parent)s is in %(agent)s's own team: the move would make a cycle.")
                % {"parent": new_parent.real_name, "agent": agent.real_name},
                field=field,
                code="cycle",
            )
        if new_parent.status == AgentStatus.EXITED:
            raise BusinessError(_("%(name)s has exited.") % {"name": new_parent.real_name}, field=field)
    if relation is Relation.SUPPLIER:
        _check_supplier(agent_level=agent.level, supplier=new_parent)
    tree.move(relation, agent_id=agent.pk, new_parent_id=getattr(new_parent, "pk", None))
    setattr(agent, field, new_parent)
    agent.save(update_fields=[field])
    _trail(agent, TrailKind(field), old=old_parent, new=new_parent, by=by, reason=reason)
    return agent


@transaction.atomic
def agent_set_introducer(*, agent: Agent, introducer: Agent | None, by=None, reason: str = "") -> Agent:
    agent = _locked(agent)
    if introducer is not None and introducer.pk == agent.pk:
        raise BusinessError(_("An agent cannot introduce themselves."), field="introducer")
    old = agent.introducer
    if getattr(old, "pk", None) == getattr(introducer, "pk", None):
        return agent
    agent.introducer = introducer
    agent.save(update_fields=["introducer"])
    _trail(agent, TrailKind.INTRODUCER, old=old, new=introducer, by=by, reason=reason)
    return agent


def _rehome_supplied(agent: Agent, *, by, reason: str) -> None:
    """Direct supplied agents whose level is no longer below ``agent``'s go to the next higher upline."""
    for child in Agent.objects.filter(supplier=agent).select_related("level").order_by("pk"):
        if agent.status == AgentStatus.ACTIVE and agent.level.is_higher_than(child.level):
            continue
        new_supplier = selectors.resolve_supplier(referrer=agent.supplier, level=child.level)
        tree.move(Relation.SUPPLIER, agent_id=child.pk, new_parent_id=getattr(new_supplier, "pk", None))
        old = child.supplier
        child.supplier = new_supplier
        child.save(update_fields=["supplier"])
        _trail(child, TrailKind.SUPPLIER, old=old, new=new_supplier, by=by, reason=reason)


@transaction.atomic
def agent_change_level(*, agent: Agent, level: Level, by=None, reason: str = "") -> Agent:
    """Change the level; the supplier and the supplied agents follow the "higher level" rule."""
    _lock_trees()
    agent = _locked(agent)
    old_level = agent.level
    if old_level.pk == level.pk:
        return agent
    agent.level = level
    agent.save(update_fields=["level"])
    row = _trail(agent, TrailKind.LEVEL, old=old_level, new=level, by=by, reason=reason)
    outbox_emit(
        topic="agent.level_changed",
        key=f"{agent.pk}:{row.pk}",
        payload={"agent": agent.pk, "from": old_level.code, "to": level.code, "at": row.changed_at.isoformat()},
    )
    auto = record_text(
        gettext_noop("automatic: level changed from %(old)s to %(new)s"), old=old_level.name, new=level.name
    )
    if agent.supplier_id is not None:
        supplier = Agent.objects.select_related("level").get(pk=agent.supplier_id)
        if not supplier.level.is_higher_than(level):
            new_supplier = selectors.resolve_supplier(referrer=supplier, level=level)
            tree.move(Relation.SUPPLIER, agent_id=agent.pk, new_parent_id=getattr(new_supplier, "pk", None))
            agent.supplier = new_supplier
            agent.save(update_fields=["supplier"])
            _trail(agent, TrailKind.SUPPLIER, old=supplier, new=new_supplier, by=by, reason=auto)
    _rehome_supplied(agent, by=by, reason=auto)
    return agent


_STATUS_ACTIONS = {
    "activate": "activate",
    "suspend": "suspend",
    "reinstate": "reinstate",
    "exit": "exit",
}


@transaction.atomic
def agent_set_region(*, agent: Agent, region: Region | str | None, by=None, reason: str = "") -> Agent:
    """Change where an agent is authorized to sell. It is printed on their certificate and read
    by the channel-conflict report, so it changes only here, with a trail row (who, why)."""
    region = region_from_input(region)
    agent = _locked(agent)
    if agent.region_id == getattr(region, "pk", None):
        return agent
    old = agent.region
    agent.region = region
    agent.save(update_fields=["region"])
    row = _trail(agent, TrailKind.REGION, old=old, new=region, by=by, reason=reason)
    outbox_emit(
        topic="agent.region_changed",
        key=f"{agent.pk}:{row.pk}",
        payload={"agent": agent.pk, "region": getattr(region, "pk", None), "at": row.changed_at.isoformat()},
    )
    return agent


@transaction.atomic
def agent_change_status(*, agent: Agent, action: str, by=None, reason: str = "") -> Agent:
    """Activate, suspend, reinstate or exit. An exiting or suspended agent stops supplying:
    their directly supplied agents move to the next higher upline."""
    if action not in _STATUS_ACTIONS:
        raise BusinessError(_("Unknown status change: %(action)s") % {"action": action}, field="action")
    _lock_trees()
    agent = _locked(agent)
    method = getattr(agent, _STATUS_ACTIONS[action])
    if not can_proceed(method):
        raise Conflict(
            _("An agent who is %(status)s cannot be given that status change.")
            % {"status": agent.get_status_display()},
            field="status",
        )
    old = agent.status
    method()
    if action == "activate":
        agent.entry_due = Decimal("0")
    agent.save(update_fields=["status", "entry_due"])
    row = _trail(agent, TrailKind.STATUS, old=old, new=agent.status, by=by, reason=reason)
    if action == "activate":  # the entry order is filled: the agent has joined (per-head rewards)
        outbox_emit(
            topic="agent.joined",
            key=str(agent.pk),
            payload={"agent": agent.pk, "level": agent.level.code, "at": row.changed_at.isoformat()},
        )
    elif action == "exit":  # the returns (buyback) rule applies to the stock left
        outbox_emit(
            topic="agent.exited",
            key=f"{agent.pk}:{row.pk}",
            payload={"agent": agent.pk, "at": row.changed_at.isoformat()},
        )
    else:  # suspended or reinstated: their authorization certificate follows
        outbox_emit(
            topic="agent.suspended" if action == "suspend" else "agent.reinstated",
            key=f"{agent.pk}:{row.pk}",
            payload={"agent": agent.pk, "at": row.changed_at.isoformat()},
        )
    if action in {"suspend", "exit"}:
        _rehome_supplied(
            agent,
            by=by,
            reason=record_text(
                gettext_noop("automatic: supplier %(name)s is %(status)s"),
                name=agent.real_name,
                status=AgentStatus(agent.status).label,
            ),
        )
    return agent


# --- applications ---------------------------------------------------------------------------


_SOURCE_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


@transaction.atomic
def application_submit(
    *,
    invite_code: str | None,
    phone: str,
    real_name: str,
    level_code: str,
    password: str,
    id_number: str = "",
    region: Region | str | None = None,
    source: str = "",
) -> Application:
    """Apply for a level through an agent's invite code (or the brand's own link when empty).
    ``region``: where the applicant will sell (a GB/T 2260 code); the approval keeps it.
    ``source``: the tracked link's src parameter (an ad placement's code; kept as given, at most 40
    characters of letters, digits, ``-`` and ``_``, anything else dropped). The application is
    reported on the outbox (``application.submitted``): the leads app makes it an invited lead."""
    inviter = None
    if invite_code:
        inviter = selectors.agent_by_invite_code(invite_code)
        if inviter is None:
            raise NotFound(_("The invite code %(code)s does not exist.") % {"code": invite_code}, field="invite_code")
        if inviter.status != AgentStatus.ACTIVE:
            raise BusinessError(_("This invite link is no longer valid: the agent is not active."), field="invite_code")
    phone = clean_phone(phone)
    real_name = (real_name or "").strip()
    if not real_name:
        raise BusinessError(_("Enter your real name."), field="real_name")
    id_number = to_ascii(id_number).strip().upper()
    if id_number:
        try:
            validate_id_number(id_number)
        except ValidationError as exc:
            raise BusinessError(exc.messages[0], field="id_number") from exc
    level = Level.objects.filter(code=level_code).first()
    if level is None:
        raise BusinessError(_("Choose a level."), field="level")
    region = region_from_input(region)
    problems = password_problems(password or "")
    if problems:
        raise BusinessError(problems[0], field="password")
    taken = selectors.phone_unavailable(phone)
    if taken:
        raise Conflict(taken, field="phone")
    approver = None
    if level.approver == Approver.SUPPLIER:
        approver = selectors.resolve_supplier(referrer=inviter, level=level)
    try:
        with transaction.atomic():
            application = Application.objects.create(
                phone=phone,
                real_name=real_name,
                id_number=id_number,
                password_hash=make_password(password),
                level=level,
                inviter=inviter,
                approver=approver,
                region=region,
                source=source if _SOURCE_RE.match(source or "") else "",
            )
            outbox_emit(
                topic="application.submitted",
                key=str(application.pk),
                payload={
                    "application": application.pk,
                    "phone": phone,
                    "name": real_name,
                    "region": getattr(region, "code", ""),
                    "inviter": getattr(inviter, "pk", None),
                    "level": level.code,
                    "source": application.source,
                },
            )
            return application
    except IntegrityError as exc:  # a concurrent submit for the same phone won the race
        raise Conflict(
            _("An application for %(phone)s is already waiting for a decision.") % {"phone": phone}, field="phone"
        ) from exc


def application_can_decide(*, user, application: Application) -> bool:
    """The approver agent decides their own applicants; brand staff with the permission decide
    the ones addressed to the brand (and may step in for any)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff and user.has_perm("channel.decide_application"):
        return True
    approver = application.approver
    return approver is not None and approver.user_id == user.pk and approver.status == AgentStatus.ACTIVE


def _locked_pending(application: Application, user) -> Application:
    # Lock only the application row: PostgreSQL refuses FOR UPDATE on the nullable side of the
    # outer joins that select_related makes for inviter and approver.
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("level", "inviter", "approver")
        .get(pk=application.pk)
    )
    if not application_can_decide(user=user, application=application):
        raise Forbidden(_("This application is not yours to decide."))
    if application.status != ApplicationStatus.PENDING:
        raise Conflict(
            _("This application has already been decided (%(status)s).") % {"status": application.get_status_display()}
        )
    return application


def _record_decision(application: Application, *, by, note: str) -> None:
    application.decided_by = by
    application.decided_at = clock.now()
    application.decision_note = note[:300]
    application.password_hash = ""  # the agent's login has it now, or nobody needs it
    application.save()


@transaction.atomic
def application_approve(*, application: Application, by, note: str = "") -> Agent:
    """Approve: create the agent with referrer = inviter and supplier resolved now."""
    application = _locked_pending(application, by)
    agent = agent_create(
        phone=application.phone,
        real_name=application.real_name,
        id_number=application.id_number,
        level=application.level,
        referrer=application.inviter,
        region=application.region,
        password_hash=application.password_hash,
        by=by,
        reason=record_text(gettext_noop("application #%(id)s approved"), id=application.pk),
    )
    application.approve()
    application.agent = agent
    _record_decision(application, by=by, note=note)
    return agent


@transaction.atomic
def application_reject(*, application: Application, by, note: str = "") -> Application:
    application = _locked_pending(application, by)
    if not note.strip():
        raise BusinessError(_("Say why the application is rejected."), field="note")
    application.reject()
    _record_decision(application, by=by, note=note)
    return application


WECHAT_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{5,19}$")


@transaction.atomic
def agent_set_wechat_id(*, agent: Agent, wechat_id: str, by) -> Agent:
    """The agent's WeChat id (微信号), by which customers check their authorization on /verify/.
    The agent sets their own (or staff who may change agents); WeChat's rule: 6–20 letters, digits,
    underscores or dashes, starting with a letter. Two agents cannot share one."""
    mine = agent.user_id == getattr(by, "pk", None)
    if not (mine or (getattr(by, "is_staff", False) and by.has_perm("channel.change_agent"))):
        raise Forbidden(_("You may only change your own WeChat id."))
    wechat_id = to_ascii(wechat_id or "").strip()
    if wechat_id and not WECHAT_ID_RE.match(wechat_id):
        raise BusinessError(
            _("A WeChat id is 6 to 20 letters, digits, _ or -, starting with a letter."), field="wechat_id"
        )
    agent = _locked(agent)
    if wechat_id and Agent.objects.filter(wechat_id__iexact=wechat_id).exclude(pk=agent.pk).exists():
        raise Conflict(_("Another agent has this WeChat id."), field="wechat_id")
    agent.wechat_id = wechat_id
    agent.save(update_fields=["wechat_id"])
    return agent
