"""``HistoryAdmin``: django-simple-history's "History" page on a console model, with an id that
is not one of the model's (``abc``, ``-1``, a number past the integer range) answered 404 like
any unknown object, instead of the ValueError the library lets through (a 500), and a changed
choice shown by its label (客户归属：首次绑定 → 到期可改绑), not its stored code."""

from __future__ import annotations

from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from weishang.core.converters import ID_MAX


class LabelledChanges(HistoricalRecordContextHelper):
    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if getattr(field, "flatchoices", None):
            return dict(field.flatchoices).get(value, value)
        return super().prepare_delta_change_value(change, value)


class HistoryAdmin(SimpleHistoryAdmin):
    def get_historical_record_context_helper(self, request, historical_record):
        return LabelledChanges(self.model, historical_record)

    def history_view(self, request, object_id, extra_context=None):
        try:
            pk = self.model._meta.pk.to_python(unquote(object_id))
        except (ValidationError, ValueError, TypeError):
            raise Http404 from None
        if isinstance(pk, int) and not 0 <= pk <= ID_MAX:
            raise Http404
        return super().history_view(request, object_id, extra_context)
