import json

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import UploadedFile
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

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
    """"渠道 | 可以添加 代理" rather than "channel | agent | Can add agent"."""
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
        from weishang.trade.services import validate_screenshot

        if isinstance(data, UploadedFile):
            validate_screenshot(data)
        return super().to_python(data)


class BrandForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = "__all__"  # the admin's own field list decides what is shown
        field_classes = {"logo": LogoField}


@admin.register(Brand)
class BrandAdmin(ModelAdmin):
    form = BrandForm
    list_display = ("name", "currency", "timezone", "jurisdiction", "supply_mode", "customer_binding")

    def has_add_permission(self, request):
        return not Brand.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


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
        return format_html("<pre class=\"text-xs whitespace-pre-wrap\">{}</pre>",
                           json.dumps(obj.payload, ensure_ascii=False, indent=2, sort_keys=True))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
