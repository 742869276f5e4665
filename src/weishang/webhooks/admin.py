"""Console pages for outbound webhooks: endpoints (the secret is shown once, when made or
rotated; a test ping), and the delivery log (filters by status, event and endpoint; retry now).

Everything goes through ``webhooks.services``. Managing endpoints needs the webhook endpoint
permissions (role owner); retrying a delivery needs ``webhooks.change_webhookdelivery``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from weishang.core.errors import BusinessError
from weishang.webhooks import services
from weishang.webhooks.events import event_choices
from weishang.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

D = DeliveryStatus
DELIVERY_LABELS = {D.PENDING: "info", D.SUCCEEDED: "success", D.FAILED: "warning", D.GAVE_UP: "danger"}


class EndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("events"), choices=event_choices, widget=UnfoldAdminCheckboxSelectMultipleWidget
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "events", "active")

    def clean(self):
        data = super().clean()
        if "url" in data and "events" in data:
            try:
                data["url"], data["events"] = services.endpoint_clean(data["url"], data["events"])
            except BusinessError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, str(exc.message))
        return data


def _secret_page(model_admin, request, *, title, intro, secret, back_url) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "intro": intro,
        "secret": secret,
        "back_url": back_url,
        "back_label": gettext("Back to the endpoint"),
        "usage": gettext("Check the Weishang-Signature header of every delivery with it (docs/api.md, Webhooks)."),
    }
    return TemplateResponse(request, "admin/api/secret_once.html", context)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ModelAdmin):
    form = EndpointForm
    list_display = ("url", "description", "event_count", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "description")
    readonly_fields = ("created_by", "created_at", "secret_rotated_at", "recent_deliveries")
    actions_detail = ["rotate_secret", "send_ping"]

    def get_fields(self, request, obj=None):
        fields = ["url", "description", "events", "active"]
        return (
            fields if obj is None else fields + ["created_by", "created_at", "secret_rotated_at", "recent_deliveries"]
        )

    @admin.display(description=_("events"))
    def event_count(self, obj):
        return len(obj.events or [])

    @admin.display(description=_("deliveries"))
    def recent_deliveries(self, obj):
        url = reverse("admin:webhooks_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html(
            '<a class="text-primary-600 underline" href="{}">{}</a>',
            url,
            gettext("%(n)d deliveries") % {"n": obj.deliveries.count()},
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.endpoint_update(
                endpoint=obj,
                url=data["url"],
                events=data["events"],
                description=data.get("description", ""),
                active=data.get("active", False),
            )
            return
        endpoint, secret = services.endpoint_create(
            url=data["url"],
            events=data["events"],
            description=data.get("description", ""),
            active=data.get("active", False),
            by=request.user,
        )
        obj.pk, obj.secret, obj.since_event, obj.created_at = (
            endpoint.pk,
            secret,
            endpoint.since_event,
            endpoint.created_at,
        )
        obj._state.adding = False
        request._webhook_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_webhook_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return _secret_page(
            self,
            request,
            title=gettext("Endpoint created"),
            secret=secret,
            intro=gettext("%(url)s will receive the events chosen, from now on. This is its signing secret.")
            % {"url": obj.url},
            back_url=reverse("admin:webhooks_webhookendpoint_change", args=[obj.pk]),
        )

    def has_manage_permission(self, request, obj=None):
        return request.user.has_perm("webhooks.change_webhookendpoint")

    def _confirm(self, request, endpoint, *, title, text, submit_label) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "text": text,
            "submit_label": submit_label,
            "back_url": reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        }
        return TemplateResponse(request, "admin/api/confirm.html", context)

    def _endpoint(self, request, object_id) -> WebhookEndpoint:
        endpoint = self.get_object(request, unquote(str(object_id)))
        if endpoint is None:
            raise Http404
        return endpoint

    @action(description=_("Rotate secret"), url_path="rotate", permissions=["manage"], icon="autorenew")
    def rotate_secret(self, request, object_id):
        endpoint = self._endpoint(request, object_id)
        if request.method != "POST":
            return self._confirm(
                request,
                endpoint,
                title=gettext("Rotate secret"),
                submit_label=gettext("Rotate"),
                text=gettext(
                    "A new secret signs every delivery from now on; the old one stops at "
                    "once. Update the receiving system right after."
                ),
            )
        secret = services.endpoint_rotate_secret(endpoint=endpoint)
        return _secret_page(
            self,
            request,
            title=gettext("New secret"),
            secret=secret,
            intro=gettext("The new signing secret of %(url)s.") % {"url": endpoint.url},
            back_url=reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        )

    @action(description=_("Send a test ping"), url_path="ping", permissions=["manage"], icon="send")
    def send_ping(self, request, object_id):
        endpoint = self._endpoint(request, object_id)
        if request.method != "POST":
            return self._confirm(
                request,
                endpoint,
                title=gettext("Send a test ping"),
                submit_label=gettext("Send"),
                text=gettext("Sends a signed ping event to %(url)s now and shows the answer.") % {"url": endpoint.url},
            )
        delivery = services.endpoint_ping(endpoint=endpoint)
        if delivery.status == D.SUCCEEDED:
            messages.success(request, gettext("The endpoint answered %(code)s.") % {"code": delivery.last_status_code})
        else:
            messages.error(
                request,
                gettext("The ping failed: %(reason)s")
                % {"reason": delivery.last_error or f"HTTP {delivery.last_status_code}"},
            )
        return redirect("admin:webhooks_webhookdelivery_change", delivery.pk)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ModelAdmin):
    list_display = (
        "pk",
        "event_type",
        "endpoint",
        "status_label",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event_type", "endpoint")
    search_fields = ("event_type", "endpoint__url")
    list_select_related = ("endpoint",)
    fields = (
        "endpoint",
        "event_type",
        "event",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "last_status_code",
        "last_response",
        "last_error",
        "created_at",
        "delivered_at",
        "payload",
    )
    readonly_fields = fields
    actions = ["retry_now"]
    actions_detail = ["retry_one"]

    @display(description=_("status"), label=DELIVERY_LABELS)
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request, obj=None):
        return request.user.has_perm("webhooks.change_webhookdelivery")

    def _report(self, request, outcomes) -> None:
        sent = outcomes.get(D.SUCCEEDED, 0)
        failed = sum(n for status, n in outcomes.items() if status in (D.FAILED, D.GAVE_UP))
        if sent:
            messages.success(
                request, ngettext("%(n)d delivery succeeded.", "%(n)d deliveries succeeded.", sent) % {"n": sent}
            )
        if failed:
            messages.error(
                request,
                ngettext(
                    "%(n)d delivery failed again; see its last response.",
                    "%(n)d deliveries failed again; see their last responses.",
                    failed,
                )
                % {"n": failed},
            )
        if outcomes.get("skipped"):
            messages.info(
                request, gettext("%(n)d skipped (already delivered, or being sent).") % {"n": outcomes["skipped"]}
            )

    @action(description=_("Retry now"), permissions=["retry"], icon="replay")
    def retry_now(self, request, queryset):
        chosen = list(queryset.select_related("endpoint").order_by("pk")[:20])
        self._report(request, services.delivery_retry_now(deliveries=chosen))

    @action(description=_("Retry now"), url_path="retry", permissions=["retry"], icon="replay")
    def retry_one(self, request, object_id):
        delivery = self.get_object(request, unquote(str(object_id)))
        if delivery is None:
            raise Http404
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "title": gettext("Retry now"),
                "opts": self.model._meta,
                "submit_label": gettext("Retry now"),
                "text": gettext("Sends %(event)s to %(url)s again now.")
                % {"event": delivery.event_type, "url": delivery.endpoint.url},
                "back_url": reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]),
            }
            return TemplateResponse(request, "admin/api/confirm.html", context)
        self._report(request, services.delivery_retry_now(deliveries=[delivery]))
        return redirect("admin:webhooks_webhookdelivery_change", delivery.pk)
