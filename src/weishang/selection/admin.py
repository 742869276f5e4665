"""Product selection in the console (选品): the criteria and their weights, and the candidates with
their scorecard, photos and the step that adopts one into the catalog.

Who: the owner and operations keep candidates and score them (selection.change_candidate); adopting
one creates a catalog product, so it also needs catalog.add_product (owner, operations); the
weights are the owner's (selection.change_criterion). Finance and the warehouse do not see it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from weishang.console import kit
from weishang.core.errors import BusinessError
from weishang.selection import selectors, services
from weishang.selection.models import Candidate, CandidatePhoto, CandidateStatus, Criterion

CHANGE = "selection.change_candidate"
ADOPT = ("selection.change_candidate", "catalog.add_product", "catalog.add_sku")


@admin.register(Criterion)
class CriterionAdmin(ModelAdmin):
    list_display = ("name", "weight", "rule", "help_text", "position")
    list_editable = ("weight", "position")
    fields = ("code", "name", "help_text", "weight", "rule", "position")

    def has_delete_permission(self, request, obj=None):
        return False  # a weight of 0 switches a criterion off


class PhotoInline(kit.ReadOnlyInline):
    model = CandidatePhoto
    fields = ("preview", "caption", "position")
    readonly_fields = fields

    @admin.display(description=_("picture"))
    def preview(self, obj):
        return format_html('<img src="{}" alt="" style="max-height:80px">', obj.thumbnail.url) if obj.thumbnail else "—"


class CandidateForm(forms.ModelForm):
    """Saved through ``selection.services.candidate_save`` (``save_model``); the amounts are
    checked here, so that a refusal shows on its field."""

    retail_price = forms.DecimalField(
        label=_("planned retail price"), required=False, min_value=0, max_value=1_000_000, decimal_places=2
    )
    unit_cost = forms.DecimalField(
        label=_("expected unit cost"),
        required=False,
        min_value=0,
        max_value=1_000_000,
        decimal_places=2,
        help_text=_("What the factory charges."),
    )

    class Meta:
        model = Candidate
        fields = ("name", "category", "description", "retail_price", "unit_cost", "source", "notes")


@admin.register(Candidate)
class CandidateAdmin(ModelAdmin):
    form = CandidateForm
    list_display = ("name", "category", "retail_price", "total", "status", "product", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "category", "source")
    inlines = (PhotoInline,)
    change_form_outer_after_template = "admin/selection/scorecard.html"  # its own forms: outside the admin form

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == CandidateStatus.ADOPTED:
            return CandidateForm.Meta.fields
        return ()

    def has_delete_permission(self, request, obj=None):
        return False  # rejected, never deleted: the brand keeps why

    def changelist_view(self, request, extra_context=None):
        services.criteria_ensure()
        self._totals = {c.pk: card.total for c, card in selectors.ranked()}
        return super().changelist_view(request, extra_context=extra_context)

    @admin.display(description=_("score (out of 100)"))
    def total(self, obj):
        value = getattr(self, "_totals", {}).get(obj.pk)
        return "—" if value is None else value

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.candidate_save(
            candidate=obj if change else None,
            name=data.get("name", ""),
            category=data.get("category", ""),
            description=data.get("description", ""),
            retail_price=data.get("retail_price"),
            unit_cost=data.get("unit_cost"),
            source=data.get("source", ""),
            notes=data.get("notes", ""),
            by=request.user,
        )
        obj.pk = saved.pk

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None:
            extra["card"] = services.scorecard(obj)
            extra["can_score"] = request.user.has_perm(CHANGE) and obj.status != CandidateStatus.ADOPTED
            extra["can_adopt"] = kit.console_can(request.user, ADOPT) and obj.status != CandidateStatus.ADOPTED
            extra["statuses"] = [
                (value, label)
                for value, label in CandidateStatus.choices
                if value not in {CandidateStatus.ADOPTED, obj.status}
            ]
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<id:pk>/score/", view(self.score_view), name="selection_candidate_score"),
            path("<id:pk>/photo/", view(self.photo_view), name="selection_candidate_photo"),
            path("<id:pk>/status/", view(self.status_view), name="selection_candidate_status"),
            path("<id:pk>/adopt/", view(self.adopt_view), name="selection_candidate_adopt"),
            *super().get_urls(),
        ]

    def _step(self, request, pk: int, perms, step):
        if not kit.console_can(request.user, perms):
            raise PermissionDenied
        candidate = get_object_or_404(Candidate, pk=pk)
        if request.method == "POST":
            try:
                text = step(candidate)
            except BusinessError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(request, text)
        return redirect("admin:selection_candidate_change", pk)

    def score_view(self, request, pk: int):
        def step(candidate):
            scores = {}
            for key, value in request.POST.items():
                if key.startswith("score-") and key[6:].isdigit():
                    criterion = int(key[6:])
                    scores[criterion] = (value, request.POST.get(f"note-{criterion}", ""))
            services.candidate_score(candidate=candidate, scores=scores, by=request.user)
            return gettext("Scores saved.")

        return self._step(request, pk, (CHANGE,), step)

    def photo_view(self, request, pk: int):
        def step(candidate):
            services.candidate_photo_add(
                candidate=candidate,
                upload=request.FILES.get("photo"),
                caption=request.POST.get("caption", ""),
                by=request.user,
            )
            return gettext("Photo added.")

        return self._step(request, pk, (CHANGE,), step)

    def status_view(self, request, pk: int):
        def step(candidate):
            status = request.POST.get("status", "")
            done = services.candidate_set_status(candidate=candidate, status=status, by=request.user)
            return gettext("The candidate is now %(status)s.") % {"status": done.get_status_display()}

        return self._step(request, pk, (CHANGE,), step)

    def adopt_view(self, request, pk: int):
        def step(candidate):
            product = services.candidate_adopt(
                candidate=candidate, sku_code=request.POST.get("sku_code", ""), by=request.user
            )
            return gettext("%(name)s is in the catalog now: set its level prices on the price grid.") % {
                "name": product.name
            }

        return self._step(request, pk, ADOPT, step)
