import json

from axes.admin import AccessAttemptAdmin as BaseAccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from weishang.console.history import HistoryAdmin
from weishang.core import services
from weishang.core.errors import BusinessError
from weishang.core.files import validate_screenshot
from weishang.core.lockout import LockoutAwareLoginMixin
from weishang.core.models import Brand, OutboxEvent, User
from weishang.core.passwords import PASSWORD_CHANGED_HOOKS


class ConsolePasswordChangeForm(AdminPasswordChangeForm):
    """Setting a staff member's password here logs their devices out, as a reset does."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            for hook in PASSWORD_CHANGED_HOOKS:
                hook(user=user, keep=None)
        return user


admin.site.unregister(Group)


class ConsoleLoginForm(LockoutAwareLoginMixin, AdminAuthenticationForm):
    """The console's login: a locked-out staff member is told so, and for how long."""


admin.site.login_form = ConsoleLoginForm


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = ConsolePasswordChangeForm
    list_display = ("username", "phone", "first_name", "is_staff", "is_active")
    list_filter = ("is_staff", "is_active", "groups")
    search_fields = ("username", "phone", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("username", "phone", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )

    def get_queryset(self, request):
        # The console manages brand staff; agents are managed as agents.
        return super().get_queryset(request).filter(agent__isnull=True)


# Django stores permission names in English ("Can add order"); the console shows them in the
# user's language: the four standard ones from the model's verbose name, the others through the
# catalog (their names are msgids: Meta.permissions wraps them in gettext_lazy).
STANDARD_PERMISSIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission) -> str:
    """ "渠道 | 可以添加 代理" rather than "channel | agent | Can add agent"."""
    model = permission.content_type.model_class()
    action, _sep, model_name = permission.codename.partition("_")
    if model is not None and action in STANDARD_PERMISSIONS and model_name == model._meta.model_name:
        name = model._meta.verbose_name
        original = getattr(model, "instance_type", None)  # simple_history's record of another model
        if original is not None:
            name = _("%(model)s history") % {"model": original._meta.verbose_name}
        text = STANDARD_PERMISSIONS[action] % {"model": name}
    else:
        text = gettext(permission.name)
    try:
        app = apps.get_app_config(permission.content_type.app_label).verbose_name
    except LookupError:
        app = permission.content_type.app_label
    return f"{app} | {text}"


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request=request, **kwargs)
        if db_field.name == "permissions" and field is not None:
            field.label_from_instance = permission_label
        return field

    def get_deleted_objects(self, objs, request):
        """What deleting a group removes, without the rows that only link it to its permissions and
        users (Django lists those as "Group_permissions object (118)")."""
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        links = [Group.permissions.through, User.groups.through]
        hidden = {str(capfirst(m._meta.verbose_name)) + ":" for m in links}
        plural = {str(m._meta.verbose_name_plural) for m in links}

        def keep(items):
            out = []
            for item in items:
                if isinstance(item, list):
                    inner = keep(item)
                    if inner:
                        out.append(inner)
                elif not str(item).startswith(tuple(hidden)):
                    out.append(item)
            return out

        return keep(to_delete), {k: v for k, v in model_count.items() if str(k) not in plural}, perms_needed, protected


class LogoField(forms.ImageField):
    """The logo is a picture like any other: the one picture check (size, pixels, type) runs
    before Django's own, so the page says why a picture is refused."""

    def to_python(self, data):
        if isinstance(data, UploadedFile):
            validate_screenshot(data)
        return super().to_python(data)


class BrandForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = "__all__"  # the admin's own field list decides what is shown
        field_classes = {"logo": LogoField}


_UNSET = object()


def request_hold(request) -> services.PlanHold | None:
    """The plan holding the brand settings, asked once per request."""
    cached = getattr(request, "_plan_hold", _UNSET)
    if cached is _UNSET:
        cached = request._plan_hold = services.plan_hold()
    return cached


@admin.register(Brand)
class BrandAdmin(HistoryAdmin, ModelAdmin):
    """The brand settings. Every save goes through ``core.services.brand_save``: while a plan is in
    force, what it decides (supply mode, customer binding) is read-only here with a note linking
    the plan, and the jurisdiction is the owner's and fixed while a plan holds it. The history
    pages are read-only (reverting would bypass the service)."""

    form = BrandForm

    list_display = ("name", "currency", "timezone", "jurisdiction", "supply_mode", "customer_binding")
    change_form_before_template = "admin/catalog/_plan_note.html"

    def has_add_permission(self, request):
        return not Brand.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return (
            *super().get_readonly_fields(request, obj),
            *services.brand_readonly_fields(user=request.user, hold=request_hold(request)),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class Guarded(form):
            def _post_clean(self):
                super()._post_clean()
                try:
                    services.brand_check(brand=self.instance, by=request.user)
                except BusinessError as exc:
                    self.add_error(exc.field if exc.field in self.fields else None, str(exc.message))

        return Guarded

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        hold = request_hold(request)
        if hold is not None and hold.in_force:
            extra["plan_note"] = {
                "text": services.PLAN_NOTE,
                "plan": hold.label,
                "url": reverse("admin:rewards_planversion_change", args=[hold.version_pk]),
            }
        return super().changeform_view(request, object_id, form_url, extra)

    def save_model(self, request, obj, form, change):
        # A value posted for a read-only setting is not saved: say why, as the service would.
        for name in self.get_readonly_fields(request, obj):
            if name not in request.POST or not change:
                continue
            stored = getattr(obj, name)
            if request.POST[name].strip() != ("" if stored is None else str(stored)):
                probe = Brand.objects.get(pk=obj.pk)
                setattr(probe, name, request.POST[name].strip() or None)
                try:
                    services.brand_check(brand=probe, by=request.user)
                except BusinessError as exc:
                    messages.error(request, exc.message)
        services.brand_save(brand=obj, by=request.user)

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(OutboxEvent)
class OutboxEventAdmin(ModelAdmin):
    """Facts written with the changes they report; read only (consumers process them in id order)."""

    list_display = ("id", "topic", "key", "created_at")
    list_filter = ("topic",)
    search_fields = ("key", "topic")
    fields = ("topic", "key", "created_at", "payload_display")
    readonly_fields = fields

    @admin.display(description=_("payload"))
    def payload_display(self, obj):
        return format_html(
            '<pre class="text-xs whitespace-pre-wrap">{}</pre>',
            json.dumps(obj.payload, ensure_ascii=False, indent=2, sort_keys=True),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessAttempt)
class AccessAttemptAdmin(BaseAccessAttemptAdmin, ModelAdmin):
    """Failed logins per account and client address (django-axes, weishang.core.lockout): the
    owner sees who is locked out and clears a lockout by deleting the row (roles.py). Read-only
    otherwise; the form data axes keeps is not shown (it may hold what was typed)."""

    list_display = ("attempt_time", "username", "ip_address", "failures_since_start", "status")
    list_filter = ("attempt_time",)
    fieldsets = (
        (
            None,
            {"fields": ("username", "ip_address", "user_agent", "path_info", "failures_since_start", "attempt_time")},
        ),
    )
    actions = ["delete_selected"]

    @admin.display(description=_("status"))
    def status(self, obj):
        limit = int(settings.AXES_FAILURE_LIMIT)
        if obj.failures_since_start >= limit:
            return _("Locked out")
        return _("%(n)d attempts left") % {"n": limit - obj.failures_since_start}

    def has_change_permission(self, request, obj=None):
        return False
