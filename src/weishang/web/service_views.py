"""Customer service on the phone (客服, M14).

- ``/s/<code>/messages/`` (public, no login): a consumer leaves their name, phone or WeChat id and a
  message for the shop's seller; they are sent to their conversation's page.
- ``/s/<code>/messages/<token>/`` (public): the consumer's conversation, found by its secret link
  only; they may write again there. Posting is rate-limited per address (core.ratelimit).
- ``/m/messages/`` and ``/m/messages/<id>/`` (the seller agent): their own shop's conversations, the
  thread with the FAQ's suggested answers and the brand's quick replies, and the answer form.
  Another shop's conversation is 404."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from weishang.channel import selectors as channel_selectors
from weishang.channel.models import AgentStatus
from weishang.core.errors import BusinessError
from weishang.core.ratelimit import allow
from weishang.core.selectors import brand_get
from weishang.service import selectors, services
from weishang.service.models import TEXT_MAX
from weishang.web.agents import current_agent


class MessageForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Your message"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )


class FirstMessageForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=services.NAME_MAX)
    contact = forms.CharField(
        label=gettext_lazy("Mobile number or WeChat id"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "tel"}),
    )
    text = MessageForm.base_fields["text"]


class ReplyForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Answer"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4}))


def _show_error(form: forms.Form, exc: BusinessError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))


def _limited(request, seller):
    response = render(
        request, "web/service/shop_messages.html", {"brand": brand_get(), "seller": seller, "limited": True}, status=429
    )
    response["Retry-After"] = "60"
    return response


def _shop(code: str):
    seller = channel_selectors.agent_by_invite_code(code)
    if seller is None or seller.status != AgentStatus.ACTIVE:
        raise Http404
    return seller


def shop_messages(request, code: str):
    seller = _shop(code)
    if request.method == "POST" and not allow(request, "public"):
        return _limited(request, seller)
    form = FirstMessageForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                conversation = services.conversation_start(
                    agent=seller, name=data["name"], contact=data["contact"], text=data["text"]
                )
            except BusinessError as exc:
                _show_error(form, exc)
            else:
                messages.success(request, _("Message sent. Keep this page's link to read the answer."))
                return redirect("web:shop_thread", code=seller.invite_code, conversation_token=conversation.token)
    return render(
        request, "web/service/shop_messages.html", {"brand": brand_get(), "seller": seller, "form": form}, status=status
    )


def shop_thread(request, code: str, conversation_token: str):
    seller = channel_selectors.agent_by_invite_code(code)
    conversation = selectors.conversation_by_token(agent=seller, token=conversation_token)
    if conversation is None:
        raise Http404
    if request.method == "POST" and not allow(request, "public"):
        return _limited(request, seller)
    form = MessageForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.conversation_follow_up(conversation=conversation, text=form.cleaned_data["text"])
            except BusinessError as exc:
                _show_error(form, exc)
            else:
                messages.success(request, _("Message sent."))
                return redirect("web:shop_thread", code=code, conversation_token=conversation_token)
    return render(
        request,
        "web/service/shop_thread.html",
        {
            "brand": brand_get(),
            "seller": seller,
            "conversation": conversation,
            "thread": conversation.messages.all(),
            "form": form,
        },
        status=status,
    )


@login_required
def my_messages(request):
    me = current_agent(request)
    return render(
        request,
        "web/service/messages.html",
        {"brand": brand_get(), "conversations": selectors.conversations_of(agent=me)[:100]},
    )


@login_required
def my_conversation(request, conversation_id: int):
    me = current_agent(request)
    conversation = selectors.conversation_of(agent=me, pk=conversation_id)
    if conversation is None:
        raise Http404
    form = ReplyForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.conversation_reply(conversation=conversation, text=form.cleaned_data["text"], by=request.user)
            except BusinessError as exc:
                _show_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("Answer sent."))
                return redirect("web:my_conversation", conversation_id=conversation.pk)
    return render(
        request,
        "web/service/conversation.html",
        {
            "brand": brand_get(),
            "conversation": conversation,
            "thread": conversation.messages.all(),
            "form": form,
            "refused": selectors.reply_refused(me),  # a suspended agent reads, and is told why they cannot answer
            "suggested": selectors.suggestions(selectors.last_incoming(conversation)),
            "quick_replies": selectors.quick_replies(),
        },
        status=status,
    )
