"""Local stores in the console: every store (an agent's or the brand's own), saved through
stores.services; photos listed. Who: owner and operations change stores; finance and the
warehouse do not see them."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from weishang.console.kit import ReadOnlyInline
from weishang.core.errors import BusinessError
from weishang.stores import services
from weishang.stores.models import Store, StorePhoto


class PhotoInline(ReadOnlyInline):
    model = StorePhoto
    fields = ("image", "position")
    readonly_fields = fields
    extra = 0


class StoreForm(forms.ModelForm):
    region_code = forms.CharField(
        label=_("district"), max_length=6, help_text=_("The district's six-digit code, e.g. 330106")
    )

    class Meta:
        model = Store
        fields = (
            "agent",
            "name",
            "address",
            "latitude",
            "longitude",
            "phone",
            "days",
            "opens_at",
            "closes_at",
            "status",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["region_code"].initial = self.instance.region_id

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.saved = services.store_save(
                by=self.request_user,
                agent=data.get("agent"),
                store=self.instance if self.instance.pk else None,
                name=data.get("name", ""),
                region=data.get("region_code"),
                address=data.get("address", ""),
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
                phone=data.get("phone", ""),
                days=data.get("days", ""),
                opens_at=data.get("opens_at"),
                closes_at=data.get("closes_at"),
            )
        except BusinessError as exc:
            field = "region_code" if exc.field == "region" else exc.field
            raise ValidationError({field if field in self.fields else "__all__": str(exc.message)}) from exc
        return data


@admin.register(Store)
class StoreAdmin(ModelAdmin):
    form = StoreForm
    list_display = ("name", "agent", "region", "address", "status", "updated_at")
    list_select_related = ("agent", "region")
    list_filter = ("status",)
    search_fields = ("name", "address", "agent__real_name", "agent__user__phone")
    autocomplete_fields = ("agent",)
    inlines = (PhotoInline,)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def has_delete_permission(self, request, obj=None):
        return False  # hide a store instead

    def save_model(self, request, obj, form, change):
        # StoreForm.clean saved the store through the service, so that a refusal shows on its
        # field (the admin runs validation and saving in one transaction; the photo inline is
        # read-only, so nothing after clean can fail the form); the status is store_set_status's.
        services.store_set_status(store=form.saved, status=form.cleaned_data["status"], by=request.user)
        obj.pk = form.saved.pk
