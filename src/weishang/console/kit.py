"""The console kit: the pieces every domain's console pages are built from.

- ``console_can``: the one check for a console step (active brand staff holding every
  permission the step needs; each domain's admin keeps its table of those, ``CONSOLE_PERMS``);
- ``ReadOnlyAdmin`` / ``ReadOnlyInline``: records shown, never added, edited or deleted as
  fields (money, stock and statuses change only through services);
- ``Step`` and ``StepPages``: a step the brand takes on one record (approve an order, confirm a
  payment, mark a withdrawal paid) as its own page: a short form, the service called with
  ``request.user``, a BusinessError shown on the page (status 400, nothing changed), success
  back to the record with a message. ``StepPages`` writes that page once and adds one unfold
  detail action per step; an admin says only what differs (its steps, template, context, and
  the refusal when the brand is not the party);
- the step forms (``ConfirmForm``, ``OptionalNoteForm``, ``RequiredNoteForm``, ``text_field``)
  and ``form_error``.

Domain ``admin.py`` files import this module (and ``exports``, ``history``, ``bulk``); it imports
nothing of a domain but ``core``, and nothing in ``console/`` imports a domain's admin module
(``tests/test_import_shape.py``). See docs/architecture.md ("The console").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminTextInputWidget

from weishang.core.errors import BusinessError


def console_can(user, perms: Iterable[str]) -> bool:
    """Whether ``user`` may take a console step that needs ``perms`` (model permissions granted
    by the roles in core.roles): active brand staff holding all of them."""
    return bool(user.is_active and user.is_staff and user.has_perms(tuple(perms)))


class _NoEdits:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(_NoEdits, ModelAdmin):
    """A console list and detail page that shows records and never adds, edits or deletes one."""


class ReadOnlyInline(_NoEdits, TabularInline):
    """Rows shown under a record (its lines, its status changes), never edited there."""

    extra = 0
    can_delete = False
    show_title = False
    view_perm: str | None = None  # who sees the rows; None: the inline model's own view permission

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_view_permission(self, request, obj=None):
        if self.view_perm is not None:
            return request.user.has_perm(self.view_perm)
        return super().has_view_permission(request, obj)


def status_columns(labels: dict) -> tuple[Callable, Callable]:
    """The two status columns of a record with a status: ``status_label`` (a coloured label, for
    lists; ``labels`` maps a status to its colour) and ``status_display`` (the text, for detail
    pages). In an admin class body: ``status_label, status_display = kit.status_columns(LABELS)``."""

    @display(description=_("status"), ordering="status", label=labels)
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    @admin.display(description=_("status"))
    def status_display(self, obj):
        return obj.get_status_display()

    return status_label, status_display


class EmptyFieldFilter(admin.SimpleListFilter):
    """Records whose ``field`` is empty (the brand is the party) or set (an agent is): ``values``
    is ((value when empty, label), (value when set, label))."""

    field = ""
    values: tuple[tuple[str, object], tuple[str, object]] = (("", ""), ("", ""))

    def lookups(self, request, model_admin):
        return list(self.values)

    def queryset(self, request, queryset):
        (empty, _label), (filled, _label2) = self.values
        if self.value() == empty:
            return queryset.filter(**{f"{self.field}__isnull": True})
        if self.value() == filled:
            return queryset.filter(**{f"{self.field}__isnull": False})
        return queryset


# --- step forms -----------------------------------------------------------------------------


def text_field(label, *, required: bool, max_length: int) -> forms.CharField:
    return forms.CharField(label=label, required=required, max_length=max_length, widget=UnfoldAdminTextInputWidget)


class ConfirmForm(forms.Form):
    pass


class RequiredNoteForm(forms.Form):
    note = text_field(_("Why"), required=True, max_length=300)


class OptionalNoteForm(forms.Form):
    note = text_field(_("Note"), required=False, max_length=300)


def form_error(form: forms.Form, exc: BusinessError) -> int:
    """A service's refusal on the form (on its field when the form has it); its HTTP status."""
    form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
    return exc.status


# --- steps ----------------------------------------------------------------------------------


def _always(obj) -> bool:
    return True


@dataclass(frozen=True)
class Step:
    """A step the brand takes on one record, as its own console page."""

    label: object  # the button, the page title and the submit button
    perm: str  # key of the admin's ``console_perms``
    form: type[forms.Form]
    run: Callable[..., object]  # run(obj, user, cleaned_data): the service
    # The success message: a text with %(number)s, %(pk)s, or done(record) -> str, given the
    # record the service returned (the one on the page if it returned another kind of object).
    done: object
    statuses: tuple[str, ...]  # when the button is shown (the service checks again)
    party: Callable[[object], bool] = _always  # the brand is the party (checked before the service)
    url_path: str = ""  # default: the step's name
    icon: str | None = None


def _step_action(name: str, step: Step):
    def view(self, request, object_id):
        return self.step_page(request, object_id, name)

    view.__name__ = view.__qualname__ = name
    return action(description=step.label, url_path=step.url_path or name, permissions=[step.perm], icon=step.icon)(view)


class StepPages:
    """Mixin for a ModelAdmin whose records the brand moves on through ``steps``.

    Each step becomes an unfold detail action named after its key (URL name
    ``admin:<app>_<model>_<key>``, permission ``has_<perm>_permission``), shown on a record only
    when ``step_ready``; its page is ``step_page``. A subclass sets ``steps``, ``console_perms``
    and ``step_template`` and may override ``step_context``, ``step_title``, ``step_message`` and
    ``not_the_party``."""

    steps: dict[str, Step] = {}
    console_perms: dict[str, tuple[str, ...]] = {}
    step_template = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        steps = cls.__dict__.get("steps")
        if steps:
            for name, step in steps.items():
                if name not in cls.__dict__:
                    setattr(cls, name, _step_action(name, step))
            if "actions_detail" not in cls.__dict__:
                cls.actions_detail = list(steps)

    # --- what differs between the step pages ---------------------------------------------------
    def step_ready(self, obj, step: Step) -> bool:
        """Whether the step applies to ``obj`` as it is now (its button shown, its form offered)."""
        return step.party(obj) and obj.status in step.statuses

    def not_the_party(self, obj) -> BusinessError:
        """The refusal when a form is posted for a record the brand is not the party to."""
        raise NotImplementedError

    def step_title(self, obj, step: Step) -> str:
        return f"{step.label}: {obj.number}"

    def step_message(self, obj, step: Step) -> str:
        if callable(step.done):
            return step.done(obj)
        return step.done % {"number": getattr(obj, "number", ""), "pk": obj.pk}

    def step_context(self, request, obj, name: str) -> dict:
        """What the step's template shows about ``obj`` besides the form."""
        return {}

    # --- the one step page ---------------------------------------------------------------------
    def get_actions_detail(self, request, object_id):
        allowed = super().get_actions_detail(request, object_id)
        obj = self.get_object(request, unquote(str(object_id)))
        if obj is None:
            return []
        prefix = f"{self.model._meta.app_label}_{self.model._meta.model_name}_"
        return [
            a
            for a in allowed
            if (step := self.steps.get(a.action_name.removeprefix(prefix))) is not None and self.step_ready(obj, step)
        ]

    def step_page(self, request, object_id, name: str):
        step = self.steps[name]
        if not console_can(request.user, self.console_perms[step.perm]):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        form = step.form(request.POST if request.method == "POST" else None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                try:
                    if not step.party(obj):
                        raise self.not_the_party(obj)
                    result = step.run(obj, request.user, form.cleaned_data)
                except BusinessError as exc:
                    form_error(form, exc)
                else:
                    done = result if isinstance(result, type(obj)) else obj
                    messages.success(request, self.step_message(done, step))
                    opts = self.model._meta
                    return redirect(f"admin:{opts.app_label}_{opts.model_name}_change", obj.pk)
        obj.refresh_from_db()
        context = {
            **self.admin_site.each_context(request),
            "title": self.step_title(obj, step),
            **self.step_context(request, obj, name),
            "ready": self.step_ready(obj, step),
            "form": form,
            "submit_label": step.label,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, self.step_template, context, status=status)


# --- charts (unfold's Chart.js components read a JSON data attribute) ------------------------


def chart_data(labels: list[str], datasets: list[dict]) -> str:
    """The JSON data attribute unfold's Chart.js components read (``unfold/components/chart/*.html``)."""
    return json.dumps({"labels": labels, "datasets": datasets}, ensure_ascii=False)


def chart_options(*, stacked: bool = False, legend: bool = False, money: bool = False) -> str:
    scale = {
        "beginAtZero": True,
        "stacked": stacked,
        "grid": {"color": "rgba(156,163,175,0.2)"},
        "ticks": {"color": "#9ca3af", "precision": 0},
    }
    return json.dumps(
        {
            "animation": False,
            "responsive": True,
            "maintainAspectRatio": False,
            "plugins": {
                "legend": {
                    "display": legend,
                    "position": "bottom",
                    "align": "start",
                    "labels": {"color": "#6b7280", "boxWidth": 10, "boxHeight": 10},
                },
                "tooltip": {"enabled": True},
            },
            "scales": {
                "x": {"stacked": stacked, "grid": {"display": False}, "ticks": {"color": "#9ca3af"}},
                "y": scale | ({"ticks": {"color": "#9ca3af"}} if money else {}),
            },
            "datasets": {"bar": {"borderRadius": 4, "maxBarThickness": 36}},
        }
    )
