"""Path converters. ``<id:name>`` is a database id: digits that fit a signed 64-bit integer
(the largest primary key either database holds). A longer number does not match the URL, so it
is a 404 like any other unknown id, instead of an overflow deep in a query (a 500).
Registered on import; the URL modules that use it import this module."""

from __future__ import annotations

from django.urls import register_converter

ID_MAX = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > ID_MAX:
            raise ValueError("id out of range")  # the resolver takes it for no match: a 404
        return number

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(IdConverter, "id")


def id_or_404(value) -> int:
    """An id taken from a route that accepts any text (unfold's detail actions): the number, or a
    404 for anything that is not a database id."""
    from django.http import Http404

    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > ID_MAX:
        raise Http404
    return int(text)


def id_or_none(value) -> int | None:
    """An id from a query string or form (``?line=``, a list filter): the number, or None for
    anything that is not a database id, so a hostile value finds nothing instead of overflowing."""
    text = str(value or "")
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > ID_MAX:
        return None
    return int(text)
