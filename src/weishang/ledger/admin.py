"""Console pages for the ledger: accounts with their statements, journal entries, withdrawals.

Everything here is read-only: entries and lines are immutable (a mistake is corrected by a
reversal, posted by a service), and balances are caches. Finance acts on withdrawals only,
through pages that call ``ledger.services`` with ``request.user`` (approve, reject, mark paid,
payout failed); a BusinessError is shown on the page and nothing changes. Acting needs staff with
``ledger.change_withdrawal`` (roles owner and finance); ``Ledger verify`` needs
``ledger.view_journalentry``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Q, Sum
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.decorators import action

from weishang.console import bulk, kit
from weishang.console.exports import ExportMixin, WithdrawalResource
from weishang.console.history import HistoryAdmin
from weishang.ledger import selectors, services
from weishang.ledger.models import (
    Account,
    JournalEntry,
    JournalLine,
    Withdrawal,
    WithdrawalStatus,
    WithdrawalTransition,
)

W = WithdrawalStatus
WITHDRAWAL_LABELS = {
    W.REQUESTED: "warning",
    W.APPROVED: "info",
    W.PAID: "success",
    W.REJECTED: "danger",
    W.FAILED: "danger",
}
STATEMENT_ROWS = 50


def _link(url: str, text) -> str:
    return format_html('<a class="text-primary-600 underline" href="{}">{}</a>', url, text)


def _brand() -> str:
    return gettext("Brand")


CONSOLE_PERMS: dict[str, tuple[str, ...]] = {
    "withdrawal_decide": (services.WITHDRAW_PERM,),
    "ledger_verify": ("ledger.view_journalentry",),
}


# --- accounts -------------------------------------------------------------------------------


@admin.register(Account)
class AccountAdmin(kit.ReadOnlyAdmin):
    list_display = ("owner_display", "purpose", "balance", "normal_display", "lines_link")
    list_filter = ("purpose",)
    search_fields = ("owner__real_name", "owner__user__phone")
    list_select_related = ("owner",)
    ordering = ("owner__real_name", "purpose")
    fields = ("owner_display", "purpose", "balance", "normal_display", "created_at", "statement")
    readonly_fields = fields

    @admin.display(description=_("owner"), ordering="owner__real_name")
    def owner_display(self, obj):
        return obj.owner.real_name if obj.owner_id else _brand()

    @admin.display(description=_("normal side"))
    def normal_display(self, obj):
        return gettext("debit") if obj.normal_side == "debit" else gettext("credit")

    @admin.display(description=_("journal entries"))
    def lines_link(self, obj):
        return _link(reverse("admin:ledger_journalentry_changelist") + f"?lines__account={obj.pk}", gettext("entries"))

    @admin.display(description=_("statement"))
    def statement(self, obj):
        rows = selectors.account_statement(obj, limit=STATEMENT_ROWS)
        if not rows:
            return "—"
        body = format_html_join(
            "",
            '<tr><td class="pr-4">{}</td><td class="pr-4">{}</td><td class="pr-4">{}</td>'
            '<td class="pr-4 text-right">{}</td><td class="text-right">{}</td></tr>',
            (
                (
                    f"{r.created_at:%Y-%m-%d %H:%M}",
                    _link(reverse("admin:ledger_journalentry_change", args=[r.entry_id]), r.number),
                    r.memo,
                    f"{r.change:+}",
                    r.balance,
                )
                for r in reversed(rows)
            ),
        )
        head = format_html(
            '<tr><th class="pr-4 text-left">{}</th><th class="pr-4 text-left">{}</th>'
            '<th class="pr-4 text-left">{}</th><th class="pr-4 text-right">{}</th>'
            '<th class="text-right">{}</th></tr>',
            gettext("posted"),
            gettext("entry"),
            gettext("memo"),
            gettext("change"),
            gettext("balance"),
        )
        return format_html('<table class="text-sm">{}{}</table>', head, body)


# --- journal --------------------------------------------------------------------------------


class JournalLineInline(kit.ReadOnlyInline):
    model = JournalLine
    fields = ("account", "debit", "credit")
    readonly_fields = fields

    @admin.display(description=_("debit"))
    def debit(self, obj):
        return obj.amount if obj.amount > 0 else ""

    @admin.display(description=_("credit"))
    def credit(self, obj):
        return -obj.amount if obj.amount < 0 else ""


@admin.register(JournalEntry)
class JournalEntryAdmin(kit.ReadOnlyAdmin):
    list_display = ("number", "created_at", "kind", "memo", "reference", "total", "reverses_link", "created_by")
    list_filter = ("kind",)
    search_fields = ("number", "reference", "memo", "idempotency_key")
    list_select_related = ("reverses", "created_by")
    ordering = ("-pk",)
    fields = (
        "number",
        "created_at",
        "created_by",
        "kind",
        "memo",
        "reference",
        "idempotency_key",
        "reverses_link",
        "reversed_by_link",
    )
    readonly_fields = fields
    inlines = [JournalLineInline]
    actions_list = ["verify_ledger"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(debits=Sum("lines__amount", filter=Q(lines__amount__gt=0)))

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == "lines__account" or super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("amount"))
    def total(self, obj):
        return getattr(obj, "debits", None) or "—"

    @admin.display(description=_("reverses"))
    def reverses_link(self, obj):
        if not obj.reverses_id:
            return "—"
        return _link(reverse("admin:ledger_journalentry_change", args=[obj.reverses_id]), obj.reverses.number)

    @admin.display(description=_("reversed by"))
    def reversed_by_link(self, obj):
        reversal = JournalEntry.objects.filter(reverses=obj).first()
        if reversal is None:
            return "—"
        return _link(reverse("admin:ledger_journalentry_change", args=[reversal.pk]), reversal.number)

    def has_verify_permission(self, request, obj=None):
        return kit.console_can(request.user, CONSOLE_PERMS["ledger_verify"])

    @action(description=_("Ledger verify"), url_path="verify", permissions=["verify"], icon="fact_check")
    def verify_ledger(self, request):
        entries, accounts = selectors.ledger_counts()
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Ledger verify"),
            "problems": selectors.ledger_verify(),
            "entry_count": entries,
            "account_count": accounts,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/ledger/ledger_verify.html", context)


# --- withdrawals ----------------------------------------------------------------------------


class PaidForm(forms.Form):
    reference = kit.text_field(_("Transfer reference"), required=True, max_length=64)
    note = kit.text_field(_("Note"), required=False, max_length=300)


WITHDRAWAL_STEPS: dict[str, kit.Step] = {
    "approve": kit.Step(
        label=_("Approve"),
        perm="withdrawal_decide",
        statuses=(W.REQUESTED,),
        form=kit.OptionalNoteForm,
        run=lambda w, u, d: services.withdrawal_approve(withdrawal=w, by=u, note=d["note"]),
        done=_("Withdrawal %(number)s approved; pay it, then mark it paid."),
        icon="check",
    ),
    "reject": kit.Step(
        label=_("Reject"),
        perm="withdrawal_decide",
        statuses=(W.REQUESTED,),
        form=kit.RequiredNoteForm,
        run=lambda w, u, d: services.withdrawal_reject(withdrawal=w, by=u, note=d["note"]),
        done=_("Withdrawal %(number)s rejected; the money is back in the agent's available rewards."),
        icon="block",
    ),
    "mark_paid": kit.Step(
        label=_("Mark paid"),
        perm="withdrawal_decide",
        statuses=(W.APPROVED,),
        form=PaidForm,
        run=lambda w, u, d: services.withdrawal_mark_paid(withdrawal=w, by=u, reference=d["reference"], note=d["note"]),
        done=_("Withdrawal %(number)s paid."),
        url_path="paid",
        icon="payments",
    ),
    "fail": kit.Step(
        label=_("Payout failed"),
        perm="withdrawal_decide",
        statuses=(W.APPROVED,),
        form=kit.RequiredNoteForm,
        run=lambda w, u, d: services.withdrawal_fail(withdrawal=w, by=u, note=d["note"]),
        done=_("Withdrawal %(number)s marked failed; the money is back in the agent's available rewards."),
        icon="error",
    ),
}


class WithdrawalTransitionInline(kit.ReadOnlyInline):
    model = WithdrawalTransition
    fields = ("at", "from_status", "to_status", "by", "note")
    readonly_fields = fields


@admin.register(Withdrawal)
class WithdrawalAdmin(HistoryAdmin, ExportMixin, kit.StepPages, kit.ReadOnlyAdmin):
    resource_classes = [WithdrawalResource]
    export_name = "withdrawals"
    list_per_page = 50  # unfold renders every cell through templates: 50 rows answer in half the time of 100
    list_display = (
        "number",
        "created_at",
        "agent_display",
        "amount",
        "fee",
        "net",
        "method",
        "account_display",
        "status_label",
    )
    list_filter = ("status", "method")
    search_fields = ("number", "agent__real_name", "agent__user__phone", "payout_reference")
    list_select_related = ("agent__user",)
    ordering = ("-pk",)
    fields = (
        "number",
        "status_display",
        "agent_display",
        "amount",
        "fee_rate",
        "fee",
        "net",
        "method",
        "account_name",
        "account_display",
        "bank_name",
        "note",
        "payout_reference",
        "created_at",
        "entries",
    )
    readonly_fields = fields
    inlines = [WithdrawalTransitionInline]
    actions = ["approve_selected"]
    steps = WITHDRAWAL_STEPS
    console_perms = CONSOLE_PERMS
    step_template = "admin/ledger/withdrawal_action.html"

    def has_withdrawal_decide_permission(self, request, obj=None):
        return kit.console_can(request.user, CONSOLE_PERMS["withdrawal_decide"])

    status_label, status_display = kit.status_columns(WITHDRAWAL_LABELS)

    @admin.display(description=_("agent"), ordering="agent__real_name")
    def agent_display(self, obj):
        return f"{obj.agent.real_name} {obj.agent.phone}".strip()

    @admin.display(description=_("account"))
    def account_display(self, obj):
        return obj.account_no_masked

    @admin.display(description=_("journal entries"))
    def entries(self, obj):
        links = [
            _link(reverse("admin:ledger_journalentry_change", args=[e.pk]), e.number)
            for e in (obj.hold_entry, obj.release_entry, obj.payout_entry)
            if e is not None
        ]
        return format_html_join(" · ", "{}", ((link,) for link in links))

    @admin.action(description=_("Approve selected withdrawals"), permissions=["withdrawal_decide"])
    def approve_selected(self, request, queryset):
        """Each selected withdrawal approved through the service, in its own transaction; the page
        says how many were approved and why the others were not."""
        outcome = bulk.run_each(
            queryset.select_related("agent").order_by("pk"),
            lambda w: services.withdrawal_approve(withdrawal=w, by=request.user),
            name=lambda w: f"{w.number} {w.agent.real_name} ¥{w.amount}",
        )
        bulk.report(
            request,
            outcome,
            done=lambda n: (
                ngettext(
                    "%(n)d withdrawal approved; pay them, then mark them paid.",
                    "%(n)d withdrawals approved; pay them, then mark them paid.",
                    n,
                )
                % {"n": n}
            ),
            failed=lambda n: (
                ngettext("%(n)d withdrawal was not approved:", "%(n)d withdrawals were not approved:", n) % {"n": n}
            ),
        )

    def step_context(self, request, obj, name):
        return {"withdrawal": obj}
