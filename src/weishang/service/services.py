"""Customer service: a consumer's message arrives (a conversation per shop and contact, answered at
once by a matching keyword auto-reply), someone answers it, the brand assigns it.

Who answers: the seller agent (the conversation's shop) or brand staff holding
``service.reply_conversation``; only staff holding it assign. An automatic reply is an outgoing
message with ``automatic`` set and never counts as the first (human) response."""

from __future__ import annotations

import re
import secrets

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from weishang.channel.models import Agent, AgentStatus
from weishang.core import clock
from weishang.core.errors import BusinessError, Forbidden
from weishang.core.outbox import outbox_emit
from weishang.core.validators import PHONE_RE, normalize_phone, to_ascii
from weishang.service.models import (
    TEXT_MAX,
    AutoReply,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
)
from weishang.service.selectors import reply_refused

NAME_MAX = 50
REPLY_PERM = "service.reply_conversation"
_WECHAT_ID = re.compile(r"^[A-Za-z][-_A-Za-z0-9]{5,39}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: object, *, field: str = "text") -> str:
    value = _CONTROL.sub("", str(text or "")).strip()
    if not value:
        raise BusinessError(_("Write a message."), field=field)
    if len(value) > TEXT_MAX:
        raise BusinessError(_("A message has at most 1000 characters."), field=field)
    return value


def clean_contact(value: object) -> str:
    """An 11-digit mobile number (normalized) or a WeChat id (a letter, then 6–40 letters, digits, - or _)."""
    typed = to_ascii(str(value or "")).strip()
    phone = normalize_phone(typed)
    if PHONE_RE.match(phone):
        return phone
    if _WECHAT_ID.match(typed):
        return typed
    raise BusinessError(_("Enter an 11-digit mobile number or your WeChat id."), field="contact")


def auto_reply_for(text: str) -> AutoReply | None:
    """The first active auto-reply (oldest first) one of whose keywords the text holds, case ignored."""
    folded = text.casefold()
    for rule in AutoReply.objects.filter(active=True).order_by("pk"):
        if any(word.casefold() in folded for word in rule.keyword_list()):
            return rule
    return None


def may_reply(*, user, conversation: Conversation) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_staff:
        return user.has_perm(REPLY_PERM)
    me = getattr(user, "agent", None)
    return me is not None and me.pk == conversation.agent_id


def _require_active_seller(user) -> None:
    """The seller answers only while their account is active (its status read afresh; staff answer
    for the brand whatever the shop's)."""
    if user.is_staff:
        return
    agent = Agent.objects.select_for_update().get(user=user)
    if refused := reply_refused(agent):
        raise Forbidden(refused)


def _receive(conversation: Conversation, text: str) -> Message:
    now = clock.now()
    message = Message.objects.create(conversation=conversation, direction=Direction.IN, text=text, created_at=now)
    conversation.status, conversation.last_message_at = ConversationStatus.OPEN, now
    conversation.save(update_fields=["status", "last_message_at"])
    rule = auto_reply_for(text)
    if rule is not None:
        Message.objects.create(
            conversation=conversation, direction=Direction.OUT, text=rule.answer, automatic=True, created_at=now
        )
    outbox_emit(
        topic="service.message_received",
        key=f"message:{message.pk}",
        payload={
            "agent": conversation.agent_id,
            "conversation": conversation.pk,
            "name": conversation.contact_name,
            "url": reverse("web:my_conversation", args=[conversation.pk]),
        },
    )
    return message


@transaction.atomic
def conversation_start(*, agent: Agent, name: str, contact: str, text: str) -> Conversation:
    """A consumer's message to ``agent``'s shop: into their conversation (one per shop and contact,
    made on the first message) — the same contact writing again continues it."""
    if agent.status != AgentStatus.ACTIVE:
        raise BusinessError(_("This shop is closed."), field="text")
    name = _CONTROL.sub("", str(name or "")).strip()
    if not name or len(name) > NAME_MAX:
        raise BusinessError(_("Enter your name, at most 50 characters."), field="name")
    contact = clean_contact(contact)
    text = clean_text(text)
    conversation = Conversation.objects.select_for_update().filter(agent=agent, contact=contact).first()
    if conversation is None:
        now = clock.now()
        try:
            with transaction.atomic():
                conversation = Conversation.objects.create(
                    agent=agent,
                    contact=contact,
                    contact_name=name,
                    token=secrets.token_urlsafe(24),
                    first_message_at=now,
                    last_message_at=now,
                )
        except IntegrityError:  # the same contact's first message twice at once: continue it
            conversation = Conversation.objects.select_for_update().get(agent=agent, contact=contact)
    _receive(conversation, text)
    return conversation


@transaction.atomic
def conversation_follow_up(*, conversation: Conversation, text: str) -> Message:
    """The consumer writes again on their conversation's page (found by its secret link)."""
    text = clean_text(text)
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if Agent.objects.filter(pk=conversation.agent_id).values_list("status", flat=True).first() != AgentStatus.ACTIVE:
        raise BusinessError(_("This shop is closed."), field="text")
    return _receive(conversation, text)


@transaction.atomic
def conversation_reply(*, conversation: Conversation, text: str, by) -> Message:
    """An answer by the seller or brand staff; the first one is the conversation's first response."""
    if not may_reply(user=by, conversation=conversation):
        raise Forbidden(_("You may not answer this conversation."))
    _require_active_seller(by)
    text = clean_text(text)
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    now = clock.now()
    message = Message.objects.create(
        conversation=conversation, direction=Direction.OUT, text=text, sent_by=by, created_at=now
    )
    if conversation.first_response_at is None:
        conversation.first_response_at = now
    conversation.status, conversation.last_message_at = ConversationStatus.WAITING, now
    conversation.save(update_fields=["first_response_at", "status", "last_message_at"])
    return message


@transaction.atomic
def conversation_assign(*, conversation: Conversation, to, by) -> Conversation:
    """Assign to a staff member who may answer, or (``to`` None) back to the seller."""
    if not (getattr(by, "is_staff", False) and by.is_active and by.has_perm(REPLY_PERM)):
        raise Forbidden(_("You may not assign conversations."))
    if to is not None and not (to.is_staff and to.is_active and to.has_perm(REPLY_PERM)):
        raise BusinessError(_("Choose a staff member who may answer customers."), field="assignee")
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    conversation.assignee = to
    conversation.save(update_fields=["assignee"])
    return conversation


@transaction.atomic
def conversation_close(*, conversation: Conversation, by) -> Conversation:
    if not may_reply(user=by, conversation=conversation):
        raise Forbidden(_("You may not answer this conversation."))
    _require_active_seller(by)
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    conversation.status = ConversationStatus.CLOSED
    conversation.save(update_fields=["status"])
    return conversation
