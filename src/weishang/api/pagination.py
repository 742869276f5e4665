"""Cursor pagination for the API's lists: django-ninja's ``CursorPagination`` on a unique integer
key (``-pk`` by default: newest first), 20 items a page unless ``page_size`` asks for up to 100.

A cursor is opaque to the client (``next`` and ``previous`` are whole URLs to follow). It names the
list it was made for (a hash of the list's path): one that was not made by us — garbled, naming a
position of the wrong type, or made by another list — is a 422 on ``cursor``, never a 500 and never
a page of the wrong list. ``page_size`` outside 1–100 is a 422 on ``page_size``, as the spec says::

    @router.get("/things", response={200: list[ThingOut], **ERRORS})
    @paginate(Cursor)
    def things(request): ...

``rows`` adds figures to the page's items once they are chosen (``paginate(Cursor, rows=...)``).
"""

from __future__ import annotations

import binascii
import hashlib
import re
from base64 import b64decode, b64encode
from collections.abc import Callable
from typing import Annotated
from urllib import parse

import pydantic
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.errors import ValidationError
from ninja.pagination import CursorPagination

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# A position is a primary key: an optional minus sign and up to 18 digits (a 64-bit integer).
POSITION = re.compile(r"^-?[0-9]{1,18}$")
LIST = "l"  # the cursor's field naming its list


def _list_tag(request) -> str:
    return hashlib.sha256(request.path.encode("utf-8", "surrogateescape")).hexdigest()[:10]


def _bad_cursor() -> ValidationError:
    return ValidationError(
        [
            {
                "loc": ("query", "cursor"),
                "type": "cursor_invalid",
                "msg": _("This cursor is not valid: start again from the first page."),
            }
        ]
    )


class Cursor(CursorPagination):
    def __init__(
        self,
        *,
        ordering: tuple[str, ...] = ("-pk",),
        page_size: int = PAGE_SIZE,
        max_page_size: int = MAX_PAGE_SIZE,
        rows: Callable[[list], list] | None = None,
        **kwargs,
    ):
        """``rows``: a function given the page's items (a list) that returns them with the figures
        computed for that page only (one query for the page, not a subquery per row of the list)."""
        super().__init__(ordering=ordering, page_size=page_size, max_page_size=max_page_size, **kwargs)
        self.rows = rows

    class Input(Schema):
        page_size: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] | None = Field(
            None, description=f"items per page, 1 to {MAX_PAGE_SIZE} ({PAGE_SIZE} when not given)"
        )
        cursor: Annotated[str, Field(max_length=200)] | None = Field(
            None, description="the position to continue from: follow the `next` or `previous` link"
        )

    def paginate_queryset(self, queryset, pagination, request, **params):
        tag = _list_tag(request)
        if pagination.cursor:
            self._check(pagination.cursor, tag)
        page = super().paginate_queryset(queryset, pagination, request, **params)
        for link in ("next", "previous"):
            page[link] = _tag_link(page.get(link), tag)
        if self.rows is not None:
            page[self.items_attribute] = self.rows(list(page[self.items_attribute]))
        return page

    def _check(self, encoded: str, tag: str) -> None:
        try:
            fields = parse.parse_qs(
                b64decode(encoded.encode("ascii"), validate=True).decode("ascii"),
                keep_blank_values=True,
                strict_parsing=True,
            )
            cursor = self.Cursor.model_validate(fields)  # as from_encoded_param, without decoding again
        except (ValueError, binascii.Error, ValidationError, pydantic.ValidationError, UnicodeError):
            raise _bad_cursor() from None
        if fields.get(LIST) != [tag] or not (cursor.p is None or POSITION.match(cursor.p)):
            raise _bad_cursor()


def _tag_link(url: str | None, tag: str) -> str | None:
    """``url`` with its cursor naming the list ``tag`` (django-ninja's cursor ignores the field)."""
    if not url:
        return url
    scheme, netloc, path, query, fragment = parse.urlsplit(url)
    pairs = parse.parse_qsl(query, keep_blank_values=True)
    tagged = []
    for name, value in pairs:
        if name == "cursor":
            fields = parse.parse_qsl(b64decode(value).decode("ascii"), keep_blank_values=True)
            fields = [(k, v) for k, v in fields if k != LIST] + [(LIST, tag)]
            value = b64encode(parse.urlencode(fields).encode("ascii")).decode("ascii")
        tagged.append((name, value))
    return parse.urlunsplit((scheme, netloc, path, parse.urlencode(tagged), fragment))
