"""Customer service reads: the inbox, one agent's conversations, a conversation by its secret
link, the suggested answers from the FAQ, and the response-time figures."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from weishang.channel.models import Agent, AgentStatus
from weishang.core import clock
from weishang.faq import search
from weishang.faq.selectors import faq_search
from weishang.service.models import AutoReply, Conversation, QuickReply

SUGGESTIONS = 3
MAX_WORDS = 12  # the words of a long message looked up one by one
REPLY_PERM = "service.reply_conversation"


def inbox() -> QuerySet[Conversation]:
    return Conversation.objects.select_related("agent", "assignee")


def conversations_of(*, agent: Agent) -> QuerySet[Conversation]:
    return Conversation.objects.filter(agent=agent).order_by("-last_message_at", "-pk")


def conversation_of(*, agent: Agent, pk: int) -> Conversation | None:
    """The agent's own conversation, or None (another shop's is none of theirs)."""
    return Conversation.objects.filter(agent=agent, pk=pk).first()


def reply_refused(agent: Agent) -> str:
    """Why ``agent`` may not answer their shop's customers now ("" = they may): only an active agent
    answers, as only an active agent's shop takes messages."""
    if agent.status == AgentStatus.ACTIVE:
        return ""
    if agent.status == AgentStatus.SUSPENDED:
        return _("Your account is suspended: you cannot answer customers until the brand reinstates it.")
    return _("Your account is not active: you cannot answer customers.")


def conversation_by_token(*, agent: Agent | None, token: str) -> Conversation | None:
    if agent is None or not token or len(token) > 48:
        return None
    return Conversation.objects.filter(agent=agent, token=token).first()


def last_incoming(conversation: Conversation) -> str:
    message = conversation.messages.filter(direction="in").order_by("-created_at", "-pk").first()
    return message.text if message else ""


WORD_HITS = 200


def suggestions(text: str, *, agent: Agent | None = None) -> list:
    """Up to three FAQ entries (the public ones unless ``agent`` is given: an answer goes to a
    consumer) matching the customer's words (the FAQ's full-text search), best
    first: those holding every word; if fewer, those holding the most of the message's words of two
    or more characters (a customer writes "请问怎么付款？", the entry is "怎么付款？")."""
    text = (text or "")[:200]
    found = faq_search(text, agent=agent, limit=SUGGESTIONS) if text.strip() else []
    if len(found) >= SUGGESTIONS:
        return found
    hits: dict[int, list] = {entry.pk: [entry, 99] for entry in found}
    for word in [w for w in search.words(text) if len(w) >= 2][:MAX_WORDS]:
        # every entry holding the word (up to WORD_HITS), not the search's top three: an entry that
        # holds two of the words must meet both lists whatever each word's ranking (PostgreSQL's
        # ts_rank and SQLite's bm25 order one word's hits differently)
        for entry in faq_search(word, agent=agent, limit=WORD_HITS):
            hits.setdefault(entry.pk, [entry, 0])[1] += 1
    ranked = sorted(hits.values(), key=lambda pair: -pair[1])  # stable: the search's order within a count
    return [entry for entry, _count in ranked][:SUGGESTIONS]


def quick_replies() -> QuerySet[QuickReply]:
    return QuickReply.objects.all()


def auto_replies() -> QuerySet[AutoReply]:
    return AutoReply.objects.all()


def assignable_staff() -> list:
    """Active staff who may answer customers (and so be assigned a conversation)."""
    users = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
    return [u for u in users if u.has_perm(REPLY_PERM)]


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``share`` of the values at or
    below it (``share`` 0.5 on an even count is the lower middle one)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Figures:
    label: str
    conversations: int = 0
    answered: int = 0
    unanswered_over_24h: int = 0
    waits: list[float] = field(default_factory=list)  # seconds to the first human answer

    @property
    def answered_share(self) -> float | None:
        return self.answered / self.conversations if self.conversations else None

    @property
    def median_minutes(self) -> float | None:
        value = percentile(self.waits, 0.5)
        return None if value is None else round(value / 60, 1)

    @property
    def p90_minutes(self) -> float | None:
        value = percentile(self.waits, 0.9)
        return None if value is None else round(value / 60, 1)


def response_figures(*, since: dt.datetime, until: dt.datetime | None = None) -> tuple[Figures, list[Figures]]:
    """(overall, per assignee) for the conversations whose first message came in [since, until).

    A conversation is answered when a person (the seller or staff) replied; automatic replies do not
    count. Its wait is first answer − first message. Unanswered over 24h: not answered and the first
    message more than 24 hours before now. Per assignee: a staff member, or "the seller" for those
    left with the shop's agent.

    Worked example: three conversations in the period — A answered after 10 minutes, B after 50,
    C never (its first message 30 hours ago; only an auto-reply went out). Overall: 3
    conversations, answered share 2/3, waits [10, 50] minutes → median 10 (nearest rank: ceil(0.5×2)
    = 1st), 90th percentile 50 (ceil(0.9×2) = 2nd), 1 unanswered over 24h.
    """
    until = until or clock.now()
    late = clock.now() - dt.timedelta(hours=24)
    overall = Figures(label="")
    groups: dict[int | None, Figures] = {}
    rows = Conversation.objects.filter(first_message_at__gte=since, first_message_at__lt=until).values_list(
        "assignee_id", "assignee__username", "first_message_at", "first_response_at"
    )
    for assignee, username, first, answered in rows:
        group = groups.setdefault(assignee, Figures(label=username or ""))
        for figures in (overall, group):
            figures.conversations += 1
            if answered is not None:
                figures.answered += 1
                figures.waits.append(max(0.0, (answered - first).total_seconds()))
            elif first < late:
                figures.unanswered_over_24h += 1
    ordered = sorted(groups.items(), key=lambda item: (item[0] is not None, item[1].label))
    return overall, [figures for _key, figures in ordered]
