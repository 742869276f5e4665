from __future__ import annotations

import re

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext, ngettext
from unfold.admin import ModelAdmin, TabularInline

from weishang.catalog import selectors, services
from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.console.history import HistoryAdmin

CELL = re.compile(r"^price-(\d+)-(\d+)$")


class SKUInline(TabularInline):
    model = SKU
    extra = 0
    fields = ("code", "name", "barcode", "retail_price", "weight_grams", "active")


@admin.register(Product)
class ProductAdmin(ModelAdmin):
    list_display = ("name", "active")
    inlines = [SKUInline]


@admin.register(SKU)
class SKUAdmin(HistoryAdmin, ModelAdmin):
    list_display = ("code", "name", "product", "retail_price", "barcode", "weight_grams", "active")
    list_filter = ("product", "active")
    search_fields = ("code", "name", "barcode")


@admin.register(LevelPrice)
class LevelPriceAdmin(HistoryAdmin, ModelAdmin):
    """Level prices are edited as one grid (SKU × level); this list is for history and search."""

    list_display = ("sku", "level", "price")
    list_filter = ("level",)
    list_select_related = ("sku", "level")

    def get_urls(self):
        return [path("grid/", self.admin_site.admin_view(self.grid_view), name="catalog_price_grid"),
                *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        if "history" not in request.GET and not request.GET:
            return redirect("admin:catalog_price_grid")
        return super().changelist_view(request, extra_context)

    def grid_view(self, request):
        if not request.user.has_perm("catalog.view_levelprice"):
            raise PermissionDenied
        can_edit = request.user.has_perm("catalog.change_levelprice") and request.user.has_perm(
            "catalog.add_levelprice")
        errors: dict[tuple[int, int], str] = {}
        submitted: dict[tuple[int, int], str] = {}
        status = 200
        if request.method == "POST":
            if not can_edit:
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
            else:
                text = ngettext("%(n)d price changed.", "%(n)d prices changed.", changed)
                messages.success(request, text % {"n": changed})
                return redirect("admin:catalog_price_grid")
        levels, rows = selectors.price_grid()
        grid = []
        for sku, cells in rows:
            grid.append((sku, [
                {
                    "name": f"price-{sku.pk}-{level.pk}",
                    "value": submitted.get((sku.pk, level.pk), "" if set_price is None else set_price),
                    "placeholder": effective,
                    "error": errors.get((sku.pk, level.pk)),
                }
                for level, set_price, effective in cells
            ]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Level price grid"),
            "levels": levels,
            "grid": grid,
            "can_edit": can_edit,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/catalog/price_grid.html", context, status=status)
