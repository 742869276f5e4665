"""``HistoryAdmin``: django-simple-history's "History" page on a console model, with an id that
is not one of the model's (``abc``, ``-1``, a number past the integer range) answered 404 like
any unknown object, instead of the ValueError the library lets through (a 500)."""

from __future__ import annotations

from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from weishang.core.converters import ID_MAX


class HistoryAdmin(SimpleHistoryAdmin):
    def history_view(self, request, object_id, extra_context=None):
        try:
            pk = self.model._meta.pk.to_python(unquote(object_id))
        except (ValidationError, ValueError, TypeError):
            raise Http404 from None
        if isinstance(pk, int) and not 0 <= pk <= ID_MAX:
            raise Http404
        return super().history_view(request, object_id, extra_context)
