"""Certificates in the console: every certificate with its status and history (read-only; the
picture and the PDF to download), re-issuing one in force (a lost paper copy), and the brand's
template. Who may do what: core.roles (the owner and operations)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from weishang.certificates import selectors, services
from weishang.certificates.models import Certificate, CertificateStatus, CertificateTemplate
from weishang.console import kit
from weishang.core.errors import BusinessError
from weishang.core.files import check_picture
from weishang.core.text import record_text

STATUS_LABELS = {
    CertificateStatus.ACTIVE: "success",
    CertificateStatus.SUPERSEDED: "info",
    CertificateStatus.REVOKED: "danger",
}


def _verify_url(request, serial: str) -> str:
    return request.build_absolute_uri(reverse("web:verify")) + f"?q={serial}"


class ReissueForm(forms.Form):
    reason = kit.text_field(_("Why (e.g. the paper copy was lost)"), required=True, max_length=200)


@admin.register(Certificate)
class CertificateAdmin(kit.ReadOnlyAdmin):
    list_display = ("serial", "agent", "level_name", "region_name", "valid_until", "status_label", "issued_at")
    list_filter = ("status", "level")
    list_select_related = ("agent__level",)
    search_fields = ("=serial", "agent__real_name", "agent__user__phone")
    fields = (
        "serial",
        "agent",
        "level_name",
        "region_name",
        "products",
        "valid_from",
        "valid_until",
        "status",
        "issued_at",
        "ended_at",
        "end_reason",
        "replaces",
        "files",
    )
    readonly_fields = fields
    status_label, status_display = kit.status_columns(STATUS_LABELS)

    def get_search_results(self, request, queryset, search_term):
        from weishang.core.checkchars import normalise

        found, duplicates = super().get_search_results(request, queryset, search_term)
        serial = normalise(search_term)
        if serial != search_term:
            found = found | queryset.filter(serial=serial)
        return found, duplicates

    @admin.display(description=_("files"))
    def files(self, obj):
        link = '<a class="text-primary-600 underline" href="{}">{}</a>'
        parts = [
            (reverse("admin:certificates_certificate_png", args=[obj.pk]), gettext("Picture (PNG)")),
            (reverse("admin:certificates_certificate_pdf", args=[obj.pk]), "PDF"),
        ]
        if obj.status == CertificateStatus.ACTIVE:
            parts.append((reverse("admin:certificates_certificate_reissue", args=[obj.pk]), gettext("Re-issue")))
            # A certificate follows its agent: to revoke it, suspend the agent (or let them leave).
            parts.append(
                (
                    reverse("admin:channel_agent_relations", args=[obj.agent_id]),
                    gettext("Revoke: suspend the agent"),
                )
            )
        return format_html(" · ".join([link] * len(parts)), *[x for pair in parts for x in pair])

    def get_urls(self):
        return [
            path(
                "<id:pk>/certificate.png",
                self.admin_site.admin_view(self.png_view),
                name="certificates_certificate_png",
            ),
            path(
                "<id:pk>/certificate.pdf",
                self.admin_site.admin_view(self.pdf_view),
                name="certificates_certificate_pdf",
            ),
            path(
                "<id:pk>/reissue/",
                self.admin_site.admin_view(self.reissue_view),
                name="certificates_certificate_reissue",
            ),
            *super().get_urls(),
        ]

    def _certificate(self, request, pk: int) -> Certificate:
        if not request.user.has_perm("certificates.view_certificate"):
            raise PermissionDenied
        found = Certificate.objects.select_related("agent").filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    def png_view(self, request, pk: int):
        certificate = self._certificate(request, pk)
        body = selectors.certificate_png(certificate, verify_url=_verify_url(request, certificate.serial))
        response = HttpResponse(body, content_type="image/png")
        response["Content-Disposition"] = f'inline; filename="certificate-{certificate.serial}.png"'
        return response

    def pdf_view(self, request, pk: int):
        certificate = self._certificate(request, pk)
        body = selectors.certificate_pdf(certificate, verify_url=_verify_url(request, certificate.serial))
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.serial}.pdf"'
        return response

    def reissue_view(self, request, pk: int):
        if not request.user.has_perm("certificates.end_certificate"):
            raise PermissionDenied
        certificate = self._certificate(request, pk)
        form = ReissueForm(request.POST or None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                try:
                    new = services.certificate_reissue(
                        certificate=certificate, by=request.user, reason=form.cleaned_data["reason"]
                    )
                except BusinessError as exc:
                    status = kit.form_error(form, exc)
                else:
                    # Audited: who re-issued, when and why, on both certificates' history pages.
                    note = record_text(
                        gettext_noop("Re-issued as %(new)s: %(reason)s"),
                        new=new.serial,
                        reason=form.cleaned_data["reason"],
                    )
                    self.log_change(request, certificate, note)
                    self.log_addition(
                        request,
                        new,
                        record_text(gettext_noop("Issued in place of %(old)s"), old=certificate.serial),
                    )
                    messages.success(
                        request, gettext("Re-issued: the new number is %(serial)s.") % {"serial": new.serial}
                    )
                    return redirect("admin:certificates_certificate_change", new.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Re-issue %(serial)s") % {"serial": certificate.serial},
            "opts": self.model._meta,
            "form": form,
            "submit_label": gettext("Re-issue"),
        }
        return TemplateResponse(request, "admin/console/form_page.html", context, status=status)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = CertificateTemplate
        fields = ("title", "statement", "background", "seal")
        widgets = {
            "background": forms.FileInput(attrs={"accept": "image/*"}),
            "seal": forms.FileInput(attrs={"accept": "image/png"}),
        }

    def clean_statement(self):
        statement = self.cleaned_data["statement"]
        try:
            statement.format(name="", brand="", level="", region="", products="")
        except (KeyError, IndexError, ValueError):
            raise forms.ValidationError(
                gettext("Use only {name}, {brand}, {level}, {region} and {products} in braces.")
            ) from None
        return statement

    def clean(self):
        cleaned = super().clean()
        for field in ("background", "seal"):
            upload = self.files.get(field)
            if upload is not None:
                try:
                    check_picture(upload)
                except BusinessError as exc:
                    self.add_error(field, str(exc.message))
        return cleaned


@admin.register(CertificateTemplate)
class CertificateTemplateAdmin(ModelAdmin):
    form = TemplateForm
    list_display = ("title", "updated_at", "preview")
    readonly_fields = ("preview",)

    @admin.display(description=_("preview"))
    def preview(self, obj):
        active = Certificate.objects.filter(status=CertificateStatus.ACTIVE).only("pk").first()
        if active is None:
            return "—"
        url = reverse("admin:certificates_certificate_png", args=[active.pk])
        return format_html(
            '<a class="text-primary-600 underline" href="{}" target="_blank">{}</a>', url, gettext("Open")
        )

    def save_model(self, request, obj, form, change):
        services.certificate_template_save(template=obj)
