"""Which database failures are "try again later" (a 503 with Retry-After) and which are a bug (a
500): the words and SQLSTATEs PostgreSQL and psycopg give while the server restarts, as seen in
tests/faults/test_postgres_restart.py, and the API's answer when the failure escapes a route."""

from __future__ import annotations

import json
import os
import socket

import psycopg
import pytest
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, ProgrammingError, connection
from django.test import RequestFactory

from weishang.core import unavailable


def _django(error_class, cause: BaseException):
    """A Django database error wrapping the driver's, as ``wrap_database_errors`` raises it."""
    exc = error_class(*cause.args)
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    "exc",
    [
        # A new connection while PostgreSQL replays its WAL after a crash.
        _django(
            OperationalError,
            psycopg.OperationalError(
                'connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  the database '
                "system is not yet accepting connections\nDETAIL:  Consistent recovery state has not been yet reached."
            ),
        ),
        _django(OperationalError, psycopg.OperationalError("FATAL:  the database system is in recovery mode")),
        # A connection opened before the restart, used again (psycopg 3 knows it is closed).
        _django(OperationalError, psycopg.OperationalError("the connection is closed")),
        _django(InterfaceError, psycopg.InterfaceError("the connection is closed")),
        # A backend told that another one crashed, and connection failures by SQLSTATE.
        _django(OperationalError, psycopg.errors.CrashShutdown("terminating connection")),
        _django(OperationalError, psycopg.errors.ConnectionFailure("lost synchronization with server")),
        _django(OperationalError, psycopg.errors.AdminShutdown("terminating connection due to administrator")),
        _django(
            OperationalError,
            psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"),
        ),
        # The socket reset under a statement being sent, or read.
        _django(
            OperationalError,
            psycopg.OperationalError(
                "sending query and params failed: could not send data to server: Connection reset by peer"
            ),
        ),
        _django(OperationalError, psycopg.OperationalError("flushing failed: could not send data to server: EPIPE")),
        _django(OperationalError, psycopg.OperationalError("executing query failed: no connection to the server")),
    ],
    ids=[
        "recovering",
        "recovery-mode",
        "closed",
        "closed-interface",
        "57P02",
        "08006",
        "57P01",
        "server-closed",
        "reset-sending",
        "broken-pipe",
        "no-connection",
    ],
)
def test_a_restarting_database_is_unavailable_not_a_bug(exc):
    assert unavailable.classify(exc) == "database_unavailable"


@pytest.mark.parametrize(
    "exc",
    [
        _django(IntegrityError, psycopg.errors.UniqueViolation("duplicate key value")),
        _django(ProgrammingError, psycopg.errors.UndefinedColumn('column "x" does not exist')),
        _django(OperationalError, psycopg.OperationalError('FATAL:  password authentication failed for user "x"')),
        DatabaseError("something else"),
        ValueError("the connection is closed"),  # not a database error at all
    ],
    ids=["unique", "undefined-column", "wrong-password", "other", "not-database"],
)
def test_a_bug_or_a_wrong_setting_stays_a_server_error(exc):
    assert unavailable.classify(exc) is None


def test_an_api_request_failing_outside_its_route_gets_the_envelope():
    """The commit of an API request's transaction (or its Idempotency-Key record) failing: the
    API's 503 envelope with the code, in the caller's language, and Retry-After."""
    request = RequestFactory().post("/api/v1/orders", HTTP_ACCEPT_LANGUAGE="zh-hans")
    exc = _django(OperationalError, psycopg.OperationalError("the connection is closed"))
    response = unavailable.DatabaseUnavailableMiddleware(lambda r: None).process_exception(request, exc)
    assert response.status_code == 503 and response["Retry-After"] == str(unavailable.RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("application/json")
    error = json.loads(response.content)["error"]
    assert error["code"] == "database_unavailable" and error["message"] == unavailable.message()


def test_a_page_failing_the_same_way_gets_the_503_page():
    request = RequestFactory().get("/m/")
    exc = _django(OperationalError, psycopg.OperationalError("the connection is closed"))
    response = unavailable.DatabaseUnavailableMiddleware(lambda r: None).process_exception(request, exc)
    assert response.status_code == 503 and response["Retry-After"] == str(unavailable.RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/html") and "<html" in response.content.decode().lower()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's connections only")
@pytest.mark.django_db(transaction=True)
def test_a_driver_failure_in_new_words_is_unavailable_once_the_link_is_lost():
    """Whatever words libpq uses, a failure of the driver (no SQLSTATE) once psycopg knows its
    connection is lost is "try again later"; the same failure on a live connection stays a bug."""
    exc = _django(OperationalError, psycopg.OperationalError("sending query failed: words nobody listed"))
    connection.ensure_connection()
    assert unavailable.classify(exc) is None  # the connection is alive: a bug, a 500
    with socket.socket(fileno=os.dup(connection.connection.fileno())) as link:
        link.shutdown(socket.SHUT_RDWR)  # the server's side gone, as when PostgreSQL is killed
    with pytest.raises(OperationalError):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    assert connection.connection.broken
    assert unavailable.classify(exc) == "database_unavailable"
    connection.close()
