"""Promotions in the console (section 增长 / Growth): coupon offers and flash sales — create, pause
or resume, give a coupon to a customer — and the report of what each brought (orders, units,
revenue, the discount given, budget left, new customers). Records change only through
``promotions.services``; who may do what: core.roles (owner and operations)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminSplitDateTimeWidget,
    UnfoldAdminTextInputWidget,
)

from weishang.catalog.models import SKU
from weishang.channel.models import Agent, AgentStatus
from weishang.console import kit
from weishang.core.errors import BusinessError
from weishang.promotions import selectors, services
from weishang.promotions.models import (
    Coupon,
    CouponOffer,
    DiscountKind,
    FlashSale,
    FundedBy,
    PromotionStatus,
)


def _money(label, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, required=required, max_digits=14, decimal_places=2, widget=UnfoldAdminDecimalFieldWidget
    )


def _count(label, initial: int = 1) -> forms.IntegerField:
    return forms.IntegerField(label=label, initial=initial, widget=UnfoldAdminIntegerFieldWidget)


def _when(label) -> forms.SplitDateTimeField:
    return forms.SplitDateTimeField(label=label, widget=UnfoldAdminSplitDateTimeWidget)


class OfferForm(forms.Form):
    name = kit.text_field(_("name"), required=True, max_length=60)
    kind = forms.ChoiceField(label=_("discount"), choices=DiscountKind.choices, widget=UnfoldAdminSelectWidget)
    amount_off = _money(_("amount off"), required=False)
    percent_off = forms.IntegerField(label=_("percent off"), required=False, widget=UnfoldAdminIntegerFieldWidget)
    max_discount = _money(_("at most"), required=False)
    min_spend = _money(_("minimum spend"), required=False)
    skus = forms.ModelMultipleChoiceField(
        label=_("SKUs (none: all)"), queryset=SKU.objects.filter(active=True), required=False
    )
    valid_from = _when(_("valid from"))
    valid_to = _when(_("valid to"))
    total_quantity = _count(_("coupons to give out"), 100)
    per_customer = _count(_("per customer"))
    agent = forms.ModelChoiceField(
        label=_("issuing agent (their own coupon, funded by them; empty: the brand's)"),
        queryset=Agent.objects.filter(status=AgentStatus.ACTIVE),
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    budget = _money(_("budget"), required=False)


class FlashForm(forms.Form):
    name = kit.text_field(_("name"), required=True, max_length=60)
    sku = forms.ModelChoiceField(
        label=_("SKU"), queryset=SKU.objects.filter(active=True), widget=UnfoldAdminSelectWidget
    )
    price = _money(_("flash price"))
    starts_at = _when(_("starts"))
    ends_at = _when(_("ends"))
    quantity = _count(_("units on offer"), 10)
    per_customer = _count(_("per customer"))
    funded_by = forms.ChoiceField(label=_("funded by"), choices=FundedBy.choices, widget=UnfoldAdminSelectWidget)


class GiveForm(forms.Form):
    phone = forms.CharField(label=_("customer's phone"), max_length=20, widget=UnfoldAdminTextInputWidget)


def _figures(report: dict) -> str:
    left = "—" if report["budget_left"] is None else f"¥{report['budget_left']}"
    return gettext("%(orders)d orders · %(units)d units · ¥%(revenue)s · discount ¥%(discount)s · left %(left)s") % {
        **report,
        "left": left,
    }


class _PromotionAdmin(kit.ReadOnlyAdmin):
    list_before_template = "admin/promotions/tools.html"
    new_name = ""
    perm_prefix = ""

    def _page(self, request, template: str, title: str, status: int = 200, **context):
        context = {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta, **context}
        return TemplateResponse(request, template, context, status=status)

    def changelist_view(self, request, extra_context=None):
        extra = {
            "new_url": reverse(f"admin:{self.new_name}"),
            "report_url": reverse("admin:promotions_report"),
            "can_add": request.user.has_perm(f"promotions.add_{self.perm_prefix}"),
        }
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    @admin.display(description=_("status"))
    def status_label(self, obj):
        return obj.get_status_display()

    @admin.display(description=_("pause / resume"))
    def toggle(self, obj):
        label = gettext("Pause") if obj.status == PromotionStatus.ACTIVE else gettext("Resume")
        return format_html(
            '<a class="text-primary-600 underline" href="{}">{}</a>',
            reverse(f"admin:promotions_{self.perm_prefix}_toggle", args=[obj.pk]),
            label,
        )

    def toggle_view(self, request, pk: int):
        """Pause a running promotion or resume a paused one (a confirmation page, then POST)."""
        if not request.user.has_perm(f"promotions.change_{self.perm_prefix}"):
            raise PermissionDenied
        promotion = get_object_or_404(self.model, pk=pk)
        pausing = promotion.status == PromotionStatus.ACTIVE
        if request.method == "POST":
            new = PromotionStatus.PAUSED if pausing else PromotionStatus.ACTIVE
            services.promotion_set_status(promotion=promotion, status=new, by=request.user)
            messages.success(
                request,
                gettext("%(name)s: %(status)s.") % {"name": promotion.name, "status": promotion.get_status_display()},
            )
            return redirect(f"admin:promotions_{self.perm_prefix}_change", pk)
        title = (gettext("Pause %(name)s?") if pausing else gettext("Resume %(name)s?")) % {"name": promotion.name}
        label = gettext("Pause") if pausing else gettext("Resume")
        return self._page(request, "admin/console/form_page.html", title, form=kit.ConfirmForm(), submit_label=label)


@admin.register(CouponOffer)
class CouponOfferAdmin(_PromotionAdmin):
    new_name = "promotions_couponoffer_new"
    perm_prefix = "couponoffer"
    list_display = (
        "name",
        "discount_display",
        "funded_by",
        "valid_from",
        "valid_to",
        "claimed_display",
        "status_label",
    )
    list_filter = ("status", "funded_by")
    search_fields = ("name",)
    fields = (
        "name",
        "discount_display",
        "min_spend",
        "skus_display",
        "valid_from",
        "valid_to",
        "claimed_display",
        "per_customer",
        "funded_by",
        "agent",
        "budget",
        "report_display",
        "status_label",
        "toggle",
        "give",
        "created_by",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("discount"))
    def discount_display(self, obj):
        if obj.kind == DiscountKind.PERCENT:
            text = f"{obj.percent_off}%"
            return text + (gettext(" (at most ¥%(m)s)") % {"m": obj.max_discount} if obj.max_discount else "")
        return f"¥{obj.amount_off}"

    @admin.display(description=_("SKUs"))
    def skus_display(self, obj):
        return ", ".join(sku.name for sku in obj.skus.all()) or gettext("all")

    @admin.display(description=_("claimed"))
    def claimed_display(self, obj):
        return f"{obj.claimed} / {obj.total_quantity}"

    @admin.display(description=_("report"))
    def report_display(self, obj):
        return _figures(selectors.offer_report(offer=obj))

    @admin.display(description=_("give to a customer"))
    def give(self, obj):
        return format_html(
            '<a class="text-primary-600 underline" href="{}">{}</a>',
            reverse("admin:promotions_couponoffer_give", args=[obj.pk]),
            gettext("Give a coupon"),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("new/", view(self.new_view), name="promotions_couponoffer_new"),
            path("report/", view(self.report_view), name="promotions_report"),
            path("<id:pk>/toggle/", view(self.toggle_view), name="promotions_couponoffer_toggle"),
            path("<id:pk>/give/", view(self.give_view), name="promotions_couponoffer_give"),
            *super().get_urls(),
        ]

    def new_view(self, request):
        if not request.user.has_perm("promotions.add_couponoffer"):
            raise PermissionDenied
        form = OfferForm(request.POST or None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                data = form.cleaned_data
                try:
                    offer = services.coupon_offer_create(
                        by=request.user,
                        name=data["name"],
                        kind=data["kind"],
                        amount_off=data["amount_off"],
                        percent_off=data["percent_off"],
                        max_discount=data["max_discount"],
                        min_spend=data["min_spend"] or 0,
                        skus=data["skus"],
                        valid_from=data["valid_from"],
                        valid_to=data["valid_to"],
                        total_quantity=data["total_quantity"],
                        per_customer=data["per_customer"],
                        funded_by=FundedBy.SELLER if data["agent"] else FundedBy.BRAND,
                        agent=data["agent"],
                        budget=data["budget"],
                    )
                except BusinessError as exc:
                    status = kit.form_error(form, exc)
                else:
                    messages.success(request, gettext("Coupon offer %(name)s created.") % {"name": offer.name})
                    return redirect("admin:promotions_couponoffer_change", offer.pk)
        return self._page(request, "admin/console/form_page.html", gettext("New coupon offer"), status, form=form)

    def give_view(self, request, pk: int):
        if not request.user.has_perm("promotions.change_couponoffer"):
            raise PermissionDenied
        offer = get_object_or_404(CouponOffer, pk=pk)
        form = GiveForm(request.POST or None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                try:
                    coupon = services.coupon_claim(offer=offer, phone=form.cleaned_data["phone"], by=request.user)
                except BusinessError as exc:
                    status = kit.form_error(form, exc)
                else:
                    messages.success(
                        request,
                        gettext("Coupon %(code)s given to %(phone)s.")
                        % {"code": coupon.code, "phone": coupon.customer.phone},
                    )
                    return redirect("admin:promotions_couponoffer_change", offer.pk)
        title = gettext("Give a coupon: %(name)s") % {"name": offer.name}
        return self._page(request, "admin/console/form_page.html", title, status, form=form)

    def report_view(self, request):
        if not (
            request.user.has_perm("promotions.view_couponoffer") or request.user.has_perm("promotions.view_flashsale")
        ):
            raise PermissionDenied
        rows = [
            (gettext("Coupon"), offer, selectors.offer_report(offer=offer)) for offer in CouponOffer.objects.all()[:200]
        ] + [(gettext("Flash sale"), sale, selectors.flash_report(sale=sale)) for sale in FlashSale.objects.all()[:200]]
        return self._page(request, "admin/promotions/report.html", gettext("Promotions report"), rows=rows)


@admin.register(FlashSale)
class FlashSaleAdmin(_PromotionAdmin):
    new_name = "promotions_flashsale_new"
    perm_prefix = "flashsale"
    list_display = ("name", "sku", "price", "starts_at", "ends_at", "sold_display", "funded_by", "status_label")
    list_filter = ("status", "funded_by")
    list_select_related = ("sku",)
    search_fields = ("name", "sku__name", "sku__code")
    fields = (
        "name",
        "sku",
        "price",
        "starts_at",
        "ends_at",
        "sold_display",
        "per_customer",
        "funded_by",
        "report_display",
        "status_label",
        "toggle",
        "created_by",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("sold"))
    def sold_display(self, obj):
        return f"{obj.sold} / {obj.quantity}"

    @admin.display(description=_("report"))
    def report_display(self, obj):
        return _figures(selectors.flash_report(sale=obj))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("new/", view(self.new_view), name="promotions_flashsale_new"),
            path("<id:pk>/toggle/", view(self.toggle_view), name="promotions_flashsale_toggle"),
            *super().get_urls(),
        ]

    def new_view(self, request):
        if not request.user.has_perm("promotions.add_flashsale"):
            raise PermissionDenied
        form = FlashForm(request.POST or None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                data = form.cleaned_data
                try:
                    sale = services.flash_sale_create(by=request.user, **data)
                except BusinessError as exc:
                    status = kit.form_error(form, exc)
                else:
                    messages.success(request, gettext("Flash sale %(name)s created.") % {"name": sale.name})
                    return redirect("admin:promotions_flashsale_change", sale.pk)
        return self._page(request, "admin/console/form_page.html", gettext("New flash sale"), status, form=form)


@admin.register(Coupon)
class CouponAdmin(kit.ReadOnlyAdmin):
    list_display = ("code", "offer", "customer", "status", "order", "claimed_at", "used_at")
    list_filter = ("status",)
    list_select_related = ("offer", "customer", "order")
    search_fields = ("code", "customer__phone", "offer__name")
    fields = ("code", "offer", "customer", "status", "order", "given_by", "claimed_at", "used_at")
    readonly_fields = fields
