import json

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import UploadedFile
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from weishang.core.models import Brand, OutboxEvent, User

admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
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


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


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
