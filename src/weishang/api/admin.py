"""Console pages for the API's credentials: brand API keys (made here, with their scopes as
checkboxes; the key is shown once), and agents' device tokens (listed; revoked here).

Keys and tokens are stored as hashes: nothing here can show one again. Revoking is immediate.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from weishang.api import services
from weishang.api.models import ApiKey, ApiToken
from weishang.api.scopes import SCOPES
from weishang.core import clock


def _scope_choices():
    return [(scope, f"{scope} — {label}") for scope, label in SCOPES.items()]


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=_scope_choices,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text=_("What the key may do; an endpoint needs its scope."),
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes")


@admin.register(ApiKey)
class ApiKeyAdmin(ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "prefix", "scope_list", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    list_select_related = ("created_by",)
    actions = ["revoke"]
    actions_detail = ["revoke_one"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "scopes"]
        return ["name", "prefix", "scope_list", "created_by", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    @admin.display(description=_("scopes"))
    def scope_list(self, obj):
        return ", ".join(obj.scopes or []) or "—"

    def has_change_permission(self, request, obj=None):
        return False  # a key's scopes never change: make a new key, revoke the old one

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted: the list keeps who had access

    def has_revoke_permission(self, request, obj=None):
        return request.user.has_perm("api.change_apikey")

    def save_model(self, request, obj, form, change):
        key, secret = services.api_key_create(
            name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"], by=request.user
        )
        obj.pk, obj.prefix, obj.key_hash, obj.scopes, obj.created_at = (
            key.pk,
            key.prefix,
            key.key_hash,
            key.scopes,
            key.created_at,
        )
        obj._state.adding = False
        request._api_key_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_api_key_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("API key created"),
            "opts": self.model._meta,
            "intro": gettext("The key %(name)s with the scopes %(scopes)s.")
            % {"name": obj.name, "scopes": ", ".join(obj.scopes)},
            "secret": secret,
            "usage": gettext("Send it as the X-Api-Key header (docs/api.md, Authentication)."),
            "back_url": reverse("admin:api_apikey_changelist"),
            "back_label": gettext("Back to the API keys"),
        }
        return TemplateResponse(request, "admin/api/secret_once.html", context)

    @action(description=_("Revoke"), permissions=["revoke"], icon="block")
    def revoke(self, request, queryset):
        n = 0
        for key in queryset.filter(revoked_at__isnull=True):
            services.api_key_revoke(key=key)
            n += 1
        messages.success(request, ngettext("%(n)d key revoked.", "%(n)d keys revoked.", n) % {"n": n})

    @action(description=_("Revoke"), url_path="revoke", permissions=["revoke"], icon="block")
    def revoke_one(self, request, object_id):
        key = self.get_object(request, unquote(str(object_id)))
        if key is None:
            raise Http404
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "title": gettext("Revoke %(key)s") % {"key": key},
                "opts": self.model._meta,
                "submit_label": gettext("Revoke"),
                "text": gettext("Calls with this key fail from now on. This cannot be undone."),
                "back_url": reverse("admin:api_apikey_change", args=[key.pk]),
            }
            return TemplateResponse(request, "admin/api/confirm.html", context)
        services.api_key_revoke(key=key)
        messages.success(request, gettext("%(key)s revoked.") % {"key": key})
        return redirect("admin:api_apikey_change", key.pk)


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdmin):
    list_display = ("prefix", "user", "device", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "device", "user__username")
    list_select_related = ("user",)
    fields = ("user", "device", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # agents log in on their device (POST /api/v1/auth/login)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request, obj=None):
        return request.user.has_perm("api.change_apitoken")

    @action(description=_("Revoke (log the device out)"), permissions=["revoke"], icon="logout")
    def revoke(self, request, queryset):
        n = queryset.filter(revoked_at__isnull=True).update(revoked_at=clock.now())
        messages.success(request, ngettext("%(n)d device logged out.", "%(n)d devices logged out.", n) % {"n": n})
