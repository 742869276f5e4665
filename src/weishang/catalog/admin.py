from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy, ngettext
from unfold.admin import ModelAdmin, TabularInline

from weishang.catalog import selectors, services
from weishang.catalog.models import SKU, LevelPrice, Product, ProductImage
from weishang.channel.models import Level
from weishang.console.history import HistoryAdmin
from weishang.core.errors import BusinessError
from weishang.core.files import check_picture

CELL = re.compile(r"^price-(\d+)-(\d+)$")
PLAN_NOTE_TEMPLATE = "admin/catalog/_plan_note.html"


_UNSET = object()


def request_governance(request) -> services.PlanGovernance | None:
    """The plan in force's hold on the catalog, asked once per request (the console asks each
    admin's permissions on every page)."""
    cached = getattr(request, "_plan_governance", _UNSET)
    if cached is _UNSET:
        cached = request._plan_governance = services.plan_governance()
    return cached


def plan_note_context(governance: services.PlanGovernance | None) -> dict:
    """The note shown above fields the plan in force decides, with a link to the plan's page."""
    if governance is None:
        return {}
    return {
        "plan_note": {
            "text": services.PLAN_NOTE,
            "plan": governance.label,
            "url": reverse("admin:rewards_planversion_change", args=[governance.version_pk]),
        }
    }


def guarded_form(form_class, request, check):
    """The admin form, with the service's check run on the changed instance: a change the user
    may not make is a message on the form, never a 500 (the service checks again when saving)."""

    class Guarded(form_class):
        def _post_clean(self):
            super()._post_clean()
            try:
                check(self.instance, request.user)
            except BusinessError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, str(exc.message))

    return Guarded


class NoRevertMixin:
    """The history pages stay, read-only: reverting would save an old price around the services'
    checks, so a change is made on the form (or the grid) like any other."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class SKUInline(TabularInline):
    """SKUs on their product's page. Prices here follow the same rules as on the SKU page: without
    the pricing permission, or while a plan is in force, codes and prices are read-only here (and no
    SKU is added here, since a new SKU sets a price); the SKU page says what the plan decides."""

    model = SKU
    extra = 0
    fields = ("code", "name", "barcode", "retail_price", "weight_grams", "active")

    def _locked(self, request) -> bool:
        return not services.can_change_pricing(request.user) or request_governance(request) is not None

    def get_readonly_fields(self, request, obj=None):
        return ("code", "retail_price") if self._locked(request) else ()

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not self._locked(request)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._locked(request)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = guarded_form(formset.form, request, lambda sku, user: services.sku_check(sku=sku, by=user))
        return formset


class ProductImageForm(forms.ModelForm):
    class Meta:
        model = ProductImage
        fields = ("image", "caption", "position")
        # A plain file input: the default one links the file's storage URL.
        widgets = {"image": forms.FileInput(attrs={"accept": "image/*"})}

    def clean_image(self):
        upload = self.files.get(self.add_prefix("image"))
        if upload is not None:
            try:
                check_picture(upload)
            except BusinessError as exc:
                raise forms.ValidationError(str(exc.message)) from exc
        elif not self.instance.pk:
            raise forms.ValidationError(gettext("Choose a picture."))
        return self.cleaned_data.get("image")


class ProductImageInline(TabularInline):
    """A product's pictures, in order; a new one is added by ``services.product_image_add`` (its
    thumbnail made then). A picture is replaced by adding a new one and deleting the old."""

    model = ProductImage
    form = ProductImageForm
    extra = 0
    fields = ("preview", "image", "caption", "position")
    readonly_fields = ("preview",)

    def get_readonly_fields(self, request, obj=None):
        return ("preview",)

    @admin.display(description=gettext_lazy("picture"))
    def preview(self, obj):
        if not obj or not obj.pk:
            return "—"
        url = reverse("web:product_image", args=[obj.pk, "thumb"])
        return format_html('<img src="{}" alt="" class="h-16 w-16 rounded object-cover">', url)


@admin.register(Product)
class ProductAdmin(ModelAdmin):
    list_display = ("name", "active", "picture_count")
    fields = ("name", "active", "selling_points", "description", "specification", "ingredients", "usage")
    inlines = [ProductImageInline, SKUInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(pictures=Count("images", distinct=True))

    @admin.display(description=gettext_lazy("pictures"), ordering="pictures")
    def picture_count(self, obj):
        return obj.pictures

    def save_formset(self, request, form, formset, change):
        if formset.model is ProductImage:
            return self._save_pictures(formset)
        if formset.model is not SKU:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for sku in formset.deleted_objects:
            services.sku_delete(sku=sku, by=request.user)
        for sku in instances:
            services.sku_save(sku=sku, by=request.user)
        return instances

    def _save_pictures(self, formset):
        """New pictures through the service (checked, thumbnail made); a changed caption or order
        saved; a deleted picture removed with its files. The formset's ``new_objects``,
        ``changed_objects`` and ``deleted_objects`` are set for the admin's change message."""
        product = formset.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for picture_form in formset.forms:
            if not picture_form.has_changed() or picture_form in formset.deleted_forms:
                continue
            data = picture_form.cleaned_data
            if picture_form.instance.pk is None:
                formset.new_objects.append(
                    services.product_image_add(
                        product=product,
                        upload=picture_form.files.get(picture_form.add_prefix("image")),
                        caption=data.get("caption", ""),
                        position=data.get("position") or 0,
                    )
                )
            else:
                services.product_image_update(
                    image=picture_form.instance, caption=data.get("caption", ""), position=data.get("position") or 0
                )
                formset.changed_objects.append((picture_form.instance, picture_form.changed_data))
        for picture_form in formset.deleted_forms:
            if picture_form.instance.pk:
                formset.deleted_objects.append(picture_form.instance)
                services.product_image_delete(image=picture_form.instance)


@admin.register(SKU)
class SKUAdmin(NoRevertMixin, HistoryAdmin, ModelAdmin):
    """A SKU's retail price belongs to pricing staff, and to the plan in force when the plan writes
    it (catalog.services); name, barcode, weight, purchase limits and sale status are anyone's with
    the change permission."""

    list_display = ("code", "name", "product", "retail_price", "barcode", "weight_grams", "active")
    list_filter = ("product", "active")
    search_fields = ("code", "name", "barcode")
    change_form_before_template = PLAN_NOTE_TEMPLATE

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *services.sku_readonly_fields(user=request.user, sku=obj))

    def has_add_permission(self, request):
        return super().has_add_permission(request) and services.can_change_pricing(request.user)

    def has_delete_permission(self, request, obj=None):
        if not (super().has_delete_permission(request, obj) and services.can_change_pricing(request.user)):
            return False
        governance = request_governance(request)
        return governance is None or (obj is not None and obj.code not in governance.skus)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return guarded_form(form, request, lambda sku, user: services.sku_check(sku=sku, by=user))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        obj = self.get_object(request, object_id) if object_id else None
        governance = request_governance(request)
        if obj is not None and governance is not None and obj.code in governance.skus:
            extra.update(plan_note_context(governance))
        return super().changeform_view(request, object_id, form_url, extra)

    def save_model(self, request, obj, form, change):
        services.sku_save(sku=obj, by=request.user)

    def delete_model(self, request, obj):
        services.sku_delete(sku=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for sku in queryset:
            services.sku_delete(sku=sku, by=request.user)


@admin.register(Level)
class LevelAdmin(NoRevertMixin, HistoryAdmin, ModelAdmin):
    """The console's page for a channel model (``channel.Level``), registered here because a
    level's price and entry terms (rank, entry amount, discount, minimum restock) belong to
    pricing staff; while a plan is in force every field the plan writes is the plan's, and levels
    are neither added nor deleted here (catalog.services is the guard; this page reflects it)."""

    list_display = ("rank", "name", "code", "entry_amount", "discount", "min_restock_qty", "approver", "agent_count")
    list_display_links = ("name",)
    ordering = ("rank",)
    change_form_before_template = PLAN_NOTE_TEMPLATE

    def get_readonly_fields(self, request, obj=None):
        return (
            *super().get_readonly_fields(request, obj),
            *services.level_readonly_fields(user=request.user, level=obj),
        )

    def has_add_permission(self, request):
        return (
            super().has_add_permission(request)
            and services.can_change_pricing(request.user)
            and request_governance(request) is None
        )

    def has_delete_permission(self, request, obj=None):
        return (
            super().has_delete_permission(request, obj)
            and services.can_change_pricing(request.user)
            and request_governance(request) is None
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return guarded_form(form, request, lambda level, user: services.level_check(level=level, by=user))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = {**(extra_context or {}), **plan_note_context(request_governance(request))}
        return super().changeform_view(request, object_id, form_url, extra)

    def save_model(self, request, obj, form, change):
        services.level_save(level=obj, by=request.user)

    def delete_model(self, request, obj):
        services.level_delete(level=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for level in queryset:
            services.level_delete(level=level, by=request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_agents=Count("agents"))

    @admin.display(description=gettext_lazy("agents"), ordering="n_agents")
    def agent_count(self, obj):
        return obj.n_agents


@admin.register(LevelPrice)
class LevelPriceAdmin(NoRevertMixin, HistoryAdmin, ModelAdmin):
    """Level prices are edited as one grid (SKU × level), through ``services.level_prices_set``;
    this list is for history and search, and its rows are read-only."""

    list_display = ("sku", "level", "price")
    list_filter = ("level",)
    list_select_related = ("sku", "level")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("grid/", self.admin_site.admin_view(self.grid_view), name="catalog_price_grid"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        if "history" not in request.GET and not request.GET:
            return redirect("admin:catalog_price_grid")
        return super().changelist_view(request, extra_context)

    def grid_view(self, request):
        if not request.user.has_perm("catalog.view_levelprice"):
            raise PermissionDenied
        may_edit = (
            request.user.has_perm("catalog.change_levelprice")
            and request.user.has_perm("catalog.add_levelprice")
            and services.can_change_pricing(request.user)
        )
        governance = services.plan_governance()
        can_edit = may_edit and governance is None
        errors: dict[tuple[int, int], str] = {}
        submitted: dict[tuple[int, int], str] = {}
        status = 200
        if request.method == "POST":
            if not may_edit:
                raise PermissionDenied
            for name, value in request.POST.items():
                match = CELL.match(name)
                if match:
                    submitted[(int(match[1]), int(match[2]))] = value
            try:
                changed = services.level_prices_set(cells=submitted, by=request.user)
            except services.PriceGridError as exc:
                errors = exc.errors
                messages.error(request, exc.message)
                status = 400
            except BusinessError as exc:  # the plan in force sets the grid
                messages.error(request, exc.message)
                status = exc.status
            else:
                text = ngettext("%(n)d price changed.", "%(n)d prices changed.", changed)
                messages.success(request, text % {"n": changed})
                return redirect("admin:catalog_price_grid")
        levels, rows = selectors.price_grid()
        grid = []
        for sku, cells in rows:
            grid.append(
                (
                    sku,
                    [
                        {
                            "name": f"price-{sku.pk}-{level.pk}",
                            "value": submitted.get((sku.pk, level.pk), "" if set_price is None else set_price),
                            "placeholder": effective,
                            "error": errors.get((sku.pk, level.pk)),
                        }
                        for level, set_price, effective in cells
                    ],
                )
            )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Level price grid"),
            "levels": levels,
            "grid": grid,
            "can_edit": can_edit,
            "opts": self.model._meta,
            **plan_note_context(governance),
        }
        return TemplateResponse(request, "admin/catalog/price_grid.html", context, status=status)
