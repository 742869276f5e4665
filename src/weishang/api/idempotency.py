"""``Idempotency-Key`` on POST: a retry with the same key gets the first response.

A middleware, because it must see the final response (status and body) that the client saw. Per
caller — the credential sent (a hash of the token or API key), the session's user, or for an
anonymous call the client IP — a key is remembered with a hash of the request; then:

- the same key and the same request: the stored response, with ``Idempotent-Replayed: true``;
- the same key with a different request: 422 ``idempotency_key_reused``, nothing done;
- the same key while the first request is still running: 409 ``request_in_progress``.

A response of 500 or more is not remembered (the work was not done; a retry may succeed).
Records older than ``KEEP`` are deleted by ``weishang api prune``.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from weishang.api.errors import error_body
from weishang.api.models import IdempotencyRecord
from weishang.core.http import client_ip

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)
MAX_KEY = 255


def _principal(request) -> str:
    auth = request.headers.get("Authorization", "") or request.headers.get("X-Api-Key", "")
    if auth:
        return "c:" + hashlib.sha256(auth.encode()).hexdigest()[:32]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}"
    return "ip:" + hashlib.sha256((client_ip(request) or "").encode()).hexdigest()[:32]


def _request_hash(request) -> str:
    """The method, path and payload. A multipart upload is hashed field by field and file by file
    (its raw body may be larger than Django lets a view read at once)."""
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    content_type = request.META.get("CONTENT_TYPE") or ""
    if content_type.startswith("multipart/form-data"):
        for name, values in sorted(request.POST.lists()):
            digest.update(name.encode())
            for value in values:
                digest.update(value.encode())
        for name, files in sorted(request.FILES.lists()):
            digest.update(name.encode())
            for upload in files:
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(content_type.split(";")[0].encode())
        digest.update(request.body)
    return digest.hexdigest()


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status, json_dumps_params={"ensure_ascii": False})


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code, content_type="application/json")
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None or not request.path.startswith("/api/"):
            return self.get_response(request)
        key = key.strip()
        if not key or len(key) > MAX_KEY:
            return _error(400, "invalid_idempotency_key",
                          _("Idempotency-Key must be 1 to 255 characters, such as a UUID."))
        principal, request_hash = _principal(request), _request_hash(request)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(principal=principal, key=key, method=request.method,
                                                          path=request.path[:300], request_hash=request_hash)
        except IntegrityError:
            first = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
            if first is None:  # the first request failed and let go of the key just now
                return _error(409, "request_in_progress", _("A request with this Idempotency-Key is in progress."))
            if first.request_hash != request_hash:
                return _error(422, "idempotency_key_reused",
                              _("This Idempotency-Key was used for a different request."))
            if first.status_code is None:
                return _error(409, "request_in_progress", _("A request with this Idempotency-Key is in progress."))
            return _replay(first)
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise
        if response.status_code >= 500 or getattr(response, "streaming", False):
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=response.status_code,
                                                              body=bytes(response.content))
        return response


def idempotency_prune(*, now=None) -> int:
    """Delete the records older than ``KEEP`` (``weishang api prune``); returns how many."""
    from django.utils import timezone

    deleted, _per_model = IdempotencyRecord.objects.filter(created_at__lt=(now or timezone.now()) - KEEP).delete()
    return deleted
