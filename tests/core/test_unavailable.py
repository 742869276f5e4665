"""Which database failures are "try again later" (a 503 with Retry-After) and which are a bug (a
500): the words and SQLSTATEs PostgreSQL and psycopg give while the server restarts, as seen in
tests/faults/test_postgres_restart.py, and the API's answer when the failure escapes a route."""

from __future__ import annotations

import json

import psycopg
import pytest
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, ProgrammingError
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
    ],
    ids=["recovering", "recovery-mode", "closed", "closed-interface", "57P02", "08006", "57P01", "server-closed"],
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
