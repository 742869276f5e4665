"""Meetings in the console (M10): create and edit a meeting (owner, operations), its guests and
their RSVPs, its real costs (a correction is a negative line), the door's check-in QR code (PNG
and a printable sign), and the outcome card with the source's figures: guests, agents made (by
level), upgrades, cash collected, cost and ROI. Finance sees meetings, costs and the card (not the
guests). Who may do what: core.roles."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action
from unfold.widgets import UnfoldAdminDecimalFieldWidget, UnfoldAdminSelectWidget

from weishang.console import kit
from weishang.core.errors import BusinessError
from weishang.meetings import selectors, services
from weishang.meetings.models import CostKind, Invitation, Meeting, MeetingCost
from weishang.meetings.qr import qr_png

INPUT_FIELDS = (
    "kind",
    "title",
    "starts_at",
    "ends_at",
    "venue",
    "online_link",
    "host_name",
    "host_agent",
    "closing_name",
    "closing_agent",
    "budget",
    "window_days",
)


class MeetingForm(forms.ModelForm):
    region_code = kit.text_field(_("region code (6 digits, optional)"), required=False, max_length=6)

    class Meta:
        model = Meeting
        fields = (*INPUT_FIELDS, "status")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.region_id:
            self.initial["region_code"] = self.instance.region.code
        if not self.instance.pk:
            self.fields.pop("status", None)

    def meeting_input(self) -> services.MeetingInput:
        data = self.cleaned_data
        return services.MeetingInput(
            **{f: data.get(f) for f in INPUT_FIELDS if f not in ("venue", "online_link", "host_name", "closing_name")},
            venue=data.get("venue") or "",
            online_link=data.get("online_link") or "",
            host_name=data.get("host_name") or "",
            closing_name=data.get("closing_name") or "",
            region=data.get("region_code") or None,
        )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            cleaned["_checked"] = services.meeting_check(self.meeting_input())
        except BusinessError as exc:
            field = exc.field if exc.field in self.fields else ("region_code" if exc.field == "region" else None)
            self.add_error(field, str(exc.message))
        return cleaned


class CostForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=CostKind.choices, widget=UnfoldAdminSelectWidget)
    amount = forms.DecimalField(
        label=_("amount (yuan; negative to correct)"),
        max_digits=12,
        decimal_places=2,
        widget=UnfoldAdminDecimalFieldWidget,
    )
    note = kit.text_field(_("note (the reason, for a correction)"), required=False, max_length=200)


class InvitationInline(kit.ReadOnlyInline):
    model = Invitation
    fields = ("name", "lead", "agent", "invited_by", "rsvp", "checked_in_at")
    verbose_name_plural = _("guests")

    def get_queryset(self, request):
        # Each row names the lead, the agent and who invited them (an agent shows with their level).
        return super().get_queryset(request).select_related("lead", "agent__level", "invited_by__level")


class CostInline(kit.ReadOnlyInline):
    model = MeetingCost
    fields = ("kind", "amount", "note", "recorded_by", "recorded_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by")


@admin.register(Meeting)
class MeetingAdmin(ModelAdmin):
    form = MeetingForm
    list_display = ("title", "kind", "starts_at", "place", "status", "guests", "budget")
    list_filter = ("kind", "status")
    search_fields = ("title", "venue", "host_name", "closing_name")
    raw_id_fields = ("host_agent", "closing_agent")
    readonly_fields = ("checkin", "outcome_card")
    inlines = (InvitationInline, CostInline)
    actions_detail = ["add_cost", "print_sign"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_guests=Count("invitations", filter=Q(invitations__checked_in_at__isnull=False)))
        )

    def get_fields(self, request, obj=None):
        fields = [*INPUT_FIELDS[:5], "region_code", *INPUT_FIELDS[5:]]
        return fields if obj is None else [*fields, "status", "checkin", "outcome_card"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("place"))
    def place(self, obj):
        return obj.venue or gettext("Online")

    @admin.display(description=_("guests"), ordering="n_guests")
    def guests(self, obj):
        return getattr(obj, "n_guests", 0)

    @admin.display(description=_("check-in at the door"))
    def checkin(self, obj):
        url = reverse("web:meeting_checkin", args=[obj.checkin_token])
        return format_html(
            '<a class="text-primary-600 underline" href="{}" target="_blank" data-testid="checkin-link">{}</a>'
            '<br><img src="{}" alt="{}" width="160" height="160">',
            url,
            url,
            reverse("admin:meetings_meeting_qr", args=[obj.pk]),
            gettext("Check-in QR code"),
        )

    @admin.display(description=_("outcome"))
    def outcome_card(self, obj):
        return render_to_string("admin/meetings/outcome.html", {"out": selectors.meeting_outcome(obj)})

    def save_model(self, request, obj, form, change):
        """Saved by the meetings service (its checks ran on the form)."""
        data = form.meeting_input()
        if change:
            services.meeting_update(meeting=obj, data=data, status=form.cleaned_data.get("status"), by=request.user)
            return
        saved = services.meeting_create(data=data, by=request.user)
        obj.pk, obj.checkin_token, obj.created_at = saved.pk, saved.checkin_token, saved.created_at
        obj._state.adding = False

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []  # a new meeting has none

    # --- the QR code, the printable sign, a cost line --------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<id:pk>/qr.png", view(self.qr_view), name="meetings_meeting_qr"),
            path("<id:pk>/sign/", view(self.sign_view), name="meetings_meeting_sign"),
            *super().get_urls(),
        ]

    def _meeting(self, request, pk) -> Meeting:
        if not request.user.has_perm("meetings.view_meeting"):
            raise PermissionDenied
        text = str(pk)
        if not (text.isascii() and text.isdigit() and len(text) < 12):
            raise Http404
        return get_object_or_404(Meeting, pk=int(text))

    def _checkin_url(self, request, meeting: Meeting) -> str:
        return request.build_absolute_uri(reverse("web:meeting_checkin", args=[meeting.checkin_token]))

    def qr_view(self, request, pk: int):
        meeting = self._meeting(request, pk)
        response = HttpResponse(qr_png(self._checkin_url(request, meeting)), content_type="image/png")
        response["Content-Disposition"] = f'inline; filename="meeting-{meeting.pk}-checkin.png"'
        response["Cache-Control"] = "private, no-store"
        return response

    def sign_view(self, request, pk: int):
        """A page to print and put at the door: the title, the time, the place and the QR code."""
        meeting = self._meeting(request, pk)
        return TemplateResponse(
            request,
            "admin/meetings/sign.html",
            {"meeting": meeting, "url": self._checkin_url(request, meeting)},
        )

    def has_add_cost_permission(self, request, obj=None):
        return kit.console_can(request.user, ("meetings.view_meeting", "meetings.add_meetingcost"))

    def has_print_sign_permission(self, request, obj=None):
        return request.user.has_perm("meetings.view_meeting")

    @action(description=_("Print the check-in sign"), url_path="print", permissions=["print_sign"], icon="print")
    def print_sign(self, request, object_id):
        return redirect("admin:meetings_meeting_sign", self._meeting(request, object_id).pk)

    @action(description=_("Add a cost"), url_path="cost", permissions=["add_cost"], icon="payments")
    def add_cost(self, request, object_id):
        if not self.has_add_cost_permission(request):
            raise PermissionDenied
        meeting = self._meeting(request, object_id)
        form = CostForm(request.POST or None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                data = form.cleaned_data
                try:
                    services.meeting_cost_add(
                        meeting=meeting, kind=data["kind"], amount=data["amount"], note=data["note"], by=request.user
                    )
                except BusinessError as exc:
                    status = kit.form_error(form, exc)
                else:
                    messages.success(request, gettext("Cost recorded."))
                    return redirect("admin:meetings_meeting_change", meeting.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Add a cost: %(meeting)s") % {"meeting": meeting.title},
            "opts": self.model._meta,
            "form": form,
            "submit_label": gettext("Add the cost"),
        }
        return TemplateResponse(request, "admin/console/form_page.html", context, status=status)
