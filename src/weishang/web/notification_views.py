"""The agent's notification centre (消息通知, M11): ``/m/notifications/`` lists what reached them,
newest first, unread ones marked; opening one marks it read and goes to its page; "mark all read".
The bell in the header of every phone page shows the unread count. Only one's own are seen:
anyone else's is "not found"."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from weishang.core.errors import NotFound
from weishang.core.selectors import brand_get
from weishang.notifications import selectors, services

PAGE_SIZE = 30


def _page(request) -> int:
    text = request.GET.get("page", "1")
    return max(int(text), 1) if text.isascii() and text.isdigit() and 0 < len(text) < 7 else 1


@login_required
def notifications(request):
    page = _page(request)
    start = (page - 1) * PAGE_SIZE
    rows = list(selectors.notifications_of(user=request.user)[start : start + PAGE_SIZE + 1])
    items = [(n, selectors.notification_text(n)) for n in rows[:PAGE_SIZE]]
    return render(
        request,
        "web/notifications.html",
        {
            "brand": brand_get(),
            "items": items,
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "unread": selectors.unread_count(user=request.user),
        },
    )


@login_required
def notification_open(request, notification_id: int):
    try:
        found = services.notification_open(user=request.user, notification_id=notification_id)
    except NotFound:
        raise Http404 from None
    safe = url_has_allowed_host_and_scheme(found.url, allowed_hosts={request.get_host()}) and found.url.startswith("/")
    return redirect(found.url if safe else "web:notifications")


@login_required
@require_POST
def notifications_read_all(request):
    services.notifications_read_all(user=request.user)
    return redirect("web:notifications")
