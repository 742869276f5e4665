"""Customer service (客服): a conversation per shop (the seller agent) and contact (a phone or a
WeChat id), its messages in and out (immutable), the brand's quick replies and keyword
auto-replies."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from weishang.core import clock

TEXT_MAX = 1000


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Waiting for us")  # the customer's message waits for an answer
    WAITING = "waiting", _("Answered")  # we answered; waiting for the customer
    CLOSED = "closed", _("Closed")


class Conversation(models.Model):
    agent = models.ForeignKey(
        "channel.Agent", on_delete=models.PROTECT, related_name="conversations", verbose_name=_("shop")
    )
    contact_name = models.CharField(_("customer's name"), max_length=50)
    contact = models.CharField(_("phone or WeChat id"), max_length=40)
    token = models.CharField(_("secret link"), max_length=48, unique=True, editable=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
        help_text=_("A brand staff member; empty = the seller."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ConversationStatus.choices, default=ConversationStatus.OPEN
    )
    first_message_at = models.DateTimeField(_("first message"), default=clock.now)
    first_response_at = models.DateTimeField(_("first answer"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message"), default=clock.now)

    class Meta:
        ordering = ["-last_message_at", "-pk"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        permissions = [("reply_conversation", _("Can answer customers and assign conversations"))]
        constraints = [
            models.UniqueConstraint(fields=["agent", "contact"], name="service_one_conversation_per_contact")
        ]
        indexes = [models.Index(fields=["first_message_at"], name="service_first_message")]

    def __str__(self) -> str:
        return f"{self.contact_name} · {self.contact}"


class Direction(models.TextChoices):
    IN = "in", _("From the customer")
    OUT = "out", _("To the customer")


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", verbose_name=_("conversation")
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    text = models.TextField(_("message text"), max_length=TEXT_MAX)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    automatic = models.BooleanField(_("automatic reply"), default=False)
    created_at = models.DateTimeField(_("sent"), default=clock.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("customer message")
        verbose_name_plural = _("customer messages")

    def __str__(self) -> str:
        return self.text[:40]


class QuickReply(models.Model):
    title = models.CharField(_("title"), max_length=40)
    text = models.TextField(_("text"), max_length=TEXT_MAX)
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("quick reply")
        verbose_name_plural = _("quick replies")

    def __str__(self) -> str:
        return self.title


class AutoReply(models.Model):
    keywords = models.CharField(
        _("keywords"), max_length=200, help_text=_("Words separated by commas; a message holding any one is answered.")
    )
    answer = models.TextField(_("answer"), max_length=TEXT_MAX)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("auto reply")
        verbose_name_plural = _("auto replies")

    def __str__(self) -> str:
        return self.keywords

    def keyword_list(self) -> list[str]:
        return [w.strip() for w in self.keywords.replace("，", ",").replace("、", ",").split(",") if w.strip()]
