"""When the database cannot take a write or cannot be reached (M13 faults): a clear answer, not a 500.

A full disk, a database made read-only (a replica promoted the wrong way, a full volume remounted,
``default_transaction_read_only``), or PostgreSQL restarting: the request's transaction fails and is
rolled back whole, so nothing is half-written — what is left is to tell the user to try again
rather than show a server error. The API answers 503 with the error envelope and ``Retry-After``
(``api.errors`` calls :func:`classify`); the pages answer a 503 page through
:class:`DatabaseUnavailableMiddleware`. Both log the failure at ERROR with the request id.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, InternalError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from weishang.core.errors import error_body

log = logging.getLogger("weishang.unavailable")
RETRY_AFTER_SECONDS = 30

# Words of SQLite's and PostgreSQL's messages (and their SQLSTATEs) for each case.
_FULL = ("database or disk is full", "no space left on device", "could not extend file", "disk full")
_READ_ONLY = ("readonly database", "read-only transaction", "read only transaction", "query_only")
_DOWN = (
    "the database system is shutting down",
    "the database system is starting up",
    "terminating connection",
    "server closed the connection",
    "connection refused",
    "connection is lost",
    "connection already closed",
    "consuming input failed",
    "could not connect",
    # Restarting: crash recovery, or a connection of before the restart used again (psycopg 3).
    "not yet accepting connections",
    "in recovery mode",
    "the connection is closed",
    "crash of another server process",
    # The socket gone under a statement being sent or read (libpq's words, psycopg's prefix).
    "could not send data to server",
    "could not receive data from server",
    "no connection to the server",
    "connection reset by peer",
    "broken pipe",
)
_SQLSTATE = {
    "53100": "storage_full",
    "25006": "read_only",
    "57P01": "database_unavailable",  # admin_shutdown: terminating connection
    "57P02": "database_unavailable",  # crash_shutdown: another server process crashed
    "57P03": "database_unavailable",  # cannot_connect_now: starting up, in recovery
}
_SQLSTATE_CLASSES = {"08": "database_unavailable"}  # connection exceptions


def classify(exc: BaseException) -> str | None:
    """``storage_full``, ``read_only`` or ``database_unavailable`` for a database failure that
    retrying later may cure; None for anything else (a bug: a 500)."""
    if not isinstance(exc, OperationalError | InterfaceError | InternalError):
        return None  # a constraint, a programming error, a broken transaction: a bug, a 500
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate in _SQLSTATE:
        return _SQLSTATE[sqlstate]
    if sqlstate and sqlstate[:2] in _SQLSTATE_CLASSES:
        return _SQLSTATE_CLASSES[sqlstate[:2]]
    text = f"{exc} {cause or ''}".lower()
    if any(word in text for word in _FULL):
        return "storage_full"
    if any(word in text for word in _READ_ONLY):
        return "read_only"
    if isinstance(exc, InterfaceError) or (isinstance(exc, OperationalError) and any(w in text for w in _DOWN)):
        return "database_unavailable"
    if isinstance(exc, OperationalError) and sqlstate is None and _a_link_broke():
        return "database_unavailable"  # the driver's own failure, words not listed, its connection lost
    return None


def _a_link_broke() -> bool:
    """Whether one of this thread's database connections is known by its driver to be lost
    (psycopg's ``broken``: the server went away under it), whatever words the failure used."""
    return any(getattr(c.connection, "broken", False) for c in connections.all(initialized_only=True))


def message() -> str:
    return _("The system cannot save right now. Nothing was changed; please try again in a moment.")


def report(request: HttpRequest, kind: str, exc: BaseException) -> None:
    log.error("%s on %s %s: %s", kind, request.method, request.path, exc)


class DatabaseUnavailableMiddleware:
    """A page's request that failed because the database cannot write or answer: a 503 page. An
    API request's failure that escaped the API's own handlers (the commit of its transaction, the
    Idempotency-Key's record): the API's 503 envelope with the same code as inside a route."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        kind = classify(exc)
        if kind is None:
            return None
        report(request, kind, exc)
        if request.path.startswith("/api/"):  # raised outside a route (committing, the key's record)
            response = JsonResponse(error_body(kind, message()), status=503, json_dumps_params={"ensure_ascii": False})
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        body = render_to_string("core/unavailable.html", {"message": message()}, request=None)
        response = HttpResponse(body, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
