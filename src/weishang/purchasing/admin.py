"""Purchasing in the console (进货): suppliers with their prices and performance, purchase orders
(a new one from a form of lines; each order's page takes its next steps), receiving with inspection,
the supplier's bill and its payment, and the list of bills.

Who (core.roles): the owner does everything; operations keep suppliers and write, send and confirm
orders; the warehouse receives (purchasing.receive_purchaseorder) and sees orders; finance enters
bills (purchasing.add_supplierbill) and pays them (purchasing.pay_supplierbill). Every step is a
service of purchasing.services; a refusal is shown as a message on the order's page.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from weishang.catalog.models import SKU
from weishang.console import kit
from weishang.core import converters
from weishang.core.errors import BusinessError
from weishang.core.files import image_response
from weishang.inventory.models import BatchTracking
from weishang.purchasing import selectors, services
from weishang.purchasing.models import (
    POStatus,
    PurchaseOrder,
    ReceiptLine,
    Supplier,
    SupplierBill,
    SupplierPrice,
)
from weishang.trade.models import Location, LocationKind

NEW = "purchasing.add_purchaseorder"
STEP = "purchasing.change_purchaseorder"
RECEIVE = "purchasing.receive_purchaseorder"
BILL = "purchasing.add_supplierbill"
PAY = "purchasing.pay_supplierbill"
LINES = 6  # line rows on the new order form


class SupplierForm(forms.ModelForm):
    class Meta:
        model = Supplier
        fields = ("name", "contact", "phone", "email", "address", "payment_days", "terms", "active")


@admin.register(Supplier)
class SupplierAdmin(ModelAdmin):
    form = SupplierForm
    list_display = ("name", "contact", "phone", "payment_days", "active")
    search_fields = ("name", "contact", "phone")
    list_filter = ("active",)
    change_form_outer_after_template = "admin/purchasing/supplier_after.html"

    def has_delete_permission(self, request, obj=None):
        return False  # switched off, never deleted: its orders and bills keep it

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.supplier_save(supplier=obj if change else None, **data)
        obj.pk = saved.pk

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None:
            extra["performance"] = selectors.supplier_performance(obj)
            extra["owed"] = selectors.owed_to(obj)
            extra["prices"] = obj.prices.select_related("sku")
        return super().change_view(request, object_id, form_url, extra_context=extra)


class SupplierPriceForm(forms.ModelForm):
    unit_price = forms.DecimalField(label=_("unit price"), min_value=0, max_value=100_000_000, decimal_places=2)

    class Meta:
        model = SupplierPrice
        fields = ("supplier", "sku", "unit_price", "lead_time_days", "min_quantity")


@admin.register(SupplierPrice)
class SupplierPriceAdmin(ModelAdmin):
    form = SupplierPriceForm
    list_display = ("supplier", "sku", "unit_price", "lead_time_days", "min_quantity")
    list_select_related = ("supplier", "sku")
    list_filter = ("supplier",)
    search_fields = ("supplier__name", "sku__code")
    autocomplete_fields = ("sku",)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.supplier_price_set(
            supplier=data["supplier"],
            sku=data["sku"],
            unit_price=data["unit_price"],
            lead_time_days=data["lead_time_days"],
            min_quantity=data["min_quantity"],
        )
        obj.pk = saved.pk


class NewOrderForm(forms.Form):
    supplier = forms.ModelChoiceField(label=_("supplier company"), queryset=Supplier.objects.filter(active=True))
    location = forms.ModelChoiceField(
        label=_("deliver to"), queryset=Location.objects.filter(kind=LocationKind.WAREHOUSE), required=False
    )
    expected_date = forms.DateField(
        label=_("expected by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = kit.text_field(_("note"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        skus = SKU.objects.filter(active=True).order_by("code")
        for i in range(LINES):
            self.fields[f"sku_{i}"] = forms.ModelChoiceField(label=_("SKU"), queryset=skus, required=False)
            self.fields[f"quantity_{i}"] = forms.IntegerField(
                label=_("units ordered"), min_value=1, max_value=10_000_000, required=False
            )
            self.fields[f"price_{i}"] = forms.DecimalField(
                label=_("unit price"),
                min_value=0,
                max_value=100_000_000,
                decimal_places=2,
                required=False,
                help_text=_("Empty: the supplier's price."),
            )

    def line_rows(self):
        return [(self[f"sku_{i}"], self[f"quantity_{i}"], self[f"price_{i}"]) for i in range(LINES)]

    def lines(self):
        out = []
        for i in range(LINES):
            sku, quantity = self.cleaned_data.get(f"sku_{i}"), self.cleaned_data.get(f"quantity_{i}")
            if sku is not None and quantity:
                out.append((sku, quantity, self.cleaned_data.get(f"price_{i}")))
        return out


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ModelAdmin):
    list_display = ("number", "supplier", "status", "expected_date", "created_at")
    list_select_related = ("supplier",)
    list_filter = ("status", "supplier")
    search_fields = ("number", "supplier__name")
    fields = ("number", "supplier", "location", "status", "expected_date", "note", "created_at", "sent_at")
    readonly_fields = fields
    change_form_outer_after_template = "admin/purchasing/order_after.html"
    change_list_template = "admin/purchasing/order_change_list.html"

    def has_add_permission(self, request):
        return False  # a new order is written on its own page ("new/"): lines and all, one service call

    def has_delete_permission(self, request, obj=None):
        return False  # cancelled, never deleted

    def changelist_view(self, request, extra_context=None):
        extra = {"can_new": kit.console_can(request.user, (NEW,)), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("new/", view(self.new_view), name="purchasing_purchaseorder_new"),
            path("from-reorder/", view(self.from_reorder_view), name="purchasing_purchaseorder_from_reorder"),
            path("<id:pk>/step/", view(self.step_view), name="purchasing_purchaseorder_step"),
            path("<id:pk>/receive/", view(self.receive_view), name="purchasing_purchaseorder_receive"),
            path("<id:pk>/bill/", view(self.bill_view), name="purchasing_purchaseorder_bill"),
            path("<id:pk>/pay/", view(self.pay_view), name="purchasing_purchaseorder_pay"),
            path("<id:pk>/photo/", view(self.photo_view), name="purchasing_purchaseorder_photo"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None:
            user = request.user
            open_ = obj.status in (POStatus.SENT, POStatus.CONFIRMED, POStatus.PARTIAL)
            lines = list(obj.lines.select_related("sku"))
            tracked = set(
                BatchTracking.objects.filter(sku_id__in=[line.sku_id for line in lines]).values_list(
                    "sku_id", flat=True
                )
            )
            for line in lines:
                line.batch_tracked = line.sku_id in tracked
            extra.update(
                lines=lines,
                total=obj.total,
                receipts=obj.receipts.prefetch_related("lines__line__sku"),
                bills=obj.bills.all(),
                steps=[m for m, (sources, _t) in services.PO_MOVES.items() if obj.status in sources]
                if kit.console_can(user, (STEP,))
                else [],
                can_receive=open_ and kit.console_can(user, (RECEIVE,)),
                can_bill=any(line.accepted > line.billed for line in lines) and kit.console_can(user, (BILL,)),
                can_pay=kit.console_can(user, (PAY,)),
                step_words={move: services.step_words(move) for move in services.PO_MOVES},
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def _order_step(self, request, pk: int, perm: str, act):
        """A step on order ``pk`` posted from its page: refused without ``perm``, taken by ``act(po)``
        (a service call returning the message to show), a refusal shown as a message."""
        if not kit.console_can(request.user, (perm,)):
            raise PermissionDenied
        po = get_object_or_404(PurchaseOrder, pk=pk)
        if request.method == "POST":
            try:
                text = act(po)
            except BusinessError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(request, text)
        return redirect("admin:purchasing_purchaseorder_change", pk)

    def new_view(self, request):
        if not kit.console_can(request.user, (NEW,)):
            raise PermissionDenied
        form = NewOrderForm(request.POST or None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                try:
                    po = services.po_create(
                        supplier=form.cleaned_data["supplier"],
                        lines=form.lines(),
                        location=form.cleaned_data.get("location"),
                        expected_date=form.cleaned_data.get("expected_date"),
                        note=form.cleaned_data.get("note") or "",
                        by=request.user,
                    )
                except BusinessError as exc:
                    messages.error(request, str(exc.message))
                else:
                    messages.success(request, gettext("Purchase order %(number)s drafted.") % {"number": po.number})
                    return redirect("admin:purchasing_purchaseorder_change", po.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("New purchase order"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/purchasing/order_new.html", context, status=status)

    def from_reorder_view(self, request):
        if not kit.console_can(request.user, (NEW,)):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:inventory_reorderrule_changelist")
        made = services.pos_from_proposals(by=request.user)
        messages.success(
            request,
            gettext("%(n)d draft purchase order(s) made from the reorder rules.") % {"n": len(made)},
        )
        return redirect("admin:purchasing_purchaseorder_changelist")

    def step_view(self, request, pk: int):
        def act(po):
            done = services.po_move(po=po, move=request.POST.get("move", ""), by=request.user)
            return gettext("Purchase order %(number)s is %(status)s now.") % {
                "number": done.number,
                "status": done.get_status_display(),
            }

        return self._order_step(request, pk, STEP, act)

    def receive_view(self, request, pk: int):
        def act(po):
            post = request.POST
            lines = {
                line.pk: (
                    post.get(f"accepted-{line.pk}", "0") or "0",
                    post.get(f"rejected-{line.pk}", "0") or "0",
                    post.get(f"reason-{line.pk}", ""),
                )
                for line in po.lines.all()
            }
            photos = {line.pk: request.FILES.get(f"photo-{line.pk}") for line in po.lines.all()}
            batches = {
                line.pk: (post.get(f"batch-{line.pk}", ""), post.get(f"expires-{line.pk}", ""))
                for line in po.lines.all()
            }
            receipt = services.po_receive(
                batches=batches,
                po=po,
                lines=lines,
                freight=post.get("freight") or "0",
                duties=post.get("duties") or "0",
                note=post.get("note", ""),
                photos=photos,
                by=request.user,
            )
            return gettext("Receipt %(number)s recorded.") % {"number": receipt.number}

        return self._order_step(request, pk, RECEIVE, act)

    def bill_view(self, request, pk: int):
        def act(po):
            post = request.POST
            lines = {
                line.pk: (post.get(f"billed-{line.pk}", "0") or "0", post.get(f"price-{line.pk}") or None)
                for line in po.lines.all()
            }
            bill = services.bill_enter(po=po, number=post.get("number", ""), lines=lines, by=request.user)
            return gettext("Bill %(number)s posted: ¥%(total)s to pay by %(due)s.") % {
                "number": bill.number,
                "total": bill.total,
                "due": bill.due_date,
            }

        return self._order_step(request, pk, BILL, act)

    def pay_view(self, request, pk: int):
        """Pay one of the order's bills (the form names it: ``bill``)."""

        def act(po):
            bill_id = request.POST.get("bill", "")
            bill = get_object_or_404(SupplierBill, pk=converters.id_or_none(bill_id) or 0, order=po)
            payment = services.bill_pay(
                bill=bill,
                amount=request.POST.get("amount", ""),
                reference=request.POST.get("reference", ""),
                by=request.user,
            )
            return gettext("¥%(amount)s paid on bill %(number)s.") % {"amount": payment.amount, "number": bill.number}

        return self._order_step(request, pk, PAY, act)

    def photo_view(self, request, pk: int):
        """An inspection photo of the order's receipts (``?line=<receipt line id>``), to staff who may
        see the order: never a public URL."""
        if not kit.console_can(request.user, ("purchasing.view_purchaseorder",)):
            raise PermissionDenied
        found = get_object_or_404(
            ReceiptLine.objects.exclude(photo=""),
            pk=converters.id_or_none(request.GET.get("line")) or 0,
            receipt__order_id=pk,
        )
        return image_response(found.photo)


@admin.register(SupplierBill)
class SupplierBillAdmin(kit.ReadOnlyAdmin):
    list_display = ("number", "supplier", "order", "bill_date", "due_date", "total", "paid", "status")
    list_select_related = ("supplier", "order")
    list_filter = ("status", "supplier")
    search_fields = ("number", "supplier__name", "order__number")
    fields = ("number", "supplier", "order", "bill_date", "due_date", "total", "paid", "status", "entry")
