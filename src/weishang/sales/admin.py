"""Sales in the console (销售): the analysis page (销售分析: by SKU, level, province or month for a
period and a scope, a chart and a table, the brand's own sales with their cost and gross margin)
and the sales lines behind it (销售明细).

Who: the owner, operations and finance (sales.view_sales_report; the lines need
sales.view_salesline). Costs show only in the brand's own sales, to those who may see the stock's
value (inventory.view_skuvaluation: owner, finance).
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from weishang.console import kit
from weishang.core import clock
from weishang.sales import selectors
from weishang.sales.models import SalesLine
from weishang.trade.workflow import PAID_STATUSES

REPORT = "sales.view_sales_report"
COSTS = "inventory.view_skuvaluation"


class AnalysisForm(forms.Form):
    scope = forms.ChoiceField(label=_("sales"), choices=(), required=False)
    dimension = forms.ChoiceField(label=_("group by"), choices=(), required=False)
    start = forms.DateField(label=_("paid from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("paid until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = [(s, selectors.scope_label(s)) for s in selectors.SCOPES]
        self.fields["dimension"].choices = [(d, selectors.dimension_label(d)) for d in selectors.DIMENSIONS]

    def clean(self):
        data = super().clean()
        today = clock.today()
        data["end"] = data.get("end") or today
        data["start"] = data.get("start") or (data["end"] - timedelta(days=89))
        if data["start"] > data["end"]:
            self.add_error("start", gettext("The start must not be after the end."))
        elif (data["end"] - data["start"]).days > 3 * 366:
            self.add_error("start", gettext("Choose at most three years."))
        data["scope"] = data.get("scope") or "all"
        data["dimension"] = data.get("dimension") or "sku"
        return data


@admin.register(SalesLine)
class SalesLineAdmin(kit.ReadOnlyAdmin):
    list_display = ("order_number", "paid_at", "sku", "quantity", "unit_price", "line_total", "buyer", "seller")
    list_select_related = ("order", "sku", "order__buyer", "order__seller")
    list_filter = ("order__kind", "sku")
    search_fields = ("order__number", "sku__code")
    fields = ("order_number", "paid_at", "sku", "quantity", "unit_price", "line_total", "buyer", "seller")
    readonly_fields = fields
    change_list_template = "admin/sales/salesline_change_list.html"

    def get_queryset(self, request):
        paid = {"order__kind__in": selectors.SALE_KINDS, "order__status__in": PAID_STATUSES}
        return super().get_queryset(request).filter(**paid)

    @admin.display(description=_("order number"), ordering="order__number")
    def order_number(self, obj):
        return obj.order.number

    @admin.display(description=_("paid"), ordering="order__paid_at")
    def paid_at(self, obj):
        return obj.order.paid_at

    @admin.display(description=_("buyer"))
    def buyer(self, obj):
        return obj.order.buyer or obj.order.customer or "—"

    @admin.display(description=_("seller"))
    def seller(self, obj):
        return obj.order.seller or gettext("Brand")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("analysis/", view(self.analysis_view), name="sales_analysis"), *super().get_urls()]

    def analysis_view(self, request):
        if not kit.console_can(request.user, (REPORT,)):
            raise PermissionDenied
        form = AnalysisForm(request.GET)  # always bound: an empty form means the last 90 days of all sales
        analysis = None
        if form.is_valid():
            data = form.cleaned_data
            analysis = selectors.sales_analysis(
                scope=data["scope"], dimension=data["dimension"], start=data["start"], end=data["end"]
            )
        show_cost = bool(analysis and analysis.with_cost and request.user.has_perm(COSTS))
        chart = None
        if analysis and analysis.rows:
            rows = analysis.rows[:20]
            # Chart.js reads the amounts' exact decimal text as numbers; the table shows them too.
            datasets = [{"label": gettext("revenue (yuan)"), "data": [str(r.revenue) for r in rows]}]
            if show_cost:
                margins = [str(r.margin) if r.margin is not None else None for r in rows]
                datasets.append({"label": gettext("gross margin (yuan)"), "data": margins})
            chart = kit.chart_data([r.label for r in rows], datasets)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Sales analysis"),
            "opts": self.model._meta,
            "form": form,
            "analysis": analysis,
            "show_cost": show_cost,
            "chart": chart,
            "chart_options": kit.chart_options(legend=show_cost, money=True),
            "scope_label": selectors.scope_label(analysis.scope) if analysis else "",
            "dimension_label": selectors.dimension_label(analysis.dimension) if analysis else "",
        }
        return TemplateResponse(request, "admin/sales/analysis.html", context, status=200 if analysis else 400)
