"""Payment notifications from providers (WeChat Pay's notify_url): verify, then credit once.

WeChat Pay expects HTTP 200/204 when the notice is taken and retries otherwise; a notice that
fails verification gets 401 and changes nothing; a verified notice that cannot be credited
(unknown order, wrong amount) gets 400 and is logged.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from weishang.core.errors import BusinessError
from weishang.trade import services
from weishang.trade.providers.base import InvalidNotification, get_provider

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def payment_notify(request: HttpRequest, provider: str) -> JsonResponse:
    try:
        backend = get_provider(provider)
    except ImproperlyConfigured:
        return JsonResponse({"code": "FAIL", "message": "unknown provider"}, status=404)
    try:
        notice = backend.parse_notification(request.headers, request.body)
    except InvalidNotification as exc:
        log.warning("rejected %s notification: %s", provider, exc)
        return JsonResponse({"code": "FAIL", "message": "invalid notification"}, status=401)
    if notice.state != "SUCCESS":
        return JsonResponse({"code": "SUCCESS", "message": "ignored"})
    try:
        services.payment_credit_from_provider(notice=notice)
    except BusinessError as exc:
        log.error(
            "%s notification %s for %s not credited: %s", provider, notice.transaction_id, notice.out_trade_no, exc
        )
        return JsonResponse({"code": "FAIL", "message": exc.code}, status=400)
    return JsonResponse({"code": "SUCCESS", "message": "OK"})
