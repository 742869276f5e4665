"""What ``/api/v1/openapi.json`` adds to the schema django-ninja makes from the routes.

django-ninja documents what a route returns; the answers the transport gives on every operation
(credentials, rate limits, wrong method, body too large or of the wrong type, an unexpected
failure, conditional GETs, idempotent POSTs) are added here, so that the spec tells a client
everything it can get back — and schemathesis, which checks each answer against the spec, can
tell a documented answer from a wrong one.

- every operation: 405 (wrong method), 429 with ``Retry-After``, 500 — all in the error envelope;
- an operation that takes credentials: 401 with ``WWW-Authenticate``;
- an operation with a request body: 413 (too large) and 415 (not JSON, or not multipart where
  the route takes files);
- GET: ``ETag`` on the 200 and 304 Not Modified (send ``If-None-Match``);
- POST: the ``Idempotency-Key`` header (printable ASCII, 1–255 characters; anything else is 400
  ``invalid_idempotency_key``) and ``Idempotent-Replayed: true`` on a replayed 2xx.
"""

from __future__ import annotations

from typing import Any

from weishang.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from weishang.api.idempotency import MAX_KEY

ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorOut"}
IDEMPOTENCY_KEY_PATTERN = rf"^[\x21-\x7E]{{1,{MAX_KEY}}}$"

ETAG = {
    "description": "A tag of this answer's body: send it back as `If-None-Match` to get 304 while it is unchanged.",
    "schema": {"type": "string"},
}
RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "string", "pattern": r"^[0-9]+$"},
}
WWW_AUTHENTICATE = {
    "description": 'How to authenticate: `Bearer realm="weishang"`.',
    "required": True,
    "schema": {"type": "string"},
}
IDEMPOTENT_REPLAYED = {
    "description": "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
    "schema": {"type": "string", "enum": ["true"]},
}
IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": IDEMPOTENCY_HEADER,
    "required": False,
    "description": (
        "Any unique string of printable ASCII (a UUID), 1–255 characters. A retry with the same key "
        "returns the first response; a key with other characters is 400 `invalid_idempotency_key`."
    ),
    "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    if headers:
        answer["headers"] = headers
    return answer


def _add_headers(answer: dict[str, Any], headers: dict[str, Any]) -> None:
    answer.setdefault("headers", {}).update(headers)


def augment(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the transport's answers, headers and parameters to every operation of ``schema`` (in place)."""
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            # django-ninja keys the answers by int; the JSON keys are strings, and so are ours.
            responses = {str(status): answer for status, answer in operation.get("responses", {}).items()}
            for status, answer in responses.items():
                if method == "get" and status == "200":
                    _add_headers(answer, {"ETag": ETAG})
                if method == "post" and status.startswith("2"):
                    _add_headers(answer, {"Idempotent-Replayed": IDEMPOTENT_REPLAYED})
            if operation.get("security"):
                responses.setdefault("401", _error("Unauthorized"))
                _add_headers(responses["401"], {"WWW-Authenticate": WWW_AUTHENTICATE})
            responses.setdefault("429", _error("Too Many Requests"))
            _add_headers(responses["429"], {"Retry-After": RETRY_AFTER})
            responses.setdefault("405", _error("Method Not Allowed: the answer's `Allow` header lists the methods."))
            responses.setdefault("500", _error("Something went wrong on our side (no details); try again later."))
            if "requestBody" in operation:
                responses.setdefault("413", _error("Content Too Large: the body is over the upload limit."))
                responses.setdefault("415", _error("Unsupported Media Type: send the body as the spec's content type."))
            if method == "get":
                responses.setdefault(
                    "304",
                    {
                        "description": "Not Modified: the answer's `ETag` matches `If-None-Match`; no body.",
                        "headers": {"ETag": {**ETAG, "required": True}},
                    },
                )
            if method == "post":
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("in") == "header" and p.get("name") == IDEMPOTENCY_HEADER for p in parameters):
                    parameters.append(dict(IDEMPOTENCY_KEY_PARAMETER))
            operation["responses"] = dict(sorted(responses.items()))
    return schema
