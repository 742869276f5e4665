"""Schemathesis hooks for the API's contract test (schemathesis.toml loads this file): they run in
the ``st`` process, not in the server.

- A pagination ``cursor`` is opaque: only the server makes valid ones (it refuses any other with a
  422 on ``cursor``), so no schema can describe it and a made-up one is never valid input. Valid
  examples leave it out; invalid ones and the raw-transport tests still send bad cursors.
- An ``Idempotency-Key`` is "any unique string": the same key with a different request is 422
  ``idempotency_key_reused`` by design, and the fuzzer draws the same short keys ("0", "00") again and
  again. A valid key gets a unique suffix, as a client's UUID would be; an invalid one is sent as drawn.
- A multipart form field is text on the wire: a value drawn as "not a string" (``false``, ``-2.2e-16``)
  arrives as the string ``"false"``, which a free-text field such as a transfer's ``reference`` rightly
  takes. An invalid multipart body is made invalid on the wire instead: it goes without its required
  file, which the server must refuse (422).
- The token run's credential and the operations that revoke it: see ``before_call``.
"""

from __future__ import annotations

import itertools
import os
import re
import uuid

import requests
import schemathesis
from schemathesis.core.parameters import ParameterLocation

IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7E]{1,255}")


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if case.query and "cursor" in case.query and meta is not None and not meta.is_negative_at(ParameterLocation.QUERY):
        case.query = {name: value for name, value in case.query.items() if name != "cursor"}
    if (
        meta is not None
        and meta.is_negative_at(ParameterLocation.BODY)
        and isinstance(case.body, dict)
        and (case.media_type or "").startswith("multipart/form-data")
    ):
        schema = case.operation.body[0].definition.get("schema", {}) if case.operation.body else {}
        files = [
            name
            for name in schema.get("required", [])
            if name in case.body and schema.get("properties", {}).get(name, {}).get("format") == "binary"
        ]
        if files:
            case.body = {name: value for name, value in case.body.items() if name not in files}
            meta.mark_dirty(ParameterLocation.BODY)
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and IDEMPOTENCY_KEY.fullmatch(key):
        case.headers = {**case.headers, "Idempotency-Key": f"{key[:222]}.{uuid.uuid4().hex}"}
    return case


# The operations that revoke the caller's token (see REVOKING in test_schemathesis.py).
REVOKING = {("POST", "/auth/logout"), ("DELETE", "/auth/devices/{device_id}"), ("POST", "/auth/password")}
_calls = itertools.count()


def _fresh_login() -> dict:
    """Log in as the spare agent: a new device token (and its device id) for one request."""
    response = requests.post(
        os.environ["WEISHANG_ST_BASE_URL"] + "/api/v1/auth/login",
        json={
            "phone": os.environ["WEISHANG_ST_SPARE_LOGIN"],
            "password": os.environ["WEISHANG_ST_SPARE_PASSWORD"],
            "device": "schemathesis spare",
        },
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


@schemathesis.hook
def before_call(context, case, kwargs):
    """The token run (the test sets WEISHANG_ST_TOKEN) sends the agent's device token on every
    request — from here rather than with ``--header``, which would win over a per-request value —
    except to an operation that revokes the caller's token: that request goes with a fresh token of
    the spare agent, so that the run keeps its own; about half of the valid requests to
    DELETE /auth/devices/{device_id} name that fresh device."""
    token = os.environ.get("WEISHANG_ST_TOKEN")
    if not token:
        return
    path = case.operation.path.removeprefix("/api/v1")
    if (case.method.upper(), path) in REVOKING:
        login = _fresh_login()
        token = login["token"]
        meta = case.meta
        if (
            path.startswith("/auth/devices/")
            and meta is not None
            and not meta.is_negative_at(ParameterLocation.PATH)
            and next(_calls) % 2
        ):
            case.path_parameters = {**case.path_parameters, "device_id": login["device_id"]}
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
