"""Console pages for trade: orders, payments, stock, wallets, customers.

Every record here is read-only. Staff act only where the brand is the party (company orders,
pick-ups, payments addressed to brand finance, the company warehouse), through custom pages
that call ``trade.services`` / ``trade.stock`` with ``request.user``; a BusinessError from a
service is shown on the page and nothing changes. Statuses are never edited as fields.

Who may act (the roles in core.roles grant model permissions only, so the actions are keyed on
those; see ``CONSOLE_PERMS``):

- deciding an order or a refund: change orders and see their payments (owner, operations);
- the physical steps (fill, ship a pick-up, mark delivered): change orders (owner, operations, warehouse);
- confirming / rejecting a payment to brand finance: change payments (owner, finance);
- receiving stock into the company warehouse: see the stock ledger and the locations (owner, warehouse);
- stock verify (read only): see stock on hand (owner, operations, warehouse).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action
from unfold.widgets import (
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
)

from weishang.catalog.models import SKU
from weishang.channel.models import Agent, ReferrerLink
from weishang.console import kit
from weishang.console.exports import (
    ExportMixin,
    OrderResource,
    PaymentResource,
    StockLevelResource,
    StockMoveResource,
)
from weishang.core import converters
from weishang.core.errors import BusinessError, Conflict
from weishang.core.files import image_response
from weishang.core.models import SupplyMode
from weishang.ledger.models import Purpose
from weishang.trade import selectors, services, stock, workflow
from weishang.trade.models import (
    Customer,
    Location,
    LocationKind,
    Order,
    OrderLine,
    OrderStatus,
    OrderTransition,
    Payment,
    PaymentStatus,
    ReceivingAccount,
    StockLevel,
    StockMove,
    StockReason,
)

S = OrderStatus

CONSOLE_PERMS: dict[str, tuple[str, ...]] = {
    "order_decide": ("trade.change_order", "trade.view_payment"),
    "order_handle": ("trade.change_order",),
    "payment_decide": ("trade.change_payment",),
    "stock_receive": ("trade.view_stockmove", "trade.view_location"),
    "stock_verify": ("trade.view_stocklevel",),
}


STATUS_LABELS = {
    S.DRAFT: "info",
    S.SUBMITTED: "warning",
    S.APPROVED: "info",
    S.AWAITING_PAYMENT: "warning",
    S.PAID: "primary",
    S.FULFILLED: "primary",
    S.COMPLETED: "success",
    S.REJECTED: "danger",
    S.CANCELLED: "danger",
    S.REFUND_REQUESTED: "warning",
    S.REFUNDED: "danger",
}
PAYMENT_LABELS = {
    PaymentStatus.PENDING: "warning",
    PaymentStatus.CONFIRMED: "success",
    PaymentStatus.REJECTED: "danger",
}


def _link(url: str, text) -> str:
    return format_html('<a class="text-primary-600 underline" href="{}">{}</a>', url, text)


def _the_company() -> str:
    return gettext("the company")


def _brand_finance() -> str:
    return gettext("Brand finance (品牌财务)")


def _party(order: Order) -> str:
    if order.buyer_id:
        return f"{order.buyer.real_name} {order.buyer.phone}".strip()
    if order.customer_id:
        return f"{order.customer.name} {order.customer.phone}".strip()
    return "—"


def _supply_mode_label(value: str) -> str:
    try:
        return str(SupplyMode(value).label)
    except ValueError:
        return value or "—"


# --- read side: where an order is filled from, whether it is short, who acts next -----------
# (trade.selectors: fill_source, order_availability, next_step)


# --- forms ----------------------------------------------------------------------------------


class ShipForm(forms.Form):
    carrier = kit.text_field(_("Carrier"), required=True, max_length=40)
    tracking_number = kit.text_field(_("Tracking number"), required=True, max_length=60)


class FillForm(forms.Form):
    carrier = kit.text_field(_("Carrier (if shipped)"), required=False, max_length=40)
    tracking_number = kit.text_field(_("Tracking number (if shipped)"), required=False, max_length=60)


class CodesForm(forms.Form):
    """The codes of what goes out (the codes app's scan step): a scanner types them, one per line."""

    codes = forms.CharField(
        label=_("Box or item codes (a scanner types one per line)"),
        max_length=20000,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 6, "autofocus": True, "autocomplete": "off"}),
    )


class StuckFillForm(forms.Form):
    note = kit.text_field(_("Why"), required=True, max_length=300)
    carrier = kit.text_field(_("Carrier (if shipped)"), required=False, max_length=40)
    tracking_number = kit.text_field(_("Tracking number (if shipped)"), required=False, max_length=60)


class ReceiveStockForm(forms.Form):
    sku = forms.ModelChoiceField(
        label=_("SKU"), queryset=SKU.objects.filter(active=True), widget=UnfoldAdminSelectWidget
    )
    quantity = forms.IntegerField(
        label=_("Units received"), min_value=1, max_value=1_000_000, widget=UnfoldAdminIntegerFieldWidget
    )
    supplier = forms.ModelChoiceField(
        label=_("From supplier"),
        required=False,
        widget=UnfoldAdminSelectWidget,
        queryset=Location.objects.filter(kind=LocationKind.SUPPLIER),
        empty_label=_("Suppliers (default)"),
    )
    warehouse = forms.ModelChoiceField(
        label=_("Into warehouse"),
        required=False,
        widget=UnfoldAdminSelectWidget,
        queryset=Location.objects.filter(kind=LocationKind.WAREHOUSE),
        empty_label=_("Company warehouse (main)"),
    )
    unit_cost = forms.DecimalField(
        label=_("Cost per unit (yuan)"),
        required=False,
        min_value=0,
        max_value=1_000_000,
        max_digits=14,
        decimal_places=4,
        help_text=_(
            "What one unit cost, paid outside purchase orders: the warehouse's stock is valued at moving "
            "average cost. Empty: at the current average. Goods bought on a purchase order are received there."
        ),
    )
    note = kit.text_field(_("Note (delivery note, batch)"), required=False, max_length=200)


# --- order steps the brand takes ------------------------------------------------------------


# Each step of trade.workflow asks for an input; in the console, this form fills it in.
STEP_FORMS = {
    "confirm": kit.ConfirmForm,
    "note": kit.OptionalNoteForm,
    "reason": kit.RequiredNoteForm,
    "fill": FillForm,
    "ship": ShipForm,
    "stuck_fill": StuckFillForm,
    "codes": CodesForm,
}


def console_steps(flow: workflow.Workflow) -> dict[str, kit.Step]:
    """The order steps brand staff take in the console, one page each: ``flow``'s steps for the
    brand, and the seller's on the company's own orders (``Step.brand_is_party``)."""
    return {
        step.name: kit.Step(
            label=step.label,
            perm=step.perm,
            party=step.brand_is_party,
            statuses=step.statuses,
            form=STEP_FORMS[step.input],
            run=step.run,
            done=step.done,
            url_path=step.slug,
            icon=step.icon,
        )
        for step in flow.console_steps()
        if step.input in STEP_FORMS
    }


# The workflow in force when the console's pages are discovered: trade's own steps and those
# other apps installed (console/apps.py discovers the pages after every app is ready).
ORDER_STEPS = console_steps(workflow.current())


# --- orders ---------------------------------------------------------------------------------


class OrderLineInline(kit.ReadOnlyInline):
    model = OrderLine
    view_perm = "trade.view_order"
    fields = ("sku", "quantity", "unit_price", "line_total")
    verbose_name_plural = _("lines")


class OrderTransitionInline(kit.ReadOnlyInline):
    model = OrderTransition
    view_perm = "trade.view_order"
    fields = ("at", "from_status", "to_status", "by", "note")
    verbose_name_plural = _("status changes (who, when)")


def _screenshot(payment: Payment, size: str = "h-12"):
    if not payment.screenshot:
        return "—"
    url = reverse("admin:trade_payment_screenshot", args=[payment.pk])
    return format_html(
        '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="{}" class="{} rounded border '
        'dark:border-base-700"></a>',
        url,
        url,
        gettext("transfer screenshot"),
        size,
    )


class PaymentInline(kit.ReadOnlyInline):
    model = Payment
    fk_name = "order"
    fields = (
        "payment_link",
        "method",
        "amount",
        "status",
        "receiver_display",
        "screenshot_preview",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    view_perm = "trade.view_payment"
    verbose_name_plural = _("payments")

    @admin.display(description=_("payment"))
    def payment_link(self, obj):
        return format_html(
            '<a class="text-primary-600 underline" href="{}">#{} {}</a>',
            reverse("admin:trade_payment_change", args=[obj.pk]),
            obj.pk,
            timezone.localtime(obj.created_at).strftime("%Y-%m-%d %H:%M"),
        )

    @admin.display(description=_("received by"))
    def receiver_display(self, obj):
        return obj.receiver.real_name if obj.receiver_id else _brand_finance()

    @admin.display(description=_("transfer screenshot"))
    def screenshot_preview(self, obj):
        return _screenshot(obj)


class SupplyModeFilter(admin.SimpleListFilter):
    title = _("supply mode")
    parameter_name = "supply_mode"

    def lookups(self, request, model_admin):
        return SupplyMode.choices

    def queryset(self, request, queryset):
        return queryset.filter(supply_mode=self.value()) if self.value() else queryset


class FilledByFilter(kit.EmptyFieldFilter):
    title = _("filled by")
    parameter_name = "filled_by"
    field = "seller"
    values = (("company", _("the company")), ("agent", _("an agent")))


class BrandToActFilter(admin.SimpleListFilter):
    """Orders waiting for a step by brand staff."""

    title = _("waiting for the brand")
    parameter_name = "brand_to_act"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes"))]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        return queryset.filter(selectors.brand_to_act())


class WaitingFilter(admin.SimpleListFilter):
    """Open orders by what they wait for (the dashboard's "orders waiting" figures link here)."""

    title = _("waiting for")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [(name, label) for name, (label, _q) in selectors.order_queues().items()]

    def queryset(self, request, queryset):
        queue = selectors.order_queues().get(self.value() or "")
        return queryset.filter(queue[1]) if queue else queryset


class TeamFilter(admin.SimpleListFilter):
    """Orders bought by one agent's referral team (the agent included): the dashboard's team volume."""

    title = _("bought by the team of")
    parameter_name = "team"

    def lookups(self, request, model_admin):
        value = self.value()
        if converters.id_or_none(value) is not None:
            agent = Agent.objects.filter(pk=value).only("real_name").first()
            if agent is not None:
                return [(value, agent.real_name)]
        return []

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if converters.id_or_none(value) is None:
            raise IncorrectLookupParameters(_("Choose an agent."))
        return queryset.filter(buyer_id__in=ReferrerLink.objects.filter(ancestor_id=value).values("descendant_id"))


@admin.register(Order)
class OrderAdmin(ExportMixin, kit.StepPages, kit.ReadOnlyAdmin):
    resource_classes = [OrderResource]
    export_name = "orders"
    list_per_page = 50  # unfold renders every cell through templates: 50 rows answer in half the time of 100
    list_display = (
        "number",
        "kind",
        "party",
        "seller_display",
        "status_label",
        "total",
        "submitted_at",
        "paid_at",
        "completed_at",
    )
    list_filter = (BrandToActFilter, WaitingFilter, "kind", "status", SupplyModeFilter, FilledByFilter, TeamFilter)
    search_fields = (
        "number",
        "buyer__real_name",
        "buyer__user__phone",
        "customer__name",
        "customer__phone",
        "tracking_number",
    )
    list_select_related = ("buyer__user", "buyer__level", "seller__level", "customer")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "kind",
                    "target_level",
                    "status_display",
                    "next_step_display",
                    "party",
                    "seller_display",
                    "supply_mode_display",
                    "discount",
                    "total",
                    "note",
                )
            },
        ),
        (
            _("Shipping"),
            {
                "fields": (
                    "ship_name",
                    "ship_phone",
                    "ship_region",
                    "ship_address",
                    "carrier",
                    "tracking_number",
                    "shipped_at",
                    "delivered_at",
                )
            },
        ),
        (_("Dates"), {"fields": ("created_at", "submitted_at", "paid_at", "completed_at")}),
    )
    readonly_fields = (
        "number",
        "kind",
        "target_level",
        "status_display",
        "next_step_display",
        "party",
        "seller_display",
        "supply_mode_display",
        "discount",
        "total",
        "note",
        "ship_name",
        "ship_phone",
        "ship_region",
        "ship_address",
        "carrier",
        "tracking_number",
        "shipped_at",
        "delivered_at",
        "created_at",
        "submitted_at",
        "paid_at",
        "completed_at",
    )
    inlines = [OrderLineInline, OrderTransitionInline, PaymentInline]
    change_form_after_template = "admin/trade/order_after.html"
    # Read only: statuses change only through the steps (one page each, console.kit.StepPages).
    steps = ORDER_STEPS
    console_perms = CONSOLE_PERMS
    step_template = "admin/trade/order_action.html"

    def has_order_decide_permission(self, request, obj=None):
        return kit.console_can(request.user, CONSOLE_PERMS["order_decide"])

    def has_order_handle_permission(self, request, obj=None):
        return kit.console_can(request.user, CONSOLE_PERMS["order_handle"])

    # --- columns ----------------------------------------------------------------------------
    @admin.display(description=_("buyer / customer"))
    def party(self, obj):
        return _party(obj)

    @admin.display(description=_("filled by"), ordering="seller")
    def seller_display(self, obj):
        return obj.seller.real_name if obj.seller_id else _the_company()

    status_label, status_display = kit.status_columns(STATUS_LABELS)

    @admin.display(description=_("supply mode"))
    def supply_mode_display(self, obj):
        return _supply_mode_label(obj.supply_mode)

    @admin.display(description=_("next step"))
    def next_step_display(self, obj):
        return selectors.next_step(obj)

    # --- detail page ------------------------------------------------------------------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if order is not None:
            extra.update(
                {
                    "stock_moves": StockMove.objects.filter(order_line__order=order).select_related(
                        "sku", "from_location", "to_location", "created_by"
                    ),
                    "availability": selectors.order_availability(order),
                }
            )
        return super().change_view(request, object_id, form_url, extra)

    # --- the steps' pages ------------------------------------------------------------------
    def not_the_party(self, obj):
        return Conflict(gettext("Order %(number)s is not the brand's to handle this way.") % {"number": obj.number})

    def step_context(self, request, obj, name):
        order = obj
        return {
            "order": order,
            "party": _party(order),
            "seller": order.seller.real_name if order.seller_id else _the_company(),
            "lines": order.lines.select_related("sku"),
            "availability": (
                selectors.order_availability(order)
                if name == "fill"
                else selectors.order_availability(order, as_company=True)
                if name == "company_fill"
                else None
            ),
            "refund": services.cancel_refund(order) if name == "stuck_refund" else None,
            "shop_refund": (
                services.shop_refund_text(shop)
                if name == "stuck_refund" and (shop := services.shop_order_refund(order))
                else None
            ),
            "next_step": selectors.next_step(order),
        }


# --- payments -------------------------------------------------------------------------------


class AddressedToFilter(kit.EmptyFieldFilter):
    title = _("received by")
    parameter_name = "to"
    field = "receiver"
    values = (("brand", _("Brand finance (品牌财务)")), ("agent", _("an agent")))


def _to_brand_finance(payment: Payment) -> bool:
    return payment.receiver_id is None


PAYMENT_STEPS: dict[str, kit.Step] = {
    "confirm_payment": kit.Step(
        label=_("Confirm payment"),
        perm="payment_decide",
        party=_to_brand_finance,
        statuses=(PaymentStatus.PENDING,),
        form=kit.OptionalNoteForm,
        run=lambda p, u, d: services.payment_confirm(payment=p, by=u, note=d["note"]),
        done=_("Payment #%(pk)s confirmed."),
        url_path="confirm",
        icon="check",
    ),
    "reject_payment": kit.Step(
        label=_("Reject payment"),
        perm="payment_decide",
        party=_to_brand_finance,
        statuses=(PaymentStatus.PENDING,),
        form=kit.RequiredNoteForm,
        run=lambda p, u, d: services.payment_reject(payment=p, by=u, note=d["note"]),
        done=_("Payment #%(pk)s rejected."),
        url_path="reject",
        icon="block",
    ),
}


@admin.register(Payment)
class PaymentAdmin(ExportMixin, kit.StepPages, kit.ReadOnlyAdmin):
    resource_classes = [PaymentResource]
    export_name = "payments"
    list_per_page = 50  # unfold renders every cell through templates: 50 rows answer in half the time of 100
    list_display = (
        "id",
        "created_at",
        "method",
        "amount",
        "status_label",
        "receiver_display",
        "paid_for",
        "screenshot_preview",
        "decided_by",
    )
    list_display_links = ("id", "created_at")
    list_filter = ("status", AddressedToFilter, "method")
    search_fields = (
        "order__number",
        "reference",
        "topup_for__real_name",
        "topup_for__user__phone",
        "order__buyer__real_name",
        "order__customer__name",
        "order__customer__phone",
    )
    list_select_related = ("order", "topup_for", "receiver", "decided_by")
    fields = (
        "paid_for",
        "method",
        "amount",
        "status_display",
        "receiver_display",
        "screenshot_large",
        "reference",
        "provider_txn_id",
        "created_by",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    readonly_fields = fields
    steps = PAYMENT_STEPS  # taken by brand finance, on a payment addressed to the brand only
    console_perms = CONSOLE_PERMS
    step_template = "admin/trade/payment_action.html"

    def has_payment_decide_permission(self, request, obj=None):
        return kit.console_can(request.user, CONSOLE_PERMS["payment_decide"])

    status_label, status_display = kit.status_columns(PAYMENT_LABELS)

    @admin.display(description=_("received by"), ordering="receiver")
    def receiver_display(self, obj):
        return obj.receiver.real_name if obj.receiver_id else _brand_finance()

    @admin.display(description=_("for"))
    def paid_for(self, obj):
        if obj.order_id:
            return _link(reverse("admin:trade_order_change", args=[obj.order_id]), obj.order.number)
        if obj.topup_for_id:
            return gettext("Wallet top-up for %(agent)s") % {"agent": obj.topup_for.real_name}
        return "—"

    @admin.display(description=_("transfer screenshot"))
    def screenshot_preview(self, obj):
        return _screenshot(obj)

    @admin.display(description=_("transfer screenshot"))
    def screenshot_large(self, obj):
        return _screenshot(obj, "max-h-96")

    def get_urls(self):
        return [
            path(
                "<path:object_id>/screenshot/",
                self.admin_site.admin_view(self.screenshot_view),
                name="trade_payment_screenshot",
            ),
            *super().get_urls(),
        ]

    def screenshot_view(self, request, object_id):
        """The screenshot, to staff who may see payments only (it shows a bank account)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        payment = self.get_object(request, unquote(object_id))
        if payment is None or not payment.screenshot:
            raise Http404
        return image_response(payment.screenshot)

    # --- the steps' pages ------------------------------------------------------------------
    def not_the_party(self, obj):
        return Conflict(
            gettext("This payment goes to %(agent)s; they confirm it.") % {"agent": obj.receiver.real_name},
            field="payment",
        )

    def step_title(self, obj, step):
        return f"{step.label} #{obj.pk}"

    def step_context(self, request, obj, name):
        return {
            "payment": obj,
            "receiver": obj.receiver.real_name if obj.receiver_id else _brand_finance(),
            "paid_for": self.paid_for(obj),
            "screenshot": _screenshot(obj, "max-h-96"),
        }


# --- stock ----------------------------------------------------------------------------------


class MovesAtLocationFilter(admin.SimpleListFilter):
    """Moves in or out of one location: the company's and external ones are listed; an agent's
    location is reached from its stock-on-hand row."""

    title = _("location (in or out)")
    parameter_name = "location"

    def lookups(self, request, model_admin):
        choices = [(str(loc.pk), loc.name) for loc in Location.objects.filter(agent__isnull=True)]
        value = self.value()
        if converters.id_or_none(value) is not None and value not in {pk for pk, _name in choices}:
            location = Location.objects.filter(pk=value).first()
            if location is not None:
                choices.append((value, location.name))
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if converters.id_or_none(value) is not None:
            return queryset.filter(Q(from_location_id=value) | Q(to_location_id=value))
        return queryset


class _LocationKindFilter(admin.SimpleListFilter):
    field = ""

    def lookups(self, request, model_admin):
        return LocationKind.choices

    def queryset(self, request, queryset):
        return queryset.filter(**{f"{self.field}__kind": self.value()}) if self.value() else queryset


class FromKindFilter(_LocationKindFilter):
    title = _("from (kind of location)")
    parameter_name = "from_kind"
    field = "from_location"


class ToKindFilter(_LocationKindFilter):
    title = _("to (kind of location)")
    parameter_name = "to_kind"
    field = "to_location"


class OnHandFilter(admin.SimpleListFilter):
    title = _("on hand")
    parameter_name = "on_hand"

    def lookups(self, request, model_admin):
        return [("yes", _("Some")), ("no", _("None"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(quantity__gt=0)
        if self.value() == "no":
            return queryset.filter(quantity=0)
        return queryset


class StockActionsMixin:
    """The "Receive stock" and "Stock verify" buttons on the stock lists."""

    def has_stock_receive_permission(self, request, obj=None):
        return kit.console_can(request.user, CONSOLE_PERMS["stock_receive"])

    def has_stock_verify_permission(self, request, obj=None):
        return kit.console_can(request.user, CONSOLE_PERMS["stock_verify"])


@admin.register(StockLevel)
class StockLevelAdmin(ExportMixin, StockActionsMixin, kit.ReadOnlyAdmin):
    resource_classes = [StockLevelResource]
    export_name = "stock-on-hand"
    list_per_page = 50  # unfold renders every cell through templates: 50 rows answer in half the time of 100
    list_display = ("location_display", "location_kind", "sku_display", "quantity", "moves_link")
    list_filter = ("location__kind", "location__agent__level", OnHandFilter, "sku__product", "sku")
    search_fields = ("sku__code", "sku__name", "location__name", "location__code", "location__agent__real_name")
    list_select_related = ("location", "sku")
    ordering = ("location__kind", "location__name", "sku__code")
    fields = ("location_display", "location_kind", "sku_display", "quantity", "moves_link")
    readonly_fields = fields
    actions_list = ["receive_stock", "verify_stock"]

    @admin.display(description=_("location"), ordering="location__name")
    def location_display(self, obj):
        return obj.location.name

    @admin.display(description=_("SKU"), ordering="sku__code")
    def sku_display(self, obj):
        return str(obj.sku)

    @admin.display(description=_("kind"), ordering="location__kind")
    def location_kind(self, obj):
        return obj.location.get_kind_display()

    @admin.display(description=_("stock moves"))
    def moves_link(self, obj):
        url = reverse("admin:trade_stockmove_changelist") + f"?location={obj.location_id}&sku__id__exact={obj.sku_id}"
        return _link(url, gettext("moves"))

    @action(description=_("Receive stock"), url_path="receive", permissions=["stock_receive"], icon="move_to_inbox")
    def receive_stock(self, request):
        form = ReceiveStockForm(request.POST if request.method == "POST" else None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                data = form.cleaned_data
                try:
                    source = data["supplier"] or stock.location_singleton(LocationKind.SUPPLIER)
                    target = data["warehouse"] or stock.location_singleton(LocationKind.WAREHOUSE)
                    stock.stock_move(
                        moves=[stock.Move(source, target, data["sku"], data["quantity"], unit_cost=data["unit_cost"])],
                        reason=StockReason.RECEIPT,
                        by=request.user,
                        note=data["note"],
                        counter=Purpose.BRAND_CASH,  # bought and paid outside a purchase order
                    )
                except BusinessError as exc:
                    kit.form_error(form, exc)
                else:
                    messages.success(
                        request,
                        ngettext(
                            "%(n)d unit of %(sku)s received into %(location)s; %(on_hand)d on hand now.",
                            "%(n)d units of %(sku)s received into %(location)s; %(on_hand)d on hand now.",
                            data["quantity"],
                        )
                        % {
                            "n": data["quantity"],
                            "sku": data["sku"].name,
                            "location": target.name,
                            "on_hand": stock.on_hand(location=target, sku=data["sku"]),
                        },
                    )
                    return redirect("admin:trade_stocklevel_receive_stock")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Receive stock"),
            "form": form,
            "recent": StockMove.objects.filter(reason=StockReason.RECEIPT)
            .select_related("sku", "from_location", "to_location", "created_by")
            .order_by("-pk")[:10],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/trade/stock_receive.html", context, status=status)

    @action(description=_("Stock verify"), url_path="verify", permissions=["stock_verify"], icon="fact_check")
    def verify_stock(self, request):
        problems = stock.stock_verify()
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Stock verify"),
            "problems": problems,
            "move_count": StockMove.objects.count(),
            "level_count": StockLevel.objects.count(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/trade/stock_verify.html", context)


@admin.register(StockMove)
class StockMoveAdmin(ExportMixin, StockActionsMixin, kit.ReadOnlyAdmin):
    resource_classes = [StockMoveResource]
    export_name = "stock-moves"
    list_per_page = 50  # unfold renders every cell through templates: 50 rows answer in half the time of 100
    list_display = (
        "created_at",
        "reason",
        "sku",
        "quantity",
        "from_display",
        "to_display",
        "order_link",
        "created_by",
        "note",
    )
    list_filter = ("reason", MovesAtLocationFilter, FromKindFilter, ToKindFilter, "sku")
    search_fields = (
        "sku__code",
        "sku__name",
        "note",
        "order_line__order__number",
        "from_location__name",
        "to_location__name",
    )
    list_select_related = ("sku", "from_location", "to_location", "created_by", "order_line__order")
    ordering = ("-pk",)
    fields = (
        "created_at",
        "reason",
        "sku",
        "quantity",
        "from_display",
        "to_display",
        "order_link",
        "created_by",
        "note",
    )
    readonly_fields = fields
    actions_list = ["receive_stock", "verify_stock"]

    @admin.display(description=_("from location"), ordering="from_location__name")
    def from_display(self, obj):
        return obj.from_location.name

    @admin.display(description=_("to location"), ordering="to_location__name")
    def to_display(self, obj):
        return obj.to_location.name

    @admin.display(description=_("order"))
    def order_link(self, obj):
        if not obj.order_line_id:
            return "—"
        order = obj.order_line.order
        return _link(reverse("admin:trade_order_change", args=[order.pk]), order.number)

    @action(description=_("Receive stock"), url_path="receive", permissions=["stock_receive"], icon="move_to_inbox")
    def receive_stock(self, request):
        return redirect("admin:trade_stocklevel_receive_stock")

    @action(description=_("Stock verify"), url_path="verify", permissions=["stock_verify"], icon="fact_check")
    def verify_stock(self, request):
        return redirect("admin:trade_stocklevel_verify_stock")


@admin.register(Location)
class LocationAdmin(kit.ReadOnlyAdmin):
    """Locations are created by the stock services (an agent's on first use, the company's singletons)."""

    list_display = ("name", "code", "kind", "agent", "units_on_hand", "moves_link")
    list_filter = ("kind",)
    search_fields = ("name", "code", "agent__real_name", "agent__user__phone")
    list_select_related = ("agent__level",)
    fields = ("name", "code", "kind", "agent", "units_on_hand", "moves_link")
    readonly_fields = fields

    @admin.display(description=_("units on hand"))
    def units_on_hand(self, obj):
        if not obj.is_internal:
            return "—"
        return sum(obj.levels.values_list("quantity", flat=True))

    @admin.display(description=_("stock moves"))
    def moves_link(self, obj):
        return _link(reverse("admin:trade_stockmove_changelist") + f"?location={obj.pk}", gettext("moves"))


# --- customers (wallets are ledger accounts: see the Ledger section) ------------------------


class BoundFilter(admin.SimpleListFilter):
    title = _("bound to an agent")
    parameter_name = "bound"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(bound_agent__isnull=self.value() == "no")
        return queryset


@admin.register(Customer)
class CustomerAdmin(kit.ReadOnlyAdmin):
    list_display = ("name", "phone", "bound_agent", "bound_at", "created_at", "order_count")
    list_filter = (BoundFilter,)
    search_fields = ("name", "phone", "bound_agent__real_name")
    list_select_related = ("bound_agent__level",)
    fields = ("name", "phone", "bound_agent", "bound_at", "created_at", "order_count", "orders_link")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_orders=Count("orders"))

    @admin.display(description=_("orders"), ordering="n_orders")
    def order_count(self, obj):
        return obj.n_orders

    @admin.display(description=_("orders"))
    def orders_link(self, obj):
        url = reverse("admin:trade_order_changelist") + "?" + urlencode({"q": obj.phone})
        return _link(url, gettext("Orders of %(name)s") % {"name": obj.name})


# --- the brand's receiving accounts (where buyers pay the company) ---------------------------


class BrandReceivingAccountForm(forms.ModelForm):
    class Meta:
        model = ReceivingAccount
        fields = ("kind", "holder", "account_number", "bank", "qr_image", "note")
        # A plain file input: the default one links the image's public media URL.
        widgets = {"qr_image": forms.FileInput(attrs={"accept": "image/*"})}

    def clean(self):
        cleaned = super().clean()
        image = self.files.get("qr_image")
        try:
            services.clean_account({**cleaned, "_has_image": bool(self.instance.qr_image)}, image)
            services.check_qr(image)
        except BusinessError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc.message))
        return cleaned


@admin.register(ReceivingAccount)
class BrandReceivingAccountAdmin(ModelAdmin):
    """The brand's own ways to be paid (WeChat, Alipay, bank), shown on the pay page of orders the
    company fills. Owner and finance manage them (core.roles); agents manage theirs on the phone."""

    form = BrandReceivingAccountForm
    list_display = ("kind", "holder", "account_number", "bank", "qr_preview")
    fields = ("kind", "holder", "account_number", "bank", "qr_image", "qr_preview", "note")
    readonly_fields = ("qr_preview",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(agent__isnull=True)

    @admin.display(description=_("QR code"))
    def qr_preview(self, obj):
        if not obj or not obj.pk or not obj.qr_image:
            return "—"
        url = reverse("web:receiving_qr", args=[obj.pk])
        return format_html('<img src="{}" alt="{}" class="h-24 rounded border">', url, gettext("QR code"))

    def save_model(self, request, obj, form, change):
        """Saved by the service the phone pages use (its checks, and the old QR code replaced)."""
        saved = services.receiving_account_save(
            by=request.user,
            agent=None,
            data=form.cleaned_data,
            qr_image=form.files.get("qr_image"),
            account=obj if change else None,
        )
        obj.pk, obj.agent, obj.qr_image = saved.pk, None, saved.qr_image

    def delete_model(self, request, obj):
        services.receiving_account_delete(by=request.user, account=obj)

    def delete_queryset(self, request, queryset):
        for account in queryset:
            services.receiving_account_delete(by=request.user, account=account)
