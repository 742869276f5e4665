"""Inventory in the console (库存): the warehouse stock's value at moving average cost with each SKU's
layers, the cost of stock found without one, and the reorder rules with what they propose.

Who: the valuation and its layers are seen by the owner and finance (costs are the brand's
business, not the warehouse's); setting a cost needs inventory.set_cost (owner, finance). Reorder
rules are kept by the owner and the warehouse; operations see them. Batches (FEFO): owner and
warehouse keep SKUs by batch; owner, operations and the warehouse see the batches, first expiry
first.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, Sum
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.widgets import UnfoldAdminDecimalFieldWidget

from weishang.console import kit
from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.inventory import batches, selectors, services
from weishang.inventory.models import (
    Batch,
    BatchTracking,
    CountStatus,
    ReorderRule,
    SkuValuation,
    StockCount,
    ValuationLayer,
)

SET_COST = "inventory.set_cost"


class SetCostForm(forms.Form):
    unit_cost = forms.DecimalField(
        label=_("Cost per unit (yuan)"),
        min_value=0,
        max_value=1_000_000,
        max_digits=14,
        decimal_places=4,
        widget=UnfoldAdminDecimalFieldWidget,
    )
    note = kit.text_field(_("Why (supplier invoice, count)"), required=False, max_length=100)


@admin.register(SkuValuation)
class SkuValuationAdmin(kit.ReadOnlyAdmin):
    list_display = ("sku", "quantity", "value", "average", "updated_at")
    list_select_related = ("sku",)
    search_fields = ("sku__code", "sku__name")
    fields = ("sku", "quantity", "value", "updated_at")
    change_form_after_template = "admin/inventory/skuvaluation_after.html"

    @admin.display(description=_("average cost"))
    def average(self, obj):
        cost = obj.average_cost
        return "—" if cost is None else f"¥{cost}"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<id:pk>/set-cost/", view(self.set_cost_view), name="inventory_skuvaluation_set_cost"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"valuation_total": selectors.valuation_total(), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None:
            extra["layers"] = selectors.layers_of(obj.sku_id)
            extra["average"] = obj.average_cost
            extra["can_set_cost"] = request.user.has_perm(SET_COST)
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def set_cost_view(self, request, pk: int):
        if not kit.console_can(request.user, (SET_COST, "inventory.view_skuvaluation")):
            raise PermissionDenied
        val = get_object_or_404(SkuValuation.objects.select_related("sku"), pk=pk)
        form = SetCostForm(request.POST if request.method == "POST" else None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                try:
                    services.valuation_set_cost(
                        sku=val.sku,
                        unit_cost=form.cleaned_data["unit_cost"],
                        by=request.user,
                        note=form.cleaned_data["note"],
                    )
                except BusinessError as exc:
                    kit.form_error(form, exc)
                else:
                    messages.success(
                        request,
                        gettext("The cost of %(sku)s is now ¥%(cost)s a unit.")
                        % {"sku": val.sku.code, "cost": form.cleaned_data["unit_cost"]},
                    )
                    return redirect("admin:inventory_skuvaluation_change", val.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Set the cost of %(sku)s") % {"sku": val.sku},
            "form": form,
            "valuation": val,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/inventory/set_cost.html", context, status=status)


@admin.register(ValuationLayer)
class ValuationLayerAdmin(kit.ReadOnlyAdmin):
    list_display = ("created_at", "sku", "kind", "quantity", "value", "average_after", "move_link", "entry")
    list_select_related = ("sku", "entry", "stock_move")
    list_filter = ("kind",)
    search_fields = ("sku__code", "reference")
    fields = ("sku", "kind", "quantity", "value", "average_after", "stock_move", "entry", "reference", "created_at")

    @admin.display(description=_("stock move"))
    def move_link(self, obj):
        if obj.stock_move_id is None:
            return "—"
        return format_html(
            '<a href="{}">#{}</a>', reverse("admin:trade_stockmove_change", args=[obj.stock_move_id]), obj.stock_move_id
        )


class ReorderRuleForm(forms.ModelForm):
    """The model's constraints (maximum not below minimum, one rule per SKU and warehouse) refuse
    bad input on the form; ``save_model`` saves through ``inventory.services.reorder_rule_save``."""

    class Meta:
        model = ReorderRule
        fields = ("sku", "location", "minimum", "maximum", "multiple", "active")


@admin.register(ReorderRule)
class ReorderRuleAdmin(ModelAdmin):
    form = ReorderRuleForm
    list_display = ("sku", "location", "minimum", "maximum", "multiple", "on_hand", "on_order", "propose", "active")
    list_select_related = ("sku", "location")
    list_filter = ("active",)
    search_fields = ("sku__code", "sku__name")
    autocomplete_fields = ("sku",)

    def changelist_view(self, request, extra_context=None):
        self._proposals = {p.rule.pk: p for p in selectors.reorder_proposals(include_covered=True)}
        return super().changelist_view(request, extra_context=extra_context)

    def _proposal(self, obj):
        return getattr(self, "_proposals", {}).get(obj.pk)

    @admin.display(description=_("on hand"))
    def on_hand(self, obj):
        p = self._proposal(obj)
        return p.on_hand if p else "—"

    @admin.display(description=_("on order"))
    def on_order(self, obj):
        p = self._proposal(obj)
        return p.incoming if p else "—"

    @admin.display(description=_("to order"))
    def propose(self, obj):
        p = self._proposal(obj)
        if p is None:
            return "—"
        if p.quantity:
            return format_html('<strong class="text-red-600" data-propose="{}">{}</strong>', obj.sku.code, p.quantity)
        return format_html('<span data-propose="{}">0</span>', obj.sku.code)

    def has_delete_permission(self, request, obj=None):
        return False  # a rule is switched off, not deleted

    def save_model(self, request, obj, form, change):
        saved = services.reorder_rule_save(
            sku=form.cleaned_data["sku"],
            location=form.cleaned_data.get("location"),
            minimum=form.cleaned_data["minimum"],
            maximum=form.cleaned_data["maximum"],
            multiple=form.cleaned_data.get("multiple") or 1,
            active=form.cleaned_data.get("active", True),
        )
        obj.pk = saved.pk


# --- stock counts (盘点) ------------------------------------------------------------------------

POST_COUNT = "inventory.post_stockcount"
RECORD_COUNT = "inventory.change_stockcount"


class StockCountForm(forms.ModelForm):
    class Meta:
        model = StockCount
        fields = ("location", "note")


@admin.register(StockCount)
class StockCountAdmin(ModelAdmin):
    """A count is begun here (a line per SKU with the units on hand), counted on its sheet by the
    warehouse, and posted by the owner or finance (its differences become stock moves valued into
    gains and losses)."""

    form = StockCountForm
    list_display = ("number", "location", "status", "created_at", "created_by", "posted_at")
    list_filter = ("status",)
    search_fields = ("number",)
    change_form_outer_after_template = "admin/inventory/stockcount_sheet.html"  # its own form: outside the admin form

    def get_readonly_fields(self, request, obj=None):
        return ("location", "note") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # a count is cancelled, never deleted

    def save_model(self, request, obj, form, change):
        if change:
            return
        saved = services.stock_count_start(
            location=form.cleaned_data.get("location"), by=request.user, note=form.cleaned_data.get("note") or ""
        )
        obj.pk = saved.pk

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<id:pk>/sheet/", view(self.sheet_view), name="inventory_stockcount_sheet"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        count = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if count is not None:
            extra["lines"] = count.lines.select_related("sku").order_by("sku__code")
            extra["can_record"] = request.user.has_perm(RECORD_COUNT) and count.status == CountStatus.OPEN
            extra["can_post"] = request.user.has_perm(POST_COUNT) and count.status == CountStatus.OPEN
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def sheet_view(self, request, pk: int):
        """Save what was counted (the sheet's inputs), and post or cancel the count."""
        if not (kit.console_can(request.user, (RECORD_COUNT,)) or kit.console_can(request.user, (POST_COUNT,))):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:inventory_stockcount_change", pk)
        count = get_object_or_404(StockCount, pk=pk)
        step = request.POST.get("step", "save")
        needs = {"save": RECORD_COUNT, "post": POST_COUNT, "cancel": POST_COUNT}.get(step)
        if needs is None or not kit.console_can(request.user, (needs,)):
            raise PermissionDenied
        try:
            if step in {"save", "post"}:
                counted = {
                    line.sku_id: request.POST.get(f"counted-{line.sku_id}", "")
                    for line in count.lines.all()
                    if f"counted-{line.sku_id}" in request.POST
                }
                reasons = {line.sku_id: request.POST.get(f"reason-{line.sku_id}", "") for line in count.lines.all()}
                if counted and kit.console_can(request.user, (RECORD_COUNT,)):
                    services.stock_count_record(count=count, counted=counted, reasons=reasons)
            if step == "post":
                moved = services.stock_count_post(count=count, by=request.user)
                messages.success(
                    request,
                    gettext("Count %(number)s posted: %(n)d SKU(s) differed.")
                    % {"number": count.number, "n": len(moved)},
                )
            elif step == "cancel":
                services.stock_count_cancel(count=count, by=request.user)
                messages.success(request, gettext("Count %(number)s cancelled.") % {"number": count.number})
            else:
                messages.success(request, gettext("Counts saved."))
        except BusinessError as exc:
            messages.error(request, str(exc.message))
        return redirect("admin:inventory_stockcount_change", pk)


# --- batches and expiry dates ------------------------------------------------------------------------


class BatchTrackingForm(forms.ModelForm):
    class Meta:
        model = BatchTracking
        fields = ("sku", "shelf_life_days", "warn_days")


@admin.register(BatchTracking)
class BatchTrackingAdmin(ModelAdmin):
    """SKUs kept by batch. Who: owner and warehouse start tracking and set the shelf life and the
    warning; operations do not see it. Tracking, once started, is not stopped (the batches stay)."""

    form = BatchTrackingForm
    list_display = ("sku", "shelf_life_days", "warn_days", "started_at")
    list_select_related = ("sku",)
    autocomplete_fields = ("sku",)

    def get_readonly_fields(self, request, obj=None):
        return ("sku",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            obj.save(update_fields=["shelf_life_days", "warn_days"])
            return
        started = batches.tracking_start(
            sku=data["sku"], shelf_life_days=data["shelf_life_days"], warn_days=data["warn_days"]
        )
        obj.pk = started.pk


@admin.register(Batch)
class BatchAdmin(kit.ReadOnlyAdmin):
    """Batches first expiry first, with their units in the warehouses; expired and soon-expiring
    ones marked. Who: owner, operations and the warehouse (inventory.view_batch)."""

    list_display = ("sku", "code", "expires_on", "units", "state")
    list_select_related = ("sku",)
    list_filter = ("sku",)
    search_fields = ("code", "sku__code")
    fields = ("sku", "code", "expires_on", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(on_hand=Sum("levels__quantity"))

    def get_ordering(self, request):
        return (F("expires_on").asc(nulls_last=True), "pk")

    @admin.display(description=_("units in the warehouses"), ordering="on_hand")
    def units(self, obj):
        return obj.on_hand or 0

    @admin.display(description=_("state"))
    def state(self, obj):
        if obj.expires_on is None:
            return "—"
        today = clock.today()
        if obj.expires_on < today:
            return format_html('<span class="text-red-600">{}</span>', gettext("Expired"))
        days = (obj.expires_on - today).days
        return gettext("%(days)s days left") % {"days": days}
