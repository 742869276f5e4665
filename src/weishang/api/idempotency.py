"""``Idempotency-Key`` on POST: a retry with the same key gets the first answer, and nothing is
done twice.

It runs inside the API, in two parts that django-ninja applies to every operation
(:func:`install`):

- **before the route** (after authentication, the rate limit and reading the input): the key is
  checked (1 to 255 printable ASCII characters, 400 ``invalid_idempotency_key`` otherwise) and
  claimed for the caller — the device token or API key that authenticated, the phone session's
  user, or for a public call the client's address — with a hash of the request; then
    - the same key and the same request, answered before: that answer, replayed;
    - the same key with a different request: 422 ``idempotency_key_reused``, nothing done;
    - the same key while the first request is still running: 409 ``request_in_progress``;
- **after the route**: its answer is stored — the status, the body and the headers a client
  reads (``Content-Type`` with its charset, ``Content-Language``, ``Location``,
  ``WWW-Authenticate``, ``Retry-After``), so that a replay is byte for byte the first answer, in
  the first answer's language, with ``Idempotent-Replayed: true``.

On PostgreSQL the claim, the route's work and the stored answer are one transaction (the route's
own transactions are savepoints in it): a request with a key is one write transaction, and a 5xx
or an exception rolls back the claim with the work; a second request with the same key waits on
the unique index for the first's transaction and then gets its answer. On SQLite, where any
transaction holds the database's one write lock from its start, the claim and the answer are two
short transactions around the route's own (see ``_one_transaction``).

Never stored, so that a retry may succeed: a 5xx (the work was not done), a 429, and anything
answered before the key was claimed (no credential, a wrong one, over the rate limit, input that
does not parse or validate — those answers come before the route and do not depend on the key).
Records older than ``KEEP`` are deleted by ``weishang api prune``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from functools import wraps

from django.db import IntegrityError, connection, transaction
from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

from weishang.api.models import IdempotencyRecord
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict
from weishang.core.http import client_ip

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)
MAX_KEY = 255
KEY_PATTERN = r"^[\x21-\x7E]{1,255}$"  # printable ASCII, no spaces: a UUID, a ULID, an order reference
STORED_HEADERS = ("Content-Type", "Content-Language", "Location", "WWW-Authenticate", "Retry-After", "ETag")
REPLAYED = "Idempotent-Replayed"
_KEY = re.compile(KEY_PATTERN)


class KeyReused(BusinessError):
    """The same key with a different request (422, as the IETF Idempotency-Key draft says)."""

    status = 422
    code = "idempotency_key_reused"


def _principal(request) -> str:
    """Who the key belongs to: the credential that authenticated this request."""
    auth = getattr(request, "auth", None)
    token = getattr(request, "api_token", None)
    key = getattr(request, "api_key", None)
    if token is not None and auth is token:
        return f"token:{token.pk}"
    if key is not None and auth is key:
        return f"key:{key.pk}"
    user = getattr(request, "user", None)
    if auth is not None and user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return "ip:" + hashlib.sha256((client_ip(request) or "").encode()).hexdigest()[:32]


def _request_hash(request) -> str:
    """The method, path, query and payload. A multipart upload is hashed field by field and file
    by file (Django has read its body into ``POST`` and ``FILES`` by now)."""
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    content_type = (request.META.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    digest.update(content_type.encode("utf-8", "surrogateescape") + b"\0")
    if content_type == "multipart/form-data":
        for name, values in sorted(request.POST.lists()):
            digest.update(name.encode() + b"\0")
            for value in values:
                digest.update(value.encode() + b"\0")
        for name, files in sorted(request.FILES.lists()):
            digest.update(name.encode() + b"\0")
            for upload in files:
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code)
    for name, value in (record.headers or {}).items():
        response[name] = value
    response[REPLAYED] = "true"
    return response


def _one_transaction() -> bool:
    """Whether the claim, the route and the answer share one transaction: on PostgreSQL (row
    locks) yes. On SQLite a transaction holds the one write lock from its start, so one transaction
    per request would hold it through the whole route and the rendering of its answer: the claim
    and the answer are then short transactions of their own around the route's (docs/decisions.md)."""
    return connection.vendor != "sqlite"


def _claim(request) -> tuple[IdempotencyRecord, transaction.Atomic | None] | HttpResponse | None:
    """The record this request claims with the transaction it opened for it, the stored answer to
    replay, or None without a key."""
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST":
        return None
    if not _KEY.match(key):
        raise BusinessError(
            _("Idempotency-Key must be 1 to 255 printable ASCII characters without spaces, such as a UUID."),
            code="invalid_idempotency_key",
        )
    principal, request_hash = _principal(request), _request_hash(request)
    fields = {"principal": principal, "key": key, "method": request.method, "path": request.path[:300]}
    if _one_transaction():
        # The claim opens the request's one write transaction: the route's own transactions become
        # savepoints in it and the answer is stored in it (_store_after_route commits it).
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            record = IdempotencyRecord.objects.create(**fields, request_hash=request_hash)
        except IntegrityError as exc:  # answered, or being answered (we waited for it) by another request
            atomic.__exit__(type(exc), exc, exc.__traceback__)
        except BaseException as exc:
            atomic.__exit__(type(exc), exc, exc.__traceback__)
            raise
        else:
            return record, atomic
    else:
        try:
            if connection.in_atomic_block:
                with transaction.atomic():
                    return IdempotencyRecord.objects.create(**fields, request_hash=request_hash), None
            # One INSERT in autocommit: one short turn in SQLite's writers' queue, no BEGIN and COMMIT.
            return IdempotencyRecord.objects.create(**fields, request_hash=request_hash), None
        except IntegrityError:
            pass
    first = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
    if first is None or first.status_code is None:  # still running elsewhere, or it failed just now
        raise Conflict(_("A request with this Idempotency-Key is in progress."), code="request_in_progress")
    if first.request_hash != request_hash:
        raise KeyReused(_("This Idempotency-Key was used for a different request."))
    return _replay(first)


def _keeps(response) -> bool:
    """Whether the answer is kept for the key (see the module's docstring)."""
    return not (response.status_code >= 500 or response.status_code == 429 or getattr(response, "streaming", False))


def _store(record: IdempotencyRecord, response) -> None:
    headers = {name: response[name] for name in STORED_HEADERS if name in response}
    headers.setdefault("Content-Language", translation.get_language() or "zh-hans")
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=response.status_code, body=bytes(response.content), headers=headers
    )


def _claim_before_route(view):
    """django-ninja "operation" decorator: runs once authentication, the rate limit and the input
    have passed, just before the route."""

    @wraps(view)
    def claimed(request, *args, **kwargs):
        found = _claim(request)
        if isinstance(found, HttpResponse):
            return found
        if found is not None:
            request._idempotency_record, request._idempotency_atomic = found
        return view(request, *args, **kwargs)

    return claimed


def _store_after_route(run):
    """django-ninja "view" decorator: sees the operation's final answer, stores it with the claim
    and commits the request's transaction — or rolls it all back (a 5xx, a 429, an exception), so
    that a retry may succeed: on PostgreSQL one request with a key is one write transaction. On
    SQLite (``_one_transaction``) the answer is stored, or the claim let go, in one of its own."""

    @wraps(run)
    def stored(request, *args, **kwargs):
        request._idempotency_record = request._idempotency_atomic = None
        try:
            response = run(request, *args, **kwargs)
        except BaseException as exc:
            atomic = request._idempotency_atomic
            if atomic is not None:
                atomic.__exit__(type(exc), exc, exc.__traceback__)
            elif request._idempotency_record is not None:
                IdempotencyRecord.objects.filter(pk=request._idempotency_record.pk).delete()
            raise
        atomic, record = request._idempotency_atomic, request._idempotency_record
        if atomic is None:
            if record is not None and not response.has_header(REPLAYED):
                if _keeps(response):
                    _store(record, response)
                else:
                    IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return response
        try:
            if _keeps(response):
                _store(request._idempotency_record, response)
            else:
                transaction.set_rollback(True)
        except BaseException as exc:  # the work is rolled back: its answer must not be sent
            atomic.__exit__(type(exc), exc, exc.__traceback__)
            raise
        atomic.__exit__(None, None, None)
        return response

    return stored


def install(api) -> None:
    api.add_decorator(_claim_before_route, mode="operation")
    api.add_decorator(_store_after_route, mode="view")


def idempotency_prune(*, now=None) -> int:
    """Delete the records older than ``KEEP`` (``weishang api prune``); returns how many."""
    deleted, _per_model = IdempotencyRecord.objects.filter(created_at__lt=(now or clock.now()) - KEEP).delete()
    return deleted
