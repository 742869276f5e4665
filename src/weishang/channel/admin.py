"""Console pages for the channel. Relations, level and status are never edited as plain fields:
they change through channel.services (the "Relations" page of an agent), which keeps the tree
indexes right and writes the relationship log. (The levels' own page is catalog's, in
catalog/admin.py: a level's prices and entry terms are pricing, guarded by catalog.services.)"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from weishang.channel import selectors, services
from weishang.channel.models import Agent, AgentTrail, Application, Level
from weishang.channel.tree import Relation
from weishang.console import bulk
from weishang.console.exports import AgentResource, ApplicationResource, ExportMixin
from weishang.core import converters  # noqa: F401 - registers <id:…>
from weishang.core import devices as agent_devices
from weishang.core.converters import id_or_404
from weishang.core.errors import BusinessError


class AgentRelationsForm(forms.Form):
    ACTIONS = [
        ("referrer", _("Move with team under another referrer")),
        ("supplier", _("Move with supply network under another supplier")),
        ("level", _("Change level")),
        ("status", _("Change status")),
        ("introducer", _("Set introducer")),
        ("region", _("Set region")),
    ]
    action = forms.ChoiceField(label=_("What to change"), choices=ACTIONS, widget=UnfoldAdminSelectWidget)
    agent_code = forms.CharField(
        label=_("New referrer / supplier / introducer (invite code or phone; empty = none / the company)"),
        required=False,
        max_length=20,
        widget=UnfoldAdminTextInputWidget,
    )
    level = forms.ModelChoiceField(
        label=_("New level"), queryset=Level.objects.all(), required=False, widget=UnfoldAdminSelectWidget
    )
    status = forms.ChoiceField(
        label=_("Status change"),
        required=False,
        widget=UnfoldAdminSelectWidget,
        choices=[
            ("", "—"),
            ("activate", _("Activate")),
            ("suspend", _("Suspend")),
            ("reinstate", _("Reinstate")),
            ("exit", _("Exit")),
        ],
    )
    region = forms.CharField(
        label=_("New region: its national code, e.g. 330100 for 杭州市 (empty = none)"),
        required=False,
        max_length=6,
        widget=UnfoldAdminTextInputWidget,
    )
    reason = forms.CharField(label=_("Why"), max_length=300, widget=UnfoldAdminTextInputWidget)


def _find_agent(text: str) -> Agent | None:
    text = (text or "").strip()
    if not text:
        return None
    agent = (
        Agent.objects.select_related("level").filter(invite_code=text.upper()).first()
        or Agent.objects.select_related("level").filter(user__phone=text).first()
    )
    if agent is None:
        raise BusinessError(
            gettext("No agent has the invite code or phone %(text)s.") % {"text": text}, field="agent_code"
        )
    return agent


@admin.register(Agent)
class AgentAdmin(ExportMixin, ModelAdmin):
    resource_classes = [AgentResource]
    export_name = "agents"
    list_per_page = 50  # unfold renders every cell through templates: 50 rows answer in half the time of 100
    list_display = ("real_name", "phone_display", "level", "status", "supplier", "referrer", "joined_at")
    list_filter = ("level", "status")
    search_fields = ("real_name", "user__phone", "invite_code")
    list_select_related = ("level", "supplier__level", "referrer__level", "user")
    readonly_fields = (
        "user",
        "phone_display",
        "id_number_masked",
        "level",
        "status",
        "supplier",
        "referrer",
        "introducer",
        "region",
        "invite_code",
        "entry_due",
        "joined_at",
        "team_summary",
        "relations_link",
    )
    fields = ("real_name", *readonly_fields)
    actions_detail = ["change_relations", "sign_out_devices"]

    def has_add_permission(self, request):
        return False  # agents join through applications (or `weishang demo`)

    def has_sign_out_devices_permission(self, request, obj=None):
        return request.user.has_perm("channel.change_agent")  # owner and operations

    def has_delete_permission(self, request, obj=None):
        return False  # agents exit; they are never deleted

    @admin.display(description=_("phone"), ordering="user__phone")
    def phone_display(self, obj):
        return obj.phone

    @admin.display(description=_("ID number"))
    def id_number_masked(self, obj):
        return obj.id_number_masked

    @admin.display(description=_("teams"))
    def team_summary(self, obj):
        return gettext("referral team %(r)d (self included), supply network %(s)d, depth %(d)d") % {
            "r": selectors.team_size(agent=obj),
            "s": selectors.team_size(agent=obj, relation=Relation.SUPPLIER),
            "d": selectors.tree_depth(agent=obj),
        }

    @admin.display(description=_("change relations"))
    def relations_link(self, obj):
        url = reverse("admin:channel_agent_relations", args=[obj.pk])
        return format_html(
            '<a class="text-primary-600 underline" href="{}">{}</a>', url, gettext("Move, change level or status")
        )

    @action(description=_("Move, change level or status"), url_path="relations")
    def change_relations(self, request, object_id):
        try:
            return redirect("admin:channel_agent_relations", object_id)
        except NoReverseMatch:  # not an id (unfold's action route takes any path): no such agent
            raise Http404 from None

    @action(
        description=_("Log out all devices"),
        url_path="sign-out-devices",
        permissions=["sign_out_devices"],
        icon="logout",
    )
    def sign_out_devices(self, request, object_id):
        """Revoke every device token of the agent (a lost phone, a suspected leak); written to the
        agent's history in the console."""
        agent = get_object_or_404(Agent.objects.select_related("user"), pk=id_or_404(object_id))
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": gettext("Log out all devices of %(name)s") % {"name": agent.real_name},
                "submit_label": gettext("Log out all devices"),
                "text": gettext("Every app and mini-program logged in as this agent must log in again."),
                "back_url": reverse("admin:channel_agent_change", args=[agent.pk]),
            }
            return TemplateResponse(request, "admin/api/confirm.html", context)
        n = agent_devices.sign_out_all(user=agent.user)
        note = ngettext("Logged out %(n)d device.", "Logged out %(n)d devices.", n) % {"n": n}
        self.log_change(request, agent, note)
        messages.success(request, note)
        return redirect("admin:channel_agent_change", agent.pk)

    def get_urls(self):
        return [
            path(
                "<id:agent_id>/relations/",
                self.admin_site.admin_view(self.relations_view),
                name="channel_agent_relations",
            ),
            *super().get_urls(),
        ]

    def relations_view(self, request, agent_id: int):
        if not request.user.has_perm("channel.move_agent"):
            raise PermissionDenied
        agent = get_object_or_404(Agent.objects.select_related("level", "supplier", "referrer"), pk=agent_id)
        form = AgentRelationsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["action"] in {"referrer", "supplier"}:
                    services.agent_move(
                        agent=agent,
                        relation=Relation(data["action"]),
                        new_parent=_find_agent(data["agent_code"]),
                        by=request.user,
                        reason=data["reason"],
                    )
                elif data["action"] == "introducer":
                    services.agent_set_introducer(
                        agent=agent, introducer=_find_agent(data["agent_code"]), by=request.user, reason=data["reason"]
                    )
                elif data["action"] == "region":
                    services.agent_set_region(
                        agent=agent, region=data["region"], by=request.user, reason=data["reason"]
                    )
                elif data["action"] == "level":
                    if data["level"] is None:
                        raise BusinessError(gettext("Choose the new level."), field="level")
                    services.agent_change_level(
                        agent=agent, level=data["level"], by=request.user, reason=data["reason"]
                    )
                else:
                    if not data["status"]:
                        raise BusinessError(gettext("Choose the status change."), field="status")
                    services.agent_change_status(
                        agent=agent, action=data["status"], by=request.user, reason=data["reason"]
                    )
            except BusinessError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                messages.success(request, gettext("Saved, and written to the relationship log."))
                return redirect("admin:channel_agent_change", agent.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Relations of %(name)s") % {"name": agent.real_name},
            "agent": agent,
            "form": form,
            "trail": agent.trail.select_related("changed_by")[:20],
            "opts": self.model._meta,
        }
        return TemplateResponse(
            request, "admin/channel/agent_relations.html", context, status=400 if request.method == "POST" else 200
        )


@admin.register(AgentTrail)
class AgentTrailAdmin(ModelAdmin):
    list_display = ("changed_at", "agent", "kind", "old_display", "new_display", "changed_by", "reason")
    list_filter = ("kind",)
    search_fields = ("agent__real_name", "agent__user__phone", "reason")
    list_select_related = ("agent__level", "changed_by")

    @admin.display(description=_("from"))
    def old_display(self, obj):
        return obj.old_display

    @admin.display(description=_("to"))
    def new_display(self, obj):
        return obj.new_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(ExportMixin, ModelAdmin):
    resource_classes = [ApplicationResource]
    export_name = "applications"
    list_per_page = 50  # unfold renders every cell through templates: 50 rows answer in half the time of 100
    list_display = ("submitted_at", "real_name", "phone", "level", "inviter", "approver", "status", "decided_by")
    list_filter = ("status", "level")
    search_fields = ("real_name", "phone")
    list_select_related = ("level", "inviter__level", "approver__level", "decided_by")
    readonly_fields = (
        "real_name",
        "phone",
        "id_number_masked",
        "level",
        "inviter",
        "approver",
        "status",
        "submitted_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "agent",
    )
    fields = readonly_fields
    actions = ["approve_selected", "reject_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("ID number"))
    def id_number_masked(self, obj):
        return obj.id_number_masked

    def _decide(self, request, queryset, approve: bool):
        """Each selected application through the service, in its own transaction; one message
        with how many were decided, one with the others and why."""

        def run(application):
            if approve:
                services.application_approve(application=application, by=request.user)
            else:
                services.application_reject(
                    application=application, by=request.user, note=gettext("Rejected in the console")
                )

        outcome = bulk.run_each(queryset.order_by("pk"), run, name=lambda a: f"{a.real_name} ({a.phone})")
        if approve:
            bulk.report(
                request,
                outcome,
                done=lambda n: ngettext("%(n)d application approved.", "%(n)d applications approved.", n) % {"n": n},
                failed=lambda n: (
                    ngettext("%(n)d application was not approved:", "%(n)d applications were not approved:", n)
                    % {"n": n}
                ),
            )
        else:
            bulk.report(
                request,
                outcome,
                done=lambda n: ngettext("%(n)d application rejected.", "%(n)d applications rejected.", n) % {"n": n},
                failed=lambda n: (
                    ngettext("%(n)d application was not rejected:", "%(n)d applications were not rejected:", n)
                    % {"n": n}
                ),
            )

    @admin.action(description=_("Approve selected applications"), permissions=["decide"])
    def approve_selected(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject selected applications"), permissions=["decide"])
    def reject_selected(self, request, queryset):
        self._decide(request, queryset, approve=False)

    def has_decide_permission(self, request):
        return request.user.has_perm("channel.decide_application")
