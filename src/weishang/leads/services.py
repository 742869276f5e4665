"""Leads: capture, follow-up, stages, owners, ad spend, imports; and the outbox events that move
a lead by themselves (an application through an invite or tracked link, an agent joining).

- ``lead_capture`` is the one way a lead is found-or-created from outside (an application, a
  meeting's check-in, an import): matched by phone, then WeChat id; its stage only moves forward.
- ``lead_create`` is a person adding a lead by hand: a known phone or WeChat id is refused with
  who owns it, so two owners never chase one person.
- ``leads_follow_events`` follows ``application.submitted`` (→ invited, with the inviter as owner
  and the tracked link's placement) and ``agent.joined`` (→ converted, linked to the agent).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from weishang.channel.models import Agent
from weishang.channel.selectors import team_member_ids
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.money import to_money
from weishang.core.outbox import outbox_follow
from weishang.core.validators import PHONE_RE, normalize_phone, to_ascii
from weishang.leads.models import (
    STAGE_ORDER,
    AdPlacement,
    AdSpend,
    Lead,
    LeadChannel,
    LeadImport,
    LeadNote,
    LeadStage,
    NoteKind,
)
from weishang.regions.models import Region
from weishang.regions.selectors import region_from_input

WECHAT_ID_MAX = 40
NAME_MAX = 50
NOTE_MAX = 500


def _clean_contact(phone: str, wechat_id: str) -> tuple[str, str]:
    phone = normalize_phone(phone or "")
    if phone and not PHONE_RE.match(phone):
        raise BusinessError(_("Enter an 11-digit mainland mobile number, such as 13800138000."), field="phone")
    wechat_id = to_ascii(wechat_id or "").strip()
    if len(wechat_id) > WECHAT_ID_MAX or any(c.isspace() for c in wechat_id):
        raise BusinessError(_("A WeChat id has no spaces and at most 40 characters."), field="wechat_id")
    if not phone and not wechat_id:
        raise BusinessError(_("Enter a phone number or a WeChat id."), field="phone")
    return phone, wechat_id


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise BusinessError(_("Enter the lead's name."), field="name")
    if len(name) > NAME_MAX:
        raise BusinessError(_("A name has at most 50 characters."), field="name")
    return name


def _channel(value: str) -> str:
    if value not in LeadChannel.values:
        raise BusinessError(_("Choose a channel."), field="channel")
    return value


def _rank(stage: str) -> int:
    return STAGE_ORDER.index(LeadStage(stage)) if stage in STAGE_ORDER else -1


def _note(lead: Lead, kind: str, *, by=None, text: str = "", old: str = "", new: str = "", at=None) -> None:
    LeadNote.objects.create(
        lead=lead, kind=kind, by=by, text=text[:NOTE_MAX], stage_from=old, stage_to=new, at=at or clock.now()
    )


def _find(phone: str, wechat_id: str) -> Lead | None:
    q = Q(pk__in=[])
    if phone:
        q |= Q(phone=phone)
    if wechat_id:
        q |= Q(wechat_id=wechat_id)
    return Lead.objects.select_for_update().filter(q).order_by("pk").first()


def _advance(lead: Lead, stage: str, *, by=None, text: str = "", at=None) -> bool:
    """Move ``lead`` forward to ``stage`` (never back; a lost lead that shows up again reopens)."""
    if lead.stage == LeadStage.CONVERTED:
        return False
    if lead.stage != LeadStage.LOST and _rank(stage) <= _rank(lead.stage):
        return False
    old = lead.stage
    lead.stage = stage
    lead.stage_changed_at = at or clock.now()
    _note(lead, NoteKind.STAGE, by=by, text=text, old=old, new=stage, at=at)
    return True


@transaction.atomic
def lead_capture(
    *,
    name: str,
    phone: str = "",
    wechat_id: str = "",
    region: Region | str | None = None,
    channel: str = LeadChannel.OTHER,
    placement: AdPlacement | None = None,
    owner_agent: Agent | None = None,
    stage: str = LeadStage.NEW,
    by=None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Lead:
    """Find the lead with this phone (or WeChat id) or create it; move it forward to ``stage``.

    A known lead keeps its channel, placement and owner (the first touch brought them); it gains a
    contact, region or owner it lacked. Safe under concurrency: a racing insert of the same phone
    is caught and the winner's row updated."""
    name = _clean_name(name)
    phone, wechat_id = _clean_contact(phone, wechat_id)
    _channel(channel)
    if stage not in STAGE_ORDER or stage == LeadStage.CONVERTED:
        raise BusinessError(_("A lead is captured as new, contacted, invited or attended."), field="stage")
    region = region_from_input(region) if isinstance(region, str) else region
    lead = _find(phone, wechat_id)
    if lead is None:
        try:
            with transaction.atomic():
                lead = Lead.objects.create(
                    name=name,
                    phone=phone,
                    wechat_id=wechat_id,
                    region=region,
                    channel=channel,
                    placement=placement,
                    owner_agent=owner_agent,
                    stage=stage,
                    stage_changed_at=at or clock.now(),
                    created_at=at or clock.now(),
                )
        except IntegrityError:
            lead = _find(phone, wechat_id)
            if lead is None:
                raise
        else:
            _note(lead, NoteKind.CAPTURE, by=by, text=note, new=stage, at=at)
            return lead
    changed = _advance(lead, stage, by=by, text=note, at=at)
    for field, value in (("phone", phone), ("wechat_id", wechat_id), ("region", region), ("owner_agent", owner_agent)):
        if value and not getattr(lead, field) and not _taken(field, value, lead):
            setattr(lead, field, value)
            changed = True
    if changed:
        lead.save()
    elif note:
        _note(lead, NoteKind.NOTE, by=by, text=note, at=at)
    return lead


def _taken(field: str, value: Any, lead: Lead) -> bool:
    if field not in ("phone", "wechat_id"):
        return False
    return Lead.objects.filter(**{field: value}).exclude(pk=lead.pk).exists()


def _owner_name(lead: Lead) -> str:
    if lead.owner_agent is not None:
        return lead.owner_agent.real_name
    if lead.owner_staff_id:
        return str(lead.owner_staff)
    return _("the brand")


@transaction.atomic
def lead_create(
    *,
    name: str,
    phone: str = "",
    wechat_id: str = "",
    region: Region | str | None = None,
    channel: str,
    placement: AdPlacement | None = None,
    owner_agent: Agent | None = None,
    owner_staff=None,
    note: str = "",
    remind_at: dt.datetime | None = None,
    by,
) -> Lead:
    """A person adds a lead by hand. A phone or WeChat id already known is refused, naming the owner."""
    name = _clean_name(name)
    phone, wechat_id = _clean_contact(phone, wechat_id)
    _channel(channel)
    remind_at = _reminder(remind_at)
    region = region_from_input(region) if isinstance(region, str) or region is None else region
    known = _find(phone, wechat_id)
    if known is not None:
        raise Conflict(
            _("This person is already a lead (%(name)s), followed up by %(owner)s.")
            % {"name": known.name, "owner": _owner_name(known)},
            field="phone" if phone and known.phone == phone else "wechat_id",
        )
    try:
        with transaction.atomic():
            lead = Lead.objects.create(
                name=name,
                phone=phone,
                wechat_id=wechat_id,
                region=region,
                channel=channel,
                placement=placement,
                owner_agent=owner_agent,
                owner_staff=owner_staff,
                remind_at=remind_at,
            )
    except IntegrityError as exc:
        raise Conflict(_("This person is already a lead."), field="phone") from exc
    _note(lead, NoteKind.CAPTURE, by=by, text=note, new=LeadStage.NEW)
    return lead


def lead_can_edit(*, user, lead: Lead) -> bool:
    """Staff with the permission edit any lead; an agent edits the leads they own."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff:
        return user.has_perm("leads.change_lead")
    agent = getattr(user, "agent", None)
    return agent is not None and lead.owner_agent_id == agent.pk


def _locked(lead: Lead, user) -> Lead:
    if not lead_can_edit(user=user, lead=lead):
        raise Forbidden(_("You may not change this lead."))
    return Lead.objects.select_for_update().get(pk=lead.pk)


def _reminder(at: dt.datetime | None) -> dt.datetime | None:
    """A reminder's time in UTC: an offset PostgreSQL cannot store (beyond ±15:59, such as
    ``-16:16``) or a date past the calendar's end is a clear error, not a database failure."""
    if at is None:
        return None
    try:
        return (at if timezone.is_aware(at) else timezone.make_aware(at)).astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise BusinessError(_("The next follow-up must be a real date and time."), field="remind_at") from None


@transaction.atomic
def lead_follow_up(*, lead: Lead, by, text: str, remind_at: dt.datetime | None = None, stage: str = "") -> Lead:
    """A dated follow-up note, optionally moving the stage and setting the next reminder.

    Stages move forward, or to lost (with the note as the reason); a lost lead may be reopened.
    Converted is reached only when the lead becomes an agent."""
    lead = _locked(lead, by)
    text = (text or "").strip()
    if not text:
        raise BusinessError(_("Write what was said or done."), field="text")
    if len(text) > NOTE_MAX:
        raise BusinessError(_("A note has at most 500 characters."), field="text")
    remind_at = _reminder(remind_at)
    if remind_at is not None and remind_at <= clock.now():
        raise BusinessError(_("The next follow-up must be in the future."), field="remind_at")
    if stage and stage != lead.stage:
        if stage not in LeadStage.values:
            raise BusinessError(_("Choose a stage."), field="stage")
        if stage == LeadStage.CONVERTED or lead.stage == LeadStage.CONVERTED:
            raise BusinessError(_("A lead is converted when they become an agent, and stays converted."), field="stage")
        if stage == LeadStage.LOST:
            _note(lead, NoteKind.STAGE, by=by, text=text, old=lead.stage, new=stage)
            lead.stage = stage
            lead.stage_changed_at = clock.now()
        elif lead.stage == LeadStage.LOST or _rank(stage) > _rank(lead.stage):
            _note(lead, NoteKind.STAGE, by=by, text=text, old=lead.stage, new=stage)
            lead.stage = stage
            lead.stage_changed_at = clock.now()
        else:
            raise BusinessError(_("A lead's stage only moves forward."), field="stage")
    else:
        _note(lead, NoteKind.NOTE, by=by, text=text)
    lead.remind_at = remind_at
    lead.save(update_fields=["stage", "stage_changed_at", "remind_at"])
    return lead


@transaction.atomic
def lead_assign(*, lead: Lead, by, owner_agent: Agent | None = None, owner_staff=None) -> Lead:
    """Give the lead to an agent or a staff member (staff only; an agent may pass a lead they own
    to an agent in their own team)."""
    lead = _locked(lead, by)
    if owner_agent is not None and owner_staff is not None:
        raise BusinessError(_("A lead has one owner: an agent or a staff member."), field="owner")
    if not by.is_staff:
        team = team_member_ids(agent=by.agent, include_self=False)
        if owner_staff is not None or owner_agent is None or not team.filter(descendant_id=owner_agent.pk).exists():
            raise Forbidden(_("You may pass a lead only to an agent in your own team."), field="owner")
    old = _owner_name(lead)
    lead.owner_agent = owner_agent
    lead.owner_staff = owner_staff
    lead.save(update_fields=["owner_agent", "owner_staff"])
    _note(lead, NoteKind.OWNER, by=by, text=f"{old} → {_owner_name(lead)}")
    return lead


# --- ad placements and their spend ----------------------------------------------------------


@transaction.atomic
def ad_spend_record(
    *, placement: AdPlacement, day: dt.date, amount: Decimal | str, by, clicks: int = 0, note: str = ""
) -> AdSpend:
    """Record a day's spend on a placement. A correction is a negative amount with a note."""
    try:
        value = to_money(Decimal(str(amount)) if not isinstance(amount, Decimal) else amount)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise BusinessError(_("Enter an amount in yuan, such as 1200.00."), field="amount") from exc
    if not value.is_finite() or abs(value) >= Decimal("1e10"):
        raise BusinessError(_("Enter an amount in yuan, such as 1200.00."), field="amount")
    if value == 0:
        raise BusinessError(_("The amount cannot be zero."), field="amount")
    if value < 0 and not (note or "").strip():
        raise BusinessError(_("Say why: a negative amount corrects an earlier one."), field="note")
    if clicks < 0:
        raise BusinessError(_("Clicks cannot be negative."), field="clicks")
    if day > clock.today():
        raise BusinessError(_("Spend is recorded for today or earlier."), field="day")
    return AdSpend.objects.create(placement=placement, day=day, amount=value, clicks=clicks, note=note, recorded_by=by)


def placement_for_source(source: str) -> AdPlacement | None:
    source = (source or "").strip()[:40]
    return AdPlacement.objects.filter(code=source).first() if source else None


# --- events that move leads by themselves ----------------------------------------------------


def _on_application(payload: dict, at: dt.datetime | None) -> None:
    placement = placement_for_source(payload.get("source", ""))
    inviter_id = payload.get("inviter")
    inviter = Agent.objects.filter(pk=int(inviter_id)).first() if inviter_id else None
    if placement is not None:
        channel = placement.channel
    elif inviter is not None:
        channel = LeadChannel.REFERRAL
    else:
        channel = LeadChannel.OTHER
    try:
        lead_capture(
            name=payload.get("name") or "?",
            phone=payload.get("phone", ""),
            region=payload.get("region") or None,
            channel=channel,
            placement=placement,
            owner_agent=inviter,
            stage=LeadStage.INVITED,
            note=_("Applied to join"),
            at=at,
        )
    except BusinessError:  # an application's phone was checked when it was made; skip what is not a lead
        return


def _on_joined(payload: dict, at: dt.datetime | None) -> None:
    agent = Agent.objects.select_related("user").filter(pk=int(payload.get("agent") or 0)).first()
    if agent is None or Lead.objects.filter(agent=agent).exists():
        return
    phone = agent.user.phone or ""
    lead = _find(phone, agent.wechat_id) if (phone or agent.wechat_id) else None
    if lead is None or lead.agent_id is not None:
        return
    old = lead.stage
    lead.stage = LeadStage.CONVERTED
    lead.stage_changed_at = at or clock.now()
    lead.agent = agent
    lead.converted_at = at or clock.now()
    lead.remind_at = None
    lead.save()
    _note(lead, NoteKind.STAGE, text=_("Became an agent"), old=old, new=LeadStage.CONVERTED, at=at)


def _handle(events) -> None:
    for event in events:
        at = event.created_at
        if event.topic == "application.submitted":
            _on_application(event.payload, at)
        elif event.topic == "agent.joined":
            _on_joined(event.payload, at)


def leads_follow_events() -> int:
    """The outbox consumer: applications become invited leads, joined agents convert their lead."""
    return outbox_follow("leads", ("application.submitted", "agent.joined"), _handle)


# --- imports ---------------------------------------------------------------------------------


@transaction.atomic
def leads_import_preview(*, file_name: str, content: bytes, by) -> LeadImport:
    """Read a CSV or XLSX file into a preview: the rows that will be added and the ones refused,
    each with the line number and every reason. Nothing is created until it is applied."""
    from weishang.leads.imports import parse_rows, validate_rows

    rows = parse_rows(file_name=file_name, content=content)
    accepted, rejected = validate_rows(rows)
    return LeadImport.objects.create(file_name=file_name[:200], uploaded_by=by, rows=accepted, rejected=rejected)


@transaction.atomic
def leads_import_apply(*, batch: LeadImport, by) -> LeadImport:
    """Create the accepted rows of a preview as leads (once). A person already a lead is not
    created again: the row is counted as already known and noted on that lead."""
    batch = LeadImport.objects.select_for_update().get(pk=batch.pk)
    if batch.status != LeadImport.Status.PREVIEW:
        raise Conflict(_("This import was applied already."), field="status")
    created = updated = 0
    owners = {
        a.user.phone: a
        for a in Agent.objects.select_related("user").filter(
            user__phone__in=[r["owner"] for r in batch.rows if r.get("owner")]
        )
    }
    for row in batch.rows:
        before = Lead.objects.filter(Q(phone=row["phone"]) if row["phone"] else Q(wechat_id=row["wechat_id"])).exists()
        lead = lead_capture(
            name=row["name"],
            phone=row["phone"],
            wechat_id=row["wechat_id"],
            region=row.get("region") or None,
            channel=row["channel"],
            placement=placement_for_source(row.get("source", "")),
            owner_agent=owners.get(row.get("owner") or ""),
            by=by,
            note=row.get("note", ""),
        )
        if before:
            updated += 1
            _note(lead, NoteKind.IMPORT, by=by, text=_("In import %(file)s") % {"file": batch.file_name})
        else:
            created += 1
    batch.status = LeadImport.Status.APPLIED
    batch.created, batch.updated, batch.applied_at = created, updated, clock.now()
    batch.save(update_fields=["status", "created", "updated", "applied_at"])
    return batch
