"""Security codes in the console: code batches (print a batch, download its CSV and QR label
sheet), item codes with their trail, a scan page for the warehouse, and the channel-conflict
report (窜货) where the brand closes each case. Who may do what: core.roles."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminIntegerFieldWidget, UnfoldAdminSelectWidget, UnfoldAdminTextareaWidget

from weishang.catalog.models import SKU
from weishang.codes import selectors, services, sheets, symbols
from weishang.codes.models import ChannelConflict, CodeBatch, ConflictStatus, ItemCode
from weishang.console import kit
from weishang.core.errors import BusinessError, Forbidden

STATUS_LABELS = {ConflictStatus.OPEN: "danger", ConflictStatus.HANDLED: "success", ConflictStatus.DISMISSED: "info"}


def _verify_base(request) -> str:
    return request.build_absolute_uri(reverse("web:verify"))  # printed on labels: /verify/ for good


class BatchForm(forms.Form):
    sku = forms.ModelChoiceField(
        label=_("SKU"), queryset=SKU.objects.filter(active=True), widget=UnfoldAdminSelectWidget
    )
    boxes = forms.IntegerField(label=_("boxes"), min_value=1, widget=UnfoldAdminIntegerFieldWidget)
    per_box = forms.IntegerField(label=_("items per box"), min_value=1, widget=UnfoldAdminIntegerFieldWidget)
    note = kit.text_field(_("note"), required=False, max_length=200)


@admin.register(CodeBatch)
class CodeBatchAdmin(kit.ReadOnlyAdmin):
    list_display = ("number", "sku", "boxes", "per_box", "items_display", "created_at", "created_by", "downloads")
    list_select_related = ("sku", "created_by")
    search_fields = ("number", "sku__name", "sku__code")
    fields = ("number", "sku", "boxes", "per_box", "items_display", "note", "created_by", "created_at", "downloads")
    readonly_fields = fields
    list_before_template = "admin/codes/batch_tools.html"

    @admin.display(description=_("item codes"))
    def items_display(self, obj):
        return obj.items

    @admin.display(description=_("download"))
    def downloads(self, obj):
        csv_url = reverse("admin:codes_codebatch_csv", args=[obj.pk])
        pdf_url = reverse("admin:codes_codebatch_pdf", args=[obj.pk])
        link = '<a class="text-primary-600 underline" href="{}">{}</a>'
        return format_html(
            link + " · " + link,
            csv_url,
            "CSV",
            pdf_url,
            gettext("QR labels (PDF)"),
        )

    def changelist_view(self, request, extra_context=None):
        extra = {
            "new_url": reverse("admin:codes_codebatch_new"),
            "scan_url": reverse("admin:codes_scan"),
            "can_add": request.user.has_perm("codes.add_codebatch"),
            "can_scan": request.user.has_perm("trade.change_order"),
        }
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def get_urls(self):
        return [
            path("new/", self.admin_site.admin_view(self.new_view), name="codes_codebatch_new"),
            path("scan/", self.admin_site.admin_view(self.scan_view), name="codes_scan"),
            path("<id:pk>/codes.csv", self.admin_site.admin_view(self.csv_view), name="codes_codebatch_csv"),
            path("<id:pk>/labels.pdf", self.admin_site.admin_view(self.pdf_view), name="codes_codebatch_pdf"),
            *super().get_urls(),
        ]

    def _page(self, request, template: str, title: str, status: int = 200, **context):
        context = {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta, **context}
        return TemplateResponse(request, template, context, status=status)

    def new_view(self, request):
        if not request.user.has_perm("codes.add_codebatch"):
            raise PermissionDenied
        form = BatchForm(request.POST or None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                data = form.cleaned_data
                try:
                    batch = services.batch_create(
                        sku=data["sku"],
                        boxes=data["boxes"],
                        per_box=data["per_box"],
                        note=data["note"],
                        by=request.user,
                    )
                except BusinessError as exc:
                    status = kit.form_error(form, exc)
                else:
                    messages.success(
                        request,
                        gettext("Batch %(number)s: %(items)d item codes in %(boxes)d boxes.")
                        % {"number": batch.number, "items": batch.items, "boxes": batch.boxes},
                    )
                    return redirect("admin:codes_codebatch_change", batch.pk)
        return self._page(request, "admin/console/form_page.html", gettext("New code batch"), status, form=form)

    def _batch(self, request, pk: int) -> CodeBatch:
        if not request.user.has_perm("codes.view_codebatch"):
            raise PermissionDenied
        return get_object_or_404(CodeBatch.objects.select_related("sku"), pk=pk)

    def csv_view(self, request, pk: int):
        batch = self._batch(request, pk)
        response = HttpResponse(
            sheets.batch_csv(batch, verify_base=_verify_base(request)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{batch.number}.csv"'
        return response

    def pdf_view(self, request, pk: int):
        batch = self._batch(request, pk)
        try:
            body = sheets.batch_pdf(batch, verify_base=_verify_base(request))
        except BusinessError as exc:
            messages.error(request, str(exc.message))
            return redirect("admin:codes_codebatch_change", batch.pk)
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{batch.number}-labels.pdf"'
        return response

    def scan_view(self, request):
        """The warehouse scans what it sends: an order number, then the box or item codes."""
        if not request.user.has_perm("trade.change_order"):
            raise PermissionDenied
        form = ScanForm(request.POST or None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                from weishang.trade.models import Order

                order = Order.objects.filter(number=form.cleaned_data["order"].strip()).first()
                try:
                    if order is None:
                        raise BusinessError(gettext("No order has that number."), field="order")
                    order = services.codes_scan(order=order, by=request.user, text=form.cleaned_data["codes"])
                except (BusinessError, Forbidden) as exc:
                    status = kit.form_error(form, exc) if isinstance(exc, BusinessError) else 403
                    if isinstance(exc, Forbidden):
                        form.add_error(None, str(exc.message))
                else:
                    messages.success(
                        request,
                        gettext("Order %(number)s: %(n)s codes scanned.")
                        % {"number": order.number, "n": getattr(order, "codes_added", 0)},
                    )
                    return redirect("admin:codes_scan")
        title = gettext("Scan codes onto an order")
        return self._page(request, "admin/console/form_page.html", title, status, form=form, submit_label=title)


class ScanForm(forms.Form):
    order = kit.text_field(_("Order number"), required=True, max_length=32)
    codes = forms.CharField(
        label=_("Box or item codes (a scanner types one per line)"),
        max_length=symbols.MAX_INPUT,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 8, "autocomplete": "off"}),
    )


@admin.register(ItemCode)
class ItemCodeAdmin(kit.ReadOnlyAdmin):
    list_display = ("code", "batch", "holder", "region", "sold", "shipped_at", "checks", "first_checked_at")
    list_select_related = ("batch", "holder__level", "region")
    list_filter = ("sold",)
    search_fields = ("=code", "=box__code", "batch__number")
    fields = ("code", "batch", "box", "holder", "region", "sold", "shipped_at", "checks", "first_checked_at", "trail")
    readonly_fields = fields
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # A code as typed or scanned (lower case, with dashes, or the QR code's lookup link).
        return super().get_search_results(request, queryset, symbols.from_scan(search_term) or search_term)

    @admin.display(description=_("trail"))
    def trail(self, obj):
        from django.template.loader import render_to_string

        return render_to_string("admin/codes/trail.html", {"trail": selectors.code_trail(obj)})


class HandleForm(forms.Form):
    status = forms.ChoiceField(
        label=_("status"),
        choices=[(ConflictStatus.HANDLED, _("Handled")), (ConflictStatus.DISMISSED, _("Dismissed"))],
        widget=UnfoldAdminSelectWidget,
    )
    note = kit.text_field(_("what was done"), required=True, max_length=300)


@admin.register(ChannelConflict)
class ChannelConflictAdmin(kit.ReadOnlyAdmin):
    """The channel-conflict report: each case with the code's trail; the brand closes it."""

    list_display = ("found_at", "item", "kind", "agent", "agent_region", "where", "other_agent", "status_label")
    list_select_related = ("item", "agent__level", "agent_region", "where", "other_agent__level")
    list_filter = ("status", "kind")
    search_fields = ("=item__code", "agent__real_name", "agent__user__phone")
    fields = (
        "item",
        "kind",
        "agent",
        "agent_region",
        "where",
        "other_agent",
        "order",
        "found_at",
        "status",
        "note",
        "handled_by",
        "handled_at",
        "handle_link",
        "trail",
    )
    readonly_fields = fields
    status_label, status_display = kit.status_columns(STATUS_LABELS)

    @admin.display(description=_("act"))
    def handle_link(self, obj):
        if obj.status != ConflictStatus.OPEN:
            return "—"
        url = reverse("admin:codes_channelconflict_handle", args=[obj.pk])
        agent = reverse("admin:channel_agent_relations", args=[obj.agent_id])
        link = '<a class="text-primary-600 underline" href="{}">{}</a>'
        return format_html(
            link + " · " + link,
            url,
            gettext("Close the case"),
            agent,
            gettext("Suspend or move the agent"),
        )

    @admin.display(description=_("trail"))
    def trail(self, obj):
        from django.template.loader import render_to_string

        return render_to_string("admin/codes/trail.html", {"trail": selectors.code_trail(obj.item)})

    def get_urls(self):
        return [
            path("<id:pk>/handle/", self.admin_site.admin_view(self.handle_view), name="codes_channelconflict_handle"),
            *super().get_urls(),
        ]

    def handle_view(self, request, pk: int):
        if not request.user.has_perm("codes.handle_channelconflict"):
            raise PermissionDenied
        conflict = ChannelConflict.objects.filter(pk=pk).select_related("item", "agent").first()
        if conflict is None:
            raise Http404
        form = HandleForm(request.POST or None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                try:
                    services.conflict_handle(
                        conflict=conflict,
                        status=form.cleaned_data["status"],
                        note=form.cleaned_data["note"],
                        by=request.user,
                    )
                except BusinessError as exc:
                    status = kit.form_error(form, exc)
                else:
                    messages.success(request, gettext("Case closed."))
                    return redirect("admin:codes_channelconflict_change", conflict.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Close the case: %(code)s") % {"code": conflict.item.code},
            "opts": self.model._meta,
            "form": form,
            "trail": selectors.code_trail(conflict.item),
            "below": "admin/codes/trail.html",
            "submit_label": gettext("Close the case"),
        }
        return TemplateResponse(request, "admin/console/form_page.html", context, status=status)
