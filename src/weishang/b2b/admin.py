"""B2B trade in the console: the brand opens business accounts and their logins, and reads every
deal (listings, inquiries with their rounds, orders with payments, shipments and claims, credit
notes). The deals themselves are made by the companies' people on their pages (/b2b/).

Who: owner and operations open and change business accounts and members (b2b.add/change_*); they
read listings, inquiries, orders, claims and credit notes; finance reads business accounts,
orders and credit notes (the brand's receivables). The warehouse and lecturers see none of it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from weishang.b2b import services
from weishang.b2b.models import (
    BusinessAccount,
    BusinessMember,
    Claim,
    CreditNote,
    Inquiry,
    Listing,
    MemberRole,
    Offer,
    Order,
    OrderLine,
    Payment,
    PriceTier,
    Shipment,
)
from weishang.console import kit


class AccountForm(forms.ModelForm):
    class Meta:
        model = BusinessAccount
        fields = ("name", "kind", "contact_name", "phone", "address", "tax_id", "active")


class MemberInline(kit.ReadOnlyInline):
    model = BusinessMember
    fields = ("user", "role", "active")


@admin.register(BusinessAccount)
class BusinessAccountAdmin(ModelAdmin):
    form = AccountForm
    list_display = ("name", "kind", "is_brand", "contact_name", "phone", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "contact_name", "phone")
    inlines = (MemberInline,)

    def get_readonly_fields(self, request, obj=None):
        return ("name",) if obj is not None else ()  # documents carry the name: it is set once

    def has_delete_permission(self, request, obj=None):
        return False  # switched off, never deleted: its deals keep it

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.account_update(
                account=obj,
                kind=data["kind"],
                contact_name=data["contact_name"],
                phone=data["phone"],
                address=data["address"],
                tax_id=data["tax_id"],
                active=data["active"],
            )
        else:
            saved = services.account_create(
                name=data["name"],
                kind=data["kind"],
                contact_name=data["contact_name"],
                phone=data["phone"],
                address=data["address"],
                tax_id=data["tax_id"],
            )
            obj.pk = saved.pk


class NewMemberForm(forms.ModelForm):
    """A new login for a company: its user name and first password (the person changes it)."""

    username = forms.CharField(label=_("user name"), max_length=150)
    name = forms.CharField(label=_("name"), max_length=30, required=False)
    password = forms.CharField(label=_("password"), min_length=8, max_length=128, widget=forms.PasswordInput)

    class Meta:
        model = BusinessMember
        fields = ("account", "role")

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username=username).exists():
            raise forms.ValidationError(_("This user name is taken."))
        return username


class MemberForm(forms.ModelForm):
    class Meta:
        model = BusinessMember
        fields = ("role", "active")


@admin.register(BusinessMember)
class BusinessMemberAdmin(ModelAdmin):
    list_display = ("user", "account", "role", "active")
    list_select_related = ("user", "account")
    list_filter = ("role", "active", "account")
    search_fields = ("user__username", "account__name")

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = MemberForm if obj is not None else NewMemberForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ("role", "active") if obj is not None else ("account", "username", "name", "password", "role")

    def get_readonly_fields(self, request, obj=None):
        return ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.member_update(member=obj, role=data["role"], active=data["active"])
        else:
            saved = services.member_add(
                account=data["account"],
                username=data["username"],
                password=data["password"],
                role=data["role"] or MemberRole.BUYER,
                name=data.get("name", ""),
            )
            obj.pk = saved.pk


class TierInline(kit.ReadOnlyInline):
    model = PriceTier
    fields = ("min_quantity", "unit_price")
    view_perm = "b2b.view_listing"


@admin.register(Listing)
class ListingAdmin(kit.ReadOnlyAdmin):
    list_display = ("title", "seller", "sku", "min_quantity", "lead_days", "warranty_days", "active")
    list_select_related = ("seller", "sku")
    list_filter = ("active", "seller")
    search_fields = ("title", "seller__name")
    fields = ("seller", "sku", "title", "description", "unit", "min_quantity", "lead_days", "warranty_days", "active")
    inlines = (TierInline,)


class OfferInline(kit.ReadOnlyInline):
    model = Offer
    fields = ("round", "side", "total", "terms", "deposit_percent", "delivery_date", "valid_until", "status", "note")
    view_perm = "b2b.view_inquiry"


@admin.register(Inquiry)
class InquiryAdmin(kit.ReadOnlyAdmin):
    list_display = ("number", "buyer", "seller", "status", "wanted_date", "created_at")
    list_select_related = ("buyer", "seller")
    list_filter = ("status",)
    search_fields = ("number", "buyer__name", "seller__name")
    fields = ("number", "buyer", "seller", "wanted_date", "note", "status", "created_by", "created_at")
    inlines = (OfferInline,)


class OrderLineInline(kit.ReadOnlyInline):
    model = OrderLine
    fields = ("title", "quantity", "unit_price", "shipped", "replacements_due", "warranty_days")
    view_perm = "b2b.view_order"


class PaymentInline(kit.ReadOnlyInline):
    model = Payment
    fields = ("number", "kind", "amount", "reference", "recorded_at")
    view_perm = "b2b.view_order"


class ShipmentInline(kit.ReadOnlyInline):
    model = Shipment
    fields = ("number", "carrier", "tracking_number", "shipped_at", "received_at")
    view_perm = "b2b.view_order"


@admin.register(Order)
class OrderAdmin(kit.ReadOnlyAdmin):
    list_display = ("number", "seller", "buyer", "total", "terms", "status", "created_at")
    list_select_related = ("seller", "buyer")
    list_filter = ("status", "terms")
    search_fields = ("number", "buyer__name", "seller__name")
    fields = ("number", "seller", "buyer", "terms", "deposit_amount", "total", "delivery_date", "status", "balance")
    readonly_fields = ("balance",)
    inlines = (OrderLineInline, PaymentInline, ShipmentInline)

    @admin.display(description=_("left to pay on the order"))
    def balance(self, obj):
        return f"¥{services.statement(obj).unpaid}"


@admin.register(Claim)
class ClaimAdmin(kit.ReadOnlyAdmin):
    list_display = ("number", "order", "line", "kind", "quantity", "status", "resolution", "opened_at")
    list_select_related = ("order", "line")
    list_filter = ("status", "kind", "resolution")
    search_fields = ("number", "order__number")
    fields = ("number", "order", "line", "kind", "quantity", "reason", "status", "resolution", "answer", "resolved_at")


@admin.register(CreditNote)
class CreditNoteAdmin(kit.ReadOnlyAdmin):
    list_display = ("number", "order", "claim", "amount", "issued_at")
    list_select_related = ("order", "claim")
    search_fields = ("number", "order__number")
    fields = ("number", "order", "claim", "amount", "issued_at", "issued_by")
