"""Customer service in the console (客服): the shared inbox with the response-time figures on its
header, a conversation's thread with the FAQ's suggested answers and the quick replies beside the
reply form, assignment to a staff member or back to the seller; the quick replies and the keyword
auto-replies.

Who: owner and operations (``service.view_conversation`` to read, ``service.reply_conversation``
to answer and assign; quick and auto replies by their model permissions). Finance, the warehouse
and lecturers do not see customer service. Messages are never edited or deleted."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from weishang.console.kit import ReadOnlyAdmin
from weishang.core import clock
from weishang.core.converters import id_or_none
from weishang.core.errors import BusinessError
from weishang.service import selectors, services
from weishang.service.models import TEXT_MAX, AutoReply, Conversation, QuickReply

FIGURE_DAYS = 30
PERIODS = (7, 30, 90)  # the figures' periods the inbox offers, in days


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Answer"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4}))


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = (
        "contact_name",
        "contact",
        "agent",
        "assignee_label",
        "status",
        "first_message_at",
        "first_response_at",
        "last_message_at",
    )
    list_select_related = ("agent", "assignee")
    list_filter = ("status",)
    search_fields = ("contact_name", "contact", "agent__real_name")
    fields = ("agent", "contact_name", "contact", "assignee", "status", "first_message_at", "first_response_at")
    readonly_fields = fields
    list_before_template = "admin/service/inbox_figures.html"
    change_form_template = "admin/service/conversation_change.html"

    @admin.display(description=_("assigned to"))
    def assignee_label(self, obj):
        return obj.assignee.get_username() if obj.assignee_id else gettext("the seller")

    def changelist_view(self, request, extra_context=None):
        days = next((d for d in PERIODS if request.GET.get("days") == str(d)), FIGURE_DAYS)
        if "days" in request.GET:  # not a filter of the list: taken off before the list reads the query
            request.GET = request.GET.copy()
            del request.GET["days"]
        since = clock.now() - dt.timedelta(days=days)
        overall, per_assignee = selectors.response_figures(since=since)
        extra = {"figures": overall, "per_assignee": per_assignee, "figure_days": days, "periods": PERIODS}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        conversation = self.get_object(request, object_id)
        extra: dict = {}
        if conversation is not None:
            extra["thread"] = conversation.messages.select_related("sent_by")
            if request.user.has_perm(services.REPLY_PERM):
                extra["reply_form"] = ReplyForm()
                extra["reply_url"] = reverse("admin:service_conversation_reply", args=[conversation.pk])
                extra["assign_url"] = reverse("admin:service_conversation_assign", args=[conversation.pk])
                extra["staff"] = selectors.assignable_staff()
                extra["suggested"] = selectors.suggestions(selectors.last_incoming(conversation))
                extra["quick_replies"] = selectors.quick_replies()
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<id:pk>/reply/", view(self.reply_view), name="service_conversation_reply"),
            path("<id:pk>/assign/", view(self.assign_view), name="service_conversation_assign"),
            *super().get_urls(),
        ]

    def _conversation(self, request, pk: int) -> Conversation:
        if not request.user.has_perm(services.REPLY_PERM):
            raise PermissionDenied
        return get_object_or_404(Conversation, pk=pk)

    def reply_view(self, request, pk: int):
        conversation = self._conversation(request, pk)
        if request.method == "POST":
            form = ReplyForm(request.POST)
            if not form.is_valid():
                messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
            else:
                try:
                    services.conversation_reply(
                        conversation=conversation, text=form.cleaned_data["text"], by=request.user
                    )
                except BusinessError as exc:
                    messages.error(request, str(exc.message))
                else:
                    messages.success(request, gettext("Answer sent."))
        return redirect("admin:service_conversation_change", conversation.pk)

    def assign_view(self, request, pk: int):
        conversation = self._conversation(request, pk)
        if request.method == "POST":
            raw = request.POST.get("assignee", "")
            to = None
            if raw:
                staff_id = id_or_none(raw)
                to = next((u for u in selectors.assignable_staff() if u.pk == staff_id), None)
                if to is None:
                    messages.error(request, gettext("Choose a staff member who may answer customers."))
                    return redirect("admin:service_conversation_change", conversation.pk)
            try:
                services.conversation_assign(conversation=conversation, to=to, by=request.user)
            except BusinessError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(request, gettext("Conversation assigned."))
        return redirect("admin:service_conversation_change", conversation.pk)


@admin.register(QuickReply)
class QuickReplyAdmin(ModelAdmin):
    list_display = ("title", "text", "created_at")
    fields = ("title", "text")
    search_fields = ("title", "text")


class AutoReplyForm(forms.ModelForm):
    class Meta:
        model = AutoReply
        fields = ("keywords", "answer", "active")

    def clean_keywords(self):
        value = self.cleaned_data["keywords"]
        if not AutoReply(keywords=value).keyword_list():
            raise ValidationError(gettext("Enter at least one keyword."))
        return value


@admin.register(AutoReply)
class AutoReplyAdmin(ModelAdmin):
    form = AutoReplyForm
    list_display = ("keywords", "answer", "active")
    list_filter = ("active",)
