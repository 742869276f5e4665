"""The launch toolkit in the console: the brand's qualifications (owner and operations add and
change them, core.roles), the material centre, poster templates, and the page 招商资料 where the
owner and operations (toolkit.view_documents) download the documents generated from the plan in
force: the policy PDF, the price-table poster and the pitch deck."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display

from weishang.core.errors import BusinessError
from weishang.toolkit import selectors, services
from weishang.toolkit.models import Material, MaterialFile, MaterialUseKind, PosterTemplate, Qualification

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
            services.qualification_check(
                kind=cleaned.get("kind", ""),
                valid_from=cleaned.get("valid_from"),
                valid_until=cleaned.get("valid_until"),
                document=upload,
                new=not self.instance.pk,
            )
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

    # --- the documents generated from the plan in force (policy PDF, price poster, pitch deck) ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("documents/", view(self.documents_view), name="toolkit_documents"),
            path("documents/<str:kind>/", view(self.document_download), name="toolkit_document"),
            *super().get_urls(),
        ]

    def _documents_page(self, request, *, error: str = "", status: int = 200):
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Launch documents"),
            "opts": self.model._meta,
            "error": error,
            "documents": [
                (reverse("admin:toolkit_document", args=["policy"]), gettext("Agent policy (PDF)"), "picture_as_pdf"),
                (reverse("admin:toolkit_document", args=["poster"]), gettext("Price table poster (PNG)"), "image"),
                (reverse("admin:toolkit_document", args=["deck"]), gettext("Pitch deck (PPTX)"), "slideshow"),
            ],
        }
        return TemplateResponse(request, "admin/toolkit/documents.html", context, status=status)

    def documents_view(self, request):
        """The brand downloads the documents generated from the plan in force (toolkit.view_documents)."""
        if not request.user.has_perm("toolkit.view_documents"):
            raise PermissionDenied
        return self._documents_page(request, error=selectors.documents_blocker())

    def document_download(self, request, kind: str):
        if not request.user.has_perm("toolkit.view_documents"):
            raise PermissionDenied
        try:
            document = selectors.document_build(kind)
        except BusinessError as exc:  # no plan in force, no scenario: said on the page, never a 500
            return self._documents_page(request, error=str(exc.message), status=exc.status)
        response = HttpResponse(document.content, content_type=document.content_type)
        response["Content-Disposition"] = content_disposition_header(True, document.filename)
        return response


# --- the material centre ----------------------------------------------------------------------


class MaterialFileForm(forms.ModelForm):
    class Meta:
        model = MaterialFile
        fields = ("file", "position")
        widgets = {"file": forms.FileInput(attrs={"accept": "image/*,video/mp4,video/quicktime"})}

    def clean_file(self):
        upload = self.files.get(self.add_prefix("file"))
        if upload is not None or not self.instance.pk:
            try:
                services.material_file_check(upload)
            except BusinessError as exc:
                raise forms.ValidationError(str(exc.message)) from exc
        return self.cleaned_data.get("file")


class MaterialFileInline(TabularInline):
    """A material's pictures and videos, in order; added through ``services.material_file_add``
    (checked from the file, a picture's thumbnail made then)."""

    model = MaterialFile
    form = MaterialFileForm
    extra = 0
    fields = ("preview", "file", "position")

    def get_readonly_fields(self, request, obj=None):
        return ("preview",)

    @admin.display(description=_("file"))
    def preview(self, obj):
        if not obj or not obj.pk:
            return "—"
        return gettext("Video") if obj.is_video else obj.file.name.rsplit("/", 1)[-1]


@admin.register(Material)
class MaterialAdmin(ModelAdmin):
    """What the brand gives agents to post, by product or campaign and level; the list shows how
    often each was copied and downloaded (the most used first when sorted by uses)."""

    list_display = (
        "title",
        "kind",
        "product",
        "campaign",
        "min_level",
        "published",
        "published_at",
        "copies",
        "downloads",
    )
    list_filter = ("kind", "product", "published")
    search_fields = ("title", "text", "campaign")
    fields = ("title", "kind", "text", "product", "campaign", "min_level", "published", "published_at")
    inlines = [MaterialFileInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                copy_count=Count("uses", filter=Q(uses__kind=MaterialUseKind.COPY), distinct=True),
                download_count=Count("uses", filter=~Q(uses__kind=MaterialUseKind.COPY), distinct=True),
            )
        )

    @admin.display(description=_("copied"), ordering="copy_count")
    def copies(self, obj):
        return obj.copy_count

    @admin.display(description=_("downloaded"), ordering="download_count")
    def downloads(self, obj):
        return obj.download_count

    def save_formset(self, request, form, formset, change):
        if formset.model is not MaterialFile:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for file_form in formset.forms:
            if file_form in formset.deleted_forms or not file_form.has_changed():
                continue
            if file_form.instance.pk is None:
                formset.new_objects.append(
                    services.material_file_add(
                        material=formset.instance,
                        upload=file_form.files.get(file_form.add_prefix("file")),
                        position=file_form.cleaned_data.get("position") or 0,
                    )
                )
        for file_form in formset.deleted_forms:
            if file_form.instance.pk:
                formset.deleted_objects.append(file_form.instance)
                services.material_file_delete(row=file_form.instance)
        return formset.new_objects


# --- poster templates -------------------------------------------------------------------------


class PosterTemplateForm(forms.ModelForm):
    class Meta:
        model = PosterTemplate
        fields = (
            "name",
            "target",
            "background",
            "qr_x",
            "qr_y",
            "qr_size",
            "name_x",
            "name_y",
            "name_size",
            "level_x",
            "level_y",
            "level_size",
            "text_colour",
            "product",
            "product_x",
            "product_y",
            "product_size",
            "active",
            "position",
        )
        widgets = {"background": forms.FileInput(attrs={"accept": "image/*"})}

    def clean(self):
        """The service's checks (the background, the boxes on it, the colour) on the form."""
        cleaned = super().clean()
        if self.errors:
            return cleaned
        template = self.instance
        for field, value in cleaned.items():
            if field != "background":
                setattr(template, field, value)
        try:
            services.poster_template_check(template=template, background=self.files.get("background"))
        except BusinessError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc.message))
        return cleaned


@admin.register(PosterTemplate)
class PosterTemplateAdmin(ModelAdmin):
    """Posters the brand designs for agents: a background and where the QR code, the agent's name
    and level and a product's picture go, in the background's pixels."""

    form = PosterTemplateForm
    list_display = ("name", "target", "width", "height", "active", "position")

    def save_model(self, request, obj, form, change):
        services.poster_template_save(template=obj, background=form.files.get("background"))
