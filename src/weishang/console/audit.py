"""The audit history: every change to level prices, levels, SKUs, plans, payouts and the brand settings, newest
first, with who made it and what changed (old → new).

django-simple-history keeps one historical row per save of each tracked model (the console's
requests record their user). Each kind is read with one query: a window function (LAG) puts
the previous value of every shown field next to each row, so a diff costs nothing per row. The
page reads at most ``LIMIT`` rows of each kind, merges them and shows the newest ``LIMIT``.
Each object's full history is one click away (simple_history's page in the console).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import F, Q, Window
from django.db.models.functions import Lag
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views import View

from weishang.catalog.models import SKU, LevelPrice
from weishang.channel.models import Level
from weishang.core.models import Brand
from weishang.ledger.models import Withdrawal
from weishang.rewards.models import PlanVersion

LIMIT = 100


@dataclass(frozen=True)
class Tracked:
    kind: str
    label: object
    model: type
    perm: str
    fields: tuple[str, ...]
    related: tuple[str, ...] = ()

    def describe(self, record) -> str:
        if self.model is LevelPrice:
            return f"{record.sku.code} @ {record.level.name}" if record.sku and record.level else "—"
        if self.model is PlanVersion:
            return f"{record.plan_id} v{record.version} · {record.name}"
        if self.model is Withdrawal:
            return f"{record.number} · {record.agent.real_name} · ¥{record.amount}"
        if self.model is SKU:
            return f"{record.code} {record.name}"
        return record.name


TRACKED = (
    Tracked("prices", _("Level prices"), LevelPrice, "catalog.view_levelprice", ("price",), ("sku", "level")),
    Tracked(
        "levels",
        _("Levels"),
        Level,
        "channel.view_level",
        ("name", "rank", "entry_amount", "discount", "min_restock_qty", "approver"),
    ),
    Tracked(
        "skus",
        _("SKUs"),
        SKU,
        "catalog.view_sku",
        (
            "name",
            "retail_price",
            "active",
            "min_order_qty",
            "max_per_order",
            "max_per_day",
            "max_per_week",
            "max_per_month",
        ),
    ),
    Tracked(
        "plans", _("Plans"), PlanVersion, "rewards.view_planversion", ("name", "sha256", "active_from", "activated_at")
    ),
    Tracked(
        "payouts",
        _("Withdrawals"),
        Withdrawal,
        "ledger.view_withdrawal",
        ("status", "payout_reference", "note"),
        ("agent",),
    ),
    Tracked(
        "brand",
        _("Brand settings"),
        Brand,
        "core.view_brand",
        (
            "name",
            "currency",
            "timezone",
            "jurisdiction",
            "supply_mode",
            "customer_binding",
            "customer_binding_days",
            "retail_unpaid_hours",
        ),
    ),
)
HISTORY_TYPES = {
    "+": pgettext_lazy("audit history", "created"),
    "~": pgettext_lazy("audit history", "changed"),
    "-": pgettext_lazy("audit history", "deleted"),
}


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class Entry:
    when: datetime
    kind: str
    kind_label: str
    what: str
    action: str
    changes: list[Change]
    by: str
    history_url: str


def _show(model, name: str, value) -> str:
    if value is None or value == "":
        return "—"
    field = model._meta.get_field(name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(field, models.DecimalField):  # SQLite hands the previous value back as 80, not 80.00
        return f"{Decimal(str(value)):.{field.decimal_places}f}"
    if name == "sha256":
        return str(value)[:12]
    return str(value)


def _label(model, name: str) -> str:
    if name == "sha256":
        return gettext("plan file (checksum)")
    return str(model._meta.get_field(name).verbose_name)


def kinds_for(user) -> list[Tracked]:
    return [t for t in TRACKED if user.has_perm(t.perm)]


def entries(tracked: list[Tracked], *, limit: int = LIMIT) -> list[Entry]:
    """The newest ``limit`` changes of the given kinds (one query per kind)."""
    out: list[Entry] = []
    for t in tracked:
        history = t.model.history.model
        previous = {
            f"prev_{name}": Window(
                Lag(name), partition_by=[F("id")], order_by=[F("history_date").asc(), F("history_id").asc()]
            )
            for name in t.fields
        }
        # A save that changed none of the shown fields (a plan sync rewriting the same price) is not listed.
        changed = Q(history_type__in=["+", "-"])
        for name in t.fields:
            prev = f"prev_{name}"
            changed |= (
                ~Q(**{name: F(prev)})
                | Q(**{f"{name}__isnull": True, f"{prev}__isnull": False})
                | Q(**{f"{name}__isnull": False, f"{prev}__isnull": True})
            )
        rows = (
            history.objects.select_related("history_user", *t.related)
            .annotate(**previous)
            .filter(changed)
            .order_by("-history_date", "-history_id")[:limit]
        )
        url_name = f"admin:{t.model._meta.app_label}_{t.model._meta.model_name}_history"
        for row in rows:
            changes = []
            for name in t.fields:
                new, old = getattr(row, name), getattr(row, f"prev_{name}")
                if row.history_type == "+":
                    old = None
                elif row.history_type == "-":
                    old, new = new, None
                if old != new:
                    changes.append(Change(_label(t.model, name), _show(t.model, name, old), _show(t.model, name, new)))
            user = row.history_user
            out.append(
                Entry(
                    when=row.history_date,
                    kind=t.kind,
                    kind_label=str(t.label),
                    what=t.describe(row),
                    action=str(HISTORY_TYPES.get(row.history_type, row.history_type)),
                    changes=changes,
                    by=(user.get_full_name() or user.get_username()) if user else gettext("the system"),
                    history_url=reverse(url_name, args=[row.id]),
                )
            )
    out.sort(key=lambda e: e.when, reverse=True)
    return out[:limit]


class AuditHistoryView(View):
    """/console/audit/: the merged history, optionally one kind (``?kind=prices``)."""

    admin_site = None

    def get(self, request):
        allowed = kinds_for(request.user)
        if not allowed:
            raise PermissionDenied
        kind = request.GET.get("kind", "")
        shown = [t for t in allowed if t.kind == kind] or allowed
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Audit history"),
            "kinds": [(t.kind, t.label) for t in allowed],
            "kind": kind if len(shown) == 1 and len(allowed) > 1 else "",
            "entries": entries(shown),
            "limit": LIMIT,
        }
        return TemplateResponse(request, "console/audit.html", context)
