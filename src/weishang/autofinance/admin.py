"""The finance desk in the console (汽车金融): lenders and products, cars and customers, car sales
with their quotes side by side (the customer's link, consent, a new application), the loan
application's page with its step buttons, documents and step log, the overdue queue, the
incentives and the reports with charts.

Who (core.roles): a sales consultant (销售顾问) sees their own sales and applications, quotes,
records consent and documents, drafts applications and hands cars over; the finance manager
(金融经理) sees all and takes the lender's steps; the dealer's finance (财务) confirms funds and the
commission received; the owner does everything. Each step is a service of autofinance.services,
which checks the permission again; a refusal is shown as a message on the page.
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
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from weishang.autofinance import selectors, services
from weishang.autofinance.models import (
    DELIVER,
    FUNDS,
    MOVES,
    OWNERS,
    PROCESS,
    Car,
    CarSale,
    ConsentChannel,
    Customer,
    DocumentKind,
    FinanceProduct,
    Lender,
    LoanApplication,
    LoanDocument,
    Payment,
    PenetrationIncentive,
    QuoteLine,
    Status,
    StepSLA,
)
from weishang.console import kit
from weishang.core import converters
from weishang.core.errors import BusinessError
from weishang.core.roles import ROLES
from weishang.toolkit.files import document_response

QUOTE_ROWS = 3
REPORT = "autofinance.view_finance_report"


def sees_all(user) -> bool:
    """A consultant sees their own sales; the finance manager, finance and the owner see all."""
    return user.is_superuser or user.has_perm(PROCESS) or user.has_perm(FUNDS)


def role_label(code: str) -> str:
    return str(ROLES[code][0]) if code in ROLES else code


class _NoDelete:
    def has_delete_permission(self, request, obj=None):
        return False  # kept for the records that name it; switched off instead


@admin.register(Lender)
class LenderAdmin(_NoDelete, ModelAdmin):
    list_display = ("name", "kind", "contact", "phone", "active")
    list_filter = ("kind", "active")
    search_fields = ("name",)
    fields = ("name", "kind", "contact", "phone", "active")

    def save_model(self, request, obj, form, change):
        saved = services.lender_save(lender=obj if change else None, **form.cleaned_data)
        obj.pk = saved.pk


class ProductForm(forms.ModelForm):
    class Meta:
        model = FinanceProduct
        fields = (
            "lender",
            "name",
            "method",
            "min_months",
            "max_months",
            "terms",
            "annual_rate",
            "down_min_pct",
            "down_max_pct",
            "subsidy_rate",
            "subsidy_terms",
            "subsidy_payer",
            "lender_fee",
            "service_fee_kind",
            "service_fee_value",
            "commission_pct",
            "required_documents",
            "active",
        )

    # Ticked from the document kinds, kept as the model's comma-separated codes.
    required_documents = forms.MultipleChoiceField(
        label=_("required documents"),
        choices=DocumentKind.choices,
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["required_documents"] = self.instance.document_list
        else:
            self.initial.setdefault("required_documents", ["id_card", "income", "bank_statement"])

    def clean_required_documents(self) -> str:
        return ",".join(self.cleaned_data["required_documents"])

    def _post_clean(self):
        """The model's own checks, then the service checks and saves every figure (and says what is
        wrong on its field); the admin's save then only takes the saved row."""
        super()._post_clean()
        if self.errors:
            return
        try:
            self.instance = services.product_save(
                product=self.instance if self.instance.pk else None, **self.cleaned_data
            )
        except BusinessError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc.message))


@admin.register(FinanceProduct)
class FinanceProductAdmin(_NoDelete, ModelAdmin):
    form = ProductForm
    list_display = (
        "name",
        "lender",
        "method",
        "annual_rate",
        "subsidy_rate",
        "subsidy_payer",
        "commission_pct",
        "active",
    )
    list_select_related = ("lender",)
    list_filter = ("lender", "method", "active")
    search_fields = ("name", "lender__name")

    def save_model(self, request, obj, form, change):
        pass  # saved by the service in the form's clean (ProductForm._post_clean)


@admin.register(Car)
class CarAdmin(_NoDelete, ModelAdmin):
    list_display = ("model", "trim", "vin", "price")
    search_fields = ("model", "trim", "vin")
    fields = ("model", "trim", "vin", "price")

    def save_model(self, request, obj, form, change):
        saved = services.car_save(car=obj if change else None, **form.cleaned_data)
        obj.pk = saved.pk


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ("name", "phone", "id_number")
        widgets = {"id_number": forms.PasswordInput(render_value=False)}


@admin.register(Customer)
class CustomerAdmin(_NoDelete, ModelAdmin):
    form = CustomerForm
    list_display = ("name", "phone_masked", "id_masked", "created_at")
    search_fields = ("name", "phone")

    @admin.display(description=_("phone"))
    def phone_masked(self, obj):
        return f"{obj.phone[:3]}****{obj.phone[-4:]}" if len(obj.phone) >= 7 else obj.phone

    @admin.display(description=_("ID number"))
    def id_masked(self, obj):
        return obj.id_masked or "—"

    def save_model(self, request, obj, form, change):
        data = dict(form.cleaned_data)
        if change and not data.get("id_number"):
            data["id_number"] = Customer.objects.get(pk=obj.pk).id_number  # left empty: unchanged
        saved = services.customer_save(customer=obj if change else None, **data)
        obj.pk = saved.pk


class SaleForm(forms.ModelForm):
    price = forms.DecimalField(
        label=_("sale price"), required=False, min_value=0, decimal_places=2, help_text=_("Empty: the list price.")
    )

    class Meta:
        model = CarSale
        fields = ("customer", "car", "consultant", "price", "payment")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        if "consultant" in self.fields:
            self.fields["consultant"].queryset = get_user_model().objects.filter(is_staff=True, is_active=True)


@admin.register(CarSale)
class CarSaleAdmin(_NoDelete, ModelAdmin):
    form = SaleForm
    list_display = ("number", "customer", "car", "consultant", "price", "payment", "created_at", "delivered_at")
    list_select_related = ("customer", "car", "consultant")
    list_filter = ("payment",)
    search_fields = ("number", "customer__name", "car__model")
    change_form_outer_after_template = "admin/autofinance/sale_after.html"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if sees_all(request.user) else qs.filter(consultant=request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "consultant" in form.base_fields:
            form.base_fields["consultant"].initial = request.user.pk
        return form

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ("number", "customer", "car", "consultant", "price", "payment", "created_at", "delivered_at")
        return ()

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) if obj is not None else SaleForm.Meta.fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        saved = services.sale_create(
            customer=data["customer"],
            car=data["car"],
            consultant=data["consultant"],
            price=data.get("price"),
            payment=data["payment"],
        )
        obj.pk = saved.pk

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None:
            user = request.user
            quotes = list(obj.quotes.prefetch_related("lines"))
            extra.update(
                quotes=quotes,
                applications=obj.applications.select_related("lender"),
                consents=obj.consents.select_related("lender", "recorded_by"),
                products=FinanceProduct.objects.filter(active=True, lender__active=True).select_related("lender"),
                lenders=Lender.objects.filter(active=True),
                channels=[c for c in ConsentChannel.choices if c[0] != ConsentChannel.LINK],
                quote_rows=range(QUOTE_ROWS),
                can_quote=kit.console_can(user, ("autofinance.add_financequote",)) and obj.delivered_at is None,
                can_consent=kit.console_can(user, ("autofinance.add_consent",)),
                can_apply=kit.console_can(user, ("autofinance.add_loanapplication",)) and obj.delivered_at is None,
                can_deliver=kit.console_can(user, (DELIVER,))
                and obj.delivered_at is None
                and obj.payment == Payment.CASH,
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<id:pk>/quote/", view(self.quote_view), name="autofinance_carsale_quote"),
            path("<id:pk>/consent/", view(self.consent_view), name="autofinance_carsale_consent"),
            path("<id:pk>/apply/", view(self.apply_view), name="autofinance_carsale_apply"),
            path("<id:pk>/deliver/", view(self.deliver_view), name="autofinance_carsale_deliver"),
            *super().get_urls(),
        ]

    def _sale_step(self, request, pk: int, perm: str, act):
        if not kit.console_can(request.user, (perm,)):
            raise PermissionDenied
        sale = get_object_or_404(self.get_queryset(request), pk=pk)
        if request.method == "POST":
            try:
                text, goto = act(sale)
            except BusinessError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(request, text)
                if goto is not None:
                    return goto
        return redirect("admin:autofinance_carsale_change", pk)

    def quote_view(self, request, pk: int):
        def act(sale):
            terms = []
            for i in range(QUOTE_ROWS):
                product_id = converters.id_or_none(request.POST.get(f"product-{i}", ""))
                if not product_id:
                    continue
                product = FinanceProduct.objects.filter(pk=product_id).select_related("lender").first()
                if product is None:
                    raise BusinessError(gettext("Choose one of the products."), field="product")
                terms.append(
                    services.Terms(product, request.POST.get(f"down-{i}", ""), request.POST.get(f"months-{i}", ""))
                )
            quote = services.quote_create(sale=sale, lines=terms, by=request.user)
            return gettext("Quote made: %(n)d product(s) side by side.") % {"n": quote.lines.count()}, None

        return self._sale_step(request, pk, "autofinance.add_financequote", act)

    def consent_view(self, request, pk: int):
        def act(sale):
            lender = Lender.objects.filter(pk=converters.id_or_none(request.POST.get("lender", "")) or 0).first()
            if lender is None:
                raise BusinessError(gettext("Choose the lender."), field="lender")
            channel = request.POST.get("channel", "")
            if channel == ConsentChannel.LINK:
                raise BusinessError(gettext("Choose how the customer consented."), field="channel")
            consent = services.consent_record(
                sale=sale, lender=lender, channel=channel, reference=request.POST.get("reference", ""), by=request.user
            )
            return gettext("Consent to %(lender)s recorded (%(channel)s).") % {
                "lender": lender.name,
                "channel": consent.get_channel_display(),
            }, None

        return self._sale_step(request, pk, "autofinance.add_consent", act)

    def apply_view(self, request, pk: int):
        def act(sale):
            line = QuoteLine.objects.filter(
                pk=converters.id_or_none(request.POST.get("line", "")) or 0, quote__sale=sale
            ).first()
            if line is None:
                raise BusinessError(gettext("Choose one of the quoted loans."), field="line")
            application = services.application_create(line=line, by=request.user)
            text = gettext("Loan application %(number)s drafted.") % {"number": application.number}
            return text, redirect("admin:autofinance_loanapplication_change", application.pk)

        return self._sale_step(request, pk, "autofinance.add_loanapplication", act)

    def deliver_view(self, request, pk: int):
        def act(sale):
            services.sale_deliver(sale=sale, by=request.user)
            return gettext("Car delivered."), None

        return self._sale_step(request, pk, DELIVER, act)


def _due(application):
    return selectors.due_at(application)


@admin.register(LoanApplication)
class LoanApplicationAdmin(kit.ReadOnlyAdmin):
    list_display = ("number", "sale", "lender", "amount_financed", "months", "status", "status_since", "due")
    list_select_related = ("sale__customer", "sale__car", "lender")
    list_filter = ("status", "lender")
    search_fields = ("number", "sale__number", "sale__customer__name", "contract_number")
    fields = (
        "number",
        "sale",
        "lender",
        "product",
        "amount_financed",
        "months",
        "commission",
        "service_fee",
        "subsidy_cost",
        "subsidy_payer",
        "status",
        "status_since",
        "consent",
        "conditions",
        "decline_reasons",
        "contract_number",
        "submitted_at",
        "decided_at",
        "signed_at",
        "disbursed_at",
        "closed_at",
    )
    readonly_fields = fields
    change_form_outer_after_template = "admin/autofinance/application_after.html"
    change_list_template = "admin/autofinance/application_change_list.html"

    @admin.display(description=_("due by"))
    def due(self, obj):
        due = _due(obj)
        return due.strftime("%Y-%m-%d %H:%M") if due else "—"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if sees_all(request.user) else qs.filter(sale__consultant=request.user)

    def changelist_view(self, request, extra_context=None):
        user = request.user
        extra = {
            "can_report": kit.console_can(user, (REPORT,)),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=extra)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None:
            user = request.user
            moves = [
                move
                for move, (sources, _target, perm) in MOVES.items()
                if obj.status in sources and kit.console_can(user, (perm,))
            ]
            extra.update(
                moves=moves,
                step_words={move: services.step_words(move) for move in MOVES},
                steps=selectors.application_timeline(obj),
                documents=obj.documents.all(),
                missing=[DocumentKind(k).label for k in services.missing_documents(obj)],
                kinds=DocumentKind.choices,
                can_upload=kit.console_can(user, ("autofinance.add_loandocument",))
                and obj.status in (Status.DRAFT, Status.SUBMITTED, Status.CONDITIONAL),
                can_commission=kit.console_can(user, (FUNDS,))
                and obj.commission_entry_id is not None
                and obj.commission_received_entry_id is None,
                consent=services.consent_for(obj),
                owner_role=role_label(OWNERS[obj.status]) if obj.status in OWNERS else "",
                due_at=_due(obj),
                line=obj.line,
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("queue/", view(self.queue_view), name="autofinance_loanapplication_queue"),
            path("report/", view(self.report_view), name="autofinance_loanapplication_report"),
            path("<id:pk>/step/", view(self.step_view), name="autofinance_loanapplication_step"),
            path("<id:pk>/document/", view(self.document_view), name="autofinance_loanapplication_document"),
            path("<id:pk>/file/", view(self.file_view), name="autofinance_loanapplication_file"),
            path("<id:pk>/commission/", view(self.commission_view), name="autofinance_loanapplication_commission"),
            *super().get_urls(),
        ]

    def _app_step(self, request, pk: int, perms: tuple[str, ...], act):
        if not kit.console_can(request.user, perms):
            raise PermissionDenied
        application = get_object_or_404(self.get_queryset(request), pk=pk)
        if request.method == "POST":
            try:
                text = act(application)
            except BusinessError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(request, text)
        return redirect("admin:autofinance_loanapplication_change", pk)

    def step_view(self, request, pk: int):
        move = request.POST.get("move", "")
        perm = MOVES[move][2] if move in MOVES else PROCESS

        def act(application):
            post = request.POST
            done = services.application_move(
                application=application,
                move=move,
                by=request.user,
                note=post.get("note", ""),
                conditions=post.get("conditions", ""),
                reasons=post.get("reasons", ""),
                contract_number=post.get("contract_number", ""),
            )
            return gettext("Application %(number)s: %(status)s.") % {
                "number": done.number,
                "status": done.get_status_display(),
            }

        return self._app_step(request, pk, (perm,), act)

    def document_view(self, request, pk: int):
        def act(application):
            document = services.document_add(
                application=application,
                kind=request.POST.get("kind", ""),
                upload=request.FILES.get("file"),
                by=request.user,
            )
            return gettext("%(kind)s added.") % {"kind": document.get_kind_display()}

        return self._app_step(request, pk, ("autofinance.add_loandocument",), act)

    def file_view(self, request, pk: int):
        """A document of the application (``?doc=<id>``), to staff who may see the application: never a
        public URL."""
        if not kit.console_can(request.user, ("autofinance.view_loanapplication",)):
            raise PermissionDenied
        application = get_object_or_404(self.get_queryset(request), pk=pk)
        doc_id = converters.id_or_none(request.GET.get("doc", ""))
        if not doc_id:  # no document named: back to the application's page, which lists them
            return redirect("admin:autofinance_loanapplication_change", application.pk)
        document = get_object_or_404(LoanDocument, pk=doc_id, application=application)
        return document_response(document.file)

    def commission_view(self, request, pk: int):
        def act(application):
            done = services.commission_receive(application=application, by=request.user)
            return gettext("Commission ¥%(amount)s received.") % {"amount": done.commission}

        return self._app_step(request, pk, (FUNDS,), act)

    def queue_view(self, request):
        if not kit.console_can(request.user, ("autofinance.view_loanapplication",)):
            raise PermissionDenied
        late = selectors.overdue()
        if not sees_all(request.user):
            late = [o for o in late if o.application.sale.consultant_id == request.user.pk]
        rows = [{"o": o, "role": role_label(o.owner), "status": o.application.get_status_display()} for o in late]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Overdue loan steps"),
            "opts": self.model._meta,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/autofinance/queue.html", context)

    def report_view(self, request):
        if not kit.console_can(request.user, (REPORT,)):
            raise PermissionDenied
        count = converters.id_or_none(request.GET.get("months", "")) or 6
        months = selectors.recent_months(min(max(count, 1), 24))
        by_month = selectors.penetration_by_month(months)
        income = selectors.finance_income(months)
        labels = [r["month"] for r in by_month]
        penetration_chart = kit.chart_data(
            labels,
            [
                {"label": gettext("cars delivered"), "data": [r["cars"] for r in by_month]},
                {"label": gettext("financed"), "data": [r["financed"] for r in by_month]},
            ],
        )
        income_chart = kit.chart_data(
            labels,
            [
                {"label": gettext("commission"), "data": [str(r["commission"]) for r in income]},
                {"label": gettext("loan service fees"), "data": [str(r["service_fees"]) for r in income]},
                {"label": gettext("manufacturer incentive"), "data": [str(r["incentive"]) for r in income]},
            ],
        )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Finance desk reports"),
            "opts": self.model._meta,
            "months": months,
            "by_month": by_month,
            "by_consultant": selectors.penetration_by_consultant(months),
            "lenders": selectors.lender_approvals(months),
            "income": income,
            "penetration_chart": penetration_chart,
            "income_chart": income_chart,
            "chart_options": kit.chart_options(legend=True),
            "money_options": kit.chart_options(legend=True, stacked=True, money=True),
        }
        return TemplateResponse(request, "admin/autofinance/report.html", context)


@admin.register(StepSLA)
class StepSLAAdmin(_NoDelete, ModelAdmin):
    list_display = ("status", "hours")
    fields = ("status", "hours")

    def save_model(self, request, obj, form, change):
        saved = services.sla_set(**form.cleaned_data)
        obj.pk = saved.pk


class IncentiveForm(forms.ModelForm):
    class Meta:
        model = PenetrationIncentive
        fields = ("month", "threshold_pct", "per_car")


@admin.register(PenetrationIncentive)
class PenetrationIncentiveAdmin(_NoDelete, ModelAdmin):
    form = IncentiveForm
    list_display = ("month", "threshold_pct", "per_car", "cars", "financed", "amount", "received")
    change_form_outer_after_template = "admin/autofinance/incentive_after.html"

    @admin.display(description=_("received"), boolean=True)
    def received(self, obj):
        return obj.received_entry_id is not None

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ("month", "threshold_pct", "per_car", "cars", "financed", "amount", "entry", "received_entry")
        return ()

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) if obj is not None else IncentiveForm.Meta.fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        saved = services.incentive_accrue(
            month=data["month"], threshold_pct=data["threshold_pct"], per_car=data["per_car"], by=request.user
        )
        obj.pk = saved.pk

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None:
            extra["can_receive"] = (
                kit.console_can(request.user, (FUNDS,)) and obj.entry_id is not None and obj.received_entry_id is None
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<id:pk>/receive/", view(self.receive_view), name="autofinance_penetrationincentive_receive"),
            *super().get_urls(),
        ]

    def receive_view(self, request, pk: int):
        if not kit.console_can(request.user, (FUNDS,)):
            raise PermissionDenied
        incentive = get_object_or_404(PenetrationIncentive, pk=pk)
        if request.method == "POST":
            try:
                services.incentive_receive(incentive=incentive, by=request.user)
            except BusinessError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(request, gettext("Incentive received."))
        return redirect("admin:autofinance_penetrationincentive_change", pk)
