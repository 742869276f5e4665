"""The agent's notification centre (消息通知, M11): ``/m/notifications/`` lists what reached them,
newest first, unread ones marked; opening one marks it read and goes to its page; "mark all read".
The bell in the header of every phone page shows the unread count. Only one's own are seen:
anyone else's is "not found"."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from weishang.core.errors import BusinessError, NotFound
from weishang.core.selectors import brand_get
from weishang.notifications import selectors, services
from weishang.web.trade_views import _paginate as paginate


@login_required
def notifications(request):
    page = paginate(request, selectors.notifications_of(user=request.user))
    return render(
        request,
        "web/notifications.html",
        {
            "brand": brand_get(),
            "items": [(n, selectors.notification_text(n)) for n in page["rows"]],
            "page": page["page"],
            "has_next": page["has_next"],
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


class SettingsForm(forms.Form):
    wechat = forms.BooleanField(label=_("By WeChat message (needs your WeChat bound)"), required=False)
    sms = forms.BooleanField(label=_("By text message"), required=False)
    quiet_from = forms.TimeField(label=_("Quiet from"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    quiet_to = forms.TimeField(label=_("Quiet until"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))


@login_required
def notification_settings(request):
    """How I am told besides the bell: WeChat, text message, quiet hours."""
    current = services.settings_for(request.user.pk)
    form = SettingsForm(
        request.POST or None,
        initial={
            "wechat": current.wechat,
            "sms": current.sms,
            "quiet_from": current.quiet_from,
            "quiet_to": current.quiet_to,
        },
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.notification_settings_save(user=request.user, **form.cleaned_data)
            except BusinessError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                messages.success(request, _("Saved."))
                return redirect("web:notification_settings")
    return render(request, "web/notification_settings.html", {"brand": brand_get(), "form": form}, status=status)
