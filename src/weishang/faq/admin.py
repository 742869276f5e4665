"""百问百答 in the console: categories and questions (saved through faq.services, which keeps the
search index), the import page, and what agents searched most."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from weishang.console.kit import ReadOnlyAdmin
from weishang.faq import selectors, services
from weishang.faq.models import FaqCategory, FaqEntry, FaqSearch


@admin.register(FaqCategory)
class FaqCategoryAdmin(ModelAdmin):
    list_display = ("name", "position")


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Markdown (.md) or Excel (.xlsx) file"),
        help_text=_("Markdown: ## category, ### question, then the answer. Excel: columns 分类, 问题, 答案, 可见级别."),
    )


@admin.register(FaqEntry)
class FaqEntryAdmin(ModelAdmin):
    list_display = ("question", "category", "min_level", "published", "updated_at")
    list_filter = ("category", "published", "min_level")
    search_fields = ("question", "answer")
    fields = ("category", "question", "answer", "min_level", "published", "position")
    list_before_template = "admin/faq/most_searched.html"

    def save_model(self, request, obj, form, change):
        services.faq_entry_save(entry=obj)

    def delete_model(self, request, obj):
        services.faq_entry_delete(entry=obj)

    def delete_queryset(self, request, queryset):
        for entry in queryset:
            services.faq_entry_delete(entry=entry)

    def changelist_view(self, request, extra_context=None):
        extra = {"most_searched": list(selectors.most_searched()), "import_url": reverse("admin:faq_faqentry_import")}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="faq_faqentry_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Questions from a Markdown or Excel file: all added, or none with every problem listed."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        problems, status = [], 200
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.name.lower().endswith(".xlsx"):
                    rows = services.parse_xlsx(upload)
                else:
                    try:
                        text = upload.read().decode("utf-8-sig")
                    except UnicodeDecodeError:
                        raise services.ImportFailed([gettext("The file is not UTF-8 text.")]) from None
                    rows = services.parse_markdown(text)
                count = services.faq_import(rows)
            except services.ImportFailed as exc:
                form.add_error("file", str(exc.message))
                problems, status = exc.problems, 400
            else:
                messages.success(request, gettext("%(n)d question(s) imported.") % {"n": count})
                return redirect("admin:faq_faqentry_changelist")
        elif request.method == "POST":
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import questions"),
            "form": form,
            "problems": problems,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/faq/import.html", context, status=status)


@admin.register(FaqSearch)
class FaqSearchAdmin(ReadOnlyAdmin):
    list_display = ("query", "terms", "hits", "at")
    search_fields = ("query",)
    list_filter = ("hits",)
