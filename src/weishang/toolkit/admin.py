"""The launch toolkit in the console: the brand's qualifications (owner and operations add and
change them, core.roles)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display

from weishang.core.errors import BusinessError
from weishang.core.files import check_document
from weishang.toolkit import selectors, services
from weishang.toolkit.models import Qualification

VALIDITY_LABELS = {"valid": "success", "expires_soon": "warning", "expired": "danger", "not_yet": "info"}


class QualificationForm(forms.ModelForm):
    class Meta:
        model = Qualification
        fields = ("kind", "title", "number", "issuer", "valid_from", "valid_until", "document", "public", "position")
        # A plain file input: the default one links the file's storage URL.
        widgets = {"document": forms.FileInput(attrs={"accept": "image/*,application/pdf"})}

    def clean(self):
        cleaned = super().clean()
        upload = self.files.get("document")
        try:
            if upload is not None or not self.instance.pk:
                check_document(upload)
            start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
            if start and end and end < start:
                raise BusinessError(_("It cannot end before it starts."), field="valid_until")
        except BusinessError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc.message))
        return cleaned


@admin.register(Qualification)
class QualificationAdmin(ModelAdmin):
    """Licences, reports and certificates the brand shows on its public page (/brand/), in the
    pitch deck and in the policy document; expired ones are flagged there."""

    form = QualificationForm
    list_display = ("title", "kind", "number", "valid_until", "validity_label", "public", "scan_link")
    list_filter = ("kind", "public")
    search_fields = ("title", "number", "issuer")
    fields = (
        "kind",
        "title",
        "number",
        "issuer",
        "valid_from",
        "valid_until",
        "document",
        "scan_link",
        "public",
        "position",
    )
    readonly_fields = ("scan_link",)

    @display(description=_("validity"), label=VALIDITY_LABELS)
    def validity_label(self, obj):
        validity = selectors.qualification_validity(obj)
        return validity.code, validity.label

    @admin.display(description=_("scan"))
    def scan_link(self, obj):
        if not obj or not obj.pk or not obj.document:
            return "—"
        url = reverse("web:qualification_scan", args=[obj.pk])
        return format_html(
            '<a class="text-primary-600 underline" href="{}" target="_blank">{}</a>', url, gettext("Open")
        )

    def save_model(self, request, obj, form, change):
        """Saved by the toolkit's service (its checks; a new scan replaces the old one)."""
        data = form.cleaned_data
        saved = services.qualification_save(
            qualification=obj if change else None,
            kind=data["kind"],
            title=data["title"],
            number=data.get("number", ""),
            issuer=data.get("issuer", ""),
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
            document=form.files.get("document"),
            public=data.get("public", True),
            position=data.get("position") or 0,
        )
        obj.pk, obj.document = saved.pk, saved.document
