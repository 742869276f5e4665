"""Issuing, replacing and ending authorization certificates, and the public lookup.

The rule is one function, ``certificate_reconcile``: an active agent has exactly one certificate
in force, for their level and region as they are now and not yet expired; anyone else has none.
It runs when the outbox reports an agent event (joined, level or region changed, suspended,
reinstated, exited), on every lookup of that agent (so a missed event never shows a stale
answer), and for everyone from ``weishang certificates sync``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from weishang.catalog.selectors import product_names_for
from weishang.certificates.models import Certificate, CertificateStatus, CertificateTemplate
from weishang.channel.models import Agent, AgentStatus
from weishang.core import checkchars, clock
from weishang.core.errors import BusinessError, Forbidden
from weishang.core.models import OutboxEvent
from weishang.core.outbox import outbox_emit, outbox_follow
from weishang.core.text import record_text
from weishang.core.validators import mask_name, normalize_phone

SERIAL_PREFIX = "SQ"
SERIAL_RANDOM = 8  # 40 bits: numbers are not guessed in sequence
VALID_DAYS = 365
AGENT_TOPICS = (
    "agent.joined",
    "agent.level_changed",
    "agent.region_changed",
    "agent.suspended",
    "agent.reinstated",
    "agent.exited",
)
EVENTS_PER_RUN = 500


def new_serial(today: date) -> str:
    body = f"{SERIAL_PREFIX}{today.year}{checkchars.random_chars(SERIAL_RANDOM)}"
    return body + checkchars.check_char(body)


def is_serial(text: str) -> bool:
    return (
        len(text) == len(SERIAL_PREFIX) + 4 + SERIAL_RANDOM + 1
        and text.startswith(SERIAL_PREFIX)
        and checkchars.checked(text)
    )


def _end_reason(certificate: Certificate, agent: Agent) -> str:
    """Why a certificate ended, in the brand's language (a record reads the same to everyone)."""
    if agent.status == AgentStatus.SUSPENDED:
        return record_text(gettext_noop("Agent suspended"))
    if agent.status == AgentStatus.EXITED:
        return record_text(gettext_noop("Agent left the brand"))
    if agent.status != AgentStatus.ACTIVE:
        return record_text(gettext_noop("Agent not active"))
    if certificate.level_id != agent.level_id:
        return record_text(gettext_noop("Level changed to %(level)s"), level=agent.level.name)
    if certificate.region_id != agent.region_id:
        return record_text(gettext_noop("Region changed"))
    return record_text(gettext_noop("Expired: renewed"))


def _fields(agent: Agent, today: date, products: str | None = None) -> dict:
    """What a new certificate of ``agent`` says, as of ``today``."""
    if products is None:
        products = "、".join(product_names_for(agent.level))[:500]
    return {
        "agent": agent,
        "level": agent.level,
        "level_name": agent.level.name,
        "region": agent.region,
        "region_name": agent.region.full_name if agent.region else record_text(gettext_noop("Nationwide")),
        "products": products,
        "valid_from": today,
        "valid_until": today + timedelta(days=VALID_DAYS - 1),
    }


def _today() -> date:
    return timezone.localdate(clock.now())


def _fits(certificate: Certificate, agent: Agent, today: date) -> bool:
    return (
        certificate.level_id == agent.level_id
        and certificate.region_id == agent.region_id
        and certificate.valid_until >= today
    )


@transaction.atomic
def certificate_reconcile(*, agent: Agent | int, reason: str = "") -> Certificate | None:
    """Make the agent's certificates agree with the agent as they are now; returns the one in
    force (None for an agent who is not active)."""
    agent = (
        Agent.objects.select_for_update(of=("self",))
        .select_related("level", "region")
        .get(pk=getattr(agent, "pk", agent))
    )
    now = clock.now()
    today = _today()
    current = Certificate.objects.filter(agent=agent, status=CertificateStatus.ACTIVE).first()
    active = agent.status == AgentStatus.ACTIVE
    if current is not None and active and _fits(current, agent, today):
        return current
    if current is not None:
        current.status = CertificateStatus.REVOKED if not active else CertificateStatus.SUPERSEDED
        current.ended_at = now
        current.end_reason = (reason or _end_reason(current, agent))[:200]
        current.save(update_fields=["status", "ended_at", "end_reason"])
    if not active:
        return None
    # The new one follows the last one (in force until now, or ended by a suspension): a chain.
    previous = current or (
        Certificate.objects.filter(agent=agent, replaced_by__isnull=True).order_by("-issued_at", "-pk").first()
    )
    fields = _fields(agent, today)
    certificate = Certificate.objects.create(serial=new_serial(today), replaces=previous, issued_at=now, **fields)
    # The agent is told their certificate is ready (notifications).
    outbox_emit(
        topic="certificate.issued",
        key=certificate.serial,
        payload={"agent": agent.pk, "certificate": certificate.serial, "level": agent.level.code},
    )
    return certificate


def certificate_reissue(*, certificate: Certificate, by, reason: str) -> Certificate:
    """Brand staff replace a certificate in force with a new number (a lost or leaked paper copy)."""
    if not (getattr(by, "is_staff", False) and by.has_perm("certificates.end_certificate")):
        raise Forbidden(_("You may not revoke or re-issue certificates."))
    if not (reason or "").strip():
        raise BusinessError(_("Say why."), field="reason")
    with transaction.atomic():
        current = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if current.status != CertificateStatus.ACTIVE:
            raise BusinessError(_("Only a certificate in force can be re-issued."), field="reason")
        current.status = CertificateStatus.SUPERSEDED
        current.ended_at = clock.now()
        current.end_reason = reason.strip()[:200]
        current.save(update_fields=["status", "ended_at", "end_reason"])
        new = certificate_reconcile(agent=current.agent_id)
        if new is not None and new.replaces_id is None:
            Certificate.objects.filter(pk=new.pk).update(replaces=current)
            new.replaces = current
        return new  # type: ignore[return-value]


def certificates_sync() -> int:
    """Bring every agent's certificates up to date (the demo, a nightly job for the ones expiring,
    after an import); returns how many agents got a new certificate or lost theirs. Active agents
    with none at all (a first run) are issued theirs in bulk; the rest that no longer fit go
    through ``certificate_reconcile`` one by one."""
    today = _today()
    in_force = Certificate.objects.filter(status=CertificateStatus.ACTIVE)
    missing = list(
        Agent.objects.filter(status=AgentStatus.ACTIVE)
        .exclude(pk__in=in_force.values("agent_id"))
        .select_related("level", "region")
    )
    products: dict[int, str] = {}
    rows = []
    for agent in missing:
        if agent.level_id not in products:
            products[agent.level_id] = "、".join(product_names_for(agent.level))[:500]
        rows.append(Certificate(serial=new_serial(today), **_fields(agent, today, products[agent.level_id])))
    try:
        with transaction.atomic():
            Certificate.objects.bulk_create(rows, batch_size=1000)
    except IntegrityError:  # one was issued meanwhile, or two serials clashed: one by one
        for agent in missing:
            certificate_reconcile(agent=agent)
    stale = [
        agent_id
        for agent_id, level, region, until, status, agent_level, agent_region in in_force.values_list(
            "agent_id", "level_id", "region_id", "valid_until", "agent__status", "agent__level_id", "agent__region_id"
        )
        if status != AgentStatus.ACTIVE or level != agent_level or region != agent_region or until < today
    ]
    for agent_id in stale:
        certificate_reconcile(agent=agent_id)
    return len(missing) + len(stale)


def _reconcile_named(events: list[OutboxEvent]) -> None:
    for agent_id in dict.fromkeys(event.payload.get("agent") for event in events):
        if isinstance(agent_id, int) and Agent.objects.filter(pk=agent_id).exists():
            certificate_reconcile(agent=agent_id)


def certificates_follow_events() -> int:
    """The outbox consumer: reconcile the agents named by agent events since the last run. An
    event skipped (committed after a later one was read) is healed by the next lookup or sync."""
    return outbox_follow("certificates", AGENT_TOPICS, _reconcile_named, batch=EVENTS_PER_RUN)


# --- the public lookup ------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """What the public may know: whether the person is authorized, at which level, where and
    until when; their name masked; never the phone."""

    query: str
    found: bool
    authorized: bool = False
    serial: str = ""
    name_masked: str = ""
    level: str = ""
    region: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    status: str = ""
    ended_at: datetime | None = None
    end_reason: str = ""


def _answer(query: str, certificate: Certificate | None) -> Lookup:
    if certificate is None:
        return Lookup(query=query, found=False)
    return Lookup(
        query=query,
        found=True,
        authorized=certificate.status == CertificateStatus.ACTIVE,
        serial=certificate.serial,
        name_masked=mask_name(certificate.agent.real_name),
        level=certificate.level_name,
        region=certificate.region_name,
        valid_from=certificate.valid_from,
        valid_until=certificate.valid_until,
        status=certificate.status,
        ended_at=certificate.ended_at,
        end_reason=certificate.end_reason if certificate.status == CertificateStatus.REVOKED else "",
    )


def certificate_lookup(text: str) -> Lookup:
    """A certificate number, a mobile number or a WeChat id: the certificate it names, brought up
    to date first. A number that was replaced answers for itself (not authorized any more, since
    when); a person answers with their certificate in force, or their last one."""
    query = (text or "").strip()[:64]
    if not query:
        raise BusinessError(_("Enter a certificate number, a mobile number or a WeChat id."), field="q")
    serial = checkchars.normalise(query)
    if is_serial(serial):
        found = Certificate.objects.select_related("agent").filter(serial=serial).first()
        if found is None:
            return Lookup(query=query, found=False)
        certificate_reconcile(agent=found.agent_id)
        return _answer(query, Certificate.objects.select_related("agent").get(pk=found.pk))
    phone = normalize_phone(query)
    if re.fullmatch(r"1[0-9]{10}", phone):
        agent = Agent.objects.filter(user__phone=phone).first()
    else:
        agent = Agent.objects.filter(wechat_id__iexact=query).exclude(wechat_id="").first()
    if agent is None:
        return Lookup(query=query, found=False)
    certificate_reconcile(agent=agent)
    latest = Certificate.objects.select_related("agent").filter(agent=agent).order_by("-issued_at", "-pk").first()
    return _answer(query, latest)


def certificate_template_save(*, template: CertificateTemplate) -> CertificateTemplate:
    """Save the brand's certificate template; the newest one is used from now on (the pictures
    are drawn on request, so every certificate shows it at once)."""
    template.updated_at = clock.now()
    template.save()
    return template
