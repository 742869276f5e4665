"""Cursor pagination for the API's lists: django-ninja's ``CursorPagination`` on a unique integer
key (``-pk`` by default: newest first), 20 items a page unless ``page_size`` asks for up to 100.

A cursor is opaque to the client (``next`` and ``previous`` are whole URLs to follow). One that was
not made by us — garbled, or naming a position of the wrong type — is a 422 on ``cursor``, never a
500::

    @router.get("/things", response={200: list[ThingOut], **ERRORS})
    @paginate(Cursor)
    def things(request): ...

``rows`` adds figures to the page's items once they are chosen (``paginate(Cursor, rows=...)``).
"""

from __future__ import annotations

from collections.abc import Callable

import pydantic
from django.utils.translation import gettext as _
from ninja.errors import ValidationError
from ninja.pagination import CursorPagination

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class Cursor(CursorPagination):
    def __init__(self, *, ordering: tuple[str, ...] = ("-pk",), page_size: int = PAGE_SIZE,
                 max_page_size: int = MAX_PAGE_SIZE, rows: Callable[[list], list] | None = None, **kwargs):
        """``rows``: a function given the page's items (a list) that returns them with the figures
        computed for that page only (one query for the page, not a subquery per row of the list)."""
        super().__init__(ordering=ordering, page_size=page_size, max_page_size=max_page_size, **kwargs)
        self.rows = rows

    def paginate_queryset(self, queryset, pagination, request, **params):
        try:
            cursor = self.Cursor.from_encoded_param(pagination.cursor)
        except (ValidationError, pydantic.ValidationError, UnicodeError):
            cursor = None
        if cursor is None or not (cursor.p is None or (cursor.p.isascii() and cursor.p.lstrip("-").isdigit()
                                                       and len(cursor.p) < 19)):
            raise ValidationError([{"loc": ("query", "cursor"),
                                    "msg": _("This cursor is not valid: start again from the first page.")}])
        page = super().paginate_queryset(queryset, pagination, request, **params)
        if self.rows is not None:
            page[self.items_attribute] = self.rows(list(page[self.items_attribute]))
        return page
