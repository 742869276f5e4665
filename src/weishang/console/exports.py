"""CSV and XLSX exports of the console lists (django-import-export, export only).

An export is the list as the user sees it: the same filters and search (the "Export" button
carries the list's query string), columns with the headers a person reads, in the page's
language. Money is exact: XLSX cells hold the Decimal (a number Excel can add up), CSV writes
it with two places ("1234.50"). Phones and withdrawal accounts are written in full — staff with
the view permission see them anyway; ID numbers are not exported at all (the console never shows
them in full, docs/decisions.md). Nothing is imported: money and stock change only through the
services.

Text is never a formula (OWASP's CSV injection advice): a text cell that starts with ``= + - @``,
a tab or a carriage return is written to CSV with a leading apostrophe (Excel and LibreOffice
then read it as text) and to XLSX as a text cell holding exactly what was typed. Only text
columns are treated so: money and counts are numbers ("-57.50" in CSV, a number cell in XLSX).

``ExportMixin`` is what a console list adds to offer its export; only staff who may view the
list may export it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from io import BytesIO

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.admin import ExportMixin as BaseExportMixin
from import_export.fields import Field
from import_export.formats.base_formats import CSV, XLSX
from import_export.widgets import DateTimeWidget, IntegerWidget, Widget
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from unfold.contrib.import_export.forms import ExportForm

from weishang.core import clock
from weishang.core.money import to_money
from weishang.core.replicas import replica_reads


class MoneyWidget(Widget):
    """Yuan, exact: a Decimal for spreadsheets, "1234.50" for CSV (no thousands separator, any language)."""

    def render(self, value, obj=None, **kwargs):
        if value is None or value == "":
            return ""
        amount = to_money(value)
        return amount if kwargs.get("force_native_type") else f"{amount:.2f}"


class TextWidget(Widget):
    """Text (a label, a choice in the reader's language), never None."""

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


WHEN = DateTimeWidget(format="%Y-%m-%d %H:%M:%S")


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
NUMERIC_WIDGETS = (MoneyWidget, IntegerWidget, DateTimeWidget)


def looks_like_formula(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def neutralise(value):
    """A text cell for CSV: a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + value if looks_like_formula(value) else value


def money(attribute: str | None, label) -> Field:
    return Field(attribute=attribute, column_name=label, widget=MoneyWidget())


def text(attribute: str | None, label) -> Field:
    return Field(attribute=attribute, column_name=label, widget=TextWidget())


def when(attribute: str, label) -> Field:
    return Field(attribute=attribute, column_name=label, widget=WHEN)


def number(attribute: str, label) -> Field:
    return Field(attribute=attribute, column_name=label, widget=IntegerWidget())


class ConsoleResource(resources.Resource):
    """Export only; ``related`` is what the rows' columns read (joined in the one query),
    ``prefetch`` what they read from many rows (fetched per chunk of ``chunk_size`` rows)."""

    related: tuple[str, ...] = ()
    prefetch: tuple[str, ...] = ()

    class Meta:
        chunk_size = 2000

    @classmethod
    def get_display_name(cls):
        return getattr(cls._meta, "name", cls.__name__)

    def export_field(self, field, instance, **kwargs):
        """Every cell of every export passes here. Text (a model field or a computed column) is
        neutralised for CSV; XLSX (``force_native_type``) keeps the text and ``spreadsheet``
        writes it as a text cell. Numeric columns are left alone."""
        value = super().export_field(field, instance, **kwargs)
        if kwargs.get("force_native_type") or isinstance(field.widget, NUMERIC_WIDGETS):
            return value
        return neutralise(value)

    def filter_export(self, queryset, **kwargs):
        queryset = queryset.select_related(*self.related) if self.related else queryset
        return queryset.prefetch_related(*self.prefetch) if self.prefetch else queryset


def _agent(agent) -> str:
    return agent.real_name if agent is not None else ""


def _phone(agent) -> str:
    return (agent.user.phone or "") if agent is not None else ""


# --- channel --------------------------------------------------------------------------------


class AgentResource(ConsoleResource):
    related = ("user", "level", "supplier", "referrer__user", "introducer")

    id = number("id", _("agent id"))
    real_name = text("real_name", _("real name"))
    phone = text("user__phone", _("phone"))
    level = text("level__name", _("level"))
    status = text("get_status_display", _("status"))
    supplier = text(None, _("supplier"))
    referrer = text(None, _("referrer"))
    referrer_phone = text("referrer__user__phone", _("referrer's phone"))
    introducer = text(None, _("introducer"))
    invite_code = text("invite_code", _("invite code"))
    entry_due = money("entry_due", _("entry order owed"))
    joined_at = when("joined_at", _("joined"))

    class Meta(ConsoleResource.Meta):
        name = _("Agents")

    def dehydrate_supplier(self, agent) -> str:
        return agent.supplier.real_name if agent.supplier_id else gettext("the company")

    def dehydrate_referrer(self, agent) -> str:
        return _agent(agent.referrer)

    def dehydrate_introducer(self, agent) -> str:
        return _agent(agent.introducer)


class ApplicationResource(ConsoleResource):
    related = ("level", "inviter", "approver", "decided_by", "agent")

    id = number("id", _("application id"))
    submitted_at = when("submitted_at", _("submitted"))
    real_name = text("real_name", _("real name"))
    phone = text("phone", _("phone"))
    level = text("level__name", _("level applied for"))
    inviter = text(None, _("invited by"))
    approver = text(None, _("approver"))
    status = text("get_status_display", _("status"))
    decided_by = text("decided_by__username", _("decided by"))
    decided_at = when("decided_at", _("decided"))
    decision_note = text("decision_note", _("note"))

    class Meta(ConsoleResource.Meta):
        name = _("Applications")

    def dehydrate_inviter(self, application) -> str:
        return _agent(application.inviter) or gettext("the brand's own link")

    def dehydrate_approver(self, application) -> str:
        return _agent(application.approver) or gettext("brand staff")


# --- trade ----------------------------------------------------------------------------------


class OrderResource(ConsoleResource):
    related = ("buyer__user", "buyer__level", "customer", "seller", "target_level")
    prefetch = ("lines__sku",)

    number = text("number", _("order number"))
    kind = text("get_kind_display", _("kind"))
    status = text("get_status_display", _("status"))
    buyer = text(None, _("buyer / customer"))
    buyer_phone = text(None, _("phone"))
    buyer_level = text("buyer__level__name", _("buyer's level"))
    seller = text(None, _("filled by"))
    items = text(None, _("items"))
    total = money("total", _("total"))
    upgrade_to = text("target_level__name", _("upgrade to"))
    submitted_at = when("submitted_at", _("submitted"))
    paid_at = when("paid_at", _("paid"))
    completed_at = when("completed_at", _("completed"))
    ship_name = text("ship_name", _("recipient"))
    ship_phone = text("ship_phone", _("recipient phone"))
    ship_address = text("ship_address", _("address"))
    carrier = text("carrier", _("carrier"))
    tracking_number = text("tracking_number", _("tracking number"))
    note = text("note", _("note"))

    class Meta(ConsoleResource.Meta):
        name = _("Orders")

    def dehydrate_buyer(self, order) -> str:
        if order.buyer_id:
            return order.buyer.real_name
        return order.customer.name if order.customer_id else ""

    def dehydrate_buyer_phone(self, order) -> str:
        if order.buyer_id:
            return _phone(order.buyer)
        return order.customer.phone if order.customer_id else ""

    def dehydrate_seller(self, order) -> str:
        return order.seller.real_name if order.seller_id else gettext("the company")

    def dehydrate_items(self, order) -> str:
        return "; ".join(f"{line.sku.code} × {line.quantity}" for line in order.lines.all())


class PaymentResource(ConsoleResource):
    related = ("order__buyer", "order__customer", "topup_for", "receiver", "decided_by")

    id = number("id", _("payment id"))
    created_at = when("created_at", _("created"))
    method = text("get_method_display", _("method"))
    amount = money("amount", _("amount"))
    status = text("get_status_display", _("status"))
    receiver = text(None, _("received by"))
    paid_for = text(None, _("for"))
    payer = text(None, _("paid by"))
    reference = text("reference", _("transfer reference"))
    provider_txn_id = text("provider_txn_id", _("provider transaction id"))
    decided_by = text("decided_by__username", _("decided by"))
    decided_at = when("decided_at", _("decided"))
    decision_note = text("decision_note", _("note"))

    class Meta(ConsoleResource.Meta):
        name = _("Payments")

    def dehydrate_receiver(self, payment) -> str:
        return payment.receiver.real_name if payment.receiver_id else gettext("Brand finance (品牌财务)")

    def dehydrate_paid_for(self, payment) -> str:
        if payment.order_id:
            return payment.order.number
        return gettext("wallet top-up") if payment.topup_for_id else ""

    def dehydrate_payer(self, payment) -> str:
        if payment.topup_for_id:
            return payment.topup_for.real_name
        order = payment.order
        if order is None:
            return ""
        if order.buyer_id:
            return order.buyer.real_name
        return order.customer.name if order.customer_id else ""


class StockLevelResource(ConsoleResource):
    related = ("location__agent__level", "sku")

    location = text("location__name", _("location"))
    kind = text("location__get_kind_display", _("kind"))
    agent = text("location__agent__real_name", _("agent"))
    agent_level = text("location__agent__level__name", _("agent's level"))
    sku = text("sku__code", _("SKU"))
    sku_name = text("sku__name", _("product"))
    quantity = number("quantity", _("on hand"))

    class Meta(ConsoleResource.Meta):
        name = _("Stock on hand")


class StockMoveResource(ConsoleResource):
    related = ("sku", "from_location", "to_location", "created_by", "order_line__order")

    id = number("id", _("move id"))
    created_at = when("created_at", _("when"))
    reason = text("get_reason_display", _("reason"))
    sku = text("sku__code", _("SKU"))
    quantity = number("quantity", _("units"))
    from_location = text("from_location__name", _("from location"))
    to_location = text("to_location__name", _("to location"))
    order = text("order_line__order__number", _("order"))
    created_by = text("created_by__username", _("by"))
    note = text("note", _("note"))

    class Meta(ConsoleResource.Meta):
        name = _("Stock moves")


# --- rewards and ledger ---------------------------------------------------------------------


class RewardLineResource(ConsoleResource):
    related = ("beneficiary__user", "order", "plan", "payer")

    id = number("id", _("reward line id"))
    created_at = when("created_at", _("created"))
    beneficiary = text("beneficiary__real_name", _("beneficiary"))
    phone = text("beneficiary__user__phone", _("phone"))
    amount = money("amount", _("amount"))
    kind = text("get_kind_display", _("kind"))
    rule = text("rule_id", _("rule"))
    status = text("get_status_display", _("status"))
    order = text("order__number", _("order"))
    period = text("period", _("period"))
    plan = text("plan", _("plan"))
    payer = text(None, _("paid by"))
    release_at = when("release_at", _("release on"))
    explanation = text("explanation_text", _("explanation"))

    class Meta(ConsoleResource.Meta):
        name = _("Reward lines")

    def dehydrate_payer(self, line) -> str:
        return line.payer.real_name if line.payer_id else gettext("the company")


class WithdrawalResource(ConsoleResource):
    related = ("agent__user",)

    number = text("number", _("number"))
    created_at = when("created_at", _("requested"))
    agent = text("agent__real_name", _("agent"))
    phone = text("agent__user__phone", _("phone"))
    amount = money("amount", _("amount"))
    fee = money("fee", _("fee"))
    net = money("net", _("paid out"))
    method = text("get_method_display", _("method"))
    account_name = text("account_name", _("account holder"))
    account_no = text("account_no", _("account"))
    bank_name = text("bank_name", _("bank"))
    status = text("get_status_display", _("status"))
    payout_reference = text("payout_reference", _("payout reference"))
    note = text("note", _("note"))

    class Meta(ConsoleResource.Meta):
        name = _("Withdrawals")


# --- the admin side -------------------------------------------------------------------------

MONEY_FORMAT = "#,##0.00"
WHEN_FORMAT = "yyyy-mm-dd hh:mm:ss"


def spreadsheet(dataset, title: str) -> bytes:
    """An XLSX workbook of ``dataset``: a bold, frozen header row; money cells are numbers shown
    with two places (the Decimal is written as it is), times as dates; text is always a text cell
    (openpyxl would store "=1+2" as a formula), quote-prefixed so Excel keeps it text on edit."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "".join(ch for ch in str(title) if ch not in "[]:*?/\\")[:31] or "export"
    sheet.append(list(dataset.headers or []))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in dataset:
        sheet.append(list(row))
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, Decimal):
                cell.number_format = MONEY_FORMAT
            elif isinstance(cell.value, datetime):
                cell.number_format = WHEN_FORMAT
            elif cell.data_type == "f" or looks_like_formula(cell.value):
                cell.data_type = "s"
                cell.quotePrefix = True
    for index, header in enumerate(dataset.headers or [], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, 2 * len(str(header)) + 4))
    sheet.freeze_panes = "A2"
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class ExportMixin(BaseExportMixin):
    """An "Export" button on a console list: CSV or XLSX of the rows the list shows (its filters
    and search), for staff who may view the list. No import."""

    export_form_class = ExportForm
    export_formats = [CSV, XLSX]
    # Excel opens a UTF-8 CSV with Chinese text correctly only with the byte-order mark.
    to_encoding = "utf-8-sig"
    export_name = "export"

    def export_action(self, request):
        """The export page takes the list's filters from its query string. A link with filters the
        list does not have (``?format=xlsx``, ``?page=-1``, a hand-edited one) goes back to the
        list with a message, instead of failing (a 500)."""
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            messages.error(
                request,
                gettext(
                    "This export link has filters the list does not know (%(params)s). "
                    "Choose the filters on the list, then press Export."
                )
                % {"params": ", ".join(sorted(request.GET))[:200]},
            )
            opts = self.model._meta
            return redirect(f"admin:{opts.app_label}_{opts.model_name}_changelist")

    def has_export_permission(self, request):
        return bool(request.user.is_active and request.user.is_staff and self.has_view_permission(request))

    def get_export_filename(self, request, queryset, file_format):
        return f"{self.export_name}-{clock.today():%Y-%m-%d}.{file_format.get_extension()}"

    def get_export_data(self, file_format, request, queryset, **kwargs):
        # An export is a long read: a read replica's, when there is one (core.replicas).
        with replica_reads():
            if not isinstance(file_format, XLSX):
                return super().get_export_data(file_format, request, queryset, **kwargs)
            if not self.has_export_permission(request):
                raise PermissionDenied
            dataset = self.get_data_for_export(request, queryset, force_native_type=True, **kwargs)
            return spreadsheet(dataset, self.model._meta.verbose_name_plural)
